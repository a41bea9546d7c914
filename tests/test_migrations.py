"""Every branch's migrations go down to base and up again, on SQLite and on PostgreSQL.

The app only ever upgrades; these downgrades are what an operator rolling back runs,
and on PostgreSQL (with MAJLIS_TEST_DATABASE_URL) they meet real foreign keys and types.
"""

from __future__ import annotations

from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import Connection, inspect

from bot.app import App
from bot.core.migrate import MigrationSource, _script, upgrade
from bot.core.storage import Database
from bot.loader import discover


def _downgrade(conn: Connection, sources: list[MigrationSource], target: str) -> None:
    script = _script(sources)

    def do_downgrade(rev: Any, context: Any) -> Any:
        return script._downgrade_revs(target, rev)

    with EnvironmentContext(Config(), script, fn=do_downgrade, destination_rev=target) as env:
        env.configure(connection=conn, render_as_batch=True)
        with env.begin_transaction():
            env.run_migrations()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _sources() -> list[MigrationSource]:
    found, failures = discover()
    assert failures == []
    return App.migration_sources([f.cls for f in found])


async def test_each_plugins_branch_goes_down_to_base_alone_and_up_again() -> None:
    sources = _sources()
    db = Database("sqlite+aiosqlite://")
    try:
        await upgrade(db.engine, sources)
        async with db.engine.connect() as conn:
            everything = await conn.run_sync(_tables)
        for source in sources[1:]:
            async with db.engine.begin() as conn:
                await conn.run_sync(_downgrade, sources, f"{source.label}@base")
            async with db.engine.connect() as conn:
                left = await conn.run_sync(_tables)
            assert left == everything - set(source.metadata.tables), source.label
            await upgrade(db.engine, sources)  # refuses a schema that differs from the code
    finally:
        await db.close()


async def test_every_branch_goes_down_to_base_together_and_up_again() -> None:
    sources = _sources()
    db = Database("sqlite+aiosqlite://")
    try:
        await upgrade(db.engine, sources)
        async with db.engine.begin() as conn:
            await conn.run_sync(_downgrade, sources, "base")
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
        await upgrade(db.engine, sources)
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
        assert all(set(s.metadata.tables) <= tables for s in sources)
    finally:
        await db.close()
