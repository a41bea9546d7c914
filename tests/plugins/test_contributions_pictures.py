"""The rank card shows the member's name and labels as they are read, in Arabic and English."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import features

from bot import pictures
from plugins.contributions.card import CardData, render_card
from tests.test_pictures import (
    SARA,
    SARA_BACKWARDS,
    SARA_ON_SCREEN,
    find,
    grey,
    pillow_word,
    shows,
)

WIDTH, MARGIN = 800, 30
NAME_ROWS = slice(10, 68)  # the name's line: 36 px letters from y=20
LABEL_ROWS = slice(66, 106)  # level and rank: 24 px from y=70


def arabic_card(name: str = SARA) -> np.ndarray:
    return grey(render_card(CardData(name, "المستوى 3", "الترتيب #2",
                                     "40 / 155 نقطة للمستوى التالي", "أولى الكلمات", 0.3),
                            rtl=True))


def test_sara_reads_right_to_left_joined_at_the_right_of_an_arabic_card() -> None:
    ink = arabic_card()[NAME_ROWS]
    where = shows(ink, pillow_word(SARA_ON_SCREEN, 36))
    assert where is not None, "the name is not drawn as سارة reads"
    backwards, _ = find(ink, pillow_word(SARA_BACKWARDS, 36))
    assert backwards > 0.3  # and certainly not as "ةراس"
    right_edge = int(np.nonzero(ink.sum(0) > 0.05)[0].max())
    assert WIDTH - MARGIN - 4 <= right_edge <= WIDTH - MARGIN  # right-aligned


@pytest.mark.skipif(not features.check("raqm"), reason="the reference is Pillow with raqm")
def test_the_level_and_rank_read_right_to_left() -> None:
    ink = arabic_card()[LABEL_ROWS]
    # The reference: Pillow with libraqm, given the words as typed.
    level = shows(ink, pillow_word("المستوى 3", 24, raqm=True, direction="rtl"))
    rank = shows(ink, pillow_word("الترتيب #2", 24, raqm=True, direction="rtl"))
    assert level is not None and rank is not None
    assert level[1] > rank[1]  # the level comes first, at the right


def test_a_latin_name_on_an_english_card_stands_at_the_left() -> None:
    ink = grey(render_card(CardData("Sara", "Level 3", "Rank #2", "40 / 155 XP", "", 0.3)))
    where = shows(ink[NAME_ROWS], pillow_word("Sara", 36))
    assert where is not None and MARGIN - 2 <= where[1] <= MARGIN + 6


def test_a_long_name_or_an_emoji_never_runs_off_the_card_or_draws_a_box() -> None:
    ink = arabic_card("سارة " * 40 + "🌸")[NAME_ROWS]
    columns = np.nonzero(ink.sum(0) > 0.05)[0]
    assert columns.min() >= MARGIN - 2 and columns.max() <= WIDTH - MARGIN
    ink = arabic_card("سارة 🌸")[NAME_ROWS]
    name = shows(ink, pillow_word(SARA_ON_SCREEN, 36))
    flower = shows(ink, pillow_word("🌸", 36, font=str(pictures.emoji_font())))
    assert name is not None and flower is not None
    assert flower[1] < name[1]  # typed after the name: to its left in Arabic
