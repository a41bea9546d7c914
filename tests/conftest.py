"""Shared fixtures: an app on the console platform with a manual clock and a fresh database."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console import Console
from bot.app import App
from bot.core.clock import ManualClock
from bot.core.plugin import Plugin
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


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
