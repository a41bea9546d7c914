"""Calendar files (RFC 5545 ``.ics``) for one event or a community's whole calendar.

Every VEVENT carries its start in the event's own timezone (``DTSTART;TZID=Europe/Berlin``),
the series rule as RRULE and each cancelled occurrence as EXDATE, so a calendar application
shows the same starts ``recurrence.occurrences_after`` computes, across DST changes. An
occurrence edited on its own (moved, its own length, title, place or description) is an
overriding VEVENT with the same UID and a RECURRENCE-ID. A VTIMEZONE is included for each
timezone used. Text is escaped by the ``icalendar`` library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from plugins.events.recurrence import Recurrence, localize, wall_start, zone_of

if TYPE_CHECKING:
    from icalendar import Event

PRODID = "-//Majlis//Events//EN"
# VTIMEZONE transitions are written for this many years past the last start (or now): a
# series without an end goes on, and calendar applications also know the zone by its TZID
_ZONE_YEARS = 10


@dataclass(frozen=True, slots=True)
class Texts:
    """What one occurrence says of itself (the series' words where it has none of its own)."""

    title: str
    description: str
    location: str
    url: str | None


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One event (a one-off or a series) as it goes into a calendar file."""

    uid: str
    title: str
    description: str
    location: str
    url: str | None
    recurrence: Recurrence
    duration: timedelta
    cancelled: tuple[datetime, ...]  # occurrence starts written as EXDATE
    sequence: int = 0  # raised on every edit so calendar applications take the new version
    # (occurrence start, the start it was moved to): one occurrence edited, written as an
    # overriding VEVENT with the same UID and a RECURRENCE-ID
    moved: tuple[tuple[datetime, datetime], ...] = ()
    # (occurrence start as it is now, its own length): one occurrence lasting otherwise
    lengths: tuple[tuple[datetime, timedelta], ...] = ()
    # (occurrence start as it is now, its own texts): one occurrence titled or placed otherwise
    texts: tuple[tuple[datetime, Texts], ...] = ()


def calendar_file(entries: Iterable[CalendarEntry], *, name: str, now: datetime) -> bytes:
    """The ``.ics`` bytes of ``entries`` in one VCALENDAR named ``name``.

    ``now`` is the DTSTAMP (when the file was made); it must be timezone-aware.
    """
    # imported here: icalendar takes ~0.2 s to import, and most runs never make a file
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = now.astimezone(UTC)
    first: date = stamp.date()
    last: date = stamp.date()
    for entry in entries:
        calendar.add_component(_event(entry, stamp))
        if entry.recurrence.rule is not None:
            own = dict(entry.lengths)
            texts = dict(entry.texts)
            moved_to = {new for _, new in entry.moved}
            overridden = [*entry.moved, *((o, o) for o in sorted({*own, *texts} - moved_to))]
            for original, new in overridden:
                calendar.add_component(_moved(entry, original, new, stamp, own.get(new),
                                              texts.get(new)))
        starts = [entry.recurrence.first_start, *(new for _, new in entry.moved)]
        first = min(first, *(s.date() for s in starts))
        last = max(last, *(s.date() for s in starts))
    calendar.add_missing_timezones(
        first_date=first - timedelta(days=1),
        last_date=date(min(last.year + _ZONE_YEARS, 9999), 12, 31),
    )
    return calendar.to_ical()


def _event(entry: CalendarEntry, stamp: datetime) -> Event:
    rec = entry.recurrence
    zone = zone_of(rec.timezone)
    # the nominal wall-clock start: a start in a DST gap is read by the calendar application
    # the way recurrence.localize reads it (RFC 5545 3.3.5: the offset before the gap)
    start: datetime = rec.first_start.replace(tzinfo=zone)
    instant = localize(start.replace(tzinfo=None), zone).astimezone(UTC)
    if rec.rule is None:
        instant = rec.first_start.astimezone(UTC)
        if instant != localize(rec.wall, zone):
            start = instant  # the second 02:30 of a fold: a TZID time would name the first
        # a one-off moved is simply at its new start (RECURRENCE-ID is for series)
        for original, new in entry.moved:
            if original.astimezone(UTC) == instant:
                start, instant = new.astimezone(zone), new.astimezone(UTC)
    # a one-off edited "just this once" is simply so (RECURRENCE-ID is for series)
    event = _common(entry, stamp, dict(entry.texts).get(instant) if rec.rule is None else None)
    event.add("dtstart", start)
    own = dict(entry.lengths).get(instant) if rec.rule is None else None
    event.add("duration", own or entry.duration)
    if rec.rule is not None:
        from icalendar import vRecur

        event.add("rrule", vRecur.from_ical(rec.rule))
        # cancelled starts, and the rule starts of moved occurrences (their overriding
        # VEVENT carries the new start): a reader that expands RRULE and EXDATE alone
        # never shows a moved occurrence at its old time
        gone = [*entry.cancelled, *(old for old, new in entry.moved if old != new)]
        if gone:
            # named by the rule's own wall-clock time, so an expansion matches them exactly
            walls = sorted({wall_start(rec, c).replace(tzinfo=zone) for c in gone})
            event.add("exdate", walls)
    elif any(c.astimezone(UTC) == instant for c in entry.cancelled):
        event.add("status", "CANCELLED")
    return event


def _moved(entry: CalendarEntry, original: datetime, new: datetime, stamp: datetime,
           duration: timedelta | None = None, texts: Texts | None = None) -> Event:
    """The VEVENT that replaces one occurrence (RFC 5545 3.8.4.4, RECURRENCE-ID)."""
    rec = entry.recurrence
    zone = zone_of(rec.timezone)
    event = _common(entry, stamp, texts)
    event.add("recurrence-id", wall_start(rec, original).replace(tzinfo=zone))
    event.add("dtstart", new.astimezone(zone))
    event.add("duration", duration or entry.duration)
    return event


def _common(entry: CalendarEntry, stamp: datetime, texts: Texts | None = None) -> Event:
    from icalendar import Event

    said = texts or Texts(entry.title, entry.description, entry.location, entry.url)
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", stamp)
    event.add("sequence", entry.sequence)
    event.add("summary", said.title)
    if said.description:
        event.add("description", said.description)
    if said.location:
        event.add("location", said.location)
    if said.url:
        event.add("url", said.url)
    return event
