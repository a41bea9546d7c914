"""``python run.py [console [--script FILE] | check | i18n ... | db revision NAME]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.validation import StartupError, check_database, unknown_plugins
from bot.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("majlis")

#: Signals that stop the bot cleanly: ``app.stop()`` saves the outbox and flushes counters.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: The playground's folder (the default database lives here too).
DATA = Path("data")
#: Where the console's log goes, so warnings never land inside the transcript.
CONSOLE_LOG = DATA / "majlis.log"
#: Lines typed at the console prompt, for the arrow keys of the next session.
HISTORY = DATA / "console_history"
HISTORY_LINES = 1000


def _logging(level: str, file: Path | None = None) -> None:
    """Log at ``level`` to stderr, or to ``file`` (appended) when one is given."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL, and Telegram puts the token in the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``run.py`` and the ``majlis`` command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8")
    parser = argparse.ArgumentParser(prog="run.py", description="Majlis community bot")
    sub = parser.add_subparsers(dest="command")
    console = sub.add_parser("console", help="the local playground community")
    console.add_argument("--script", type=Path, help="replay FILE on the manual clock")
    console.add_argument("--database", help="database URL (default: in memory for scripts)")
    console.add_argument("--attachments", type=Path, default=DATA / "attachments",
                         help="folder the pictures and files the bot sends are written to")
    console.add_argument("--log-stderr", action="store_true",
                         help=f"log to standard error instead of {CONSOLE_LOG}")
    sub.add_parser("check", help="validate the configuration and print it, secrets hidden")
    i18n = sub.add_parser("i18n", help="translation catalogs")
    i18n.add_argument("action", choices=["compile", "check"])
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["revision"])
    db.add_argument("plugin")
    db.add_argument("-m", "--message", required=True)
    scaffold = sub.add_parser("new-plugin", help="copy the example plugin as plugins/NAME")
    scaffold.add_argument("name")
    args = parser.parse_args(argv)

    if args.command == "new-plugin":
        from bot.scaffold import new_plugin

        try:
            folder = new_plugin(args.name)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"created {folder} (it runs as it is); after each change to its tables.py: "
              f"python run.py db revision {args.name} -m \"what changed\"")
        return 0

    if args.command == "i18n":
        from bot.core.i18n import compile_all

        if args.action == "compile":
            for mo in compile_all():
                print(mo)
            return 0
        from bot.i18n_check import problems

        found = problems()
        for problem in found:
            print(problem)
        return 1 if found else 0
    try:
        settings = load_settings()
        if args.command != "db":
            _check_plugin_names(settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    playground = args.command == "console" or (
        args.command is None and settings.discord.token is None
        and settings.telegram.token is None
    )
    log_stderr = getattr(args, "log_stderr", False)
    _logging(settings.log_level, CONSOLE_LOG if playground and not log_stderr else None)
    if args.command == "check":
        return asyncio.run(_check(settings))
    if args.command == "db":
        return asyncio.run(_revision(settings, args.plugin, args.message))
    if playground:
        script = getattr(args, "script", None)
        database = getattr(args, "database", None)
        attachments = getattr(args, "attachments", DATA / "attachments")
        return asyncio.run(_console(settings, script, database, attachments))
    return asyncio.run(_platforms(settings))


def _check_plugin_names(settings: Settings) -> None:
    """Refuse plugin names in the settings that no installed plugin has."""
    if not settings.plugins and not settings.disabled_by_default:
        return
    from bot.loader import discover

    found, failures = discover(None)
    lines = unknown_plugins(settings, [f.cls.name for f in found] + [f.name for f in failures])
    if lines:
        raise ConfigError("\n".join(["configuration problem (plugin names):", *lines]))


async def _check(settings: Settings) -> int:
    import json

    try:
        await check_database(settings.database_url)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(settings.redacted(), indent=2, ensure_ascii=False))
    platforms = [
        name
        for name, token in (
            ("discord", settings.discord.token),
            ("telegram", settings.telegram.token),
        )
        if token
    ]
    print(f"platforms: {', '.join(platforms) or 'console only (no token set)'}")
    if settings.discord.token and not settings.discord.message_content_intent:
        print(
            "discord: message_content intent off: XP for message length, keyword alerts and "
            "thanks detection work only on mentions, replies and commands"
        )
    print("configuration OK")
    return 0


