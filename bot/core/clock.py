"""Time: the real clock, and a manual clock that tests and the playground move."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where the framework reads the time (always timezone-aware UTC)."""

    manual: bool

    def now(self) -> datetime:
        """The current time in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait (a manual clock returns at once: time moves only when told)."""
        ...


class SystemClock:
    """The machine's clock."""

    manual = False

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Wait for real."""
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that stands still until :meth:`set` moves it (the scheduler advances it)."""

    manual = True

    def __init__(self, start: datetime | None = None) -> None:
        """Start at ``start`` (default: 2026-01-05 09:00 UTC, a Monday)."""
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")

    def now(self) -> datetime:
        """The clock's time."""
        return self._now

    def set(self, when: datetime) -> None:
        """Move the clock forward to ``when`` (never backward)."""
        if when < self._now:
            raise ValueError("a manual clock never goes back")
        self._now = when.astimezone(UTC)

    def advance_by(self, delta: timedelta) -> None:
        """Move the clock by ``delta`` without firing anything (see Scheduler.advance)."""
        self.set(self._now + delta)

    async def sleep(self, seconds: float) -> None:
        """Yield once; manual time does not pass by waiting."""
        await asyncio.sleep(0)
