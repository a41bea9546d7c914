"""The community directory: who the communities and their members are, in which language.

Cache: every community row is loaded at start (:meth:`CommunityDirectory.load`) and
replaced whenever this process changes it; member ids and chosen languages of a community
are loaded once when the community is opened (:meth:`CommunityDirectory.open`). Members
first seen on the hot path are remembered at once and written in batches with the
counters (:meth:`CommunityDirectory.flush`), so a message never waits on the database.
Another process that changes a community must call :meth:`CommunityDirectory.invalidate`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from contextlib import aclosing
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.i18n import normalize_language
from bot.core.refs import ChannelRef, CommunityRef, MemberRef

if TYPE_CHECKING:
    from sqlalchemy import Table

    from bot.core.clock import Clock
    from bot.core.storage import Database

log = logging.getLogger(__name__)


class CommunityDirectory:
    """Community records, members seen, languages, timezones and default channels."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        language: str,
        timezone: str,
        languages: Callable[[], Iterable[str]],
        platform_channel: Callable[[CommunityRef], ChannelRef | None],
    ) -> None:
        """Keep the directory.

        ``languages`` lists the languages with catalogs; ``platform_channel`` asks the
        community's platform for its default channel.
        """
        self.db = db
        self.clock = clock
        self.default_language = language
        self.default_timezone = timezone
        self._catalog_languages = languages
        self._platform_channel = platform_channel
        self._rows: dict[str, dict[str, Any]] = {}
        self._languages: dict[str, dict[str, str]] = {}
        self._members: dict[str, set[str]] = {}
        self._new_members: dict[tuple[str, str], dict[str, Any]] = {}

    # -- loading ----------------------------------------------------------------------

    async def load(self) -> None:
        """Read every community row (start-up)."""
        for row in await self.db.all_communities():
            self._rows[row["key"]] = row

    def is_open(self, key: str) -> bool:
        """Whether the community's members and languages are in memory."""
        return key in self._members

    async def open(self, community: CommunityRef, name: str = "") -> None:
        """Register the community if new and load its members and languages."""
        if community.key not in self._rows:
            await self.register(community, name)
        if community.key not in self._members:
            self._languages[community.key] = await self.db.member_languages(community.key)
            # Interned: every plugin that keeps its own table of a community's members
            # interns the ids too, so 100k members' ids are held once, not once per plugin.
            known: set[str] = set()
            async with aclosing(self.db.member_ids(community.key)) as chunks:
                async for ids in chunks:
                    known.update(map(sys.intern, ids))
            self._members[community.key] = known

    async def register(self, community: CommunityRef, name: str = "") -> None:
        """Create the community's record (with the default language and timezone)."""
        await self.db.ensure_community(community.key, community.platform, name, self.clock.now())
        row = await self.db.community(community.key)
        assert row is not None
        if row.get("language") is None:
            await self.db.update_community(
                community.key, language=self.default_language, timezone=self.default_timezone
            )
            row = await self.db.community(community.key)
            assert row is not None
        self._rows[community.key] = row

    def invalidate(self, key: str | None = None) -> None:
        """Forget cached rows so they are read again (a change made by another process)."""
        if key is None:
            self._rows.clear()
            self._members.clear()
            self._languages.clear()
        else:
            self._rows.pop(key, None)
            self._members.pop(key, None)
            self._languages.pop(key, None)

    # -- records ----------------------------------------------------------------------

    def keys(self) -> list[str]:
        """Every known community key."""
        return list(self._rows)

    def info(self, community: CommunityRef) -> dict[str, Any]:
        """The cached community record (empty before the first event)."""
        return self._rows.get(community.key, {})

    async def update(self, community: CommunityRef, **values: Any) -> None:
        """Change the community's record (language, timezone, channels, name)."""
        await self.db.update_community(community.key, **values)
        row = await self.db.community(community.key)
        if row is not None:
            self._rows[community.key] = row

    def name_seen(self, community: CommunityRef, name: str) -> bool:
        """Whether ``name`` differs from the stored name (the caller then updates it)."""
        return bool(name) and self._rows.get(community.key, {}).get("name") != name

    async def migrate(self, old: CommunityRef, new: CommunityRef, tables: list[Table]) -> bool:
        """Move every row of a community to a new id; False when there is nothing to move."""
        if await self.db.community(old.key) is None or await self.db.community(new.key):
            return False
        await self.flush()
        await self.db.rename_community(old.key, new.key, tables)
        self._rows.pop(old.key, None)
        row = await self.db.community(new.key)
        if row is not None:
            self._rows[new.key] = row
        self._languages[new.key] = self._languages.pop(old.key, {})
        self._members[new.key] = self._members.pop(old.key, set())
        return True

    # -- members ----------------------------------------------------------------------

    def seen(self, community: CommunityRef, member: MemberRef) -> None:
        """Remember a member on the hot path; new ones are written with the next flush."""
        known = self._members.get(community.key)
        if known is None or member.id in known:
            return
        known.add(sys.intern(member.id))
        self._new_members.setdefault((community.key, member.id), {
            "name": member.name, "last_seen": self.clock.now()
        })

    async def joined(self, community: CommunityRef, member: MemberRef, at: datetime) -> None:
        """Record a join (rare: written at once)."""
        self._members.setdefault(community.key, set()).add(member.id)
        self._new_members.pop((community.key, member.id), None)
        await self.db.upsert_member(
            community.key, member.id, name=member.name, joined_at=at, left_at=None
        )

    async def left(self, community: CommunityRef, member: MemberRef, at: datetime) -> None:
        """Record a departure."""
        self._members.setdefault(community.key, set()).add(member.id)
        self._new_members.pop((community.key, member.id), None)
        await self.db.upsert_member(community.key, member.id, name=member.name, left_at=at)

    async def flush(self) -> None:
        """Write members first seen since the last flush (one transaction)."""
        if not self._new_members:
            return
        batch, self._new_members = self._new_members, {}
        try:
            await self.db.add_members(
                [{"community": c, "member": m, **v} for (c, m), v in batch.items()]
            )
        except Exception:
            self._new_members.update(batch)
            raise

    async def member_count(self, community: CommunityRef) -> int:
        """How many members the registry knows here who have not left (owner included)."""
        await self.flush()
        return await self.db.member_count(community.key)

    def forget_member(self, member_id: str) -> None:
        """Drop a member from every cache (the privacy service erased them)."""
        for languages in self._languages.values():
            languages.pop(member_id, None)
        for known in self._members.values():
            known.discard(member_id)
        self._new_members = {k: v for k, v in self._new_members.items() if k[1] != member_id}

    # -- language and place -----------------------------------------------------------

    def community_language(self, community: CommunityRef) -> str:
        """The community's language (public posts speak it)."""
        info = self._rows.get(community.key)
        if info and info.get("language"):
            return str(info["language"])
        return self.default_language

    def member_language(self, community: CommunityRef, member: MemberRef | None) -> str:
        """Member's chosen language, else the platform's hint, else the community's."""
        if member is not None:
            chosen = self._languages.get(community.key, {}).get(member.id)
            if chosen:
                return chosen
            hinted = normalize_language(member.language)
            if hinted and hinted in self._catalog_languages():
                return hinted
        return self.community_language(community)

    async def set_member_language(
        self, community: CommunityRef, member: MemberRef, language: str | None
    ) -> None:
        """Record a member's own language choice (None: back to automatic)."""
        await self.db.upsert_member(community.key, member.id, language=language)
        languages = self._languages.setdefault(community.key, {})
        if language:
            languages[member.id] = language
        else:
            languages.pop(member.id, None)

    def timezone(self, community: CommunityRef) -> str:
        """The community's IANA timezone."""
        info = self._rows.get(community.key)
        if info and info.get("timezone"):
            return str(info["timezone"])
        return self.default_timezone

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """Where automated posts go: the welcome channel if set, else the platform's."""
        info = self._rows.get(community.key, {})
        if info.get("welcome_channel"):
            return ChannelRef(community.platform, str(info["welcome_channel"]))
        return self._platform_channel(community)


__all__ = ["CommunityDirectory"]
