"""availability.py: windows typed in English and Arabic, and the UTC hours they cover."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugins.matchmaking.availability import Window, mask, parse, parse_days, read

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, in winter


@pytest.mark.parametrize(("typed", "days"), [
    ("fri,sat", (5, 6)),
    ("الجمعة،السبت", (5, 6)),
    ("sat-wed", (1, 2, 3, 6, 7)),            # a range wraps over the week's end
    ("السبت-الأربعاء", (1, 2, 3, 6, 7)),
    ("Thursday", (4,)),
    ("الاربعاء", (3,)),                       # without the hamza, as often typed
    ("mon-sun", ()),                          # every day is no restriction
])
def test_days_as_members_type_them(typed: str, days: tuple[int, ...]) -> None:
    assert parse_days(typed) == days


@pytest.mark.parametrize("typed", ["someday", "fri-", "fri-sat-sun", "18-22", ""])
def test_unreadable_days(typed: str) -> None:
    assert parse_days(typed) is None


def test_a_window_is_read_back_as_stored() -> None:
    assert parse(["fri,sat", "10-14", "Asia/Riyadh"]) == (Window("10-14", (5, 6)),
                                                          "Asia/Riyadh")
    assert parse(["18-22"]) == (Window("18-22"), None)
    assert parse(["soon", "18-22"]) is None and parse(["fri"]) is None
    assert parse(["fri", "18-22", "Asia/Riyadh", "extra"]) is None
    for window in (Window("10-14", (5, 6)), Window("18-22")):
        assert read(window.stored()) == window
    assert Window("10-14", (5, 6)).stored() == "56 10-14" and read("") is None


def hours_of(day: int, first: int, last: int) -> set[int]:
    """The UTC hours of the week (Monday 00:00 = 0) from ``first`` to ``last`` of ``day``."""
    return {(day - 1) * 24 + h for h in range(first, last + 1)}


def bits(value: int) -> set[int]:
    return {i for i in range(168) if value >> i & 1}


def test_a_weekly_window_covers_those_days_hours_in_utc() -> None:
    # Friday 18-22 in Riyadh (UTC+3) is Friday 15:00-19:00 UTC: four hours
    assert bits(mask("5 18-22", "Asia/Riyadh", NOW)) == hours_of(5, 15, 18)
    # Monday 01-03 in Riyadh begins on Sunday 22:00 UTC: it wraps to the week's end
    assert bits(mask("1 01-03", "Asia/Riyadh", NOW)) == {166, 167}
    every_day = bits(mask("18-22", "Asia/Riyadh", NOW))
    assert len(every_day) == 28 and hours_of(5, 15, 18) <= every_day
    assert mask("", "Asia/Riyadh", NOW) == 0  # any time
