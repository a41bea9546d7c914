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
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from plugins.events import phrase_words as W
from plugins.events.arabic_text import fold
from plugins.events.recurrence import WEEKDAYS, Recurrence, localize, zone_of

MAX_TEXT = 200  # longer is no date phrase; refusing early keeps the parser cheap
_SEARCH_DAYS = 400  # any rule parse_when makes has a start within 13 months


class WhenProblem(enum.Enum):
    """Why a phrase could not become a start (the plugin words each one for the member)."""

    UNREADABLE = "unreadable"  # a word or shape the parser does not know
    IN_THE_PAST = "in_the_past"  # a one-off start (or a series' first day) already gone
    BAD_TIME = "bad_time"  # 25:00, 13pm, 7:75
    BAD_DATE = "bad_date"  # 2026-02-30, 31 april
    AMBIGUOUS = "ambiguous"  # "at 7" (am or pm?), 3/4 (March or April?), two dates
    NO_TIME = "no_time"  # a day without a time: "tomorrow"
    NO_DAY = "no_day"  # a series without its day: "every week 18:00"


class WhenError(ValueError):
    """A phrase ``parse_when`` cannot turn into a start."""

    def __init__(self, problem: WhenProblem, text: str) -> None:
        super().__init__(f"{problem.value}: {text!r}")
        self.problem = problem
        self.text = text


@dataclass(slots=True)
class _Slots:
    """What the words said, before it is turned into a start."""

    hour: int | None = None
    minute: int = 0
    bare_hour: bool = False  # a clock reading with neither minutes nor am/pm
    meridiem: str | None = None
    day: date | None = None  # an explicit date
    month_day: tuple[int, int] | None = None  # (month, day) without a year
    relative: int | None = None  # days from today
    tonight: bool = False
    weekdays: list[int] = field(default_factory=list)
    next_week: bool = False  # "next friday": not today
    every: bool = False
    unit: str | None = None
    interval: int | None = None
    nth: int | None = None  # nth weekday of the month
    monthday: int | None = None  # day of the month
    count: int | None = None  # "10 times": how many starts a series has


