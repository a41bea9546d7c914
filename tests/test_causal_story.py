"""A story reads the same when the earlier plugin's database work is the slower one.

``test_story_databases[contributions_ar]`` once printed the onboarding plugin's thanks for a
first message before the contributions plugin's badge on one database and after it on the
other: whichever task's write finished first posted first. Here the badge's write is made
slow on purpose (on a file database) and the transcript must not move; with the causal
chain switched off the same delay does move it, so the delay is known to bite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

STORY = ROOT / "stories" / "contributions_ar.txt"
#: Longer than the later handler's work, well under ``causal.CAUSAL_WAIT``.
DELAY = 0.4

#: Replays the story in a child process, with the badge's write delayed and, when told,
#: the causal chain off (``wait_turn`` returns at once).
RUNNER = """
import asyncio, sys
from plugins.contributions.store import Store
from bot.cli import main

delay, causal, script, database = float(sys.argv[1]), sys.argv[2] == "on", sys.argv[3], sys.argv[4]
real = Store.record_badge

async def slow(self, *args, **kwargs):
    await asyncio.sleep(delay)  # the earlier task's write finishes last
    await real(self, *args, **kwargs)

Store.record_badge = slow
if not causal:
    async def at_once():
        return None
    import bot.core.context, bot.core.outbox
    bot.core.outbox.wait_turn = at_once
    bot.core.context.wait_turn = at_once
argv = ["console", "--script", script]
if database != "memory":
    argv += ["--database", database]
sys.exit(main(argv))
"""


def _replay(delay: float, causal: bool, database: str, attachments: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(delay), "on" if causal else "off", str(STORY),
         database],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=180,
        env={"PATH": "", "PYTHONIOENCODING": "utf-8", "MAJLIS_LANGUAGE": "ar",
             "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _first_message(lines: list[str], name: str) -> list[str]:
    """The bot's lines right after ``name``'s first message."""
    start = next(i for i, line in enumerate(lines) if f"] {name}: " in line)
    after = []
    for line in lines[start + 1:]:
        if "] Majlis: " not in line:
            break
        after.append(line.split("] Majlis: ", 1)[1])
    return after


def test_a_slow_badge_write_does_not_move_the_badge_after_the_thanks(tmp_path: Path) -> None:
    file = f"sqlite+aiosqlite:///{tmp_path / 'story.db'}"
    plain = _replay(0.0, True, "memory", tmp_path)
    slow = _replay(DELAY, True, file, tmp_path)
    assert _first_message(plain, "سارة") == [
        "🏅 مبارك يا @سارة! نلت شارة «أولى الكلمات»!",
        "(شارة جديدة — سارة: أولى الكلمات)",
        "🙌 شكرًا على رسالتك الأولى يا سارة! الخطوة التالية: جرّب /help لترى ما يمكنك فعله هنا",
    ]
    assert slow == plain


def test_without_the_causal_chain_the_same_delay_reorders_the_story(tmp_path: Path) -> None:
    file = f"sqlite+aiosqlite:///{tmp_path / 'story.db'}"
    unordered = _replay(DELAY, False, file, tmp_path)
    assert _first_message(unordered, "سارة")[0].startswith("🙌 شكرًا على رسالتك الأولى")
