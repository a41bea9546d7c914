"""When an event happens: a first start and an optional RFC 5545 rule, expanded DST-correctly.

A rule is read in the community's *wall-clock* time: "every thursday 18:00" in Europe/Berlin
is 18:00 local before and after the clocks change (its UTC offset changes instead). Turning a
wall-clock start into an instant follows RFC 5545 (section 3.3.5), as ``zoneinfo`` does with
``fold=0``:

- a start inside a spring-forward gap (02:30 on the night Berlin jumps from 02:00 to 03:00)
  is read with the offset from *before* the gap, so it happens at 03:30 local time: it moves
  forward by the length of the gap;
- a start inside a fall-back fold (02:30 happens twice) is the *first* of the two instants
  (fold=0, still on summer time).

The returned datetimes are normalised (``astimezone``), so their wall-clock fields are what a
clock on the wall shows at that instant (03:30 for the gap example).

Simple rules (daily, weekly with weekdays, monthly on a day or an nth weekday, any interval,
optional UNTIL) are computed arithmetically; everything else goes to a cached ``dateutil``
rrule. ``benchmarks/events_recurrence.py`` measures both against the naive per-event path.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# a gap or fold is at most a few hours (Lord Howe: 30 min; historic jumps: 2 h); looking back
# this far in wall time never misses an occurrence whose instant is after `after`
_SLACK = timedelta(hours=3)
_SIMPLE_PARTS = frozenset({"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL", "WKST"})
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


class RecurrenceError(ValueError):
    """A rule or timezone that cannot describe an event."""


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When an event happens: its first start and an optional RFC 5545 rule.

    ``first_start``'s wall-clock fields are the nominal local start (they may name a time in a
    gap; see the module docstring for what instant that is). ``rule`` is an RRULE body without
    DTSTART (``"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"``); None is a one-off event.

    Store a series by its wall time (:attr:`wall` with ``timezone``; rebuild with
    :meth:`from_wall`), not by its UTC instant: a daily 02:30 series whose first start falls
    on the spring-forward night is at 01:30 UTC, which reads back as 03:30 local and would
    make every later start 03:30. A one-off is one instant and may be stored either way (its
    ``fold`` is honoured: the second 02:30 of a fall-back night stays the second).
    """

    first_start: datetime
    rule: str | None
    timezone: str

    def __post_init__(self) -> None:
        zone = zone_of(self.timezone)
        if self.first_start.tzinfo is None:
            raise RecurrenceError("first_start must be timezone-aware")
        if self.first_start.tzinfo is not zone:
            object.__setattr__(self, "first_start", self.first_start.astimezone(zone))
        if self.rule is not None:
            _plan(self.rule)  # raises RecurrenceError for a rule dateutil cannot read

    @property
    def wall(self) -> datetime:
        """The nominal local start, naive (what to store, with ``timezone``)."""
        return self.first_start.replace(tzinfo=None, fold=0)

    @classmethod
    def from_wall(cls, wall: datetime, rule: str | None, timezone: str) -> Recurrence:
        """The recurrence whose nominal local start is the naive ``wall`` in ``timezone``."""
        if wall.tzinfo is not None:
            raise RecurrenceError("wall must be naive (a local wall-clock time)")
        return cls(wall.replace(tzinfo=zone_of(timezone)), rule, timezone)


