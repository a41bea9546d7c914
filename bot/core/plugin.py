"""The Plugin base class and the decorators that declare commands, handlers and jobs.

A plugin declares everything next to the code that uses it::

    class Greet(Plugin):
        name = "greet"
        settings = GreetSettings

        @on(MemberJoined)
        async def welcome(self, event: MemberJoined, ctx: Context) -> None: ...

        @command("greet_test", privilege=Privilege.ADMIN, help=N_("Preview the greeting"))
        async def greet_test(self, ctx: Context, member: MemberRef | None = None) -> None: ...

        @job("weekly_count")
        async def weekly(self, ctx: Context, data: dict[str, Any]) -> None: ...
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import MetaData

from bot.core.capabilities import Capability
from bot.core.commands import CommandSpec, build_spec
from bot.core.counters import Accumulator
from bot.core.events import Event
from bot.core.i18n import N_
from bot.core.payloads import Payload
from bot.core.privilege import Privilege
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from bot.core.scheduler import Misfire

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.kernel import Kernel

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
H = TypeVar("H", bound=Callable[..., Any])
K = TypeVar("K")


class NoSettings(BaseModel):
    """Settings of a plugin that has none."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A named job: what the scheduler calls and what to do when a firing was missed."""

    name: str
    misfire: Misfire
    handler: str


def command(
    name: str,
    *,
    help: str,
    privilege: Privilege = Privilege.MEMBER,
    private: bool = False,
    direct_only: bool = False,
) -> Callable[[F], F]:
    """Declare a command; its parameters come from the method's type hints.

    Args:
        name: ASCII ``[a-z0-9_]{1,32}``.
        help: A msgid (wrap it in ``N_``) describing the command.
        privilege: The lowest privilege that may run it; checked at every invocation.
        private: Answer privately (ephemeral on Discord) by default.
        direct_only: Only in a private chat with the bot.
    """

    def decorate(func: F) -> F:
        func.__majlis_command__ = build_spec(  # type: ignore[attr-defined]
            func,
            name=name,
            help=help,
            privilege=privilege,
            private=private,
            direct_only=direct_only,
        )
        return func

    return decorate


def on(*events: type[Event]) -> Callable[[H], H]:
    """Declare an event handler: ``def h(self, event, ctx)`` or ``async def``.

    A plain ``def`` runs inline on the hot path and must not wait (count in memory; use
    ``ctx.spawn(coro)`` for the rare work that must); an ``async def`` runs in its own task.
    """

    def decorate(func: H) -> H:
        func.__majlis_events__ = events  # type: ignore[attr-defined]
        return func

    return decorate


def on_button(*payloads: type[Payload]) -> Callable[[F], F]:
    """Declare a button handler: ``async def h(self, payload, ctx)``."""

    def decorate(func: F) -> F:
        func.__majlis_buttons__ = payloads  # type: ignore[attr-defined]
        return func

    return decorate


def job(name: str, *, misfire: Misfire = Misfire.RUN_LATE) -> Callable[[F], F]:
    """Declare a job the scheduler fires: ``async def j(self, ctx, data)``."""

    def decorate(func: F) -> F:
        func.__majlis_job__ = (name, misfire)  # type: ignore[attr-defined]
        return func

    return decorate


