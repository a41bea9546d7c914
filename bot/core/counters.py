"""Counters aggregated in memory on the hot path and flushed to storage in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.core import memory
from bot.core.clock import Clock

log = logging.getLogger(__name__)
K = TypeVar("K")

FLUSH_INTERVAL_SECONDS = 1.0
#: Every this many timed flushes, freed memory is handed back to the system (a fraction
#: of a millisecond; without it RSS keeps each burst's high-water mark).
TRIM_EVERY = 10


class Accumulator(Generic[K]):
    """Sums per key in memory; ``flush`` hands the batch to the owner's writer."""

    __slots__ = ("_pending", "_writer", "_writing", "name")

    def __init__(self, name: str, writer: Callable[[dict[K, int]], Awaitable[None]]) -> None:
        """Collect sums for ``writer``, which stores one batch in one transaction."""
        self.name = name
        self._writer = writer
        self._pending: dict[K, int] = {}
        #: Held while a batch is written: a flush called meanwhile waits for it, so that
        #: what was added before a flush is stored once it returns (a job reads it next).
        self._writing = asyncio.Lock()

    def add(self, key: K, amount: int = 1) -> None:
        """Add to a key's sum (no I/O)."""
        pending = self._pending
        pending[key] = pending.get(key, 0) + amount

    def pending(self, key: K) -> int:
        """What is added to ``key`` but not yet flushed."""
        return self._pending.get(key, 0)

    def __len__(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Write the batch; on failure the batch is put back for the next flush.

        A flush while another one writes waits for that write first.
        """
        async with self._writing:
            if not self._pending:
                return 0
            batch, self._pending = self._pending, {}
            try:
                await self._writer(batch)
            except Exception:
                for key, amount in batch.items():
                    self.add(key, amount)
                raise
            return len(batch)


class Counters:
    """Every accumulator of the app, flushed together on a timer and at shutdown."""

    def __init__(self, clock: Clock) -> None:
        """Create an empty registry."""
        self.clock = clock
        self._accumulators: list[Accumulator[object]] = []
        self._extra: list[Callable[[], Awaitable[object]]] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def create(
        self, name: str, writer: Callable[[dict[K, int]], Awaitable[None]]
    ) -> Accumulator[K]:
        """A new accumulator flushed with the others."""
        acc: Accumulator[K] = Accumulator(name, writer)
        self._accumulators.append(acc)  # type: ignore[arg-type]
        return acc

    def also_flush(self, flush: Callable[[], Awaitable[object]]) -> None:
        """Run another batch writer on the same beat (the dispatcher's event ids)."""
        self._extra.append(flush)

    async def flush(self) -> None:
        """Write every pending batch now."""
        async with self._lock:
            for flush in self._extra:
                try:
                    await flush()
                except Exception:
                    log.exception("batch flush failed")
            for acc in self._accumulators:
                try:
                    await acc.flush()
                except Exception:
                    log.exception("flush of %s failed; kept for the next beat", acc.name)

    def start(self) -> None:
        """Flush every second in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_SECONDS)
            await self.flush()
            beats += 1
            if beats % TRIM_EVERY == 1:  # from the first beat on
                memory.trim()

    async def stop(self) -> None:
        """Stop the timer and flush what is left."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.flush()
