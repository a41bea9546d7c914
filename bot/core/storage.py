"""The database: SQLAlchemy async engine, the core tables and every query on them.

SQLite (WAL) by default, PostgreSQL by URL with no code change. This module and the
plugins' ``tables.py`` are the only places that know SQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

#: Rows read per round trip by the loads that read a whole community.
LOAD_CHUNK = 2_000

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def plugin_metadata() -> MetaData:
    """A ``MetaData`` for a plugin's tables, with the project's constraint names."""
    return MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; refuse naive datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


log = logging.getLogger(__name__)

metadata = plugin_metadata()

communities = Table(
    "core_communities",
    metadata,
    Column("key", String(96), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("language", String(16)),
    Column("timezone", String(64)),
    Column("paused", Boolean, nullable=False, default=False),
    Column("admin_channel", String(64)),
    Column("welcome_channel", String(64)),
    Column("mod_role", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
)

members = Table(
    "core_members",
    metadata,
    Column("community", String(96), primary_key=True),
    # indexed alone too: erasing a member finds them in every community of their platform
    Column("member", String(64), primary_key=True, index=True),
    Column("name", String(200), nullable=False, default=""),
    Column("language", String(16)),
    Column("joined_at", UTCDateTime),
    Column("left_at", UTCDateTime),
    Column("last_seen", UTCDateTime),
)

plugin_state = Table(
    "core_plugin_state",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("plugin", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=False),
)

settings = Table(
    "core_settings",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("plugin", String(64), primary_key=True),
    Column("scope", String(96), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

processed_events = Table(
    "core_processed_events",
    metadata,
    Column("digest", String(32), primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
)

outbox = Table(
    "core_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("action", JSON, nullable=False),
    Column("member", String(64), index=True),
    Column("direct", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("result", String(200)),
    Column("error", Text),
    #: Parts already delivered (``{"0": message id, ...}``): a retry or a restart skips them.
    Column("progress", JSON),
    #: The JSON form of the event's reply handle, when the adapter gives one.
    Column("reply", JSON),
    #: When server or network errors began: their retries stop after a time budget.
    Column("failing_since", UTCDateTime),
    #: DMs sent together about one thing share one fallback post (see ``outbox_groups``).
    Column("fallback_group", String(64), index=True),
)

#: A group of DMs whose one fallback post was made (or was not needed): never twice.
#: Written in the transaction that stores that post.
outbox_groups = Table(
    "core_outbox_groups",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("community", String(96), nullable=False),
    Column("posted_at", UTCDateTime, nullable=False),
)

#: Which members each stored action names (recipient, actor, mentions, names in the text):
#: erasing a member reads this index instead of every action's JSON.
outbox_subjects = Table(
    "core_outbox_subjects",
    metadata,
    Column("outbox_id", Integer, primary_key=True),
    Column("member", String(64), primary_key=True, index=True),
)

scheduled = Table(
    "core_scheduled",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("plugin", String(64), nullable=False),
    Column("job", String(64), nullable=False),
    Column("community", String(96), nullable=False),
    Column("data", JSON, nullable=False),
    Column("next_run_at", UTCDateTime, index=True),
    Column("rule", String(400)),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("status", String(16), nullable=False, default="active"),
    Column("last_fired_at", UTCDateTime),
    Column("member", String(64)),
)

job_runs = Table(
    "core_job_runs",
    metadata,
    Column("item", Integer, primary_key=True),
    Column("occurrence", UTCDateTime, primary_key=True),
    Column("fired_at", UTCDateTime, nullable=False),
    #: "running" while a scheduler holds the occurrence's lease, then "fired" or "skipped"
    Column("outcome", String(16), nullable=False),
    #: While running: until when the claim holds (NULL once recorded). An expired lease is
    #: a firing whose process died: it may be claimed and run again.
    Column("leased_until", UTCDateTime, index=True),
    #: While running: which scheduler holds the lease (a token of its claim).
    Column("claim", String(32)),
)

errors = Table(
    "core_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("plugin", String(64), nullable=False),
    Column("event", String(64), nullable=False),
    Column("community", String(96), nullable=False),
    Column("error", Text, nullable=False),
)

payloads = Table(
    "core_payloads",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("raw", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

kv = Table(
    "core_kv",
    metadata,
    Column("namespace", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", JSON, nullable=False),
)

member_rewards = Table(
    "core_member_rewards",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("badge", String(100), primary_key=True),
    Column("role", String(64)),
    Column("granted_at", UTCDateTime, nullable=False),
)

Index("ix_core_outbox_due", outbox.c.status, outbox.c.not_before)
Index("ix_core_outbox_done", outbox.c.status, outbox.c.created_at)


def event_digest(event_id: str) -> str:
    """What the processed-events table keeps of an id: a hash, so no member id is stored."""
    return hashlib.blake2s(event_id.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One stored outgoing action."""

    id: int
    community: str
    platform: str
    action: dict[str, Any]
    direct: bool
    status: str
    attempts: int
    not_before: datetime
    progress: dict[int, str] | None = None
    reply: Any = None
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewOutboxRow:
    """An outgoing action to store (see :meth:`Database.outbox_write`)."""

    community: str
    platform: str
    action: dict[str, Any]
    direct: bool
    status: str
    member: str | None
    now: datetime
    subjects: tuple[str, ...] = ()
    reply: Any = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduledRow:
    """One stored scheduled item."""

    id: int
    key: str
    plugin: str
    job: str
    community: str
    data: dict[str, Any]
    next_run_at: datetime | None
    rule: str | None
    timezone: str
    status: str
    last_fired_at: datetime | None
    #: The lease on the next occurrence, when a scheduler claimed it and has not recorded
    #: it yet (from :meth:`Database.due_items`: always expired there).
    leased_until: datetime | None = None


#: True in a task that answers a member's command or button (and the tasks it starts):
#: its writes go ahead of background ones waiting for SQLite's one writer.
ANSWERING: ContextVar[bool] = ContextVar("answering", default=False)


