"""An event's moments (reminders, start, end) in time order, and which comes next.

The scheduler holds one item per event: its next step (the moments at one instant). Firing
it schedules the step after first, then acts, so a crash while acting loses at most that
one message and the chain goes on. Nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from plugins.events.recurrence import Recurrence, occurrences_after

REMIND, START, END = "remind", "start", "end"
_RANK = {REMIND: 0, START: 1, END: 2}
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Moment:
    """Something that happens at ``at`` for the occurrence starting at ``occurrence``."""

    at: datetime
    kind: str
    occurrence: datetime
    before: int = 0  # a reminder: seconds before the start

    @property
    def order(self) -> tuple[datetime, int, datetime]:
        """Sort key: time, then reminders before the start before the end."""
        return (self.at, _RANK[self.kind], self.occurrence)


@dataclass(frozen=True, slots=True)
class Step:
    """Every moment of an event at one instant: one scheduled firing.

    A daily event's start can be the next day's 24 h reminder; the scheduler fires an item
    once per instant, so both go in one step.
    """

    at: datetime
    moments: tuple[Moment, ...]

    def data(self, event: int) -> dict[str, Any]:
        """What the scheduled item stores."""
        return {"event": event, "at": self.at.isoformat(), "moments": [
            {"kind": m.kind, "occurrence": m.occurrence.isoformat(), "before": m.before}
            for m in self.moments]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Step:
        """The step a scheduled item stands for."""
        at = datetime.fromisoformat(data["at"]).astimezone(UTC)
        return cls(at, tuple(
            Moment(at, str(m["kind"]), datetime.fromisoformat(m["occurrence"]).astimezone(UTC),
                   int(m.get("before", 0))) for m in data["moments"]))


def moments_of(occurrence: datetime, duration: timedelta,
               reminders: Sequence[timedelta]) -> list[Moment]:
    """The moments of one occurrence: each reminder, the start, the end."""
    start = occurrence.astimezone(UTC)
    out = [Moment(start - r, REMIND, start, int(r.total_seconds())) for r in reminders]
    return [*out, Moment(start, START, start), Moment(start + duration, END, start)]


def next_step(
    rec: Recurrence, after: datetime, duration: timedelta,
    reminders: Sequence[timedelta], excluded: Collection[datetime] = (),
) -> Step | None:
    """Every moment at the first instant strictly after ``after`` (None: the event is over)."""
    lead = max(reminders, default=timedelta(0))
    since = after - duration - _TINY
    count = 4
    while True:
        found = occurrences_after(rec, since, count=count, excluded=excluded)
        later = [m for o in found for m in moments_of(o, duration, reminders) if m.at > after]
        first = min((m.at for m in later), default=None)
        if first is not None and (len(found) < count or count >= 4096
                                  or found[-1].astimezone(UTC) - lead > first):
            return Step(first, tuple(sorted((m for m in later if m.at == first),
                                            key=lambda m: m.order)))
        if len(found) < count or count >= 4096:
            return None
        count *= 4


def current(rec: Recurrence, now: datetime, duration: timedelta,
            excluded: Collection[datetime] = ()) -> datetime | None:
    """The occurrence running now, else the next one (None: none is left)."""
    found = occurrences_after(rec, now - duration, count=1, excluded=excluded)
    return found[0].astimezone(UTC) if found else None


def upcoming(rec: Recurrence, now: datetime, count: int,
             excluded: Collection[datetime] = ()) -> list[datetime]:
    """The next ``count`` occurrences after ``now`` (UTC)."""
    return [o.astimezone(UTC) for o in occurrences_after(rec, now, count=count,
                                                         excluded=excluded)]


def from_stamp(stamp: int) -> datetime:
    """The occurrence a button's timestamp names (UTC)."""
    return datetime.fromtimestamp(stamp, UTC)
