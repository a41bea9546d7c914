"""Calendar files read back by real calendar parsers (icalendar, dateutil.rrule)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar

from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.events import Events

BERLIN = ZoneInfo("Europe/Berlin")


async def test_one_event_and_the_community_calendar_with_a_cancelled_occurrence() -> None:
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin") as c:
        await c.says("amal", '/event_create "Book club" "every thursday 18:00" duration=2h '
                             'place="https://meet.example/book"')
        await c.presses("amal", "Post it")
        await c.says("amal", '/event_create "Ramadan iftar" "2026-02-20 18:30" duration=3h')
        await c.presses("amal", "Post it")
        await c.says("amal", '/event_cancel 1 reason="holiday" date=2026-01-15')
        c.new()
        await c.says("sara", "/event_ics 1")
        sent = c.expect("The calendar file for Book club.", to="sara",
                        attachments=["event-1.ics"])
        (event,) = Calendar.from_ical(sent.data[0]).walk("VEVENT")
        assert str(event["summary"]) == "Book club"
        assert str(event["url"]) == "https://meet.example/book"
        start = event.decoded("dtstart")
        assert start == datetime(2026, 1, 8, 18, 0, tzinfo=BERLIN)
        assert event.decoded("duration") == timedelta(hours=2)
        exdates = [d.dt for d in event["exdate"].dts] if not isinstance(
            event["exdate"], list) else [d.dt for x in event["exdate"] for d in x.dts]
        assert [d.astimezone(BERLIN) for d in exdates] == [
            datetime(2026, 1, 15, 18, 0, tzinfo=BERLIN)]
        assert int(event["sequence"]) == 1  # the cancel was a change
        rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=start)
        upcoming = [d for d in rule[:13] if d not in exdates]
        assert [d.strftime("%m-%d %H:%M") for d in upcoming[:3]] == [
            "01-08 18:00", "01-22 18:00", "01-29 18:00"]
        # 18:00 in Berlin before and after the clocks change (29 March) stays 18:00 local
        march, april = upcoming[-2], upcoming[-1]
        assert (march.strftime("%m-%d %H:%M"), april.strftime("%m-%d %H:%M")) == (
            "03-26 18:00", "04-02 18:00")
        assert march.utcoffset() == timedelta(hours=1) and april.utcoffset() == timedelta(
            hours=2)
        await c.says("sara", "/event_ics")
        sent = c.expect("The community calendar: 2 events.", to="sara",
                        attachments=["events.ics"])
        events = Calendar.from_ical(sent.data[0]).walk("VEVENT")
        assert sorted(str(e["summary"]) for e in events) == ["Book club", "Ramadan iftar"]
        assert len({str(e["uid"]) for e in events}) == 2
        await c.says("sara", "/event_ics 9")
        c.expect("There is no event #9 here.", to="sara")


async def test_a_moved_occurrence_in_the_file_is_where_the_events_list_has_it() -> None:
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin") as c:
        await c.says("amal", '/event_create "Book club" "every thursday 18:00" duration=2h')
        await c.presses("amal", "Post it")
        await c.says("amal", '/event_edit 1 start="next saturday 11:00" duration=3h '
                             "date=2026-01-15")
        c.expect("Moved to Sat, January 10, 2026, 11:00 (Berlin)", to="amal")
        await c.says("amal", '/event_edit 1 start="2026-01-24 10:00" date=2026-01-22')
        await c.says("amal", '/event_cancel 1 reason="holiday" date=2026-01-24')
        await c.says("sara", "/events")
        listed = c.expect("The next", to="sara").text
        await c.says("sara", "/event_ics 1")
        sent = c.expect("The calendar file for Book club.", to="sara",
                        attachments=["event-1.ics"])
    master, *overrides = sorted(Calendar.from_ical(sent.data[0]).walk("VEVENT"),
                                key=lambda e: "RECURRENCE-ID" in e)
    assert "RRULE" in master and "RECURRENCE-ID" not in master
    (moved,) = overrides  # the 22nd moved, then cancelled: only an EXDATE
    assert str(moved["uid"]) == str(master["uid"])
    assert moved.decoded("recurrence-id") == datetime(2026, 1, 15, 18, 0, tzinfo=BERLIN)
    assert moved.decoded("dtstart") == datetime(2026, 1, 10, 11, 0, tzinfo=BERLIN)
    assert moved.decoded("duration") == timedelta(hours=3)
    start = master.decoded("dtstart")
    exdates = [d.dt for x in (master["exdate"] if isinstance(master["exdate"], list)
                              else [master["exdate"]]) for d in x.dts]
    assert sorted(d.astimezone(BERLIN) for d in exdates) == [
        datetime(2026, 1, 15, 18, 0, tzinfo=BERLIN), datetime(2026, 1, 22, 18, 0, tzinfo=BERLIN)]
    # what a calendar application shows: the rule less its EXDATEs, plus the override
    rules = rruleset()
    rules.rrule(rrulestr(master["rrule"].to_ical().decode(), dtstart=start))
    for exdate in exdates:
        rules.exdate(exdate)
    shown = sorted([*rules[:3], moved.decoded("dtstart")])
    assert [d.strftime("%a %m-%d %H:%M") for d in shown] == [
        "Thu 01-08 18:00", "Sat 01-10 11:00", "Thu 01-29 18:00", "Thu 02-05 18:00"]
    assert [line for line in listed.splitlines() if line.startswith("•")] == [
        f"• #1 Book club — {when} (Berlin)" for when in (  # /events looks 31 days ahead
            "Thu, January 8, 2026, 18:00", "Sat, January 10, 2026, 11:00",
            "Thu, January 29, 2026, 18:00")]


def shown_titles(data: bytes, count: int) -> list[tuple[str, str, str]]:
    """What a calendar application lists: (start, title, place) of the first ``count``.

    The series expanded by dateutil from the master's DTSTART, RRULE and EXDATE, each start
    a RECURRENCE-ID names replaced by that VEVENT.
    """
    master, *overrides = sorted(Calendar.from_ical(data).walk("VEVENT"),
                                key=lambda e: "RECURRENCE-ID" in e)
    rules = rruleset()
    rules.rrule(rrulestr(master["rrule"].to_ical().decode(), dtstart=master.decoded("dtstart")))
    exdates = master.get("exdate", [])
    for line in exdates if isinstance(exdates, list) else [exdates]:
        for d in line.dts:
            rules.exdate(d.dt)
    replaced = {o.decoded("recurrence-id"): o for o in overrides}
    shown = [(start, master) for start in rules[:count] if start not in replaced]
    shown += [(o.decoded("dtstart"), o) for o in overrides]
    return [(start.strftime("%a %m-%d %H:%M"), str(e["summary"]), str(e.get("location", "")))
            for start, e in sorted(shown, key=lambda s: s[0])][:count]


async def test_an_occurrence_edited_on_its_own_keeps_its_title_and_place_in_the_file() -> None:
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin") as c:
        await c.says("amal", '/event_create "Book club" "every thursday 18:00" duration=2h '
                             'place="Room 4" description="Bring the book."')
        await c.presses("amal", "Post it")
        await c.says("amal", '/event_edit 1 title="Poetry night" place="Garden café" '
                             "date=2026-01-15")
        c.expect("Changed for Thu, January 15, 2026, 18:00 (Berlin) only", to="amal")
        await c.says("amal", '/event_edit 1 start="2026-01-24 10:00" '
                             'description="Outdoors: bring a coat." date=2026-01-22')
        c.expect("Moved to Sat, January 24, 2026, 10:00 (Berlin)", to="amal")
        await c.says("sara", "/event_ics 1")
        sent = c.expect("The calendar file for Book club.", to="sara",
                        attachments=["event-1.ics"])
    events = Calendar.from_ical(sent.data[0]).walk("VEVENT")
    (master,) = [e for e in events if "RECURRENCE-ID" not in e]
    assert (str(master["summary"]), str(master["location"]), str(master["description"])) == (
        "Book club", "Room 4", "Bring the book.")
    by_id = {e.decoded("recurrence-id"): e for e in events if "RECURRENCE-ID" in e}
    assert sorted(by_id) == [datetime(2026, 1, 15, 18, 0, tzinfo=BERLIN),
                             datetime(2026, 1, 22, 18, 0, tzinfo=BERLIN)]
    poetry = by_id[datetime(2026, 1, 15, 18, 0, tzinfo=BERLIN)]
    assert (str(poetry["summary"]), str(poetry["location"]), str(poetry["description"])) == (
        "Poetry night", "Garden café", "Bring the book.")
    assert poetry.decoded("dtstart") == datetime(2026, 1, 15, 18, 0, tzinfo=BERLIN)
    assert poetry.decoded("duration") == timedelta(hours=2)
    outdoors = by_id[datetime(2026, 1, 22, 18, 0, tzinfo=BERLIN)]
    assert (str(outdoors["summary"]), str(outdoors["location"]),
            str(outdoors["description"])) == ("Book club", "Room 4", "Outdoors: bring a coat.")
    assert shown_titles(sent.data[0], 4) == [
        ("Thu 01-08 18:00", "Book club", "Room 4"),
        ("Thu 01-15 18:00", "Poetry night", "Garden café"),
        ("Sat 01-24 10:00", "Book club", "Room 4"),
        ("Thu 01-29 18:00", "Book club", "Room 4")]


async def test_an_edited_occurrence_then_cancelled_is_only_an_exdate() -> None:
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin") as c:
        await c.says("amal", '/event_create "Book club" "every thursday 18:00" duration=2h')
        await c.presses("amal", "Post it")
        await c.says("amal", '/event_edit 1 title="Poetry night" date=2026-01-15')
        await c.says("amal", "/event_edit 1 duration=3h date=2026-01-22")
        for day in ("2026-01-15", "2026-01-22"):
            await c.says("amal", f'/event_cancel 1 reason="holiday" date={day}')
        c.new()
        await c.says("sara", "/event_ics 1")
        sent = c.expect("The calendar file for Book club.", to="sara",
                        attachments=["event-1.ics"])
    (master,) = Calendar.from_ical(sent.data[0]).walk("VEVENT")  # no overriding VEVENT
    assert "RECURRENCE-ID" not in master
    assert shown_titles(sent.data[0], 2) == [("Thu 01-08 18:00", "Book club", ""),
                                             ("Thu 01-29 18:00", "Book club", "")]
