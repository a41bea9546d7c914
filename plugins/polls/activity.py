"""Who is active, kept in memory: the hot path counts here and never touches the database.

Each community's members (first join, latest post, message count) are loaded once when the
community opens; messages and joins then change only this state, and the plugin's
accumulator writes what changed in one batch at least every second and at shutdown. Quorum
and reach read this state, so they include what is not flushed yet.

The state is columnar: per community a dense index (member id -> slot) and three typed
arrays (first join and latest post as POSIX seconds, NaN for never; the message count). A
member costs about 60 bytes instead of a ``Seen`` object and two datetimes (~190 bytes), and
a message writes into the arrays without allocating, so memory stays flat while members
become active. Readers get :class:`Seen` values through a read-only mapping.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class Seen:
    """What reach and quorum need to know about one member of a community."""

    joined_at: datetime | None = None
    last_seen: datetime | None = None
    messages: int = 0


#: A changed member: (community key, member id).
Key = tuple[str, str]
#: One stored row: member id, first join, latest post, messages.
Row = tuple[str, datetime | None, datetime | None, int]

_NEVER = float("nan")


def _seconds(at: datetime | None) -> float:
    return _NEVER if at is None else at.timestamp()


def _moment(seconds: float) -> datetime | None:
    # NaN never equals itself; timestamps of microsecond datetimes round-trip exactly
    return None if seconds != seconds else datetime.fromtimestamp(seconds, UTC)


class Columns(Mapping[str, Seen]):
    """One community's members as columns; reads as a mapping of member id -> ``Seen``."""

    __slots__ = ("free", "joined", "last", "messages", "slots")

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        """Hold ``rows`` (member ids interned, shared with the core's and other plugins')."""
        self.slots: dict[str, int] = {}
        self.joined = array("d")
        self.last = array("d")
        self.messages = array("q")
        self.free: list[int] = []  # slots of forgotten members, reused first
        self.extend(rows)

    def extend(self, rows: Iterable[Row]) -> None:
        """Hold more stored rows."""
        for member, joined, last, messages in rows:
            slot = self.slot(member)
            self.joined[slot] = _seconds(joined)
            self.last[slot] = _seconds(last)
            self.messages[slot] = messages

    def slot(self, member: str) -> int:
        """The member's slot, made (never seen: no join, no post) when new."""
        slot = self.slots.get(member)
        if slot is None:
            if self.free:
                slot = self.free.pop()
                self.joined[slot] = self.last[slot] = _NEVER
                self.messages[slot] = 0
            else:
                slot = len(self.joined)
                self.joined.append(_NEVER)
                self.last.append(_NEVER)
                self.messages.append(0)
            self.slots[sys.intern(member)] = slot
        return slot

    def drop(self, member: str) -> None:
        """Forget a member (their slot is reused)."""
        slot = self.slots.pop(member, None)
        if slot is not None:
            self.joined[slot] = self.last[slot] = _NEVER
            self.messages[slot] = 0
            self.free.append(slot)

    def seen(self, slot: int) -> Seen:
        """The ``Seen`` value of a slot."""
        return Seen(_moment(self.joined[slot]), _moment(self.last[slot]), self.messages[slot])

    def posted_since(self, since: datetime) -> int:
        """How many members posted at ``since`` or later (without building ``Seen`` values)."""
        at = since.timestamp()
        return sum(1 for seconds in self.last if seconds >= at)  # NaN (never) compares False

    def message_counts(self) -> list[tuple[str, int]]:
        """(member, messages) of every member."""
        slots = self.slots
        return list(zip(slots, map(self.messages.__getitem__, slots.values()), strict=True))

    def joined_since(self, since: datetime) -> Callable[[str], bool]:
        """A test of whether a member first joined at ``since`` or later."""
        at, joined, slots = since.timestamp(), self.joined, self.slots
        return lambda member: joined[slots[member]] >= at

    def __getitem__(self, member: str) -> Seen:
        return self.seen(self.slots[member])

    def __contains__(self, member: object) -> bool:
        return member in self.slots

    def __iter__(self) -> Iterator[str]:
        return iter(self.slots)

    def __len__(self) -> int:
        return len(self.slots)


class ActivityBook:
    """Every opened community's members, with what reach and quorum need."""

    __slots__ = ("_communities",)

    def __init__(self) -> None:
        """Start with no community loaded."""
        self._communities: dict[str, Columns] = {}

    def is_loaded(self, community: str) -> bool:
        """Whether the community's members are in memory."""
        return community in self._communities

    def load(self, community: str, rows: Iterable[Row]) -> None:
        """Keep a community's stored members, unless it is in memory already (it is newer)."""
        if community not in self._communities:
            self._communities[community] = Columns(rows)

    async def load_chunks(self, community: str, chunks: AsyncIterable[Iterable[Row]]) -> None:
        """:meth:`load`, from rows read a chunk at a time.

        100k members' rows and their datetimes all held at once raised the process's
        peak by ~50 MiB while the community opened.
        """
        columns = Columns()
        async for rows in chunks:
            columns.extend(rows)
        self._communities.setdefault(community, columns)

    def members(self, community: str) -> Mapping[str, Seen]:
        """A community's members by id (empty when it was never loaded)."""
        return self._communities.get(community) or {}

    def posted(self, community: str, member: str, at: datetime) -> None:
        """A message: one more, and the latest post (never moved back by a late event)."""
        columns = self._columns(community)
        slot = columns.slots.get(member)
        if slot is None:
            slot = columns.slot(member)
        columns.messages[slot] += 1
        seconds = at.timestamp()
        if not columns.last[slot] >= seconds:  # also when never (NaN)
            columns.last[slot] = seconds

    def joined(self, community: str, member: str, at: datetime) -> None:
        """A join: the first one is kept."""
        columns = self._columns(community)
        slot = columns.slot(member)
        if columns.joined[slot] != columns.joined[slot]:
            columns.joined[slot] = at.timestamp()

    def joined_before(self, community: str, member: str, at: datetime) -> bool:
        """Whether the member joined before ``at`` (a member never seen joining did)."""
        columns = self._communities.get(community)
        slot = None if columns is None else columns.slots.get(member)
        if columns is None or slot is None:
            return True
        return not columns.joined[slot] >= at.timestamp()  # NaN (never) compares False

    def rows(self, batch: dict[Key, int]) -> list[dict[str, Any]]:
        """The rows that store a batch of changes: new messages, first join, latest post."""
        rows = []
        for (community, member), messages in batch.items():
            columns = self._communities.get(community)
            slot = None if columns is None else columns.slots.get(member)
            if columns is None or slot is None:
                continue  # forgotten since
            rows.append({"community": community, "member": member, "messages": messages,
                         "joined_at": _moment(columns.joined[slot]),
                         "last_seen": _moment(columns.last[slot])})
        return rows

    def forget(self, member: str, platform: str) -> None:
        """Drop a member from every community of their platform."""
        prefix = platform + ":"
        for community, columns in self._communities.items():
            if community.startswith(prefix):
                columns.drop(member)

    def _columns(self, community: str) -> Columns:
        columns = self._communities.get(community)
        if columns is None:
            # Not opened (its open hook failed): count anyway; the writer merges with the
            # stored rows, so nothing stored is lost, only reach sees less until restart.
            columns = self._communities[community] = Columns()
        return columns
