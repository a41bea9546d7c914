"""The results picture: one horizontal bar per option, with counts, percentages and the winner.

Text goes through ``bot``'s picture helpers: Arabic is shaped and laid out right to left by
matplotlib itself where it can (by hand where it cannot), long questions and options are
wrapped line by line in reading order, and emoji are drawn from an emoji font (or named by
code point, never a box). Words on the picture come translated from the plugin; this module
writes only numbers and signs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot import pictures

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH = 7.0  # inches, at 100 dpi
TITLE_SIZE, LABEL_SIZE, VALUE_SIZE, CAPTION_SIZE = 13.0, 10.0, 10.0, 10.0
TITLE_LINES, LABEL_LINES = 4, 2
WINNER, OTHER = "#2e7d32", "#90a4ae"
WINNER_MARK = "★"  # in DejaVu Sans; says "winner" in no language in particular


def has_votes(counts: Sequence[int]) -> bool:
    """Whether there is anything to draw: a poll nobody voted in gets no chart."""
    return any(c > 0 for c in counts)


def winners_of(counts: Sequence[int]) -> list[int]:
    """Indexes of the options with the most votes (none when nobody voted)."""
    top = max(counts, default=0)
    return [i for i, c in enumerate(counts) if c == top] if top else []


def default_values(counts: Sequence[int], total: int | None = None) -> list[str]:
    """"12 · 40%" per option: the count and its share of ``total`` (default: all votes).

    Plugins pass their own, formatted for the reader's locale; this is the fallback.
    """
    base = total if total else sum(counts)
    return [f"{c} · {round(100 * c / base) if base else 0}%" for c in counts]


def _lines(text: str, *, size: float, width: float, most: int) -> str:
    lines = pictures.mpl_wrap(text, size=size, width=width)
    if len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1] + "…"]
    return "\n".join(lines)


def results_figure(
    title: str, labels: Sequence[str], counts: Sequence[int], *, rtl: bool = False,
    highlight: Sequence[int] | None = None, values: Sequence[str] | None = None,
    caption: str = "", total: int | None = None,
) -> Figure:
    """The results figure, laid out (see :func:`bar_chart` for the arguments)."""
    # Imported here: matplotlib (and numpy) weigh ~40 MiB, held only once a chart is drawn.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    direction: pictures.Direction = "rtl" if rtl else "ltr"
    text = pictures.mpl_text_options()
    shown_title = _lines(title, size=TITLE_SIZE, width=WIDTH - 0.3, most=TITLE_LINES)
    shown_labels = [_lines(label, size=LABEL_SIZE, width=WIDTH * 0.38, most=LABEL_LINES)
                    for label in labels]
    rows = sum(max(1, label.count("\n") + 1) for label in shown_labels)
    height = 1.0 + 0.28 * (shown_title.count("\n") + 1) + 0.32 * rows + 0.25 * len(labels)
    height += 0.3 if caption else 0.0
    figure = Figure(figsize=(WIDTH, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    winners = set(winners_of(counts) if highlight is None else highlight)
    axes.barh(positions, list(counts), color=[WINNER if i in winners else OTHER
                                               for i in positions])
    axes.set_yticks(positions, [pictures.mpl_lines(label, direction) for label in shown_labels],
                    fontsize=LABEL_SIZE, multialignment="right" if rtl else "left", **text)
    for i, tick in enumerate(axes.get_yticklabels()):
        if i in winners:
            tick.set_color(WINNER)
    axes.invert_yaxis()
    if rtl:
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    axes.xaxis.set_visible(False)
    axes.tick_params(axis="y", length=0)
    for side in ("top", "right", "left", "bottom"):
        axes.spines[side].set_visible(False)
    written = list(values) if values is not None else default_values(counts, total)
    written = [f"{WINNER_MARK} {v}" if i in winners else v for i, v in enumerate(written)]
    pictures.mpl_bar_values(axes, positions, counts, written, rtl=rtl, size=VALUE_SIZE)
    figure.suptitle(pictures.mpl_lines(shown_title, direction), x=0.99 if rtl else 0.01,
                    ha="right" if rtl else "left", fontsize=TITLE_SIZE, **text)
    if caption:
        figure.supxlabel(pictures.mpl_lines(caption, direction), x=0.99 if rtl else 0.01,
                         ha="right" if rtl else "left", fontsize=CAPTION_SIZE, **text)
    pictures.fit_bar_values(axes, counts, [t for t in axes.texts])
    return figure


def bar_chart(
    title: str, labels: Sequence[str], counts: Sequence[int], *, rtl: bool = False,
    highlight: Sequence[int] | None = None, values: Sequence[str] | None = None,
    caption: str = "", total: int | None = None,
) -> bytes:
    """A PNG of one horizontal bar per option, first option on top.

    Args:
        title: The question, shown above the bars (wrapped when long).
        labels: Option texts.
        counts: Votes per option.
        rtl: Lay out for a right-to-left language: bars grow leftwards, labels on the right.
        highlight: Indexes of the winning options: a stronger colour and ★; default the
            options with the most votes (none when nobody voted); ``()`` marks none.
        values: The text at the end of each bar, translated ("12 votes · 40%"); default
            :func:`default_values`.
        caption: A line under the bars, translated: the total and the winner.
        total: What percentages are shares of in the default values (the voters, for a
            multiple-choice poll); default the sum of ``counts``.
    """
    buffer = io.BytesIO()
    results_figure(title, labels, counts, rtl=rtl, highlight=highlight, values=values,
                   caption=caption, total=total).savefig(
        buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def results_chart(
    title: str, labels: Sequence[str], counts: Sequence[int], *, rtl: bool = False,
    highlight: Sequence[int] | None = None, values: Sequence[str] | None = None,
    caption: str = "", total: int | None = None,
) -> bytes | None:
    """:func:`bar_chart`, or None when nobody voted (there is nothing to show)."""
    if not has_votes(counts):
        return None
    return bar_chart(title, labels, counts, rtl=rtl, highlight=highlight, values=values,
                     caption=caption, total=total)


def visual(text: str, *, shapes_itself: bool | None = None) -> str:
    """Text as matplotlib must be given it (kept for callers of the old name).

    ``shapes_itself`` overrides what the installed matplotlib is asked.
    """
    if shapes_itself is None:
        return pictures.for_matplotlib(text)
    return text if shapes_itself else pictures.by_hand(text)
