"""The funnel as a horizontal bar chart (PNG), drawn with matplotlib's Agg backend.

Text goes through ``bot``'s picture helpers (matplotlib shapes Arabic itself where it has
libraqm). For right-to-left languages the bars grow from the right, labels stand on the
right and each value runs leftwards from its bar, so no value reaches a label.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot import pictures

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BAR = "#3b7dd8"


def funnel_figure(
    title: str, labels: Sequence[str], counts: Sequence[int], values: Sequence[str], *,
    rtl: bool = False,
) -> Figure:
    """The funnel's figure, laid out (see :func:`funnel_png` for the arguments)."""
    # Imported here: matplotlib (and numpy) weigh ~40 MiB, held only once a chart is drawn.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    direction: pictures.Direction = "rtl" if rtl else "ltr"
    text = pictures.mpl_text_options()
    figure = Figure(figsize=(7, 0.6 * len(labels) + 1.4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, counts, color=BAR)
    axes.set_yticks(positions, [pictures.for_matplotlib(label, direction) for label in labels],
                    **text)
    axes.set_title(pictures.for_matplotlib(title, direction), loc="right" if rtl else "left",
                   **text)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # members come whole
    if rtl:
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    axes.spines[["top", "left" if rtl else "right"]].set_visible(False)
    pictures.mpl_bar_values(axes, positions, counts, values, rtl=rtl)
    return figure


def funnel_png(
    title: str, labels: Sequence[str], counts: Sequence[int], values: Sequence[str], *,
    rtl: bool = False,
) -> bytes:
    """Draw one bar per funnel stage, the first at the top.

    Args:
        title: The chart's title (already translated).
        labels: One label per stage.
        counts: The count per stage (bar lengths).
        values: The text written at the end of each bar ("12 · 40%").
        rtl: Right-to-left layout (Arabic).
    """
    buffer = io.BytesIO()
    funnel_figure(title, labels, counts, values, rtl=rtl).savefig(
        buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