@lru_cache(maxsize=512)
def zone_of(name: str) -> ZoneInfo:
    """The IANA timezone ``name``; RecurrenceError when there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RecurrenceError(f"unknown timezone {name!r}") from exc


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant of naive wall-clock time ``wall`` in ``zone`` (gap: forward; fold: first)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def occurrences_after(
    rec: Recurrence,
    after: datetime,
    *,
    count: int = 1,
    excluded: Collection[datetime] = (),
    moved: Mapping[datetime, datetime] | None = None,
) -> list[datetime]:
    """The next ``count`` starts strictly after ``after``, skipping ``excluded`` instants.

    Results are aware datetimes in ``rec.timezone``; ``excluded`` is compared as UTC instants
    (any timezone will do). ``moved`` maps an occurrence's start to the start it was moved to
    (one occurrence edited): the old start is skipped and the new one counts in its place.
    Fewer than ``count`` come back when the rule ends. Compare results as UTC instants: a
    one-off on the second 02:30 of a fall-back night comes back with ``fold=1``, and such a
    datetime never equals one in another timezone (PEP 495).
    """
    if after.tzinfo is None:
        raise RecurrenceError("after must be timezone-aware")
    if count <= 0:
        return []
    zone = zone_of(rec.timezone)
    # compared as UTC instants: two datetimes sharing a tzinfo compare by wall time, which
    # is wrong in a fold (02:30 twice) and for an unnormalised time in a gap
    since = after.astimezone(UTC)
    skip = {e.astimezone(UTC) for e in excluded}
    found: dict[datetime, datetime] = {}
    if moved:
        skip |= {old.astimezone(UTC) for old in moved}
        for new in moved.values():
            if new.astimezone(UTC) > since and new.astimezone(UTC) not in skip:
                found[new.astimezone(UTC)] = new.astimezone(zone)
    extra = len(found)
    if rec.rule is None:
        # the instant itself (fold honoured); in a gap the same instant localize gives
        start = rec.first_start.astimezone(UTC).astimezone(zone)
        if start.astimezone(UTC) > since and start.astimezone(UTC) not in skip:
            found[start.astimezone(UTC)] = start
        return [found[k] for k in sorted(found)][:count]
    plan = _plan(rec.rule)
    wall_after = after.astimezone(zone).replace(tzinfo=None)
    horizon: datetime | None = None
    for wall in _walls(plan, rec.first_start.replace(tzinfo=None), wall_after - _SLACK):
        if horizon is not None and wall > horizon:
            break
        instant = localize(wall, zone)
        if plan.until is not None and instant > plan.until:
            break
        key = instant.astimezone(UTC)
        if key > since and key not in skip and key not in found:
            found[key] = instant
            if len(found) == count + extra and horizon is None:
                # within a gap, wall times can map to instants out of order: keep looking a
                # little past the count-th so the earliest `count` are the ones returned
                horizon = wall + _SLACK
    return [found[k] for k in sorted(found)][:count]


def next_occurrence(
    rec: Recurrence,
    after: datetime,
    excluded: Collection[datetime] = (),
    *,
    moved: Mapping[datetime, datetime] | None = None,
) -> datetime | None:
    """The first start strictly after ``after`` that is not excluded, or None when done."""
    found = occurrences_after(rec, after, count=1, excluded=excluded, moved=moved)
    return found[0] if found else None


def next_occurrences_bulk(recs: Sequence[Recurrence], after: datetime) -> list[datetime | None]:
    """``next_occurrence`` of each recurrence (rules are parsed once and shared)."""
    return [next_occurrence(rec, after) for rec in recs]


@dataclass(frozen=True, slots=True)
class RuleParts:
    """A series' rule in the pieces a member reads ("every 2 weeks on Monday and Thursday").

    The plugin words these in the member's language; a rule of another shape has none.
    """

    frequency: str  # "daily", "weekly" or "monthly"
    interval: int  # every `interval` days / weeks / months
    weekdays: tuple[int, ...]  # weekly: Monday = 0 .. Sunday = 6, in week order
    monthday: int | None  # monthly: 1 .. 31, or -1 for the last day
    nth: tuple[int, int] | None  # monthly: (1 .. 5, or -1 for the last; weekday)
    until: datetime | None  # the last possible start (UTC), if the series ends
    count: int | None = None  # how many starts the series has, if it is counted


def rule_parts(rec: Recurrence) -> RuleParts | None:
    """The pieces of ``rec``'s rule, or None for a one-off or a shape only an RRULE can say."""
    if rec.rule is None:
        return None
    plan = _plan(rec.rule)
    shape = plan if plan.freq is not None else plan.shape
    if shape is None or shape.freq is None:
        return None
    weekdays = shape.weekdays
    if shape.freq == "WEEKLY" and not weekdays:
        weekdays = (rec.first_start.weekday(),)
    return RuleParts(
        shape.freq.lower(), shape.interval, weekdays, shape.monthday, shape.nth, plan.until,
        plan.count,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Plan:
    """A parsed rule: either the arithmetic form (``freq`` set) or a dateutil fallback."""

    body: str  # the rule without UNTIL (dateutil gets it with a naive DTSTART)
    until: datetime | None  # UTC instant; a rule's UNTIL is inclusive
    freq: str | None  # "DAILY", "WEEKLY" or "MONTHLY" when computed arithmetically
    interval: int
    weekdays: tuple[int, ...]  # WEEKLY: Monday=0 .. Sunday=6, in week order from wkst
    wkst: int
    monthday: int | None  # MONTHLY by day of month (negative counts from the end)
    nth: tuple[int, int] | None  # MONTHLY by weekday: (ordinal, weekday), e.g. (1, 6)
    # the dateutil fallback may start late (a whole number of periods) unless COUNT counts
    # from the very first start
    shiftable: bool = False
    period: str = ""  # the fallback's FREQ
    shape: _Plan | None = None  # a counted simple rule: its shape, for rule_parts
    count: int | None = None


@lru_cache(maxsize=4096)
def _plan(rule: str) -> _Plan:
    body = rule.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in body.split(";"):
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not name or name in parts:
            raise RecurrenceError(f"unreadable rule {rule!r}")
        if name == "DTSTART":
            raise RecurrenceError("the rule must not carry DTSTART")
        parts[name] = value.strip().upper()
    until = _until(parts.pop("UNTIL", None))
    rest = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrulestr(rest, dtstart=datetime(2000, 1, 1), cache=False)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise RecurrenceError(f"unreadable rule {rule!r}: {exc}") from exc
    if "COUNT" in parts and until is not None:
        raise RecurrenceError("a rule cannot have both COUNT and UNTIL")
    counted = {k: v for k, v in parts.items() if k != "COUNT"}
    simple = _simple(counted, rest, until)
    if simple is not None and "COUNT" not in parts:
        return simple
    interval = int(parts.get("INTERVAL", "1"))
    return _Plan(
        rest,
        until,
        None,
        interval,
        (),
        0,
        None,
        None,
        parts["FREQ"] in _PERIODS and "COUNT" not in parts and interval >= 1,
        parts["FREQ"],
        simple,
        int(parts["COUNT"]) if "COUNT" in parts else None,
    )


def _until(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        if value.endswith("Z"):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise RecurrenceError(f"unreadable UNTIL {value!r}") from exc
    # RFC 5545 wants UNTIL in UTC with a zoned DTSTART; a floating one is not accepted here
    raise RecurrenceError("UNTIL must be a UTC date-time (…Z)")


def _simple(parts: dict[str, str], body: str, until: datetime | None) -> _Plan | None:
    """The arithmetic plan for the common rule shapes, or None for dateutil."""
    if not set(parts) <= _SIMPLE_PARTS:
        return None
    freq = parts.get("FREQ")
    interval = int(parts.get("INTERVAL", "1"))
    wkst = WEEKDAYS.index(parts["WKST"]) if "WKST" in parts else 0
    days = [_BYDAY.match(d) for d in parts["BYDAY"].split(",")] if "BYDAY" in parts else []
    if interval < 1 or not all(days):
        return None
    if freq == "DAILY" and not days and "BYMONTHDAY" not in parts:
        return _Plan(body, until, "DAILY", interval, (), wkst, None, None)
    if freq == "WEEKLY" and "BYMONTHDAY" not in parts and all(m and not m[1] for m in days):
        chosen = sorted({WEEKDAYS.index(m[2]) for m in days if m}, key=lambda d: (d - wkst) % 7)
        return _Plan(body, until, "WEEKLY", interval, tuple(chosen), wkst, None, None)
    if freq == "MONTHLY":
        if "BYMONTHDAY" in parts and not days and "," not in parts["BYMONTHDAY"]:
            day = int(parts["BYMONTHDAY"])
            return _Plan(body, until, "MONTHLY", interval, (), wkst, day, None)
        if len(days) == 1 and days[0] and days[0][1] and "BYMONTHDAY" not in parts:
            nth = (int(days[0][1]), WEEKDAYS.index(days[0][2]))
            if 1 <= abs(nth[0]) <= 5:
                return _Plan(body, until, "MONTHLY", interval, (), wkst, None, nth)
    return None


def _walls(plan: _Plan, start: datetime, since: datetime) -> Iterator[datetime]:
    """The rule's nominal wall-clock starts that are >= ``since`` (and >= ``start``), in order."""
    try:
        yield from _expand(plan, start, since)
    except (OverflowError, ValueError):
        return  # past year 9999: the series has no more starts a datetime can hold


def _expand(plan: _Plan, start: datetime, since: datetime) -> Iterator[datetime]:
    if plan.shape is not None and plan.count is not None:
        # a counted simple rule: its starts are counted from the first, with the arithmetic
        # (a step costs a microsecond; dateutil's walk from the first start costs ten)
        for number, wall in enumerate(_expand(plan.shape, start, start), 1):
            if number > plan.count:
                return
            if wall >= since:
                yield wall
        return
    if plan.freq is None:
        since = max(since, start)
        anchor = _late_start(plan, start, since) if plan.shiftable else start
        yield from _dateutil(plan.body, anchor).xafter(since, inc=True)
        return
    clock = start.time()
    since = max(since, start)
    if plan.freq == "DAILY":
        step = timedelta(days=plan.interval)
        k = max(0, -(-(since - start) // step))
        wall = start + k * step
        while True:
            yield wall
            wall += step
    elif plan.freq == "WEEKLY":
        week0 = start.date() - timedelta(days=(start.weekday() - plan.wkst) % 7)
        days = plan.weekdays or (start.weekday(),)
        week = max(0, (since.date() - week0).days // 7)
        week -= week % plan.interval
        while True:
            monday = week0 + timedelta(weeks=week)
            for day in days:
                wall = datetime.combine(monday + timedelta(days=(day - plan.wkst) % 7), clock)
                if wall >= since:
                    yield wall
            week += plan.interval
    else:
        month0 = start.year * 12 + start.month - 1
        month = max(0, since.year * 12 + since.month - 1 - month0)
        month -= month % plan.interval
        while True:
            year, index = divmod(month0 + month, 12)
            found = _month_day(year, index + 1, plan)
            if found is not None:
                wall = datetime.combine(found, clock)
                if wall >= since:
                    yield wall
            month += plan.interval


def _month_day(year: int, month: int, plan: _Plan) -> date | None:
    """The day of ``month`` the plan names, or None when that month has none (RFC: skipped)."""
    length = calendar.monthrange(year, month)[1]
    if plan.monthday is not None:
        day = plan.monthday if plan.monthday > 0 else length + 1 + plan.monthday
        return date(year, month, day) if 1 <= day <= length else None
    assert plan.nth is not None
    ordinal, weekday = plan.nth
    first = (weekday - date(year, month, 1).weekday()) % 7 + 1
    if ordinal > 0:
        day = first + 7 * (ordinal - 1)
    else:
        day = first + 7 * ((length - first) // 7) + 7 * (ordinal + 1)
    return date(year, month, day) if 1 <= day <= length else None


_PERIODS = {
    "SECONDLY": timedelta(seconds=1), "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1), "DAILY": timedelta(days=1), "WEEKLY": timedelta(weeks=1),
    "MONTHLY": None, "YEARLY": None,
}  # fmt: skip


def _late_start(plan: _Plan, start: datetime, since: datetime) -> datetime:
    """``start`` moved on by whole periods to just before ``since`` (dateutil walks less).

    A dateutil rule's periods (days, weeks, months of INTERVAL length) are counted from the
    start, and every default it takes from the start (weekday, day of month, time of day) is
    the same after whole periods, so the starts from ``since`` on are unchanged. Months and
    years keep the day only when it exists in every month: a start after the 28th stays.
    """
    step = _PERIODS[plan.period]
    if step is not None:
        periods = max(0, (since - start) // step - 1)
        return start + (periods // plan.interval) * plan.interval * step
    if start.day > 28:
        return start
    months = (since.year - start.year) * 12 + since.month - start.month - 1
    if plan.period == "YEARLY":
        months -= months % 12
        unit = 12 * plan.interval
    else:
        unit = plan.interval
    moved = max(0, months // unit) * unit
    year, month = divmod(start.month - 1 + moved, 12)
    return start.replace(year=start.year + year, month=month + 1)


@lru_cache(maxsize=16384)
def _dateutil(body: str, start: datetime) -> rrule:
    # started late by _late_start, a series is only a few periods from the starts wanted
    result = rrulestr(body, dtstart=start, cache=False)
    assert isinstance(result, rrule)
    return result


def wall_start(rec: Recurrence, instant: datetime) -> datetime:
    """The nominal wall-clock start (naive) of the occurrence at ``instant``.

    An occurrence shifted out of a gap (02:30 happening at 03:30) is named by its nominal time
    (02:30), as a calendar's EXDATE must be to match the rule's own expansion. An instant that
    is no occurrence of the rule keeps its local wall-clock time.
    """
    zone = zone_of(rec.timezone)
    local = instant.astimezone(zone).replace(tzinfo=None)
    if rec.rule is None:
        first = rec.first_start.replace(tzinfo=None)
        return first if localize(first, zone) == instant else local
    for wall in _walls(_plan(rec.rule), rec.first_start.replace(tzinfo=None), local - _SLACK):
        if wall > local + _SLACK:
            break
        if localize(wall, zone) == instant:
            return wall
    return local


__all__ = [
    "WEEKDAYS",
    "Recurrence",
    "RecurrenceError",
    "RuleParts",
    "localize",
    "next_occurrence",
    "next_occurrences_bulk",
    "occurrences_after",
    "rule_parts",
    "wall_start",
    "zone_of",
]
