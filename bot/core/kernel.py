"""The kernel: the services a plugin, a context and the dispatcher work with.

It holds one instance of each service and the few operations that span several of them
(building a context, firing a job, reporting a failed action). The composition root
(``bot.app``) builds it, loads the plugins into it and starts the adapters; nothing here
imports the composition root. Plugin management (reload, enable) is reached through the
:class:`PluginManager` protocol the composition root implements.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from bot.core.actions import Action, SendMessage
from bot.core.capabilities import DEFAULT_LIMITS, Capability, Limits
from bot.core.causal import TURN, Chain
from bot.core.clock import Clock
from bot.core.communities import CommunityDirectory
from bot.core.context import Context
from bot.core.counters import Counters
from bot.core.dispatch import Dispatcher
from bot.core.events import Event, internal_id
from bot.core.i18n import Catalogs, Translator
from bot.core.markup import Markup, escape
from bot.core.messages import Content, Reward
from bot.core.outbox import Outbox
from bot.core.plugin_settings import PluginSettings
from bot.core.privacy import Privacy
from bot.core.privilege import Privilege
from bot.core.privileges import Privileges
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from bot.core.rewards import RewardLedger
from bot.core.scheduler import Misfire, Scheduler
from bot.core.storage import Database, ScheduledRow
from bot.core.switches import PluginSwitches

if TYPE_CHECKING:
    from bot.core.platform import Platform
    from bot.core.plugin import Plugin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Defaults:
    """Process-wide facts the kernel needs from the settings."""

    language: str = "en"
    timezone: str = "UTC"
    owners: frozenset[str] = frozenset()
    disabled_by_default: frozenset[str] = frozenset()


class PluginManager(Protocol):
    """What the composition root offers for managing plugins at run time."""

    load_failures: list[Any]

    async def reload_plugin(self, name: str) -> None:
        """Import a plugin's code again and swap it in."""

    async def set_enabled(self, community: CommunityRef, name: str, enabled: bool) -> None:
        """Enable or disable a plugin in a community."""


