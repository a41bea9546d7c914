"""Who is going: series answers that carry over, "just this one", capacity and the waitlist.

The rules are plain functions over stored answers (``effective``, ``seats``). A series answer
counts for every occurrence from its ``since`` on; an answer for one occurrence wins over it
there. "Going" members get the places in the order they said so (``at``); the rest wait, so a
freed place goes to the first in line without anything stored about the queue. ``Answers``
records a press under a per-event lock and says whom the press moved off the waitlist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import MemberRef

if TYPE_CHECKING:
    from plugins.events.store import EventStore


@dataclass(frozen=True, slots=True)
class Answer:
    """One member's answer as it counts for an occurrence."""

    member: str
    name: str | None
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Seats:
    """An occurrence's answers: places taken (in order), waitlist, maybe, can't."""

    going: tuple[Answer, ...] = ()
    waitlist: tuple[Answer, ...] = ()
    maybe: tuple[Answer, ...] = ()
    no: tuple[Answer, ...] = ()

    def position(self, member: str) -> int:
        """The member's place on the waitlist (1 is next), 0 when not waiting."""
        for i, answer in enumerate(self.waitlist, start=1):
            if answer.member == member:
                return i
        return 0

    def said_yes(self) -> tuple[Answer, ...]:
        """Everyone who said going: with a place, then waiting."""
        return self.going + self.waitlist


def effective(series: Iterable[Any], once: Iterable[Any], occurrence: datetime) -> list[Answer]:
    """The answers that count for ``occurrence`` (rows from the store)."""
    out: dict[str, Answer] = {}
    for row in series:
        if row.since <= occurrence:
            out[row.member] = Answer(row.member, row.name, row.status, row.at)
    for row in once:
        if row.occurrence == occurrence:
            out[row.member] = Answer(row.member, row.name, row.status, row.at)
    return list(out.values())


def seats(answers: Iterable[Answer], capacity: int) -> Seats:
    """Share out the places: the first ``capacity`` going (by time answered) get one."""
    answers = list(answers)
    going = sorted((a for a in answers if a.status == "going"), key=lambda a: (a.at, a.member))
    limit = capacity if capacity > 0 else len(going)
    return Seats(
        going=tuple(going[:limit]),
        waitlist=tuple(going[limit:]),
        maybe=tuple(a for a in answers if a.status == "maybe"),
        no=tuple(a for a in answers if a.status == "no"),
    )


def newly_seated(before: Seats, after: Seats, actor: str | None) -> list[Answer]:
    """Who has a place now and had none before (not the member who just pressed)."""
    had = {a.member for a in before.going}
    return [a for a in after.going if a.member not in had and a.member != actor]


class Answers:
    """Records RSVPs and works out the seats, one press at a time per event."""

    def __init__(self, store: EventStore) -> None:
        """Read and write through ``store``."""
        self.store = store
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, event: int) -> asyncio.Lock:
        """The lock that orders presses on one event (so promotions are computed once)."""
        return self._locks.setdefault(event, asyncio.Lock())

    async def seats_at(self, event: Any, occurrence: datetime) -> Seats:
        """The seats of one occurrence as stored now."""
        series, once = await self.store.answers(event.id)
        return seats(effective(series, once, occurrence), event.capacity)

    async def effective_at(self, event: Any, occurrence: datetime) -> list[Answer]:
        """The answers that count for one occurrence as stored now (hold ``lock``)."""
        series, once = await self.store.answers(event.id)
        return effective(series, once, occurrence)

    async def seats_many(self, event: Any, occurrences: Sequence[datetime]) -> list[Seats]:
        """The seats of several occurrences of one event (one read)."""
        series, once = await self.store.answers(event.id)
        return [seats(effective(series, once, o), event.capacity) for o in occurrences]

    async def record(
        self, event: Any, occurrence: datetime, member: MemberRef, choice: str, once: bool,
        now: datetime,
    ) -> tuple[Seats, list[Answer]]:
        """Store an answer; the seats after it and whom it moved off the waitlist."""
        async with self.lock(event.id):
            series, rows = await self.store.answers(event.id)
            before = seats(effective(series, rows, occurrence), event.capacity)
            if once and event.rule:
                await self.store.answer_once(event, occurrence, member, choice, now)
            else:
                await self.store.answer_series(event, occurrence, member, choice, now)
            after = await self.seats_at(event, occurrence)
        return after, newly_seated(before, after, member.id)

    async def freeze(self, event: Any, occurrence: datetime) -> None:
        """Keep the answers an occurrence started with.

        Later series answers count from the member's next occurrence on, so they never
        rewrite who was going to this one.
        """
        async with self.lock(event.id):
            series, rows = await self.store.answers(event.id)
            answers = effective(series, rows, occurrence)
            await self.store.keep_answers(event, occurrence, answers)

    async def capacity_changed(self, event: Any, old_capacity: int,
                               occurrence: datetime) -> list[Answer]:
        """Whom a larger capacity gave a place at ``occurrence``."""
        series, rows = await self.store.answers(event.id)
        answers = effective(series, rows, occurrence)
        return newly_seated(seats(answers, old_capacity), seats(answers, event.capacity), None)
