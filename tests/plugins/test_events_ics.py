"""Calendar files: read back by icalendar's own parser, expanded by dateutil from the file.

The starts a calendar application would show are computed from the file's own DTSTART, RRULE
and EXDATE lines with ``dateutil.rrule.rrulestr``, and must be the starts the plugin computes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar

from plugins.events.ics import CalendarEntry, Texts, calendar_file
from plugins.events.recurrence import Recurrence, occurrences_after
from tests.conftest import ROOT

BERLIN = ZoneInfo("Europe/Berlin")
RIYADH = ZoneInfo("Asia/Riyadh")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

WEEKLY = CalendarEntry(
    uid="event-1@majlis",
    title='Study circle; week 3, "Ibn Khaldun"',
    description="Bring the book.\nChapter 2, part 1; notes: optional",
    location="Room 4, Library",
    url="https://example.org/circle",
    recurrence=Recurrence(
        datetime(2026, 3, 19, 18, 0, tzinfo=BERLIN), "FREQ=WEEKLY;BYDAY=TH", "Europe/Berlin"
    ),
    duration=timedelta(hours=1, minutes=30),
    cancelled=(datetime(2026, 3, 26, 17, 0, tzinfo=UTC), datetime(2026, 4, 9, 18, tzinfo=BERLIN)),
    sequence=3,
)
GAP = CalendarEntry(
    uid="event-2@majlis",
    title="Night watch",
    description="",
    location="",
    url=None,
    recurrence=Recurrence(
        datetime(2026, 3, 27, 2, 30, tzinfo=BERLIN), "FREQ=DAILY", "Europe/Berlin"
    ),
    duration=timedelta(minutes=45),
    # the 29 March start happens at 03:30 (the gap): cancelled by its instant
    cancelled=(datetime(2026, 3, 29, 1, 30, tzinfo=UTC),),
)
MONTHLY = CalendarEntry(
    uid="event-3@majlis",
    title="أمسية رمضانية، مع الشاي",
    description="لقاء شهري؛ الجميع مدعوون",
    location="المجلس",
    url=None,
    recurrence=Recurrence(
        datetime(2026, 3, 1, 21, 0, tzinfo=RIYADH), "FREQ=MONTHLY;BYDAY=1SU", "Asia/Riyadh"
    ),
    duration=timedelta(hours=2),
    cancelled=(),
)
ONCE = CalendarEntry(
    uid="event-4@majlis",
    title="Launch",
    description="",
    location="#general",
    url=None,
    recurrence=Recurrence(datetime(2026, 5, 1, 19, 0, tzinfo=BERLIN), None, "Europe/Berlin"),
    duration=timedelta(hours=1),
    cancelled=(),
)
ENDING = CalendarEntry(
    uid="event-5@majlis",
    title="Spring course",
    description="",
    location="",
    url=None,
    # every other Tuesday 19:30 Riyadh until 12 May 2026 (the last start, 16:30 UTC, included)
    recurrence=Recurrence(
        datetime(2026, 3, 3, 19, 30, tzinfo=RIYADH),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20260512T163000Z",
        "Asia/Riyadh",
    ),
    duration=timedelta(hours=1),
    cancelled=(),
)
ENTRIES = (WEEKLY, GAP, MONTHLY, ONCE, ENDING)


def read(entries: tuple[CalendarEntry, ...] = ENTRIES) -> tuple[bytes, Calendar]:
    data = calendar_file(entries, name="Majlis: Readers' club", now=NOW)
    return data, Calendar.from_ical(data)


def event_lines(data: bytes, uid: str) -> list[str]:
    """The unfolded content lines of one VEVENT, as a calendar application reads them."""
    text = re.sub(r"\r\n[ \t]", "", data.decode())
    block = next(b for b in text.split("BEGIN:VEVENT")[1:] if f"\r\nUID:{uid}\r\n" in b)
    return block.split("END:VEVENT")[0].strip().split("\r\n")


def file_starts(data: bytes, uid: str, after: datetime, n: int) -> list[datetime]:
    """The next ``n`` starts after ``after`` by dateutil, from the file's own lines."""
    wanted = [
        line
        for line in event_lines(data, uid)
        if line.split(";")[0].split(":")[0] in ("DTSTART", "RRULE", "EXDATE")
    ]
    zones = {"Europe/Berlin": BERLIN, "Asia/Riyadh": RIYADH}
    # compatible: DTSTART is the first start, as RFC 5545 says (a one-off has no RRULE)
    series = rrulestr("\n".join(wanted), forceset=True, compatible=True, tzids=zones)
    assert isinstance(series, rruleset)
    found: list[datetime] = []
    for start in series:
        if start.astimezone(UTC) > after:
            found.append(start.astimezone(UTC))
        if len(found) == n:
            break
    return found


