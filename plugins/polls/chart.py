"""The results picture: a horizontal bar chart, with Arabic shaped and laid out right to left."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import arabic_reshaper
from bidi.algorithm import get_display
from matplotlib import ft2font
from matplotlib.figure import Figure

# Matplotlib 3.11+ lays text out with libraqm (shaping and bidi); older ones draw
# characters one by one, so Arabic must be shaped and reordered before drawing.
SHAPES_ITSELF = bool(getattr(ft2font, "__libraqm_version__", ""))
_RTL_LETTERS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
FONT = "DejaVu Sans"  # has Arabic glyphs


def visual(text: str, *, shapes_itself: bool = SHAPES_ITSELF) -> str:
    """Text as matplotlib must be given it.

    Unchanged where matplotlib shapes text itself; otherwise Arabic letters joined
    (presentation forms) and right-to-left runs put in visual order.
    """
    if shapes_itself or not _RTL_LETTERS.search(text):
        return text
    return str(get_display(arabic_reshaper.reshape(text)))


def bar_chart(
    title: str, labels: Sequence[str], counts: Sequence[int], *, rtl: bool = False,
    highlight: Sequence[int] = (),
) -> bytes:
    """A PNG of one horizontal bar per option, first option on top.

    Args:
        title: Shown above the bars.
        labels: Option texts.
        counts: Votes per option.
        rtl: Lay out for a right-to-left language: bars grow leftwards, labels on the right.
        highlight: Indexes of the winning options, drawn in a stronger colour.
    """
    height = 1.2 + 0.5 * len(labels)
    figure = Figure(figsize=(7, height), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(labels)))
    colours = ["#2e7d32" if i in highlight else "#90a4ae" for i in positions]
    axes.barh(positions, list(counts), color=colours)
    axes.set_yticks(positions, [visual(label) for label in labels], fontname=FONT)
    axes.invert_yaxis()
    top = max(counts, default=0)
    axes.set_xlim(0, max(top, 1) * 1.15)
    for position, count in zip(positions, counts, strict=True):
        axes.text(count, position, f" {count} " if count else " 0 ", va="center",
                  ha="right" if rtl else "left", fontname=FONT)
    if rtl:
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "left", "bottom"):
        axes.spines[side].set_visible(False)
    axes.set_title(visual(title), fontname=FONT, loc="right" if rtl else "left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
