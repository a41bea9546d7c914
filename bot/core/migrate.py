"""Alembic glue: one branch per plugin plus ``core``, applied at start.

No ``env.py``: the environment is built here, so a plugin's ``migrations/`` folder holds
only revision files. Writing revisions, for maintainers: :func:`make_revision` writes the
difference between a plugin's tables and a database (``python run.py db revision NAME``),
:func:`first_revision` a new plugin's first one (``python run.py new-plugin NAME``); both
go through :func:`write_revision`.
"""

from __future__ import annotations

import ast
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, MetaData, create_engine, delete, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import storage
from bot.core.validation import StartupError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

CORE_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
CORE_VERSIONS = CORE_MIGRATIONS / "versions"


@dataclass(frozen=True, slots=True)
class MigrationSource:
    """A branch: its label (plugin name or ``core``), revision folder and tables."""

    label: str
    path: Path
    metadata: MetaData


def core_source() -> MigrationSource:
    """The core's own branch: its revisions and the kernel's tables."""
    return MigrationSource("core", CORE_VERSIONS, storage.metadata)


class SchemaMismatch(StartupError, RuntimeError):
    """The database's tables differ from what the code declares."""


class UnknownRevision(StartupError):
    """The database was migrated by code this process does not have (newer, or not loaded)."""


def _script(sources: list[MigrationSource]) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(
        str(CORE_MIGRATIONS),
        version_locations=[str(s.path) for s in sources if s.path.is_dir()],
    )


def _upgrade(conn: Connection, sources: list[MigrationSource]) -> None:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext

    script = _script(sources)
    config = Config()

    def do_upgrade(rev: Any, context: Any) -> Any:
        return script._upgrade_revs("heads", rev)

    with EnvironmentContext(config, script, fn=do_upgrade, destination_rev="heads") as env:
        env.configure(connection=conn, render_as_batch=True)
        with env.begin_transaction():
            env.run_migrations()


def _unknown(conn: Connection, sources: list[MigrationSource]) -> list[str]:
    """Revisions recorded in the database that no branch here declares."""
    from alembic.runtime.migration import MigrationContext

    script = _script(sources)
    known = {rev.revision for rev in script.walk_revisions()}
    current = MigrationContext.configure(conn).get_current_heads()
    return [rev for rev in current if rev not in known]


def _diff(conn: Connection, sources: list[MigrationSource]) -> dict[str, list[Any]]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    diffs: dict[str, list[Any]] = {}
    for source in sources:
        own = set(source.metadata.tables)
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": (
                    lambda name, type_, parent, own=own: type_ != "table" or name in own
                ),
                "compare_type": False,
            },
        )
        found = compare_metadata(context, source.metadata)
        if found:
            diffs[source.label] = found
    return diffs


#: Where the fingerprint of the last schema found complete is kept (``core_kv``).
_FINGERPRINT = ("schema", "verified")


