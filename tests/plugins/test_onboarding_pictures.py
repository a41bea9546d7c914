"""The onboarding funnel reads right in Arabic, and no value runs into a label."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugins.onboarding.chart import funnel_figure, funnel_png
from tests.test_pictures import grey, mpl_word, needs_shaping_matplotlib, shows

LABELS_AR = ["انضموا", "وافقوا على القواعد", "اختاروا اهتماماتهم", "أول رسالة", "ثاني رسالة"]
LABELS_EN = ["Joined", "Accepted the rules", "Picked interests", "First message",
             "Second message"]
COUNTS = [10, 0, 7, 3, 1]
TITLE_AR = "مسار الانضمام"


def values(sign: str = "%") -> list[str]:
    return [f"{c} · {c * 10}{sign}" for c in COUNTS]


def box(where: tuple[int, int] | None, word: np.ndarray) -> tuple[int, int, int, int]:
    assert where is not None
    top, left = where
    return left, top, left + word.shape[1], top + word.shape[0]


def apart(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


@needs_shaping_matplotlib
def test_every_arabic_label_and_the_title_read_as_written() -> None:
    ink = grey(funnel_png(TITLE_AR, LABELS_AR, COUNTS, values(), rtl=True))
    # The reference: raw matplotlib (which shapes Arabic itself) given each label as typed.
    for label in LABELS_AR:
        assert shows(ink, mpl_word(label)) is not None, f"{label} is not drawn as it reads"
    assert shows(ink, mpl_word(TITLE_AR, 12)) is not None


@needs_shaping_matplotlib
def test_no_value_touches_a_label_in_the_picture() -> None:
    for labels, rtl in ((LABELS_AR, True), (LABELS_EN, False)):
        ink = grey(funnel_png("t", labels, COUNTS, values(), rtl=rtl))
        label_boxes = [box(shows(ink, word), word) for word in map(mpl_word, labels)]
        for value in values():
            # An Arabic line reads from the right: "10 · 100%" shows as "100% · 10". The
            # reference is raw matplotlib told the line's direction by a right-to-left mark.
            word = mpl_word("\u200f" + value if rtl else value)
            found = shows(ink, word)
            assert found is not None, f"{value} is not drawn as it reads"
            if rtl:
                assert shows(ink, mpl_word(value)) is None  # not left to right
            assert all(apart(label, box(found, word)) for label in label_boxes), value


def extents(figure: Any) -> tuple[list[Any], list[Any], Any]:
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    labels = [t.get_window_extent(renderer) for t in axes.get_yticklabels()]
    written = [t.get_window_extent(renderer) for t in axes.texts]
    return labels, written, axes.title.get_window_extent(renderer)


def test_matplotlib_places_values_clear_of_labels_title_and_edges() -> None:
    for labels, rtl in ((LABELS_AR, True), (LABELS_EN, False)):
        figure = funnel_figure(TITLE_AR if rtl else "Onboarding funnel", labels, COUNTS,
                               values(), rtl=rtl)
        figure.canvas.draw()
        label_boxes, value_boxes, title = extents(figure)
        assert len(value_boxes) == len(COUNTS)
        frame = figure.bbox
        for value in value_boxes:
            assert not any(value.overlaps(label) for label in label_boxes)
            assert not value.overlaps(title)
            assert frame.x0 <= value.x0 and value.x1 <= frame.x1
        for label in label_boxes:
            assert frame.x0 <= label.x0 and label.x1 <= frame.x1


def test_the_axis_counts_whole_members() -> None:
    figure = funnel_figure("t", LABELS_EN[:2], [2, 1], ["2", "1"])
    figure.canvas.draw()
    ticks = figure.axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)
