"""Routes events to plugin handlers, drops replays, isolates failures.

This is the hot path: every message passes here. A handler is either synchronous
(``def``: it runs inline, counts in memory, never waits — the hot-path handlers) or
asynchronous (``async def``: it runs as its own task, so a slow handler delays no other
handler's work, and every ``await`` inside it — locks, timeouts, futures — belongs to that
task; only what a later handler of the same event *sends* waits for what the slow one
sends, and for at most :data:`~bot.core.causal.CAUSAL_WAIT`, see below). A handler
that raises is logged with its plugin, event and community, counted and stored; admins are
told once an hour per plugin, and the member whose command or button it was is answered.

Before any handler sees an event of a community, the community is *opened* once: its
record, members, languages and every plugin's settings are loaded and each plugin's
:meth:`~bot.core.plugin.Plugin.open` hook has run. Events that arrive meanwhile wait, in
order, and are handled in that order when it is done; so handlers never wait on a cache
miss, and a cold start costs one load per community however many messages wait on it.

Commands and button presses go ahead of background work: a member waits for their answer
(Discord gives an interaction 3 seconds), nobody waits for a message's XP. Waiting events
are handled in batches with a turn for the event loop between them (a burst of 100,000
messages does not stall the gateway), and an interaction that waits is handled before the
messages queued ahead of it, except its own member's, which keep their order before it.

What one event sets off reaches the outbox in the order it was caused: its handlers' tasks,
the tasks they spawn and the handlers of the events they emit join the event's
:class:`~bot.core.causal.Chain` in the order they start, and each submits once those before
it are done (an interaction's own answer is first in its chain).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.causal import TURN, Chain
from bot.core.commands import ArgumentError, CommandSpec, convert_values, parse_arguments
from bot.core.context import Context
from bot.core.events import (
    ButtonPressed,
    CommandInvoked,
    CommunityJoined,
    Event,
    MemberJoined,
    MemberLeft,
)
from bot.core.i18n import DEFAULT_LANGUAGE
from bot.core.payloads import Payload
from bot.core.privilege import Privilege
from bot.core.refs import CommunityRef
from bot.core.storage import ANSWERING, event_digest

if TYPE_CHECKING:
    from bot.core.commands import Kind
    from bot.core.kernel import Kernel
    from bot.core.plugin import Plugin

log = logging.getLogger(__name__)

#: How many recent event ids are kept in memory to drop replays.
WINDOW_SIZE = 50_000
#: Ids are remembered by 60 bits of a hash (an int of 32 bytes, where the id's string
#: and an ordered dict's entry took ~200): the window's 50k ids cost ~4 MiB, not ~11.
#: Recent ids live in this process only, so ``hash()`` does; a stored digest is stable.
_ID_BITS = (1 << 60) - 1
#: How long handled ids are kept in the database (replays come within minutes).
WINDOW_AGE = timedelta(hours=24)
#: Admins hear about a failing plugin at most this often.
FAILURE_NOTICE_INTERVAL = timedelta(hours=1)
#: Commands and button presses go ahead of background work (off only to measure without).
INTERACTIONS_FIRST = True
#: Most (community, event type) pairs whose enabled routes are kept.
_ENABLED_ROUTES = 65_536
#: Waiting events handled between two turns of the event loop when a community opens.
DRAIN_BATCH = 256


@dataclass(frozen=True, slots=True)
class Route:
    """A bound handler of a plugin; ``waits`` when it is a coroutine function."""

    plugin: Plugin
    handler: Callable[..., Any]
    waits: bool


@dataclass(slots=True)
class _Opening:
    """A community being opened: the events that wait for it, and who awaits it."""

    waiting: list[tuple[Event, asyncio.Future[None] | None]] = field(default_factory=list)
    #: Positions in ``waiting`` of commands and button presses, handled first.
    urgent: deque[int] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None

    def add(self, event: Event, waiter: asyncio.Future[None] | None) -> None:
        """Queue an event (or, with the ``_OPENED`` marker, a caller) until it is open."""
        kind = type(event)
        if INTERACTIONS_FIRST and (kind is CommandInvoked or kind is ButtonPressed):
            self.urgent.append(len(self.waiting))
        self.waiting.append((event, waiter))


class Dispatcher:
    """Delivers each event once to every enabled plugin that handles it."""

    def __init__(self, kernel: Kernel) -> None:
        """Start with no routes; :meth:`rebuild` reads them from the loaded plugins."""
        self.kernel = kernel
        self._routes: dict[type[Event], tuple[Route, ...]] = {}
        #: (community key, event type) -> (switches' version, routes enabled there)
        self._enabled: dict[tuple[str, type[Event]], tuple[int, tuple[Route, ...]]] = {}
        self._buttons: dict[type[Payload], Route] = {}
        self._commands: dict[str, tuple[Plugin, CommandSpec]] = {}
        #: Hashes of the recent ids (:data:`_ID_BITS`), and in ``_ring`` the same in the
        #: order they came (-1: empty), the oldest at ``_ring_at``, the next to go.
        self._recent: set[int] = set()
        self._ring: list[int] = [-1] * WINDOW_SIZE
        self._ring_at = 0
        self._persisted: set[int] = set()
        self._persisted_until: datetime | None = None
        self._unsaved: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._open: set[str] = set()
        self._opening: dict[str, _Opening] = {}
        self.errors: dict[str, int] = {}
        self._unsaved_errors: list[dict[str, Any]] = []
        self._noticed: dict[tuple[str, str], datetime] = {}
        self.handled = 0
        self.dropped = 0
        #: The chain of the event being routed (``_NO_CHAIN_YET`` until a task starts),
        #: None outside :meth:`_route`.
        self._chain: Chain | None = None

    # -- routes -------------------------------------------------------------------------

    def rebuild(self, plugins: list[Plugin]) -> None:
        """Read handlers, buttons and commands from the loaded plugins."""
        routes: dict[type[Event], list[Route]] = {}
        buttons: dict[type[Payload], Route] = {}
        commands: dict[str, tuple[Plugin, CommandSpec]] = {}
        for plugin in plugins:
            for event_type, attr in plugin.handlers:
                handler = getattr(plugin, attr)
                routes.setdefault(event_type, []).append(
                    Route(plugin, handler, inspect.iscoroutinefunction(handler))
                )
            for payload_type, attr in plugin.buttons:
                buttons[payload_type] = Route(plugin, getattr(plugin, attr), True)
            for name, spec in plugin.commands.items():
                if name in commands and commands[name][0] is not plugin:
                    log.error(
                        "command /%s of %s clashes with %s; keeping the first",
                        name,
                        plugin.name,
                        commands[name][0].name,
                    )
                    continue
                commands[name] = (plugin, spec)
        self._routes = {k: tuple(v) for k, v in routes.items()}
        self._enabled.clear()
        self._buttons = buttons
        self._commands = commands

    def commands(self) -> dict[str, tuple[Plugin, CommandSpec]]:
        """Every command of the loaded plugins, by name."""
        return self._commands

    # -- replays ------------------------------------------------------------------------

    async def load_window(self, now: datetime) -> None:
        """Remember ids handled before the last stop, so their replays are dropped."""
        self._persisted = {_stored_key(digest)
                           for digest in await self.kernel.db.recent_events(now - WINDOW_AGE)}
        self._persisted_until = now + WINDOW_AGE
        await self.kernel.db.prune_events(now - WINDOW_AGE)

    def _first_time(self, event: Event) -> bool:
        event_id = event.id
        key = hash(event_id) & _ID_BITS
        recent = self._recent
        if key in recent:
            return False
        if event.durable:
            digest = event_digest(event_id)
            if _stored_key(digest) in self._persisted:
                return False
            self._unsaved.append(digest)
        recent.add(key)
        ring, at = self._ring, self._ring_at
        recent.discard(ring[at])  # the oldest leaves (none while the ring fills)
        ring[at] = key
        self._ring_at = at + 1 if at + 1 < len(ring) else 0
        return True

    async def flush(self) -> None:
        """Store handled ids and errors (called every second with the counters)."""
        db = self.kernel.db
        now = self.kernel.clock.now()
        if self._unsaved:
            batch, self._unsaved = self._unsaved, []
            try:
                await db.record_events(batch, now)
            except Exception:
                self._unsaved[:0] = batch
                raise
        if self._persisted_until is not None and now >= self._persisted_until:
            # ids from before the last start are past any replay: let them go, here and
            # in the database (newer ones are dropped from memory by the window above)
            self._persisted = set()
            self._persisted_until = now + WINDOW_AGE
            await db.prune_events(now - WINDOW_AGE)
        if self._unsaved_errors:
            errors, self._unsaved_errors = self._unsaved_errors, []
            await db.record_errors(errors)

    # -- opening communities ------------------------------------------------------------

    def is_open(self, community: CommunityRef) -> bool:
        """Whether the community's state is loaded for handlers."""
        return community.key in self._open

    async def open(self, community: CommunityRef, name: str = "") -> None:
        """Load the community for handlers (once; concurrent callers share the work)."""
        key = community.key
        if key in self._open:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._opening_of(community, name).add(_OPENED, waiter)
        await waiter

    def _opening_of(self, community: CommunityRef, name: str) -> _Opening:
        """The community's opening in progress; started now when there is none."""
        opening = self._opening.get(community.key)
        if opening is None:
            opening = self._opening[community.key] = _Opening()
            opening.task = self._spawn(self._open_now(community, name, opening))
        return opening

    async def _open_now(self, community: CommunityRef, name: str, opening: _Opening) -> None:
        # background work, whoever's event started it: what it drains must not inherit that
        ANSWERING.set(False)
        TURN.set(None)
        kernel = self.kernel
        _pause_collector()
        try:
            await kernel.communities.open(community, name)
            await kernel.plugin_settings.load(community)
            # one after the other: opened together, every plugin's rows are in memory at
            # once, and the peak (100k members: +7 MiB) stays in the process's RSS
            for plugin in list(kernel.plugins.values()):
                await self.open_plugin(plugin, community)
        except Exception:
            log.exception("could not open community %s; its events are handled anyway",
                          community.key)
        finally:
            _resume_collector()
        try:
            await self._drain(opening)
        finally:
            # no turn of the loop since the last look at ``waiting``: nothing is left behind
            self._open.add(community.key)
            del self._opening[community.key]
            for _, waiter in opening.waiting:
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    async def _drain(self, opening: _Opening) -> None:
        """Handle what waited for the opening: interactions first, in batches.

        Events that arrive meanwhile join the queue (the community is not open yet), so
        the order of arrival holds; an interaction is preceded only by the events of its
        own member that came before it.
        """
        waiting = opening.waiting
        urgent = opening.urgent
        done: set[int] = set()
        position = batch = 0
        while True:
            while urgent:
                at = urgent.popleft()
                if at in done:
                    continue
                member = getattr(waiting[at][0], "member", None)
                if member is not None:
                    for earlier in range(position, at):
                        if earlier not in done and _same_member(waiting[earlier][0], member):
                            done.add(earlier)
                            self._handle_waiting(waiting[earlier])
                done.add(at)
                self._handle_waiting(waiting[at])
                batch += 1
            if position >= len(waiting):
                return
            if position not in done:
                self._handle_waiting(waiting[position])
                batch += 1
            position += 1
            if batch >= DRAIN_BATCH:
                batch = 0
                await asyncio.sleep(0)  # the gateway reads its frames, interactions start

    def _handle_waiting(self, entry: tuple[Event, asyncio.Future[None] | None]) -> None:
        event, waiter = entry
        if event is _OPENED:
            return  # answered once the community is open
        try:
            self._route(event)
        except Exception:
            log.exception("could not dispatch %s", event.id)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def open_plugin(self, plugin: Plugin, community: CommunityRef) -> None:
        """Run a plugin's ``open`` hook for a community (failures are isolated)."""
        try:
            await plugin.open(community)
        except Exception as exc:
            self.failed(plugin, Event(id="open", community=community), exc)

    def forget_community(self, key: str) -> None:
        """A community moved to a new id: it is opened again under the new one."""
        self._open.discard(key)

    # -- dispatch -----------------------------------------------------------------------

    async def dispatch(self, event: Event) -> bool:
        """Handle an event; False when it was a replay and was dropped.

        Returns once every synchronous handler ran and every asynchronous one started.
        """
        if event.deduplicate and not self._first_time(event):
            self.dropped += 1
            return False
        key = event.community.key
        if key not in self._open:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._opening_of(event.community, _name_of(event)).add(event, waiter)
            await waiter
        else:
            await self._observe(event)
            self._route(event)
        await asyncio.sleep(0)  # let the handlers just started take their first step
        return True

    def submit(self, event: Event) -> None:
        """Dispatch from synchronous code (a gateway parser) without waiting.

        Synchronous handlers run now; the event waits in order if its community is still
        being opened.
        """
        event_id = event.id
        # Event.deduplicate, inlined: every gateway message passes here
        if event_id and not event_id.startswith("internal:") and not self._first_time(event):
            self.dropped += 1
            return
        key = event.community.key
        kind = type(event)
        if key in self._open and not (
            kind is MemberJoined or kind is MemberLeft or kind is CommunityJoined
        ):
            self._route(event)
            return
        if key not in self._open:
            self._opening_of(event.community, _name_of(event)).add(event, None)
            return
        self._spawn(self._observed_then_routed(event))

    async def _observed_then_routed(self, event: Event) -> None:
        await self._observe(event)
        self._route(event)

    async def _observe(self, event: Event) -> None:
        """Keep the core's community and member records current."""
        kind = type(event)
        communities = self.kernel.communities
        if kind is MemberJoined or kind is MemberLeft:
            member = event.member  # type: ignore[attr-defined]
            at = event.at or self.kernel.clock.now()
            if kind is MemberJoined:
                await communities.joined(event.community, member, at)
            else:
                await communities.left(event.community, member, at)
        elif kind is CommunityJoined:
            name = event.name  # type: ignore[attr-defined]
            if communities.name_seen(event.community, name):
                await communities.update(event.community, name=name)

    def _route(self, event: Event) -> None:
        """Call every enabled plugin's handler for an opened community's event."""
        self.handled += 1
        kernel = self.kernel
        kind = type(event)
        community = event.community
        member = getattr(event, "member", None)
        if member is not None:
            kernel.communities.seen(community, member)
        # what every handler's context holds, read from the event once
        channel = getattr(event, "channel", None)
        reply_handle = getattr(event, "reply_handle", None)
        hint = getattr(event, "privilege_hint", None)
        privilege = Privilege(hint) if hint is not None else None
        of_event = Context.of_event
        outer = self._chain  # a synchronous handler may submit an event of its own
        self._chain = _NO_CHAIN_YET
        try:
            # the member's answer comes first among what this event sets off
            answer = self._turn() if kind is CommandInvoked or kind is ButtonPressed else None
            for route in self._enabled_routes(community, kind):
                ctx = of_event(kernel, route.plugin, event, channel, member, reply_handle,
                               privilege)
                if route.waits:
                    self._run(route.plugin, event, route.handler(event, ctx))
                else:
                    try:
                        route.handler(event, ctx)
                    except Exception as exc:
                        self.failed(route.plugin, event, exc, ctx)
            if answer is not None:
                if kind is CommandInvoked:
                    self._spawn(self._in_turn(self._command(event), answer))  # type: ignore[arg-type]
                elif not self._button(event, answer):  # type: ignore[arg-type]
                    answer[0].finished(answer[1])
        finally:
            self._chain = outer

    def _enabled_routes(self, community: CommunityRef, kind: type[Event]) -> tuple[Route, ...]:
        """The routes of ``kind`` whose plugin runs in ``community``.

        Kept per community and event type until a plugin is switched on or off anywhere
        (the switches' version moves), so a message does not ask once per plugin.
        """
        key = (community.key, kind)
        version = self.kernel.switches.version
        found = self._enabled.get(key)
        if found is not None and found[0] == version:
            return found[1]
        is_enabled = self.kernel.switches.is_enabled
        routes = tuple(route for route in self._routes.get(kind, ())
                       if is_enabled(community, route.plugin))
        if len(self._enabled) >= _ENABLED_ROUTES:
            self._enabled.clear()  # many communities: start over rather than grow
        self._enabled[key] = (version, routes)
        return routes

    def _turn(self) -> tuple[Chain, int]:
        """A place for a task about to start.

        In the routed event's chain, else in the running task's, else in a chain of its own.
        """
        chain = self._chain
        if chain is None or chain is _NO_CHAIN_YET:
            current = TURN.get()
            found = current[0] if current is not None else Chain()
            if chain is _NO_CHAIN_YET:
                self._chain = found
            chain = found
        return chain, chain.ticket()

    def _button(self, event: ButtonPressed, turn: tuple[Chain, int]) -> bool:
        """Start the button's handler in ``turn``; False when there is none to start."""
        route = self._buttons.get(type(event.payload))
        if route is None:
            log.warning("no handler for button %s", type(event.payload).__name__)
            return False
        if not self.kernel.switches.is_enabled(event.community, route.plugin):
            return False
        ctx = self.kernel.context_for_event(route.plugin, event)
        ctx.private_default = True
        self._spawn(self._answering(route.plugin, event, route.handler(event.payload, ctx), ctx,
                                    turn))
        return True

    async def _command(self, event: CommandInvoked) -> None:
        if INTERACTIONS_FIRST:
            ANSWERING.set(True)  # this task's writes (and its replies') go first
        kernel = self.kernel
        found = self._commands.get(event.name)
        if found is None or not kernel.switches.is_enabled(event.community, found[0]):
            ctx = kernel.context_for_event(None, event)
            ctx.private_default = True
            await ctx.reply(
                ctx.t(
                    "There is no command /{name} here. Send /help to see what you can use.",
                    name=event.name,
                ),
                private=True,
            )
            return
        plugin, spec = found
        ctx = kernel.context_for_event(plugin, event)
        ctx.private_default = spec.private
        core = kernel.context_for_event(None, event)
        core.private_default = True
        privilege = await ctx.privilege()
        if privilege < spec.privilege:
            log.warning(
                "refused /%s to %s in %s: needs %s, has %s",
                spec.name,
                event.member.id,
                event.community.key,
                spec.privilege.name,
                privilege.name,
            )
            await _refuse(core, spec)
            return
        if spec.direct_only and not (ctx.channel and ctx.channel.private):
            await ctx.reply(
                core.t("/{name} works only in a private chat with me.", name=spec.name),
                private=True,
            )
            return
        try:
            kwargs = await self._arguments(spec, event)
        except ArgumentError as error:
            values = error.values
            if ctx.language != DEFAULT_LANGUAGE:  # English names them as /help does: typed
                values = error.in_words(spec, ctx.i18n.plain)
            await ctx.reply(core.t(error.message, **values), private=True)
            return
        handler = getattr(plugin, spec.handler)
        try:
            await handler(ctx, **kwargs)
        except Exception as exc:
            self.failed(plugin, event, exc, ctx)

    async def _arguments(self, spec: CommandSpec, event: CommandInvoked) -> dict[str, Any]:
        kernel = self.kernel
        platform = kernel.platforms.get(event.community.platform)

        async def resolve(kind: Kind, token: str) -> Any:
            if platform is None:
                return None
            return await platform.resolve(event.community, kind, token)

        timezone = kernel.communities.timezone(event.community)
        now = kernel.clock.now()
        if event.options is None:
            return await parse_arguments(spec, event.text, resolve, timezone, now)
        return await convert_values(spec, event.options, resolve, timezone, now)

    # -- tasks and failures -------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _run(
        self,
        plugin: Plugin,
        event: Event,
        coro: Coroutine[Any, Any, Any],
        ctx: Context | None = None,
    ) -> None:
        self._spawn(self._isolated(plugin, event, coro, ctx, self._turn()))

    async def _answering(
        self,
        plugin: Plugin,
        event: Event,
        coro: Coroutine[Any, Any, Any],
        ctx: Context | None,
        turn: tuple[Chain, int],
    ) -> None:
        if INTERACTIONS_FIRST:
            ANSWERING.set(True)  # this task's writes (and its replies') go first
        await self._isolated(plugin, event, coro, ctx, turn)

    async def _isolated(
        self,
        plugin: Plugin,
        event: Event,
        coro: Coroutine[Any, Any, Any],
        ctx: Context | None,
        turn: tuple[Chain, int],
    ) -> None:
        TURN.set(turn)  # this task's own context: what it submits, spawns and emits
        try:
            await coro
        except Exception as exc:
            self.failed(plugin, event, exc, ctx)
        finally:
            turn[0].finished(turn[1])

    @staticmethod
    async def _in_turn(coro: Coroutine[Any, Any, Any], turn: tuple[Chain, int]) -> None:
        TURN.set(turn)
        try:
            await coro
        finally:
            turn[0].finished(turn[1])

    def failed(
        self, plugin: Plugin, event: Event, exc: Exception, ctx: Context | None = None
    ) -> None:
        """Record a handler's failure; tell admins (hourly) and the member who asked."""
        name = plugin.name
        self.errors[name] = self.errors.get(name, 0) + 1
        log.error(
            "plugin %s failed on %s in %s: %r",
            name,
            type(event).__name__,
            event.community.key,
            exc,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        now = self.kernel.clock.now()
        self._unsaved_errors.append(
            {
                "at": now,
                "plugin": name,
                "event": type(event).__name__,
                "community": event.community.key,
                "error": "".join(traceback.format_exception_only(exc)).strip()[:2000],
            }
        )
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if ctx is not None and type(event) in (CommandInvoked, ButtonPressed):
            self._spawn(self._sorry(event))
        noticed = self._noticed.get((name, event.community.key))
        if noticed is None or now - noticed >= FAILURE_NOTICE_INTERVAL:
            self._noticed[(name, event.community.key)] = now
            loop.call_soon(lambda: self._spawn(self._tell_admins(name, event)))

    async def _sorry(self, event: Event) -> None:
        core = self.kernel.context_for_event(None, event)
        core.private_default = True
        try:
            await core.reply(
                core.t("Something went wrong on my side; the admins have been told. "
                       "Please try again later."),
                private=True,
            )
        except Exception:
            log.exception("could not tell the member that %s failed", event.id)

    async def _tell_admins(self, plugin: str, event: Event) -> None:
        kernel = self.kernel
        community = event.community
        core = kernel.translator(
            "core", kernel.communities.community_language(community), community
        )
        try:
            await kernel.tell_admins(community, core.t(
                "⚠ The plugin {plugin} failed while handling {event}. Its error count is in "
                "/plugins and the details are in the log.",
                plugin=plugin, event=type(event).__name__,
            ))
        except Exception:
            log.exception("could not tell the admins of %s that %s failed", community.key,
                          plugin)

    def error_count(self, plugin: str | None = None) -> int:
        """Failures since start, for one plugin or all."""
        if plugin is None:
            return sum(self.errors.values())
        return self.errors.get(plugin, 0)

    def quiet(self) -> bool:
        """Whether no handler task is running and no community is being opened."""
        return not self._tasks and not self._opening

    async def idle(self) -> None:
        """Wait for handlers that run in their own tasks."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def run(self, plugin: Plugin, event: Event, work: Awaitable[Any]) -> None:
        """Run work for a plugin with the same isolation as a handler."""
        self._run(plugin, event, _as_coroutine(work))


#: Openings in progress, and whether the cyclic collector ran when the first began.
_loading = [0, False]


def _stored_key(digest: str) -> int:
    """A stored event digest (hex) as the int the replay windows keep (:data:`_ID_BITS`)."""
    return int(digest[:15], 16)


def _pause_collector() -> None:
    """Stop cyclic collection while a community loads.

    Loading creates every member's state at once (100k members: about a million objects,
    all kept); the collector would otherwise rescan the growing heap several times over
    (seconds at that size). It resumes when the last opening in progress is done, and its
    next pass finds the few cycles the loads left.
    """
    if _loading[0] == 0:
        _loading[1] = gc.isenabled()
        gc.disable()
    _loading[0] += 1


def _resume_collector() -> None:
    _loading[0] -= 1
    if _loading[0] == 0 and _loading[1]:
        gc.enable()


#: ``Dispatcher._chain`` while an event is routed and no task of it has started yet.
_NO_CHAIN_YET = Chain()

#: A marker in an opening's queue: someone waits for the opening itself, not an event.
_OPENED = Event(id="", community=CommunityRef("", ""))


def _same_member(event: Event, member: Any) -> bool:
    other = getattr(event, "member", None)
    return other is not None and other.id == member.id


def _name_of(event: Event) -> str:
    """The community's name when the event says it (only the bot's joining does)."""
    return event.name if isinstance(event, CommunityJoined) else ""


async def _refuse(core: Context, spec: CommandSpec) -> None:
    """Tell a member they may not run a command."""
    names = {
        Privilege.MOD: core.i18n.plain("moderators"),
        Privilege.ADMIN: core.i18n.plain("admins"),
        Privilege.OWNER: core.i18n.plain("the owner"),
    }
    await core.reply(
        core.t("Sorry, /{name} is only for {who}.", name=spec.name,
               who=names.get(spec.privilege, "")),
        private=True,
    )


async def _as_coroutine(work: Awaitable[Any]) -> Any:
    return await work
