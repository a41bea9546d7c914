"""Everyday phrases (English and Arabic) and ISO date-times read as a :class:`Recurrence`.

``parse_when("every 2 weeks on monday 19:30", now=..., timezone="Europe/Berlin")`` gives the
first start (the earliest matching start after ``now``) and the rule
``FREQ=WEEKLY;INTERVAL=2;BYDAY=MO``. Every word of the text must be understood: a phrase with
a word the parser does not know is refused (:class:`WhenError`), never half-read.

How the words are read:

- A clock reading of 1 to 12 without am/pm (``at 7``) is AMBIGUOUS; ``7:30`` and ``19`` are
  24-hour readings. ``tonight 8`` is 20:00.
- ``friday``, ``on friday``, ``this friday``: the first Friday from today on whose start is still
  ahead. ``next friday`` and ``الجمعه القادمه``: the first Friday after today.
- A date without a year is the next one to come (this year, else next year); a one-off start
  that is not after ``now`` is IN_THE_PAST.
- ``3/4/2026`` is read day first; when both numbers could be the month, it is AMBIGUOUS (use
  ``2026-04-03``).
- ``first sunday`` / ``اول احد`` mean the first Sunday of every month; ``last`` is -1.
- A series starts on its first matching day on or after today (or after ``starting <day>``)
  whose start is still ahead; ``every 2 weeks on monday`` counts its weeks from there.
- ``until <day>`` / ``حتى <day>`` ends a series after that day (UNTIL, in UTC); ``10 times`` /
  ``10 مرات`` / ``مرتين`` counts its starts (COUNT).
- Arabic is folded first (``arabic_text.fold``): hamza forms, taa marbuta, alef maqsura,
  diacritics, tatweel and Arabic-Indic digits do not matter.
- A start in a DST gap keeps its nominal wall time in ``first_start`` (see ``recurrence``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from plugins.events import phrase_words as W
from plugins.events.phrase_reader import (
    Reader,
    Slots,
    WhenError,
    WhenProblem,
    tokens,
)
from plugins.events.recurrence import WEEKDAYS, Recurrence, localize, zone_of

MAX_TEXT = 200  # longer is no date phrase; refusing early keeps the parser cheap
_SEARCH_DAYS = 400  # any rule parse_when makes has a start within 13 months

__all__ = ["MAX_TEXT", "WhenError", "WhenProblem", "parse_when", "tokens"]


def parse_when(text: str, *, now: datetime, timezone: str) -> Recurrence:
    """The start ``text`` names, seen from ``now`` in the community's ``timezone``.

    Raises:
        WhenError: the text names no start (``.problem`` says why).
    """
    words = tokens(text) if len(text) <= MAX_TEXT else []
    ends = next((i for i, w in enumerate(words) if w in W.UNTIL_WORDS), len(words))
    if not words[:ends] or ends == len(words) - 1:
        raise WhenError(WhenProblem.UNREADABLE, text)
    slots = Reader(words[:ends], text).read()
    last = Reader(words[ends + 1 :], text).read() if ends < len(words) else None
    zone = zone_of(timezone)
    today = now.astimezone(zone).date()
    clock = _clock(slots, text)
    if _recurring(slots):
        return _series(slots, clock, now, today, timezone, text, last)
    if last is not None or slots.count is not None:
        raise WhenError(WhenProblem.AMBIGUOUS, text)  # a one-off has no end or count
    if clock is None:
        raise WhenError(WhenProblem.NO_TIME, text)
    day = _one_day(slots, clock, now, today, timezone, text)
    start = datetime.combine(day, datetime.min.time()).replace(hour=clock[0], minute=clock[1])
    if localize(start, zone) <= now:
        raise WhenError(WhenProblem.IN_THE_PAST, text)
    return Recurrence(start.replace(tzinfo=zone), None, timezone)


def _clock(s: Slots, text: str) -> tuple[int, int] | None:
    """The (hour, minute) the slots name, with am/pm applied; None when no time was given."""
    if s.hour is None:
        if s.meridiem == "noon":
            return 12, 0
        return None
    hour, meridiem = s.hour, s.meridiem or ("night" if s.tonight else None)
    if meridiem is None:
        if s.bare_hour and 1 <= hour <= 12:
            raise WhenError(WhenProblem.AMBIGUOUS, text)
        return hour, s.minute
    if hour > 12:
        if meridiem in ("am", "dawn"):
            raise WhenError(WhenProblem.BAD_TIME, text)
        return hour, s.minute  # "19:00 مساء": already on the 24-hour clock
    if hour == 0:
        raise WhenError(WhenProblem.BAD_TIME, text)
    ranges = {"am": range(1, 13), "pm": range(1, 13), "afternoon": range(1, 8),
              "night": range(1, 13), "noon": range(1, 6), "dawn": range(1, 8)}  # fmt: skip
    if meridiem == "noon" and hour in (11, 12):
        return hour, s.minute
    if hour not in ranges[meridiem]:
        raise WhenError(WhenProblem.BAD_TIME, text)
    if meridiem in ("am", "dawn"):
        return hour % 12, s.minute
    if meridiem == "night" and hour < 6:
        return hour, s.minute  # "2 at night" is early morning
    if meridiem == "night" and hour == 12:
        return 0, s.minute
    return hour % 12 + 12, s.minute


def _recurring(s: Slots) -> bool:
    return s.every or s.nth is not None or (s.unit == "month" and s.monthday is not None)


def _rule(s: Slots, text: str) -> tuple[str, list[int], int | None]:
    """The RRULE body, the weekdays a start must fall on, and the monthday if any."""
    unit, interval = s.unit, s.interval or 1
    if s.nth is not None or s.monthday is not None or unit == "month":
        if s.nth is not None:
            if len(s.weekdays) != 1:
                raise WhenError(
                    WhenProblem.NO_DAY if not s.weekdays else WhenProblem.AMBIGUOUS, text
                )
            body = f"FREQ=MONTHLY;BYDAY={s.nth}{WEEKDAYS[s.weekdays[0]]}"
            return _interval(body, interval), [s.weekdays[0]], None
        else:
            if s.weekdays or s.monthday is None:
                raise WhenError(
                    WhenProblem.NO_DAY if not s.weekdays else WhenProblem.AMBIGUOUS, text
                )
            body = f"FREQ=MONTHLY;BYMONTHDAY={s.monthday}"
        return _interval(body, interval), [], s.monthday
    if s.weekdays:
        if unit == "day" and interval != 1:
            raise WhenError(WhenProblem.AMBIGUOUS, text)  # "every 2 days on monday"
        days = sorted(s.weekdays)
        body = "FREQ=WEEKLY;BYDAY=" + ",".join(WEEKDAYS[d] for d in days)
        return _interval(body, interval), days, None
    if unit == "week":
        if s.day is None:
            raise WhenError(WhenProblem.NO_DAY, text)
        day = s.day.weekday()
        return _interval(f"FREQ=WEEKLY;BYDAY={WEEKDAYS[day]}", interval), [day], None
    if unit == "day":
        return _interval("FREQ=DAILY", interval), [], None
    raise WhenError(WhenProblem.NO_DAY, text)


def _interval(body: str, interval: int) -> str:
    if interval == 1:
        return body
    freq, _, rest = body.partition(";")
    return f"{freq};INTERVAL={interval}" + (f";{rest}" if rest else "")


def _series(
    s: Slots,
    clock: tuple[int, int] | None,
    now: datetime,
    today: date,
    timezone: str,
    text: str,
    last: Slots | None,
) -> Recurrence:
    """A recurring start: the rule, and its first start on or after the given day."""
    if s.month_day is not None or s.next_week or (last is not None and s.count is not None):
        raise WhenError(WhenProblem.AMBIGUOUS, text)
    body, weekdays, monthday = _rule(s, text)
    if s.count is not None:
        body += f";COUNT={s.count}"
    if clock is None:
        raise WhenError(WhenProblem.NO_TIME, text)
    zone = zone_of(timezone)
    first = today
    if s.day is not None or s.relative is not None:
        first = s.day if s.day is not None else today + timedelta(days=s.relative or 0)
        if first < today:
            raise WhenError(WhenProblem.IN_THE_PAST, text)
    for offset in range(_SEARCH_DAYS):
        day = first + timedelta(days=offset)
        if not _matches(day, weekdays, s.nth, monthday):
            continue
        start = datetime(day.year, day.month, day.day, *clock)
        if localize(start, zone) > now:
            if last is not None:
                body += _until(last, day, zone, text)
            return Recurrence(start.replace(tzinfo=zone), body, timezone)
    raise WhenError(WhenProblem.BAD_DATE, text)  # e.g. "every 31st" never reached: impossible


def _until(last: Slots, first: date, zone: ZoneInfo, text: str) -> str:
    """``;UNTIL=...`` for "until <day>": the series may start up to the end of that day."""
    if last != Slots(day=last.day, month_day=last.month_day, relative=last.relative):
        raise WhenError(WhenProblem.UNREADABLE, text)  # "until" is followed by a day only
    if last.day is not None:
        end = last.day
    elif last.relative is not None:
        end = first + timedelta(days=last.relative)  # "until tomorrow" is odd but plain
    elif last.month_day is not None:
        end = _next_month_day(*last.month_day, first)
    else:
        raise WhenError(WhenProblem.UNREADABLE, text)
    if end < first:
        raise WhenError(WhenProblem.BAD_DATE, text)
    instant = localize(datetime(end.year, end.month, end.day, 23, 59, 59), zone)
    return ";UNTIL=" + instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _next_month_day(month: int, number: int, first: date) -> date:
    for year in range(first.year, first.year + 9):
        try:
            found = date(year, month, number)
        except ValueError:
            continue  # 29 February: the next leap year
        if found >= first:
            return found
    return first - timedelta(days=1)  # pragma: no cover - every (month, day) comes in 8 years


def _matches(day: date, weekdays: list[int], nth: int | None, monthday: int | None) -> bool:
    if nth is not None:
        length = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        ordinal = (day.day - 1) // 7 + 1 if nth > 0 else -((length.day - day.day) // 7 + 1)
        return ordinal == nth and day.weekday() in weekdays
    if monthday is not None:
        if monthday > 0:
            return day.day == monthday
        return (day + timedelta(days=1)).month != day.month
    return not weekdays or day.weekday() in weekdays


def _one_day(
    s: Slots, clock: tuple[int, int], now: datetime, today: date, timezone: str, text: str
) -> date:
    """The day of a one-off start."""
    zone = zone_of(timezone)

    def ahead(day: date) -> bool:
        return localize(datetime(day.year, day.month, day.day, *clock), zone) > now

    named = [s.day, s.relative, s.month_day, s.monthday]
    if len(s.weekdays) > 1 or (s.unit is not None and s.relative is None):
        raise WhenError(WhenProblem.AMBIGUOUS, text)
    if s.monthday is not None and sum(x is not None for x in named) > 1:
        raise WhenError(WhenProblem.AMBIGUOUS, text)  # "the 2nd, tomorrow"
    if s.day is not None or s.relative is not None:
        day = s.day if s.day is not None else today + timedelta(days=s.relative or 0)
        if s.weekdays and day.weekday() != s.weekdays[0]:
            raise WhenError(WhenProblem.AMBIGUOUS, text)
        return day
    if s.month_day is not None:
        month, number = s.month_day
        for year in range(today.year, today.year + 9):
            try:
                day = date(year, month, number)
            except ValueError:
                continue  # 29 February: the next leap year
            if ahead(day) and (not s.weekdays or day.weekday() == s.weekdays[0]):
                return day
        raise WhenError(WhenProblem.BAD_DATE, text)
    if s.monthday is not None:
        # "the 15th", or "tuesday the 15th": the next 15th (that is a Tuesday)
        for offset in range(0, _SEARCH_DAYS):
            day = today + timedelta(days=offset)
            wanted = not s.weekdays or day.weekday() == s.weekdays[0]
            if day.day == s.monthday and wanted and ahead(day):
                return day
        raise WhenError(WhenProblem.BAD_DATE, text)
    if s.weekdays:
        start = 1 if s.next_week else 0
        for offset in range(start, start + 8):
            day = today + timedelta(days=offset)
            if day.weekday() == s.weekdays[0] and ahead(day):
                return day
    if s.next_week:
        raise WhenError(WhenProblem.UNREADABLE, text)  # "next" alone
    return today if ahead(today) else today + timedelta(days=1)  # a time alone: the next one
