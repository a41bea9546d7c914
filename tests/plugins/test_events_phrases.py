"""parse_when: what a member types as an event's start, in English or Arabic.

``now`` is Wednesday 2 December 2026, 12:00 in Berlin (Tuesday is the 1st, so Thursday is the
3rd, Friday the 4th, Sunday the 6th, Monday the 7th). Each expected start is written by hand;
each expected series is a hand-written RRULE, expanded by dateutil from that start and
compared with the parsed series expanded the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.events import phrase_words as words
from plugins.events.arabic_text import fold
from plugins.events.phrases import WhenError, WhenProblem, parse_when
from plugins.events.recurrence import Recurrence, occurrences_after

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=BERLIN)


def parsed(text: str, now: datetime = NOW, zone: str = "Europe/Berlin") -> Recurrence:
    return parse_when(text, now=now, timezone=zone)


def expansion(start: datetime, rule: str, n: int = 8) -> list[datetime]:
    """The first ``n`` wall-clock starts of ``rule`` from ``start``, by dateutil alone."""
    return list(islice(rrulestr(rule, dtstart=start.replace(tzinfo=None)), n))


ONE_OFF = [
    ("2026-12-10 18:00", datetime(2026, 12, 10, 18, 0)),
    ("2026-12-10T18:00", datetime(2026, 12, 10, 18, 0)),
    ("tomorrow 18:00", datetime(2026, 12, 3, 18, 0)),
    ("next friday 7pm", datetime(2026, 12, 4, 19, 0)),
    ("Next Friday 7 p.m.", datetime(2026, 12, 4, 19, 0)),
    ("friday at 7:15 pm", datetime(2026, 12, 4, 19, 15)),
    ("the day after tomorrow at 6pm", datetime(2026, 12, 4, 18, 0)),
    ("in 3 days 10:00", datetime(2026, 12, 5, 10, 0)),
    ("in a week 10am", datetime(2026, 12, 9, 10, 0)),
    ("december 24 18:00", datetime(2026, 12, 24, 18, 0)),
    ("24th december 2027 6pm", datetime(2027, 12, 24, 18, 0)),
    ("january 5 10:00", datetime(2027, 1, 5, 10, 0)),  # 5 January 2026 is gone: next year's
    ("25/12/2026 18:00", datetime(2026, 12, 25, 18, 0)),
    ("tonight 8", datetime(2026, 12, 2, 20, 0)),
    ("noon tomorrow", datetime(2026, 12, 3, 12, 0)),
    ("tomorrow 10 at night", datetime(2026, 12, 3, 22, 0)),
    ("19:30", datetime(2026, 12, 2, 19, 30)),
    ("9am", datetime(2026, 12, 3, 9, 0)),  # today's 9:00 is gone: tomorrow's
    ("on the 15th at 18:00", datetime(2026, 12, 15, 18, 0)),
    ("tuesday the 15th 18:00", datetime(2026, 12, 15, 18, 0)),
    ("friday the 15th 18:00", datetime(2027, 1, 15, 18, 0)),  # the next 15th on a Friday
    ("غدا 6 مساء", datetime(2026, 12, 3, 18, 0)),
    ("غداً الساعة ٦ مساءً", datetime(2026, 12, 3, 18, 0)),
    ("بكرة 9 الصبح", datetime(2026, 12, 3, 9, 0)),
    ("الجمعة القادمة 19:00", datetime(2026, 12, 4, 19, 0)),
    ("الجمعه القادمه ١٩:٠٠", datetime(2026, 12, 4, 19, 0)),
    ("الخـــميس المقبل الساعة ٧ مساءً", datetime(2026, 12, 3, 19, 0)),
    ("بعد غد ١٩:٣٠", datetime(2026, 12, 4, 19, 30)),
    ("بعد 3 أيام 10 صباحا", datetime(2026, 12, 5, 10, 0)),
    ("بعد يومين ۱۹:۳۰", datetime(2026, 12, 4, 19, 30)),  # Eastern Arabic-Indic digits
    ("24 ديسمبر 6 مساء", datetime(2026, 12, 24, 18, 0)),
    ("24 كانون الأول الساعة ٦ مساء", datetime(2026, 12, 24, 18, 0)),
    ("الليلة الساعة ٩", datetime(2026, 12, 2, 21, 0)),
    ("اليوم الساعة السابعة والنصف مساءً", datetime(2026, 12, 2, 19, 30)),
    ("السبت الساعة الثامنة إلا ربع مساء", datetime(2026, 12, 5, 19, 45)),
    ("غدا الظهر", datetime(2026, 12, 3, 12, 0)),
    ("الساعة 7 و النصف مساء غدا", datetime(2026, 12, 3, 19, 30)),
    ("في تمام الساعة السابعة مساءً يوم الخميس القادم", datetime(2026, 12, 3, 19, 0)),
    ("7pm 25.12.2026", datetime(2026, 12, 25, 19, 0)),
    ("tomorrow 7 in the evening", datetime(2026, 12, 3, 19, 0)),
    ("thursday 7 o'clock pm", datetime(2026, 12, 3, 19, 0)),
    ("2026/12/24 18:00", datetime(2026, 12, 24, 18, 0)),
    ("tomorrow 18h30", datetime(2026, 12, 3, 18, 30)),
    ("يوم الجمعة الموافق ٢٠٢٦/١٢/٢٥ الساعة ٨ مساءً", datetime(2026, 12, 25, 20, 0)),
]


@pytest.mark.parametrize(("text", "start"), ONE_OFF)
def test_one_off_starts(text: str, start: datetime) -> None:
    rec = parsed(text)
    assert rec.rule is None
    assert rec.timezone == "Europe/Berlin"
    assert rec.first_start.replace(tzinfo=None) == start
    assert rec.first_start.utcoffset() == timedelta(hours=1)


SERIES = [
    ("every thursday 18:00", datetime(2026, 12, 3, 18, 0), "FREQ=WEEKLY;BYDAY=TH"),
    ("every 2 weeks on monday 19:30", datetime(2026, 12, 7, 19, 30),
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
    ("first sunday of the month 10:00", datetime(2026, 12, 6, 10, 0), "FREQ=MONTHLY;BYDAY=1SU"),
    ("every day 9am", datetime(2026, 12, 3, 9, 0), "FREQ=DAILY"),
    ("daily at 13:00", datetime(2026, 12, 2, 13, 0), "FREQ=DAILY"),
    ("every monday and thursday 7:30pm", datetime(2026, 12, 3, 19, 30),
     "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("mondays 18:00", datetime(2026, 12, 7, 18, 0), "FREQ=WEEKLY;BYDAY=MO"),
    ("every other monday 18:00", datetime(2026, 12, 7, 18, 0), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
    ("every 3 weeks on friday 20:00", datetime(2026, 12, 4, 20, 0),
     "FREQ=WEEKLY;INTERVAL=3;BYDAY=FR"),
    ("every weekday 9am", datetime(2026, 12, 3, 9, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("last friday of the month 18:00", datetime(2026, 12, 25, 18, 0), "FREQ=MONTHLY;BYDAY=-1FR"),
    ("every 2nd tuesday of the month 18:00", datetime(2026, 12, 8, 18, 0),
     "FREQ=MONTHLY;BYDAY=2TU"),
    ("every month on the 15th 18:00", datetime(2026, 12, 15, 18, 0),
     "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("last day of the month 18:00", datetime(2026, 12, 31, 18, 0), "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("every thursday 18:00 starting 2027-01-08", datetime(2027, 1, 14, 18, 0),
     "FREQ=WEEKLY;BYDAY=TH"),
    ("2026-12-10 18:00 weekly", datetime(2026, 12, 10, 18, 0), "FREQ=WEEKLY;BYDAY=TH"),
    ("كل خميس الساعة 6 مساء", datetime(2026, 12, 3, 18, 0), "FREQ=WEEKLY;BYDAY=TH"),
    ("كل يوم خميس الساعة ٦ مساءا", datetime(2026, 12, 3, 18, 0), "FREQ=WEEKLY;BYDAY=TH"),
    ("كل أسبوعين يوم الاثنين ١٩:٣٠", datetime(2026, 12, 7, 19, 30),
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
    ("أول أحد من الشهر الساعة ١٠ صباحا", datetime(2026, 12, 6, 10, 0),
     "FREQ=MONTHLY;BYDAY=1SU"),
    ("أوّلِ أحدٍ من الشهرِ ١٠:٠٠", datetime(2026, 12, 6, 10, 0), "FREQ=MONTHLY;BYDAY=1SU"),
    ("الأحد الأول من كل شهر 10 صباحاً", datetime(2026, 12, 6, 10, 0), "FREQ=MONTHLY;BYDAY=1SU"),
    ("آخر جمعة من كل شهر 8 مساءً", datetime(2026, 12, 25, 20, 0), "FREQ=MONTHLY;BYDAY=-1FR"),
    ("كل يوم الساعة 9 صباحا", datetime(2026, 12, 3, 9, 0), "FREQ=DAILY"),
    ("يومياً الساعة ٩ صباحاً", datetime(2026, 12, 3, 9, 0), "FREQ=DAILY"),
    ("كل يومين 8 صباحا", datetime(2026, 12, 3, 8, 0), "FREQ=DAILY;INTERVAL=2"),
    ("كل يوم خميس الساعه السادسه والنصف مساء", datetime(2026, 12, 3, 18, 30),
     "FREQ=WEEKLY;BYDAY=TH"),
    ("كل اثنين وخميس ٧ مساء", datetime(2026, 12, 3, 19, 0), "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("كل شهر يوم 15 الساعة 6 مساء", datetime(2026, 12, 15, 18, 0), "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("first of the month 10:00", datetime(2027, 1, 1, 10, 0), "FREQ=MONTHLY;BYMONTHDAY=1"),
    ("اول الشهر الساعة ١٠ صباحا", datetime(2027, 1, 1, 10, 0), "FREQ=MONTHLY;BYMONTHDAY=1"),
    ("آخر الشهر 8 مساء", datetime(2026, 12, 31, 20, 0), "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("كل يوم 15 من الشهر 6 مساء", datetime(2026, 12, 15, 18, 0), "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("الساعة ٦ مساءً كل خميس", datetime(2026, 12, 3, 18, 0), "FREQ=WEEKLY;BYDAY=TH"),
    ("every fortnight on tuesday 18:00", datetime(2026, 12, 8, 18, 0),
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
    ("every 2 months first sunday 10am", datetime(2026, 12, 6, 10, 0),
     "FREQ=MONTHLY;INTERVAL=2;BYDAY=1SU"),
    ("كل ٣ أسابيع يوم الجمعة ٨ مساء", datetime(2026, 12, 4, 20, 0),
     "FREQ=WEEKLY;INTERVAL=3;BYDAY=FR"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "start", "rule"), SERIES)
def test_series(text: str, start: datetime, rule: str) -> None:
    rec = parsed(text)
    assert rec.first_start.replace(tzinfo=None) == start
    assert rec.rule is not None
    assert expansion(rec.first_start, rec.rule) == expansion(start, rule)
    # and the plugin's own expansion starts with that first start
    assert occurrences_after(rec, NOW, count=1) == [rec.first_start]


@pytest.mark.parametrize(
    "text",
    ["every thursday 18:00 until 2027-03-04", "every thursday 6pm until march 4",
     "كل خميس الساعة 6 مساء حتى ٤ مارس", "every thursday 18:00 14 times",
     "كل خميس ٦ مساء ١٤ مرة"],
)  # fmt: skip
def test_a_series_that_ends(text: str) -> None:
    rec = parsed(text)
    starts = occurrences_after(rec, NOW, count=100)
    # Thursdays from 3 December to 4 March: 5 in December, 4 in January and February, 1
    assert len(starts) == 14
    assert starts[-1] == datetime(2027, 3, 4, 18, 0, tzinfo=BERLIN)


def test_twice() -> None:
    starts = occurrences_after(parsed("كل جمعة 8 مساء مرتين"), NOW, count=5)
    assert [s.day for s in starts] == [4, 11]


def test_the_community_timezone_is_the_one_read() -> None:
    # 12:00 in Berlin is 14:00 in Riyadh: "today 13:00" is past there, not in Berlin
    assert parsed("today 13:00").first_start == datetime(2026, 12, 2, 13, tzinfo=BERLIN)
    with pytest.raises(WhenError) as caught:
        parsed("today 13:00", zone="Asia/Riyadh")
    assert caught.value.problem is WhenProblem.IN_THE_PAST
    rec = parsed("كل خميس الساعة 6 مساء", zone="Asia/Riyadh")
    assert rec.first_start.astimezone(UTC) == datetime(2026, 12, 3, 15, tzinfo=UTC)
    assert rec.timezone == "Asia/Riyadh"


@pytest.mark.parametrize(
    ("text", "now", "start"),
    [
        # on Thursday 3 December: until 18:00 it is today's, from 18:00 on next week's
        ("every thursday 18:00", datetime(2026, 12, 3, 17, 59), datetime(2026, 12, 3, 18)),
        ("every thursday 18:00", datetime(2026, 12, 3, 18, 0), datetime(2026, 12, 10, 18)),
        # on Friday 4 December: "friday" is today while it is ahead; "next friday" never today
        ("friday 7pm", datetime(2026, 12, 4, 10, 0), datetime(2026, 12, 4, 19)),
        ("friday 7pm", datetime(2026, 12, 4, 20, 0), datetime(2026, 12, 11, 19)),
        ("next friday 7pm", datetime(2026, 12, 4, 10, 0), datetime(2026, 12, 11, 19)),
        ("18:00", datetime(2026, 12, 2, 19, 0), datetime(2026, 12, 3, 18)),
        ("first sunday of the month 10:00", datetime(2026, 12, 6, 11, 0),
         datetime(2027, 1, 3, 10)),
    ],
)  # fmt: skip
def test_the_start_depends_on_now(text: str, now: datetime, start: datetime) -> None:
    assert parsed(text, now=now.replace(tzinfo=BERLIN)).first_start.replace(tzinfo=None) == start


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Berlin springs forward on 29 March 2026 and falls back on 25 October 2026
        (datetime(2026, 3, 18, 12, tzinfo=BERLIN),
         ["2026-03-19T17:00", "2026-03-26T17:00", "2026-04-02T16:00"]),
        (datetime(2026, 10, 20, 12, tzinfo=BERLIN),
         ["2026-10-22T16:00", "2026-10-29T17:00", "2026-11-05T17:00"]),
    ],
)  # fmt: skip
def test_every_thursday_18_00_across_the_clock_changes(now: datetime, expected: list) -> None:
    for text in ("every thursday 18:00", "كل خميس الساعة 6 مساء"):
        starts = occurrences_after(parsed(text, now=now), now, count=3)
        assert [s.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") for s in starts] == expected
        assert {(s.hour, s.minute) for s in starts} == {(18, 0)}


def test_a_daily_series_at_02_30_over_the_spring_forward_night() -> None:
    # Berlin springs forward on 28 March 2027 at 02:00
    rec = parsed("every day 02:30", now=datetime(2027, 3, 27, 12, tzinfo=BERLIN))
    assert rec.first_start.replace(tzinfo=None) == datetime(2027, 3, 28, 2, 30)
    starts = occurrences_after(rec, rec.first_start - timedelta(seconds=1), count=2)
    assert [(s.hour, s.minute) for s in starts] == [(3, 30), (2, 30)]


PROBLEMS = [
    ("", WhenProblem.UNREADABLE),
    ("banana", WhenProblem.UNREADABLE),
    ("every blue moon", WhenProblem.UNREADABLE),
    ("tomorrow 18:00 please", WhenProblem.UNREADABLE),
    ("كل شيء", WhenProblem.UNREADABLE),
    ("2020-01-01 10:00", WhenProblem.IN_THE_PAST),
    ("today 08:00", WhenProblem.IN_THE_PAST),
    ("every thursday 18:00 starting 2026-11-01", WhenProblem.IN_THE_PAST),
    ("25:00", WhenProblem.BAD_TIME),
    ("tomorrow 13pm", WhenProblem.BAD_TIME),
    ("tomorrow 18:75", WhenProblem.BAD_TIME),
    ("tomorrow 18h75", WhenProblem.BAD_TIME),
    ("every tuesday 7–9pm", WhenProblem.UNREADABLE),  # a range: the length is asked apart
    ("كل جمعة بعد صلاة العصر", WhenProblem.UNREADABLE),  # prayer times are not clock times
    ("غدا الساعة ٩ مساء صباحا", WhenProblem.AMBIGUOUS),
    ("2026-02-30 10:00", WhenProblem.BAD_DATE),
    ("31/04/2027 10:00", WhenProblem.BAD_DATE),
    ("february 30 10:00", WhenProblem.BAD_DATE),
    ("at 7", WhenProblem.AMBIGUOUS),
    ("tomorrow 7", WhenProblem.AMBIGUOUS),
    ("غدا الساعة ٦", WhenProblem.AMBIGUOUS),
    ("3/4/2027 10:00", WhenProblem.AMBIGUOUS),
    ("tomorrow 18:00 19:00", WhenProblem.AMBIGUOUS),
    ("tomorrow friday 18:00", WhenProblem.AMBIGUOUS),  # tomorrow is a Thursday
    ("the 2nd tomorrow at noon", WhenProblem.AMBIGUOUS),
    ("tomorrow", WhenProblem.NO_TIME),
    ("next friday", WhenProblem.NO_TIME),
    ("every thursday", WhenProblem.NO_TIME),
    ("غدا", WhenProblem.NO_TIME),
    ("2026-12-10", WhenProblem.NO_TIME),
    ("every week 18:00", WhenProblem.NO_DAY),
    ("every month 18:00", WhenProblem.NO_DAY),
    ("every 2 days on monday 18:00", WhenProblem.AMBIGUOUS),
    ("every month on monday 18:00", WhenProblem.AMBIGUOUS),
    ("tomorrow 18:00 until friday", WhenProblem.AMBIGUOUS),  # a one-off does not end
    ("every thursday 18:00 until", WhenProblem.UNREADABLE),
    ("every thursday 18:00 until 19:00", WhenProblem.UNREADABLE),
    ("every monday 18:00 until 2026-12-01", WhenProblem.BAD_DATE),  # ends before it starts
    ("every monday 18:00 until 2027-02-30", WhenProblem.BAD_DATE),
    ("every monday 18:00 5 times until 2027-01-01", WhenProblem.AMBIGUOUS),
    ("friday and saturday 8pm", WhenProblem.AMBIGUOUS),  # one-off on two days
]


@pytest.mark.parametrize(("text", "problem"), PROBLEMS)
def test_phrases_it_cannot_read(text: str, problem: WhenProblem) -> None:
    with pytest.raises(WhenError) as caught:
        parsed(text)
    assert caught.value.problem is problem
    assert caught.value.text == text


def test_arabic_spellings_fold_to_one() -> None:
    assert fold("أإآٱ ة ى الخـميس مَسَاءً ١٩:٣٠ ۱۲") == "اااا ه ي الخميس مساء 19:30 12"
    assert fold("ﻻ") == "لا"  # a presentation form


# -- fuzz: whatever is typed, the answer is a start or a WhenError ----------------------------

VOCABULARY = sorted(
    set(words.WEEKDAY_WORDS) | set(words.MONTH_WORDS) | set(words.ORDINALS) | set(words.UNITS)
    | set(words.EVERY_UNIT) | words.EVERY | words.OTHER | set(words.RELATIVE_DAYS)
    | words.NEXT_WORDS | words.IN_WORDS | words.AT_WORDS | words.FILLERS | set(words.MERIDIEM)
    | set(words.CLOCK_WORDS) | set(words.HOUR_WORDS) | set(words.MINUTE_WORDS)
    | set(words.NUMBER_WORDS) | words.UNTIL_WORDS | set(words.TIMES_WORDS)
    | {"الا", "ربع", "كانون", "منتصف", "الليل", "st", "th", "t", "h", "o'clock", "30", "75"}
    | {"0", "1", "2", "7", "12", "13", "15", "24", "31", "32", "60", "2026", "2027", "9999"}
    | {"18:00", "07:30", "24:00", "2026-12-10", "2027-02-29", "25/12/2026", "3/4", "12.12.12"}
)  # fmt: skip


def check_answer(text: str, now: datetime, zone: str) -> None:
    try:
        rec = parse_when(text, now=now, timezone=zone)
    except WhenError as exc:
        assert exc.text == text
        assert isinstance(exc.problem, WhenProblem)
        return
    # a start that is read is ahead, and is the series' own next start
    # (compared in UTC: a wall time in a DST gap names a later wall time on the clock)
    first = rec.first_start.astimezone(UTC)
    assert first > now
    assert [s.astimezone(UTC) for s in occurrences_after(rec, now, count=1)] == [first]


@settings(max_examples=400, deadline=None)
@given(
    picked=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=7),
    now=st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)),
    zone=st.sampled_from(["Europe/Berlin", "Asia/Riyadh", "America/Sao_Paulo"]),
)
def test_fuzz_known_words_in_any_order(picked: list[str], now: datetime, zone: str) -> None:
    check_answer(" ".join(picked), now.replace(tzinfo=ZoneInfo(zone)), zone)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_fuzz_any_text(text: str) -> None:
    check_answer(text, NOW, "Europe/Berlin")


ARABIC = "".join(chr(c) for c in range(0x0621, 0x0653)) + "٠١٢٣٤٥٦٧٨٩ :/-ـ" + "0123456789"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=ARABIC, max_size=40))
def test_fuzz_arabic_letters_and_digits(text: str) -> None:
    check_answer(text, NOW, "Asia/Riyadh")
