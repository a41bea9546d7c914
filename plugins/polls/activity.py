"""Who is active, kept in memory: the hot path counts here and never touches the database.

Each community's members (first join, latest post, message count) are loaded once when the
community opens; messages and joins then change only this state, and the plugin's
accumulator writes what changed in one batch at least every second and at shutdown. Quorum
and reach read this state, so they include what is not flushed yet.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from plugins.polls.rules import Seen

#: A changed member: (community key, member id).
Key = tuple[str, str]


class ActivityBook:
    """Every opened community's members, with what reach and quorum need."""

    __slots__ = ("_communities",)

    def __init__(self) -> None:
        """Start with no community loaded."""
        self._communities: dict[str, dict[str, Seen]] = {}

    def is_loaded(self, community: str) -> bool:
        """Whether the community's members are in memory."""
        return community in self._communities

    def load(self, community: str, members: dict[str, Seen]) -> None:
        """Keep a community's stored members, unless it is in memory already (it is newer).

        Member ids are interned, so this table shares them with the core's and the other
        plugins' (one string per member, not one per table).
        """
        if community not in self._communities:
            self._communities[community] = {sys.intern(m): s for m, s in members.items()}

    def members(self, community: str) -> dict[str, Seen]:
        """A community's members by id (empty when it was never loaded)."""
        return self._communities.get(community) or {}

    def posted(self, community: str, member: str, at: datetime) -> None:
        """A message: one more, and the latest post (never moved back by a late event)."""
        seen = self._seen(community, member)
        seen.messages += 1
        if seen.last_seen is None or at > seen.last_seen:
            seen.last_seen = at

    def joined(self, community: str, member: str, at: datetime) -> None:
        """A join: the first one is kept."""
        seen = self._seen(community, member)
        if seen.joined_at is None:
            seen.joined_at = at

    def joined_before(self, community: str, member: str, at: datetime) -> bool:
        """Whether the member joined before ``at`` (a member never seen joining did)."""
        seen = self.members(community).get(member)
        return seen is None or seen.joined_at is None or seen.joined_at < at

    def rows(self, batch: dict[Key, int]) -> list[dict[str, Any]]:
        """The rows that store a batch of changes: new messages, first join, latest post."""
        rows = []
        for (community, member), messages in batch.items():
            seen = self.members(community).get(member)
            if seen is None:
                continue  # forgotten since
            rows.append({"community": community, "member": member, "messages": messages,
                         "joined_at": seen.joined_at, "last_seen": seen.last_seen})
        return rows

    def forget(self, member: str, platform: str) -> None:
        """Drop a member from every community of their platform."""
        prefix = platform + ":"
        for community, members in self._communities.items():
            if community.startswith(prefix):
                members.pop(member, None)

    def _seen(self, community: str, member: str) -> Seen:
        members = self._communities.get(community)
        if members is None:
            # Not opened (its open hook failed): count anyway; the writer merges with the
            # stored rows, so nothing stored is lost, only reach sees less until restart.
            members = self._communities[community] = {}
        seen = members.get(member)
        if seen is None:
            seen = members[sys.intern(member)] = Seen()
        return seen
