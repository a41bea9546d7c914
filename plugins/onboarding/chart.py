"""The funnel as a horizontal bar chart (PNG), drawn with matplotlib's Agg backend.

Arabic labels are shaped (``arabic_reshaper``) and put in visual order
(``bidi.algorithm.get_display``) since matplotlib draws glyphs left to right; for
right-to-left languages the bars grow from the right.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import arabic_reshaper
import matplotlib
from bidi.algorithm import get_display

matplotlib.use("Agg")

from matplotlib.figure import Figure


def shape(text: str, rtl: bool) -> str:
    """Text ready for matplotlib: shaped and reordered when it is right to left."""
    if not rtl:
        return text
    return str(get_display(arabic_reshaper.reshape(text)))


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
    figure = Figure(figsize=(7, 0.6 * len(labels) + 1.4), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, counts, color="#3b7dd8")
    axes.set_yticks(positions, [shape(label, rtl) for label in labels])
    axes.set_title(shape(title, rtl))
    top = max([*counts, 1])
    axes.set_xlim(0, top * 1.25)
    for position, count, value in zip(positions, counts, values, strict=True):
        axes.text(count + top * 0.02, position, shape(value, rtl), va="center")
    if rtl:
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    axes.spines[["top", "right" if not rtl else "left"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
