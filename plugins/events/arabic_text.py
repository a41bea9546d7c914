"""Arabic (and mixed) text folded to one spelling, so phrases match however they are typed.

People write the same word many ways: with or without hamza (أول / اول), taa marbuta or haa
(الجمعة / الجمعه), alef maqsura or yaa (على / علي), with diacritics (مساءً) or tatweel
(الخـميس), and digits in Arabic-Indic (١٩:٣٠) or Eastern Arabic-Indic (۱۹:۳۰) form. Matching
happens on the folded text only; the user's own text is kept for messages.
"""

from __future__ import annotations

import re
import unicodedata

# fathatan .. sukun, superscript alef, Quranic marks: they change pronunciation, not the word
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,  # tatweel
        "،": ",",
        "؛": ";",
        "٫": ".",  # Arabic decimal separator, used in times like ٧٫٣٠
        "\u200c": None,
        "\u200d": None,
        "\u200e": None,
        "\u200f": None,
        "\u061c": None,
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Eastern Arabic-Indic (Persian)
    }
)


def fold(text: str) -> str:
    """``text`` lower-cased, NFKC-normalised, with Arabic spelling variants and digits folded."""
    # NFKC turns presentation forms (ﻻ, ﺍ ...) and full-width digits into the plain ones
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MARKS.sub("", text)
    return text.translate(_FOLD)
