"""The schedule lives in the database: nothing lost or fired twice across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import Context, Misfire, Plugin, job
from bot.core import migrate
from bot.core.clock import ManualClock
from bot.core.migrate import core_source, upgrade
from bot.core.refs import CommunityRef
from bot.core.scheduler import LEASE, Scheduler, next_occurrence
from bot.core.storage import Database, ScheduledRow, job_runs, scheduled
from tests.conftest import WorldFactory

FIRED: list[tuple[str, str]] = []
#: Names whose job kills the process the next time it runs.
KILL: set[str] = set()
#: Awaited inside a firing, while the job runs (the test looks at the database then).
DURING: list[Callable[[], Awaitable[None]]] = []


class Killed(BaseException):
    """The process dies where it stands (SIGKILL): nothing after this line runs."""


class Ticker(Plugin):
    name = "ticker"

    @job("tick")
    async def tick(self, ctx: Context, data: dict[str, Any]) -> None:
        name = data.get("name", "tick")
        if name in KILL:
            KILL.discard(name)
            raise Killed
        for hook in DURING:
            await hook()
        FIRED.append((name, data["_occurrence"]))

    @job("strict", misfire=Misfire.SKIP)
    async def strict(self, ctx: Context, data: dict[str, Any]) -> None:
        FIRED.append(("strict", data["_occurrence"]))


def test_weekly_rule_keeps_wall_clock_time_across_dst() -> None:
    anchor = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)  # 09:00 in Berlin (CET)
    after_dst = next_occurrence("FREQ=WEEKLY;BYHOUR=9;BYMINUTE=0", "Europe/Berlin", anchor,
                                anchor + timedelta(days=1))
    assert after_dst == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    later = next_occurrence("FREQ=WEEKLY;BYHOUR=9;BYMINUTE=0", "Europe/Berlin", anchor, after_dst)
    assert later == datetime(2026, 4, 3, 7, 0, tzinfo=UTC)  # 09:00 CEST


def test_cron_rules_in_a_timezone() -> None:
    anchor = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    found = next_occurrence("cron:0 9 * * 1", "Asia/Riyadh", anchor, anchor)
    assert found == datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


async def test_restart_neither_loses_nor_repeats(world_factory: WorldFactory,
                                                 tmp_path: Path) -> None:
    FIRED.clear()
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    world = await world_factory([Ticker], database_url=url, clock=ManualClock(start))
    plugin = world.app.plugins["ticker"]
    community = CommunityRef("console", "local")
    await plugin.schedule("tick", community, at=start + timedelta(hours=1), key="once")
    await plugin.schedule("tick", community, rule="FREQ=DAILY;BYHOUR=12;BYMINUTE=0",
                          key="daily", timezone="UTC")
    await plugin.schedule("strict", community, at=start + timedelta(hours=2), key="strict")
    await world.app.scheduler.advance(timedelta(hours=3, minutes=30))
    assert [f[0] for f in FIRED] == ["tick", "strict", "tick"]
    await world.app.stop()

    # Restart at the same moment: nothing fires again.
    again = await world_factory([Ticker], database_url=url,
                                clock=ManualClock(start + timedelta(hours=3, minutes=30)))
    await again.app.scheduler.run_due()
    assert len(FIRED) == 3
    await again.app.stop()

    # Down for three days: the daily job runs once late (not three times), then carries on.
    later = await world_factory([Ticker], database_url=url,
                                clock=ManualClock(start + timedelta(days=3, hours=4)))
    assert [f[0] for f in FIRED] == ["tick", "strict", "tick", "tick"]
    await later.app.scheduler.advance(timedelta(days=1))
    assert len(FIRED) == 5


async def test_missed_skip_jobs_are_skipped_after_downtime(world_factory: WorldFactory,
                                                           tmp_path: Path) -> None:
    FIRED.clear()
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    world = await world_factory([Ticker], database_url=url, clock=ManualClock(start))
    await world.app.plugins["ticker"].schedule(
        "strict", CommunityRef("console", "local"), at=start + timedelta(minutes=5), key="x"
    )
    await world.app.stop()
    await world_factory([Ticker], database_url=url, clock=ManualClock(start + timedelta(hours=1)))
    assert FIRED == []


async def test_advance_stops_when_a_firing_cannot_be_recorded(
    world_factory: WorldFactory,
) -> None:
    """A due item that does not move on (its firing could not be stored) ends ``advance``
    with the clock at its target instead of looping for ever."""
    FIRED.clear()
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    world = await world_factory([Ticker], clock=ManualClock(start))
    scheduler = world.app.scheduler
    await world.app.plugins["ticker"].schedule(
        "tick", CommunityRef("console", "local"), at=start + timedelta(hours=1), key="stuck")

    async def not_recorded(item: Any, now: datetime) -> int:
        return 0

    scheduler._run = not_recorded  # type: ignore[method-assign]
    assert await scheduler.advance(timedelta(hours=2)) == 0
    assert world.clock.now() == start + timedelta(hours=2)


def _names() -> list[str]:
    return [name for name, _ in FIRED]


async def test_a_firing_killed_mid_batch_runs_once_after_the_restart(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    """Killed after the batch was claimed, on its second job: the first stays done, the
    other two fire once at the restart after their lease ran out, not before."""
    FIRED.clear()
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    due = start + timedelta(hours=1)
    world = await world_factory([Ticker], database_url=url, clock=ManualClock(start))
    community = CommunityRef("console", "local")
    for name in ("a", "b", "c"):
        await world.app.plugins["ticker"].schedule("tick", community, at=due, key=name,
                                                   data={"name": name})
    KILL.add("b")
    world.clock.set(due)
    with pytest.raises(Killed):
        await world.app.scheduler.run_due()
    assert _names() == ["a"]
    await world.app.kernel.db.close()  # the process is gone: nothing else of it runs

    # Back a minute later: the lease still holds (the dead firing might be alive).
    soon = await world_factory([Ticker], database_url=url,
                               clock=ManualClock(due + timedelta(minutes=1)))
    assert _names() == ["a"]
    await soon.app.stop()

    # Back after the lease: b and c fire, once each; a does not fire again.
    later = await world_factory([Ticker], database_url=url,
                                clock=ManualClock(due + LEASE + timedelta(seconds=1)))
    assert sorted(_names()) == ["a", "b", "c"]
    assert await later.app.scheduler.run_due() == 0
    await later.app.scheduler.advance(timedelta(days=2))
    assert sorted(_names()) == ["a", "b", "c"]


async def test_a_firing_is_recorded_only_once_its_job_returned(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    """While the job runs its occurrence is leased, still the item's next run; once it
    returned it is recorded and the item moves on, and a restart does not fire it again."""
    FIRED.clear()
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    ten = start + timedelta(hours=1)
    world = await world_factory([Ticker], database_url=url, clock=ManualClock(start))
    item = await world.app.plugins["ticker"].schedule(
        "tick", CommunityRef("console", "local"), rule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0",
        timezone="UTC", key="daily")
    db = world.app.kernel.db
    seen: list[Any] = []

    async def look() -> None:
        row = await db.scheduled_item(item)
        assert row is not None
        seen.append((await db.job_runs_of(item), row.next_run_at))

    DURING.append(look)
    try:
        assert await world.app.scheduler.advance(timedelta(hours=2)) == 1
    finally:
        DURING.clear()
    assert seen == [([(ten, "running")], ten)]
    assert await db.job_runs_of(item) == [(ten, "fired")]
    row = await db.scheduled_item(item)
    assert row is not None and row.next_run_at == ten + timedelta(days=1)
    await world.app.stop()

    again = await world_factory([Ticker], database_url=url,
                                clock=ManualClock(ten + LEASE + timedelta(minutes=5)))
    assert await again.app.scheduler.run_due() == 0
    assert len(FIRED) == 1


async def test_two_schedulers_never_both_fire_an_occurrence(tmp_path: Path) -> None:
    """Two processes on one database: while one holds an occurrence's lease the other
    cannot claim it; racing, each occurrence fires once; when the holder dies, the other
    takes the rest over after the lease, once."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    first_db, second_db = Database(url), Database(url)
    await upgrade(first_db.engine, [core_source()])
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    fired: list[tuple[str, str]] = []
    schedulers: dict[str, Scheduler] = {}
    kill_at: set[str] = set()
    interleave: set[str] = set()

    def firing(name: str) -> Callable[[ScheduledRow, datetime], Awaitable[None]]:
        async def fire(item: ScheduledRow, occurrence: datetime) -> None:
            key = item.key.rsplit(":", 1)[1]
            if key in kill_at:
                raise Killed
            if key in interleave:  # the other process polls while this job runs
                await schedulers["second" if name == "first" else "first"].run_due()
            await asyncio.sleep(0)
            fired.append((name, key))
        return fire

    clocks = {name: ManualClock(start) for name in ("first", "second")}
    for name, db in (("first", first_db), ("second", second_db)):
        schedulers[name] = Scheduler(db, clocks[name], firing(name),
                                     lambda plugin, job: Misfire.RUN_LATE)
    community = CommunityRef("console", "local")
    first, second = schedulers["first"], schedulers["second"]

    async def store(keys: list[str], at: datetime) -> None:
        for key in keys:
            await first.schedule(plugin="t", job="j", community=community, at=at, rule=None,
                                 timezone="UTC", key=key, data={})

    try:
        # The second polls in the middle of the first's batch: it finds nothing to claim.
        await store([f"p{i}" for i in range(5)], start)
        interleave.add("p1")
        assert await first.run_due() == 5
        assert sorted(fired) == [("first", f"p{i}") for i in range(5)]

        # Both poll at once: every occurrence fires once, by one of them.
        fired.clear()
        racing = [f"r{i}" for i in range(30)]
        await store(racing, start)
        await asyncio.gather(first.run_due(), second.run_due())
        assert sorted(key for _, key in fired) == sorted(racing)

        # The first dies in the middle of a batch; the second waits for the lease to end.
        fired.clear()
        due = start + timedelta(hours=1)
        await store(["k0", "k1", "k2"], due)
        kill_at.add("k1")
        clocks["first"].set(due)
        with pytest.raises(Killed):
            await first.run_due()
        clocks["second"].set(due + timedelta(seconds=30))
        assert await second.run_due() == 0
        clocks["second"].set(due + LEASE + timedelta(seconds=1))
        kill_at.clear()
        assert await second.run_due() == 2
        assert await second.run_due() == 0
        assert fired == [("first", "k0"), ("second", "k1"), ("second", "k2")]
    finally:
        await first_db.close()
        await second_db.close()


