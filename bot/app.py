"""The composition root: settings -> storage -> scheduler -> plugins -> adapters."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.core import payloads, storage
from bot.core.actions import Action, SendMessage
from bot.core.builtin import Builtin
from bot.core.capabilities import Capability
from bot.core.clock import Clock, SystemClock
from bot.core.commands import CommandSpec, Kind, convert
from bot.core.context import Context
from bot.core.counters import Counters
from bot.core.dispatch import Dispatcher
from bot.core.events import (
    CommandInvoked,
    CommunityJoined,
    Event,
    MemberJoined,
    MemberLeft,
)
from bot.core.i18n import Catalogs, Translator, normalize_language
from bot.core.markup import Markup, escape
from bot.core.messages import Content, Reward
from bot.core.migrate import CORE_VERSIONS, MigrationSource, upgrade
from bot.core.outbox import Outbox
from bot.core.platform import Platform
from bot.core.plugin import Plugin
from bot.core.privilege import Privilege
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from bot.core.scheduler import Misfire, Scheduler
from bot.core.storage import Database, ScheduledRow
from bot.loader import LoadFailure, discover, reimport
from bot.settings import Settings

log = logging.getLogger(__name__)


class SettingError(ValueError):
    """A setting value refused by the plugin's model; ``message`` is localized text."""

    def __init__(self, message: Markup) -> None:
        """Keep the explanation."""
        super().__init__(str(message))
        self.message = message


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
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.catalogs = Catalogs(settings.language)
        self.counters = Counters(self.clock)
        self.dispatcher = Dispatcher(self)
        self.outbox = Outbox(self.db, self.clock, self._report_failure)
        self.scheduler = Scheduler(
            self.db, self.clock, self._fire, self._misfire_of, settle=self.settle
        )
        self.platforms: dict[str, Platform] = {p.name: p for p in platforms}
        self._plugin_classes = list(plugins) if plugins is not None else None
        self.plugins: dict[str, Plugin] = {}
        self.load_failures: list[LoadFailure] = []
        self._communities: dict[str, dict[str, Any]] = {}
        self._languages: dict[str, dict[str, str]] = {}
        self._enabled: dict[tuple[str, str], bool] = {}
        self._settings_cache: dict[tuple[str, str, str], BaseModel] = {}
        self._known_members: set[tuple[str, str]] = set()
        self.privilege_overrides: dict[tuple[str, str], Privilege] = {}
        self.unavailable: dict[tuple[str, str], set[Capability]] = {}
        self.started = False

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
        await upgrade(self.db.engine, self.migration_sources(classes))
        for cls in classes:
            await self._add_plugin(cls)
        self._check_capabilities()
        self.dispatcher.rebuild(list(self.plugins.values()))
        for row in await self.db.all_communities():
            self._communities[row["key"]] = row
        self._enabled = await self.db.plugin_states()
        for key in self._communities:
            self._languages[key] = await self.db.member_languages(key)
        await self.dispatcher.load_window(self.clock.now())
        self.counters.also_flush(self.dispatcher.flush)
        self.counters.start()
        await self.outbox.start(self.platforms, await self.db.paused_communities())
        await self.scheduler.start()
        self.started = True
        if connect:
            for platform in self.platforms.values():
                await platform.start(self)

    async def _add_plugin(self, cls: type[Plugin]) -> Plugin | None:
        try:
            plugin = cls(self)
            folder = cls.folder() / "locales"
            if folder.is_dir():
                self.catalogs.add_domain(cls.name, folder)
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
        """Disconnect, flush counters, stop the scheduler and the outbox; close storage."""
        for platform in self.platforms.values():
            try:
                await platform.stop()
            except Exception:
                log.exception("stopping %s failed", platform.name)
        await self.dispatcher.idle()
        for plugin in self.plugins.values():
            try:
                await plugin.teardown()
            except Exception:
                log.exception("teardown of %s failed", plugin.name)
        await self.counters.stop()
        await self.scheduler.stop()
        await self.outbox.stop()
        await self.db.close()
        self.started = False

    async def settle(self, timeout: float = 60.0) -> None:
        """Wait until handlers and the outbox are quiet (scripted stories, tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await self.dispatcher.idle()
            await self.outbox.idle(max(deadline - loop.time(), 0.001))
            await asyncio.sleep(0)
            if not self.dispatcher._tasks and self.outbox.queued() == 0:
                return

    # -- communities, members, languages -----------------------------------------------

    def needs_observing(self, event: Event) -> bool:
        """Whether :meth:`observe` has anything to record (cheap; the hot path asks)."""
        key = event.community.key
        if key not in self._communities:
            return True
        kind = type(event)
        if kind is MemberJoined or kind is MemberLeft or kind is CommunityJoined:
            return True
        member: MemberRef | None = getattr(event, "member", None)
        return member is not None and (key, member.id) not in self._known_members

    async def observe(self, event: Event) -> None:
        """Keep the core's community and member records current (cheap on messages)."""
        community = event.community
        if community.key not in self._communities or type(event) is CommunityJoined:
            await self.register_community(community, getattr(event, "name", ""))
        kind = type(event)
        if kind is MemberJoined or kind is MemberLeft:
            member: MemberRef = event.member  # type: ignore[attr-defined]
            now = event.at or self.clock.now()
            values: dict[str, Any] = {"name": member.name}
            if kind is MemberJoined:
                values.update(joined_at=now, left_at=None)
            else:
                values["left_at"] = now
            await self.db.upsert_member(community.key, member.id, **values)
            self._known_members.add((community.key, member.id))
            return
        member_ref: MemberRef | None = getattr(event, "member", None)
        if member_ref is not None and (community.key, member_ref.id) not in self._known_members:
            self._known_members.add((community.key, member_ref.id))
            if await self.db.member(community.key, member_ref.id) is None:
                await self.db.upsert_member(
                    community.key, member_ref.id, name=member_ref.name, last_seen=self.clock.now()
                )

    async def register_community(self, community: CommunityRef, name: str = "") -> None:
        """Create the community's record (with the default language and timezone)."""
        await self.db.ensure_community(community.key, community.platform, name, self.clock.now())
        row = await self.db.community(community.key)
        assert row is not None
        if row.get("language") is None:
            await self.db.update_community(
                community.key, language=self.settings.language, timezone=self.settings.timezone
            )
            row = await self.db.community(community.key)
            assert row is not None
        self._communities[community.key] = row
        self._languages.setdefault(community.key, {})

    async def migrate_community(self, old: CommunityRef, new: CommunityRef) -> bool:
        """Move every row of a community to a new id (a Telegram group became a supergroup).

        Returns False when there is nothing to move or the new id already has data.
        """
        if await self.db.community(old.key) is None or await self.db.community(new.key):
            return False
        await self.counters.flush()
        tables = list(storage.metadata.sorted_tables)
        for plugin in self.plugins.values():
            if plugin.tables is not None:
                tables.extend(plugin.tables.sorted_tables)
        await self.db.rename_community(old.key, new.key, tables)
        self._communities.pop(old.key, None)
        row = await self.db.community(new.key)
        if row is not None:
            self._communities[new.key] = row
        self._languages[new.key] = self._languages.pop(old.key, {})
        self._enabled = {
            ((new.key if c == old.key else c), p): v for (c, p), v in self._enabled.items()
        }
        self._settings_cache.clear()
        self._known_members = {
            (new.key if c == old.key else c, m) for c, m in self._known_members
        }
        self.outbox.renamed(old.key, new.key)
        return True

    def community_info(self, community: CommunityRef) -> dict[str, Any]:
        """The cached community record (empty before the first event)."""
        return self._communities.get(community.key, {})

    async def update_community(self, community: CommunityRef, **values: Any) -> None:
        """Change the community's record (language, timezone, channels)."""
        await self.db.update_community(community.key, **values)
        row = await self.db.community(community.key)
        if row is not None:
            self._communities[community.key] = row

    def language_for(self, community: CommunityRef, member: MemberRef | None) -> str:
        """Member's chosen language, else the platform's hint, else the community's."""
        if member is not None:
            chosen = self._languages.get(community.key, {}).get(member.id)
            if chosen:
                return chosen
            hinted = normalize_language(member.language)
            if hinted and hinted in self.catalogs.languages():
                return hinted
        info = self._communities.get(community.key)
        if info and info.get("language"):
            return str(info["language"])
        return self.settings.language

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

    async def timezone_of(self, community: CommunityRef) -> str:
        """The community's IANA timezone."""
        info = self._communities.get(community.key)
        if info and info.get("timezone"):
            return str(info["timezone"])
        return self.settings.timezone

    def translator(self, domain: str, language: str, community: CommunityRef) -> Translator:
        """Strings of ``domain`` in ``language``, dates in the community's timezone."""
        info = self._communities.get(community.key, {})
        return Translator(
            self.catalogs, domain, language, str(info.get("timezone") or self.settings.timezone)
        )

    # -- plugins ------------------------------------------------------------------------

    def is_enabled(self, community: CommunityRef, plugin: Plugin) -> bool:
        """Whether a plugin runs in a community (explicit choice, else its default).

        A plugin whose needs the community's platform lacks never runs there.
        """
        if self.unavailable and (plugin.name, community.platform) in self.unavailable:
            return False
        explicit = self._enabled.get((community.key, plugin.name))
        if explicit is not None:
            return explicit
        if plugin.name in self.settings.disabled_by_default:
            return False
        return plugin.enabled_by_default

    async def set_enabled(self, community: CommunityRef, name: str, enabled: bool) -> None:
        """Enable or disable a plugin in a community, at run time."""
        await self.db.set_plugin_state(community.key, name, enabled)
        self._enabled[(community.key, name)] = enabled
        for platform in self.platforms.values():
            refresh = getattr(platform, "commands_changed", None)
            if refresh is not None and community.platform == platform.name:
                await refresh(community)

    def _check_capabilities(self) -> None:
        """Explain, per platform, which plugins cannot run and which fall back."""
        self.unavailable = {}
        for plugin in self.plugins.values():
            for platform in self.platforms.values():
                missing = self.missing_capabilities(plugin, platform.name)
                if missing:
                    self.unavailable[(plugin.name, platform.name)] = missing
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
                await upgrade(self.db.engine, self.migration_sources([*others, new_cls]))
            new = new_cls(self)
            folder = new_cls.folder() / "locales"
            if folder.is_dir():
                self.catalogs.add_domain(name, folder)
            await new.setup()
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
        self.dispatcher.rebuild(list(self.plugins.values()))
        self._settings_cache = {k: v for k, v in self._settings_cache.items() if k[0] != name}
        log.info("plugin %s reloaded", name)

    def missing_capabilities(
        self, plugin: type[Plugin] | Plugin, platform: str
    ) -> set[Capability]:
        """What a plugin needs that a platform lacks."""
        found = self.platforms.get(platform)
        have = found.capabilities if found is not None else frozenset()
        return set(plugin.needs) - set(have)

    def has_capability(self, community: CommunityRef, capability: Capability) -> bool:
        """Whether the community's platform offers ``capability``."""
        platform = self.platforms.get(community.platform)
        return platform is not None and capability in platform.capabilities

    # -- settings -----------------------------------------------------------------------

    async def settings_of(
        self, plugin: Plugin, community: CommunityRef, channel: ChannelRef | None = None
    ) -> BaseModel:
        """A plugin's settings: defaults, then community values, then channel values."""
        scope = f"channel:{channel.id}" if channel is not None else ""
        key = (plugin.name, community.key, scope)
        cached = self._settings_cache.get(key)
        if cached is not None:
            return cached
        values = await self.db.settings_for(community.key, plugin.name, "")
        if scope:
            scoped: frozenset[str] = getattr(
                plugin.settings, "channel_scoped", frozenset()
            )
            extra = await self.db.settings_for(community.key, plugin.name, scope)
            values.update({k: v for k, v in extra.items() if k in scoped})
        try:
            model = plugin.settings.model_validate(values)
        except ValidationError:
            log.exception(
                "stored settings of %s in %s are invalid; using defaults",
                plugin.name,
                community.key,
            )
            model = plugin.settings()
        self._settings_cache[key] = model
        return model

    async def set_setting(
        self,
        plugin: Plugin,
        community: CommunityRef,
        key: str,
        value: Any,
        *,
        translator: Translator,
        channel: ChannelRef | None = None,
    ) -> BaseModel:
        """Validate and store one setting; nothing changes when it is refused.

        ``value`` None resets the key to its default. Raises :class:`SettingError`.
        """
        fields = plugin.settings.model_fields
        if key not in fields:
            raise SettingError(
                translator.t(
                    "{plugin} has no setting “{key}”. Its settings are: {keys}.",
                    plugin=plugin.name,
                    key=key,
                    keys=", ".join(fields),
                )
            )
        scope = ""
        if channel is not None:
            if key not in getattr(plugin.settings, "channel_scoped", frozenset()):
                raise SettingError(translator.t("“{key}” cannot be set per channel.", key=key))
            scope = f"channel:{channel.id}"
        current = await self.db.settings_for(community.key, plugin.name, scope)
        from bot.core.validation import InvalidSetting, validated_setting

        core = self.translator("core", translator.language, community)
        try:  # text is parsed by the setting's type, then checked by the model
            model = validated_setting(plugin.settings, current, key, value, translator, core)
        except InvalidSetting as exc:
            raise SettingError(exc.message) from None
        stored = None if value is None else model.model_dump(mode="json")[key]
        await self.db.set_setting(community.key, plugin.name, scope, key, stored)
        self._settings_cache = {
            k: v
            for k, v in self._settings_cache.items()
            if not (k[0] == plugin.name and k[1] == community.key)
        }
        return model

    # -- privilege ----------------------------------------------------------------------

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """The member's privilege.

        Bot owners, then the platform's answer, the moderator role chosen in /setup, and
        overrides.
        """
        if f"{member.platform}:{member.id}" in self.settings.owners:
            return Privilege.OWNER
        override = self.privilege_overrides.get((community.key, member.id))
        platform = self.platforms.get(community.platform)
        found = Privilege.MEMBER
        if platform is not None:
            found = await platform.privilege_of(community, member)
        mod_role = self._communities.get(community.key, {}).get("mod_role")
        if found < Privilege.MOD and mod_role and mod_role in await self.member_roles(
            community, member
        ):
            found = Privilege.MOD
        return max(found, override) if override is not None else found

    async def record_reward(
        self, community: CommunityRef, member: MemberRef, reward: Reward, *, revoke: bool
    ) -> None:
        """Remember who holds which badge (and the role that came with it)."""
        await self.db.record_reward(
            community.key, member.id, reward.badge, reward.role.id if reward.role else None,
            self.clock.now(), revoke=revoke,
        )

    async def member_badges(self, community: CommunityRef, member: MemberRef) -> set[str]:
        """Badges granted to a member through the core, on any platform."""
        return {badge for badge, _ in await self.db.rewards_of(community.key, member.id)}

    async def member_roles(self, community: CommunityRef, member: MemberRef) -> set[str]:
        """Role ids a member holds.

        The platform's own answer where it has roles, plus roles granted through the core.
        """
        roles = {role for _, role in await self.db.rewards_of(community.key, member.id) if role}
        platform = self.platforms.get(community.platform)
        ask = getattr(platform, "member_roles", None)
        if ask is not None:
            found = await ask(community, member)
            if found is not None:
                roles |= set(found)
        return roles

    async def refuse(self, ctx: Context, spec: CommandSpec) -> None:
        """Tell a member they may not run a command."""
        core = self.translator("core", ctx.language, ctx.community)
        names = {
            Privilege.MOD: core.plain("moderators"),
            Privilege.ADMIN: core.plain("admins"),
            Privilege.OWNER: core.plain("the owner"),
        }
        await ctx.reply(
            core.t(
                "Sorry, /{name} is only for {who}.",
                name=spec.name,
                who=names.get(spec.privilege, ""),
            ),
            private=True,
        )

    # -- commands -----------------------------------------------------------------------

    def resolver(self, community: CommunityRef) -> Any:
        """A function that finds a member, channel or role for a text argument."""
        platform = self.platforms.get(community.platform)

        async def resolve(kind: Kind, token: str) -> Any:
            if platform is None:
                return None
            return await platform.resolve(community, kind, token)

        return resolve

    async def convert_options(self, spec: CommandSpec, event: CommandInvoked) -> dict[str, Any]:
        """Check typed options from a platform against the declaration."""
        options = event.options or {}
        resolve = self.resolver(event.community)
        timezone = await self.timezone_of(event.community)
        out: dict[str, Any] = {}
        from bot.core.commands import ArgumentError
        from bot.core.i18n import N_

        for param in spec.params:
            if param.name not in options or options[param.name] is None:
                if param.required:
                    raise ArgumentError(
                        N_("Missing argument “{name}”. Usage: {usage}"),
                        {"name": param.name, "usage": spec.usage()},
                    )
                out[param.name] = param.default
                continue
            out[param.name] = await convert(
                param, options[param.name], resolve, timezone, self.clock.now()
            )
        return out

    # -- contexts -----------------------------------------------------------------------

    def context_for_event(self, plugin: Plugin | None, event: Event) -> Context:
        """The context a handler gets for an event."""
        privilege = None
        hint = getattr(event, "privilege_hint", None)
        if hint is not None:
            privilege = Privilege(hint)
        return Context(
            self,
            plugin,
            event.community,
            channel=getattr(event, "channel", None),
            member=getattr(event, "member", None),
            event=event,
            reply_handle=getattr(event, "reply_handle", None),
            privilege=privilege,
        )

    def context_for(
        self,
        plugin: Plugin | None,
        community: CommunityRef,
        *,
        channel: ChannelRef | None = None,
        member: MemberRef | None = None,
    ) -> Context:
        """A context for work not started by an event."""
        return Context(self, plugin, community, channel=channel, member=member)

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """Where automated posts go: the welcome channel if set, else the platform's."""
        info = self._communities.get(community.key, {})
        if info.get("welcome_channel"):
            return ChannelRef(community.platform, str(info["welcome_channel"]))
        platform = self.platforms.get(community.platform)
        return platform.default_channel(community) if platform is not None else None

    # -- jobs ---------------------------------------------------------------------------

    def _misfire_of(self, plugin: str, job: str) -> Misfire:
        found = self.plugins.get(plugin)
        spec = found.jobs.get(job) if found is not None else None
        return spec.misfire if spec is not None else Misfire.RUN_LATE

    async def _fire(self, item: ScheduledRow, occurrence: datetime) -> None:
        plugin = self.plugins.get(item.plugin)
        community = CommunityRef.from_key(item.community)
        if plugin is None or item.job not in plugin.jobs:
            log.error(
                "no job %s.%s for a scheduled item; it is recorded as fired", item.plugin, item.job
            )
            return
        if not self.is_enabled(community, plugin):
            log.info("skipped %s.%s in %s: plugin disabled", item.plugin, item.job, item.community)
            return
        ctx = self.context_for(plugin, community)
        handler = getattr(plugin, plugin.jobs[item.job].handler)
        data = {k: v for k, v in item.data.items() if not k.startswith("_")}
        data["_occurrence"] = occurrence.isoformat()
        try:
            await handler(ctx, data)
        except Exception as exc:
            from bot.core.events import internal_id

            self.dispatcher._failed(
                plugin, Event(id=internal_id(f"job.{item.job}"), community=community), exc
            )

    # -- failures -----------------------------------------------------------------------

    async def _report_failure(self, action: Action, reason: str, values: dict[str, Any]) -> None:
        """Tell a community's admins that an action could not be carried out."""
        if isinstance(action, SendMessage) and action.content.text.startswith("⚠"):
            return  # a report that failed is logged, not reported again
        community = action.community
        info = self._communities.get(community.key, {})
        channel = (
            ChannelRef(community.platform, str(info["admin_channel"]))
            if info.get("admin_channel")
            else self.default_channel(community)
        )
        if channel is None:
            log.error("no channel to report a failure in %s: %s", community.key, reason)
            return
        core = self.translator("core", self.language_for(community, None), community)
        # adapters' reasons are msgids of their own domain (falling back to core)
        local = self.translator(community.platform, self.language_for(community, None), community)
        explained = local.t(reason, **values) if values else escape(local.plain(reason))
        text = Markup("⚠ ") + core.t(
            "I could not carry out an action ({kind}): {reason}",
            kind=action.kind,
            reason=explained,
        )
        await self.outbox.submit(
            SendMessage(community=community, channel=channel, content=Content(text)),
            direct=True,
        )

    # -- privacy ------------------------------------------------------------------------

    async def export_member(self, member: MemberRef) -> dict[str, Any]:
        """Everything every plugin and the core store about a member."""
        data: dict[str, Any] = {"core": await self.db.export_member(member.platform, member.id)}
        for name, plugin in self.plugins.items():
            if name != "core":  # the framework's own plugin: its data is the core's above
                data[name] = await plugin.export(member)
        return data

    async def forget_member(self, member: MemberRef) -> None:
        """Erase a member from every plugin and core table."""
        await self.counters.flush()
        for plugin in self.plugins.values():
            await plugin.forget(member)
        await self.db.forget_member(member.platform, member.id)
        for languages in self._languages.values():
            languages.pop(member.id, None)
        self._known_members = {k for k in self._known_members if k[1] != member.id}



def _explain(error: Any, core: Translator) -> str:
    """A pydantic error in words of the core catalog: what is allowed instead."""
    from bot.core.validation import explain

    return explain(error, core)
