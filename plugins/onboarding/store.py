"""Every query of the onboarding plugin (the only module with SQL besides ``tables.py``).

Each method is one short transaction; the database serializes writers where it must
(SQLite), so the plugin keeps no lock of its own. Messages never come here one by one:
their progress is written in batches by :meth:`Store.write_progress`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from bot import CommunityRef, MemberRef
from plugins.onboarding.progress import Key, Progress
from plugins.onboarding.tables import interests as interests_table
from plugins.onboarding.tables import members

JoinOutcome = Literal["new", "back", "duplicate"]

_c = members.c
_PROGRESS = (_c.member, _c.joined_at, _c.messages, _c.first_message_at, _c.second_message_at,
             _c.newcomer)
# One executemany UPDATE for a batch of progress (bind names must differ from columns).
_WRITE_PROGRESS = (
    update(members)
    .where(_c.community == bindparam("k_community"), _c.member == bindparam("k_member"))
    .values(
        messages=bindparam("v_messages"),
        first_message_at=bindparam("v_first", type_=_c.first_message_at.type),
        second_message_at=bindparam("v_second", type_=_c.second_message_at.type),
    )
)


def _progress(row: Any) -> Progress:
    return Progress(joined_at=row.joined_at, messages=row.messages,
                    first_message_at=row.first_message_at,
                    second_message_at=row.second_message_at, newcomer=row.newcomer)


def _here(community: str, member: str) -> Any:
    return and_(_c.community == community, _c.member == member)


class Store:
    """The plugin's tables, read and written for one purpose per method."""

    def __init__(self, db: Any) -> None:
        """Use the plugin's database handle (``Plugin.db``)."""
        self.db = db

    # -- progress (the hot path's batched writer) -------------------------------------

    async def load_progress(self, community: str) -> dict[str, Progress]:
        """Members still in progress (fewer than two messages, or newcomers) who are here."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(*_PROGRESS).where(
                    _c.community == community, _c.left_at.is_(None),
                    (_c.messages < 2) | _c.newcomer.is_(True),
                )
            )
            return {r.member: _progress(r) for r in rows}

    async def write_progress(self, batch: dict[Key, Progress]) -> None:
        """Store a batch of counters in one transaction (the in-memory values win)."""
        rows = [
            {"k_community": c, "k_member": m, "v_messages": p.messages,
             "v_first": p.first_message_at, "v_second": p.second_message_at}
            for (c, m), p in batch.items()
        ]
        async with self.db.begin() as conn:
            await conn.execute(_WRITE_PROGRESS, rows)

    # -- joins, leaves, greetings -----------------------------------------------------

    async def record_join(
        self, community: str, member: MemberRef, now: datetime, *, greeted: bool
    ) -> tuple[JoinOutcome, Progress | None]:
        """Insert or update the member's row; "new", "back" or "duplicate" (still here).

        Also the member's progress as it now stands (None for a duplicate).
        """
        async with self.db.begin() as conn:
            row = (await conn.execute(
                select(_c.left_at, *_PROGRESS).where(_here(community, member.id))
            )).first()
            if row is None:
                await conn.execute(insert(members).values(
                    community=community, member=member.id, name=member.name,
                    first_joined_at=now, joined_at=now, joined_count=1, greeted=greeted,
                    messages=0, newcomer=True, nudged=False,
                ))
                return "new", Progress(joined_at=now)
            if row.left_at is None:
                return "duplicate", None
            await conn.execute(
                update(members).where(_here(community, member.id))
                .values(joined_at=now, left_at=None, joined_count=_c.joined_count + 1,
                        name=member.name, greeted=greeted)
            )
            progress = _progress(row)
            progress.joined_at = now
            return "back", progress

    async def left(self, community: str, member: str, at: datetime) -> None:
        """Remember a leave (choices stay for a welcome back)."""
        async with self.db.begin() as conn:
            await conn.execute(update(members).where(_here(community, member)).values(left_at=at))

    async def mark_greeted(self, community: str, member: str) -> bool:
        """Mark the member greeted; False when they already were (so greet only once)."""
        async with self.db.begin() as conn:
            changed = await conn.execute(
                update(members).where(_here(community, member), _c.greeted.is_(False))
                .values(greeted=True)
            )
        return bool(changed.rowcount)

    async def take_waiting(self, community: str) -> list[Any]:
        """Members a raid left ungreeted, marked greeted in the same transaction."""
        async with self.db.begin() as conn:
            waiting = (await conn.execute(
                select(_c.member, _c.name)
                .where(_c.community == community, _c.greeted.is_(False), _c.left_at.is_(None))
                .order_by(_c.joined_at, _c.member)
            )).all()
            if waiting:
                await conn.execute(
                    update(members)
                    .where(_c.community == community, _c.member.in_([w.member for w in waiting]))
                    .values(greeted=True)
                )
        return list(waiting)

    # -- the flow ---------------------------------------------------------------------

    async def row(self, community: str, member: str) -> Any:
        """The member's whole row, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(members).where(_here(community, member)))).first()

    async def stamp(self, community: str, member: str, **values: Any) -> None:
        """Set columns of the member's row (a step passed, the picker's message id)."""
        async with self.db.begin() as conn:
            await conn.execute(update(members).where(_here(community, member)).values(**values))

    async def chosen(self, community: str, member: str) -> set[int]:
        """The ids of the interests the member picked."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(interests_table.c.interest).where(
                    interests_table.c.community == community, interests_table.c.member == member
                )
            )
            return {r.interest for r in rows}

    async def toggle(self, community: str, member: str, interest: int) -> None:
        """Pick an interest, or unpick it when it was picked."""
        t = interests_table.c
        async with self.db.begin() as conn:
            removed = await conn.execute(delete(interests_table).where(
                t.community == community, t.member == member, t.interest == interest))
            if not removed.rowcount:
                await conn.execute(insert(interests_table).values(
                    community=community, member=member, interest=interest))

    async def complete(self, community: str, member: str, now: datetime) -> bool:
        """Mark the flow finished; False when it already was."""
        async with self.db.begin() as conn:
            changed = await conn.execute(
                update(members).where(_here(community, member), _c.completed_at.is_(None))
                .values(completed_at=now)
            )
        return bool(changed.rowcount)

    # -- the introduction -------------------------------------------------------------

    async def intro_row(
        self, community: CommunityRef, member: MemberRef, *, pending: bool, private: bool
    ) -> Any:
        """The member's row an introduction belongs to, or None.

        Its own row in ``community`` when there is one; from a private chat that is a
        community of its own (Telegram), the row on the same platform whose prompt went out
        last. ``pending``: only rows still waiting for the answer to a prompt.
        """
        conditions = [_c.member == member.id, _c.left_at.is_(None), _c.intro.is_(None)]
        if pending:
            conditions += [_c.intro_asked_at.is_not(None), _c.intro_at.is_(None)]
        async with self.db.connect() as conn:
            own = (await conn.execute(
                select(members).where(_c.community == community.key, *conditions)
            )).first()
            if own is not None or not private:
                return own
            return (await conn.execute(
                select(members)
                .where(_c.community.startswith(community.platform + ":"), *conditions)
                .order_by(_c.intro_asked_at.desc().nulls_last(), _c.joined_at.desc())
                .limit(1)
            )).first()

    async def store_intro(self, community: str, member: str, text: str, now: datetime) -> bool:
        """Keep the introduction and close the step; False when one was posted already."""
        async with self.db.begin() as conn:
            changed = await conn.execute(
                update(members).where(_here(community, member), _c.intro.is_(None))
                .values(intro=text, intro_at=func.coalesce(_c.intro_at, now))
            )
        return bool(changed.rowcount)

    async def skip_intro(self, community: str, member: str, now: datetime) -> bool:
        """Close the introduction step without one; False when it was closed."""
        async with self.db.begin() as conn:
            changed = await conn.execute(
                update(members).where(_here(community, member), _c.intro_at.is_(None))
                .values(intro_at=now)
            )
        return bool(changed.rowcount)

    # -- nudges and graduation --------------------------------------------------------

    async def nudge_once(self, community: str, member: str) -> bool:
        """Mark the nudge sent if the member is here, silent and not nudged yet."""
        async with self.db.begin() as conn:
            changed = await conn.execute(
                update(members)
                .where(_here(community, member), _c.nudged.is_(False),
                       _c.first_message_at.is_(None), _c.intro.is_(None), _c.left_at.is_(None))
                .values(nudged=True)
            )
        return bool(changed.rowcount)

    async def graduate(self, community: str, member: str, now: datetime) -> bool:
        """Mark a newcomer graduated; False when they were not a newcomer."""
        async with self.db.begin() as conn:
            changed = await conn.execute(
                update(members).where(_here(community, member), _c.newcomer.is_(True))
                .values(newcomer=False, graduated_at=now)
            )
        return bool(changed.rowcount)

    async def due_newcomers(self, community: str, messages: int, cutoff: datetime) -> list[Any]:
        """Newcomers who posted enough and joined before ``cutoff`` (member, name)."""
        async with self.db.connect() as conn:
            return list((await conn.execute(
                select(_c.member, _c.name).where(
                    _c.community == community, _c.newcomer.is_(True), _c.left_at.is_(None),
                    _c.messages >= messages, _c.joined_at <= cutoff,
                ).order_by(_c.member)
            )).all())

    # -- the funnel -------------------------------------------------------------------

    async def funnel(self, community: str, since: datetime, stages: Sequence[str]) -> list[int]:
        """Members who joined since ``since``, then how many passed each of ``stages``."""
        async with self.db.connect() as conn:
            row = (await conn.execute(
                select(func.count(), *(func.count(_c[s]) for s in stages))
                .where(_c.community == community, _c.joined_at >= since)
            )).one()
        return [int(v) for v in row]

    # -- privacy ----------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The member's rows and chosen interest ids, on their platform."""
        prefix = member.platform + ":"
        t = interests_table.c
        async with self.db.connect() as conn:
            rows = (await conn.execute(
                select(members).where(_c.member == member.id, _c.community.startswith(prefix))
            )).all()
            chosen = (await conn.execute(
                select(interests_table).where(t.member == member.id,
                                              t.community.startswith(prefix))
            )).all()
        out = []
        for r in rows:
            data = {k: (v.isoformat() if isinstance(v, datetime) else v)
                    for k, v in r._mapping.items() if k not in ("member", "picker")}
            data["interests"] = [c.interest for c in chosen if c.community == r.community]
            out.append(data)
        return {"communities": out}

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's rows and choices on their platform."""
        prefix = member.platform + ":"
        async with self.db.begin() as conn:
            for table in (members, interests_table):
                await conn.execute(delete(table).where(
                    table.c.member == member.id, table.c.community.startswith(prefix)))