def _revision_heads(sources: list[MigrationSource]) -> set[str]:
    """Every branch's head, read from the revision files' text (no alembic import)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for source in sources:
        for path in sorted(source.path.glob("*.py")):
            found: dict[str, Any] = {}
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name) and target.id in (
                            "revision", "down_revision"):
                        found[target.id] = ast.literal_eval(node.value)
            if "revision" not in found:
                continue
            revisions.add(str(found["revision"]))
            down = found.get("down_revision")
            parents.update((down,) if isinstance(down, str) else tuple(down or ()))
    return revisions - parents


def _fingerprint(heads: set[str], sources: list[MigrationSource]) -> str:
    """What a verified schema is checked against: the heads and every declared table."""
    digest = hashlib.sha256(" ".join(sorted(heads)).encode())
    for source in sorted(sources, key=lambda s: s.label):
        for name, table in sorted(source.metadata.tables.items()):
            digest.update(f"\n{source.label}:{name}:{table!r}".encode())
            for index in sorted(repr(i) for i in table.indexes):
                digest.update(index.encode())
    return digest.hexdigest()


def _verified(conn: Connection, heads: set[str], fingerprint: str) -> bool:
    """Whether the database is at ``heads`` and was found complete for these tables."""
    try:
        current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        stored = conn.execute(select(storage.kv.c.value).where(
            storage.kv.c.namespace == _FINGERPRINT[0], storage.kv.c.key == _FINGERPRINT[1]
        )).scalar_one_or_none()
    except DBAPIError:  # a new database: no tables yet
        conn.rollback()
        return False
    return current == heads and stored == fingerprint


def _remember(conn: Connection, fingerprint: str) -> None:
    kv = storage.kv
    here = (kv.c.namespace == _FINGERPRINT[0]) & (kv.c.key == _FINGERPRINT[1])
    conn.execute(delete(kv).where(here))
    conn.execute(insert(kv).values(namespace=_FINGERPRINT[0], key=_FINGERPRINT[1],
                                   value=fingerprint))


async def upgrade(engine: AsyncEngine, sources: list[MigrationSource]) -> None:
    """Apply every branch's pending revisions, then refuse a mismatched schema.

    A database that records revisions none of ``sources`` knows is refused before any
    change: a newer Majlis (or a plugin not loaded now) wrote it.

    A database already at every head, last found complete for exactly these tables (a
    fingerprint of the heads and the tables' definitions, kept in ``core_kv``), is not
    compared again: an ordinary restart reads two small tables and never imports alembic,
    which would stay in memory for the life of the process (~12 MiB).
    """
    heads = _revision_heads(sources)
    fingerprint = _fingerprint(heads, sources)
    async with engine.connect() as conn:
        if await conn.run_sync(_verified, heads, fingerprint):
            return
    where = engine.url.render_as_string(hide_password=True)
    async with engine.connect() as conn:
        unknown = await conn.run_sync(_unknown, sources)
    if unknown:
        raise UnknownRevision(
            f"the database {where} records migration {', '.join(unknown)}, which this "
            "Majlis does not know: a newer version of Majlis, or a plugin that is not loaded "
            "now (MAJLIS_PLUGINS), wrote it. Nothing was changed. Run the newer version, "
            "load that plugin, or point MAJLIS_DATABASE_URL at another database."
        )
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, sources)
    async with engine.connect() as conn:
        diffs = await conn.run_sync(_diff, sources)
    if diffs:
        commands = " and ".join(
            f'python run.py db revision {label} -m "{label} tables"' for label in diffs
        )
        details = "; ".join(
            f"{label}: {', '.join(_describe(d) for d in found[:4])}"
            + (f" and {len(found) - 4} more" if len(found) > 4 else "")
            for label, found in diffs.items()
        )
        raise SchemaMismatch(
            f"the tables of {', '.join(diffs)} differ from the database {where} ({details}): "
            f"a migration is missing. Run {commands}, then start again."
        )
    async with engine.begin() as conn:
        await conn.run_sync(_remember, fingerprint)


def _describe(diff: Any) -> str:
    """One difference alembic found, in words (its tuples print as long reprs)."""
    if isinstance(diff, list):  # a column's type, nullability or default changed
        first: Any = diff[0] if diff else ()
        return f"column {first[2]}.{first[3]} changed" if len(first) > 3 else "a column changed"
    kind = diff[0] if diff else ""
    if kind == "add_table":
        return f"new table {diff[1].name}"
    if kind == "remove_table":
        return f"table {diff[1].name} is no longer declared"
    if kind == "add_column":
        return f"new column {diff[2]}.{diff[3].name}"
    if kind == "remove_column":
        return f"column {diff[2]}.{diff[3].name} is no longer declared"
    if kind in ("add_index", "remove_index"):
        what = "new index" if kind == "add_index" else "index no longer declared:"
        return f"{what} {diff[1].name}"
    return str(kind).replace("_", " ") or "a difference"


def _render(
    conn: Connection, source: MigrationSource, message: str, sources: list[MigrationSource]
) -> Path:
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.runtime.migration import MigrationContext
    from alembic.util import rev_id

    script = _script(sources)
    heads = [
        rev for rev in script.get_revisions("heads") if source.label in (rev.branch_labels or ())
    ]
    own = set(source.metadata.tables)
    context = MigrationContext.configure(
        conn,
        opts={
            "render_as_batch": True,
            "include_name": lambda name, type_, parent: type_ != "table" or name in own,
        },
    )
    migrations = produce_migrations(context, source.metadata)
    ops = migrations.upgrade_ops
    if ops is None or ops.is_empty():
        raise ValueError(f"{source.label}: no changes to write")
    down = migrations.downgrade_ops
    assert down is not None
    body_up = _body(render_python_code(ops, render_as_batch=True))
    body_down = _body(render_python_code(down, render_as_batch=True))
    revision = rev_id()
    down_revision = repr(heads[0].revision) if heads else "None"
    labels = "None" if heads else repr((source.label,))
    slug = "".join(c if c.isalnum() else "_" for c in message.lower())[:40]
    source.path.mkdir(parents=True, exist_ok=True)
    target = source.path / f"{revision}_{slug}.py"
    target.write_text(
        f'"""{message}."""\n\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        "import bot.core.storage\n\n"
        f"revision = {revision!r}\n"
        f"down_revision = {down_revision}\n"
        f"branch_labels = {labels}\n"
        "depends_on = None\n\n\n"
        f"def upgrade() -> None:\n{body_up}\n\n"
        f"def downgrade() -> None:\n{body_down}\n",
        encoding="utf-8",
    )
    return target


def _body(code: str) -> str:
    lines = [line for line in code.splitlines() if not line.lstrip().startswith("# ###")]
    return "\n".join(line if line.startswith("    ") else "    " + line for line in lines) + "\n"


def write_revision(
    conn: Connection, source: MigrationSource, message: str, sources: list[MigrationSource]
) -> Path:
    """Bring ``conn``'s database to every branch's head, then write ``source``'s next revision.

    The revision holds the difference between ``source``'s tables and that database, as
    a file in ``source.path``; it follows the branch's head, or starts the branch.

    Raises:
        ValueError: the tables and the database do not differ (nothing to write).
    """
    _upgrade(conn, sources)
    return _render(conn, source, message, sources)


async def make_revision(
    engine: AsyncEngine, source: MigrationSource, message: str, sources: list[MigrationSource]
) -> Path:
    """Write a revision for the difference between ``source``'s tables and the database."""
    async with engine.begin() as conn:
        return await conn.run_sync(write_revision, source, message, sources)


def first_revision(source: MigrationSource, message: str) -> Path:
    """Write the first revision of a branch that has none yet (a new plugin's).

    Compared with an empty in-memory SQLite database holding only the core's tables, so
    the revision creates every table of ``source``; no database of the bot's is touched.
    """
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            return write_revision(conn, source, message, [core_source(), source])
    finally:
        engine.dispose()
