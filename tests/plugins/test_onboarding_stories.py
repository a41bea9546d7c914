"""The onboarding stories replay the same way every time, in English and Arabic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    assert "[2026-01-05 09:00] Majlis: Hello sara, welcome to Majlis playground! We are 1. " \
        "Rules: https://example.org/rules" in lines
    assert "[2026-01-05 09:00] Majlis: (badge for sara: Hiking)" in lines
    assert "[2026-01-05 09:00] Majlis: Please welcome @sara: Sara here: I hike on weekends and " \
        "read <b>a lot</b>." in lines
    assert "[2026-01-05 09:00] Majlis: Welcome back, omar! Your earlier choices are kept." in lines
    assert sum("🚨 Moderators" in line for line in lines) == 1
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


def test_onboarding_story_in_arabic(tmp_path: Path) -> None:
    out = run_story("onboarding_ar.txt", ONLY, "MAJLIS_LANGUAGE=ar", db=tmp_path / "a.db")
    lines = out.splitlines()
    assert any("«{count}» ليس عنصرًا نائبًا" in line for line in lines)
    # every count of the setup summary in its plural form, lists with the Arabic comma
    assert "التخرّج: رسالتان و7 أيام" in lines
    assert "حارس الاندفاع: أكثر من 10 انضمامات خلال 60 ثانية" in lines
    assert "الاهتمامات: 1: كتب، 2: مشي → مشاة" in lines
    assert "[2026-01-05 09:00] Majlis: أهلًا بعودتك يا عمر! احتفظنا باختياراتك السابقة." in lines
    assert any("أهلًا بأعضائنا الجدد الـ٥" in line or "الجدد الـ5" in line for line in lines)
    assert any("أكثر من 10 أعضاء" in line or "أكثر من ١٠ أعضاء" in line for line in lines)
    assert "[2026-01-05 09:00] Majlis: رحّبوا معنا بـ@سارة: أنا سارة، أحب المشي في عطلة نهاية " \
        "الأسبوع" in lines
    assert any("قمع الترحيب، آخر 30 " in line for line in lines)
    assert any("(صورة: onboarding-funnel.png" in line for line in lines)
    assert not any("ع11" in line and "أهلًا بأعضائنا" in line for line in lines)  # no names
    assert any("أُعيدت رسالة الترحيب إلى الرسالة الافتراضية" in line for line in lines)
    assert "[2026-01-13 10:02] Majlis: أهلًا بك في Majlis playground يا لينا! 👋" in lines
    assert "[2026-01-13 10:02] Majlis: (رسالة خاصة إلى لينا) 📜 Our rules" in lines
    assert "استأذن قبل أن تراسل أحدًا على الخاص." in lines
