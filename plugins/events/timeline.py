"""An event's moments (reminders, start, end) in time order, and which comes next.

The scheduler holds one item per event: its next moment. Firing it schedules the one after
first, then acts, so a crash while acting loses at most that one message and the chain goes
on. Nothing here reads the clock or the database.
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

    def data(self, event: int) -> dict[str, Any]:
        """What the scheduled item stores."""
        return {"event": event, "kind": self.kind, "occurrence": self.occurrence.isoformat(),
                "at": self.at.isoformat(), "before": self.before}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Moment:
        """The moment a scheduled item stands for."""
        return cls(datetime.fromisoformat(data["at"]).astimezone(UTC), str(data["kind"]),
                   datetime.fromisoformat(data["occurrence"]).astimezone(UTC),
                   int(data.get("before", 0)))


def moments_of(occurrence: datetime, duration: timedelta,
               reminders: Sequence[timedelta]) -> list[Moment]:
    """The moments of one occurrence: each reminder, the start, the end."""
    start = occurrence.astimezone(UTC)
    out = [Moment(start - r, REMIND, start, int(r.total_seconds())) for r in reminders]
    return [*out, Moment(start, START, start), Moment(start + duration, END, start)]


def next_moment(
    rec: Recurrence, after: tuple[datetime, int, datetime], duration: timedelta,
    reminders: Sequence[timedelta], excluded: Collection[datetime] = (),
) -> Moment | None:
    """The first moment whose order comes after ``after`` (None: the event is over)."""
    lead = max(reminders, default=timedelta(0))
    since = after[0] - duration - _TINY
    count = 4
    while True:
        found = occurrences_after(rec, since, count=count, excluded=excluded)
        best: Moment | None = None
        for occurrence in found:
            for moment in moments_of(occurrence, duration, reminders):
                if moment.order > after and (best is None or moment.order < best.order):
                    best = moment
        if len(found) < count or count >= 4096:
            return best
        if best is not None and found[-1].astimezone(UTC) - lead > best.at:
            return best
        count *= 4


def start_of(now: datetime) -> tuple[datetime, int, datetime]:
    """An ``after`` key just before ``now`` (a moment due now counts as next)."""
    return (now - _TINY, 99, now)


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