class _WriteLock:
    """A lock with two lines, each first come first served: answers first, then the rest.

    A member waits for an answer (Discord gives an interaction 3 seconds); nobody waits for
    a level-up note, so under load an answer's write does not queue behind hundreds.
    """

    __slots__ = ("_held", "_normal", "_urgent")

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, urgent: bool) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._urgent if urgent else self._normal
        line.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed over just as it was cancelled: pass it on
            else:
                line.remove(future)
            raise

    def release(self) -> None:
        for line in (self._urgent, self._normal):
            while line:
                future = line.popleft()
                if not future.done():
                    future.set_result(None)  # the lock passes on, still held
                    return
        self._held = False


class Database:
    """The async engine plus the core's queries."""

    def __init__(self, url: str) -> None:
        """Open an engine for ``url`` (``sqlite+aiosqlite:///path`` or PostgreSQL)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.in_memory = False
        kwargs: dict[str, Any] = {}
        # SQLite has one writer at a time, and an in-memory database is one shared
        # connection: serialize in-process instead of colliding (re-entrant per task).
        self._lock: _WriteLock | None = _WriteLock() if self.is_sqlite else None
        self._owner: asyncio.Task[Any] | None = None
        #: Per task: the connection of its open :meth:`transaction` and what runs on commit.
        self._joined: dict[asyncio.Task[Any] | None, AsyncConnection] = {}
        self._on_commit: dict[asyncio.Task[Any] | None, list[Callable[[], None]]] = {}
        if self.is_sqlite:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path in ("", ":memory:"):
                self.in_memory = True
                kwargs["poolclass"] = StaticPool
                kwargs["connect_args"] = {"check_same_thread": False}
            else:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        #: The WAL's checkpoint, run after write transactions (see :meth:`_checkpoint`).
        self._checkpointing: asyncio.Task[None] | None = None
        self._checkpoint_again = False
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect",
                         _sqlite_pragmas if self.in_memory else _sqlite_file_pragmas)

    @asynccontextmanager
    async def _serialized(self, needed: bool) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if not needed or self._lock is None or self._owner is task:
            yield
            return
        await self._lock.acquire(ANSWERING.get())
        self._owner = task
        try:
            yield
        finally:
            self._owner = None
            self._lock.release()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success.

        Inside this task's :meth:`transaction` it is that transaction's connection.
        """
        if self._joined:
            joined = self._joined.get(asyncio.current_task())
            if joined is not None:
                yield joined
                return
        async with self._serialized(True), self.engine.begin() as conn:
            yield conn
        if self.is_sqlite and not self.in_memory:
            self._after_write()

    def _after_write(self) -> None:
        """Checkpoint the WAL in the background once a write transaction committed.

        SQLite's automatic checkpoint ran inside the commit that crossed 1,000 WAL pages,
        under the write lock: a big transaction (erasing a member named by thousands of
        outbox rows) paid for copying every page back into the file before it returned,
        and so did whichever batch flush came next. Here the commit only appends to the
        WAL; a passive checkpoint (it never blocks writers or readers) follows on its own
        connection, one at a time, once more if writes came in meanwhile.
        """
        if self._checkpointing is not None and not self._checkpointing.done():
            self._checkpoint_again = True
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._checkpointing = loop.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        again = True
        while again:
            self._checkpoint_again = False
            try:
                async with self.engine.connect() as conn:
                    # on the driver's connection: not a transaction (none is counted)
                    raw = (await conn.get_raw_connection()).driver_connection
                    assert raw is not None
                    await (await raw.execute("PRAGMA wal_checkpoint(PASSIVE)")).close()
            except Exception:  # a later write tries again; closing checkpoints anyway
                log.warning("WAL checkpoint failed", exc_info=True)
                return
            again = self._checkpoint_again

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (autobegin, rolled back at the end).

        Inside this task's :meth:`transaction` it is that transaction's connection, so
        reads see what the transaction wrote.
        """
        if self._joined:
            joined = self._joined.get(asyncio.current_task())
            if joined is not None:
                yield joined
                return
        async with self._serialized(self.in_memory), self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction that every write of this task joins until the block ends.

        ``begin()`` and ``connect()`` called by the same task inside the block (a plugin's
        store, the outbox storing a message) use its connection, so their rows commit
        together or not at all; work registered with :meth:`after_commit` (the outbox
        queueing the message for delivery) runs only once it committed. Nested calls
        join the outer transaction. Tasks started inside the block are not part of it.
        """
        task = asyncio.current_task()
        joined = self._joined.get(task)
        if joined is not None:
            yield joined
            return
        callbacks: list[Callable[[], None]] = []
        async with self.begin() as conn:
            self._joined[task] = conn
            self._on_commit[task] = callbacks
            try:
                yield conn
            finally:
                del self._joined[task]
                del self._on_commit[task]
        for callback in callbacks:
            callback()

    def in_transaction(self) -> bool:
        """Whether this task's writes must be made by this task itself.

        True in its open :meth:`transaction` (they join it) or while it holds the write
        lock (another task writing for it would wait for ever).
        """
        task = asyncio.current_task()
        return (self._owner is task and task is not None) or task in self._joined

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this task's open :meth:`transaction` commits (now if none).

        A transaction that rolls back drops its callbacks.
        """
        pending = self._on_commit.get(asyncio.current_task()) if self._on_commit else None
        if pending is None:
            callback()
        else:
            pending.append(callback)

    async def close(self) -> None:
        """Dispose of the engine (after the WAL checkpoint under way, if any)."""
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
            self._checkpointing = None
        await self.engine.dispose()

    # -- dialect-neutral writes for plugins ---------------------------------------------

    def insert(self, table: Table) -> Any:
        """An INSERT of this database's dialect, so plugins never import one.

        It has ``on_conflict_do_nothing`` and ``on_conflict_do_update(index_elements=...,
        set_=...)``, the same API on SQLite and PostgreSQL.
        """
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)

    def upsert_statement(
        self,
        table: Table,
        keys: Sequence[str],
        *,
        add: Sequence[str] = (),
        replace: Sequence[str] = (),
    ) -> Any:
        """An insert that merges into the row already stored under ``keys``.

        On a conflict the new ``add`` columns are added to the stored ones and the
        ``replace`` columns overwrite them; other columns are kept.
        """
        stmt = self.insert(table)
        changes: dict[str, Any] = {c: table.c[c] + stmt.excluded[c] for c in add}
        changes.update({c: stmt.excluded[c] for c in replace})
        index = [table.c[k] for k in keys]
        if not changes:
            return stmt.on_conflict_do_nothing(index_elements=index)
        return stmt.on_conflict_do_update(index_elements=index, set_=changes)

    async def upsert(
        self,
        table: Table,
        rows: Sequence[dict[str, Any]],
        keys: Sequence[str],
        *,
        add: Sequence[str] = (),
        replace: Sequence[str] = (),
    ) -> None:
        """Write a batch of rows in one transaction (see :meth:`upsert_statement`).

        The rows are written in key order: each lands next to the one before in the
        table's index, so a batch of thousands touches each page once instead of thrashing
        a small page cache (several times faster on a large table).
        """
        if not rows:
            return
        async with self.begin() as conn:
            await conn.execute(self.upsert_statement(table, keys, add=add, replace=replace),
                               sorted(rows, key=itemgetter(*keys)))

    async def insert_ignore(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows, skipping those whose key exists, in one transaction."""
        if not rows:
            return
        async with self.begin() as conn:
            await conn.execute(self.insert(table).on_conflict_do_nothing(), list(rows))
    async def integrity_problems(self, limit: int = 5) -> list[str]:
        """What SQLite's ``PRAGMA quick_check`` finds in the file (empty: sound, or not SQLite).

        Opened read-only, beside the engine, so a damaged file is never written to; a
        missing file is a new database and has nothing to check.
        """
        if not self.is_sqlite or self.in_memory:
            return []
        path = Path(self.engine.url.database or "")
        if not path.is_file():
            return []
        return await asyncio.to_thread(_quick_check, path, limit)

    # -- communities and members -------------------------------------------------

    async def ensure_community(self, key: str, platform: str, name: str, now: datetime) -> bool:
        """Create the community row if missing; True when it was new."""
        async with self.begin() as conn:
            row = (
                await conn.execute(select(communities.c.name).where(communities.c.key == key))
            ).first()
            if row is None:
                await conn.execute(
                    insert(communities).values(
                        key=key, platform=platform, name=name, created_at=now, paused=False
                    )
                )
                return True
            if name and row.name != name:
                await conn.execute(
                    update(communities).where(communities.c.key == key).values(name=name)
                )
            return False

    async def community(self, key: str) -> dict[str, Any] | None:
        """The community's row as a dict."""
        async with self.connect() as conn:
            row = (await conn.execute(select(communities).where(communities.c.key == key))).first()
            return dict(row._mapping) if row else None

    async def update_community(self, key: str, **values: Any) -> None:
        """Change columns of a community."""
        async with self.begin() as conn:
            await conn.execute(
                update(communities).where(communities.c.key == key).values(**values)
            )

    async def all_communities(self) -> list[dict[str, Any]]:
        """Every community row."""
        async with self.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(select(communities))]

    async def rename_community(self, old: str, new: str, tables: Iterable[Table]) -> None:
        """Move every row of ``old`` to ``new`` (a Telegram group became a supergroup)."""
        async with self.begin() as conn:
            for table in tables:
                column = table.c.get("community")
                if column is not None:
                    await conn.execute(update(table).where(column == old).values(community=new))
            await conn.execute(
                update(communities)
                .where(communities.c.key == old)
                .values(key=new, platform=new.split(":", 1)[0])
            )

    async def member(self, community: str, member: str) -> dict[str, Any] | None:
        """A member's row as a dict."""
        async with self.connect() as conn:
            row = (
                await conn.execute(
                    select(members).where(
                        members.c.community == community, members.c.member == member
                    )
                )
            ).first()
            return dict(row._mapping) if row else None

    async def upsert_member(self, community: str, member: str, **values: Any) -> bool:
        """Create or update a member; True when the row was new."""
        async with self.begin() as conn:
            found = (
                await conn.execute(
                    update(members)
                    .where(members.c.community == community, members.c.member == member)
                    .values(**values)
                )
            ).rowcount
            if found:
                return False
            await conn.execute(
                insert(members).values(community=community, member=member, **values)
            )
            return True

    async def member_ids(self, community: str) -> AsyncGenerator[Sequence[str], None]:
        """Every member id the core has recorded in a community, a chunk at a time.

        100k rows fetched whole were all alive at once while the caller kept the ids,
        and their freed blocks stayed in the process (megabytes of holes between ids).
        """
        async with self.connect() as conn, conn.stream(
            select(members.c.member).where(members.c.community == community)
        ) as result:
            async for ids in result.scalars().partitions(LOAD_CHUNK):
                yield ids

    async def member_count(self, community: str) -> int:
        """How many recorded members of a community have not left."""
        async with self.connect() as conn:
            return int((await conn.execute(
                select(func.count()).select_from(members)
                .where(members.c.community == community, members.c.left_at.is_(None))
            )).scalar_one())

    async def add_members(self, rows: Sequence[dict[str, Any]]) -> None:
        """Record members first seen (rows of community, member, name, last_seen)."""
        await self.insert_ignore(members, rows)

    async def member_languages(self, community: str) -> dict[str, str]:
        """Members' chosen languages in a community."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(members.c.member, members.c.language).where(
                    members.c.community == community, members.c.language.is_not(None)
                )
            )
            return {r.member: r.language for r in rows}

    # -- plugins and settings -------------------------------------------------------

    async def plugin_states(self) -> dict[tuple[str, str], bool]:
        """Explicit enabled/disabled choices, by (community, plugin)."""
        async with self.connect() as conn:
            rows = await conn.execute(select(plugin_state))
            return {(r.community, r.plugin): r.enabled for r in rows}

    async def set_plugin_state(self, community: str, plugin: str, enabled: bool) -> None:
        """Record that ``plugin`` is enabled or disabled in ``community``."""
        async with self.begin() as conn:
            await conn.execute(
                delete(plugin_state).where(
                    plugin_state.c.community == community, plugin_state.c.plugin == plugin
                )
            )
            await conn.execute(
                insert(plugin_state).values(community=community, plugin=plugin, enabled=enabled)
            )

    async def settings_for(self, community: str, plugin: str, scope: str) -> dict[str, Any]:
        """Stored (non-default) settings of a plugin in a community and scope."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(settings.c.key, settings.c.value).where(
                    settings.c.community == community,
                    settings.c.plugin == plugin,
                    settings.c.scope == scope,
                )
            )
            return {r.key: r.value for r in rows}

    async def community_settings(self, community: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Every stored setting of a community, by (plugin, scope)."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        async with self.connect() as conn:
            rows = await conn.execute(
                select(settings.c.plugin, settings.c.scope, settings.c.key, settings.c.value)
                .where(settings.c.community == community)
            )
            for r in rows:
                out.setdefault((r.plugin, r.scope), {})[r.key] = r.value
        return out

    async def set_setting(
        self, community: str, plugin: str, scope: str, key: str, value: Any
    ) -> None:
        """Store one setting; ``value`` None removes it (back to its default)."""
        async with self.begin() as conn:
            await conn.execute(
                delete(settings).where(
                    settings.c.community == community,
                    settings.c.plugin == plugin,
                    settings.c.scope == scope,
                    settings.c.key == key,
                )
            )
            if value is not None:
                await conn.execute(
                    insert(settings).values(
                        community=community, plugin=plugin, scope=scope, key=key, value=value
                    )
                )

    # -- processed events ------------------------------------------------------------

    async def record_events(self, digests: Sequence[str], at: datetime) -> None:
        """Remember handled event digests (already-known ones are ignored).

        This runs every second with every id the dispatcher saw, so on SQLite it goes
        straight to the driver: one prepared statement, no per-row type processing.
        """
        if not digests:
            return
        unique = dict.fromkeys(digests)
        async with self.begin() as conn:
            if conn.dialect.name == "sqlite":
                stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                await conn.exec_driver_sql(
                    f"INSERT OR IGNORE INTO {processed_events.name} (digest, at) VALUES (?, ?)",
                    [(d, stamp) for d in unique],
                )
            else:
                await conn.execute(
                    _insert_ignore(conn, processed_events),
                    [{"digest": d, "at": at} for d in unique],
                )

    async def recent_events(self, since: datetime) -> list[str]:
        """Digests handled since ``since``, oldest first."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(processed_events.c.digest)
                .where(processed_events.c.at >= since)
                .order_by(processed_events.c.at)
            )
            return list(rows.scalars())

    async def prune_events(self, before: datetime) -> None:
        """Forget digests older than the replay window."""
        async with self.begin() as conn:
            await conn.execute(delete(processed_events).where(processed_events.c.at < before))

    # -- errors -------------------------------------------------------------------

    async def record_errors(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store handler failures."""
        if rows:
            async with self.begin() as conn:
                await conn.execute(insert(errors), list(rows))

    async def error_counts(self) -> dict[str, int]:
        """Stored failures by plugin."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(errors.c.plugin, func.count()).group_by(errors.c.plugin)
            )
            return {r[0]: r[1] for r in rows}

    # -- payloads -------------------------------------------------------------------

    async def put_payload(self, key: str, raw: str) -> None:
        """Store a long button payload under its key (idempotent)."""
        try:
            async with self.begin() as conn:
                await conn.execute(
                    insert(payloads).values(key=key, raw=raw, created_at=datetime.now(UTC))
                )
        except IntegrityError:
            pass

    async def get_payload(self, key: str) -> str | None:
        """The payload stored under ``key``."""
        async with self.connect() as conn:
            return (
                await conn.execute(select(payloads.c.raw).where(payloads.c.key == key))
            ).scalar()

    # -- key/value -----------------------------------------------------------------

    async def kv_get(self, namespace: str, key: str) -> Any:
        """A small stored value (adapters keep command-set hashes here)."""
        async with self.connect() as conn:
            return (
                await conn.execute(
                    select(kv.c.value).where(kv.c.namespace == namespace, kv.c.key == key)
                )
            ).scalar()

    async def kv_set(self, namespace: str, key: str, value: Any) -> None:
        """Store a small value."""
        # one statement: a delete then an insert let two writers at once (PostgreSQL has no
        # one writer) both insert the key, and one failed on the primary key
        async with self.begin() as conn:
            await conn.execute(self.upsert_statement(kv, ("namespace", "key"), replace=("value",)),
                               {"namespace": namespace, "key": key, "value": value})

    # -- outbox ---------------------------------------------------------------------

    async def outbox_add(
        self,
        community: str,
        platform: str,
        action: dict[str, Any],
        *,
        direct: bool,
        status: str,
        member: str | None,
        now: datetime,
        subjects: Iterable[str] = (),
        reply: Any = None,
        group: str | None = None,
    ) -> int:
        """Store an outgoing action and the members it names; returns its id."""
        row = NewOutboxRow(
            community, platform, action, direct, status, member, now, tuple(subjects), reply,
            group,
        )
        async with self.begin() as conn:
            return (await _insert_outbox(conn, [row]))[0]

    async def outbox_write(
        self, added: Sequence[NewOutboxRow], changes: Sequence[tuple[int, dict[str, Any]]]
    ) -> list[int]:
        """Store new actions and change stored ones, all in one transaction.

        ``changes`` are applied in order (a later change of the same action wins). Returns
        the new rows' ids, in the order of ``added``.
        """
        async with self.begin() as conn:
            ids = await _insert_outbox(conn, added) if added else []
            if changes:
                await _change_outbox(conn, changes)
            return ids

    async def outbox_pending(self, statuses: Sequence[str]) -> list[OutboxRow]:
        """Stored actions in the given states, oldest first."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(outbox).where(outbox.c.status.in_(statuses)).order_by(outbox.c.id)
            )
            return [
                OutboxRow(
                    r.id,
                    r.community,
                    r.platform,
                    r.action,
                    r.direct,
                    r.status,
                    r.attempts,
                    r.not_before,
                    {int(k): str(v) for k, v in r.progress.items()} if r.progress else None,
                    r.reply,
                    r.failing_since,
                )
                for r in rows
            ]

    async def outbox_update(self, ids: Sequence[int], **values: Any) -> None:
        """Change the state of stored actions."""
        if ids:
            async with self.begin() as conn:
                await conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(**values))

    async def outbox_release(self, community: str) -> list[int]:
        """Held actions of a community become pending again; returns their ids."""
        async with self.begin() as conn:
            ids = list(
                (
                    await conn.execute(
                        select(outbox.c.id).where(
                            outbox.c.community == community, outbox.c.status == "held"
                        )
                    )
                ).scalars()
            )
            if ids:
                await conn.execute(
                    update(outbox).where(outbox.c.id.in_(ids)).values(status="pending")
                )
            return ids

    async def outbox_progress(self, outbox_id: int, parts: dict[int, str]) -> None:
        """Remember which parts of an action were delivered (and their message ids)."""
        async with self.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(progress={str(k): v for k, v in parts.items()})
            )

    async def outbox_state(self, outbox_id: int) -> tuple[str, str | None] | None:
        """A stored action's status and delivered message id (None: no such action)."""
        async with self.connect() as conn:
            row = (
                await conn.execute(
                    select(outbox.c.status, outbox.c.result).where(outbox.c.id == outbox_id)
                )
            ).first()
            return (row.status, row.result) if row is not None else None

    async def outbox_prune(self, before: datetime, statuses: Sequence[str],
                           kept: str = "") -> int:
        """Delete finished actions created before ``before``; returns how many.

        Rows in status ``kept`` whose action says ``keep`` stay (a post still edited).
        """
        async with self.begin() as conn:
            # SQLite numbers a new row after the highest one left: were that row pruned,
            # ids would be given again, and an id a plugin kept (an event's post) would
            # name another message. The newest row always stays.
            newest = (await conn.execute(select(func.max(outbox.c.id)))).scalar()
            ids = list(
                (
                    await conn.execute(
                        select(outbox.c.id).where(
                            outbox.c.status.in_(statuses), outbox.c.created_at < before,
                            outbox.c.id != (newest or 0),
                            # a delivered post its sender keeps editing stays (SendMessage.keep)
                            or_(outbox.c.status != kept,
                                func.coalesce(outbox.c.action["keep"].as_boolean(),
                                              False).is_(False)),
                        )
                    )
                ).scalars()
            )
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                await conn.execute(
                    delete(outbox_subjects).where(outbox_subjects.c.outbox_id.in_(chunk))
                )
                await conn.execute(delete(outbox).where(outbox.c.id.in_(chunk)))
            # a group's claim goes with the last of its rows
            await conn.execute(
                delete(outbox_groups).where(
                    ~select(outbox.c.id)
                    .where(outbox.c.fallback_group == outbox_groups.c.key)
                    .exists()
                )
            )
            return len(ids)

    async def outbox_group_claim(
        self, group: str, community: str, now: datetime
    ) -> list[tuple[str, dict[str, Any]]] | None:
        """Claim a group of DMs whose every action is done: its rows' statuses and actions.

        None while one is pending or held, or when the group was claimed before. The claim
        is written in the caller's :meth:`transaction`, with the fallback post it stores.
        """
        async with self.begin() as conn:
            if await _group_waits(conn, group) or (
                await conn.execute(select(outbox_groups.c.key).where(outbox_groups.c.key == group))
            ).first() is not None:
                return None
            rows = (
                await conn.execute(
                    select(outbox.c.status, outbox.c.action)
                    .where(outbox.c.fallback_group == group)
                    .order_by(outbox.c.id)
                )
            ).all()
            if not rows:
                return None
            await conn.execute(
                insert(outbox_groups).values(key=group, community=community, posted_at=now)
            )
            return [(r.status, r.action) for r in rows]

    async def outbox_group_due(self, group: str) -> bool:
        """Whether a group of DMs is all done with one undelivered: its post may be due."""
        async with self.connect() as conn:
            waiting, missed = (
                await conn.execute(
                    select(_count_of(("pending", "held")), _count_of(("undeliverable",))).where(
                        outbox.c.fallback_group == group
                    )
                )
            ).one()
            return not waiting and bool(missed)

    async def outbox_groups_open(self) -> list[tuple[str, str]]:
        """Groups of DMs all done, one undelivered, post not claimed: (group, community)."""
        waiting, missed = _count_of(("pending", "held")), _count_of(("undeliverable",))
        claimed = select(outbox_groups.c.key).where(
            outbox_groups.c.key == outbox.c.fallback_group
        ).exists()
        async with self.connect() as conn:
            rows = await conn.execute(
                select(outbox.c.fallback_group, func.min(outbox.c.community))
                .where(outbox.c.fallback_group.is_not(None), ~claimed)
                .group_by(outbox.c.fallback_group)
                .having(waiting == 0, missed > 0)
            )
            return [(r[0], r[1]) for r in rows]

    async def outbox_result(self, outbox_id: int) -> str | None:
        """The platform message id a delivered action produced."""
        async with self.connect() as conn:
            return (
                await conn.execute(select(outbox.c.result).where(outbox.c.id == outbox_id))
            ).scalar()

    async def paused_communities(self) -> set[str]:
        """Keys of communities whose automated posts are held."""
        async with self.connect() as conn:
            return set(
                (
                    await conn.execute(
                        select(communities.c.key).where(communities.c.paused.is_(True))
                    )
                ).scalars()
            )

    async def outbox_counts(self, community: str | None = None) -> dict[str, int]:
        """How many actions are in each state."""
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        if community is not None:
            query = query.where(outbox.c.community == community)
        async with self.connect() as conn:
            return {r[0]: r[1] for r in await conn.execute(query)}

    # -- scheduler ------------------------------------------------------------------

    async def schedule_upsert(self, values: dict[str, Any]) -> int:
        """Create or replace the scheduled item with ``values['key']``; returns its id."""
        async with self.begin() as conn:
            # one statement when it replaces (a chain of steps, each scheduling the next)
            existing = (
                await conn.execute(
                    update(scheduled).where(scheduled.c.key == values["key"]).values(**values)
                    .returning(scheduled.c.id)
                )
            ).scalar()
            if existing is not None:
                return int(existing)
            result = await conn.execute(insert(scheduled).values(**values))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    async def scheduled_items(
        self, *, status: str = "active", key_prefix: str | None = None
    ) -> list[ScheduledRow]:
        """Scheduled items, soonest first."""
        query = select(scheduled).where(scheduled.c.status == status)
        if key_prefix is not None:
            query = query.where(scheduled.c.key.startswith(key_prefix, autoescape=True))
        async with self.connect() as conn:
            rows = await conn.execute(query.order_by(scheduled.c.next_run_at, scheduled.c.id))
            return [_scheduled_row(r) for r in rows]

    async def due_items(self, until: datetime, limit: int | None = None) -> list[ScheduledRow]:
        """Active items due at or before ``until``, soonest first (uses the index).

        An item whose occurrence a scheduler holds the lease of is due when the lease runs
        out (its process died, or the firing is stuck), not before; such a row carries the
        expired lease in ``leased_until``.
        """
        lease = job_runs.c.leased_until
        query = (
            select(scheduled, lease.label("lease"))
            .select_from(_with_lease())
            .where(
                scheduled.c.status == "active",
                scheduled.c.next_run_at <= until,
                or_(lease.is_(None), lease <= until),
            )
            .order_by(_due_at(), scheduled.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self.connect() as conn:
            return [_scheduled_row(r, r.lease) for r in await conn.execute(query)]

    async def earliest_due(self) -> datetime | None:
        """When the soonest active item is due (an occurrence under lease: when it expires).

        Two index reads: the first item by ``next_run_at`` whose occurrence is not leased,
        and the soonest lease held on an item's next occurrence (few are held at a time).
        """
        lease = job_runs.c.leased_until
        free = (
            select(scheduled.c.next_run_at.label("at"))
            .select_from(_with_lease())
            .where(scheduled.c.status == "active", scheduled.c.next_run_at.is_not(None),
                   lease.is_(None))
            .order_by(scheduled.c.next_run_at)
            .limit(1)
            .subquery()
        )
        held = (
            select(func.min(lease).label("at"))
            .select_from(job_runs.join(scheduled, _leases_next()))
            .where(scheduled.c.status == "active")
        )
        both = union_all(select(free.c.at), held).subquery()
        async with self.connect() as conn:
            return (await conn.execute(select(func.min(both.c.at)))).scalar()

    async def scheduled_item(self, item_id: int) -> ScheduledRow | None:
        """One scheduled item by id."""
        async with self.connect() as conn:
            row = (await conn.execute(select(scheduled).where(scheduled.c.id == item_id))).first()
            return _scheduled_row(row) if row else None

    async def schedule_update(self, item_id: int, **values: Any) -> None:
        """Change a scheduled item."""
        async with self.begin() as conn:
            await conn.execute(update(scheduled).where(scheduled.c.id == item_id).values(**values))

    async def schedule_cancel(self, key: str) -> bool:
        """Cancel the item with ``key``; True if there was one."""
        async with self.begin() as conn:
            result = await conn.execute(
                update(scheduled)
                .where(scheduled.c.key == key, scheduled.c.status == "active")
                .values(status="cancelled", next_run_at=None)
            )
            return bool(result.rowcount)

    async def claim_occurrences(
        self,
        claims: Sequence[tuple[int, datetime]],
        now: datetime,
        lease_until: datetime,
        token: str,
    ) -> list[bool]:
        """Lease occurrences (item, occurrence) until ``lease_until``, in one transaction.

        An occurrence is claimed when nobody recorded it yet, or when the lease another
        claim holds on it ran out (that process died mid-firing): it is then marked
        ``running`` under ``token``. Each answer is False where the occurrence is recorded
        as done or is leased by another claim that still holds (and, for a lease taken
        over, where it is no longer its item's next one): it must not fire now. Nothing
        moves on here: :meth:`record_occurrences` does, once the job ran.
        """
        if not claims:
            return []
        async with self.begin() as conn:
            # a write first: on SQLite the write lock is taken before anything is read
            inserted = await conn.execute(
                self.insert(job_runs).on_conflict_do_nothing()
                .returning(job_runs.c.item, job_runs.c.occurrence),
                [{"item": i, "occurrence": o, "fired_at": now, "outcome": "running",
                  "leased_until": lease_until, "claim": token} for i, o in claims],
            )
            ours = {(r.item, r.occurrence) for r in inserted}
            taken = [(i, o) for i, o in claims if (i, o) not in ours]
            if taken:  # recorded, leased by another claim, or a lease that ran out
                await conn.execute(
                    update(job_runs)
                    .where(
                        job_runs.c.item == bindparam("b_item"),
                        job_runs.c.occurrence == bindparam("b_occ"),
                        job_runs.c.leased_until <= now,
                    )
                    .values(leased_until=lease_until, claim=token, fired_at=now),
                    [{"b_item": i, "b_occ": o} for i, o in taken],
                )
                ours |= {
                    (r.item, r.occurrence)
                    for r in await conn.execute(
                        select(job_runs.c.item, job_runs.c.occurrence)
                        .join(scheduled, _leases_next())
                        .where(
                            job_runs.c.leased_until.is_not(None),
                            job_runs.c.claim == token,
                            scheduled.c.status == "active",
                            job_runs.c.item.in_([i for i, _ in taken]),
                        )
                    )
                }
        return [(i, o) in ours for i, o in claims]

    async def renew_leases(self, token: str, lease_until: datetime) -> int:
        """Extend every lease ``token`` still holds; returns how many."""
        async with self.begin() as conn:
            result = await conn.execute(
                update(job_runs)
                .where(job_runs.c.leased_until.is_not(None), job_runs.c.claim == token)
                .values(leased_until=lease_until)
            )
            return int(result.rowcount or 0)

    async def release_leases(self, token: str, claims: Sequence[tuple[int, datetime]]) -> None:
        """Give up claimed occurrences that were not started: claimable again at once."""
        if not claims:
            return
        async with self.begin() as conn:
            await conn.execute(
                delete(job_runs).where(
                    job_runs.c.item == bindparam("b_item"),
                    job_runs.c.occurrence == bindparam("b_occ"),
                    job_runs.c.leased_until.is_not(None),
                    job_runs.c.claim == token,
                ),
                [{"b_item": i, "b_occ": o} for i, o in claims],
            )

    async def record_occurrences(
        self, done: Sequence[tuple[int, datetime, str, datetime | None]], now: datetime
    ) -> None:
        """Record claimed occurrences as done and move their items on, in one transaction.

        Each is (item, occurrence, outcome, next run).
        An item that was cancelled or rescheduled meanwhile keeps what it was given.
        """
        if not done:
            return
        async with self.begin() as conn:
            await conn.execute(
                update(job_runs)
                .where(
                    job_runs.c.item == bindparam("b_item"),
                    job_runs.c.occurrence == bindparam("b_occ"),
                    job_runs.c.leased_until.is_not(None),
                )
                .values(outcome=bindparam("b_out"), fired_at=now, leased_until=None,
                        claim=None),
                [{"b_item": i, "b_occ": o, "b_out": out} for i, o, out, _ in done],
            )
            for fired in (True, False):
                rows = [
                    {"b_id": i, "b_occ": o, "b_next": nxt,
                     "b_status": "done" if nxt is None else "active"}
                    for i, o, out, nxt in done
                    if (out == "fired") is fired
                ]
                if not rows:
                    continue
                values: dict[str, Any] = {
                    "next_run_at": bindparam("b_next"), "status": bindparam("b_status")
                }
                if fired:
                    values["last_fired_at"] = scheduled.c.next_run_at
                await conn.execute(
                    update(scheduled)
                    .where(
                        scheduled.c.id == bindparam("b_id"),
                        scheduled.c.next_run_at == bindparam("b_occ"),
                        scheduled.c.status == "active",
                    )
                    .values(**values),
                    rows,
                )

    async def job_runs_of(self, item_id: int) -> list[tuple[datetime, str]]:
        """Recorded occurrences of an item."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(job_runs.c.occurrence, job_runs.c.outcome)
                .where(job_runs.c.item == item_id)
                .order_by(job_runs.c.occurrence)
            )
            return [
                (r[0].replace(tzinfo=UTC) if r[0].tzinfo is None else r[0], r[1]) for r in rows
            ]

    # -- rewards ---------------------------------------------------------------------

    async def record_reward(
        self, community: str, member: str, badge: str, role: str | None, at: datetime,
        *, revoke: bool = False,
    ) -> None:
        """Remember (or forget) that a member holds a badge and, with it, maybe a role."""
        async with self.begin() as conn:
            await conn.execute(
                delete(member_rewards).where(
                    member_rewards.c.community == community,
                    member_rewards.c.member == member,
                    member_rewards.c.badge == badge,
                )
            )
            if not revoke:
                await conn.execute(
                    insert(member_rewards).values(
                        community=community, member=member, badge=badge, role=role,
                        granted_at=at,
                    )
                )

    async def rewards_of(self, community: str, member: str) -> list[tuple[str, str | None]]:
        """The badges (and roles that came with them) a member holds."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(member_rewards.c.badge, member_rewards.c.role).where(
                    member_rewards.c.community == community, member_rewards.c.member == member
                )
            )
            return [(r.badge, r.role) for r in rows]

    # -- privacy ---------------------------------------------------------------------

    async def export_member(self, platform: str, member: str) -> dict[str, Any]:
        """What the core tables hold about a member."""
        async with self.connect() as conn:
            rows = await conn.execute(
                select(members).where(
                    members.c.member == member, members.c.community.startswith(f"{platform}:")
                )
            )
            rewards = await conn.execute(
                select(member_rewards).where(
                    member_rewards.c.member == member,
                    member_rewards.c.community.startswith(f"{platform}:"),
                )
            )
            badges = [
                {k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in r._mapping.items()}
                for r in rewards
            ]
            return {
                "rewards": badges,
                "memberships": [
                    {
                        k: (v.isoformat() if isinstance(v, datetime) else v)
                        for k, v in r._mapping.items()
                    }
                    for r in rows
                ]
            }

    async def forget_member(self, platform: str, member: str) -> None:
        """Erase a member from the core tables."""
        prefix = f"{platform}:"
        async with self.begin() as conn:
            await conn.execute(
                delete(members).where(
                    members.c.member == member, members.c.community.startswith(prefix)
                )
            )
            # The outbox through its member index only (never a scan of every action).
            named = select(outbox_subjects.c.outbox_id).where(outbox_subjects.c.member == member)
            mine = outbox.c.community.startswith(prefix) & outbox.c.id.in_(named)
            theirs = outbox.c.member == member, outbox.c.community.startswith(prefix)
            gone = list((await conn.execute(select(outbox.c.id).where(*theirs))).scalars())
            for start in range(0, len(gone), 500):
                chunk = gone[start : start + 500]
                await conn.execute(
                    delete(outbox_subjects).where(outbox_subjects.c.outbox_id.in_(chunk))
                )
                await conn.execute(delete(outbox).where(outbox.c.id.in_(chunk)))
            await conn.execute(
                delete(scheduled).where(
                    scheduled.c.member == member, scheduled.c.community.startswith(prefix)
                )
            )
            await conn.execute(
                delete(member_rewards).where(
                    member_rewards.c.member == member,
                    member_rewards.c.community.startswith(prefix),
                )
            )
            await conn.execute(
                delete(settings).where(
                    settings.c.scope == f"member:{member}", settings.c.community.startswith(prefix)
                )
            )
            # Messages that named the member (greetings, mentions, buttons, names): keep the
            # row (its platform message id serves later edits), drop what it said. Held posts
            # stay whole: they must still go out when the community resumes.
            await conn.execute(
                update(outbox)
                .where(mine, outbox.c.status != "held")
                .values(action={"redacted": True}, error=None, reply=None)
            )
            # The index forgets them too, except where a held post (or another platform's
            # member with the same id) still names them.
            kept = (
                select(outbox.c.id)
                .where(
                    outbox.c.id == outbox_subjects.c.outbox_id,
                    or_(outbox.c.status == "held", ~outbox.c.community.startswith(prefix)),
                )
                .exists()
            )
            await conn.execute(
                delete(outbox_subjects).where(outbox_subjects.c.member == member, ~kept)
            )
            # Key-value rows keyed by the member's id (adapters' and plugins' small records),
            # matched as a whole ":"-separated part of the key, never as a substring.
            await conn.execute(
                delete(kv).where(
                    or_(
                        kv.c.key == member,
                        kv.c.key.startswith(f"{member}:", autoescape=True),
                        kv.c.key.endswith(f":{member}", autoescape=True),
                        kv.c.key.contains(f":{member}:", autoescape=True),
                    )
                )
            )
            # The member's private chat with the bot is a community of its own.
            await conn.execute(
                delete(communities).where(
                    communities.c.key.in_([f"{platform}:{member}", f"{platform}:dm:{member}"])
                )
            )