_TOKEN = re.compile(r"[^\s,;!?؟()\"']+")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})([/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?")
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?")
_NUMBER = re.compile(r"\d{1,4}")


def tokens(text: str) -> list[str]:
    """The folded words of ``text``: digits split from letters, ``a.m.`` as ``am``."""
    text = fold(text)
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text)
    text = re.sub(r"(\d)([^\W\d_])", r"\1 \2", text)
    text = re.sub(r"([^\W\d_])(\d)", r"\1 \2", text)
    return [t.strip(".-") or t for t in _TOKEN.findall(text)]


def parse_when(text: str, *, now: datetime, timezone: str) -> Recurrence:
    """The start ``text`` names, seen from ``now`` in the community's ``timezone``.

    Raises:
        WhenError: the text names no start (``.problem`` says why).
    """
    words = tokens(text) if len(text) <= MAX_TEXT else []
    ends = next((i for i, w in enumerate(words) if w in W.UNTIL_WORDS), len(words))
    if not words[:ends] or ends == len(words) - 1:
        raise WhenError(WhenProblem.UNREADABLE, text)
    slots = _Reader(words[:ends], text).read()
    last = _Reader(words[ends + 1 :], text).read() if ends < len(words) else None
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


class _Reader:
    """Reads the words left to right into :class:`_Slots`; an unknown word is UNREADABLE."""

    def __init__(self, words: list[str], text: str) -> None:
        self.words = words
        self.text = text
        self.i = 0
        self.slots = _Slots()

    def fail(self, problem: WhenProblem = WhenProblem.UNREADABLE) -> WhenError:
        return WhenError(problem, self.text)

    def peek(self, ahead: int = 0) -> str:
        at = self.i + ahead
        return self.words[at] if 0 <= at < len(self.words) else ""

    def read(self) -> _Slots:
        while self.i < len(self.words):
            if not self.step():
                raise self.fail()
        return self.slots

    def step(self) -> bool:
        # one branch per kind of word, in reading order
        word, s = self.peek(), self.slots
        pair = (word, self.peek(1))
        if (m := _ISO.fullmatch(word)) is not None:
            self.set_day(self.make_date(int(m[1]), int(m[2]), int(m[3])))
            self.i += 1
            if self.peek() == "t":
                self.i += 1
            return True
        if (m := _DMY.fullmatch(word)) is not None and (m[4] or m[2] == "/"):
            self.dmy(int(m[1]), int(m[3]), m[4])
            return True
        if (m := _CLOCK.fullmatch(word)) is not None:
            if m[3] is not None and int(m[3]) > 59:
                raise self.fail(WhenProblem.BAD_TIME)
            self.i += 1
            self.set_time(int(m[1]), int(m[2]), bare=False)
            return True
        if pair in W.CLOCK_PAIRS or word in W.CLOCK_WORDS:
            hour, minute = W.CLOCK_PAIRS.get(pair) or W.CLOCK_WORDS[word]
            self.i += 2 if pair in W.CLOCK_PAIRS else 1
            self.set_time(hour, minute, bare=False)
            return True
        if pair in W.MONTH_PAIRS or word in W.MONTH_WORDS:
            month = W.MONTH_PAIRS.get(pair) or W.MONTH_WORDS[word]
            self.i += 2 if pair in W.MONTH_PAIRS else 1
            return self.month_then_day(month)
        if word in W.AT_WORDS:
            self.i += 1
            return self.hour_after_at()
        if _NUMBER.fullmatch(word):
            return self.number(int(word))
        if word in W.MERIDIEM:
            self.set_meridiem(W.MERIDIEM[word])
            self.i += 1
            return True
        if word in W.EVERY:
            s.every = True
            self.i += 1
            if self.peek() in W.OTHER:
                self.set_interval(2)
                self.i += 1
            if self.peek() == "اليوم" or self.peek() == "يوم":
                self.i += 1  # "كل يوم": every day, or "كل يوم خميس": every Thursday
                self.set_unit("day", 1)
            return True
        if word in W.EVERY_UNIT:
            s.every = True
            self.set_unit(*W.EVERY_UNIT[word])
            self.i += 1
            return True
        if word in W.WEEKDAYS_WORDS or word in W.WEEKEND_WORDS:
            s.every = s.every or word.endswith("s")
            self.add_weekdays([0, 1, 2, 3, 4] if word in W.WEEKDAYS_WORDS else [5, 6])
            self.i += 1
            return True
        if word == "بعد" and self.peek(1) in W.RELATIVE_DAYS and W.RELATIVE_DAYS[self.peek(1)]:
            self.set_relative(W.RELATIVE_DAYS[self.peek(1)] + 1)  # بعد غد: after tomorrow
            self.i += 2
            return True
        if word in W.RELATIVE_DAYS and not (word == "اليوم" and s.every):
            self.set_relative(W.RELATIVE_DAYS[word])
            s.tonight = s.tonight or word in W.TONIGHT
            self.i += 1
            return True
        if (word, self.peek(1), self.peek(2)) == ("day", "after", "tomorrow"):
            self.set_relative(2)
            self.i += 3
            return True
        if word in W.IN_WORDS and self.in_days():
            return True
        if word in W.ORDINALS:
            return self.ordinal(W.ORDINALS[word])
        if (weekday := self.weekday(word)) is not None:
            s.every = s.every or word in W.PLURAL_WEEKDAYS
            self.add_weekdays([weekday])
            self.i += 1
            if self.peek() in W.ORDINALS and self.peek(1) != "day":
                self.set_nth(W.ORDINALS[self.peek()])  # الاحد الاول من الشهر
                self.i += 1
            return True
        if word in W.TIMES_WORDS and W.TIMES_WORDS[word] != 1 and s.count is None:
            s.count = W.TIMES_WORDS[word]  # مرتين: twice
            self.i += 1
            return True
        if word in W.NEXT_WORDS:
            s.next_week = True
            self.i += 1
            return True
        if word in W.UNITS:
            unit, count = W.UNITS[word]
            after = self.peek(1)
            if word == "يوم" and (
                self.weekday(after) is not None or _NUMBER.fullmatch(after) or not s.every
            ):
                self.i += 1  # "يوم الخميس", "يوم 15": the word "day" before the day's name
                return True
            self.set_unit(unit, count)
            self.i += 1
            return True
        if word in W.FILLERS or word in W.THIS_WORDS or word in W.OTHER:
            self.i += 1
            return True
        return False

    # -- what the words set ------------------------------------------------------------

    def set_time(self, hour: int, minute: int, *, bare: bool) -> None:
        s = self.slots
        if s.hour is not None:
            raise self.fail(WhenProblem.AMBIGUOUS)
        if hour > 23 or minute > 59:
            raise self.fail(WhenProblem.BAD_TIME)
        s.hour, s.minute, s.bare_hour = hour, minute, bare
        word, pair = self.peek(), (self.peek(), self.peek(1))
        if word == "و" and "و" + self.peek(1) in W.MINUTE_WORDS and bare:
            s.minute, s.bare_hour = W.MINUTE_WORDS["و" + self.peek(1)], False
            self.i += 2  # "7 و النصف", written apart
        elif word in W.MINUTE_WORDS and bare:
            s.minute, s.bare_hour = W.MINUTE_WORDS[word], False
            self.i += 1
        elif pair in W.MINUS_QUARTER and bare:
            s.hour, s.minute, s.bare_hour = (hour - 1) % 24, 45, False
            if hour == 0:
                raise self.fail(WhenProblem.BAD_TIME)
            self.i += 2
        if self.peek() in ("o'clock", "oclock"):
            self.i += 1

    def set_meridiem(self, meridiem: str) -> None:
        s = self.slots
        if s.meridiem is not None and s.meridiem != meridiem:
            raise self.fail(WhenProblem.AMBIGUOUS)
        s.meridiem = meridiem

    def set_day(self, day: date) -> None:
        s = self.slots
        if s.day is not None or s.month_day is not None or s.relative is not None:
            raise self.fail(WhenProblem.AMBIGUOUS)
        s.day = day

    def set_relative(self, days: int) -> None:
        s = self.slots
        if s.day is not None or s.month_day is not None or s.relative is not None:
            raise self.fail(WhenProblem.AMBIGUOUS)
        s.relative = days

    def set_month_day(self, month: int, day: int) -> None:
        s = self.slots
        if s.day is not None or s.month_day is not None or s.relative is not None:
            raise self.fail(WhenProblem.AMBIGUOUS)
        if not 1 <= month <= 12 or not 1 <= day <= (29 if month == 2 else _LENGTH[month]):
            raise self.fail(WhenProblem.BAD_DATE)
        s.month_day = (month, day)

    def set_unit(self, unit: str, count: int) -> None:
        s = self.slots
        # "كل يوم" reads "every day" until a later word says week or month
        if s.unit not in (None, "day", unit):
            raise self.fail(WhenProblem.AMBIGUOUS)
        if s.unit is None or s.unit == "day":
            s.unit = unit
        if count != 1:
            self.set_interval(count)

    def set_interval(self, count: int) -> None:
        s = self.slots
        if s.interval is not None and s.interval != count:
            raise self.fail(WhenProblem.AMBIGUOUS)
        if not 1 <= count <= 99:
            raise self.fail(WhenProblem.UNREADABLE)
        s.interval = count

    def set_nth(self, nth: int) -> None:
        s = self.slots
        if s.nth is not None and s.nth != nth:
            raise self.fail(WhenProblem.AMBIGUOUS)
        s.nth = nth

    def add_weekdays(self, days: list[int]) -> None:
        for day in days:
            if day not in self.slots.weekdays:
                self.slots.weekdays.append(day)

    def make_date(self, year: int, month: int, day: int) -> date:
        if not 1 <= year <= 9998:
            raise self.fail(WhenProblem.BAD_DATE)
        try:
            return date(year, month, day)
        except ValueError:
            raise self.fail(WhenProblem.BAD_DATE) from None

    # -- shapes of several words ---------------------------------------------------------

    def weekday(self, word: str) -> int | None:
        if word in W.WEEKDAY_WORDS and word not in W.BARE_NOT_WEEKDAY:
            return W.WEEKDAY_WORDS[word]
        for prefix in ("وال", "ال", "و", "بال"):
            rest = word.removeprefix(prefix)
            if rest != word and rest in W.WEEKDAY_WORDS and not rest.isascii():
                return W.WEEKDAY_WORDS[rest]
        return None

    def dmy(self, first: int, second: int, year_text: str | None) -> None:
        """``d/m[/y]``, day first; AMBIGUOUS when either could be the month."""
        if first <= 12 and second <= 12 and first != second:
            raise self.fail(WhenProblem.AMBIGUOUS)
        day, month = (second, first) if second > 12 else (first, second)
        self.i += 1
        if year_text is None:
            self.set_month_day(month, day)
            return
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        self.set_day(self.make_date(year, month, day))

    def month_then_day(self, month: int) -> bool:
        """After a month's name: ``december 10 [2026]``; ``10 december`` came via number()."""
        if not _NUMBER.fullmatch(self.peek()) or int(self.peek()) > 31:
            raise self.fail(WhenProblem.UNREADABLE)
        day = int(self.peek())
        self.i += 1
        if self.peek() in W.ORDINAL_SUFFIXES:
            self.i += 1
        self.date_with_year(month, day)
        return True

    def date_with_year(self, month: int, day: int) -> None:
        if re.fullmatch(r"\d{4}", self.peek()):
            year = int(self.peek())
            self.i += 1
            self.set_day(self.make_date(year, month, day))
        else:
            self.set_month_day(month, day)

    def number(self, value: int) -> bool:
        """A number: a day before a month, an interval, a day of the month, or an hour."""
        after = self.peek(1)
        month = W.MONTH_PAIRS.get((after, self.peek(2))) or W.MONTH_WORDS.get(after)
        if after in W.ORDINAL_SUFFIXES:
            self.i += 2
            if self.weekday(self.peek()) is not None or self.peek() in W.WEEKDAYS_WORDS:
                self.set_nth(value if 1 <= value <= 5 else 0)
                if self.slots.nth == 0:
                    raise self.fail(WhenProblem.BAD_DATE)
                return True
            month = W.MONTH_PAIRS.get((self.peek(), self.peek(1))) or W.MONTH_WORDS.get(
                self.peek()
            )
            if month is not None:
                self.i += 2 if (self.peek(), self.peek(1)) in W.MONTH_PAIRS else 1
                self.date_with_year(month, value)
                return True
            return self.set_monthday(value)
        if month is not None:
            self.i += 3 if (after, self.peek(2)) in W.MONTH_PAIRS else 2
            self.date_with_year(month, value)
            return True
        if after in W.UNITS and after not in ("اليوم",):
            unit, count = W.UNITS[after]
            if count != 1:
                return False
            self.i += 2
            self.set_unit(unit, 1)
            self.set_interval(value)
            return True
        if after in W.TIMES_WORDS and W.TIMES_WORDS[after] == 1:
            if not 1 <= value <= 999 or self.slots.count is not None:
                raise self.fail(WhenProblem.UNREADABLE)
            self.slots.count = value
            self.i += 2
            return True
        if after in W.MERIDIEM:
            if not 1 <= value <= 12:
                raise self.fail(WhenProblem.BAD_TIME)  # 13pm, 0am
            self.i += 1
            self.set_time(value, 0, bare=False)
            return True
        if self.peek(-1) in ("يوم", "the"):
            return self.set_monthday(value, advance=1)
        if value <= 23:
            self.i += 1
            self.set_time(value, 0, bare=True)
            return True
        if value <= 59:
            raise self.fail(WhenProblem.BAD_TIME)
        return False

    def set_monthday(self, value: int, *, advance: int = 0) -> bool:
        if not 1 <= value <= 31:
            raise self.fail(WhenProblem.BAD_DATE)
        s = self.slots
        if s.monthday is not None and s.monthday != value:
            raise self.fail(WhenProblem.AMBIGUOUS)
        s.monthday = value
        self.i += advance
        return True

    def hour_after_at(self) -> bool:
        """After "at" / "الساعه": a number, a clock reading or an Arabic hour word."""
        word, pair = self.peek(), (self.peek(), self.peek(1))
        if pair in W.HOUR_PAIRS or word in W.HOUR_WORDS:
            hour = W.HOUR_PAIRS.get(pair) or W.HOUR_WORDS[word]
            self.i += 2 if pair in W.HOUR_PAIRS else 1
            self.set_time(hour, 0, bare=True)
            return True
        if _NUMBER.fullmatch(word) and int(word) <= 23:
            self.i += 1
            self.set_time(int(word), 0, bare=True)
            return True
        return True  # "at 18:00": the clock reading is read next

    def in_days(self) -> bool:
        """``in 3 days`` / ``بعد 3 ايام`` / ``بعد يومين`` / ``in a week``."""
        count, at = 1, 1
        word = self.peek(1)
        if _NUMBER.fullmatch(word) or word in W.NUMBER_WORDS:
            count, at = (int(word) if word.isdigit() else W.NUMBER_WORDS[word]), 2
        unit = W.UNITS.get(self.peek(at))
        if unit is None or unit[0] == "month" or self.peek(at) == "اليوم":
            return False
        if unit[1] != 1 and at == 2:
            return False
        days = count * unit[1] * (7 if unit[0] == "week" else 1)
        if days > 366:
            raise self.fail(WhenProblem.BAD_DATE)
        self.i += at + 1
        self.set_relative(days)
        return True

    def ordinal(self, nth: int) -> bool:
        """``first sunday``, ``second week``, ``last day of the month``, ``اول احد``."""
        self.i += 1
        word = self.peek()
        if word in ("day", "يوم"):
            self.i += 1
            if nth not in (1, -1):
                return False
            return self.set_monthday(nth) if nth == 1 else self.last_day()
        if word in ("of", "من") or (word in W.UNITS and W.UNITS[word][0] == "month"):
            if nth not in (1, -1):
                return False
            # "first of the month", "اول الشهر", "اخر الشهر": a day of the month
            return self.set_monthday(1) if nth == 1 else self.last_day()
        if word in W.UNITS and self.slots.every:
            unit, _count = W.UNITS[word]
            self.i += 1
            self.set_unit(unit, 1)
            if nth > 0:
                self.set_interval(nth)
            return True
        if self.weekday(word) is None and word not in W.WEEKDAYS_WORDS:
            return False
        self.set_nth(nth)
        return True

    def last_day(self) -> bool:
        s = self.slots
        if s.monthday is not None and s.monthday != -1:
            raise self.fail(WhenProblem.AMBIGUOUS)
        s.monthday = -1
        return True


_LENGTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _clock(s: _Slots, text: str) -> tuple[int, int] | None:
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


def _recurring(s: _Slots) -> bool:
    return s.every or s.nth is not None or (s.unit == "month" and s.monthday is not None)


def _rule(s: _Slots, text: str) -> tuple[str, list[int], int | None]:
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
    s: _Slots,
    clock: tuple[int, int] | None,
    now: datetime,
    today: date,
    timezone: str,
    text: str,
    last: _Slots | None,
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


def _until(last: _Slots, first: date, zone: ZoneInfo, text: str) -> str:
    """``;UNTIL=...`` for "until <day>": the series may start up to the end of that day."""
    if last != _Slots(day=last.day, month_day=last.month_day, relative=last.relative):
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
    s: _Slots, clock: tuple[int, int], now: datetime, today: date, timezone: str, text: str
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
