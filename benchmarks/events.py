"""Events at scale: 10,000 recurring events stored, start-up rebuild, next occurrences, lateness.

A previous run of the bot left 10,000 live weekly events in the database (each with its one
scheduled step, as the plugin stores it), ``--due`` of them with a reminder due a few
seconds after start-up and a member going (each its own member, unless ``--one-member``:
then one member is going to all of them, and the outbox's order per member, each DM
committed before the next to the same member, bounds how fast they go). The benchmark
starts the whole app (migrations check, plugins, the scheduler's rebuild) on the real clock,
then measures:

- start-up: ``App.start()`` until the scheduler is armed (goal <= 2 s);
- the next occurrence of all 10,000 events (the plugin's recurrence code; goal <= 0.5 s),
  beside dateutil's rrule doing the same from parsed rules;
- how late each due reminder's job starts and its DM is handed to the platform, against its
  due time (goal p99 <= 1 s).

    python benchmarks/events.py [--events 10000] [--due 300] [--spread 30] [--burst]
                                [--one-member]

``--burst`` is 30 reminders due a second for 20 s (600 within 20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from bot.adapters.console import Console
from bot.app import App
from bot.core.actions import SendMessage
from bot.core.clock import SystemClock
from bot.core.refs import CommunityRef
from bot.core.storage import scheduled
from bot.settings import Settings
from plugins.events import Events
from plugins.events.recurrence import Recurrence, next_occurrences_bulk
from plugins.events.tables import events, series_rsvps
from plugins.events.timeline import next_step

ZONES = ("Europe/Berlin", "Asia/Riyadh", "America/New_York", "UTC")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def settings(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url,  # type: ignore[call-arg]
                    disabled_by_default=[], plugins=["events"])


def app_of(url: str, out: io.StringIO) -> tuple[App, Console]:
    console = Console(owner="owner", out=out)
    return App(settings(url), clock=SystemClock(), platforms=[console],
               plugins=[Events]), console


async def store(url: str, count: int, due: int, spread: float, one_member: bool
                ) -> datetime:
    """Fill the database as a previous run would have; the time the first reminder is due."""
    app, _ = app_of(url, io.StringIO())
    await app.start()
    community = CommunityRef("console", "local")
    now = datetime.now(UTC).replace(microsecond=0)
    first_due = now + timedelta(seconds=15 + count / 1000)  # after storing and start-up
    rows, items, answers = [], [], []
    for i in range(count):
        zone = ZONES[i % len(ZONES)]
        if i < due:  # a 1 h reminder due between first_due and first_due + spread
            start = first_due + timedelta(hours=1, seconds=spread * i / due)
        else:
            start = now + timedelta(days=2 + i % 5, minutes=i % 600)
        start = start.astimezone(ZoneInfo(zone))
        rule = f"FREQ=WEEKLY;BYDAY={DAYS[start.weekday()]}"
        rows.append({"id": i + 1, "community": community.key, "channel": "general",
                     "creator": "owner", "title": f"Event {i}", "description": "",
                     "place": "Room", "capacity": 0, "first_start": start, "rule": rule,
                     "first_wall": start.replace(tzinfo=None).isoformat(),
                     "timezone": zone, "duration": 3600, "status": "live", "message": None,
                     "sequence": 0, "created_at": now})
        rec = Recurrence(start, rule, zone)
        step = next_step(rec, now, timedelta(hours=1), [timedelta(hours=24), timedelta(hours=1)])
        assert step is not None
        items.append({"key": f"events:tick:{community.key}:event:{i + 1}", "plugin": "events",
                      "job": "tick", "community": community.key, "data": step.data(i + 1),
                      "rule": None, "timezone": "UTC", "status": "active",
                      "next_run_at": step.at})
        if i < due:
            member = "sara" if one_member else f"member{i}"
            answers.append({"event": i + 1, "member": member, "community": community.key,
                            "name": member, "status": "going", "since": start, "at": now})
    db = app.db
    await db.insert_ignore(events, rows)
    await db.insert_ignore(series_rsvps, answers)
    await db.insert_ignore(scheduled, items)
    await app.stop()
    return first_due


async def main(count: int, due: int, spread: float, one_member: bool = False) -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'events.db'}"
    t0 = time.perf_counter()
    first_due = await store(url, count, due, spread, one_member)
    print(f"stored {count} weekly events (with their scheduled steps) in "
          f"{time.perf_counter() - t0:.1f} s")

    started: list[float] = []
    delivered: list[float] = []
    done = asyncio.Event()
    app, console = app_of(url, io.StringIO())
    plugin_tick = Events.tick

    async def timed_tick(self: Events, ctx: Any, data: dict[str, Any]) -> None:
        started.append((datetime.now(UTC) - datetime.fromisoformat(data["at"])).total_seconds())
        await plugin_tick(self, ctx, data)

    Events.tick = timed_tick  # type: ignore[method-assign]
    console_deliver = console.deliver

    async def timed_deliver(action: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(action, SendMessage) and action.member is not None:
            text = str(action.content.text)
            if "Reminder" in text:
                number = int(text.split("Event ")[1].split(" ")[0])
                at = first_due + timedelta(seconds=spread * number / due)
                delivered.append((datetime.now(UTC) - at).total_seconds())
                if len(delivered) == due:
                    done.set()
        return await console_deliver(action, *args, **kwargs)

    console.deliver = timed_deliver  # type: ignore[method-assign]
    t1 = time.perf_counter()
    await app.start()
    startup = time.perf_counter() - t1
    plugin = app.plugins["events"]
    assert isinstance(plugin, Events)

    rows = await plugin.store.live("console:local")
    recs = [Recurrence(r.first_start, r.rule, r.timezone) for r in rows]
    now = datetime.now(UTC)
    t2 = time.perf_counter()
    ours = next_occurrences_bulk(recs, now)
    bulk = time.perf_counter() - t2
    t3 = time.perf_counter()
    peer = []
    for rec in recs:
        local = rec.first_start.replace(tzinfo=None)
        rule = rrulestr(rec.rule or "", dtstart=local)
        peer.append(rule.after(now.astimezone(rec.first_start.tzinfo).replace(tzinfo=None)))
    naive = time.perf_counter() - t3
    assert sum(o is not None for o in ours) == len(recs)

    wait = (first_due - datetime.now(UTC)).total_seconds() + spread + 30
    try:
        await asyncio.wait_for(done.wait(), timeout=max(wait, 5))
    except TimeoutError:
        print(f"timed out: {len(delivered)} of {due} reminders delivered")
    await app.stop()
    Events.tick = plugin_tick  # type: ignore[method-assign]

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[max(0, int(len(ordered) * q) - 1)] if ordered else float("nan")

    print(f"start-up with {count} events scheduled: {startup * 1000:.0f} ms (goal <= 2000 ms)")
    print(f"next occurrence of all {len(recs)}: {bulk * 1000:.0f} ms (goal <= 500 ms); "
          f"dateutil rrule per event: {naive * 1000:.0f} ms (ratio {naive / bulk:.1f}x)")
    print(f"burst: {due} reminders due within {spread:.0f} s ({due / spread:.0f}/s), to "
          + ("one member" if one_member else f"{due} members"))
    print(f"reminder jobs started: {len(started)}; lateness p50 "
          f"{statistics.median(started) * 1000:.0f} ms, p99 {pct(started, 0.99) * 1000:.0f} ms")
    print(f"reminder DMs handed to the platform: {len(delivered)}/{due}; lateness p50 "
          f"{statistics.median(delivered) * 1000:.0f} ms, p99 {pct(delivered, 0.99) * 1000:.0f}"
          f" ms, max {max(delivered) * 1000:.0f} ms (goal p99 <= 1000 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=300)
    parser.add_argument("--spread", type=float, default=30.0)
    parser.add_argument("--one-member", action="store_true",
                        help="one member going to every event due (all DMs to one member)")
    parser.add_argument("--burst", action="store_true",
                        help="30 reminders due a second for 20 s (sets --due 600 --spread 20)")
    args = parser.parse_args()
    if args.burst:
        args.due, args.spread = 600, 20.0
    asyncio.run(main(args.events, args.due, args.spread, args.one_member))
