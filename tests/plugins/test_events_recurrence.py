"""Recurrence: the next starts of an event, DST-correct, with cancelled ones skipped.

Expected instants are written by hand (from the published 2026 DST dates: Europe/Berlin
springs forward on 29 March at 02:00 and falls back on 25 October at 03:00) or expanded by
``dateutil.rrule`` on its own, never by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.events.recurrence import (
    Recurrence,
    RecurrenceError,
    RuleParts,
    next_occurrence,
    next_occurrences_bulk,
    occurrences_after,
    rule_parts,
    wall_start,
)

BERLIN = ZoneInfo("Europe/Berlin")
RIYADH = ZoneInfo("Asia/Riyadh")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def weekly_thursday(zone: ZoneInfo, day: int, month: int) -> Recurrence:
    return Recurrence(
        datetime(2026, month, day, 18, 0, tzinfo=zone), "FREQ=WEEKLY;BYDAY=TH", zone.key
    )


def test_thursday_18_00_stays_18_00_across_spring_forward() -> None:
    rec = weekly_thursday(BERLIN, 19, 3)
    starts = occurrences_after(rec, utc(2026, 3, 18), count=3)
    assert [s.astimezone(UTC) for s in starts] == [
        utc(2026, 3, 19, 17),
        utc(2026, 3, 26, 17),
        utc(2026, 4, 2, 16),
    ]
    assert [(s.hour, s.minute) for s in starts] == [(18, 0)] * 3
    assert [s.utcoffset() for s in starts] == [timedelta(hours=h) for h in (1, 1, 2)]


def test_thursday_18_00_stays_18_00_across_fall_back() -> None:
    rec = weekly_thursday(BERLIN, 19, 3)
    starts = occurrences_after(rec, utc(2026, 10, 20), count=2)
    assert [s.astimezone(UTC) for s in starts] == [utc(2026, 10, 22, 16), utc(2026, 10, 29, 17)]
    assert [s.hour for s in starts] == [18, 18]


def test_riyadh_has_no_dst_so_the_utc_time_never_moves() -> None:
    rec = weekly_thursday(RIYADH, 5, 3)
    starts = occurrences_after(rec, utc(2026, 3, 1), count=35)
    assert {s.astimezone(UTC).time() for s in starts} == {utc(2026, 1, 1, 15).time()}
    assert starts[-1].astimezone(UTC) == utc(2026, 10, 29, 15)


def test_a_start_in_the_spring_forward_gap_moves_forward_by_the_gap() -> None:
    rec = Recurrence(datetime(2026, 3, 27, 2, 30, tzinfo=BERLIN), "FREQ=DAILY", "Europe/Berlin")
    starts = occurrences_after(rec, utc(2026, 3, 27), count=4)
    # 29 March 02:30 does not exist: it is read with the offset before the gap (+01:00),
    # 01:30 UTC, which the wall clock shows as 03:30; the next day is back at 02:30
    assert [s.astimezone(UTC) for s in starts] == [
        utc(2026, 3, 27, 1, 30), utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]  # fmt: skip
    assert [(s.hour, s.minute) for s in starts] == [(2, 30), (2, 30), (3, 30), (2, 30)]
    assert wall_start(rec, starts[2]) == datetime(2026, 3, 29, 2, 30)


def test_a_start_in_the_fall_back_fold_is_the_first_of_the_two() -> None:
    rec = Recurrence(datetime(2026, 10, 24, 2, 30, tzinfo=BERLIN), "FREQ=DAILY", "Europe/Berlin")
    starts = occurrences_after(rec, utc(2026, 10, 24), count=3)
    # 25 October 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC: first one
    assert [s.astimezone(UTC) for s in starts] == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]
    # the second 02:30 is no new occurrence
    assert next_occurrence(rec, utc(2026, 10, 25, 0, 30)) == starts[2]


def test_a_one_off_on_the_second_02_30_stays_the_second() -> None:
    # 01:30 UTC on 25 October is the second 02:30 in Berlin (winter time, fold=1)
    rec = Recurrence(utc(2026, 10, 25, 1, 30), None, "Europe/Berlin")
    assert rec.first_start.fold == 1
    (start,) = occurrences_after(rec, utc(2026, 10, 25, 1))
    # (a fold=1 datetime never equals one in another zone, PEP 495: compare the UTC instants)
    assert start.astimezone(UTC) == utc(2026, 10, 25, 1, 30)
    assert (start.hour, start.minute, start.utcoffset()) == (2, 30, timedelta(hours=1))


def test_a_series_is_stored_by_its_wall_time() -> None:
    # a daily 02:30 series starting on the spring-forward night (first start at 03:30 local)
    rec = Recurrence.from_wall(datetime(2026, 3, 29, 2, 30), "FREQ=DAILY", "Europe/Berlin")
    assert rec.wall == datetime(2026, 3, 29, 2, 30)
    again = Recurrence.from_wall(rec.wall, rec.rule, rec.timezone)
    assert occurrences_after(again, utc(2026, 3, 29), count=2) == [
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),  # 03:30, then 02:30 again
    ]
    # by its UTC instant it would read back as a 03:30 series (the pitfall the docs warn of)
    by_instant = Recurrence(rec.first_start.astimezone(UTC), rec.rule, rec.timezone)
    assert occurrences_after(by_instant, utc(2026, 3, 29), count=2)[1].hour == 3
    with pytest.raises(RecurrenceError):
        Recurrence.from_wall(utc(2026, 1, 1), None, "UTC")


def test_a_one_off_start_in_the_gap() -> None:
    rec = Recurrence(datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN), None, "Europe/Berlin")
    assert occurrences_after(rec, utc(2026, 3, 1), count=3) == [utc(2026, 3, 29, 1, 30)]
    assert next_occurrence(rec, utc(2026, 3, 29, 1, 30)) is None


def test_cancelled_starts_are_skipped_as_instants() -> None:
    rec = weekly_thursday(BERLIN, 19, 3)
    # given in UTC and in Riyadh time: the same instants as 26 March and 9 April 18:00 Berlin
    cancelled = [utc(2026, 3, 26, 17), datetime(2026, 4, 9, 19, 0, tzinfo=RIYADH)]
    starts = occurrences_after(rec, utc(2026, 3, 20), count=3, excluded=cancelled)
    assert [s.date().isoformat() for s in starts] == ["2026-04-02", "2026-04-16", "2026-04-23"]
    assert next_occurrence(rec, utc(2026, 3, 20), cancelled) == starts[0]


def test_a_moved_occurrence_counts_at_its_new_start() -> None:
    rec = weekly_thursday(BERLIN, 19, 3)
    # 2 April 18:00 moved to Saturday 4 April 11:00, 16 April moved before 9 April
    moved = {
        utc(2026, 4, 2, 16): datetime(2026, 4, 4, 11, tzinfo=BERLIN),
        utc(2026, 4, 16, 16): utc(2026, 4, 8, 9),
    }
    starts = occurrences_after(rec, utc(2026, 3, 27), count=4, moved=moved)
    assert [s.astimezone(UTC) for s in starts] == [
        utc(2026, 4, 4, 9),
        utc(2026, 4, 8, 9),
        utc(2026, 4, 9, 16),
        utc(2026, 4, 23, 16),
    ]
    assert all(s.tzinfo is BERLIN for s in starts)
    # a moved start already passed is not a next start; a cancelled new start neither
    assert occurrences_after(rec, utc(2026, 4, 5), moved=moved) == [utc(2026, 4, 8, 9)]
    assert occurrences_after(
        rec, utc(2026, 4, 5), moved=moved, excluded=[utc(2026, 4, 8, 9)], count=1
    ) == [utc(2026, 4, 9, 16)]
    one_off = Recurrence(datetime(2026, 5, 1, 19, tzinfo=BERLIN), None, "Europe/Berlin")
    assert occurrences_after(
        one_off, utc(2026, 4, 1), moved={one_off.first_start: utc(2026, 5, 2, 17)}
    ) == [utc(2026, 5, 2, 17)]


def test_rule_parts_for_the_words_a_member_reads() -> None:
    weekly = Recurrence(
        datetime(2026, 1, 5, 19, tzinfo=BERLIN),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH,MO",
        "Europe/Berlin",
    )
    assert rule_parts(weekly) == RuleParts("weekly", 2, (0, 3), None, None, None)
    plain = Recurrence(datetime(2026, 1, 7, 19, tzinfo=BERLIN), "FREQ=WEEKLY", "Europe/Berlin")
    assert rule_parts(plain) == RuleParts("weekly", 1, (2,), None, None, None)
    last = Recurrence(
        datetime(2026, 1, 30, 19, tzinfo=BERLIN),
        "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231T230000Z",
        "Europe/Berlin",
    )
    assert rule_parts(last) == RuleParts("monthly", 1, (), None, (-1, 4), utc(2026, 12, 31, 23))
    assert rule_parts(Recurrence(weekly.first_start, "FREQ=DAILY;INTERVAL=3", "UTC")) == (
        RuleParts("daily", 3, (), None, None, None)
    )
    assert rule_parts(Recurrence(weekly.first_start, None, "UTC")) is None
    assert rule_parts(Recurrence(weekly.first_start, "FREQ=YEARLY", "UTC")) is None


def test_strictly_after_and_the_rules_end() -> None:
    rec = Recurrence(
        datetime(2026, 1, 1, 9, tzinfo=BERLIN),
        "FREQ=DAILY;UNTIL=20260103T080000Z",
        "Europe/Berlin",
    )
    assert occurrences_after(rec, utc(2026, 1, 1, 8), count=5) == [
        utc(2026, 1, 2, 8),
        utc(2026, 1, 3, 8),
    ]
    counted = Recurrence(
        datetime(2026, 1, 1, 9, tzinfo=BERLIN), "FREQ=DAILY;COUNT=2", "Europe/Berlin"
    )
    assert occurrences_after(counted, utc(2025, 1, 1), count=5) == [
        utc(2026, 1, 1, 8),
        utc(2026, 1, 2, 8),
    ]
    assert next_occurrence(counted, utc(2026, 1, 2, 8)) is None


def test_biweekly_counts_weeks_from_the_first_start() -> None:
    # first start Monday 5 January: the series meets on 5 and 19 January, 2 February ...
    rec = Recurrence(
        datetime(2026, 1, 5, 19, 30, tzinfo=BERLIN),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        "Europe/Berlin",
    )
    starts = occurrences_after(rec, utc(2026, 1, 10), count=3)
    assert [s.date().isoformat() for s in starts] == ["2026-01-19", "2026-02-02", "2026-02-16"]


def test_first_sunday_and_last_friday_of_the_month() -> None:
    first = Recurrence(
        datetime(2026, 1, 4, 10, tzinfo=BERLIN), "FREQ=MONTHLY;BYDAY=1SU", "Europe/Berlin"
    )
    assert [s.day for s in occurrences_after(first, utc(2026, 1, 5), count=4)] == [1, 1, 5, 3]
    last = Recurrence(
        datetime(2026, 1, 30, 20, tzinfo=RIYADH), "FREQ=MONTHLY;BYDAY=-1FR", "Asia/Riyadh"
    )
    assert [s.day for s in occurrences_after(last, utc(2026, 1, 31), count=3)] == [27, 27, 24]


def test_the_31st_skips_the_months_without_one() -> None:
    rec = Recurrence(
        datetime(2026, 1, 31, 12, tzinfo=BERLIN), "FREQ=MONTHLY;BYMONTHDAY=31", "Europe/Berlin"
    )
    starts = occurrences_after(rec, utc(2026, 2, 1), count=3)
    assert [s.date().isoformat() for s in starts] == ["2026-03-31", "2026-05-31", "2026-07-31"]


def test_bulk_is_the_same_as_one_by_one() -> None:
    recs = [
        weekly_thursday(BERLIN, 19, 3),
        Recurrence(datetime(2026, 1, 1, 9, tzinfo=RIYADH), None, "Asia/Riyadh"),
        Recurrence(
            datetime(2026, 1, 4, 10, tzinfo=BERLIN), "FREQ=MONTHLY;BYDAY=1SU", "Europe/Berlin"
        ),
    ]
    after = utc(2026, 5, 1)
    assert next_occurrences_bulk(recs, after) == [utc(2026, 5, 7, 16), None, utc(2026, 5, 3, 8)]


@pytest.mark.parametrize(
    ("rule", "zone"),
    [
        ("FREQ=WEEKLY;BYDAY=XX", "Europe/Berlin"),
        ("FREQ=SOMETIMES", "Europe/Berlin"),
        ("DTSTART=20260101T000000;FREQ=DAILY", "Europe/Berlin"),
        ("FREQ=DAILY;UNTIL=20260101T000000", "Europe/Berlin"),  # UNTIL must be UTC
        ("FREQ=DAILY", "Mars/Olympus_Mons"),
    ],
)
def test_bad_rules_and_zones_are_refused(rule: str, zone: str) -> None:
    with pytest.raises(RecurrenceError):
        Recurrence(datetime(2026, 1, 1, 9, tzinfo=UTC), rule, zone)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(RecurrenceError):
        Recurrence(datetime(2026, 1, 1, 9), None, "Europe/Berlin")


def test_a_start_in_another_zone_is_kept_as_the_same_instant() -> None:
    rec = Recurrence(utc(2026, 6, 1, 16), "FREQ=DAILY", "Europe/Berlin")
    assert (rec.first_start.tzinfo, rec.first_start.hour) == (BERLIN, 18)


# -- the arithmetic path against dateutil's own expansion ------------------------------------

SHAPES = [
    "FREQ=DAILY", "FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU,TU;WKST=SU",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU,WE", "FREQ=MONTHLY;BYDAY=1SU", "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=5WE", "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU", "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
    # counted shapes (the arithmetic, counted from the first start) and shapes the arithmetic
    # does not take (the dateutil fallback)
    "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "FREQ=WEEKLY;BYDAY=FR;COUNT=30", "FREQ=HOURLY;INTERVAL=7", "FREQ=MONTHLY;BYDAY=-1FR;COUNT=7",
    "FREQ=DAILY;INTERVAL=2;COUNT=40", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=25",
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU;BYSETPOS=1",
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=-1SU",
    "FREQ=DAILY;BYMONTH=1,7", "FREQ=MONTHLY;INTERVAL=5", "FREQ=YEARLY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9,18", "FREQ=HOURLY;INTERVAL=5;BYHOUR=1,2,3",
]  # fmt: skip
ZONES = ["Europe/Berlin", "Asia/Riyadh", "America/New_York", "Australia/Lord_Howe", "UTC"]


def dateutil_next(rule: str, zone: ZoneInfo, start: datetime, after: datetime, n: int) -> list:
    """The next ``n`` instants after ``after``, by dateutil alone (wall times, fold=0)."""
    found: list[datetime] = []
    for wall in rrulestr(rule, dtstart=start):
        instant = wall.replace(tzinfo=zone).astimezone(UTC)
        if instant > after and instant not in found:
            found.append(instant)
        if len(found) == n or wall.year > after.year + 12:
            break
    return sorted(found)[:n]


@settings(max_examples=300, deadline=None)
@given(
    rule=st.sampled_from(SHAPES),
    zone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31)),
    later=st.timedeltas(timedelta(days=-30), timedelta(days=800)),
)
def test_expansion_matches_dateutil(
    rule: str, zone: str, start: datetime, later: timedelta
) -> None:
    start = start.replace(second=0, microsecond=0)
    tz = ZoneInfo(zone)
    rec = Recurrence(start.replace(tzinfo=tz), rule, zone)
    after = start.replace(tzinfo=tz).astimezone(UTC) + later
    got = [s.astimezone(UTC) for s in occurrences_after(rec, after, count=3)]
    assert got == dateutil_next(rule, tz, start, after, 3)