async def _revision(settings: Settings, plugin: str, message: str) -> int:
    from bot.app import App
    from bot.core.migrate import make_revision
    from bot.loader import discover

    found, _ = discover([plugin] if plugin != "core" else [])
    classes = [f.cls for f in found]
    sources = App.migration_sources(classes)
    source = next((s for s in sources if s.label == plugin), None)
    if source is None:
        print(f"no plugin {plugin!r} with tables", file=sys.stderr)
        return 2
    from bot.core.storage import Database

    db = Database("sqlite+aiosqlite://")
    try:
        path = await make_revision(db.engine, source, message, sources)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(path)
    return 0


async def _console(
    settings: Settings, script: Path | None, database: str | None, attachments: Path | None
) -> int:
    """The playground: a script replayed on a still clock, or lines typed as time goes by."""
    from datetime import UTC, datetime, timedelta

    from bot.adapters.console import Console
    from bot.app import App
    from bot.core.clock import ManualClock

    if script is not None:
        settings = settings.model_copy(update={"database_url": database or "sqlite+aiosqlite://"})
        clock = ManualClock()
        logging.getLogger().setLevel(logging.WARNING)
    else:
        if database:
            settings = settings.model_copy(update={"database_url": database})
        # a manual clock the console moves with real time, so ``:advance`` can still jump
        clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    console = Console(settings.console.community, settings.console.owner,
                      attachments=attachments)
    if script is None:
        console.lead = timedelta(0)
    else:
        console.keep_earlier = False
    app = App(settings, clock=clock, platforms=[console])

    async def play() -> None:
        if script is not None:
            await console.run_lines(script.read_text(encoding="utf-8").splitlines())
            return
        interactive = sys.stdin.isatty()
        follower = asyncio.ensure_future(console.follow())
        try:
            if interactive:
                await _interactive(console)
            else:
                async for line in _input_lines(lambda: None):
                    await console.run_line(line)
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)

    return await _serve(app, settings, play)


