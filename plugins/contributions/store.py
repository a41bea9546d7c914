"""Every query and write of the contributions plugin (the only module with SQL statements).

Reads happen when a community opens (:meth:`Store.load`) and in commands and jobs; the hot
path only hands rows to batched writers (:meth:`Store.write_xp`, ``write_names``,
``write_tallies`` through accumulators, and :meth:`Store.flush_rows` for kudos rows),
which the kernel flushes together at least every second and at shutdown, one transaction
per writer and flush. Statements are dialect-neutral (``db.insert`` / ``db.upsert``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update

from bot import MemberRef
from plugins.contributions.rules import (
    RECENT_DAYS,
    STREAK_DAYS,
    CommunityState,
    MemberState,
    add_badge,
    level_of_reward,
)
from plugins.contributions.tables import (
    awards,
    badges,
    decay,
    kudos,
    profiles,
    rewards,
    tallies,
    xp_daily,
)

#: Tables that hold a member's rows under ``member`` (kudos is by giver and receiver).
MEMBER_TABLES = (("xp", xp_daily), ("profile", profiles), ("awards", awards),
                 ("badges", badges), ("tallies", tallies), ("rewards", rewards),
                 ("decay", decay))
#: Rows read per round trip when a community opens (:func:`_chunks`).
LOAD_CHUNK = 2_000


class Store:
    """The plugin's storage, on the kernel's database."""

    def __init__(self, db: Any) -> None:
        """Keep the database; rows for the next flush start empty."""
        self.db = db
        self._kudos: list[dict[str, Any]] = []
        #: Held while kudos rows are written: a flush meanwhile (erasing a member's data
        #: flushes, then deletes) waits for them, or they would land after the delete.
        self._writing = asyncio.Lock()

    # -- loading a community ----------------------------------------------------------

    async def load(self, key: str, curve: str, today: int) -> CommunityState:
        """Everything the hot path needs for one community, in one connection.

        Rows are read a chunk at a time (:func:`_chunks`) and every member id is kept
        once: the ledger, tallies and kudos caps reuse the string the member's state is
        keyed by.
        """
        state = CommunityState(key, curve)
        members = state.members
        since = date.fromordinal(today - STREAK_DAYS - 1).isoformat()
        recent = date.fromordinal(today - RECENT_DAYS).isoformat()
        today_text = date.fromordinal(today).isoformat()
        # XP figures repeat a lot (steps of the XP per message), and so do the days of
        # streaks: one int object per value
        numbers: dict[int, int] = {}
        number = numbers.setdefault
        async with self.db.connect() as conn:
            async for rows in _chunks(conn, (
                select(xp_daily.c.member, func.sum(xp_daily.c.xp))
                .where(xp_daily.c.community == key).group_by(xp_daily.c.member)
            )):
                for member, total in rows:
                    total = int(total or 0)
                    members[sys.intern(member)] = MemberState(total=number(total, total))
            ids = {member: member for member in members}

            def canonical(member: str) -> str:
                found = ids.get(member)
                if found is None:
                    found = ids[member] = member
                return found

            def state_of(member: str) -> tuple[str, MemberState]:
                member = canonical(member)
                found = members.get(member)
                if found is None:
                    found = members[member] = MemberState()
                return member, found

            # the recent ledger and the streaks in one pass (streak days are recent days)
            async for rows in _chunks(conn, (
                select(xp_daily.c.member, xp_daily.c.day, xp_daily.c.xp,
                       earned().label("active"))
                .where(xp_daily.c.community == key, xp_daily.c.day >= recent)
                .order_by(xp_daily.c.day)
            )):
                for member, day, xp, active in rows:
                    member, found = state_of(member)
                    xp = int(xp)
                    state.days.setdefault(day, {})[member] = number(xp, xp)
                    if day >= since and active:
                        ordinal = date.fromisoformat(day).toordinal()
                        found.streak = found.streak + 1 if found.last_day == ordinal - 1 else 1
                        found.last_day = number(ordinal, ordinal)
            async for rows in _chunks(conn, (
                select(badges.c.member, badges.c.badge).where(badges.c.community == key)
            )):
                for member, badge in rows:
                    # straight into the shared set: a list per member held until the end
                    # (100k of them) left ~11 MiB of emptied pools among the kept state
                    add_badge(state_of(member)[1], badge)
            async for rows in _chunks(conn, (
                select(profiles.c.member, profiles.c.name, profiles.c.opt_out)
                .where(profiles.c.community == key)
            )):
                for member, name, opt_out in rows:
                    member, found = state_of(member)
                    found.name = name
                    if opt_out:
                        state.opted_out.add(member)
            async for rows in _chunks(conn, (
                select(tallies.c.member, tallies.c.kind, tallies.c.count)
                .where(tallies.c.community == key)
            )):
                for member, kind, count in rows:
                    state.tallies[(canonical(member), kind)] = int(count)
            async for rows in _chunks(conn, (
                select(kudos.c.giver, kudos.c.receiver, kudos.c.day)
                .where(kudos.c.community == key, kudos.c.day >= today_text)
            )):
                for giver, receiver, day in rows:
                    giver, receiver = canonical(giver), canonical(receiver)
                    state.kudos_given[(giver, day)] = state.kudos_given.get((giver, day), 0) + 1
                    pair = (giver, receiver, day)
                    state.kudos_pairs[pair] = state.kudos_pairs.get(pair, 0) + 1
        return state

    # -- batched writers (one transaction per flush) -----------------------------------

    async def write_xp(self, batch: dict[tuple[str, str, str], int]) -> None:
        """Add a batch to the XP ledger: one executemany upsert."""
        await self.db.upsert(
            xp_daily, [{"community": c, "member": m, "day": d, "xp": n}
                       for (c, m, d), n in batch.items()],
            ["community", "member", "day"], add=["xp"])

    async def write_names(self, batch: dict[tuple[str, str, str], int]) -> None:
        """Remember members' latest names."""
        await self.db.upsert(
            profiles, [{"community": c, "member": m, "name": n} for (c, m, n) in batch],
            ["community", "member"], replace=["name"])

    async def write_tallies(self, batch: dict[tuple[str, str, str], int]) -> None:
        """Add to the counts of reported contributions and kudos received."""
        await self.db.upsert(
            tallies, [{"community": c, "member": m, "kind": k, "count": n}
                      for (c, m, k), n in batch.items()],
            ["community", "member", "kind"], add=["count"])

    def add_kudos(self, community: str, giver: str, receiver: str, day: str, at: datetime,
                  reason: str) -> None:
        """Queue a kudos row for the next flush."""
        self._kudos.append({"community": community, "giver": giver, "receiver": receiver,
                            "day": day, "at": at, "reason": reason})

    async def flush_rows(self) -> None:
        """Write queued kudos in one transaction; kept for the next flush on error."""
        async with self._writing:
            if not self._kudos:
                return
            rows, self._kudos = self._kudos, []
            try:
                async with self.db.begin() as conn:
                    await conn.execute(kudos.insert(), rows)
            except BaseException:
                self._kudos[:0] = rows
                raise

    async def record_badge(self, community: str, member: str, badge: str,
                           at: datetime) -> None:
        """Record a badge once (before it is announced, so a restart does not repeat it)."""
        await self.db.insert_ignore(badges, [{"community": community, "member": member,
                                              "badge": badge, "at": at}])

    # -- commands ----------------------------------------------------------------------

    async def record_award(self, community: str, member: str, by: str, points: int,
                           reason: str, at: datetime) -> None:
        """Log an admin's award."""
        async with self.db.begin() as conn:
            await conn.execute(awards.insert().values(
                community=community, member=member, by=by, points=points, reason=reason,
                at=at))

    async def set_opt_out(self, community: str, member: str, name: str, hidden: bool) -> None:
        """Hide a member from leaderboards (or show them again)."""
        stmt = self.db.insert(profiles).values(community=community, member=member, name=name,
                                               opt_out=hidden)
        async with self.db.begin() as conn:
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=[profiles.c.community, profiles.c.member],
                set_={"opt_out": hidden}))

    async def new_badges(self, community: str, since: datetime) -> list[tuple[str, str]]:
        """(member, badge) earned after a moment, oldest first.

        After, not at: the weekly spotlight asks for the week since the previous one, which
        already listed what was earned at its own moment.
        """
        async with self.db.connect() as conn:
            return [(m, b) for m, b in await conn.execute(
                select(badges.c.member, badges.c.badge)
                .where(badges.c.community == community, badges.c.at > since)
                .order_by(badges.c.at, badges.c.member))]

    # -- role rewards ------------------------------------------------------------------

    async def record_reward(self, community: str, member: str, reward: str, role: str,
                            at: datetime) -> None:
        """Remember a granted role reward so /rewards_retry can grant it again."""
        await self.db.upsert(rewards, [{"community": community, "member": member,
                                        "reward": reward, "role": role, "at": at}],
                             ["community", "member", "reward"], replace=["role"])

    async def take_rewards(self, community: str, member: str,
                           above: int = 0) -> list[tuple[str, str]]:
        """Delete and return a member's recorded level rewards above level ``above``."""
        mine = (rewards.c.community == community, rewards.c.member == member,
                rewards.c.reward.startswith("level:"))
        async with self.db.begin() as conn:
            rows = [(k, r) for k, r in await conn.execute(
                select(rewards.c.reward, rewards.c.role).where(*mine))
                if level_of_reward(k) > above]
            if rows:
                await conn.execute(delete(rewards).where(
                    *mine, rewards.c.reward.in_([k for k, _ in rows])))
        return rows

    async def all_rewards(self, community: str) -> list[tuple[str, str, str]]:
        """Every recorded role reward: (member, reward, role)."""
        async with self.db.connect() as conn:
            return [(m, k, r) for m, k, r in await conn.execute(
                select(rewards.c.member, rewards.c.reward, rewards.c.role)
                .where(rewards.c.community == community)
                .order_by(rewards.c.member, rewards.c.reward))]

    # -- daily job ---------------------------------------------------------------------

    async def mark_active(self, community: str, since: str) -> tuple[list[str], list[str]]:
        """Flag members active since a day; (gained, lapsed) member ids, sorted."""
        async with self.db.begin() as conn:
            recent = set((await conn.execute(
                select(xp_daily.c.member).where(xp_daily.c.community == community,
                                                xp_daily.c.day >= since,
                                                earned()).distinct())).scalars())
            flagged = set((await conn.execute(
                select(profiles.c.member).where(profiles.c.community == community,
                                                profiles.c.active.is_(True)))).scalars())
            gained, lapsed = sorted(recent - flagged), sorted(flagged - recent)
            if gained:
                await conn.execute(self.db.upsert_statement(
                    profiles, ["community", "member"], replace=["active"]),
                    [{"community": community, "member": m, "active": True} for m in gained])
            if lapsed:
                await conn.execute(update(profiles).where(
                    profiles.c.community == community, profiles.c.member.in_(lapsed)
                ).values(active=False))
        return gained, lapsed

    async def decay(self, community: str, day: str, cutoff: str, percent: int) -> dict[str, int]:
        """Take ``percent`` of the XP of members inactive since ``cutoff``; XP taken per member.

        Once per member and day: a second run the same day finds the decay row and does
        nothing. Never below 0 XP; the negative amount is also a ledger entry.
        """
        taken: dict[str, int] = {}
        async with self.db.begin() as conn:
            totals = dict((await conn.execute(
                select(xp_daily.c.member, func.sum(xp_daily.c.xp))
                .where(xp_daily.c.community == community)
                .group_by(xp_daily.c.member))).all())
            last = dict((await conn.execute(
                select(xp_daily.c.member, func.max(xp_daily.c.day))
                .where(xp_daily.c.community == community, earned())
                .group_by(xp_daily.c.member))).all())
            for member_id, decayed in await conn.execute(
                select(decay.c.member, func.max(decay.c.day))
                .where(decay.c.community == community).group_by(decay.c.member)
            ):
                last[member_id] = max(last.get(member_id, ""), decayed)
            ledger = self.db.upsert_statement(xp_daily, ["community", "member", "day"],
                                              add=["xp"])
            for member_id in sorted(totals):
                total = int(totals[member_id] or 0)
                if total <= 0 or last.get(member_id, "") > cutoff:
                    continue
                amount = min(total, max(1, total * percent // 100))
                added = await conn.execute(self.db.insert(decay).values(
                    community=community, member=member_id, day=day, xp=-amount
                ).on_conflict_do_nothing())
                if not added.rowcount:
                    continue
                await conn.execute(ledger, [{"community": community, "member": member_id,
                                             "day": day, "xp": -amount}])
                taken[member_id] = amount
        return taken

    # -- privacy -----------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Every row about the member, JSON-ready."""
        out: dict[str, Any] = {}
        async with self.db.connect() as conn:
            for name, table in MEMBER_TABLES:
                rows = await conn.execute(select(table).where(_mine(table, member)))
                out[name] = [_jsonable(row._mapping) for row in rows]
            rows = await conn.execute(select(kudos).where(
                or_(_mine(kudos, member, "giver"), _mine(kudos, member, "receiver"))))
            out["kudos"] = [_jsonable(row._mapping) for row in rows]
        return out

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's rows; awards they gave keep their points without their id."""
        async with self.db.begin() as conn:
            for _, table in MEMBER_TABLES:
                await conn.execute(delete(table).where(_mine(table, member)))
            await conn.execute(delete(kudos).where(
                or_(_mine(kudos, member, "giver"), _mine(kudos, member, "receiver"))))
            await conn.execute(update(awards).where(
                _mine(awards, member, "by")).values(by=""))


async def _chunks(conn: Any, stmt: Any) -> AsyncIterator[Sequence[Any]]:
    """A query's rows, :data:`LOAD_CHUNK` at a time.

    Fetched whole, 100k members' rows (a tuple, a row and fresh strings each) were all
    alive at once while the state was built among them; once freed they left ~18 MiB of
    holes in the interpreter's pools that the process kept. A chunk's rows are freed
    before the next is read, so the next reuses their memory.
    """
    async with conn.stream(stmt) as result:
        async for rows in result.partitions(LOAD_CHUNK):
            yield rows


def earned() -> Any:
    """Ledger rows that show activity: all but the rows holding only a decay."""
    return ~exists().where(decay.c.community == xp_daily.c.community,
                           decay.c.member == xp_daily.c.member, decay.c.day == xp_daily.c.day,
                           decay.c.xp == xp_daily.c.xp)


def _mine(table: Any, member: MemberRef, column: str = "member") -> Any:
    return (table.c[column] == member.id) & table.c.community.startswith(member.platform + ":")


def _jsonable(row: Iterable[Any] | Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}