class Plugin:
    """Base class of every plugin.

    Class attributes a plugin sets: ``name`` (also its gettext domain and table prefix),
    ``settings`` (a pydantic model: its defaults *are* the registration), ``needs``
    (capabilities without which it cannot work), ``wants`` (capabilities it uses when
    present and falls back without), ``stores`` (a sentence telling members what it keeps
    about them), ``tables`` (its SQLAlchemy ``MetaData``), ``enabled_by_default``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    settings: ClassVar[type[BaseModel]] = NoSettings
    needs: ClassVar[frozenset[Capability]] = frozenset()
    wants: ClassVar[frozenset[Capability]] = frozenset()
    stores: ClassVar[str] = N_("Nothing about you.")
    tables: ClassVar[MetaData | None] = None
    enabled_by_default: ClassVar[bool] = True

    commands: ClassVar[dict[str, CommandSpec]]
    handlers: ClassVar[tuple[tuple[type[Event], str], ...]]
    buttons: ClassVar[tuple[tuple[type[Payload], str], ...]]
    jobs: ClassVar[dict[str, JobSpec]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        commands: dict[str, CommandSpec] = {}
        handlers: list[tuple[type[Event], str]] = []
        buttons: list[tuple[type[Payload], str]] = []
        jobs: dict[str, JobSpec] = {}
        for attr, value in inspect.getmembers(cls, inspect.isfunction):
            spec = getattr(value, "__majlis_command__", None)
            if spec is not None:
                if spec.name in commands:
                    raise ValueError(f"{cls.__name__}: command /{spec.name} declared twice")
                commands[spec.name] = _with(spec, handler=attr, plugin=cls.name)
            for event_type in getattr(value, "__majlis_events__", ()):
                handlers.append((event_type, attr))
            for payload_type in getattr(value, "__majlis_buttons__", ()):
                buttons.append((payload_type, attr))
            declared = getattr(value, "__majlis_job__", None)
            if declared is not None:
                jobs[declared[0]] = JobSpec(declared[0], declared[1], attr)
        cls.commands = commands
        cls.handlers = tuple(handlers)
        cls.buttons = tuple(buttons)
        cls.jobs = jobs

    def __init__(self, kernel: Kernel) -> None:
        """Bind the plugin to the kernel's services.

        ``self.kernel`` holds them; ``self.app`` is the same object under its older name.
        """
        self.kernel = kernel
        self.app = kernel
        self.db = kernel.db
        self.clock = kernel.clock
        self.log = logging.getLogger(f"majlis.plugins.{self.name}")

    # -- where the plugin's files are --------------------------------------------------

    @classmethod
    def folder(cls) -> Path:
        """The folder of the plugin's module."""
        return Path(inspect.getfile(cls)).resolve().parent

    @classmethod
    def migrations_path(cls) -> Path:
        """Where the plugin's Alembic revisions live."""
        return cls.folder() / "migrations"

    # -- life cycle ---------------------------------------------------------------------

    async def setup(self) -> None:
        """Called once after the database is migrated, before events flow."""

    async def teardown(self) -> None:
        """Called at shutdown and before a reload; flush what is in memory."""

    async def open(self, community: CommunityRef) -> None:
        """Load what the plugin keeps in memory for a community.

        Called once per community (and again for a reloaded plugin) before any of the
        plugin's handlers sees an event of it; events wait meanwhile, in order. Handlers
        can then read that state, and ``ctx.config``, without waiting.
        """

    async def settings_changed(
        self, community: CommunityRef, keys: frozenset[str], channel: ChannelRef | None
    ) -> None:
        """Called after ``keys`` of this plugin's settings were written in ``community``.

        By ``/config``, a plugin's own setup command, anything that calls
        ``kernel.set_setting`` (also while the plugin is off there, and for a reset);
        ``channel`` is the scope written, None for the community's value. React here to
        what reading the settings later would miss, e.g. tell other plugins by an event.
        """

    # -- privacy ------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Everything the plugin stores about ``member``, JSON-ready."""
        return {}

    async def forget(self, member: MemberRef) -> None:
        """Erase ``member``'s personal data (aggregates may stay without the id)."""

    # -- services -----------------------------------------------------------------------

    async def config(
        self, community: CommunityRef, channel: ChannelRef | None = None
    ) -> BaseModel:
        """The plugin's settings in a community (and channel, where scoped)."""
        return await self.kernel.plugin_settings.read(self, community, channel)

    async def schedule(
        self,
        job_name: str,
        community: CommunityRef,
        *,
        at: datetime | None = None,
        rule: str | None = None,
        timezone: str | None = None,
        key: str = "",
        data: Mapping[str, Any] | None = None,
        member: MemberRef | None = None,
    ) -> int:
        """Schedule a declared job once (``at``) or by a recurrence ``rule``.

        ``rule`` is an RFC 5545 RRULE (``FREQ=WEEKLY;BYDAY=MO;BYHOUR=9``) or ``cron:``
        followed by a crontab line; it is read in ``timezone`` (IANA; default the
        community's). ``key`` makes scheduling idempotent: the same key replaces.
        """
        if job_name not in self.jobs:
            raise KeyError(f"{self.name}: no job named {job_name!r}")
        return await self.kernel.scheduler.schedule(
            plugin=self.name,
            job=job_name,
            community=community,
            at=at,
            rule=rule,
            timezone=timezone or self.kernel.communities.timezone(community),
            key=key,
            data=dict(data or {}),
            member=member,
        )

    async def unschedule(self, job_name: str, community: CommunityRef, key: str = "") -> bool:
        """Cancel a scheduled job; True if one was active."""
        return await self.kernel.scheduler.cancel(self.name, job_name, community, key)

    async def next_runs(self, job_name: str, community: CommunityRef) -> dict[str, datetime]:
        """When each scheduled ``job_name`` of this plugin fires next, by its ``key``."""
        return await self.kernel.scheduler.next_runs(self.name, job_name, community)

    async def emit(self, event: Event) -> None:
        """Send an event to every plugin (plugins talk to each other this way)."""
        await self.kernel.dispatcher.dispatch(event)

    def accumulator(self, flush: Callable[[dict[K, int]], Awaitable[None]]) -> Accumulator[K]:
        """An in-memory counter flushed in batches at least every second and at shutdown."""
        return self.kernel.counters.create(f"{self.name}", flush)

    def context(
        self,
        community: CommunityRef,
        *,
        channel: ChannelRef | None = None,
        member: MemberRef | None = None,
    ) -> Context:
        """A context for work not started by an event (jobs, background tasks)."""
        return self.kernel.context_for(self, community, channel=channel, member=member)


def _with(spec: CommandSpec, **changes: Any) -> CommandSpec:
    from dataclasses import replace

    return replace(spec, **changes)
