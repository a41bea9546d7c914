"""Due jobs run side by side on the real clock: a slow one holds up no other, and still
nothing fires twice, nothing is lost across a kill, an item's own runs never overlap."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock, SystemClock
from bot.core.migrate import core_source, upgrade
from bot.core.refs import CommunityRef
from bot.core.scheduler import LEASE, Misfire, Scheduler
from bot.core.storage import Database, ScheduledRow
from tests.conftest import ROOT

COMMUNITY = CommunityRef("console", "local")


def _run_late(plugin: str, job: str) -> Misfire:
    return Misfire.RUN_LATE


async def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}")
    await upgrade(db.engine, [core_source()])
    return db


async def _store(scheduler: Scheduler, key: str, at: datetime, rule: str | None = None) -> int:
    return await scheduler.schedule(plugin="t", job="j", community=COMMUNITY, at=at,
                                    rule=rule, timezone="UTC", key=key, data={})


def _key(item: ScheduledRow) -> str:
    return item.key.rsplit(":", 1)[1]


async def test_a_slow_job_does_not_delay_another_due_job(tmp_path: Path) -> None:
    """On the real clock a job that takes long is running while the next one comes due:
    the next fires on time, not after the slow one returned."""
    db = await _db(tmp_path)
    slow_may_end = asyncio.Event()
    fired: dict[str, float] = {}

    async def fire(item: ScheduledRow, occurrence: datetime) -> None:
        if _key(item) == "slow":
            await slow_may_end.wait()
        fired[_key(item)] = (datetime.now(UTC) - occurrence).total_seconds()

    scheduler = Scheduler(db, SystemClock(), fire, _run_late)
    try:
        now = datetime.now(UTC)
        await _store(scheduler, "slow", now)
        await _store(scheduler, "quick", now + timedelta(milliseconds=300))
        starting = asyncio.create_task(scheduler.start())  # fires "slow" now
        for _ in range(100):
            await asyncio.sleep(0.05)
            if "quick" in fired:
                break
        assert "slow" not in fired
        assert fired["quick"] < 1.0
        slow_may_end.set()
        await asyncio.wait_for(starting, 5)
        assert set(fired) == {"slow", "quick"}
    finally:
        await scheduler.stop()
        await db.close()


async def test_two_schedulers_racing_a_burst_fire_each_occurrence_once(tmp_path: Path) -> None:
    """Two processes on one database, both running many jobs at once: every claim of an
    occurrence but one loses, so each fires once, and none is left over."""
    db = await _db(tmp_path)
    other_db = Database(db.url)
    fired: Counter[str] = Counter()
    running: Counter[str] = Counter()
    overlaps: list[str] = []

    async def fire(item: ScheduledRow, occurrence: datetime) -> None:
        key = _key(item)
        running[key] += 1
        if running[key] > 1:
            overlaps.append(key)
        await asyncio.sleep(0.01)
        running[key] -= 1
        fired[key] += 1

    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    first = Scheduler(db, clock, fire, _run_late, in_flight=8)
    second = Scheduler(other_db, clock, fire, _run_late, in_flight=8)
    try:
        keys = [f"k{i}" for i in range(60)]
        for i, key in enumerate(keys):
            await _store(first, key, clock.now() + timedelta(milliseconds=i))
        clock.set(clock.now() + timedelta(seconds=1))
        counts = await asyncio.gather(first.run_due(), second.run_due(), first.run_due())
        assert sum(counts) == 60
        assert fired == Counter({key: 1 for key in keys})
        assert overlaps == []
        assert await first.run_due() == 0 and await second.run_due() == 0
    finally:
        await db.close()
        await other_db.close()


async def test_an_items_own_runs_never_overlap(tmp_path: Path) -> None:
    """A recurring item whose job takes longer than its period, on the real clock with
    other jobs running beside it: its next run starts only after the one running ended."""
    db = await _db(tmp_path)
    running: Counter[str] = Counter()
    overlaps: list[str] = []
    runs: Counter[str] = Counter()

    async def fire(item: ScheduledRow, occurrence: datetime) -> None:
        key = _key(item)
        running[key] += 1
        if running[key] > 1:
            overlaps.append(key)
        await asyncio.sleep(1.3 if key == "every-second" else 0.05)
        running[key] -= 1
        runs[key] += 1

    scheduler = Scheduler(db, SystemClock(), fire, _run_late)
    try:
        now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        await _store(scheduler, "every-second", now, rule="FREQ=SECONDLY")
        for i in range(20):
            await _store(scheduler, f"other{i}", now + timedelta(milliseconds=100 * i))
        await scheduler.start()
        await asyncio.sleep(3.5)
    finally:
        await scheduler.stop()
        await db.close()
    assert overlaps == []
    assert runs["every-second"] >= 2
    assert all(runs[f"other{i}"] == 1 for i in range(20))


async def test_stopping_mid_burst_finishes_what_runs_and_gives_back_the_rest(
    tmp_path: Path,
) -> None:
    """Stopping while the alarm's jobs run (real clock): they finish and are recorded
    (APScheduler's shutdown does not cancel them), those not started yet are given back,
    and the next start runs those once."""
    db = await _db(tmp_path)
    started: list[str] = []
    finished: list[str] = []
    go = asyncio.Event()

    async def fire(item: ScheduledRow, occurrence: datetime) -> None:
        started.append(_key(item))
        await go.wait()
        finished.append(_key(item))

    scheduler = Scheduler(db, SystemClock(), fire, _run_late, in_flight=2)
    items: dict[str, int] = {}
    try:
        await scheduler.start()
        due = datetime.now(UTC) + timedelta(milliseconds=300)  # fired by the alarm
        for i in range(6):
            items[f"k{i}"] = await _store(scheduler, f"k{i}", due + timedelta(milliseconds=i))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(started) == 2:
                break
        assert started == ["k0", "k1"]
        stopping = asyncio.create_task(scheduler.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # it waits for the two running
        go.set()
        await asyncio.wait_for(stopping, 5)
        assert finished == ["k0", "k1"]
        for key, item in items.items():
            outcomes = [outcome for _, outcome in await db.job_runs_of(item)]
            assert outcomes == (["fired"] if key in ("k0", "k1") else [])

        again = Scheduler(db, ManualClock(datetime.now(UTC)), fire, _run_late)
        assert await again.run_due() == 4
        assert sorted(finished) == [f"k{i}" for i in range(6)]
    finally:
        await db.close()


CHILD = textwrap.dedent("""
    import asyncio, os, sys
    from datetime import datetime
    from bot.core.clock import SystemClock
    from bot.core.scheduler import Misfire, Scheduler
    from bot.core.storage import Database

    async def main(url, log):
        db = Database(url)
        out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

        async def fire(item, occurrence):
            key = item.key.rsplit(":", 1)[1]
            os.write(out, f"start {key}\\n".encode())
            await asyncio.sleep(0.03)
            os.write(out, f"done {key}\\n".encode())

        scheduler = Scheduler(db, SystemClock(), fire, lambda p, j: Misfire.RUN_LATE)
        await scheduler.start()
        await asyncio.sleep(60)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


# the child process opens the SQLite file itself
@pytest.mark.sqlite_only
async def test_a_kill_mid_burst_loses_nothing_and_repeats_nothing_recorded(
    tmp_path: Path,
) -> None:
    """A process firing a burst (several jobs at once) is killed (SIGKILL) halfway: what
    it recorded never fires again; everything else fires once after the leases ran out,
    so no occurrence is lost."""
    db = await _db(tmp_path)
    log = tmp_path / "fired.log"
    plain = Scheduler(db, ManualClock(datetime.now(UTC)), _noop, _run_late)
    due = datetime.now(UTC) + timedelta(seconds=2)
    items = {f"k{i}": await _store(plain, f"k{i}", due + timedelta(milliseconds=20 * i))
             for i in range(200)}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, db.url,
                                                 str(log), env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            lines = log.read_text().splitlines() if log.exists() else []
            if sum(line.startswith("done") for line in lines) >= 40:
                break
    finally:
        child.send_signal(signal.SIGKILL)  # killed where it stands, mid-burst
        await asyncio.wait_for(child.wait(), 10)
    lines = log.read_text().splitlines()
    done = {line.split()[1] for line in lines if line.startswith("done")}
    assert 40 <= len(done) < 200  # killed mid-burst
    recorded = {key for key, item in items.items()
                if [o for _, o in await db.job_runs_of(item)] == ["fired"]}
    assert recorded <= done  # recorded only once its job returned

    fired: list[str] = []

    async def fire(item: ScheduledRow, occurrence: datetime) -> None:
        fired.append(_key(item))

    later = Scheduler(db, ManualClock(datetime.now(UTC) + LEASE + timedelta(seconds=1)),
                      fire, _run_late)
    try:
        assert await later.run_due() == len(fired)
        assert await later.run_due() == 0
        assert not recorded & set(fired)  # nothing recorded fires twice
        assert len(fired) == len(set(fired))
        assert recorded | set(fired) == set(items)  # nothing lost
        # at most the jobs in flight or awaiting their group's record ran twice
        assert len(done & set(fired)) <= 8 + 50
    finally:
        await db.close()


async def _noop(item: ScheduledRow, occurrence: datetime) -> None:
    return None
