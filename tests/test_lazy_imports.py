"""A bot that draws no picture never loads the picture libraries (they weigh ~40 MiB)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# Run in a fresh interpreter: this test process has imported the libraries already.
SCRIPT = """
import asyncio, io, sys

from bot.adapters.console import Console
from bot.app import App
from bot.core.clock import ManualClock
from bot.loader import discover
from bot.settings import Settings


async def main() -> None:
    found, failures = discover(None)
    assert not failures, failures
    plugins = [f.cls for f in found if f.origin.startswith("plugins.")]
    console = Console(out=io.StringIO())
    settings = Settings(_env_file=None, database_url="sqlite+aiosqlite://",
                        disabled_by_default=[])
    app = App(settings, clock=ManualClock(), platforms=[console], plugins=plugins)
    await app.start()
    await console.run_lines([":as sara", "hello everyone, it is sara",
                             "thanks for the warm welcome"])
    await app.stop()
    print(sorted(app.plugins))
    print(" ".join(m for m in ("matplotlib", "numpy", "PIL", "arabic_reshaper", "bidi")
                   if m in sys.modules) or "none")


asyncio.run(main())
"""


def test_starting_every_default_plugin_and_chatting_loads_no_picture_library() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={"PATH": "", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    plugins, loaded = result.stdout.strip().splitlines()[-2:]
    for name in ("contributions", "onboarding", "polls"):
        assert name in plugins
    assert loaded == "none"
