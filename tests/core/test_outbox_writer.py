"""The outbox's one writer: many submits share a commit, nothing goes out before it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from bot.core import storage
from bot.core.actions import Action, SendMessage
from bot.core.messages import Content
from bot.core.platform import Delivered, Progress
from bot.core.ratelimit import RateProfile
from bot.core.refs import ChannelRef, MemberRef
from tests.core.test_outbox import COMMUNITY, FakePlatform, message, started

SUBMITS = 200


class CheckingPlatform(FakePlatform):
    """Before posting, looks for the action's row through a connection of its own."""

    def __init__(self, path: Path) -> None:
        super().__init__(RateProfile("fake", (), 16))
        self.path = path
        # another engine on the same database: it sees committed rows only
        self.other = storage.Database(f"sqlite+aiosqlite:///{path}")
        self.unstored: list[str] = []

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        assert progress is not None and progress.key.startswith("mj")
        outbox_id = int(progress.key[2:])
        if self.other.is_sqlite:  # at once: the deliveries' timing is what the test counts
            with sqlite3.connect(self.path) as raw:
                found = raw.execute("SELECT 1 FROM core_outbox WHERE id = ?", (outbox_id,))
                stored = found.fetchone() is not None
        else:
            async with self.other.connect() as conn:
                stored = (await conn.execute(select(storage.outbox.c.id)
                                             .where(storage.outbox.c.id == outbox_id))).first()
        if not stored:
            assert isinstance(action, SendMessage)
            self.unstored.append(str(action.content.text))
        return await super().deliver(action, reply_handle)

    async def stop(self) -> None:
        await self.other.close()


def count_transactions(app: Any) -> dict[str, int]:
    seen = {"begun": 0}

    def begun(_conn: Any) -> None:
        seen["begun"] += 1

    event.listen(app.db.engine.sync_engine, "begin", begun)
    return seen


async def test_concurrent_submits_share_few_transactions_and_wait_for_their_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.db"
    platform = CheckingPlatform(path)
    app = await started(platform, f"sqlite+aiosqlite:///{path}")
    seen = count_transactions(app)
    channels = [ChannelRef("fake", f"c{i % 20}") for i in range(SUBMITS)]
    ids = await asyncio.gather(
        *(app.outbox.submit(message(f"note {i}", channels[i])) for i in range(SUBMITS))
    )
    stored = seen["begun"]
    await app.outbox.idle(30)
    assert len(set(ids)) == SUBMITS
    assert sorted(platform.delivered) == sorted(f"note {i}" for i in range(SUBMITS))
    assert platform.unstored == []  # every row was committed before its delivery began
    # one transaction per submit (and one more per delivery) before the writer; a handful now
    assert stored <= 5, stored
    # (on PostgreSQL the check's own read delays each delivery: their updates batch less)
    assert seen["begun"] <= SUBMITS // (4 if platform.other.is_sqlite else 3), seen["begun"]
    assert await app.db.outbox_counts() == {"sent": SUBMITS}
    await app.stop()


async def test_each_submit_gets_the_id_of_its_own_row(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    platform = CheckingPlatform(path)
    app = await started(platform, f"sqlite+aiosqlite:///{path}")
    sara = MemberRef("fake", "u1", "Sara")
    actions = [
        message(f"text {i}")
        if i % 3
        else SendMessage(community=COMMUNITY, member=sara, content=Content.of(f"text {i}"))
        for i in range(30)
    ]
    ids = await asyncio.gather(
        *(app.outbox.submit(a, direct=i % 2 == 0) for i, a in enumerate(actions))
    )
    async with platform.other.connect() as conn:
        rows = {row.id: row.action for row in await conn.execute(
            select(storage.outbox.c.id, storage.outbox.c.action))}
        named = await conn.execute(select(storage.outbox_subjects.c.outbox_id)
                                   .where(storage.outbox_subjects.c.member == "u1"))
        naming_sara = set(named.scalars())
    for i, outbox_id in enumerate(ids):
        assert f'"text {i}"' in json.dumps(rows[outbox_id])
    assert naming_sara == {ids[i] for i in range(30) if i % 3 == 0}
    await app.outbox.idle(30)
    await app.stop()


async def test_a_failing_write_fails_only_its_own_submit(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    platform = CheckingPlatform(path)
    app = await started(platform, f"sqlite+aiosqlite:///{path}")
    real = app.db.outbox_write

    async def refuse_bad(added: Any, changes: Any) -> list[int]:
        if any("bad" in str(row.action) for row in added):
            raise OSError("disk full")
        return await real(added, changes)

    app.db.outbox_write = refuse_bad
    results = await asyncio.gather(
        *(app.outbox.submit(message(t)) for t in ("good 1", "bad", "good 2")),
        return_exceptions=True,
    )
    assert isinstance(results[1], OSError)
    assert all(isinstance(r, int) for r in (results[0], results[2]))
    await app.outbox.idle(30)
    assert sorted(platform.delivered) == ["good 1", "good 2"]
    await app.stop()