SPAWNED: list[str] = []
GATE: list[asyncio.Event] = []


class Slow(Plugin):
    name = "slow"

    @job("slow")
    async def slow(self, ctx: Context, data: dict[str, Any]) -> None:
        started, go = GATE
        started.set()
        await go.wait()
        FIRED.append((data["name"], data["_occurrence"]))

        async def later() -> None:
            await asyncio.sleep(0.05)
            SPAWNED.append(data["name"])

        ctx.spawn(later())


async def test_stopping_waits_for_the_firing_in_progress_and_what_it_started(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    """Stopping mid-firing: the job finishes, the work it spawned too, before the bot is
    down; the rest of the batch is not started then, and runs at the next start."""
    FIRED.clear()
    SPAWNED.clear()
    started, go = asyncio.Event(), asyncio.Event()
    GATE[:] = [started, go]
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    due = start + timedelta(hours=1)
    world = await world_factory([Slow], database_url=url, clock=ManualClock(start))
    for name in ("a", "b", "c"):
        await world.app.plugins["slow"].schedule("slow", CommunityRef("console", "local"),
                                                 at=due, key=name, data={"name": name})
    world.clock.set(due)
    firing = asyncio.create_task(world.app.scheduler.run_due())
    await asyncio.wait_for(started.wait(), 5)
    stopping = asyncio.create_task(world.app.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # a is still running
    go.set()
    await asyncio.wait_for(stopping, 10)
    assert _names() == ["a"]
    assert SPAWNED == ["a"]
    assert await asyncio.wait_for(firing, 1) == 1

    # At the next start (a minute later, long before any lease ends) b and c run, a not.
    await world_factory([Slow], database_url=url,
                        clock=ManualClock(due + timedelta(minutes=1)))
    assert sorted(_names()) == ["a", "b", "c"]


async def test_a_backlog_fires_each_occurrence_once_and_records_it(tmp_path: Path) -> None:
    """Back after an outage with more due than one write per firing keeps up with: the
    firings are recorded in groups, each once, and none runs again."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}")
    await upgrade(db.engine, [core_source()])
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    fired: list[str] = []

    async def fire(item: ScheduledRow, occurrence: datetime) -> None:
        fired.append(item.key)

    clock = ManualClock(start)
    scheduler = Scheduler(db, clock, fire, lambda plugin, job: Misfire.RUN_LATE)
    try:
        items = [await scheduler.schedule(
            plugin="t", job="j", community=CommunityRef("console", "local"),
            at=start + timedelta(seconds=i), rule=None, timezone="UTC", key=f"k{i}", data={})
            for i in range(120)]
        clock.set(start + timedelta(hours=1))
        assert await scheduler.run_due() == 120
        assert len(set(fired)) == 120
        assert await scheduler.run_due() == 0
        for item in items:
            assert [outcome for _, outcome in await db.job_runs_of(item)] == ["fired"]
    finally:
        await db.close()


def _upgrade_to(conn: Any, revision: str) -> None:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext

    script = migrate._script([core_source()])

    def steps(rev: Any, context: Any) -> Any:
        return script._upgrade_revs(revision, rev)

    with EnvironmentContext(Config(), script, fn=steps, destination_rev=revision) as env:
        env.configure(connection=conn, render_as_batch=True)
        with env.begin_transaction():
            env.run_migrations()


async def test_a_database_from_before_leases_upgrades_and_keeps_its_record(
    tmp_path: Path,
) -> None:
    """A database whose job runs have no lease columns yet: upgraded at start, what it
    recorded as fired does not fire again, and the next occurrence fires."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}")
    nine = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    ten = nine + timedelta(hours=1)
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade_to, "9d9dda67b74d")  # the core before leases
        # an hourly item the old code fired at 9:00 and moved on to 10:00
        await conn.execute(scheduled.insert().values(
            id=1, key="t:j:console:local:hourly", plugin="t", job="j",
            community="console:local", data={"_anchor": nine.isoformat()},
            next_run_at=ten, rule="FREQ=HOURLY", timezone="UTC", status="active",
            last_fired_at=nine))
        await conn.execute(job_runs.insert().values(item=1, occurrence=nine, fired_at=nine,
                                                    outcome="fired"))
    await upgrade(db.engine, [core_source()])
    fired: list[datetime] = []

    async def fire(item: ScheduledRow, occurrence: datetime) -> None:
        fired.append(occurrence)

    clock = ManualClock(ten)
    scheduler = Scheduler(db, clock, fire, lambda plugin, job: Misfire.RUN_LATE)
    try:
        assert await scheduler.run_due() == 1
        assert await scheduler.run_due() == 0
        assert fired == [ten]
        assert await db.job_runs_of(1) == [(nine, "fired"), (ten, "fired")]
        row = await db.scheduled_item(1)
        assert row is not None and row.next_run_at == ten + timedelta(hours=1)
    finally:
        await db.close()


