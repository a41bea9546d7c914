"""The polls stories: create → vote → change vote → deadline → results, in English and Arabic."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT
from tests.test_stories import run_story

ONLY_POLLS = 'MAJLIS_PLUGINS=["polls","admin"]'


def test_polls_story_in_english() -> None:
    first = run_story("polls_en.txt", ONLY_POLLS)
    assert first == run_story("polls_en.txt", ONLY_POLLS)
    text = first
    assert "A poll needs 2 to 20 options, separated by | or ;. You gave 1." in text
    assert "“cafe” appears twice; every option must be different." in text
    assert "The poll must close in the future" in text
    assert "This platform has no native polls, so I made a poll with buttons." in text
    assert "[1 Cafe] [2 Park] [3 Library] [4 Withdraw my vote]" in text
    assert "(only omar sees) You changed your vote to “Library”." in text
    assert "(only sara sees) You already chose “Cafe”." in text
    assert "Only the poll's creator or an admin can close it." in text
    assert "(DM to lina) Poll #1 “Where shall we meet?” closes" in text
    assert "[2026-01-07 09:00] Majlis: 🗳 Poll #1 is closed: Where shall we meet?" in text
    assert "3. Library — 2 votes (67%)" in text
    assert "Winner: Library." in text
    assert "Quorum met: 3 voted, 3 needed." in text
    assert "Tie between “Cafe”, “Library”." in text
    assert "Quorum not met: 2 voted, 3 needed; the result is not binding." in text
    assert "Reach: 100% of voters joined in the last 30 days;" in text
    assert "(image: poll-1.png, " in text
    assert text.count("Poll #1 is closed: Where") == 2  # the results, then /poll_results
    assert "Quorum: 3 members must vote for the result to count." in text
    assert re.search(r"\(edited m\d+\) 📊 Where shall we meet\? \(poll #1\) — closed\.\n1\. Cafe",
                     text)
    assert "(only sara sees) You took back your vote for “Tea”." in text
    assert "Poll #2 is closed: Where for lunch?" in text and "poll-2.png" not in text
    # nobody voted: said once, not as "0 members voted." and again as "No votes were cast."
    assert "0 members voted." not in text and text.count("No votes were cast.") == 2
    # asked twice, the reminder says nothing changed
    assert "(only lina sees) Your poll reminders are already on." in text


def test_polls_story_in_arabic() -> None:
    text = run_story("polls_ar.txt", "MAJLIS_LANGUAGE=ar", ONLY_POLLS)
    assert "يجب أن يكون عدد خيارات الاستطلاع بين 2 و20" in text
    assert "«مقهى» مكرر" in text
    assert "[1 مقهى] [2 حديقة] [3 مكتبة] [4 اسحب صوتي]" in text
    assert "(لا يراها إلا عمر) غيّرت صوتك إلى «مكتبة»." in text
    assert "تعادل بين «مقهى»، «مكتبة»." in text
    assert "النصاب غير مكتمل: صوّت 2، والمطلوب 3 أعضاء؛ النتيجة غير ملزمة." in text
    assert "(رسالة خاصة إلى ليلى) الاستطلاع رقم 1 «أين نلتقي؟» يُغلق" in text
    assert "🗳 أُغلق الاستطلاع رقم 1: أين نلتقي؟" in text
    assert "3. مكتبة — صوتان (67%)" in text
    assert "الفائز: مكتبة." in text
    assert "صوّت 3 أعضاء." in text
    assert "النصاب: يجب أن يصوّت 3 أعضاء على الأقل لتُعتمد النتيجة." in text
    assert "(لا يراها إلا سارة) سحبت صوتك عن «شاي»." in text
    assert "أُغلق الاستطلاع رقم 2: أين نتغدى؟" in text and "poll-2.png" not in text
    assert "لم يصوّت أحد.\n" not in text and text.count("لم يُدلِ أحد بصوته.") == 2
    # the closed poll keeps its final tallies and its winner
    closed = text.split("(الاستطلاع رقم 1) — مغلق.\n", 1)[1].split("\n[", 1)[0]
    assert "3. مكتبة — صوتان (67%)" in closed and "الفائز: مكتبة." in closed
    assert "(صورة: poll-1.png، " in text
    assert "(لا يراها إلا ليلى) تذكيرات الاستطلاعات مفعّلة لك بالفعل." in text


#: Written out by hand, not by the library the bot uses (Babel).
ARABIC_DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
ARABIC_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
                 "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")


def first_deadline(name: str) -> datetime:
    """When poll #1 closes, in the community's timezone: the script's clock and duration."""
    lines = (ROOT / "stories" / name).read_text(encoding="utf-8").splitlines()
    zone = next(line.split()[1] for line in lines if line.startswith("/timezone "))
    opened = next(line for line in lines if line.startswith("/poll ") and "duration=" in line)
    days = int(opened.split("duration=", 1)[1].split("d", 1)[0])
    # the story opens at the console's first moment and moves no clock before the poll
    assert not any(line.startswith(":advance") for line in lines[:lines.index(opened)])
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return (start + timedelta(days=days)).astimezone(ZoneInfo(zone))


