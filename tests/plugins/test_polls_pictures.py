"""The poll results picture: right in Arabic, percentages, the winner, long questions, emoji."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot import pictures
from plugins.polls.chart import (
    WINNER,
    bar_chart,
    has_votes,
    results_chart,
    results_figure,
)
from tests.test_pictures import grey, mpl_word, needs_shaping_matplotlib, shows

QUESTION_AR = "أين نلتقي؟"
OPTIONS_AR = ["مقهى", "حديقة", "عبر الإنترنت"]
LONG = ("Where should we meet for the spring gathering, given that half of us live across "
        "the river and the other half would rather stay online?")
RLM = "\u200f"


@needs_shaping_matplotlib
def test_arabic_question_and_options_read_as_written() -> None:
    ink = grey(bar_chart(QUESTION_AR, OPTIONS_AR, [2, 1, 0], rtl=True, highlight=[0]))
    for option in OPTIONS_AR:
        assert shows(ink, mpl_word(option)) is not None, f"{option} is not drawn as it reads"
    assert shows(ink, mpl_word(QUESTION_AR, 13)) is not None


def test_each_bar_shows_its_votes_and_share_and_the_winner_is_marked() -> None:
    png = bar_chart("Lunch?", ["Pizza", "Soup", "Salad"], [6, 3, 0], highlight=[0])
    ink = grey(png)
    assert shows(ink, mpl_word("★ 6 · 67%")) is not None
    assert shows(ink, mpl_word("3 · 33%")) is not None
    assert shows(ink, mpl_word("0 · 0%")) is not None
    assert shows(ink, mpl_word("★ 3 · 33%")) is None  # only the winner has the star
    # The winner's label is drawn in the winner's colour.
    word = mpl_word("Pizza")
    found = shows(ink, word)
    assert found is not None
    top, left = found
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    patch = rgb[top: top + word.shape[0], left: left + word.shape[1]]
    darkest = patch.reshape(-1, 3)[np.argmin(patch.sum(2))]
    target = np.array([int(WINNER[i: i + 2], 16) for i in (1, 3, 5)])
    assert np.abs(darkest - target).max() < 40


@needs_shaping_matplotlib
def test_translated_values_and_caption_are_drawn_in_arabic_order() -> None:
    values = ["2 صوتان · 67%", "صوت واحد · 33%", "0"]
    caption = "صوّت 3 أعضاء · الفائز: مقهى"
    ink = grey(bar_chart(QUESTION_AR, OPTIONS_AR, [2, 1, 0], rtl=True, highlight=[0],
                         values=values, caption=caption))
    assert shows(ink, mpl_word(RLM + "★ 2 صوتان · 67%")) is not None
    assert shows(ink, mpl_word(RLM + "صوت واحد · 33%")) is not None
    assert shows(ink, mpl_word(RLM + caption)) is not None


def test_a_long_question_is_wrapped_inside_the_picture_in_reading_order() -> None:
    figure = results_figure(LONG + " $5 or $10", ["Park", "Online"], [3, 4], highlight=[1])
    figure.canvas.draw()
    title = figure.get_suptitle()
    assert title.count("\n") >= 1
    renderer = figure.canvas.get_renderer()
    (shown,) = [t for t in figure.texts if t.get_text() == title]
    extent = shown.get_window_extent(renderer)
    assert figure.bbox.x0 <= extent.x0 and extent.x1 <= figure.bbox.x1
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    ink = grey(buffer.getvalue())
    first = shows(ink, mpl_word("Where should we meet", 13))
    last = shows(ink, mpl_word("$5 or $10", 13))  # dollars are money, not mathematics
    assert first is not None and last is not None
    assert last[0] > first[0]  # the end of the question is on a lower line


def test_emoji_options_are_drawn_from_the_emoji_font_not_as_boxes() -> None:
    emoji = pictures.emoji_font()
    assert emoji is not None
    ink = grey(bar_chart("Lunch?", ["🍕 Pizza", "🥗"], [2, 1], highlight=[0]))
    assert shows(ink, mpl_word("🍕", fname=str(emoji))) is not None
    assert shows(ink, mpl_word("🥗", fname=str(emoji))) is not None
    with pytest.warns(UserWarning, match="missing from font"):
        box = mpl_word("🥗")  # DejaVu alone draws its "missing glyph" box
    assert shows(ink, box) is None


def test_labels_values_and_question_do_not_overlap() -> None:
    for rtl, options in ((True, OPTIONS_AR), (False, ["Cafe", "Park", "A very long option "
                                                       "that needs two lines to be read"])):
        figure = results_figure(LONG, options, [0, 5, 12], rtl=rtl, highlight=[2],
                                caption="caption")
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        axes = figure.axes[0]
        labels = [t.get_window_extent(renderer) for t in axes.get_yticklabels()]
        values = [t.get_window_extent(renderer) for t in axes.texts]
        others = [t.get_window_extent(renderer) for t in figure.texts]  # question, caption
        assert len(others) == 2
        boxes = labels + values + others
        for i, a in enumerate(boxes):
            assert figure.bbox.x0 <= a.x0 and a.x1 <= figure.bbox.x1
            assert not any(a.overlaps(b) for b in boxes[i + 1:])


def test_a_poll_nobody_voted_in_has_nothing_to_draw() -> None:
    assert not has_votes([0, 0])
    assert has_votes([0, 1])
    assert results_chart("Q", ["A", "B"], [0, 0]) is None
    chart = results_chart("Q", ["A", "B"], [1, 0])
    assert chart is not None and shows(grey(chart), mpl_word("★ 1 · 100%")) is not None


def _posted_chart(language: str, options: list[str], counts: list[int]) -> bytes:
    from types import SimpleNamespace

    from bot.core.i18n import Catalogs, Translator
    from plugins.polls import render
    from plugins.polls.rules import Tally

    ctx = SimpleNamespace(i18n=Translator(Catalogs(), "polls", language))
    row = SimpleNamespace(id=1, question="Lunch?" if language == "en" else QUESTION_AR,
                          options=options)
    return render.chart(ctx, row, Tally(counts, sum(counts))).data  # type: ignore[arg-type]


def test_the_posted_chart_says_votes_shares_the_total_and_the_winner() -> None:
    ink = grey(_posted_chart("en", ["Pizza", "Soup", "Salad"], [6, 3, 0]))
    assert shows(ink, mpl_word("★ 6 votes · 67%")) is not None
    assert shows(ink, mpl_word("3 votes · 33%")) is not None
    assert shows(ink, mpl_word("9 members voted. Winner: Pizza")) is not None


@needs_shaping_matplotlib
def test_the_posted_arabic_chart_says_it_in_arabic() -> None:
    ink = grey(_posted_chart("ar", OPTIONS_AR, [2, 1, 0]))
    assert shows(ink, mpl_word(RLM + "★ صوتان · 67%")) is not None
    assert shows(ink, mpl_word(RLM + "صوّت 3 أعضاء. الفائز: مقهى")) is not None
