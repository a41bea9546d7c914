"""similar.py: normalization folds real spelling variants; the score ranks matches."""

from __future__ import annotations

import pytest

from plugins.feedback.similar import THRESHOLD, fold, normalize, score, similar

#: Pairs members really type for the same idea.
SAME = [
    ("إضافة قناة للألعاب", "اضافه قناه للالعاب"),            # hamza on alef, taa marbuta
    ("مُسَابَقَةٌ شَهْرِيَّةٌ", "مسابقة شهرية"),                   # diacritics
    ("مســابقة شهريـة", "مسابقة شهرية"),                      # tatweel
    ("رفع المستوى", "رفع المستوي"),                           # alef maqsura
    ("سؤال عن المؤتمر", "سوال عن الموتمر"),                   # hamza on waw
    ("إنشاء قناة للأسئلة", "انشاء قناه للاسئله"),              # hamza below alef, on the line
    ("دورة تدريبية ٢٠٢٦", "دوره تدريبيه 2026"),               # Arabic-Indic digits
    ("Add a gaming channel!", "add gaming channels"),         # case, punctuation, plural
    ("Start a BOOK-CLUB, weekly?", "a weekly book club"),     # order, hyphen
]
DIFFERENT = [
    ("مسابقة شهرية", "قناة للألعاب"),
    ("Monthly quiz night", "Add a gaming channel"),
    ("Longer voice chat hours", "Publish the meeting notes"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_variants_of_one_idea_match(a: str, b: str) -> None:
    assert score(normalize(a), normalize(b)) >= THRESHOLD


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_ideas_do_not(a: str, b: str) -> None:
    assert score(normalize(a), normalize(b)) < THRESHOLD


def test_folding_each_variant() -> None:
    assert fold("أإآٱ") == "اااا"
    assert fold("ؤئ") == "وي"
    assert fold("ةى") == "هي"
    assert fold("مـــرحبًا") == "مرحبا"
    assert fold("ABC") == "abc"
    assert normalize("The Channels, please!") == "channel"
    assert normalize("والمسابقات") == "مسابقات"  # the article and the conjunction go


def test_identical_after_folding_scores_one_and_nothing_scores_zero() -> None:
    assert score(normalize("إضافة قناة"), normalize("اضافه قناه")) == 1.0
    assert score(normalize("!!!"), normalize("quiz")) == 0.0


def test_the_closest_come_first_and_only_above_the_threshold() -> None:
    candidates = [
        (1, "A weekly quiz", normalize("A weekly quiz")),
        (2, "Weekly quiz night", normalize("Weekly quiz night")),
        (3, "Gaming channel", normalize("Gaming channel")),
    ]
    found = similar(normalize("weekly quiz night!"), candidates)
    assert [m.id for m in found] == [2, 1]
    assert found[0].score == 1.0
