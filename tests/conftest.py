"""Shared fixtures: an app on the console platform with a manual clock and a fresh database.

With ``MAJLIS_TEST_DATABASE_URL`` naming a PostgreSQL database, every database a test opens
in this process is a fresh schema there instead of SQLite (see :func:`_on_postgresql`)::

    MAJLIS_TEST_DATABASE_URL=postgresql+asyncpg://majlis@127.0.0.1:5432/majlis pytest
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.adapters.console import Console
from bot.app import App
from bot.core import storage
from bot.core.clock import ManualClock
from bot.core.plugin import Plugin
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

#: A PostgreSQL database the tests may create schemas in; empty: the tests use SQLite.
POSTGRES = os.environ.get("MAJLIS_TEST_DATABASE_URL", "")
_schemas = itertools.count(1)


def _admin(*statements: str) -> None:
    """Run statements on :data:`POSTGRES` now, from sync code inside a running loop."""
    import asyncpg

    dsn = make_url(POSTGRES).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    # the test's own loop is running (Database() is built inside async tests): use another
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(autouse=True)
def _on_postgresql(request: pytest.FixtureRequest,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With :data:`POSTGRES` set, a SQLite URL opened in this process opens a fresh schema.

    An in-memory URL gets a schema of its own each time; a file URL gets one per file for the
    test, so a test that stops an app and starts another on the same file sees its data.
    Tests marked ``sqlite_only`` (they read the file, or test SQLite's own behaviour) skip.
    Subprocesses (``run.py`` started by a test) still use the SQLite URL they are given.
    """
    if not POSTGRES:
        yield
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("tests SQLite itself (MAJLIS_TEST_DATABASE_URL is set)")
    created: list[str] = []
    by_file: dict[str, str] = {}
    original = storage.Database.__init__

    def schema_for(url: str) -> str:
        path = url.split("///", 1)[1] if "///" in url else ""
        key = "" if path in ("", ":memory:") else str(Path(path).resolve())
        if key in by_file:
            return by_file[key]
        name = f"majlis_test_{os.getpid()}_{next(_schemas)}"
        _admin(f"CREATE SCHEMA {name}")
        created.append(name)
        if key:
            by_file[key] = name
        return name

    def init(self: storage.Database, url: str) -> None:
        if not url.startswith("sqlite"):
            original(self, url)
            return
        schema = schema_for(url)
        original(self, POSTGRES)
        self.url = url  # Database(db.url), a second process's view, opens the same schema

        @event.listens_for(self.engine.sync_engine, "connect")
        def search_path(dbapi_connection: Any, _record: Any) -> None:
            # outside a transaction, or the pool's rollback would undo it
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET SESSION search_path TO {schema}")
            cursor.close()
            dbapi_connection.autocommit = autocommit

    monkeypatch.setattr(storage.Database, "__init__", init)
    yield
    if created:
        # an app a test left running holds locks: give up on its schema, not the run
        try:
            _admin("SET lock_timeout = '2s'",
                   *(f"DROP SCHEMA IF EXISTS {name} CASCADE" for name in created))
        except Exception:
            pass


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection that is not to loopback fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"test tried to reach the internet: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests: an in-memory database unless told otherwise."""
    # Tests name their plugins; config/bot.toml's playground defaults do not apply.
    values: dict[str, Any] = {"database_url": "sqlite+aiosqlite://", "disabled_by_default": []}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class ConsoleWorld:
    """An app with the console platform, and helpers to play lines and read the output."""

    def __init__(self, app: App, console: Console, clock: ManualClock) -> None:
        self.app = app
        self.console = console
        self.clock = clock
        self._read = 0

    async def play(self, *lines: str) -> list[str]:
        """Play lines; returns the transcript lines they produced."""
        start = len(self.console.transcript)
        await self.console.run_lines(lines)
        return self.console.transcript[start:]

    def bot_lines(self, lines: Sequence[str]) -> list[str]:
        """Only what the bot said, without the time stamp."""
        return [line.split("] ", 1)[1] for line in lines if "] Majlis:" in line]


WorldFactory = Callable[..., Any]


@pytest.fixture
async def world_factory() -> AsyncIterator[WorldFactory]:
    """Build console worlds; every one is stopped at the end of the test."""
    apps: list[App] = []

    async def build(
        plugins: Sequence[type[Plugin]] | None = None,
        *,
        database_url: str = "sqlite+aiosqlite://",
        clock: ManualClock | None = None,
        **settings: Any,
    ) -> ConsoleWorld:
        clock = clock or ManualClock()
        console = Console(out=io.StringIO())
        app = App(
            make_settings(database_url=database_url, **settings),
            clock=clock,
            platforms=[console],
            plugins=plugins,
        )
        await app.start()
        apps.append(app)
        return ConsoleWorld(app, console, clock)

    yield build
    for app in apps:
        if app.started:
            await app.stop()
