"""The contributions stories replayed on the console, in English and Arabic.

The XP, ranks and ties the bot shows are checked against :func:`xp_from_the_script`, which
reads the story itself with the plugin's documented default rules: no code of the plugin.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from tests.conftest import ROOT

PLUGINS = 'MAJLIS_PLUGINS=["contributions","admin"]'
#: The plugin's defaults (plugins/contributions/README.md), restated here on purpose.
MESSAGE_XP, COOLDOWN, MIN_LENGTH = 15, timedelta(seconds=60), 5
KUDOS_XP, REACTION_XP, PAIR_CAP, DAILY_CAP = 10, 2, 2, 5
THANKS = ("thanks", "thank you", "thx", "شكرا", "شكراً", "مشكور")


def run_story(name: str, *env: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "run.py", "console", "--script", f"stories/{name}"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120, check=True,
        env={"PATH": "", "PYTHONIOENCODING": "utf-8",
             **dict(e.split("=", 1) for e in (PLUGINS, *env))},
    )
    return result.stdout.splitlines()


def xp_from_the_script(name: str) -> dict[str, int]:
    """Each member's XP at the end of the story, from its lines alone."""
    lines = (ROOT / "stories" / name).read_text(encoding="utf-8").splitlines()
    clock = datetime(2026, 1, 5, 9, 0)
    xp: dict[str, int] = {}
    last_earned: dict[str, datetime] = {}
    texts: dict[str, set[str]] = {}
    previous: dict[str, str] = {}
    given: dict[tuple[str, str], int] = {}
    pairs: dict[tuple[str, str, str], int] = {}
    reacted: set[tuple[int, str]] = set()
    acting = "owner"
    last_message: tuple[int, str] | None = None  # (line, author) of the latest post's message
    previous_before: set[str] = set()

    def kudos(giver: str, receiver: str) -> None:
        day = clock.date().isoformat()
        if receiver == giver or receiver not in xp:
            return
        if given.get((giver, day), 0) >= DAILY_CAP or pairs.get((giver, receiver, day),
                                                                  0) >= PAIR_CAP:
            return
        given[(giver, day)] = given.get((giver, day), 0) + 1
        pairs[(giver, receiver, day)] = pairs.get((giver, receiver, day), 0) + 1
        xp[receiver] += KUDOS_XP

    for number, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        words = line.split()
        if line.startswith(":as "):
            acting = words[1]
            xp.setdefault(acting, 0)
        elif line.startswith(":advance "):
            unit = {"m": "minutes", "h": "hours", "d": "days"}[words[1][-1]]
            clock += timedelta(**{unit: int(words[1][:-1])})
        elif line.startswith(":react "):
            if last_message is not None and last_message[1] != acting \
                    and (last_message[0], acting) not in reacted:
                reacted.add((last_message[0], acting))
                xp[last_message[1]] += REACTION_XP
        elif line.startswith("/kudos "):
            kudos(acting, words[1].lstrip("@"))
        elif line.startswith("/award "):
            xp[words[1].lstrip("@")] += int(words[2])
        elif not line.startswith(("/", ":")):
            folded = line.casefold()
            if (len(line) >= MIN_LENGTH and folded != previous.get(acting)
                    and folded not in texts.setdefault(acting, set())
                    and clock - last_earned.get(acting, datetime.min) >= COOLDOWN):
                xp[acting] += MESSAGE_XP
                last_earned[acting] = clock
                texts[acting].add(folded)
            previous[acting] = folded
            if any(phrase in folded for phrase in THANKS):
                for word in words:
                    if word.startswith("@"):
                        kudos(acting, word[1:])
            # a member's first message gets the "First words" badge post: a reaction after
            # it would be on the bot's post
            last_message = (number, acting) if acting in previous_before else None
            previous_before.add(acting)
        elif line.startswith("/"):
            last_message = None  # the bot answers: a later reaction is on its post
    xp.pop("owner", None)
    return xp


def places(xp: dict[str, int]) -> dict[str, int]:
    """Competition ranks: tied members share a place (1, 2, 2, 4)."""
    return {m: 1 + sum(1 for other in xp.values() if other > n) for m, n in xp.items()}


def test_the_expected_xp_is_read_from_the_script_not_the_output() -> None:
    """The reading of the script reaches the numbers a person would count by hand."""
    assert xp_from_the_script("contributions_en.txt") == {"sara": 115, "omar": 37, "lina": 37}


@pytest.mark.parametrize(("story", "env"), [("contributions_en.txt", ()),
                                            ("contributions_ar.txt", ("MAJLIS_LANGUAGE=ar",))])