async def test_a_long_firing_keeps_its_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    """A job that runs longer than the lease: its scheduler renews the lease meanwhile,
    so another process does not take the occurrence over while it is alive."""
    monkeypatch.setattr("bot.core.scheduler.RENEW_SECONDS", 0.01)
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    first_db, second_db = Database(url), Database(url)
    await upgrade(first_db.engine, [core_source()])
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    clock, other_clock = ManualClock(start), ManualClock(start)
    running, finish = asyncio.Event(), asyncio.Event()
    fired: list[str] = []

    async def slow(item: ScheduledRow, occurrence: datetime) -> None:
        running.set()
        await finish.wait()
        fired.append("first")

    async def other(item: ScheduledRow, occurrence: datetime) -> None:
        fired.append("second")

    first = Scheduler(first_db, clock, slow, lambda plugin, job: Misfire.RUN_LATE)
    second = Scheduler(second_db, other_clock, other, lambda plugin, job: Misfire.RUN_LATE)
    try:
        await first.schedule(plugin="t", job="j", community=CommunityRef("console", "local"),
                             at=start, rule=None, timezone="UTC", key="long", data={})
        firing = asyncio.create_task(first.run_due())
        await asyncio.wait_for(running.wait(), 5)
        for minutes in (1, 2, 3, 4):  # time passes while the job runs, past the lease
            clock.set(start + timedelta(minutes=minutes))
            other_clock.set(start + timedelta(minutes=minutes))
            await asyncio.sleep(0.1)  # the first renews
            assert await second.run_due() == 0
        finish.set()
        assert await asyncio.wait_for(firing, 5) == 1
        other_clock.set(start + timedelta(hours=1))
        assert await second.run_due() == 0
        assert fired == ["first"]
    finally:
        await first_db.close()
        await second_db.close()
