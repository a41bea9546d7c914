"""Counting what reaches the database: SQLAlchemy engine events inside a block."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def engine_events(engine: Any, *names: str) -> Iterator[Counter[str]]:
    """Count the engine events ``names`` (``begin``, ``commit``, ``before_cursor_execute``…).

    ``engine`` is a synchronous engine (``db.engine.sync_engine``); the counter is keyed by
    event name and keeps counting until the block ends.
    """
    seen: Counter[str] = Counter()
    listeners = []
    for name in names:
        def listener(*_args: Any, _name: str = name) -> None:
            seen[_name] += 1

        event.listen(engine, name, listener)
        listeners.append((name, listener))
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
