"""Scripted console stories: the same script gives the same transcript, in both languages."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def run_story(name: str, *env: str) -> str:
    result = subprocess.run(
        [sys.executable, "run.py", "console", "--script", f"stories/{name}"],
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
