"""Writes that tasks make at once, as PostgreSQL runs them (no one writer, unlike SQLite)."""

from __future__ import annotations

import asyncio

from bot.core.migrate import core_source, upgrade
from bot.core.storage import Database


async def test_concurrent_stores_of_one_small_value_all_succeed_and_the_last_stays() -> None:
    db = Database("sqlite+aiosqlite://")
    await upgrade(db.engine, [core_source()])
    try:
        results = await asyncio.gather(*(db.kv_set("adapter", "commands", {"hash": i})
                                         for i in range(20)), return_exceptions=True)
        assert [r for r in results if isinstance(r, Exception)] == []
        assert (await db.kv_get("adapter", "commands"))["hash"] in range(20)
        await db.kv_set("adapter", "commands", {"hash": "new"})
        assert await db.kv_get("adapter", "commands") == {"hash": "new"}
    finally:
        await db.close()
