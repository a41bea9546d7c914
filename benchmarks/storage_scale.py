"""Storage at scale: leaderboards, forget_me and closing a poll on a big SQLite file.

Run: ``.venv/bin/python benchmarks/storage_scale.py [--members 100000] [--ledger 1000000]
[--outbox 100000] [--voters 50000] [--runs 5]``.

It builds a SQLite file with ``--ledger`` XP-ledger rows (``--members`` members, spread
over 60 days), ``--outbox`` sent outbox rows (most naming a member as recipient or
subject), every member's poll activity and one open poll with ``--voters`` ballots; then
starts the real App with every default plugin on the console platform and prints, each
beside its goal (from issue 14):

- cold ``/leaderboard`` (the first command: it opens the community, so it includes every
  plugin's state load) and warm ``/leaderboard`` week/month/all (median of ``--runs``),
  each checked against a ``GROUP BY`` over the ledger in SQL;
- ``forget_me`` for one member end to end (the kernel's privacy service, every plugin and
  the core tables), checked by scanning every text column of every table for the id;
- closing the poll: the longest write transaction while it closes (the write lock), and the
  whole close.

Timings are wall-clock on this machine; only figures of one run are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.adapters.console import Console  # noqa: E402
from bot.app import App  # noqa: E402
from bot.core import storage  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.events import CommandInvoked  # noqa: E402
from bot.core.refs import MemberRef  # noqa: E402
from bot.settings import Settings  # noqa: E402
from plugins.contributions.tables import profiles, xp_daily  # noqa: E402
from plugins.polls.rules import voter_key  # noqa: E402
from plugins.polls.tables import activity, ballots, polls  # noqa: E402

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAYS = 60
COMMUNITY = "console:local"
#: The member whose data is erased (active in the ledger, the outbox and the poll).
VICTIM = "m42"
GOALS = {"leaderboard": 50.0, "forget": 200.0, "lock": 100.0}
LINE = re.compile(r"^(\d+)\. (.+) — ([\d,٬]+) XP$")


def member_id(i: int) -> str:
    """The id of the i-th generated member."""
    return f"m{i}"


def make_app(path: Path, out: io.StringIO) -> tuple[App, Console]:
    """The real App with every default plugin on the console platform and a fixed clock."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{path}",
        disabled_by_default=[])
    console = Console(out=out)
    app = App(settings, clock=ManualClock(NOW), platforms=[console])
    return app, console


# -- building the database ---------------------------------------------------------------


async def build(path: Path, members: int, ledger: int, outbox_rows: int, voters: int,
                seed: int = 14) -> int:
    """Create the schema through the App's migrations, then fill it; the poll's id."""
    app, _ = make_app(path, io.StringIO())
    await app.start(connect=False)
    await app.stop()
    rng = random.Random(seed)
    today = NOW.date().toordinal()
    per_member, extra = divmod(ledger, members)
    with sqlite3.connect(path) as conn:
        rows: list[tuple[str, str, str, int]] = []
        for i in range(members):
            count = min(per_member + (i < extra), DAYS)
            days = rng.sample(range(DAYS), count)
            # uneven activity with many ties: XP in steps of 15
            weight = 1 + int(rng.paretovariate(1.5))
            for d in days:
                day = date.fromordinal(today - d).isoformat()
                rows.append((COMMUNITY, member_id(i), day, 15 * rng.randint(1, 3 * weight)))
            if len(rows) >= 200_000:
                conn.executemany(f"INSERT INTO {xp_daily.name} VALUES (?, ?, ?, ?)", rows)
                rows = []
        conn.executemany(f"INSERT INTO {xp_daily.name} VALUES (?, ?, ?, ?)", rows)
        conn.executemany(
            f"INSERT INTO {profiles.name} (community, member, name, karma, opt_out, active) "
            "VALUES (?, ?, ?, 0, ?, 0)",
            [(COMMUNITY, member_id(i), f"Member {i}", i % 97 == 0) for i in range(members)])
    app, _ = make_app(path, io.StringIO())
    await app.start(connect=False)
    db = app.kernel.db
    async with db.begin() as conn:
        await conn.execute(insert(storage.communities).values(
            key=COMMUNITY, platform="console", name="Majlis playground", created_at=NOW))
        await conn.execute(insert(storage.members), [
            {"community": COMMUNITY, "member": member_id(i), "name": f"Member {i}",
             "joined_at": NOW - timedelta(days=90), "last_seen": NOW}
            for i in range(members)])
        await conn.execute(insert(activity), [
            {"community": COMMUNITY, "member": member_id(i),
             "joined_at": NOW - timedelta(days=rng.randint(1, 400)),
             "last_seen": NOW - timedelta(days=rng.randint(0, 60)),
             "messages": rng.randint(1, 500)}
            for i in range(members)])
        batch: list[dict[str, Any]] = []
        subjects: list[dict[str, Any]] = []
        for n in range(1, outbox_rows + 1):
            who = member_id(42 if n % 50 == 1 else rng.randrange(members))
            # most rows name a member (and the outbox indexes whom it names, as it does)
            named = n % 5 != 0
            text = (f"🎉 [Member {who}](member:{who}) reached level 3!" if named
                    else f"Poll {n} is open")
            batch.append({
                "id": n, "community": COMMUNITY, "platform": "console",
                "action": {"kind": "send", "content": {"__content__": {"text": text}}},
                "member": who if named and n % 3 == 0 else None,
                "direct": named and n % 3 == 0,
                "status": "sent", "attempts": 1, "not_before": NOW, "created_at": NOW,
                "result": f"x{n}",
            })  # fmt: skip
            if named:
                subjects.append({"outbox_id": n, "member": who})
            if len(batch) == 10_000:
                await conn.execute(insert(storage.outbox), batch)
                if subjects:
                    await conn.execute(insert(storage.outbox_subjects), subjects)
                batch, subjects = [], []
        if batch:
            await conn.execute(insert(storage.outbox), batch)
        if subjects:
            await conn.execute(insert(storage.outbox_subjects), subjects)
        salt = "ab" * 32
        made = await conn.execute(insert(polls).values(
            community=COMMUNITY, channel="general", creator=VICTIM, question="Which day?",
            options=["Friday", "Saturday", "Sunday"], max_choices=1, anonymous=True,
            hidden=False, quorum=0, quorum_percent=10, eligible="all", salt=salt,
            opened_at=NOW - timedelta(days=1), deadline=NOW + timedelta(days=1)))
        key = made.inserted_primary_key
        assert key is not None
        poll_id = int(key[0])
        chosen = rng.sample(range(members), min(voters, members))
        if 42 not in chosen:
            chosen[0] = 42
        await conn.execute(insert(ballots), [
            {"poll": poll_id, "voter": voter_key(salt, member_id(i)), "option": i % 3,
             "at": NOW - timedelta(hours=1)} for i in chosen])
    await app.stop()
    return poll_id


