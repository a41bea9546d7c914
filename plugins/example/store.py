"""The example plugin's queries and batched writer: the only module with SQL besides tables.

Every statement is dialect-neutral (``db.upsert_statement``/``db.upsert``), so the same
code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from bot import MemberRef, Plugin

from .tables import posts, waves

#: What the message counter adds up: (community key, member id).
PostKey = tuple[str, str]


class ExampleStore:
    """Reads and writes ``example_waves`` and ``example_posts``."""

    def __init__(self, plugin: Plugin) -> None:
        """Use the plugin's database (``plugin.db``)."""
        self.db = plugin.db

    async def add_wave(self, community: str, member: str) -> int:
        """Count one wave and return the member's total, in one transaction."""
        row = {"community": community, "member": member, "count": 1}
        async with self.db.begin() as conn:
            await conn.execute(
                self.db.upsert_statement(waves, ["community", "member"], add=["count"]), row
            )
            count = (
                await conn.execute(
                    select(waves.c.count).where(
                        waves.c.community == community, waves.c.member == member
                    )
                )
            ).scalar_one()
        return int(count)

    async def post_counts(self, community: str) -> dict[str, int]:
        """Messages counted so far per member of a community (loaded when it opens)."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(posts.c.member, posts.c.count.label("n")).where(
                    posts.c.community == community
                )
            )
            return {r.member: int(r.n) for r in rows}

    async def add_posts(self, batch: Mapping[PostKey, int]) -> None:
        """The accumulator's writer: a whole batch of counts in one transaction."""
        await self.db.upsert(
            posts,
            [{"community": c, "member": m, "count": n} for (c, m), n in batch.items()],
            ["community", "member"],
            add=["count"],
        )

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The member's waves and message counts, per community of their platform."""
        prefix = member.platform + ":"
        found: dict[str, Any] = {}
        async with self.db.connect() as conn:
            for name, table in (("waves", waves), ("messages", posts)):
                rows = await conn.execute(
                    select(table.c.community, table.c.count.label("n")).where(
                        table.c.member == member.id, table.c.community.startswith(prefix)
                    )
                )
                found[name] = [{"community": r.community, "count": int(r.n)} for r in rows]
        return found

    async def forget(self, member: MemberRef) -> None:
        """Delete every row naming the member (on their platform), in one transaction."""
        prefix = member.platform + ":"
        async with self.db.begin() as conn:
            for table in (waves, posts):
                await conn.execute(
                    delete(table).where(
                        table.c.member == member.id, table.c.community.startswith(prefix)
                    )
                )
