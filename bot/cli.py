"""``python run.py [console [--script FILE] | check | i18n ... | db revision NAME]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger("majlis")


def _logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    _logging(settings.log_level)
    if args.command == "check":
        return _check(settings)
    if args.command == "db":
        return asyncio.run(_revision(settings, args.plugin, args.message))
    if args.command == "console" or (
        settings.discord.token is None and settings.telegram.token is None
    ):
        script = getattr(args, "script", None)
        database = getattr(args, "database", None)
        return asyncio.run(_console(settings, script, database))
    return asyncio.run(_platforms(settings))


def _check(settings: Settings) -> int:
    import json

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


async def _console(settings: Settings, script: Path | None, database: str | None) -> int:
    from bot.adapters.console import Console
    from bot.app import App
    from bot.core.clock import ManualClock

    if script is not None:
        settings = settings.model_copy(update={"database_url": database or "sqlite+aiosqlite://"})
        clock = ManualClock()
        logging.getLogger().setLevel(logging.WARNING)
    else:
        from datetime import UTC, datetime

        if database:
            settings = settings.model_copy(update={"database_url": database})
        clock = ManualClock(datetime.now(UTC).replace(second=0, microsecond=0))
    console = Console(settings.console.community, settings.console.owner)
    app = App(settings, clock=clock, platforms=[console])
    await app.start()
    try:
        if script is not None:
            await console.run_lines(script.read_text(encoding="utf-8").splitlines())
        elif sys.stdin.isatty():
            logging.getLogger().setLevel(logging.WARNING)
            print(
                f"Majlis playground — you are {console.owner}, the owner. "
                "Type /help, a message, or :as NAME, :advance 1d … (Ctrl-D to quit)"
            )
            loop = asyncio.get_running_loop()
            while True:
                line = await loop.run_in_executor(None, _prompt, console.acting)
                if line is None:
                    break
                await console.run_line(line)
        else:
            for line in sys.stdin:
                await console.run_line(line)
    finally:
        await app.stop()
    return 0


def _prompt(acting: str) -> str | None:
    try:
        return input(f"{acting}> ")
    except EOFError:
        return None


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
    await app.start()
    try:
        # A platform that gave up for good (the Discord gateway) ends the process with 1,
        # so its supervisor restarts it; others have no failed() and run until stopped.
        watched = [asyncio.ensure_future(p.failed()) for p in platforms if hasattr(p, "failed")]
        forever = asyncio.ensure_future(asyncio.Event().wait())
        done, _ = await asyncio.wait([*watched, forever], return_when=asyncio.FIRST_COMPLETED)
        log.critical("stopping: %s", next(iter(done)).result())
        return 1
    finally:
        await app.stop()