class Kernel:
    """One bot's services."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        defaults: Defaults,
        platforms: dict[str, Platform],
    ) -> None:
        """Build every service; nothing starts until the composition root says so."""
        self.db = db
        self.clock = clock
        self.defaults = defaults
        self.platforms = platforms
        self.plugins: dict[str, Plugin] = {}
        self.manager: PluginManager | None = None
        self.catalogs = Catalogs(defaults.language)
        self.counters = Counters(clock)
        self.communities = CommunityDirectory(
            db,
            clock,
            language=defaults.language,
            timezone=defaults.timezone,
            languages=self.catalogs.languages,
            platform_channel=self._platform_channel,
        )
        self.plugin_settings = PluginSettings(db)
        self.switches = PluginSwitches(db, defaults.disabled_by_default)
        self.rewards = RewardLedger(db, clock, platforms.get)
        self.privileges = Privileges(defaults.owners, self.communities, self.rewards,
                                     platforms.get)
        self.privacy = Privacy(db, self.communities, lambda: self.plugins, self.counters.flush)
        self.dispatcher = Dispatcher(self)
        self.outbox = Outbox(db, clock, self.report_failure)
        self.scheduler = Scheduler(db, clock, self.fire, self.misfire_of, settle=self.settle)

    # -- facts about a community --------------------------------------------------------

    def _platform_channel(self, community: CommunityRef) -> ChannelRef | None:
        platform = self.platforms.get(community.platform)
        return platform.default_channel(community) if platform is not None else None

    def has_capability(self, community: CommunityRef, capability: Capability) -> bool:
        """Whether the community's platform offers ``capability``."""
        platform = self.platforms.get(community.platform)
        return platform is not None and capability in platform.capabilities

    def limits_of(self, community: CommunityRef) -> Limits:
        """The limits the community's platform declares."""
        platform = self.platforms.get(community.platform)
        return getattr(platform, "limits", DEFAULT_LIMITS) if platform else DEFAULT_LIMITS

    def translator(self, domain: str, language: str, community: CommunityRef) -> Translator:
        """Strings of ``domain`` in ``language``, dates in the community's timezone."""
        return Translator(self.catalogs, domain, language, self.communities.timezone(community))

    def is_enabled(self, community: CommunityRef, plugin: Plugin) -> bool:
        """Whether a plugin runs in a community."""
        return self.switches.is_enabled(community, plugin)

    # -- contexts -----------------------------------------------------------------------

    def context_for_event(self, plugin: Plugin | None, event: Event) -> Context:
        """The context a handler gets for an event."""
        hint = getattr(event, "privilege_hint", None)
        return Context.of_event(
            self,
            plugin,
            event,
            getattr(event, "channel", None),
            getattr(event, "member", None),
            getattr(event, "reply_handle", None),
            Privilege(hint) if hint is not None else None,
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

    # -- jobs ---------------------------------------------------------------------------

    def misfire_of(self, plugin: str, job: str) -> Misfire:
        """The missed-firing rule a plugin's job declared."""
        found = self.plugins.get(plugin)
        spec = found.jobs.get(job) if found is not None else None
        return spec.misfire if spec is not None else Misfire.RUN_LATE

    async def fire(self, item: ScheduledRow, occurrence: datetime) -> None:
        """Run a scheduled item's job in its community's context."""
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
        await self.dispatcher.open(community)
        ctx = self.context_for(plugin, community)
        handler = getattr(plugin, plugin.jobs[item.job].handler)
        data = {k: v for k, v in item.data.items() if not k.startswith("_")}
        data["_occurrence"] = occurrence.isoformat()
        # what the job sets off (tasks it spawns, events it emits) follows its own posts
        chain = Chain()
        token = TURN.set((chain, chain.ticket()))
        try:
            await handler(ctx, data)
        except Exception as exc:
            self.dispatcher.failed(
                plugin, Event(id=internal_id(f"job.{item.job}"), community=community), exc
            )
        finally:
            chain.finished(0)
            TURN.reset(token)

    async def settle(self, timeout: float = 60.0) -> None:
        """Wait until handlers and the outbox are quiet (scripted stories, tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await self.dispatcher.idle()
            await self.outbox.idle(max(deadline - loop.time(), 0.001))
            await asyncio.sleep(0)
            if self.dispatcher.quiet() and self.outbox.queued() == 0:
                return

    # -- failures -----------------------------------------------------------------------

    def admin_channel(self, community: CommunityRef) -> ChannelRef | None:
        """Where admins are told things: the admin channel, else the default channel."""
        info = self.communities.info(community)
        if info.get("admin_channel"):
            return ChannelRef(community.platform, str(info["admin_channel"]))
        return self.communities.default_channel(community)

    async def tell_admins(self, community: CommunityRef, text: Markup) -> None:
        """Post a notice for a community's admins (goes out even while paused)."""
        channel = self.admin_channel(community)
        if channel is None:
            log.error("no channel to tell the admins of %s: %s", community.key, text)
            return
        await self.outbox.submit(
            SendMessage(community=community, channel=channel, content=Content(text)),
            direct=True,
        )

    async def report_failure(self, action: Action, reason: str, values: dict[str, Any]) -> None:
        """Tell a community's admins that an action could not be carried out."""
        if isinstance(action, SendMessage) and action.content.text.startswith("⚠"):
            return  # a report that failed is logged, not reported again
        community = action.community
        language = self.communities.community_language(community)
        core = self.translator("core", language, community)
        # adapters' reasons are msgids of their own domain (falling back to core)
        local = self.translator(community.platform, language, community)
        explained = local.t(reason, **values) if values else escape(local.plain(reason))
        await self.tell_admins(community, Markup("⚠ ") + core.t(
            "I could not carry out an action ({kind}): {reason}",
            kind=action.kind,
            reason=explained,
        ))

    # -- the names plugins and tests have always used (each delegates to its service) ----

    async def register_community(self, community: CommunityRef, name: str = "") -> None:
        """Record a community (and open it for handlers) before any event of it."""
        await self.communities.register(community, name)
        await self.dispatcher.open(community, name)

    def community_info(self, community: CommunityRef) -> dict[str, Any]:
        """The cached community record."""
        return self.communities.info(community)

    async def update_community(self, community: CommunityRef, **values: Any) -> None:
        """Change the community's record (in a new language, its commands are renamed)."""
        await self.communities.update(community, **values)
        if "language" in values:
            # slash-command descriptions and choices are written in the community's language
            refresh = getattr(self.platforms.get(community.platform), "commands_changed", None)
            if refresh is not None:
                await refresh(community)

    def language_for(self, community: CommunityRef, member: MemberRef | None) -> str:
        """The member's language (else the community's)."""
        return self.communities.member_language(community, member)

    async def set_member_language(
        self, community: CommunityRef, member: MemberRef, language: str | None
    ) -> None:
        """Record a member's own language choice."""
        await self.communities.set_member_language(community, member, language)

    async def timezone_of(self, community: CommunityRef) -> str:
        """The community's IANA timezone."""
        return self.communities.timezone(community)

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """Where automated posts go."""
        return self.communities.default_channel(community)

    async def settings_of(
        self, plugin: Plugin, community: CommunityRef, channel: ChannelRef | None = None
    ) -> BaseModel:
        """A plugin's settings in a community (and channel)."""
        return await self.plugin_settings.read(plugin, community, channel)

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
        """Validate and store one setting (raises ``SettingError``), then tell the plugin.

        The plugin's :meth:`~bot.core.plugin.Plugin.settings_changed` runs once the value is
        stored; its failure is the plugin's (logged and counted), not the writer's.
        """
        core = self.translator("core", translator.language, community)
        model = await self.plugin_settings.set(
            plugin, community, key, value, translator=translator, core=core, channel=channel
        )
        try:
            await plugin.settings_changed(community, frozenset({key}), channel)
        except Exception as exc:
            event = Event(id=internal_id("settings_changed"), community=community)
            self.dispatcher.failed(plugin, event, exc)
        return model

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """The member's privilege."""
        return await self.privileges.of(community, member)

    @property
    def privilege_overrides(self) -> dict[tuple[str, str], Privilege]:
        """Raised or lowered privileges."""
        return self.privileges.overrides

    async def record_reward(
        self, community: CommunityRef, member: MemberRef, reward: Reward, *, revoke: bool
    ) -> None:
        """Remember a grant."""
        await self.rewards.record(community, member, reward, revoke=revoke)

    async def member_badges(self, community: CommunityRef, member: MemberRef) -> set[str]:
        """Badges granted through the core."""
        return await self.rewards.badges(community, member)

    async def member_roles(self, community: CommunityRef, member: MemberRef) -> set[str]:
        """Role ids a member holds."""
        return await self.rewards.roles(community, member)

    async def export_member(self, member: MemberRef) -> dict[str, Any]:
        """Everything stored about a member."""
        return await self.privacy.export(member)

    async def forget_member(self, member: MemberRef) -> None:
        """Erase a member everywhere."""
        await self.privacy.forget(member)

    @property
    def unavailable(self) -> dict[tuple[str, str], set[Capability]]:
        """Plugins that cannot run on a platform, with what they lack."""
        return self.switches.unavailable

    @property
    def load_failures(self) -> list[Any]:
        """Plugins that failed to load."""
        return self.manager.load_failures if self.manager is not None else []

    async def reload_plugin(self, name: str) -> None:
        """Reload a plugin through the composition root."""
        assert self.manager is not None
        await self.manager.reload_plugin(name)

    async def set_enabled(self, community: CommunityRef, name: str, enabled: bool) -> None:
        """Enable or disable a plugin through the composition root."""
        assert self.manager is not None
        await self.manager.set_enabled(community, name, enabled)

    def missing_capabilities(
        self, plugin: type[Plugin] | Plugin, platform: str
    ) -> set[Capability]:
        """What a plugin needs that a platform lacks."""
        found = self.platforms.get(platform)
        have = found.capabilities if found is not None else frozenset()
        return set(plugin.needs) - set(have)


__all__ = ["Defaults", "Kernel", "PluginManager"]
