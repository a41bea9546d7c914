"""The contributions stories replayed on the console, in English and Arabic."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PLUGINS = 'MAJLIS_PLUGINS=["contributions","admin"]'


def run_story(name: str, *env: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "run.py", "console", "--script", f"stories/{name}"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120, check=True,
        env={"PATH": "", "PYTHONIOENCODING": "utf-8",
             **dict(e.split("=", 1) for e in (PLUGINS, *env))},
    )
    return result.stdout.splitlines()


def test_contributions_story_in_english() -> None:
    lines = run_story("contributions_en.txt")
    assert lines == run_story("contributions_en.txt")
    text = "\n".join(lines)
    assert "[2026-01-05 09:00] Majlis: 🏅 @sara earned the badge “First words”!" in lines
    assert "[2026-01-05 09:00] Majlis: 💛 omar thanked @sara (karma: 1)" in lines
    assert "[2026-01-05 09:00] Majlis: 💛 sara gave kudos to @omar: again, you rock (karma: 1)" \
        in lines
    assert any("You cannot give kudos to yourself." in line for line in lines)
    assert "[2026-01-05 09:00] Majlis: 🎉 @sara reached level 1!" in lines
    assert "[2026-01-05 09:00] Majlis: (badge for sara: Level 1)" in lines
    assert any("sara: level 1, 100 XP, rank #1 (image: rank.png" in line for line in lines)
    assert "1. sara — 100 XP" in text
    assert "You are no longer listed on leaderboards." in text
    assert "[2026-01-12 09:00] Majlis: 🌟 This week's spotlight" in lines
    assert "(badge for sara: Active member)" in text


def test_contributions_story_in_arabic() -> None:
    lines = run_story("contributions_ar.txt", "MAJLIS_LANGUAGE=ar")
    text = "\n".join(lines)
    assert "[2026-01-05 09:00] Majlis: 💛 شكر من عمر إلى @سارة (الرصيد: 1)" in lines
    assert "[2026-01-05 09:00] Majlis: 🎉 مبارك يا @سارة! بلغت المستوى 1!" in lines
    assert "[2026-01-05 09:00] Majlis: (شارة جديدة — سارة: المستوى 1)" in lines
    assert any("سارة: المستوى 1، 105 نقاط خبرة، الترتيب #1 (صورة: rank.png" in line
               for line in lines)
    assert "🏆 أبرز المساهمين هذا الأسبوع" in text
    assert "[2026-01-12 09:00] Majlis: 🌟 تسليط الضوء لهذا الأسبوع" in lines