def test_dates_are_in_the_communitys_timezone_named_by_its_city_without_seconds() -> None:
    when = first_deadline("polls_en.txt")
    english = run_story("polls_en.txt", ONLY_POLLS)
    assert "Majlis: The timezone is now Riyadh." in english
    assert f"Closes {when:%a, %B} {when.day}, {when.year}, {when:%H:%M} (Riyadh)." in english
    when = first_deadline("polls_ar.txt")
    arabic = run_story("polls_ar.txt", "MAJLIS_LANGUAGE=ar", ONLY_POLLS)
    written = (f"{ARABIC_DAYS[when.weekday()]}، {when.day} {ARABIC_MONTHS[when.month - 1]} "
               f"{when.year}، {when:%H:%M} (الرياض)")
    assert f"يُغلق يوم {written}." in arabic
    assert f"يُغلق يوم {written} ولم تصوّت بعد." in arabic  # the reminder by DM
    assert "(UTC)" not in arabic and "(UTC)" not in english


def reach_from_the_script(name: str) -> str:
    """The "not among the most active 10%" share of poll #1 at its close, from the script.

    Independent of the plugin: who joined, who posted how often and who voted for what are
    read from the story itself. A member is a usual voice when fewer than 10% of the
    members (at least one) posted more than they did: tied members share a rank.
    """
    lines = (ROOT / "stories" / name).read_text(encoding="utf-8").splitlines()
    messages: dict[str, int] = {}
    votes: dict[str, int] = {}
    acting, options, clock, deadline = "owner", 0, timedelta(), None
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(":as "):
            acting = line.split(maxsplit=1)[1]
            if acting != "owner":  # the console's owner is there from the start
                messages.setdefault(acting, 0)
        elif line.startswith(":advance "):
            amount = line.split()[1]
            clock += timedelta(**{{"h": "hours", "d": "days", "m": "minutes"}[amount[-1]]:
                                  int(amount[:-1])})
        elif line.startswith(":press ") and deadline is not None and clock < deadline:
            pressed = int(line.split()[1])
            if pressed <= options:
                votes[acting] = pressed
            else:
                votes.pop(acting, None)  # "withdraw my vote"
        elif line.startswith("/poll ") and deadline is None and "duration=2d" in line:
            options = line.split('"')[3].count("|") + 1
            deadline = clock + timedelta(days=2)
        elif not line.startswith((":", "/")):
            messages[acting] = messages.get(acting, 0) + 1
    top = max(1, int(len(messages) * 0.10))
    usual = {m for m, n in messages.items()
             if n > 0 and sum(1 for other in messages.values() if other > n) < top}
    beyond = sum(1 for voter in votes if voter not in usual)
    return f"{round(100 * beyond / len(votes))}%"


@pytest.mark.parametrize(
    ("story", "env", "closed", "phrase"),
    [
        ("polls_en.txt", (), "Poll #1 is closed: Where shall we meet?",
         "{share} are not among the most active 10% of members."),
        ("polls_ar.txt", ("MAJLIS_LANGUAGE=ar",), "أُغلق الاستطلاع رقم 1: أين نلتقي؟",
         "و{share} ليسوا من أنشط 10% من الأعضاء."),
    ],
)
def test_the_story_reach_matches_its_messages_and_votes(
    story: str, env: tuple[str, ...], closed: str, phrase: str,
) -> None:
    share = reach_from_the_script(story)
    text = run_story(story, *env, ONLY_POLLS)
    results = text.split(closed, 1)[1].split("\n[", 1)[0]
    assert phrase.format(share=share) in results, results


def test_the_story_reads_the_same_on_a_file_database(tmp_path: Path) -> None:
    def run(*database: str) -> str:
        return subprocess.run(
            [sys.executable, "run.py", "console", "--script", "stories/polls_en.txt",
             *database],
            cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120,
            env={"PATH": "", "PYTHONIOENCODING": "utf-8", "MAJLIS_PLUGINS": '["polls","admin"]'},
            check=True,
        ).stdout

    on_file = run("--database", f"sqlite+aiosqlite:///{tmp_path / 'story.db'}")
    assert re.sub(r"\d+ bytes", "", on_file) == re.sub(r"\d+ bytes", "", run())


@pytest.mark.parametrize(("story", "env", "pizza", "lines"), [
    ("polls_en.txt", (ONLY_POLLS,), "🍕 Pizza",
     ["1. 🍕 Pizza — 2 votes (67%)", "2. 🥗 Salad — 1 vote (33%)", "Winner: 🍕 Pizza."]),
    ("polls_ar.txt", ("MAJLIS_LANGUAGE=ar", ONLY_POLLS), "🍕 بيتزا",
     ["1. 🍕 بيتزا — صوتان (67%)", "2. 🥗 سلطة — صوت واحد (33%)", "الفائز: 🍕 بيتزا."]),
])
def test_emoji_options_are_on_the_buttons_in_the_results_and_drawn_in_the_chart(
        story: str, env: tuple[str, ...], pizza: str, lines: list[str], tmp_path: Path) -> None:
    from bot import pictures
    from tests.test_pictures import grey, mpl_word, shows

    text = run_story(story, *env, args=("--attachments", str(tmp_path)))
    last = text.rsplit("(poll #4)" if "(poll #4)" in text else "(الاستطلاع رقم 4)", 1)[0]
    assert f"[1 {pizza}] [2 🥗 " in last  # the buttons as typed
    results = text.rsplit("🗳 ", 2)[-2]  # the results post of poll #4
    assert all(line in results.splitlines() for line in lines), results
    (chart,) = sorted(tmp_path.glob("*-poll-4.png"))
    assert str(chart) in text  # the transcript says where the picture is
    emoji = pictures.emoji_font()
    assert emoji is not None
    ink = grey(chart.read_bytes())
    for glyph in ("🍕", "🥗"):
        assert shows(ink, mpl_word(glyph, fname=str(emoji))) is not None, glyph
