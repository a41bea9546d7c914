"""The schedule lives in the database: nothing lost or fired twice across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import Context, Misfire, Plugin, job
from bot.core.clock import ManualClock
from bot.core.refs import CommunityRef
from bot.core.scheduler import next_occurrence
from tests.conftest import WorldFactory

FIRED: list[tuple[str, str]] = []


class Ticker(Plugin):
    name = "ticker"

    @job("tick")
    async def tick(self, ctx: Context, data: dict[str, Any]) -> None:
        FIRED.append(("tick", data["_occurrence"]))

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
