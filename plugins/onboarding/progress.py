"""Newcomers' message progress, kept in memory so a message never waits on the database.

Only members still in progress are held: fewer than two messages, or still a newcomer.
Everyone else costs one dictionary miss per message. The book is loaded per community when
the plugin opens it; changes are written in batches (one transaction per flush) by
:meth:`plugins.onboarding.store.Store.write_progress`, and the in-memory values are the
truth for the members held here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Flag, auto
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugins.onboarding.settings import OnboardingSettings


@dataclass(slots=True)
class Progress:
    """One member's counters, as in their ``onboarding_members`` row."""

    joined_at: datetime
    messages: int = 0
    first_message_at: datetime | None = None
    second_message_at: datetime | None = None
    newcomer: bool = True

    @property
    def settled(self) -> bool:
        """Past the second message and graduated: nothing left to count."""
        return self.messages >= 2 and not self.newcomer


class Step(Flag):
    """What a message means beyond the count (rare; the caller acts on it)."""

    NOTHING = 0
    FIRST = auto()
    GRADUATE = auto()


Key = tuple[str, str]


class ProgressBook:
    """The in-progress members of every opened community, and the changes not yet written."""

    def __init__(self) -> None:
        """Start empty; :meth:`load` fills a community when it opens."""
        self._members: dict[Key, Progress] = {}
        self._dirty: dict[Key, Progress] = {}

    def load(self, community: str, rows: dict[str, Progress]) -> None:
        """Hold a community's members in progress (the store read them)."""
        for member, progress in rows.items():
            self._members.setdefault((community, member), progress)

    def track(self, community: str, member: str, progress: Progress) -> None:
        """Hold a member who just joined (or came back), replacing what was held."""
        key = (community, member)
        held = self._members.get(key) or self._dirty.get(key)
        if held is not None:  # memory is ahead of the row until the next flush
            held.joined_at = progress.joined_at
            progress = held
        if progress.settled:
            self._members.pop(key, None)
        else:
            self._members[key] = progress

    def get(self, community: str, member: str) -> Progress | None:
        """The member's progress, or None when there is nothing to count for them."""
        return self._members.get((community, member))

    def posted(
        self, community: str, member: str, now: datetime, config: OnboardingSettings
    ) -> Step:
        """Count a message in a community channel; what it means (no I/O)."""
        key = (community, member)
        progress = self._members.get(key)
        if progress is None:
            return Step.NOTHING
        step = Step.NOTHING
        progress.messages += 1
        if progress.first_message_at is None:
            progress.first_message_at = now
            step |= Step.FIRST
        elif progress.second_message_at is None:
            progress.second_message_at = now
        if (progress.newcomer and progress.messages >= config.graduate_messages
                and now - progress.joined_at >= timedelta(days=config.graduate_days)):
            progress.newcomer = False  # graduated now, so only once; stored by _graduate
            step |= Step.GRADUATE
        self._dirty[key] = progress
        if progress.settled:
            del self._members[key]
        return step

    def graduated(self, community: str, member: str) -> None:
        """The member graduated (the daily job): stop treating them as a newcomer."""
        key = (community, member)
        progress = self._members.get(key)
        if progress is not None:
            progress.newcomer = False
            if progress.settled:
                del self._members[key]

    def take_dirty(self) -> dict[Key, Progress]:
        """The changes to write now (put them back with :meth:`put_back` if that fails)."""
        batch, self._dirty = self._dirty, {}
        return batch

    def put_back(self, batch: dict[Key, Progress]) -> None:
        """A failed write: keep its changes for the next flush (newer ones win)."""
        for key, progress in batch.items():
            self._dirty.setdefault(key, progress)

    def forget(self, member: str, platform_prefix: str) -> None:
        """Drop a member everywhere on one platform (their data was erased)."""
        for table in (self._members, self._dirty):
            for key in [k for k in table if k[1] == member and k[0].startswith(platform_prefix)]:
                del table[key]

    def __len__(self) -> int:
        return len(self._members)
