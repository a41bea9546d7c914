"""Every Arabic message, rendered with sample values in every plural form, reads as Arabic.

A Latin-script word inside an Arabic reply is English a member has to decode. What may stay
Latin is what a member types exactly so (commands, ``key=value`` options, durations like
``2h``, timezone names, the few choice words the parser takes) and product names. Anything
else found here is an untranslated word to fix in ``locales/ar``.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.i18n import LOCALES_DIR, Catalogs, Translator

#: Names of products, platforms and standards, written as their owners write them.
PRODUCT_NAMES = frozenset({
    "Majlis", "Discord", "Telegram", "BotFather", "IANA", "RRULE", "UTC", "CSV", "ics",
})
#: Words a member types exactly so, because the parser takes them so: the choice values of
#: settings and commands, and ``reset``. An Arabic reply shows each beside its meaning.
TYPED_WORDS = frozenset({
    "on", "off", "yes", "no", "reset", "auto", "channel", "dm", "week", "month", "all",
    "quadratic", "linear", "flat", "stack", "replace", "ar", "en",
})
#: Discord's own permission names, quoted so an admin finds them in Discord's settings
#: (Discord has no Arabic interface); always beside an Arabic translation.
DISCORD_PERMISSIONS = (
    "Create Public Threads", "Send Messages in Threads", "Manage Events", "View Channel",
    "Send Messages", "Embed Links", "Attach Files", "Pin Messages",
)
#: Plural samples: one per Arabic form (zero, one, two, few, many, other).
COUNTS = (0, 1, 2, 3, 11, 100)
#: Sample values for placeholders: Arabic text, so only the template's own words remain.
SAMPLE_TEXT = "سارة"
NUMERIC = frozenset({
    "n", "max", "min", "id", "voters", "limit", "level", "seconds", "rank", "place",
    "length", "karma", "days", "votes", "count", "joins", "messages", "member_count",
    "index", "start", "end", "low", "high", "old", "new", "options", "question",
    "newcomers", "beyond", "percent",
})

#: Nouns that agree with their number in Arabic (one of six forms): a number in front of one
#: belongs in a plural message, never glued into a fixed phrase ("500 حرف").
COUNTED_NOUNS = (
    "حرف", "أحرف", "يوم", "أيام", "ثانية", "ثوان", "عضو", "أعضاء", "رسالة", "رسائل", "نقطة",
    "نقاط", "خيار", "خيارات", "مرة", "مرات", "صوت", "أصوات", "انضمام", "ساعة", "ساعات",
    "دقيقة", "دقائق", "إجابة", "إجابات", "شارة", "قالب", "قوالب", "منشور",
)
_GLUED = re.compile(r"\{(\w+)\}\s+(?:" + "|".join(COUNTED_NOUNS) + r")")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
#: Tokens typed as they are: a command, a key=value option, anything with a digit, a
#: timezone or path, a placeholder's markup.
_TYPED_TOKEN = re.compile(
    r"/[a-z_]+(?:\s+[a-z_|]+)*|\S*[=@\d]\S*|[A-Za-z]+_[A-Za-z_]+|[A-Za-z]+/[A-Za-z_/]+"
)


def _catalogs() -> list[Path]:
    return sorted((LOCALES_DIR / "ar" / "LC_MESSAGES").glob("*.po"))


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _samples(msgid: str) -> dict[str, object]:
    return {
        name: 7 if name in NUMERIC else SAMPLE_TEXT
        for name in _fields(msgid)
    }


def rendered(domain: str) -> list[tuple[str, str]]:
    """(msgid, text) for every message of ``domain`` in Arabic, each plural form rendered."""
    ar = Translator(Catalogs(), domain, "ar")
    with (LOCALES_DIR / "ar" / "LC_MESSAGES" / f"{domain}.po").open("rb") as fp:
        catalog = read_po(fp, locale="ar", domain=domain)
    out = []
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            values = _samples(singular) | _samples(plural)
            for n in COUNTS:
                out.append((singular, str(ar.tn(singular, plural, n, **values))))
        else:
            out.append((message.id, str(ar.t(message.id, **_samples(message.id)))))
    return out


def latin_words(text: str) -> list[str]:
    """Latin-script words in ``text`` that are neither typed tokens nor product names."""
    for permission in DISCORD_PERMISSIONS:
        text = text.replace(f"({permission})", "")
    text = re.sub(r"`[^`]*`", " ", text)
    text = _TYPED_TOKEN.sub(" ", text)
    return [
        word for word in _LATIN_WORD.findall(text)
        if word not in PRODUCT_NAMES and word not in TYPED_WORDS
    ]


@pytest.mark.parametrize("po", _catalogs(), ids=lambda p: p.stem)
def test_arabic_messages_have_no_english_words(po: Path) -> None:
    found = {
        msgid: words for msgid, text in rendered(po.stem) if (words := latin_words(text))
    }
    assert found == {}


@pytest.mark.parametrize("po", _catalogs(), ids=lambda p: p.stem)
def test_arabic_messages_use_the_placeholders_they_are_given(po: Path) -> None:
    # rendered() raises KeyError for a placeholder the English message does not have
    assert rendered(po.stem)


@pytest.mark.parametrize("po", _catalogs(), ids=lambda p: p.stem)
def test_no_number_is_glued_into_a_fixed_phrase(po: Path) -> None:
    with po.open("rb") as fp:
        catalog = read_po(fp, locale="ar", domain=po.stem)
    glued = {}
    for message in catalog:
        if not message.id:
            continue
        # a plural message agrees with {n}; any other number in it is glued
        counted = {"n"} if isinstance(message.id, tuple) else set()
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found = [m.group(0) for text in strings for m in _GLUED.finditer(text)
                 if m.group(1) in NUMERIC - counted]
        if found:
            glued[str(message.id)] = found
    assert glued == {}


#: A one-letter preposition (لـ بـ كـ) joined to a placeholder by a tatweel: "لـالمسؤولين"
#: when the text starts with the article. Only the article before a number is fine ("الـ5").
_CLITIC = re.compile(r"(?<![\u0621-\u064a])[\u0644\u0628\u0643]\u0640\{(?!n\})")


@pytest.mark.parametrize("po", _catalogs(), ids=lambda p: p.stem)
def test_no_preposition_is_glued_to_a_placeholder(po: Path) -> None:
    with po.open("rb") as fp:
        catalog = read_po(fp, locale="ar", domain=po.stem)
    glued = {}
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and any(_CLITIC.search(text or "") for text in strings):
            glued[str(message.id)] = strings
    assert glued == {}
    assert _CLITIC.search("ملف التقويم لـ{title}.") and _CLITIC.search("بـ{name}")
    assert not _CLITIC.search("الفعاليات الـ{n} القادمة") and not _CLITIC.search("لفعالية «{t}»")


def test_the_check_finds_english() -> None:
    assert latin_words("اختر week أو month") == []
    assert latin_words("أرسل /poll_template مع duration=3d أو 2h، مثل Asia/Riyadh") == []
    assert latin_words("غيّر KEY VALUE الآن") == ["KEY", "VALUE"]
    assert latin_words("انقر Save") == ["Save"]


def test_xp_in_rank_leaderboard_and_spotlight_agrees_with_its_number() -> None:
    from plugins.contributions import render

    ar = Translator(Catalogs(), "contributions", "ar")
    rank = {xp: str(render.rank_text(ar, "سارة", 1, xp, 1)) for xp in (0, 1, 2, 5, 11, 105)}
    assert rank[0] == "سارة: المستوى 1، لا نقاط خبرة بعد، الترتيب #1"
    assert "نقطة خبرة واحدة" in rank[1]
    assert "نقطتا خبرة" in rank[2]
    assert "5 نقاط خبرة" in rank[5]
    assert "11 نقطة خبرة" in rank[11]
    assert "105 نقاط خبرة" in rank[105]  # 103-110 take the form of 3-10
    board = str(render.leaderboard(ar, "week", [("a", 2), ("b", 2), ("c", 11)], {
        "a": "سارة", "b": "عمر", "c": "ليلى"}.__getitem__))
    assert "1. سارة — نقطتا خبرة" in board
    assert "1. عمر — نقطتا خبرة" in board  # tied members share a place
    spot = str(render.spotlight(ar, [("a", 3)], [], {"a": "سارة"}.__getitem__))
    assert "🥇 سارة — 3 نقاط خبرة" in spot


def test_an_arguments_arabic_name_does_not_just_restate_its_choices() -> None:
    # "«سنة» ليست من خيارات «week أو month أو all»: week أو month أو all" said the
    # choices twice: an argument is named by the first clause of its help, so a help that
    # lists the choices starts with what the argument is ("الفترة: week أو month أو all")
    from bot.core.commands import Kind
    from bot.loader import discover

    yes_no = {"نعم", "لا", "on", "off", "yes", "no"}
    restated = {}
    for found in discover(None)[0]:
        plugin = found.cls
        ar = Translator(Catalogs(), plugin.name, "ar")
        for spec in plugin.commands.values():
            for param in spec.params:
                if param.kind not in (Kind.CHOICE, Kind.BOOLEAN) or spec.typed_by_name(param):
                    continue
                words = set(re.split(r"\s+(?:أو\s+)?|،\s*", spec.label(param, ar.plain)))
                choices = set(param.choices) if param.kind is Kind.CHOICE else yes_no
                if words and words <= choices | {"أو"}:
                    restated[f"/{spec.name} {param.name}"] = spec.label(param, ar.plain)
    assert restated == {}
