"""Next start of 10,000 recurring events: plugins.events.recurrence against naive dateutil.

The events mix daily, weekly, biweekly (with one or two weekdays) and monthly (nth weekday or
day of month) rules, first starts spread over the last two years, in five timezones; a few
per cent use shapes the arithmetic path does not take (BYSETPOS, COUNT), which go to a cached
dateutil rrule. The naive path is what a plugin would write without this module: for every
event, ``rrulestr(rule, dtstart=first_start).after(now)``. Both answers are compared instant by
instant. Goal (issue 16): all 10,000 in <= 0.5 s.

    python benchmarks/events_recurrence.py [--events 10000]
"""

from __future__ import annotations

import argparse
import random
import time
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


def main(n: int) -> None:
    now = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    t0 = time.perf_counter()
    recs = events(n, now)
    recurrence._plan.cache_clear()
    recurrence._dateutil.cache_clear()
    t1 = time.perf_counter()
    rebuilt = [Recurrence(r.first_start, r.rule, r.timezone) for r in recs]
    t2 = time.perf_counter()
    cold = next_occurrences_bulk(rebuilt, now)
    t3 = time.perf_counter()
    warm = next_occurrences_bulk(rebuilt, now + timedelta(minutes=1))
    t4 = time.perf_counter()
    reference = naive(recs, now)
    t5 = time.perf_counter()
    simple = [r for r in rebuilt if r.rule and recurrence._plan(r.rule).freq is not None]
    others = [r for r in rebuilt if r not in simple]
    recurrence._dateutil.cache_clear()
    t6 = time.perf_counter()
    next_occurrences_bulk(simple, now)
    t7 = time.perf_counter()
    next_occurrences_bulk(others, now)
    t8 = time.perf_counter()
    fallback = len(others)
    wrong = sum(
        1 for a, b in zip(cold, reference, strict=True)
        if (a and a.astimezone(UTC)) != (b and b.astimezone(UTC))
    )  # fmt: skip
    print(f"events: {n} ({fallback} on the dateutil fallback), built in {t1 - t0:.2f} s")
    print(f"Recurrence() for all (rules validated):  {t2 - t1:.3f} s")
    print(f"next start, all, first call:             {t3 - t2:.3f} s   (goal <= 0.5 s)")
    print(f"next start, all, again a minute later:   {t4 - t3:.3f} s")
    print(f"  of which the {len(simple)} arithmetic:        {t7 - t6:.3f} s")
    print(f"  of which the {fallback} dateutil fallback:    {t8 - t7:.3f} s")
    print(f"naive dateutil rrulestr(...).after():    {t5 - t4:.3f} s")
    print(f"ratio naive / ours (first call):         {(t5 - t4) / (t3 - t2):.1f}x")
    print(f"answers that differ from dateutil:       {wrong}")
    print(f"events with a next start:                {sum(x is not None for x in cold)}")
    _ = warm


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    main(parser.parse_args().events)
