"""The composition root: settings -> storage -> kernel services -> plugins -> adapters.

It builds the kernel (``bot.core.kernel``), loads the plugins into it, starts the adapters
and stops everything in order. Every service lives in ``bot/core``; the names the older code
and the tests call on ``App`` (``app.settings_of``, ``app.dispatcher``, ...) reach the kernel.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from bot.core import memory, payloads, storage
from bot.core.builtin import Builtin
from bot.core.clock import Clock, SystemClock
from bot.core.kernel import Defaults, Kernel
from bot.core.migrate import CORE_VERSIONS, MigrationSource, upgrade
from bot.core.platform import Platform
from bot.core.plugin import Plugin
from bot.core.plugin_settings import SettingError
from bot.core.refs import CommunityRef
from bot.core.storage import Database
from bot.loader import LoadFailure, discover, reimport
from bot.settings import Settings

log = logging.getLogger(__name__)


class App:
    """One running bot: the services plugins use, and the plugins themselves."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        platforms: Sequence[Platform] = (),
        plugins: Sequence[type[Plugin]] | None = None,
    ) -> None:
        """Wire the services; nothing connects until :meth:`start`."""
        memory.limit_arenas()  # before the database's connection threads start
        self.settings = settings
        self.platforms: dict[str, Platform] = {p.name: p for p in platforms}
        self.kernel = Kernel(
            Database(settings.database_url),
            clock or SystemClock(),
            Defaults(
                language=settings.language,
                timezone=settings.timezone,
                owners=frozenset(settings.owners),
                disabled_by_default=frozenset(settings.disabled_by_default),
            ),
            self.platforms,
        )
        self.kernel.manager = self
        self._plugin_classes = list(plugins) if plugins is not None else None
        self.load_failures: list[LoadFailure] = []
        self.started = False

    def __getattr__(self, name: str) -> Any:
        """The kernel's services and operations, under the names ``App`` always had."""
        if name == "kernel":
            raise AttributeError(name)
        return getattr(self.kernel, name)

    @property
    def plugins(self) -> dict[str, Plugin]:
        """The loaded plugins, by name."""
        return self.kernel.plugins

    # -- life cycle ---------------------------------------------------------------------

    async def start(self, *, connect: bool = True) -> None:
        """Migrate, load plugins, rebuild the schedule and the outbox, connect platforms."""
        classes: list[type[Plugin]]
        if self._plugin_classes is None:
            found, self.load_failures = discover(self.settings.plugins)
            classes = [f.cls for f in found]
        else:
            classes = self._plugin_classes
        classes = [Builtin, *[c for c in classes if c is not Builtin]]
        kernel = self.kernel
        await upgrade(kernel.db.engine, self.migration_sources(classes))
        for cls in classes:
            await self._add_plugin(cls)
        self._check_capabilities()
        kernel.dispatcher.rebuild(list(self.plugins.values()))
        await kernel.communities.load()
        await kernel.switches.load()
        await kernel.dispatcher.load_window(kernel.clock.now())
        kernel.counters.also_flush(kernel.communities.flush)
        kernel.counters.also_flush(kernel.dispatcher.flush)
        kernel.counters.start()
        await kernel.outbox.start(self.platforms, await kernel.db.paused_communities())
        await kernel.scheduler.start()
        self.started = True
        if connect:
            for platform in self.platforms.values():
                await platform.start(self)

    async def _add_plugin(self, cls: type[Plugin]) -> Plugin | None:
        try:
            plugin = cls(self.kernel)
            folder = cls.folder() / "locales"
            if folder.is_dir():
                self.kernel.catalogs.add_domain(cls.name, folder)
            await plugin.setup()
        except Exception as exc:
            log.exception("plugin %s failed to start", cls.name)
            self.load_failures.append(LoadFailure(cls.name, cls.__module__, repr(exc)))
            return None
        self.plugins[cls.name] = plugin
        return plugin

    @staticmethod
    def migration_sources(classes: Sequence[type[Plugin]]) -> list[MigrationSource]:
        """The core branch and one per plugin that has tables."""
        sources = [MigrationSource("core", CORE_VERSIONS, storage.metadata)]
        for cls in classes:
            if cls.tables is not None:
                sources.append(MigrationSource(cls.name, cls.migrations_path(), cls.tables))
        return sources

    async def stop(self) -> None:
        """Disconnect, stop the scheduler, flush counters, stop the outbox; close storage."""
        for platform in self.platforms.values():
            try:
                await platform.stop()
            except Exception:
                log.exception("stopping %s failed", platform.name)
        kernel = self.kernel
        # the firing in progress first, then what it started, before plugins go away
        await kernel.scheduler.stop()
        await kernel.dispatcher.idle()
        for plugin in self.plugins.values():
            try:
                await plugin.teardown()
            except Exception:
                log.exception("teardown of %s failed", plugin.name)
        await kernel.counters.stop()
        await kernel.outbox.stop()
        await kernel.db.close()
        self.started = False

    async def migrate_community(self, old: CommunityRef, new: CommunityRef) -> bool:
        """Move every row of a community to a new id (a Telegram group became a supergroup).

        Returns False when there is nothing to move or the new id already has data.
        """
        kernel = self.kernel
        await kernel.counters.flush()
        tables = list(storage.metadata.sorted_tables)
        for plugin in self.plugins.values():
            if plugin.tables is not None:
                tables.extend(plugin.tables.sorted_tables)
        if not await kernel.communities.migrate(old, new, tables):
            return False
        kernel.switches.renamed(old.key, new.key)
        kernel.plugin_settings.forget_community(old.key)
        kernel.dispatcher.forget_community(old.key)
        kernel.outbox.renamed(old.key, new.key)
        return True

    # -- plugins ------------------------------------------------------------------------

    async def set_enabled(self, community: CommunityRef, name: str, enabled: bool) -> None:
        """Enable or disable a plugin in a community, at run time."""
        kernel = self.kernel
        await kernel.switches.set(community, name, enabled)
        plugin = self.plugins.get(name)
        if enabled and plugin is not None and kernel.dispatcher.is_open(community):
            await kernel.dispatcher.open_plugin(plugin, community)
        for platform in self.platforms.values():
            refresh = getattr(platform, "commands_changed", None)
            if refresh is not None and community.platform == platform.name:
                await refresh(community)

    def _check_capabilities(self) -> None:
        """Explain, per platform, which plugins cannot run and which fall back."""
        unavailable = self.kernel.switches.unavailable
        unavailable.clear()
        for plugin in self.plugins.values():
            for platform in self.platforms.values():
                missing = self.missing_capabilities(plugin, platform.name)
                if missing:
                    unavailable[(plugin.name, platform.name)] = missing
                    self.kernel.switches.version += 1
                    log.warning(
                        "plugin %s is unavailable on %s: it needs %s",
                        plugin.name,
                        platform.name,
                        ", ".join(sorted(missing)),
                    )
                lacking = set(plugin.wants) - set(platform.capabilities)
                if lacking:
                    log.info(
                        "plugin %s falls back on %s without %s",
                        plugin.name,
                        platform.name,
                        ", ".join(sorted(lacking)),
                    )

    async def reload_plugin(self, name: str) -> None:
        """Import a plugin's code again and swap it in; on any failure the old one stays.

        Raises:
            KeyError: no such plugin is loaded.
            Exception: whatever the new code raised; the old version keeps running.
        """
        old = self.plugins[name]
        if isinstance(old, Builtin):
            raise KeyError(name)
        module = type(old).__module__
        modules = {
            m: v for m, v in sys.modules.items() if m == module or m.startswith(module + ".")
        }
        registry = dict(payloads._registry)
        try:
            new_cls = reimport(type(old))
            if new_cls.name != name:
                raise ValueError(f"the reloaded class is named {new_cls.name!r}, not {name!r}")
            if new_cls.tables is not None:
                others = [type(p) for n, p in self.plugins.items() if n != name]
                await upgrade(self.kernel.db.engine, self.migration_sources([*others, new_cls]))
            new = new_cls(self.kernel)
            folder = new_cls.folder() / "locales"
            if folder.is_dir():
                self.kernel.catalogs.add_domain(name, folder)
            await new.setup()
            for key in self.kernel.communities.keys():  # noqa: SIM118
                community = CommunityRef.from_key(key)
                if self.kernel.dispatcher.is_open(community):
                    await new.open(community)
        except BaseException:
            for loaded in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
                del sys.modules[loaded]
            sys.modules.update(modules)
            payloads._registry.clear()
            payloads._registry.update(registry)
            raise
        try:
            await old.teardown()
        except Exception:
            log.exception("teardown of %s before reload failed", name)
        self.plugins[name] = new
        self._check_capabilities()
        self.kernel.dispatcher.rebuild(list(self.plugins.values()))
        self.kernel.plugin_settings.plugin_changed(name)
        log.info("plugin %s reloaded", name)




__all__ = ["App", "SettingError"]
