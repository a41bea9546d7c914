"""An event's moments in order: coinciding instants share one step; the chain ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from plugins.events.recurrence import Recurrence
from plugins.events.timeline import END, REMIND, START, Changes, clash, current, next_step

BERLIN = ZoneInfo("Europe/Berlin")
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def walk(rec: Recurrence, after: datetime, duration: timedelta,
         reminders: list[timedelta], steps: int) -> list[tuple[str, list[str]]]:
    out = []
    for _ in range(steps):
        step = next_step(rec, after, duration, reminders)
        if step is None:
            break
        local = step.at.astimezone(BERLIN).strftime("%a %d %H:%M")
        out.append((local, [m.kind for m in step.moments]))
        assert step.at > after  # never the same instant twice
        after = step.at
    return out


def test_a_daily_events_start_and_the_next_days_24h_reminder_are_one_step() -> None:
    rec = Recurrence(datetime(2026, 1, 6, 18, 0, tzinfo=BERLIN), "FREQ=DAILY", "Europe/Berlin")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert walk(rec, start, 2 * HOUR, [DAY, HOUR], 5) == [
        ("Mon 05 18:00", [REMIND]),            # 24 h before Tuesday
        ("Tue 06 17:00", [REMIND]),            # 1 h before
        ("Tue 06 18:00", [REMIND, START]),     # Wednesday's 24 h reminder, Tuesday's start
        ("Tue 06 20:00", [END]),
        ("Wed 07 17:00", [REMIND]),
    ]


def test_a_one_off_event_ends_its_chain_and_late_creation_skips_passed_reminders() -> None:
    rec = Recurrence(datetime(2026, 1, 6, 18, 0, tzinfo=BERLIN), None, "Europe/Berlin")
    created = datetime(2026, 1, 6, 16, 30, tzinfo=UTC)  # 30 minutes before the start
    assert walk(rec, created, HOUR, [DAY, HOUR], 5) == [
        ("Tue 06 18:00", [START]), ("Tue 06 19:00", [END])]


def test_weekly_moments_stay_at_local_time_across_the_spring_change() -> None:
    rec = Recurrence(datetime(2026, 3, 26, 18, 0, tzinfo=BERLIN), "FREQ=WEEKLY;BYDAY=TH",
                     "Europe/Berlin")
    steps = walk(rec, datetime(2026, 3, 26, 0, 0, tzinfo=UTC), HOUR, [HOUR], 6)
    assert [s for s in steps if s[1] == [START]] == [("Thu 26 18:00", [START]),
                                                       ("Thu 02 18:00", [START])]


def test_a_moved_occurrence_has_its_moments_at_its_new_start_and_its_own_length() -> None:
    rec = Recurrence(datetime(2026, 1, 8, 18, 0, tzinfo=BERLIN), "FREQ=WEEKLY;BYDAY=TH",
                     "Europe/Berlin")
    old, new = datetime(2026, 1, 15, 17, tzinfo=UTC), datetime(2026, 1, 16, 18, 30, tzinfo=UTC)
    moved = Changes(moved={old: new}, lengths={new: 3 * HOUR})
    steps = []
    after = datetime(2026, 1, 9, 0, 0, tzinfo=UTC)
    for _ in range(4):
        step = next_step(rec, after, 2 * HOUR, [HOUR], moved)
        assert step is not None
        steps.append((step.at.astimezone(BERLIN).strftime("%a %d %H:%M"),
                      [m.kind for m in step.moments]))
        after = step.at
    assert steps == [("Fri 16 18:30", [REMIND]), ("Fri 16 19:30", [START]),
                     ("Fri 16 22:30", [END]), ("Thu 22 17:00", [REMIND])]
    assert current(rec, datetime(2026, 1, 16, 21, 0, tzinfo=UTC), 2 * HOUR, moved) == new
    others = moved.without(old)
    assert clash(rec, datetime(2026, 1, 22, 16, 30, tzinfo=UTC), 2 * HOUR, 2 * HOUR,
                 others) == datetime(2026, 1, 22, 17, tzinfo=UTC)
    assert clash(rec, datetime(2026, 1, 15, 17, 30, tzinfo=UTC), 2 * HOUR, 2 * HOUR,
                 others) is None  # its own old time is free
