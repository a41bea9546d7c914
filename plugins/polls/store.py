"""Every query of the polls plugin: polls, ballots, activity, reminders, templates.

The only module besides ``tables.py`` that knows SQL. Statements are dialect-neutral
(``db.insert`` gives the INSERT of the database in use). One poll's ballots are written
under its own lock, and every vote transaction starts with a write, so SQLite never has to
upgrade a read snapshot (which fails under concurrent writers).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import String, delete, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plugins.polls.rules import Tally, voter_key
from plugins.polls.tables import activity, ballots, credited, polls, reminders, templates

#: What a press on an option did.
VoteResult = Literal["counted", "changed", "already", "full", "unpicked"]
#: Activity rows read per round trip when a community opens.
LOAD_CHUNK = 2_000


class PollStore:
    """Queries and batched writes over the plugin's tables."""

    def __init__(self, db: Any) -> None:
        """Use the plugin's database (``Plugin.db``)."""
        self.db = db
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, poll_id: int) -> asyncio.Lock:
        """The lock that orders one poll's ballot writes."""
        found = self._locks.get(poll_id)
        if found is None:
            found = self._locks[poll_id] = asyncio.Lock()
        return found

    def release(self, poll_id: int) -> None:
        """Drop a closed poll's lock."""
        self._locks.pop(poll_id, None)

    # -- polls ------------------------------------------------------------------------------

    async def poll(self, poll_id: int, community: str | None = None) -> Any:
        """A poll's row (in ``community`` when given), or None."""
        query = select(polls).where(polls.c.id == poll_id)
        if community is not None:
            query = query.where(polls.c.community == community)
        async with self.db.connect() as conn:
            return (await conn.execute(query)).first()

    async def create(self, values: dict[str, Any]) -> int | None:
        """Insert a poll; None when its (template, occurrence) made a poll already."""
        async with self.db.begin() as conn:
            if values.get("template") is None:
                inserted = await conn.execute(polls.insert().values(**values))
                return int(inserted.inserted_primary_key[0])
            made = await conn.execute(
                self.db.insert(polls).values(**values).on_conflict_do_nothing(
                    index_elements=[polls.c.template, polls.c.occurrence])
            )
            if not made.rowcount:
                return None
            return int((await conn.execute(select(polls.c.id).where(
                polls.c.template == values["template"],
                polls.c.occurrence == values["occurrence"]))).scalar_one())

    async def set_message(self, poll_id: int, outbox_id: int) -> None:
        """Remember the outbox id of the poll's message."""
        async with self.db.begin() as conn:
            await conn.execute(update(polls).where(polls.c.id == poll_id)
                               .values(message=outbox_id))

    async def native_poll(
        self, community: str, platform_id: str,
        delivered: Callable[[int], Awaitable[str | None]],
    ) -> Any:
        """The native poll a platform poll id belongs to (cached once delivered).

        ``delivered`` gives the platform id an outbox action was delivered under.
        """
        query = select(polls).where(polls.c.community == community)
        async with self.db.connect() as conn:
            found = (await conn.execute(query.where(polls.c.native_id == platform_id))).first()
            if found is not None or not platform_id:
                return found
            pending = (await conn.execute(query.where(
                polls.c.native_id == "", polls.c.closed_at.is_(None),
                polls.c.message.is_not(None)))).all()
        for row in pending:
            platform = await delivered(row.message)
            if platform is None:
                continue
            async with self.db.begin() as conn:
                await conn.execute(update(polls).where(polls.c.id == row.id)
                                   .values(native_id=platform))
            if platform == platform_id:
                return await self.poll(row.id)
        return None

    async def claim_close(
        self, poll_id: int, community: str, now: datetime
    ) -> tuple[Any, Tally, set[str]] | None:
        """Close a poll once: its row (salt still in it), tally and voter keys; else None.

        The salt is erased in the same transaction, so afterwards no anonymous ballot can be
        tied to anyone. The ballots are read after it, under the poll's lock (no vote of it
        lands in between), so the write transaction stays short however many voted.
        """
        async with self.lock(poll_id):
            async with self.db.begin() as conn:
                claimed = (await conn.execute(
                    update(polls).where(polls.c.id == poll_id, polls.c.community == community,
                                        polls.c.closed_at.is_(None)).values(closed_at=now)
                )).rowcount
                if not claimed:
                    return None
                row = (await conn.execute(select(polls).where(polls.c.id == poll_id))).one()
                await conn.execute(update(polls).where(polls.c.id == poll_id).values(salt=None))
            async with self.db.connect() as conn:
                tally = await self._tally(conn, row)
                keys = await self._keys(conn, poll_id)
        return row, tally, keys

    # -- ballots ----------------------------------------------------------------------------

    async def tally(self, row: Any) -> Tally:
        """The poll's counts now."""
        async with self.db.connect() as conn:
            return await self._tally(conn, row)

    async def voter_keys(self, poll_id: int) -> set[str]:
        """The keys (member ids or HMACs) of everyone who voted."""
        async with self.db.connect() as conn:
            return await self._keys(conn, poll_id)

    async def _tally(self, conn: AsyncConnection, row: Any) -> Tally:
        counts = [0] * len(row.options)
        result = await conn.execute(
            select(ballots.c.option, func.count()).where(ballots.c.poll == row.id)
            .group_by(ballots.c.option)
        )
        for option, count in result:
            if 0 <= option < len(counts):
                counts[option] = int(count)
        voters = (await conn.execute(
            select(func.count(func.distinct(ballots.c.voter))).where(ballots.c.poll == row.id)
        )).scalar_one()
        return Tally(counts, int(voters))

    async def _keys(self, conn: AsyncConnection, poll_id: int) -> set[str]:
        return {v for (v,) in await conn.execute(
            select(ballots.c.voter).where(ballots.c.poll == poll_id).distinct())}

    async def vote(self, row: Any, key: str, option: int, at: datetime) -> VoteResult:
        """Record a press on an option; what it did."""
        async with self.lock(row.id), self.db.begin() as conn:
            dropped = 0
            if row.max_choices == 1:
                dropped = (await conn.execute(
                    delete(ballots).where(ballots.c.poll == row.id, ballots.c.voter == key,
                                          ballots.c.option != option)
                )).rowcount
            added = (await conn.execute(
                self.db.insert(ballots).values(poll=row.id, voter=key, option=option, at=at)
                .on_conflict_do_nothing()
            )).rowcount
            if dropped:
                return "changed"
            if not added and row.max_choices > 1:
                # a second press on a chosen option of a multiple-choice poll un-picks it
                await conn.execute(delete(ballots).where(
                    ballots.c.poll == row.id, ballots.c.voter == key, ballots.c.option == option))
                return "unpicked"
            if not added:
                return "already"
            if row.max_choices > 1:
                mine = (await conn.execute(
                    select(func.count()).where(ballots.c.poll == row.id, ballots.c.voter == key)
                )).scalar_one()
                if mine > row.max_choices:
                    await conn.execute(delete(ballots).where(
                        ballots.c.poll == row.id, ballots.c.voter == key,
                        ballots.c.option == option))
                    return "full"
            return "counted"

    async def withdraw(self, poll_id: int, key: str) -> bool:
        """Delete a voter's ballots; whether there were any."""
        async with self.lock(poll_id), self.db.begin() as conn:
            gone = (await conn.execute(
                delete(ballots).where(ballots.c.poll == poll_id, ballots.c.voter == key)
            )).rowcount
        return bool(gone)

    async def replace_choice(
        self, poll_id: int, key: str, chosen: Sequence[int], at: datetime
    ) -> None:
        """Make ``chosen`` the voter's whole choice (empty: withdrawn)."""
        async with self.lock(poll_id), self.db.begin() as conn:
            await conn.execute(delete(ballots).where(
                ballots.c.poll == poll_id, ballots.c.voter == key,
                ballots.c.option.not_in(list(chosen))))
            if chosen:
                await conn.execute(
                    self.db.insert(ballots).on_conflict_do_nothing(),
                    [{"poll": poll_id, "voter": key, "option": o, "at": at} for o in chosen],
                )

    async def credit(self, poll_id: int, key: str) -> bool:
        """Note that a voter earned a poll's vote XP; False if they had already."""
        async with self.db.begin() as conn:
            added = (await conn.execute(
                self.db.insert(credited).values(poll=poll_id, voter=key).on_conflict_do_nothing()
            )).rowcount
        return bool(added)

    # -- activity ---------------------------------------------------------------------------

    async def activity(
        self, community: str
    ) -> AsyncGenerator[list[tuple[str, datetime | None, datetime | None, int]], None]:
        """Every member's activity in a community: (member, first join, latest post, messages).

        Read when the community opens (100k members: 200k times), :data:`LOAD_CHUNK` rows
        at a time (so the rows and their datetimes are not all alive at once). The times
        are read as the stored text and parsed here: the column type's conversion costs ~4
        times as much, on the path every message waits for at a cold start.
        """
        async with self.db.connect() as conn, conn.stream(
            select(activity.c.member, type_coerce(activity.c.joined_at, String),
                   type_coerce(activity.c.last_seen, String), activity.c.messages)
            .where(activity.c.community == community)
        ) as result:
            async for rows in result.partitions(LOAD_CHUNK):
                yield [(member, _utc(joined), _utc(last), messages)
                       for member, joined, last, messages in rows]

    async def write_activity(self, rows: Sequence[dict[str, Any]]) -> None:
        """Merge a batch of activity into the table: one transaction, one executemany.

        ``messages`` is added; the first join and the latest post are kept.
        """
        if not rows:
            return
        stmt = self.db.insert(activity)
        stmt = stmt.on_conflict_do_update(
            index_elements=[activity.c.community, activity.c.member],
            set_={
                "messages": activity.c.messages + stmt.excluded.messages,
                "joined_at": func.coalesce(activity.c.joined_at, stmt.excluded.joined_at),
                "last_seen": func.coalesce(stmt.excluded.last_seen, activity.c.last_seen),
            },
        )
        async with self.db.begin() as conn:
            # in key order: each row lands beside the one before in the index (a batch of
            # thousands touches each page once instead of thrashing the page cache)
            await conn.execute(stmt, sorted(rows, key=itemgetter("community", "member")))

    # -- reminders --------------------------------------------------------------------------

    async def set_reminder(self, community: str, member: str, name: str, on: bool) -> bool:
        """Opt a member in or out of reminders; False when they already were so."""
        async with self.db.begin() as conn:
            removed = await conn.execute(delete(reminders).where(
                reminders.c.community == community, reminders.c.member == member))
            if on:
                await conn.execute(reminders.insert().values(
                    community=community, member=member, name=name))
        return bool(removed.rowcount) != on

    async def reminded(self, community: str) -> list[tuple[str, str]]:
        """(member, name) of everyone who opted in, in a stable order."""
        async with self.db.connect() as conn:
            return [(m, n) for m, n in await conn.execute(
                select(reminders.c.member, reminders.c.name)
                .where(reminders.c.community == community).order_by(reminders.c.member))]

    # -- templates --------------------------------------------------------------------------

    async def add_template(self, values: dict[str, Any], limit: int) -> int | str:
        """Insert a template: its id, or "taken" (the name is used) or "full" (``limit``)."""
        community = values["community"]
        async with self.db.begin() as conn:
            taken = (await conn.execute(select(templates.c.id).where(
                templates.c.community == community, templates.c.name == values["name"]))).first()
            if taken is not None:
                return "taken"
            count = (await conn.execute(select(func.count()).where(
                templates.c.community == community))).scalar_one()
            if count >= limit:
                return "full"
            inserted = await conn.execute(templates.insert().values(**values))
            return int(inserted.inserted_primary_key[0])

    async def template(self, template_id: int, community: str) -> Any:
        """A template by id, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(templates).where(
                templates.c.id == template_id, templates.c.community == community))).first()

    async def template_named(self, community: str, name: str) -> Any:
        """A template by name, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(templates).where(
                templates.c.community == community, templates.c.name == name))).first()

    async def templates(self, community: str) -> list[Any]:
        """The community's templates by name."""
        async with self.db.connect() as conn:
            return list((await conn.execute(select(templates).where(
                templates.c.community == community).order_by(templates.c.name))).all())

    async def delete_template(self, template_id: int) -> None:
        """Delete a template."""
        async with self.db.begin() as conn:
            await conn.execute(delete(templates).where(templates.c.id == template_id))

    # -- privacy ----------------------------------------------------------------------------

    async def export(self, member: str, platform: str) -> dict[str, Any]:
        """Public votes, activity, reminder choice, polls and templates created.

        Anonymous votes are never exported.
        """
        prefix = platform + ":"
        async with self.db.connect() as conn:
            votes = (await conn.execute(
                select(polls.c.id, polls.c.question, polls.c.options, ballots.c.option)
                .join(ballots, ballots.c.poll == polls.c.id)
                .where(ballots.c.voter == member, polls.c.anonymous.is_(False),
                       polls.c.community.startswith(prefix))
            )).all()
            seen = (await conn.execute(select(activity).where(
                activity.c.member == member, activity.c.community.startswith(prefix)))).all()
            reminded = (await conn.execute(select(reminders.c.community).where(
                reminders.c.member == member, reminders.c.community.startswith(prefix)))).all()
            created = (await conn.execute(select(polls.c.id, polls.c.question).where(
                polls.c.creator == member, polls.c.community.startswith(prefix)))).all()
            made = (await conn.execute(
                select(templates.c.community, templates.c.name, templates.c.question)
                .where(templates.c.creator == member, templates.c.community.startswith(prefix))
            )).all()
        return {
            "votes": [{"poll": v.id, "question": v.question, "option": v.options[v.option]}
                      for v in votes],
            "activity": [{"community": a.community, "messages": a.messages,
                          "joined_at": a.joined_at.isoformat() if a.joined_at else None,
                          "last_seen": a.last_seen.isoformat() if a.last_seen else None}
                         for a in seen],
            "reminders": [r.community for r in reminded],
            "created": [{"poll": c.id, "question": c.question} for c in created],
            "templates": [{"community": t.community, "template": t.name, "question": t.question}
                          for t in made],
        }

    async def forget(self, member: str, platform: str) -> None:
        """Erase the member; their anonymous ballots stay counted under a random key."""
        prefix = platform + ":"
        async with self.db.begin() as conn:
            mine = (await conn.execute(
                select(polls.c.id, polls.c.salt, polls.c.anonymous)
                .where(polls.c.community.startswith(prefix))
            )).all()
            for poll_id, salt, anonymous in mine:
                # the vote XP's record goes with the member (their ballots may stay counted)
                await conn.execute(delete(credited).where(
                    credited.c.poll == poll_id, credited.c.voter == voter_key(salt, member)))
                if not anonymous:
                    await conn.execute(delete(ballots).where(ballots.c.poll == poll_id,
                                                             ballots.c.voter == member))
                elif salt is not None:
                    await conn.execute(
                        update(ballots)
                        .where(ballots.c.poll == poll_id,
                               ballots.c.voter == voter_key(salt, member))
                        .values(voter=secrets.token_hex(32))
                    )
            await conn.execute(update(polls).where(polls.c.creator == member,
                                                   polls.c.community.startswith(prefix))
                               .values(creator=None))
            # Templates belong to the community: they stay, without their creator.
            await conn.execute(update(templates).where(templates.c.creator == member,
                                                       templates.c.community.startswith(prefix))
                               .values(creator=None))
            tables: Iterable[Any] = (activity, reminders)
            for table in tables:
                await conn.execute(delete(table).where(table.c.member == member,
                                                       table.c.community.startswith(prefix)))


def _utc(value: str | datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime, from text (SQLite) or a datetime (others)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
