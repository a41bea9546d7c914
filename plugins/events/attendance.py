"""Attendance: the check-in button while an occurrence runs, marks by an admin, the rates.

Each attendance is a row keyed by (event, occurrence, member), so a second press or a
replayed mark records nothing; only a first record emits ``ContributionMade`` (kind
``event_attended``), which the contributions plugin turns into XP and the "event regular"
badge. Rates compare who came with who had a place ("going") at each started occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot import Context, ContributionMade, MemberRef, internal_id
from plugins.events import render, timeline
from plugins.events.lifecycle import length, recurrence
from plugins.events.rsvp import Answers
from plugins.events.store import EventStore

#: How many past occurrences the report covers.
REPORT_OCCURRENCES = 10
_TINY = timedelta(microseconds=1)


async def record(ctx: Context, store: EventStore, event: Any, occurrence: datetime,
                 member: MemberRef, how: str) -> bool:
    """Record attendance once and report the contribution; False if it was recorded."""
    if not await store.attend(event, occurrence, member, how, ctx.now()):
        return False
    await ctx.emit(ContributionMade(
        id=internal_id("events.attended"), community=ctx.community, member=member,
        kind="event_attended", ref=f"event:{event.id}:{render.stamp(occurrence)}"))
    return True


def running(event: Any, occurrence: datetime, now: datetime,
            changes: timeline.Changes) -> bool:
    """Whether the occurrence is under way (not one moved away or cancelled)."""
    if occurrence in changes.moved or occurrence in changes.excluded:
        return False
    return occurrence <= now < occurrence + changes.length(occurrence, length(event))


def started(event: Any, now: datetime, changes: timeline.Changes) -> list[datetime]:
    """The latest started occurrences, newest first (at most REPORT_OCCURRENCES)."""
    rec = recurrence(event)
    first = min([rec.first_start.astimezone(UTC), *changes.moved.values()])
    if first > now:
        return []
    found = [o for o in timeline.upcoming(rec, first - _TINY, 400, changes) if o <= now]
    return sorted(set(found), reverse=True)[:REPORT_OCCURRENCES]


async def report(ctx: Context, store: EventStore, answers: Answers, event: Any,
                 changes: timeline.Changes) -> Any:
    """The attendance report: per occurrence (came of going) and per member."""
    occurrences = started(event, ctx.now(), changes)
    rows = await store.attended(event.id)
    came: dict[datetime, set[str]] = {}
    names: dict[str, str] = {}
    for row in rows:
        came.setdefault(row.occurrence, set()).add(row.member)
        names[row.member] = row.name or row.member
    per_occurrence = []
    yes: dict[str, int] = {}
    attended: dict[str, int] = {}
    for occurrence, seats in zip(occurrences, await answers.seats_many(event, occurrences),
                                 strict=True):
        going = {a.member for a in seats.going}
        for a in seats.going:
            names.setdefault(a.member, a.name or a.member)
            yes[a.member] = yes.get(a.member, 0) + 1
        here = came.get(occurrence, set())
        for member in here:
            attended[member] = attended.get(member, 0) + 1
        per_occurrence.append((occurrence, len(here), len(here & going), len(going)))
    members = sorted(set(yes) | set(attended), key=lambda m: (-attended.get(m, 0), names[m]))
    per_member = [(names[m], attended.get(m, 0), yes.get(m, 0)) for m in members]
    return render.attendance_report(ctx.i18n, event, per_occurrence, per_member)
