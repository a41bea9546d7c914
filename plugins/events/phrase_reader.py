"""Reading a phrase's words into slots (a time, a day, a rule's pieces), left to right.

Every word must be understood; one the reader does not know makes the phrase UNREADABLE.
``phrases.parse_when`` turns the slots into a start; the words are in ``phrase_words``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date

from plugins.events import phrase_words as W
from plugins.events.arabic_text import fold


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
class Slots:
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
_ISO = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")  # 2026-12-24, 2026/12/24
_DMY = re.compile(r"(\d{1,2})([/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?")
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?")
_NUMBER = re.compile(r"\d{1,4}")


def tokens(text: str) -> list[str]:
    """The folded words of ``text``: digits split from letters, ``a.m.`` as ``am``."""
    text = fold(text)
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text)
    text = re.sub(r"\bo['’]clock\b", "oclock", text)
    text = re.sub(r"(\d)([^\W\d_])", r"\1 \2", text)
    text = re.sub(r"([^\W\d_])(\d)", r"\1 \2", text)
    return [t.strip(".-") or t for t in _TOKEN.findall(text)]


class Reader:
    """Reads the words left to right into :class:`Slots`; an unknown word is UNREADABLE."""

    def __init__(self, words: list[str], text: str) -> None:
        self.words = words
        self.text = text
        self.i = 0
        self.slots = Slots()

    def _fail(self, problem: WhenProblem = WhenProblem.UNREADABLE) -> WhenError:
        return WhenError(problem, self.text)

    def _peek(self, ahead: int = 0) -> str:
        at = self.i + ahead
        return self.words[at] if 0 <= at < len(self.words) else ""

    def read(self) -> Slots:
        """The slots every word filled; WhenError at the first word not understood."""
        while self.i < len(self.words):
            if not self._step():
                raise self._fail()
        return self.slots

    def _step(self) -> bool:
        # one branch per kind of word, in reading order
        word, s = self._peek(), self.slots
        pair = (word, self._peek(1))
        if (m := _ISO.fullmatch(word)) is not None:
            self._set_day(self._make_date(int(m[1]), int(m[3]), int(m[4])))
            self.i += 1
            if self._peek() == "t":
                self.i += 1
            return True
        if (m := _DMY.fullmatch(word)) is not None and (m[4] or m[2] == "/"):
            self._dmy(int(m[1]), int(m[3]), m[4])
            return True
        if (m := _CLOCK.fullmatch(word)) is not None:
            if m[3] is not None and int(m[3]) > 59:
                raise self._fail(WhenProblem.BAD_TIME)
            self.i += 1
            self._set_time(int(m[1]), int(m[2]), bare=False)
            return True
        if pair in W.CLOCK_PAIRS or word in W.CLOCK_WORDS:
            hour, minute = W.CLOCK_PAIRS.get(pair) or W.CLOCK_WORDS[word]
            self.i += 2 if pair in W.CLOCK_PAIRS else 1
            self._set_time(hour, minute, bare=False)
            return True
        if pair in W.MONTH_PAIRS or word in W.MONTH_WORDS:
            month = W.MONTH_PAIRS.get(pair) or W.MONTH_WORDS[word]
            self.i += 2 if pair in W.MONTH_PAIRS else 1
            return self._month_then_day(month)
        if word in W.AT_WORDS:
            self.i += 1
            return self._hour_after_at()
        if _NUMBER.fullmatch(word):
            return self._number(int(word))
        if word in W.MERIDIEM:
            self._set_meridiem(W.MERIDIEM[word])
            self.i += 1
            return True
        if word in W.EVERY:
            s.every = True
            self.i += 1
            if self._peek() in W.OTHER:
                self._set_interval(2)
                self.i += 1
            if self._peek() == "اليوم" or self._peek() == "يوم":
                self.i += 1  # "كل يوم": every day, or "كل يوم خميس": every Thursday
                self._set_unit("day", 1)
            return True
        if word in W.EVERY_UNIT:
            s.every = True
            self._set_unit(*W.EVERY_UNIT[word])
            self.i += 1
            return True
        if word in W.WEEKDAYS_WORDS or word in W.WEEKEND_WORDS:
            s.every = s.every or word.endswith("s")
            self._add_weekdays([0, 1, 2, 3, 4] if word in W.WEEKDAYS_WORDS else [5, 6])
            self.i += 1
            return True
        if word == "بعد" and self._peek(1) in W.RELATIVE_DAYS and W.RELATIVE_DAYS[self._peek(1)]:
            self._set_relative(W.RELATIVE_DAYS[self._peek(1)] + 1)  # بعد غد: after tomorrow
            self.i += 2
            return True
        if word in W.RELATIVE_DAYS and not (word == "اليوم" and s.every):
            self._set_relative(W.RELATIVE_DAYS[word])
            s.tonight = s.tonight or word in W.TONIGHT
            self.i += 1
            return True
        if (word, self._peek(1), self._peek(2)) == ("day", "after", "tomorrow"):
            self._set_relative(2)
            self.i += 3
            return True
        if word in W.IN_WORDS and self._in_days():
            return True
        if word in W.ORDINALS:
            return self._ordinal(W.ORDINALS[word])
        if (weekday := self._weekday(word)) is not None:
            s.every = s.every or word in W.PLURAL_WEEKDAYS
            self._add_weekdays([weekday])
            self.i += 1
            if self._peek() in W.ORDINALS and self._peek(1) != "day":
                self._set_nth(W.ORDINALS[self._peek()])  # الاحد الاول من الشهر
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
            after = self._peek(1)
            if word == "يوم" and (
                self._weekday(after) is not None or _NUMBER.fullmatch(after) or not s.every
            ):
                self.i += 1  # "يوم الخميس", "يوم 15": the word "day" before the day's name
                return True
            self._set_unit(unit, count)
            self.i += 1
            return True
        if word in W.FILLERS or word in W.THIS_WORDS or word in W.OTHER:
            self.i += 1
            return True
        return False

    # -- what the words set ------------------------------------------------------------

    def _set_time(self, hour: int, minute: int, *, bare: bool) -> None:
        s = self.slots
        if s.hour is not None:
            raise self._fail(WhenProblem.AMBIGUOUS)
        if hour > 23 or minute > 59:
            raise self._fail(WhenProblem.BAD_TIME)
        s.hour, s.minute, s.bare_hour = hour, minute, bare
        word, pair = self._peek(), (self._peek(), self._peek(1))
        if word == "و" and "و" + self._peek(1) in W.MINUTE_WORDS and bare:
            s.minute, s.bare_hour = W.MINUTE_WORDS["و" + self._peek(1)], False
            self.i += 2  # "7 و النصف", written apart
        elif word in W.MINUTE_WORDS and bare:
            s.minute, s.bare_hour = W.MINUTE_WORDS[word], False
            self.i += 1
        elif pair in W.MINUS_QUARTER and bare:
            s.hour, s.minute, s.bare_hour = (hour - 1) % 24, 45, False
            if hour == 0:
                raise self._fail(WhenProblem.BAD_TIME)
            self.i += 2
        if self._peek() in ("o'clock", "oclock"):
            self.i += 1

    def _set_meridiem(self, meridiem: str) -> None:
        s = self.slots
        if s.meridiem is not None and s.meridiem != meridiem:
            raise self._fail(WhenProblem.AMBIGUOUS)
        s.meridiem = meridiem

    def _set_day(self, day: date) -> None:
        s = self.slots
        if s.day is not None or s.month_day is not None or s.relative is not None:
            raise self._fail(WhenProblem.AMBIGUOUS)
        s.day = day

    def _set_relative(self, days: int) -> None:
        s = self.slots
        if s.day is not None or s.month_day is not None or s.relative is not None:
            raise self._fail(WhenProblem.AMBIGUOUS)
        s.relative = days

    def _set_month_day(self, month: int, day: int) -> None:
        s = self.slots
        if s.day is not None or s.month_day is not None or s.relative is not None:
            raise self._fail(WhenProblem.AMBIGUOUS)
        if not 1 <= month <= 12 or not 1 <= day <= (29 if month == 2 else _LENGTH[month]):
            raise self._fail(WhenProblem.BAD_DATE)
        s.month_day = (month, day)

    def _set_unit(self, unit: str, count: int) -> None:
        s = self.slots
        # "كل يوم" reads "every day" until a later word says week or month
        if s.unit not in (None, "day", unit):
            raise self._fail(WhenProblem.AMBIGUOUS)
        if s.unit is None or s.unit == "day":
            s.unit = unit
        if count != 1:
            self._set_interval(count)

    def _set_interval(self, count: int) -> None:
        s = self.slots
        if s.interval is not None and s.interval != count:
            raise self._fail(WhenProblem.AMBIGUOUS)
        if not 1 <= count <= 99:
            raise self._fail(WhenProblem.UNREADABLE)
        s.interval = count

    def _set_nth(self, nth: int) -> None:
        s = self.slots
        if s.nth is not None and s.nth != nth:
            raise self._fail(WhenProblem.AMBIGUOUS)
        s.nth = nth

    def _add_weekdays(self, days: list[int]) -> None:
        for day in days:
            if day not in self.slots.weekdays:
                self.slots.weekdays.append(day)

    def _make_date(self, year: int, month: int, day: int) -> date:
        if not 1 <= year <= 9998:
            raise self._fail(WhenProblem.BAD_DATE)
        try:
            return date(year, month, day)
        except ValueError:
            raise self._fail(WhenProblem.BAD_DATE) from None

    # -- shapes of several words ---------------------------------------------------------

    def _weekday(self, word: str) -> int | None:
        if word in W.WEEKDAY_WORDS and word not in W.BARE_NOT_WEEKDAY:
            return W.WEEKDAY_WORDS[word]
        for prefix in ("وال", "ال", "و", "بال"):
            rest = word.removeprefix(prefix)
            if rest != word and rest in W.WEEKDAY_WORDS and not rest.isascii():
                return W.WEEKDAY_WORDS[rest]
        return None

    def _dmy(self, first: int, second: int, year_text: str | None) -> None:
        """``d/m[/y]``, day first; AMBIGUOUS when either could be the month."""
        if first <= 12 and second <= 12 and first != second:
            raise self._fail(WhenProblem.AMBIGUOUS)
        day, month = (second, first) if second > 12 else (first, second)
        self.i += 1
        if year_text is None:
            self._set_month_day(month, day)
            return
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        self._set_day(self._make_date(year, month, day))

    def _month_then_day(self, month: int) -> bool:
        """After a month's name: ``december 10 [2026]``; ``10 december`` came via number()."""
        if not _NUMBER.fullmatch(self._peek()) or int(self._peek()) > 31:
            raise self._fail(WhenProblem.UNREADABLE)
        day = int(self._peek())
        self.i += 1
        if self._peek() in W.ORDINAL_SUFFIXES:
            self.i += 1
        self._date_with_year(month, day)
        return True

    def _date_with_year(self, month: int, day: int) -> None:
        if re.fullmatch(r"\d{4}", self._peek()):
            year = int(self._peek())
            self.i += 1
            self._set_day(self._make_date(year, month, day))
        else:
            self._set_month_day(month, day)

    def _number(self, value: int) -> bool:
        """A number: a day before a month, an interval, a day of the month, or an hour."""
        after = self._peek(1)
        month = W.MONTH_PAIRS.get((after, self._peek(2))) or W.MONTH_WORDS.get(after)
        if after in W.ORDINAL_SUFFIXES:
            self.i += 2
            if self._weekday(self._peek()) is not None or self._peek() in W.WEEKDAYS_WORDS:
                self._set_nth(value if 1 <= value <= 5 else 0)
                if self.slots.nth == 0:
                    raise self._fail(WhenProblem.BAD_DATE)
                return True
            month = W.MONTH_PAIRS.get((self._peek(), self._peek(1))) or W.MONTH_WORDS.get(
                self._peek()
            )
            if month is not None:
                self.i += 2 if (self._peek(), self._peek(1)) in W.MONTH_PAIRS else 1
                self._date_with_year(month, value)
                return True
            return self._set_monthday(value)
        if month is not None:
            self.i += 3 if (after, self._peek(2)) in W.MONTH_PAIRS else 2
            self._date_with_year(month, value)
            return True
        if after in W.UNITS and after not in ("اليوم",):
            unit, count = W.UNITS[after]
            if count != 1:
                return False
            self.i += 2
            self._set_unit(unit, 1)
            self._set_interval(value)
            return True
        if after == "h" and value <= 23:
            # 18h, 18h30: the hour on the 24-hour clock, as written in French-speaking places
            self.i += 2
            minute = self._peek()
            if re.fullmatch(r"\d{2}", minute):
                self.i += 1
            self._set_time(value, int(minute) if re.fullmatch(r"\d{2}", minute) else 0, bare=False)
            return True
        if after in W.TIMES_WORDS and W.TIMES_WORDS[after] == 1:
            if not 1 <= value <= 999 or self.slots.count is not None:
                raise self._fail(WhenProblem.UNREADABLE)
            self.slots.count = value
            self.i += 2
            return True
        if after in W.MERIDIEM:
            if not 1 <= value <= 12:
                raise self._fail(WhenProblem.BAD_TIME)  # 13pm, 0am
            self.i += 1
            self._set_time(value, 0, bare=False)
            return True
        if self._peek(-1) in ("يوم", "the"):
            return self._set_monthday(value, advance=1)
        if value <= 23:
            self.i += 1
            self._set_time(value, 0, bare=True)
            return True
        if value <= 59:
            raise self._fail(WhenProblem.BAD_TIME)
        return False

    def _set_monthday(self, value: int, *, advance: int = 0) -> bool:
        if not 1 <= value <= 31:
            raise self._fail(WhenProblem.BAD_DATE)
        s = self.slots
        if s.monthday is not None and s.monthday != value:
            raise self._fail(WhenProblem.AMBIGUOUS)
        s.monthday = value
        self.i += advance
        return True

    def _hour_after_at(self) -> bool:
        """After "at" / "الساعه": a number, a clock reading or an Arabic hour word."""
        word, pair = self._peek(), (self._peek(), self._peek(1))
        if pair in W.HOUR_PAIRS or word in W.HOUR_WORDS:
            hour = W.HOUR_PAIRS.get(pair) or W.HOUR_WORDS[word]
            self.i += 2 if pair in W.HOUR_PAIRS else 1
            self._set_time(hour, 0, bare=True)
            return True
        if _NUMBER.fullmatch(word) and int(word) <= 23:
            self.i += 1
            self._set_time(int(word), 0, bare=True)
            return True
        return True  # "at 18:00": the clock reading is read next

    def _in_days(self) -> bool:
        """``in 3 days`` / ``بعد 3 ايام`` / ``بعد يومين`` / ``in a week``."""
        count, at = 1, 1
        word = self._peek(1)
        if _NUMBER.fullmatch(word) or word in W.NUMBER_WORDS:
            count, at = (int(word) if word.isdigit() else W.NUMBER_WORDS[word]), 2
        unit = W.UNITS.get(self._peek(at))
        if unit is None or unit[0] == "month" or self._peek(at) == "اليوم":
            return False
        if unit[1] != 1 and at == 2:
            return False
        days = count * unit[1] * (7 if unit[0] == "week" else 1)
        if days > 366:
            raise self._fail(WhenProblem.BAD_DATE)
        self.i += at + 1
        self._set_relative(days)
        return True

    def _ordinal(self, nth: int) -> bool:
        """``first sunday``, ``second week``, ``last day of the month``, ``اول احد``."""
        self.i += 1
        word = self._peek()
        if word in ("day", "يوم"):
            self.i += 1
            if nth not in (1, -1):
                return False
            return self._set_monthday(nth) if nth == 1 else self._last_day()
        if word in ("of", "من") or (word in W.UNITS and W.UNITS[word][0] == "month"):
            if nth not in (1, -1):
                return False
            # "first of the month", "اول الشهر", "اخر الشهر": a day of the month
            return self._set_monthday(1) if nth == 1 else self._last_day()
        if word in W.UNITS and self.slots.every:
            unit, _count = W.UNITS[word]
            self.i += 1
            self._set_unit(unit, 1)
            if nth > 0:
                self._set_interval(nth)
            return True
        if self._weekday(word) is None and word not in W.WEEKDAYS_WORDS:
            return False
        self._set_nth(nth)
        return True

    def _last_day(self) -> bool:
        s = self.slots
        if s.monthday is not None and s.monthday != -1:
            raise self._fail(WhenProblem.AMBIGUOUS)
        s.monthday = -1
        return True


_LENGTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
