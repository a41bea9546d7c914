"""The onboarding stories replay the same way every time, in English and Arabic."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

ONLY = 'MAJLIS_PLUGINS=["onboarding"]'


def run_story(name: str, *env: str, db: Path) -> str:
    """Replay a story on a fresh file database (each handler gets its own connection)."""
    db.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "run.py", "console", "--script", f"stories/{name}",
         "--database", f"sqlite+aiosqlite:///{db}"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120, check=True,
        env={"PATH": "", "PYTHONIOENCODING": "utf-8", **dict(e.split("=", 1) for e in env)},
    )
    return result.stdout


def untimed(out: str) -> list[str]:
    """The transcript's lines without their time stamps."""
    return [line.split("] ", 1)[-1] for line in out.splitlines()]


def test_onboarding_story_in_english(tmp_path: Path) -> None:
    out = run_story("onboarding_en.txt", ONLY, db=tmp_path / "a.db")
    again = run_story("onboarding_en.txt", ONLY, db=tmp_path / "b.db")
    # the same lines each time (time stamps and order of job output may shift: see README)
    assert sorted(untimed(out)) == sorted(untimed(again))
    lines = out.splitlines()
    assert any("“{count}” is not a placeholder" in line for line in lines)
    assert "Graduation: 2 messages and 7 days" in lines
    assert "Raid guard: more than 10 joins within 60 seconds" in lines
    assert "[2026-01-05 09:00] Majlis: Hello sara, welcome to Majlis playground! We are 2. " \
        "Rules: https://example.org/rules" in lines
    assert "[2026-01-05 09:00] Majlis: (badge for sara: Hiking)" in lines
    assert "[2026-01-05 09:00] Majlis: Please welcome @sara: Sara here: I hike on weekends and " \
        "read <b>a lot</b>." in lines
    assert "[2026-01-05 09:00] Majlis: Welcome back, omar! Your earlier choices are kept." in lines
    assert sum("🚨 Moderators" in line for line in lines) == 1
    assert not any("j11" in line and "Welcome to our" in line for line in lines)  # no names
    assert "[2026-01-05 10:01] Majlis: Welcome to our 5 new members! Press the button to get " \
        "started. [1 Get started]" in lines  # a count, never a list of every name
    assert sum("We would love to hear from you" in line for line in lines) == 1
    assert "[2026-01-13 00:05] Majlis: (badge removed from sara: newcomer)" in lines
    assert sum("(DM to omar) 🎉 You are all set!" in line for line in lines) == 1
    assert any("(image: onboarding-funnel.png" in line for line in lines)
    assert any("Greeting reset to the default." in line for line in lines)
    # public in the community's language; lina's private steps follow her language
    assert "[2026-01-13 10:02] Majlis: Welcome to Majlis playground, lina! 👋" in lines
    assert "[2026-01-13 10:02] Majlis: (DM to lina) 📜 قواعدنا" in lines
    assert "Ask before you send a private message." in lines  # a rule on a line of its own
    # what changes nothing says so
    assert "[2026-01-13 10:02] Majlis: (only owner sees) The greeting is already the default. " \
        "Use /onboarding_setup preview to see it." in lines
    assert "[2026-01-13 10:02] Majlis: (only owner sees) Step intro is already on." in lines
    assert "[2026-01-13 10:02] Majlis: (only owner sees) There are no rules to remove." in lines


def test_onboarding_story_in_arabic(tmp_path: Path) -> None:
    out = run_story("onboarding_ar.txt", ONLY, "MAJLIS_LANGUAGE=ar", db=tmp_path / "a.db")
    lines = out.splitlines()
    assert any("«{count}» ليس عنصرًا نائبًا" in line for line in lines)
    # every count of the setup summary in its plural form, lists with the Arabic comma
    assert "التخرّج: رسالتان و7 أيام" in lines
    assert "حارس الاندفاع: أكثر من 10 انضمامات خلال 60 ثانية" in lines
    assert "الاهتمامات: 1: كتب، 2: مشي → مشاة" in lines
    assert "[2026-01-05 09:00] Majlis: أهلًا بعودتك يا عمر! احتفظنا باختياراتك السابقة." in lines
    # the count before its noun, which agrees with it: 3 to 10 members, the plural
    assert "[2026-01-05 10:01] Majlis: أهلًا بـ5 أعضاء جدد! اضغطوا الزر لتبدؤوا. [1 ابدأ]" \
        in lines
    assert any("أكثر من 10 أعضاء" in line or "أكثر من ١٠ أعضاء" in line for line in lines)
    assert "[2026-01-05 09:00] Majlis: رحّبوا معنا بانضمام @سارة: أنا سارة، أحب المشي في " \
        "عطلة نهاية الأسبوع" in lines
    assert any("قمع الترحيب، آخر 30 " in line for line in lines)
    assert any("بحدّ أقصى 500 حرف" in line for line in lines)  # the count's plural form
    assert any("(صورة: onboarding-funnel.png" in line for line in lines)
    assert not any("ع11" in line and "أهلًا بأعضائنا" in line for line in lines)  # no names
    assert any("أُعيدت رسالة الترحيب إلى الرسالة الافتراضية" in line for line in lines)
    assert "[2026-01-13 10:02] Majlis: أهلًا بك في Majlis playground يا لينا! 👋" in lines
    assert "[2026-01-13 10:02] Majlis: (رسالة خاصة إلى لينا) 📜 Our rules" in lines
    assert "استأذن قبل أن تراسل أحدًا على الخاص." in lines
    assert "[2026-01-13 10:02] Majlis: (لا يراها إلا owner) رسالة الترحيب هي الافتراضية " \
        "بالفعل. استخدم /onboarding_setup preview لمعاينتها." in lines
    assert "[2026-01-13 10:02] Majlis: (لا يراها إلا owner) الخطوة intro مفعّلة بالفعل." in lines
    assert "[2026-01-13 10:02] Majlis: (لا يراها إلا owner) لا توجد قواعد لحذفها." in lines


