"""Routes events to plugin handlers, drops replays, isolates failures.

This is the hot path: every message passes here. A handler coroutine is started eagerly:
most finish without waiting (they count in memory), so no task is created for them; one
that waits on I/O is moved into its own task at that point, so a slow handler delays no
other. A handler that raises is logged with its plugin, event and community, counted,
and stored; the others run regardless.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.commands import ArgumentError, CommandSpec, parse_arguments
from bot.core.events import ButtonPressed, CommandInvoked, Event
from bot.core.payloads import Payload
from bot.core.storage import event_digest

if TYPE_CHECKING:
    from bot.app import App
    from bot.core.plugin import Plugin

log = logging.getLogger(__name__)

#: How many recent event ids are kept in memory to drop replays.
WINDOW_SIZE = 50_000
#: How long handled ids are kept in the database (replays come within minutes).
WINDOW_AGE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Route:
    """A bound handler of a plugin."""

    plugin: Plugin
    handler: Callable[..., Coroutine[Any, Any, Any]]


class _Resume:
    """Re-yields what a started coroutine is waiting on to the task that now drives it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self.value)


class Dispatcher:
    """Delivers each event once to every enabled plugin that handles it."""

    def __init__(self, app: App) -> None:
        """Start with no routes; :meth:`rebuild` reads them from the loaded plugins."""
        self.app = app
        self._routes: dict[type[Event], tuple[Route, ...]] = {}
        self._buttons: dict[type[Payload], Route] = {}
        self._commands: dict[str, tuple[Plugin, CommandSpec]] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._persisted: set[str] = set()
        self._unsaved: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.errors: dict[str, int] = {}
        self._unsaved_errors: list[dict[str, Any]] = []
        self.handled = 0
        self.dropped = 0

    # -- routes -------------------------------------------------------------------------

    def rebuild(self, plugins: list[Plugin]) -> None:
        """Read handlers, buttons and commands from the loaded plugins."""
        routes: dict[type[Event], list[Route]] = {}
        buttons: dict[type[Payload], Route] = {}
        commands: dict[str, tuple[Plugin, CommandSpec]] = {}
        for plugin in plugins:
            for event_type, attr in plugin.handlers:
                routes.setdefault(event_type, []).append(Route(plugin, getattr(plugin, attr)))
            for payload_type, attr in plugin.buttons:
                buttons[payload_type] = Route(plugin, getattr(plugin, attr))
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
        self._buttons = buttons
        self._commands = commands

    def commands(self) -> dict[str, tuple[Plugin, CommandSpec]]:
        """Every command of the loaded plugins, by name."""
        return self._commands

    # -- replays ------------------------------------------------------------------------

    async def load_window(self, now: datetime) -> None:
        """Remember ids handled before the last stop, so their replays are dropped."""
        self._persisted = set(await self.app.db.recent_events(now - WINDOW_AGE))
        await self.app.db.prune_events(now - WINDOW_AGE)

    def _first_time(self, event: Event) -> bool:
        event_id = event.id
        recent = self._recent
        if event_id in recent:
            return False
        if event.durable:
            digest = event_digest(event_id)
            if digest in self._persisted:
                return False
            self._unsaved.append(digest)
        recent[event_id] = None
        if len(recent) > WINDOW_SIZE:
            recent.popitem(last=False)
        return True

    async def flush(self) -> None:
        """Store handled ids and errors (called every second with the counters)."""
        if self._unsaved:
            batch, self._unsaved = self._unsaved, []
            try:
                await self.app.db.record_events(batch, self.app.clock.now())
            except Exception:
                self._unsaved[:0] = batch
                raise
        if self._unsaved_errors:
            errors, self._unsaved_errors = self._unsaved_errors, []
            await self.app.db.record_errors(errors)

    # -- dispatch -----------------------------------------------------------------------

    async def dispatch(self, event: Event) -> bool:
        """Handle an event; False when it was a replay and was dropped."""
        if event.deduplicate and not self._first_time(event):
            self.dropped += 1
            return False
        self.handled += 1
        app = self.app
        if app.needs_observing(event):
            await app.observe(event)
        for route in self._routes.get(type(event), ()):
            if app.is_enabled(event.community, route.plugin):
                ctx = app.context_for_event(route.plugin, event)
                self._start(route.plugin, event, route.handler(event, ctx))
        if type(event) is CommandInvoked:
            await self._command(event)
        elif type(event) is ButtonPressed:
            self._button(event)
        return True

    def submit(self, event: Event) -> None:
        """Dispatch from synchronous code (a gateway parser) without a task per event.

        The dispatch runs at once; only if it has to wait does it continue as a task.
        """
        coro = self.dispatch(event)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:
            log.exception("could not dispatch %s", event.id)
            return
        self._continue(coro, waiting, lambda exc: log.error(
            "could not dispatch %s", event.id, exc_info=(type(exc), exc, exc.__traceback__)
        ))

    def _button(self, event: ButtonPressed) -> None:
        route = self._buttons.get(type(event.payload))
        if route is None:
            log.warning("no handler for button %s", type(event.payload).__name__)
            return
        if not self.app.is_enabled(event.community, route.plugin):
            return
        ctx = self.app.context_for_event(route.plugin, event)
        ctx.private_default = True
        self._start(route.plugin, event, route.handler(event.payload, ctx))

    async def _command(self, event: CommandInvoked) -> None:
        app = self.app
        found = self._commands.get(event.name)
        if found is None or not app.is_enabled(event.community, found[0]):
            ctx = app.context_for_event(None, event)
            await ctx.reply(
                ctx.t(
                    "There is no command /{name} here. Send /help to see what you can use.",
                    name=event.name,
                ),
                private=True,
            )
            return
        plugin, spec = found
        ctx = app.context_for_event(plugin, event)
        ctx.private_default = spec.private
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
            await app.refuse(ctx, spec)
            return
        if spec.direct_only and not (ctx.channel and ctx.channel.private):
            core = app.context_for_event(None, event)
            await ctx.reply(
                core.t("/{name} works only in a private chat with me.", name=spec.name),
                private=True,
            )
            return
        try:
            if event.options is not None:
                kwargs = await app.convert_options(spec, event)
            else:
                kwargs = await parse_arguments(
                    spec,
                    event.text,
                    app.resolver(event.community),
                    await app.timezone_of(event.community),
                    app.clock.now(),
                )
        except ArgumentError as error:
            core = app.context_for_event(None, event)
            await ctx.reply(core.t(error.message, **error.values), private=True)
            return
        handler = getattr(plugin, spec.handler)
        self._start(plugin, event, handler(ctx, **kwargs))

    def _start(self, plugin: Plugin, event: Event, coro: Coroutine[Any, Any, Any]) -> None:
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:
            self._failed(plugin, event, exc)
            return
        self._continue(coro, waiting, lambda exc: self._failed(plugin, event, exc))

    def _continue(
        self,
        coro: Coroutine[Any, Any, Any],
        waiting: Any,
        failed: Callable[[Exception], None],
    ) -> None:
        """Hand a started coroutine that must wait over to a task of its own."""
        task = asyncio.get_running_loop().create_task(self._drive(coro, waiting, failed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _drive(
        coro: Coroutine[Any, Any, Any], waiting: Any, failed: Callable[[Exception], None]
    ) -> None:
        try:
            while True:
                try:
                    sent = await _Resume(waiting)
                except BaseException as thrown:  # forward cancellation and errors
                    waiting = coro.throw(thrown)
                else:
                    waiting = coro.send(sent)
        except StopIteration:
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed(exc)

    def _failed(self, plugin: Plugin, event: Event, exc: Exception) -> None:
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
        self._unsaved_errors.append(
            {
                "at": self.app.clock.now(),
                "plugin": name,
                "event": type(event).__name__,
                "community": event.community.key,
                "error": "".join(traceback.format_exception_only(exc)).strip()[:2000],
            }
        )

    def error_count(self, plugin: str | None = None) -> int:
        """Failures since start, for one plugin or all."""
        if plugin is None:
            return sum(self.errors.values())
        return self.errors.get(plugin, 0)

    async def idle(self) -> None:
        """Wait for handlers that went on in their own tasks."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run(self, plugin: Plugin, event: Event, work: Awaitable[Any]) -> None:
        """Run work for a plugin with the same isolation as a handler."""
        self._start(plugin, event, _as_coroutine(work))


async def _as_coroutine(work: Awaitable[Any]) -> Any:
    return await work
