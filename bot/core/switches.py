"""Which plugin runs in which community: explicit choices, defaults, missing capabilities.

Cache: every explicit choice is loaded at start and written through on change; another
process that changes one must call :meth:`PluginSwitches.invalidate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.core.capabilities import Capability
from bot.core.refs import CommunityRef

if TYPE_CHECKING:
    from bot.core.plugin import Plugin
    from bot.core.storage import Database


class PluginSwitches:
    """Enabled/disabled per community."""

    def __init__(self, db: Database, disabled_by_default: Iterable[str]) -> None:
        """``disabled_by_default`` names plugins that are off until enabled."""
        self.db = db
        self.disabled_by_default = frozenset(disabled_by_default)
        self._explicit: dict[tuple[str, str], bool] = {}
        #: (plugin, platform) -> capabilities the platform lacks; such a plugin never runs.
        self.unavailable: dict[tuple[str, str], set[Capability]] = {}
        #: Bumped by every change of a choice, so callers may cache what they derived.
        self.version = 0

    async def load(self) -> None:
        """Read every explicit choice."""
        self._explicit = await self.db.plugin_states()
        self.version += 1

    def invalidate(self) -> None:
        """Forget choices (they are read again by :meth:`load`)."""
        self._explicit.clear()
        self.version += 1

    def is_enabled(self, community: CommunityRef, plugin: Plugin) -> bool:
        """Whether a plugin runs in a community (explicit choice, else its default)."""
        if self.unavailable and (plugin.name, community.platform) in self.unavailable:
            return False
        explicit = self._explicit.get((community.key, plugin.name))
        if explicit is not None:
            return explicit
        if plugin.name in self.disabled_by_default:
            return False
        return plugin.enabled_by_default

    async def set(self, community: CommunityRef, name: str, enabled: bool) -> None:
        """Record a choice."""
        await self.db.set_plugin_state(community.key, name, enabled)
        self._explicit[(community.key, name)] = enabled
        self.version += 1

    def renamed(self, old: str, new: str) -> None:
        """Carry choices over to a community's new key."""
        self._explicit = {
            ((new if c == old else c), p): v for (c, p), v in self._explicit.items()
        }
        self.version += 1


__all__ = ["PluginSwitches"]
