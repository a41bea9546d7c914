"""A member's data across the core and every plugin: export it, erase it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from bot.core.refs import MemberRef

if TYPE_CHECKING:
    from bot.core.communities import CommunityDirectory
    from bot.core.plugin import Plugin
    from bot.core.storage import Database


class Privacy:
    """Export and forget, across plugins (each says what it keeps) and core tables."""

    def __init__(
        self,
        db: Database,
        communities: CommunityDirectory,
        plugins: Callable[[], Mapping[str, Plugin]],
        flush: Callable[[], Awaitable[None]],
    ) -> None:
        """``plugins`` lists the loaded plugins; ``flush`` writes in-memory counters first."""
        self.db = db
        self.communities = communities
        self._plugins = plugins
        self._flush = flush

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Everything every plugin and the core store about a member."""
        data: dict[str, Any] = {"core": await self.db.export_member(member.platform, member.id)}
        for name, plugin in self._plugins().items():
            if name != "core":  # the framework's own plugin: its data is the core's above
                data[name] = await plugin.export(member)
        return data

    async def forget(self, member: MemberRef) -> None:
        """Erase a member from every plugin and core table, and from the caches.

        One transaction for all of it: the erasure is whole or not at all, and SQLite writes
        each touched page once (one commit instead of one per plugin).
        """
        await self._flush()
        async with self.db.transaction():
            for plugin in self._plugins().values():
                await plugin.forget(member)
            await self.db.forget_member(member.platform, member.id)
        self.communities.forget_member(member.id)


__all__ = ["Privacy"]
