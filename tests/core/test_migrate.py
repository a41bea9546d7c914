"""Start-up migrations: a restart on a verified schema skips alembic, a change never does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core import migrate, storage
from bot.core.migrate import (
    MigrationSource,
    SchemaMismatch,
    UnknownRevision,
    core_source,
    upgrade,
)
from tests.conftest import ROOT


def _changed_core() -> MigrationSource:
    """The core's branch with one column more than its revisions create."""
    copy = MetaData(naming_convention=storage.metadata.naming_convention)
    for table in storage.metadata.tables.values():
        table.to_metadata(copy)
    copy.tables["core_kv"].append_column(Column("extra", Integer, nullable=True))
    return MigrationSource("core", migrate.CORE_VERSIONS, copy)


async def test_a_verified_schema_is_not_compared_again_but_a_changed_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}")
    try:
        await upgrade(engine, [core_source()])  # a new database: migrated and compared

        def no_compare(*_: object) -> dict[str, list[object]]:
            raise AssertionError("a verified schema was compared again")

        with monkeypatch.context() as patched:
            patched.setattr(migrate, "_diff", no_compare)
            patched.setattr(migrate, "_upgrade", no_compare)
            await upgrade(engine, [core_source()])  # the restart: two small reads

        with pytest.raises(SchemaMismatch, match=r"core_kv\.extra"):
            await upgrade(engine, [_changed_core()])  # tables changed, no revision written
        await upgrade(engine, [core_source()])  # still verified for the code as it is

        async with engine.begin() as conn:  # a newer Majlis migrated this database
            await conn.execute(text("INSERT INTO alembic_version VALUES ('f00dcafe0001')"))
        with pytest.raises(UnknownRevision, match="f00dcafe0001"):
            await upgrade(engine, [core_source()])
    finally:
        await engine.dispose()


RESTART = """
import asyncio, io, sys
from bot.adapters.console import Console
from bot.app import App
from bot.core.clock import ManualClock
from bot.loader import discover
from bot.settings import Settings

async def main() -> None:
    found, failures = discover(None)
    assert not failures, failures
    console = Console(out=io.StringIO())
    settings = Settings(_env_file=None, database_url=sys.argv[1], disabled_by_default=[])
    app = App(settings, clock=ManualClock(), platforms=[console],
              plugins=[f.cls for f in found if f.origin.startswith("plugins.")])
    await app.start()
    await app.stop()
    print(" ".join(m for m in ("alembic", "mako") if m in sys.modules) or "none")

asyncio.run(main())
"""


def test_a_restart_on_a_migrated_database_never_loads_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"

    def start() -> str:
        done = subprocess.run([sys.executable, "-c", RESTART, url], cwd=ROOT, text=True,
                              capture_output=True, timeout=120,
                              env={"PATH": "", "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    assert start() == "alembic mako"  # the first start migrates the new database
    assert start() == "none"  # alembic would stay in memory for the life of the process