def _count_of(statuses: tuple[str, ...]) -> Any:
    """How many of the selected outbox rows are in one of ``statuses`` (0 when none)."""
    return func.coalesce(func.sum(case((outbox.c.status.in_(statuses), 1), else_=0)), 0)


async def _group_waits(conn: AsyncConnection, group: str) -> bool:
    """Whether a group of DMs still has an action pending or held (read through its index)."""
    found = await conn.execute(
        select(outbox.c.id)
        .where(outbox.c.fallback_group == group, outbox.c.status.in_(("pending", "held")))
        .limit(1)
    )
    return found.first() is not None


async def _insert_outbox(conn: AsyncConnection, rows: Sequence[NewOutboxRow]) -> list[int]:
    """Insert actions and their subjects in a few statements; their ids in order."""
    values = [
        {
            "community": r.community,
            "platform": r.platform,
            "action": r.action,
            "direct": r.direct,
            "status": r.status,
            "member": r.member,
            "attempts": 0,
            "not_before": r.now,
            "created_at": r.now,
            "reply": r.reply,
            "fallback_group": r.group,
        }
        for r in rows
    ]
    if len(values) == 1:
        key = (await conn.execute(insert(outbox).values(**values[0]))).inserted_primary_key
        assert key is not None
        ids = [int(key[0])]
    elif conn.dialect.name == "sqlite":
        # SQLAlchemy orders RETURNING rows on SQLite only by inserting one row at a time.
        # One multi-row INSERT assigns rowids in VALUES order (each is the largest + 1 and
        # the statement holds the write lock), so the sorted ids are in the rows' order.
        returned = await conn.execute(insert(outbox).returning(outbox.c.id), values)
        ids = sorted(int(i) for i in returned.scalars())
    else:
        returning = insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True)
        ids = [int(i) for i in (await conn.execute(returning, values)).scalars()]
    assert len(ids) == len(rows)
    named: list[dict[str, Any]] = [
        {"outbox_id": outbox_id, "member": m}
        for outbox_id, r in zip(ids, rows, strict=True)
        for m in sorted(set(r.subjects))
    ]
    if named:
        # SQLite may reuse the id of a deleted last row: drop any index rows left
        reused = sorted({n["outbox_id"] for n in named})
        for start in range(0, len(reused), 500):
            await conn.execute(
                delete(outbox_subjects).where(
                    outbox_subjects.c.outbox_id.in_(reused[start : start + 500])
                )
            )
        await conn.execute(insert(outbox_subjects), named)
    return ids


