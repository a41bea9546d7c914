"""SQLite's WAL is checkpointed after commits, in the background, not inside them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.core.storage import Database

pytestmark = pytest.mark.sqlite_only  # SQLite's WAL


async def test_big_writes_are_checkpointed_after_commit_without_a_transaction(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    begun: list[Any] = []
    event.listen(db.engine.sync_engine, "begin", begun.append)
    async with db.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x BLOB)"))
        # SQLite's own checkpoint is off on our connections (it ran inside commits)
        assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
    for _ in range(20):  # ~2,500 pages: past SQLite's 1,000-page threshold
        async with db.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (randomblob(500000))"))
    for _ in range(100):
        if db._checkpointing is None or db._checkpointing.done():
            break
        await asyncio.sleep(0.02)
    # the pages are in the database file (only a checkpoint copies them there)
    assert path.stat().st_size > 20 * 500_000
    other = sqlite3.connect(path)
    busy, frames, done = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    other.close()
    assert busy == 0 and done == frames
    assert len(begun) == 21  # the checkpoints are not counted as transactions
    await db.close()
    assert not Path(f"{path}-wal").exists()
