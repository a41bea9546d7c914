"""Scripted console stories: the same script gives the same transcript, in both languages."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run_story(name: str, *env: str, args: tuple[str, ...] = ()) -> str:
    """Replay ``stories/name`` (``env`` as ``KEY=value``); its transcript."""
    result = subprocess.run(
        [sys.executable, "run.py", "console", "--script", f"stories/{name}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env={"PATH": "", "PYTHONIOENCODING": "utf-8", **dict(e.split("=", 1) for e in env)},
        check=True,
    )
    return result.stdout


def test_example_story_in_english_is_deterministic() -> None:
    first = run_story("example_en.txt")
    assert first == run_story("example_en.txt")
    lines = first.splitlines()
    assert "[2026-01-05 09:00] Majlis: Welcome, sara! 👋 [1 Wave back]" in lines
    assert "[2026-01-05 09:00] Majlis: You have waved 1 time." in lines
    assert any(
        "“soon” is not a duration" in line and "90m, 2h, 3d or 1w" in line for line in lines
    )
    assert (
        "[2026-01-05 11:00] Majlis: ⏰ @sara, you asked me to remind you: call the venue" in lines
    )


def test_example_story_in_arabic() -> None:
    out = run_story("example_ar.txt", "MAJLIS_LANGUAGE=ar")
    lines = out.splitlines()
    assert "[2026-01-05 09:00] Majlis: أهلًا وسهلًا يا سارة! 👋 [1 لوّح بالمقابل]" in lines
    assert "[2026-01-05 09:00] Majlis: لوّحت مرة واحدة." in lines
    assert any("«قريبا» ليست مدة" in line for line in lines)
    assert "[2026-01-05 11:00] Majlis: ⏰ @سارة، طلبت مني أن أذكّرك: اتصل بالقاعة" in lines


def test_playground_story_in_english() -> None:
    out = run_story("playground_en.txt")
    lines = [line.split("] ", 1)[1] for line in out.splitlines() if "] " in line]
    assert lines[0] == "Directives (anything else is a message; /help lists commands):"
    assert [line.split()[0] for line in lines[1:11]] == [
        ":as", ":join", ":leave", ":admin", ":lang", ":press", ":react", ":advance", ":help", "#"]
    for refusal in ("(:as needs a name, like :as sara)", "(ghost is not a member here)",
                    "(“zz” is not a language here; choose one of: ar or en)",
                    "(there is no message with buttons to press)",
                    "(:react needs an emoji, like :react 👍)",
                    "(unknown directive :frobnicate; :help lists them)"):
        assert refusal in lines
    rank = next(line for line in lines if "(image: rank.png" in line)
    assert rank.endswith(" → data/attachments/20260105-0900-m9-rank.png)")
    assert (ROOT / "data/attachments/20260105-0900-m9-rank.png").is_file()
    assert out == run_story("playground_en.txt")


def test_playground_story_in_arabic() -> None:
    out = run_story("playground_ar.txt", "MAJLIS_LANGUAGE=ar")
    lines = [line.split("] ", 1)[1] for line in out.splitlines() if "] " in line]
    assert lines[0] == "التوجيهات (وكل ما عداها رسالة؛ اكتب /help لعرض الأوامر):"
    assert [line.split()[0] for line in lines[1:11]] == [
        ":as", ":join", ":leave", ":admin", ":lang", ":press", ":react", ":advance", ":help", "#"]
    assert any(":lang CODE" in line and "(ar أو en)" in line for line in lines[1:11])
    for refusal in ("(يحتاج :as إلى اسم، مثل :as سارة)", "(لا يوجد عضو باسم شبح هنا)",
                    "(«zz» ليست لغة متاحة هنا؛ اختر واحدة من: ar أو en)",
                    "(لا توجد رسالة فيها أزرار للضغط عليها)",
                    "(يحتاج :react إلى رمز تعبيري، مثل :react 👍)",
                    "(يحتاج :advance إلى مدة مثل 90m أو 2h أو 3d، لا «قريبا»)",
                    "(لا يوجد توجيه :رقص؛ اكتب :help لعرض التوجيهات)"):
        assert refusal in lines
    assert any("(صورة: rank.png" in line and "→ data/attachments/" in line for line in lines)
    # the console's own labels speak the playground's language too
    assert not [line for line in lines
                if any(label in line for label in ("(only ", "(DM to ", " joined", "(image: ",
                                                   " pressed [", "(time passes", "(badge for"))]
    assert any(line.startswith("→ انضمام: ") for line in lines)


def advanced(name: str) -> timedelta:
    """How far a story moves the clock with ``:advance``."""
    total = timedelta()
    for line in (ROOT / "stories" / name).read_text(encoding="utf-8").splitlines():
        if line.startswith(":advance "):
            amount = line.split()[1]
            unit = {"m": "minutes", "h": "hours", "d": "days"}[amount[-1]]
            total += timedelta(**{unit: int(amount[:-1])})
    return total


def said_by(name: str, member: str) -> int:
    """Messages (not commands) ``member`` says in a story."""
    acting, count = "owner", 0
    for line in (ROOT / "stories" / name).read_text(encoding="utf-8").splitlines():
        if line.startswith(":as "):
            acting = line.split()[1]
        elif line.strip() and not line.startswith((":", "/", "#")) and acting == member:
            count += 1
    return count


@pytest.mark.parametrize(("language", "sara", "omar", "rank"), [
    ("en", "sara", "omar", "sara: level 0, {xp} XP, rank #1"),
    ("ar", "سارة", "عمر", "سارة: المستوى 0، {xp} نقطة خبرة، الترتيب #1"),
])
def test_the_next_session_goes_on_from_the_first_ones_clock_and_members(
    language: str, sara: str, omar: str, rank: str, tmp_path: Path
) -> None:
    database = f"--database=sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    first, following = f"session_first_{language}.txt", f"session_next_{language}.txt"
    env = (f"MAJLIS_LANGUAGE={language}",)
    run_story(first, *env, args=(database,))
    out = run_story(following, *env, args=(database,)).splitlines()
    resumed = datetime(2026, 1, 5, 9, 0) + advanced(first)
    assert out[0].startswith(f"[{resumed:%Y-%m-%d %H:%M}] {sara}: ")  # not back at the start
    assert not any(f"→ {sara} joined" in line or f"→ انضمام: {sara}" in line for line in out)
    # omar is still the admin the first session made him: /config answers him, privately
    assert not any("only for admins" in line or "للمسؤولين" in line for line in out)
    # both sessions' messages count (two days apart: no cooldown between them)
    xp = 15 * (said_by(first, sara) + said_by(following, sara))
    assert any(rank.format(xp=xp) in line for line in out), out