# -- the checks --------------------------------------------------------------------------


def expected_top(path: Path, since: str | None) -> list[tuple[str, int]]:
    """The top ten by a GROUP BY over the ledger (opt-outs left out, ties by member id)."""
    where = "AND x.day >= ?" if since else ""
    args: tuple[Any, ...] = (COMMUNITY, since) if since else (COMMUNITY,)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            f"SELECT p.name, SUM(x.xp) AS s FROM {xp_daily.name} x "
            f"JOIN {profiles.name} p ON p.community = x.community AND p.member = x.member "
            f"WHERE x.community = ? {where} AND p.opt_out = 0 "
            "GROUP BY x.member HAVING s > 0 ORDER BY s DESC, x.member LIMIT 10", args)
        return [(name, int(total)) for name, total in rows]


def shown_top(text: str) -> list[tuple[str, int]]:
    """(name, XP) of every line of a leaderboard reply."""
    out = []
    for line in text.splitlines():
        found = LINE.match(line.strip())
        if found:
            out.append((found[2], int(re.sub(r"\D", "", found[3]))))
    return out


def rows_naming(path: Path, member: str) -> dict[str, int]:
    """Rows of every table where a text value is, or names, the member (a whole word)."""
    word = re.compile(rf"(?<![\w]){re.escape(member)}(?![\w])")
    found: dict[str, int] = {}
    with sqlite3.connect(path) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            columns = [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for (value,) in conn.execute(
                        f'SELECT "{column}" FROM "{table}" WHERE instr("{column}", ?) > 0',
                        (member,)):
                    if isinstance(value, str) and word.search(value):
                        found[f"{table}.{column}"] = found.get(f"{table}.{column}", 0) + 1
    return found


# -- measuring ---------------------------------------------------------------------------


class LockWatch:
    """Times every write transaction (``Database.begin``): SQLite's write lock is held then."""

    def __init__(self, db: storage.Database) -> None:
        self.held: list[float] = []
        original = db.begin

        @asynccontextmanager
        async def begin() -> AsyncIterator[Any]:
            async with original() as conn:
                started = time.perf_counter()
                try:
                    yield conn
                finally:
                    self.held.append(time.perf_counter() - started)

        db.begin = begin  # type: ignore[method-assign]


def timed(parts: dict[str, float], name: str, call: Any) -> Any:
    """``call``, adding the seconds each call takes to ``parts[name]``."""
    async def run(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call(*args)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - started
    return run


def time_parts(app: App) -> dict[str, float]:
    """Seconds each plugin's ``forget`` and the core tables' erasure take (filled later)."""
    parts: dict[str, float] = {}
    for name, plugin in app.plugins.items():
        plugin.forget = timed(parts, name, plugin.forget)  # type: ignore[method-assign]
    db = app.kernel.db
    db.forget_member = timed(  # type: ignore[method-assign]
        parts, "core tables", db.forget_member)
    return parts


async def command(app: App, console: Console, text: str, n: int) -> tuple[float, str]:
    """Seconds from a member's command to the reply printed by the platform, and the reply."""
    name, _, args = text.partition(" ")
    member = MemberRef("console", "m7", "Member 7")
    before = len(console.transcript)
    started = time.perf_counter()
    await app.dispatcher.dispatch(CommandInvoked(
        id=f"bench:{n}", community=console.community, member=member, channel=console.channel,
        name=name, text=args))
    await app.settle()
    took = time.perf_counter() - started
    return took, "\n".join(line.split(": ", 1)[-1] for line in console.transcript[before:])


def verdict(ms: float, goal: float) -> str:
    """The figure beside its goal."""
    return f"{ms:8.1f} ms  (goal <= {goal:.0f} ms: {'met' if ms <= goal else 'MISSED'})"


async def measure(path: Path, poll_id: int, runs: int) -> bool:
    """Run the four measurements and checks on a built file; whether every check passed."""
    out = io.StringIO()
    app, console = make_app(path, out)
    await app.start(connect=False)
    console.app = app
    ok = True
    watch = LockWatch(app.kernel.db)
    day = NOW.date()
    since = {"week": (day - timedelta(days=6)).isoformat(),
             "month": (day - timedelta(days=29)).isoformat(), "all": None}
    opened: dict[str, float] = {}
    for name, plugin in app.plugins.items():
        plugin.open = timed(opened, name, plugin.open)  # type: ignore[method-assign]
    took, text = await command(app, console, "leaderboard all", 0)
    same = shown_top(text) == expected_top(path, None)
    ok &= same
    print(f"cold /leaderboard all (opens the community): {took * 1e3:8.1f} ms  "
          f"(loads every plugin's state; top 10 = SQL GROUP BY: {'yes' if same else 'NO'})")
    print("  opening by plugin: " + ", ".join(
        f"{name} {ms * 1e3:.0f}" for name, ms in opened.items() if ms >= 0.0005) + " (ms)")
    n = 1
    for period in ("week", "month", "all"):
        times = []
        for _ in range(runs):
            took, text = await command(app, console, f"leaderboard {period}", n)
            n += 1
            times.append(took)
        same = shown_top(text) == expected_top(path, since[period])
        ok &= same and len(shown_top(text)) == 10
        print(f"warm /leaderboard {period:5} (median of {runs}): "
              f"{verdict(statistics.median(times) * 1e3, GOALS['leaderboard'])}  "
              f"first read {times[0] * 1e3:.1f} ms; top 10 = SQL GROUP BY: "
              f"{'yes' if same else 'NO'}")

    community = console.community
    plugin = app.plugins["polls"]
    watch.held.clear()
    started = time.perf_counter()
    closed = await plugin.close(community, poll_id)  # type: ignore[attr-defined]
    await app.settle()
    whole = time.perf_counter() - started
    lock = max(watch.held, default=0.0)
    ok &= bool(closed)
    print(f"close a poll, {len(plugin.activity.members(community.key)):,} members "  # type: ignore[attr-defined]
          f"(longest write transaction): {verdict(lock * 1e3, GOALS['lock'])}  "
          f"whole close {whole * 1e3:.0f} ms, {len(watch.held)} write transactions")

    await app.counters.flush()
    before = rows_naming(path, VICTIM)
    parts = time_parts(app)
    started = time.perf_counter()
    await app.forget_member(MemberRef("console", VICTIM, f"Member {VICTIM[1:]}"))
    took = time.perf_counter() - started
    await app.counters.flush()
    left = rows_naming(path, VICTIM)
    ok &= not left and bool(before)
    print(f"forget_me {VICTIM} ({sum(before.values()):,} rows named them): "
          f"{verdict(took * 1e3, GOALS['forget'])}  rows naming them after: "
          f"{left or 'none'}")
    print("  forget_me by part: " + ", ".join(
        f"{name} {ms * 1e3:.1f}" for name, ms in parts.items() if ms >= 0.0005) + " (ms)")
    took, text = await command(app, console, "leaderboard all", n)
    same = shown_top(text) == expected_top(path, None)
    ok &= same
    print(f"/leaderboard all after forget: {took * 1e3:.1f} ms, "
          f"= SQL GROUP BY: {'yes' if same else 'NO'}")
    await app.stop()
    return ok


async def run(args: argparse.Namespace) -> None:
    """Build, measure, print."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scale.db"
        started = time.perf_counter()
        poll_id = await build(path, args.members, args.ledger, args.outbox, args.voters)
        with sqlite3.connect(path) as conn:
            rows = conn.execute(f"SELECT count(*) FROM {xp_daily.name}").fetchone()[0]
        print(f"built {rows:,} ledger rows, {args.members:,} members, {args.outbox:,} outbox "
              f"rows, {args.voters:,} ballots in {time.perf_counter() - started:.0f} s")
        ok = await measure(path, poll_id, args.runs)
        print(f"checks: {'all passed' if ok else 'FAILED'}")
        if not ok:
            raise SystemExit(1)


def main() -> None:
    """Parse the sizes and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--outbox", type=int, default=100_000)
    parser.add_argument("--voters", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
