"""Finding open suggestions like a new one, across spelling variants.

Text is normalized before it is compared: letter case and punctuation go (English), and
Arabic spelling variants are folded — diacritics (tashkeel) and tatweel are dropped, hamza
forms of alef (أ إ آ ٱ) become ا, ؤ → و, ئ → ي, taa marbuta ة → ه, alef maqsura ى → ي,
Persian/Urdu look-alikes (ک ی) become the Arabic letters, and digits become ASCII. Tokens
lose the article (ال, وال, بال, لل …) and a plural -s; common little words are ignored.

Two texts are as similar as the mean of their token overlap (Jaccard) and their letter
trigram overlap (Dice), so "channel"/"channels" and a typo still come close.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: Score (0..1) from which an open suggestion is offered as "vote on this one instead?".
THRESHOLD = 0.5

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_FOLD = str.maketrans({
    "\u0640": "",  # tatweel
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ؤ": "و", "ئ": "ي", "ء": "",
    "ة": "ه", "ى": "ي",
    "ک": "ك", "ی": "ي", "ہ": "ه",
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
})
_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")
_ENGLISH_STOP = ("a an the to of for and or in on at by with we us our i it is be are can "
                 "could should would please let lets more some any this that there have has "
                 "from")
_ARABIC_STOP = "في من على الى عن ان او و ثم مع هذا هذه ذلك تلك لو يا نحن لنا هل"
_STOP = frozenset(f"{_ENGLISH_STOP} {_ARABIC_STOP}".split())


def fold(text: str) -> str:
    """Text with case, diacritics, tatweel and Arabic letter variants folded."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _DIACRITICS.sub("", text).translate(_FOLD)


def _token(word: str) -> str:
    for article in _ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            word = word[len(article):]
            break
    if word.isascii() and len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """The normalized words of ``text``, little words left out, in order."""
    cleaned = "".join(
        ch if unicodedata.category(ch)[0] in "LN" else " " for ch in fold(text)
    )
    found = [_token(w) for w in cleaned.split()]
    kept = [w for w in found if w and w not in _STOP]
    return kept or [w for w in found if w]


def normalize(text: str) -> str:
    """The stored form of a text: its tokens, space-separated."""
    return " ".join(tokens(text))


def _trigrams(norm: str) -> set[str]:
    grams: set[str] = set()
    for word in norm.split():
        padded = f" {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


def score(a: str, b: str) -> float:
    """Similarity (0..1) of two normalized texts (see :func:`normalize`)."""
    ta, tb = set(a.split()), set(b.split())
    if not ta or not tb:
        return 0.0
    jaccard = len(ta & tb) / len(ta | tb)
    ga, gb = _trigrams(a), _trigrams(b)
    dice = 2 * len(ga & gb) / (len(ga) + len(gb)) if ga and gb else 0.0
    return (jaccard + dice) / 2


@dataclass(frozen=True, slots=True)
class Match:
    """An open suggestion close to the new text."""

    id: int
    text: str
    score: float


def similar(norm: str, candidates: Iterable[tuple[int, str, str]], *, limit: int = 3,
            threshold: float = THRESHOLD) -> list[Match]:
    """The closest candidates ``(id, text, norm)`` at or above ``threshold``, best first."""
    found = [Match(i, text, score(norm, other)) for i, text, other in candidates]
    found = [m for m in found if m.score >= threshold]
    found.sort(key=lambda m: (-m.score, m.id))
    return found[:limit]