#: The raid guard's defaults (plugins/onboarding/README.md), restated here on purpose.
RAID_JOINS, RAID_WINDOW = 10, timedelta(seconds=60)


def replay(name: str) -> dict[str, Any]:
    """What the script itself says happened: joins and their times, members, messages.

    Read from the story's lines only, so the numbers the bot prints are checked against a
    second count: members here at each preview, raid joins beyond the guard's threshold,
    and the members of each funnel with their first and second messages.
    """
    clock = datetime(2026, 1, 5, 9, 0)
    here: set[str] = {"owner"}  # the owner is a member too (the preview counts them)
    joins: list[datetime] = []
    joined: set[str] = set()
    messages: dict[str, int] = {}
    acting = "owner"
    previews: list[int] = []
    funnels: list[tuple[int, int, int]] = []
    for line in (ROOT / "stories" / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        verb, _, rest = line.partition(" ")
        if verb == ":join":  # one name, or several joining one after the other
            for name in rest.split():
                here.add(name)
                joins.append(clock)
                joined.add(name)
        elif verb == ":as":
            if rest != "owner" and rest not in here:
                here.add(rest)
                joins.append(clock)
                joined.add(rest)
            acting = rest
        elif verb == ":leave":
            here.discard(rest)
        elif verb == ":advance":
            unit = {"m": "minutes", "h": "hours", "d": "days"}[rest[-1]]
            clock += timedelta(**{unit: int(rest[:-1])})
        elif line == "/onboarding_setup preview":
            previews.append(len(here))
        elif line.startswith("/onboarding_funnel"):
            posted = [n for member, n in messages.items() if member in joined]
            funnels.append((len(joined), sum(n >= 1 for n in posted), sum(n >= 2 for n in posted)))
        elif not line.startswith((":", "/")):
            messages[acting] = messages.get(acting, 0) + 1
    # a join is batched when it is one more than the guard allows within the window so far
    batched = sum(1 for i, at in enumerate(joins)
                  if sum(1 for other in joins[:i + 1] if at - RAID_WINDOW < other) > RAID_JOINS)
    return {"previews": previews, "batched": batched, "funnels": funnels}


@pytest.mark.parametrize(("story", "env", "words"), [
    ("onboarding_en.txt", (), {
        "preview": "We are {n}.", "batch": "Welcome to our {n} new members!",
        "joined": "Joined: {n} · 100%", "first": "First message: {n} · {p}%",
        "second": "Second message: {n} · {p}%", "rules": "Accepted the rules:"}),
    ("onboarding_ar.txt", ("MAJLIS_LANGUAGE=ar",), {
        "preview": "عددنا {n}.", "batch": "أهلًا بـ{n} أعضاء جدد!",
        "joined": "انضموا: {n} · 100%", "first": "الرسالة الأولى: {n} · {p}%",
        "second": "الرسالة الثانية: {n} · {p}%", "rules": "قبلوا القواعد:"}),
])
def test_counts_match_what_the_script_did(
    story: str, env: tuple[str, ...], words: dict[str, str], tmp_path: Path
) -> None:
    """Preview member count, the raid batch's count and the funnel, counted a second way."""
    expected = replay(story)
    out = run_story(story, ONLY, *env, db=tmp_path / "a.db")
    said = "\n".join(untimed(out))
    previews = [block.split("\n", 2)[1]
                for block in said.split("owner: /onboarding_setup preview\n")[1:]]
    assert len(previews) == len(expected["previews"]) >= 1
    for shown, count in zip(previews, expected["previews"], strict=True):
        assert words["preview"].format(n=count) in shown, shown
    assert expected["batched"] > 0
    assert words["batch"].format(n=expected["batched"]) in said
    funnels = said.split("owner: /onboarding_funnel")[1:]
    assert len(funnels) == len(expected["funnels"]) == 2
    for funnel, (joined, first, second) in zip(funnels, expected["funnels"], strict=True):
        funnel = funnel.split("\nowner:", 1)[0]
        assert words["joined"].format(n=joined) in funnel
        assert words["first"].format(n=first, p=round(100 * first / joined)) in funnel
        assert words["second"].format(n=second, p=round(100 * second / joined)) in funnel
    # rules to accept in the first funnel; none in the second, so no such stage
    assert words["rules"] in funnels[0]
    assert words["rules"] not in funnels[1].split("\n\n")[0].split("(", 1)[0]
