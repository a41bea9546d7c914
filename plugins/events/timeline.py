"""An event's moments (reminders, start, end) in time order, and which comes next.

The scheduler holds one item per event: its next step (the moments at one instant). Firing
it schedules the step after first, then acts, so a crash while acting loses at most that
one message and the chain goes on. Nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Changes:
    """What single occurrences changed: cancelled, moved, given their own length.

    An occurrence is named by the start it has now (UTC): a moved one by its new start, so
    its answers, buttons and reminders follow it. ``moved`` maps the start the rule gives
    to the start it has now; ``lengths`` an occurrence (as it is now) to its own length.
    """

    excluded: tuple[datetime, ...] = ()
    moved: Mapping[datetime, datetime] = field(default_factory=dict)
    lengths: Mapping[datetime, timedelta] = field(default_factory=dict)

    def length(self, occurrence: datetime, default: timedelta) -> timedelta:
        """How long this occurrence lasts."""
        return self.lengths.get(occurrence, default)

    def longest(self, default: timedelta) -> timedelta:
        """The longest any occurrence lasts."""
        return max([default, *self.lengths.values()])

    def original(self, occurrence: datetime) -> datetime:
        """The start the rule gives this occurrence (the same unless it was moved)."""
        return next((old for old, new in self.moved.items() if new == occurrence), occurrence)

    def without(self, original: datetime) -> Changes:
        """These changes with one occurrence (by its rule start) taken out entirely."""
        now = self.moved.get(original, original)
        return Changes((*self.excluded, original),
                       {o: n for o, n in self.moved.items() if o != original},
                       {o: d for o, d in self.lengths.items() if o != now})


def _changes(excluded: Collection[datetime] | Changes) -> Changes:
    return excluded if isinstance(excluded, Changes) else Changes(tuple(excluded))


def _after(rec: Recurrence, after: datetime, count: int, changes: Changes) -> list[datetime]:
    return occurrences_after(rec, after, count=count, excluded=changes.excluded,
                             moved=changes.moved or None)


def moments_of(occurrence: datetime, duration: timedelta,
               reminders: Sequence[timedelta]) -> list[Moment]:
    """The moments of one occurrence: each reminder, the start, the end."""
    start = occurrence.astimezone(UTC)
    out = [Moment(start - r, REMIND, start, int(r.total_seconds())) for r in reminders]
    return [*out, Moment(start, START, start), Moment(start + duration, END, start)]


def next_step(
    rec: Recurrence, after: datetime, duration: timedelta,
    reminders: Sequence[timedelta], excluded: Collection[datetime] | Changes = (),
) -> Step | None:
    """Every moment at the first instant strictly after ``after`` (None: the event is over)."""
    changes = _changes(excluded)
    lead = max(reminders, default=timedelta(0))
    since = after - changes.longest(duration) - _TINY
    count = 4
    while True:
        found = _after(rec, since, count, changes)
        later = [m for o in found
                 for m in moments_of(o, changes.length(o.astimezone(UTC), duration), reminders)
                 if m.at > after]
        first = min((m.at for m in later), default=None)
        if first is not None and (len(found) < count or count >= 4096
                                  or found[-1].astimezone(UTC) - lead > first):
            return Step(first, tuple(sorted((m for m in later if m.at == first),
                                            key=lambda m: m.order)))
        if len(found) < count or count >= 4096:
            return None
        count *= 4


def current(rec: Recurrence, now: datetime, duration: timedelta,
            excluded: Collection[datetime] | Changes = ()) -> datetime | None:
    """The occurrence running now, else the next one (None: none is left)."""
    changes = _changes(excluded)
    count = 1 if not changes.lengths else 4
    while True:
        found = [o.astimezone(UTC) for o in
                 _after(rec, now - changes.longest(duration), count, changes)]
        running = [o for o in found if o + changes.length(o, duration) > now]
        if running or len(found) < count:
            return running[0] if running else None
        count *= 4


def upcoming(rec: Recurrence, now: datetime, count: int,
             excluded: Collection[datetime] | Changes = ()) -> list[datetime]:
    """The next ``count`` occurrences after ``now`` (UTC)."""
    return [o.astimezone(UTC) for o in _after(rec, now, count, _changes(excluded))]


def clash(rec: Recurrence, start: datetime, duration: timedelta, default: timedelta,
          others: Changes) -> datetime | None:
    """Another occurrence that would overlap one at ``start`` lasting ``duration``, if any.

    ``others`` are the changes without the occurrence being placed (``Changes.without``).
    """
    end = start + duration
    since = start - others.longest(default)
    count = 8
    while True:
        found = [o.astimezone(UTC) for o in _after(rec, since, count, others)]
        for other in found:
            if other >= end:
                return None
            if other + others.length(other, default) > start:
                return other
        if len(found) < count:
            return None
        since, count = found[-1], count * 2


def from_stamp(stamp: int) -> datetime:
    """The occurrence a button's timestamp names (UTC)."""
    return datetime.fromtimestamp(stamp, UTC)