async def _change_outbox(
    conn: AsyncConnection, changes: Sequence[tuple[int, dict[str, Any]]]
) -> None:
    """Apply changes to stored actions: one executemany per set of changed columns."""
    merged: dict[int, dict[str, Any]] = {}
    for outbox_id, values in changes:
        merged.setdefault(outbox_id, {}).update(values)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for outbox_id, values in merged.items():
        if values:
            groups.setdefault(tuple(sorted(values)), []).append({**values, "b_id": outbox_id})
    statement = update(outbox).where(outbox.c.id == bindparam("b_id"))
    for params in groups.values():
        await conn.execute(statement, params)


def _insert_ignore(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT that skips rows whose key exists, on SQLite and PostgreSQL alike."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def _leases_next() -> Any:
    """A job run that is its item's next occurrence, still running (a lease is held)."""
    return and_(
        job_runs.c.item == scheduled.c.id,
        job_runs.c.occurrence == scheduled.c.next_run_at,
        job_runs.c.leased_until.is_not(None),
    )


def _with_lease() -> Any:
    """Scheduled items beside the lease held on their next occurrence, if one is."""
    return scheduled.outerjoin(job_runs, _leases_next())


def _due_at() -> Any:
    """When an item is due: its next occurrence, or when the lease held on it runs out."""
    lease = job_runs.c.leased_until
    return case((lease > scheduled.c.next_run_at, lease), else_=scheduled.c.next_run_at)


def _scheduled_row(r: Any, leased_until: datetime | None = None) -> ScheduledRow:
    return ScheduledRow(
        r.id,
        r.key,
        r.plugin,
        r.job,
        r.community,
        r.data,
        r.next_run_at,
        r.rule,
        r.timezone,
        r.status,
        r.last_fired_at,
        leased_until,
    )


def _quick_check(path: Path, limit: int) -> list[str]:
    import sqlite3

    # Without a write-ahead log beside it the file alone is the database: "immutable"
    # reads it without creating -wal/-shm files; with one, read-only mode reads both.
    wal = path.with_name(path.name + "-wal")
    flag = "mode=ro" if wal.exists() else "immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{flag}", uri=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = conn.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        conn.close()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: SQLite's page cache per connection, in KiB.
CACHE_KIB = 1024


def _sqlite_file_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    # no checkpoint inside a commit: Database._after_write runs one after it
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    # 1 MiB of page cache per connection (SQLite's default is 2): the pool holds several,
    # and the hot path reads nothing; loads scan tables once
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()



__all__ = [
    "Database",
    "NewOutboxRow",
    "OutboxRow",
    "ScheduledRow",
    "UTCDateTime",
    "event_digest",
    "metadata",
    "outbox_groups",
    "outbox_subjects",
    "plugin_metadata",
]

