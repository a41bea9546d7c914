"""The command line: SIGTERM and SIGINT stop the bot cleanly, with its data written."""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: A bound so a broken stop fails the test instead of hanging it (not a timing check).
GUARD = 60


def _lines(stream: object, into: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)
    into.put(None)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_bot_cleanly_and_its_xp_is_written(
    sig: signal.Signals, tmp_path: Path
) -> None:
    database = tmp_path / "majlis.db"
    bot = subprocess.Popen(
        [sys.executable, "run.py", "console", "--log-stderr", "--database",
         f"sqlite+aiosqlite:///{database}"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={"PATH": "", "PYTHONUNBUFFERED": "1"},
    )
    out: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(bot.stdout, out), daemon=True).start()
    try:
        assert bot.stdin is not None
        # stdin stays open: only the signal can end this session.
        bot.stdin.write(":as sara\nhello everyone, this is sara speaking\n")
        bot.stdin.flush()
        seen: list[str] = []
        while not any("earned the badge “First words”" in line for line in seen):
            line = out.get(timeout=GUARD)
            assert line is not None, "".join(seen)
            seen.append(line)
        # The XP of that message sits in memory until the next flush, or app.stop().
        bot.send_signal(sig)
        code = bot.wait(timeout=GUARD)
        errors = bot.stderr.read() if bot.stderr else ""
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    assert code == 0, errors
    assert "Traceback" not in errors
    assert "stopping on a signal" in errors
    with sqlite3.connect(database) as conn:
        xp = conn.execute(
            "SELECT SUM(xp) FROM contributions_xp_daily WHERE member = 'sara'"
        ).fetchone()[0]
    conn.close()
    assert xp == 15


def _session_on_a_terminal(tmp_path: Path, typed: bytes, end: str) -> tuple[int, str]:
    """Run the playground on a pseudo-terminal in ``tmp_path``; ``end`` is "eof" or "sigint"."""
    import os
    import pty
    import select
    import termios

    primary, secondary = pty.openpty()
    database = tmp_path / "majlis.db"
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "console", "--database",
         f"sqlite+aiosqlite:///{database}"],
        cwd=tmp_path, stdin=secondary, stdout=secondary, stderr=secondary,
        env={"PATH": "", "PYTHONPATH": str(ROOT), "TERM": "dumb"},
    )
    os.close(secondary)
    seen = b""

    def read_until(marker: bytes, after: bytes = b"") -> None:
        """Read until ``marker`` shows after the first ``after`` on the screen."""
        nonlocal seen
        while marker not in seen[seen.find(after) + len(after):] or after not in seen:
            ready, _, _ = select.select([primary], [], [], GUARD)
            assert ready, seen.decode("utf-8", "replace")
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                chunk = b""
            assert chunk, seen.decode("utf-8", "replace")
            seen += chunk

    def wait_for_line_editing() -> None:
        """Wait until readline has the terminal in its editing mode (canonical input off).

        readline prints the prompt, then switches the terminal's mode; a ^D typed in
        between would be taken by the line discipline of the old mode. The terminal's
        mode is the readiness signal (a pseudo-terminal's two sides share it).
        """
        deadline = time.monotonic() + GUARD
        while termios.tcgetattr(primary)[3] & termios.ICANON:
            assert time.monotonic() < deadline, seen.decode("utf-8", "replace")
            time.sleep(0.01)

    try:
        read_until(b"owner> ")
        wait_for_line_editing()
        os.write(primary, typed)
        # the prompt again, after the directives' list: the next line is asked for
        read_until(b"owner> ", after=b"a comment, ignored")
        wait_for_line_editing()
        if end == "eof":
            os.write(primary, b"\x04")
        else:
            bot.send_signal(signal.SIGINT)
        # read to the end while it stops: a terminal nobody reads would hold its last words
        while select.select([primary], [], [], GUARD)[0]:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the other side closed: the bot is gone
                break
            if not chunk:
                break
            seen += chunk
        code = bot.wait(timeout=GUARD)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
        os.close(primary)
    return code, seen.decode("utf-8", "replace")


@pytest.mark.parametrize("end", ["eof", "sigint"])
def test_the_playground_on_a_terminal_ends_cleanly_and_keeps_its_history(
    end: str, tmp_path: Path
) -> None:
    code, screen = _session_on_a_terminal(tmp_path, b":help\r", end)
    assert code == 0, screen
    assert "Traceback" not in screen
    assert ":advance DURATION" in screen
    assert (tmp_path / "data" / "console_history").read_text().splitlines()[-1] == ":help"
    assert (tmp_path / "data" / "majlis.log").is_file()