async def _interactive(console: Any) -> None:
    """Lines typed at a prompt, with line editing and history; Ctrl-D ends the session."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: no editing, the rest works
        readline = None  # type: ignore[assignment]
    import termios

    saved_terminal = None
    try:
        saved_terminal = termios.tcgetattr(0)
    except termios.error:
        pass
    if readline is not None:
        try:
            HISTORY.parent.mkdir(parents=True, exist_ok=True)
            readline.read_history_file(HISTORY)
        except OSError:  # no history yet, or a folder that cannot be written
            pass
        readline.set_history_length(HISTORY_LINES)
    print(
        f"Majlis playground — you are {console.owner}, the owner. Type a message, /help for "
        "commands, :help for directives (:as NAME, :advance 1d …). Ctrl-D or Ctrl-C quits."
    )

    def prompt() -> str:
        return f"{console.acting}> "

    try:
        async for line in _input_lines(prompt, console):
            if readline is not None and line.strip():
                try:
                    readline.append_history_file(1, HISTORY)
                except OSError:
                    try:
                        readline.write_history_file(HISTORY)
                    except OSError:
                        pass
            await console.run_line(line)
        print()  # Ctrl-D: the shell's prompt starts on a line of its own
    except asyncio.CancelledError:
        print()  # Ctrl-C (or SIGTERM) while the prompt waits: the same
        raise
    finally:
        console.typing = None
        if saved_terminal is not None:
            # Ctrl-C arrives while the reader thread sits in readline with the terminal
            # in its editing mode: give the shell its terminal back as it was
            try:
                termios.tcsetattr(0, termios.TCSANOW, saved_terminal)
            except termios.error:
                pass


async def _input_lines(
    prompt: Callable[[], str | None], console: Any = None
) -> AsyncIterator[str]:
    """Lines from standard input, read in a thread so the loop stays free for signals.

    With a prompt (a terminal), the next line is asked for only after the previous one
    was played, so the prompt names whoever is acting by then. While the prompt waits,
    ``console.typing`` tells the console what to draw again after a line of its own.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    ready = threading.Event()

    def put(line: str | None) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        except RuntimeError:  # the loop is gone: the bot is stopping
            pass

    def read() -> None:
        pending = b""
        try:
            while True:
                shown = prompt()
                if shown is not None:
                    ready.wait()
                    ready.clear()
                    shown = prompt() or ""
                    if console is not None:
                        console.typing = _typing(shown)
                    typed = input(shown)
                    if console is not None:
                        console.typing = None
                    put(typed)
                    continue
                # os.read, not sys.stdin: a daemon thread must hold no lock of sys.stdin
                # when the interpreter exits after a signal.
                chunk = os.read(0, 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    put(line.decode("utf-8", "replace"))
            if pending:
                put(pending.decode("utf-8", "replace"))
        except (EOFError, OSError, ValueError):
            pass
        finally:
            put(None)

    ready.set()
    threading.Thread(target=read, name="console-input", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line
        ready.set()


def _typing(shown: str) -> Callable[[], str]:
    """The prompt and what is typed after it so far (readline knows; else just the prompt)."""

    def current() -> str:
        readline = sys.modules.get("readline")
        typed = readline.get_line_buffer() if readline is not None else ""
        return shown + typed

    return current


async def _platforms(settings: Settings) -> int:
    from bot.app import App
    from bot.core.platform import Platform

    platforms: list[Platform] = []
    if settings.discord.token is not None:
        from bot.adapters.discord import DiscordPlatform

        platforms.append(DiscordPlatform(settings.discord))
    if settings.telegram.token is not None:
        from bot.adapters.telegram import TelegramPlatform

        platforms.append(TelegramPlatform(settings.telegram))
    app = App(settings, platforms=platforms)
    return await _serve(app, settings, None)


async def _serve(
    app: App, settings: Settings, work: Callable[[], Awaitable[None]] | None
) -> int:
    """Start ``app``, run ``work`` (or wait) until it ends or SIGTERM/SIGINT, stop the app.

    A start-up problem is one message on stderr and exit code 2, with no traceback; the
    database is checked (read-only) before anything is migrated or written.
    """
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    installed = []
    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, stopping.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            continue
        installed.append(sig)
    try:
        try:
            await check_database(settings.database_url)
            await app.start()
        except Exception as exc:
            message = _startup_problem(exc, settings)
            if message is None:
                raise
            print(message, file=sys.stderr)
            await _stop_quietly(app)
            return 2
        tasks: set[asyncio.Future[Any]] = {asyncio.ensure_future(stopping.wait())}
        job = asyncio.ensure_future(work()) if work is not None else None
        if job is not None:
            tasks.add(job)
        # A platform that gave up for good (the Discord gateway) ends the process with 1,
        # so its supervisor restarts it; others have no failed() and run until stopped.
        watched = {
            asyncio.ensure_future(p.failed())
            for p in app.platforms.values()
            if hasattr(p, "failed")
        }
        tasks |= watched
        gave_up = None
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            gave_up = next((t for t in done if t in watched), None)
            if gave_up is not None:
                log.critical("stopping: %s", gave_up.result())
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if stopping.is_set():
                log.info("stopping on a signal")
            await app.stop()
        if gave_up is not None:
            return 1
        if job is not None and not job.cancelled() and job.exception() is not None:
            raise job.exception()  # type: ignore[misc]
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return 0


def _startup_problem(exc: Exception, settings: Settings) -> str | None:
    """The one message for an operator that ``exc`` at start-up deserves, or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, StartupError):
        return f"cannot start: {exc}"
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    if isinstance(exc, DBAPIError):
        reason = " ".join(str(exc.orig).split())[:200]
        return (
            f"cannot start: the database {where} cannot be used ({reason}). Nothing was "
            "changed. Check MAJLIS_DATABASE_URL, the file or server, and its permissions."
        )
    if isinstance(exc, SQLAlchemyError):
        reason = " ".join(str(exc).split())[:200]
        return f"cannot start: the database {where} cannot be opened ({type(exc).__name__}: " \
            f"{reason}). Check MAJLIS_DATABASE_URL."
    return None


async def _stop_quietly(app: App) -> None:
    try:
        await app.stop()
    except Exception:
        log.debug("stopping after a failed start raised", exc_info=True)
