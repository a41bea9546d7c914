"""Next start of 10,000 recurring events: plugins.events.recurrence against naive dateutil.

The events mix daily, weekly, biweekly (with one or two weekdays) and monthly (nth weekday or
day of month) rules, first starts spread over the last two years, in five timezones; a few
per cent use shapes the arithmetic path does not take (BYSETPOS, COUNT), which go to a cached
dateutil rrule. The naive path is what a plugin would write without this module: for every
event, ``rrulestr(rule, dtstart=first_start).after(now)``. Both answers are compared instant by
instant. Goal (issue 16): all 10,000 in <= 0.5 s.

    python benchmarks/events_recurrence.py [--events 10000] [--repeat 3]

Times are the best of ``--repeat`` runs, wall clock and CPU (the CPU time is what the work
costs when the machine is shared); the naive path runs once (it takes seconds).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from plugins.events import recurrence
from plugins.events.recurrence import Recurrence, next_occurrences_bulk

ZONES = ["Europe/Berlin", "Asia/Riyadh", "America/New_York", "Africa/Cairo", "Asia/Jakarta"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def rule_for(rnd: random.Random) -> str:
    kind = rnd.random()
    day, other = rnd.sample(DAYS, 2)
    if kind < 0.35:
        return f"FREQ=WEEKLY;BYDAY={day}"
    if kind < 0.55:
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}" + (f",{other}" if rnd.random() < 0.3 else "")
    if kind < 0.70:
        return f"FREQ=MONTHLY;BYDAY={rnd.choice([1, 2, 3, -1])}{day}"
    if kind < 0.78:
        return f"FREQ=MONTHLY;BYMONTHDAY={rnd.randint(1, 28)}"
    if kind < 0.95:
        return "FREQ=DAILY" + (f";INTERVAL={rnd.randint(2, 3)}" if rnd.random() < 0.3 else "")
    if kind < 0.98:
        return f"FREQ=MONTHLY;BYDAY={day},{other};BYSETPOS=-1"  # dateutil fallback
    return f"FREQ=WEEKLY;BYDAY={day};COUNT={rnd.randint(50, 150)}"  # dateutil fallback


def events(n: int, now: datetime, seed: int = 16) -> list[Recurrence]:
    rnd = random.Random(seed)
    made: list[Recurrence] = []
    while len(made) < n:
        zone = ZoneInfo(rnd.choice(ZONES))
        rule = rule_for(rnd)
        local = (now - timedelta(days=rnd.randint(0, 730))).astimezone(zone)
        start = local.replace(
            hour=rnd.randint(7, 22), minute=rnd.choice([0, 15, 30, 45]), second=0, microsecond=0
        )
        # as parse_when makes them: the first start is an occurrence of the rule
        aligned = rrulestr(rule, dtstart=start.replace(tzinfo=None)).after(
            start.replace(tzinfo=None), inc=True
        )
        if aligned is not None:
            made.append(Recurrence(aligned.replace(tzinfo=zone), rule, zone.key))
    return made


def naive(recs: list[Recurrence], after: datetime) -> list[datetime | None]:
    found: list[datetime | None] = []
    for rec in recs:
        assert rec.rule is not None
        series = rrulestr(rec.rule, dtstart=rec.first_start)
        found.append(series.after(after.astimezone(rec.first_start.tzinfo)))
    return found


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """The best wall and CPU seconds of ``repeat`` runs (the machine is shared), and a result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        recurrence._dateutil.cache_clear()  # every run is a first call for the fallback
        w0, c0 = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), result


def main(n: int, repeat: int) -> None:
    now = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    recs = events(n, now)
    recurrence._plan.cache_clear()
    build_wall, build_cpu, built = timed(
        lambda: [Recurrence(r.first_start, r.rule, r.timezone) for r in recs], 1
    )
    assert isinstance(built, list)

    def arithmetic(rec: Recurrence) -> bool:  # a simple shape, counted or not
        plan = recurrence._plan(rec.rule or "")
        return plan.freq is not None or plan.shape is not None

    simple = [r for r in built if arithmetic(r)]
    others = [r for r in built if not arithmetic(r)]
    ours_wall, ours_cpu, ours = timed(lambda: next_occurrences_bulk(built, now), repeat)
    simple_wall, simple_cpu, _ = timed(lambda: next_occurrences_bulk(simple, now), repeat)
    other_wall, other_cpu, _ = timed(lambda: next_occurrences_bulk(others, now), repeat)
    naive_wall, naive_cpu, reference = timed(lambda: naive(recs, now), 1)
    assert isinstance(ours, list) and isinstance(reference, list)
    wrong = sum(
        1 for a, b in zip(ours, reference, strict=True)
        if (a and a.astimezone(UTC)) != (b and b.astimezone(UTC))
    )  # fmt: skip
    print(f"events: {n} ({len(others)} on the dateutil fallback); best of {repeat} runs")
    print("                                          wall s    cpu s")
    print(f"Recurrence() for all (rules validated):  {build_wall:7.3f}  {build_cpu:7.3f}")
    print(f"next start of all (goal <= 0.5 s):       {ours_wall:7.3f}  {ours_cpu:7.3f}")
    print(f"  the {len(simple)} arithmetic ones:           {simple_wall:7.3f}  {simple_cpu:7.3f}")
    print(f"  the {len(others)} dateutil fallback ones:     {other_wall:7.3f}  {other_cpu:7.3f}")
    print(f"naive rrulestr(...).after() per event:   {naive_wall:7.3f}  {naive_cpu:7.3f}")
    print(
        f"ratio naive / ours:                      {naive_wall / ours_wall:6.1f}x "
        f"{naive_cpu / ours_cpu:6.1f}x"
    )
    print(f"answers that differ from dateutil:       {wrong}")
    print(f"events with a next start:                {sum(x is not None for x in ours)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.events, arguments.repeat)