def test_leaderboards_and_the_spotlight_show_the_xp_the_script_earns(
    story: str, env: tuple[str, ...]
) -> None:
    xp = xp_from_the_script(story)
    place = places(xp)
    lines = run_story(story, *env)
    text = "\n".join(lines)
    arabic = bool(env)

    def points(n: int) -> str:
        if not arabic:
            return f"{n} XP"
        # Arabic plural forms of "XP point", written out by hand (2-10: few; 11-99: many)
        return f"{n} " + ("نقاط خبرة" if 3 <= n % 100 <= 10 else "نقطة خبرة")

    month = text.split("هذا الشهر" if arabic else "this month", 1)[1].split("\n[", 1)[0]
    expected = sorted(xp, key=lambda m: (-xp[m], m))
    assert month.strip().splitlines() == [f"{place[m]}. {m} — {points(xp[m])}"
                                          for m in expected]
    spotlight = text.split("🌟", 2)[2].split("\n", 4)[1:4]
    medals = "🥇🥈🥉"
    assert spotlight == [f"{medals[place[m] - 1]} {m} — {points(xp[m])}" for m in expected]
    tied = [m for m in xp if list(place.values()).count(place[m]) > 1]
    assert len(tied) == 2  # the story has a tie, and the tied members share one medal
    # every badge of the story came in the first week: the second spotlight names none again
    first, second = (block.split("\n[", 1)[0] for block in text.split("🌟")[1:3])
    heading = "شارات جديدة" if arabic else "New badges"
    assert heading in first and heading not in second


def test_contributions_story_in_english() -> None:
    lines = run_story("contributions_en.txt")
    assert lines == run_story("contributions_en.txt")
    said = [line.split("] ", 1)[1] for line in lines if "] " in line]
    text = "\n".join(lines)
    assert "[2026-01-05 09:00] Majlis: 🏅 @sara earned the badge “First words”!" in lines
    assert "[2026-01-05 09:00] Majlis: 💛 omar thanked @sara (karma: 1)" in lines
    assert "[2026-01-05 09:00] Majlis: 💛 sara gave kudos to @omar: again, you rock (karma: 1)" \
        in lines
    assert any("You cannot give kudos to yourself." in line for line in lines)
    # the third kudos from sara to omar on one day, privately
    assert f"Majlis: (only sara sees) You already thanked omar {PAIR_CAP} times today; " \
        "try again tomorrow." in said
    assert sum("sara gave kudos to @omar" in s for s in said) == PAIR_CAP
    # /award 0 is refused; a negative award is told only to the admin, never posted
    assert any(s.startswith("Majlis: (only owner sees) Give a number of points other than 0")
               for s in said)
    assert "Majlis: (only owner sees) 5 points were taken from sara: correction" in said
    assert not any("correction" in s and "(only owner sees)" not in s for s in said
                   if s.startswith("Majlis:"))
    assert "Majlis: (only owner sees) “loud” is not allowed for level_up: it must be one of: " \
        "channel, dm, or off" in said
    assert "[2026-01-05 09:00] Majlis: 🎉 @sara reached level 1!" in lines
    assert "[2026-01-05 09:00] Majlis: (badge for sara: Level 1)" in lines
    xp = xp_from_the_script("contributions_en.txt")
    ranks = places(xp)
    for member in ("omar", "lina"):  # before the last day: nobody but sara earned since
        assert any(f"{member}: level 0, {xp[member]} XP, rank #{ranks[member]} (image: rank.png"
                   in line for line in lines)
    assert "You are no longer listed on leaderboards." in text
    assert "[2026-01-12 09:00] Majlis: 🌟 This week's spotlight" in lines
    assert "(badge for sara: Active member)" in text


def test_contributions_story_in_arabic() -> None:
    lines = run_story("contributions_ar.txt", "MAJLIS_LANGUAGE=ar")
    said = [line.split("] ", 1)[1] for line in lines if "] " in line]
    text = "\n".join(lines)
    assert "[2026-01-05 09:00] Majlis: 💛 شكر من عمر إلى @سارة (الرصيد: 1)" in lines
    assert "[2026-01-05 09:00] Majlis: 🎉 مبارك يا @سارة! بلغت المستوى 1!" in lines
    assert "[2026-01-05 09:00] Majlis: (شارة جديدة — سارة: المستوى 1)" in lines
    assert "Majlis: (لا يراها إلا سارة) سبق أن شكرت عمر مرتين اليوم؛ حاول غدًا." in said
    assert any(s.startswith("Majlis: (لا يراها إلا owner) اكتب عددًا من النقاط غير الصفر")
               for s in said)
    assert "Majlis: (لا يراها إلا owner) خُصمت 5 نقاط من سارة: تصحيح" in said
    assert not any("تصحيح" in s and "(لا يراها إلا owner)" not in s for s in said
                   if s.startswith("Majlis:"))
    # the choices as members type them, joined with the Arabic "or": no Python repr, no "or"
    assert "Majlis: (لا يراها إلا owner) القيمة «loud» غير مسموح بها للإعداد level_up: يجب أن " \
        "تكون واحدة من: channel أو dm أو off" in said
    assert not any("'" in s or " or " in s for s in said if s.startswith("Majlis:"))
    # capabilities the console lacks are named in Arabic; a member's gender is never guessed
    assert any("تعمل هنا دون الأدوار" in line for line in lines)
    assert not any(" نال " in s or "@سارة نال" in s for s in said)
    xp = xp_from_the_script("contributions_ar.txt")
    ranks = places(xp)
    assert any(f"لينا: المستوى 0، {xp['لينا']} نقطة خبرة، الترتيب #{ranks['لينا']} "
               "(صورة: rank.png" in line for line in lines)
    assert "🏆 أبرز المساهمين هذا الأسبوع" in text
    assert "[2026-01-12 09:00] Majlis: 🌟 تسليط الضوء لهذا الأسبوع" in lines