def test_the_calendar_header_and_one_timezone_per_zone_used() -> None:
    data, calendar = read()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Majlis//Events//EN"
    assert str(calendar["X-WR-CALNAME"]) == "Majlis: Readers' club"
    assert sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")) == [
        "Asia/Riyadh",
        "Europe/Berlin",
    ]
    assert calendar.get_missing_tzids() == set()
    # the Berlin VTIMEZONE knows the March change: a reader without tzdata gets +02:00
    berlin = next(tz for tz in calendar.walk("VTIMEZONE") if tz["TZID"] == "Europe/Berlin")
    daylight = berlin.walk("DAYLIGHT")[0]
    assert daylight.decoded("TZOFFSETTO") == timedelta(hours=2)


def test_each_event_reads_back_with_its_fields() -> None:
    _, calendar = read()
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {e.uid for e in ENTRIES}
    weekly = events["event-1@majlis"]
    assert str(weekly["SUMMARY"]) == WEEKLY.title
    assert str(weekly["DESCRIPTION"]) == WEEKLY.description
    assert str(weekly["LOCATION"]) == WEEKLY.location
    assert str(weekly["URL"]) == WEEKLY.url
    assert weekly["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert weekly.decoded("DTSTART") == datetime(2026, 3, 19, 18, 0, tzinfo=BERLIN)
    assert weekly.decoded("DURATION") == timedelta(hours=1, minutes=30)
    assert weekly.decoded("SEQUENCE") == 3
    assert weekly.decoded("DTSTAMP") == NOW
    assert weekly["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=TH"
    monthly = events["event-3@majlis"]
    assert str(monthly["SUMMARY"]) == "أمسية رمضانية، مع الشاي"
    assert str(monthly["DESCRIPTION"]) == "لقاء شهري؛ الجميع مدعوون"
    assert "RRULE" not in events["event-4@majlis"]
    assert "DESCRIPTION" not in events["event-2@majlis"]


def test_text_is_escaped_in_the_file() -> None:
    data, _ = read()
    lines = event_lines(data, "event-1@majlis")
    assert 'SUMMARY:Study circle\\; week 3\\, "Ibn Khaldun"' in lines
    assert "DESCRIPTION:Bring the book.\\nChapter 2\\, part 1\\; notes: optional" in lines


def test_the_file_expands_to_the_plugins_own_starts() -> None:
    data, _ = read()
    for entry in ENTRIES:
        after = datetime(2026, 3, 1, tzinfo=UTC)
        ours = [
            s.astimezone(UTC)
            for s in occurrences_after(entry.recurrence, after, count=12, excluded=entry.cancelled)
        ]
        assert file_starts(data, entry.uid, after, 12) == ours, entry.uid


def test_a_series_that_ends_ends_in_the_file_too() -> None:
    data, _ = read()
    starts = file_starts(data, ENDING.uid, NOW, 12)
    assert [s.strftime("%m-%d %H:%M") for s in starts] == [
        "03-03 16:30",
        "03-17 16:30",
        "03-31 16:30",
        "04-14 16:30",
        "04-28 16:30",
        "05-12 16:30",
    ]
    (rule,) = [line for line in event_lines(data, ENDING.uid) if line.startswith("RRULE:")]
    assert "UNTIL=20260512T163000Z" in rule.split(";")


def test_cancelled_starts_are_exdates_and_not_in_the_expansion() -> None:
    data, _ = read()
    weekly = file_starts(data, "event-1@majlis", NOW, 4)
    assert weekly == [
        datetime(2026, 3, 19, 17, tzinfo=UTC),
        datetime(2026, 4, 2, 16, tzinfo=UTC),
        datetime(2026, 4, 16, 16, tzinfo=UTC),
        datetime(2026, 4, 23, 16, tzinfo=UTC),
    ]
    assert "EXDATE;TZID=Europe/Berlin:20260326T180000,20260409T180000" in event_lines(
        data, "event-1@majlis"
    )
    # the gap start is named as the rule names it (02:30), so the expansion drops it
    assert "EXDATE;TZID=Europe/Berlin:20260329T023000" in event_lines(data, "event-2@majlis")
    gap = file_starts(data, "event-2@majlis", NOW, 3)
    assert gap == [
        datetime(2026, 3, 27, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 28, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]


def test_a_cancelled_one_off_is_marked_cancelled() -> None:
    # cancelled by its instant in UTC: the same start as 19:00 Berlin
    cancelled = replace(ONCE, cancelled=(datetime(2026, 5, 1, 17, tzinfo=UTC),))
    _, calendar = read((cancelled,))
    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    _, calendar = read((ONCE,))
    assert "STATUS" not in calendar.walk("VEVENT")[0]


def test_an_empty_calendar_is_still_a_calendar() -> None:
    _, calendar = read(())
    assert calendar.walk("VEVENT") == []
    assert str(calendar["X-WR-CALNAME"]) == "Majlis: Readers' club"


def test_a_moved_occurrence_is_an_overriding_vevent() -> None:
    # 2 April's meeting moved to Saturday 4 April 11:00; the series otherwise unchanged
    new_start = datetime(2026, 4, 4, 11, tzinfo=BERLIN)
    moved = replace(WEEKLY, moved=((datetime(2026, 4, 2, 16, tzinfo=UTC), new_start),))
    data, calendar = read((moved,))
    master, override = sorted(calendar.walk("VEVENT"), key=lambda e: "RECURRENCE-ID" in e)
    assert str(override["UID"]) == str(master["UID"]) == WEEKLY.uid
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Berlin"
    assert override.decoded("RECURRENCE-ID") == datetime(2026, 4, 2, 18, tzinfo=BERLIN)
    assert override.decoded("DTSTART") == datetime(2026, 4, 4, 11, tzinfo=BERLIN)
    assert "RRULE" not in override
    # what a calendar application shows: the master's starts, the overridden one replaced
    replaced = override.decoded("RECURRENCE-ID").astimezone(UTC)
    shown = sorted(
        [s for s in file_starts(data, WEEKLY.uid, NOW, 8) if s != replaced]
        + [override.decoded("DTSTART").astimezone(UTC)]
    )[:6]
    ours = occurrences_after(
        moved.recurrence, NOW, count=6, excluded=moved.cancelled, moved=dict(moved.moved)
    )
    assert shown == [s.astimezone(UTC) for s in ours]
    assert shown[1] == datetime(2026, 4, 4, 9, tzinfo=UTC)


def test_a_moved_one_off_is_at_its_new_start() -> None:
    moved = replace(
        ONCE, moved=((ONCE.recurrence.first_start, datetime(2026, 5, 2, 17, tzinfo=UTC)),)
    )
    _, calendar = read((moved,))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2026, 5, 2, 19, tzinfo=BERLIN)
    assert "RECURRENCE-ID" not in event


def test_an_occurrence_with_its_own_texts_overrides_only_them() -> None:
    # 2 April's meeting has its own title, place and link; 16 April moved, with its own words
    own = Texts('Guest talk; "Al-Muqaddimah"', "", "Hall B, https://meet.example/b",
                "https://meet.example/b")
    new_start = datetime(2026, 4, 18, 11, tzinfo=BERLIN)
    outside = Texts(WEEKLY.title, "In the garden, if dry", WEEKLY.location, WEEKLY.url)
    edited = replace(WEEKLY, moved=((datetime(2026, 4, 16, 16, tzinfo=UTC), new_start),),
                     texts=((datetime(2026, 4, 2, 16, tzinfo=UTC), own), (new_start, outside)))
    data, calendar = read((edited,))
    master, *overrides = sorted(calendar.walk("VEVENT"), key=lambda e: "RECURRENCE-ID" in e)
    assert str(master["SUMMARY"]) == WEEKLY.title and str(master["LOCATION"]) == WEEKLY.location
    by_id = {o.decoded("RECURRENCE-ID"): o for o in overrides}
    talk = by_id[datetime(2026, 4, 2, 18, tzinfo=BERLIN)]
    assert str(talk["SUMMARY"]) == 'Guest talk; "Al-Muqaddimah"'
    assert str(talk["LOCATION"]) == "Hall B, https://meet.example/b"
    assert str(talk["URL"]) == "https://meet.example/b" and "DESCRIPTION" not in talk
    assert talk.decoded("DTSTART") == datetime(2026, 4, 2, 18, tzinfo=BERLIN)
    assert talk.decoded("DURATION") == timedelta(hours=1, minutes=30)
    garden = by_id[datetime(2026, 4, 16, 18, tzinfo=BERLIN)]
    assert garden.decoded("DTSTART") == new_start
    assert (str(garden["SUMMARY"]), str(garden["DESCRIPTION"])) == (
        WEEKLY.title, "In the garden, if dry")
    # the 2 April start is not an EXDATE: its VEVENT replaces it (the moved one's is)
    lines = [line for line in event_lines(data, WEEKLY.uid) if line.startswith("EXDATE")]
    assert "20260402T180000" not in "".join(lines) and "20260416T180000" in "".join(lines)
    # what a calendar application lists from 1 April: each start of the rule less its
    # EXDATEs (9 April is cancelled) in the VEVENT whose RECURRENCE-ID names it, else the
    # master's; the moved one at its new start
    rule_starts = file_starts(data, WEEKLY.uid, datetime(2026, 4, 1, tzinfo=UTC), 3)
    named = {o.decoded("RECURRENCE-ID").astimezone(UTC): o for o in overrides}
    listed = [(s, master) for s in rule_starts if s not in named]
    listed += [(o.decoded("DTSTART").astimezone(UTC), o) for o in overrides]
    assert [(when.astimezone(BERLIN).strftime("%a %m-%d %H:%M"), str(e["SUMMARY"]),
             str(e["LOCATION"])) for when, e in sorted(listed, key=lambda x: x[0])][:4] == [
        ("Thu 04-02 18:00", 'Guest talk; "Al-Muqaddimah"', "Hall B, https://meet.example/b"),
        ("Sat 04-18 11:00", WEEKLY.title, WEEKLY.location),
        ("Thu 04-23 18:00", WEEKLY.title, WEEKLY.location),
        ("Thu 04-30 18:00", WEEKLY.title, WEEKLY.location)]


def test_a_one_off_with_its_own_texts_says_them() -> None:
    once = replace(ONCE, texts=((ONCE.recurrence.first_start, Texts("Launch party", "Cake",
                                                                     "Roof", None)),))
    _, calendar = read((once,))
    (event,) = calendar.walk("VEVENT")
    assert (str(event["SUMMARY"]), str(event["DESCRIPTION"]), str(event["LOCATION"])) == (
        "Launch party", "Cake", "Roof")
    assert "RECURRENCE-ID" not in event


def test_importing_the_module_does_not_load_icalendar() -> None:
    # a fresh interpreter: this one has icalendar loaded already
    script = "import sys, plugins.events.ics; print('icalendar' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_one_off_on_the_second_02_30_is_written_in_utc() -> None:
    second = replace(
        ONCE,
        recurrence=Recurrence(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), None, "Europe/Berlin"),
    )
    data, calendar = read((second,))
    assert "DTSTART:20261025T013000Z" in event_lines(data, ONCE.uid)
    assert calendar.walk("VEVENT")[0].decoded("DTSTART") == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
