"""The matchmaking queries: the only module with SQL besides tables.py."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from bot import MemberRef, Plugin

from .tables import avoid, groups, labels, members, rounds


@dataclass(frozen=True, slots=True)
class Member:
    """One member who opted in."""

    id: str
    name: str
    active: bool
    paused_until: datetime | None
    interests: tuple[str, ...]
    window: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Placed:
    """One member's row in a round."""

    round: int
    member: str
    group_no: int
    name: str
    shared: tuple[str, ...]
    answer: str | None
    credited: bool
    language: str = ""


@dataclass(frozen=True, slots=True)
class Names:
    """How the community names its interests: id -> language ("" its own label) -> label.

    Stored interests are ``#<id>`` (an onboarding interest) or words typed with /interests;
    :meth:`shown` turns them into what a reader of a language sees.
    """

    by_id: dict[str, dict[str, str]]

    def show(self, token: str, language: str) -> str:
        """One interest as a reader of ``language`` sees it."""
        if not token.startswith("#"):
            return token
        named = self.by_id.get(token[1:], {})
        return named.get(language) or named.get("") or token[1:]

    def shown(self, tokens: Sequence[str], language: str) -> tuple[str, ...]:
        """Interests as a reader of ``language`` sees them (same order)."""
        return tuple(self.show(t, language) for t in tokens)

    def token(self, typed: str) -> str:
        """A typed interest: ``#<id>`` when it is the name of one in any language."""
        key = typed.casefold()
        for interest, named in sorted(self.by_id.items()):
            if any(label.casefold() == key for label in named.values()):
                return f"#{interest}"
        return typed


def _split(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.split(",") if t)


class MatchStore:
    """Reads and writes the matchmaking tables."""

    def __init__(self, plugin: Plugin) -> None:
        self.db = plugin.db
        self.clock = plugin.clock
        self._drafting: dict[str, asyncio.Lock] = {}

    def drafting(self, community: str) -> asyncio.Lock:
        """Held from matching a round to storing its draft, and while announcing one.

        A draft matched before an announcement and stored after it (which retires the other
        drafts) would repeat its pairs: the scheduled round runs beside the admins' presses.
        """
        return self._drafting.setdefault(community, asyncio.Lock())

    # -- members ----------------------------------------------------------------------------

    async def join(self, community: str, member: MemberRef) -> None:
        """Opt in (again), ending any pause; safe to run twice or beside /interests."""
        await self._ensure(community, member, active=True)
        async with self.db.begin() as conn:
            await conn.execute(update(members).where(
                members.c.community == community, members.c.member == member.id,
            ).values(active=True, paused_until=None, name=member.display_name[:100],
                     language=(member.language or "")[:16]))

    async def _ensure(self, community: str, member: MemberRef, active: bool) -> None:
        """The member's row, created if missing (an insert that skips an existing row)."""
        await self.db.insert_ignore(members, [{
            "community": community, "member": member.id, "name": member.display_name[:100],
            "language": (member.language or "")[:16], "active": active, "interests": "",
            "window": "", "timezone": "", "joined_at": self.clock.now()}])

    async def set_active(self, community: str, member: str, active: bool,
                         paused_until: datetime | None = None) -> bool:
        """Leave or pause; False when the member never joined."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(members).where(
                members.c.community == community, members.c.member == member,
            ).values(active=active, paused_until=paused_until))
            return bool(done.rowcount)

    async def set_interests(self, community: str, member: MemberRef,
                            interests: tuple[str, ...]) -> None:
        """Store interests (also for members who have not joined yet: onboarding's choice)."""
        await self._ensure(community, member, active=False)
        async with self.db.begin() as conn:
            await conn.execute(update(members).where(
                members.c.community == community, members.c.member == member.id,
            ).values(interests=",".join(interests)))

    async def names(self, community: str) -> Names:
        """The community's names of its interests, in every language known."""
        async with self.db.connect() as conn:
            rows = await conn.execute(select(labels).where(labels.c.community == community))
            by_id: dict[str, dict[str, str]] = {}
            for r in rows:
                by_id.setdefault(r.interest, {})[r.language] = r.label
        return Names(by_id)

    async def set_names(self, community: str, named: dict[str, dict[str, str]]) -> None:
        """Replace the names of these interests (the latest the community gave)."""
        if not named:
            return
        async with self.db.begin() as conn:
            await conn.execute(delete(labels).where(
                labels.c.community == community, labels.c.interest.in_(list(named))))
            await conn.execute(labels.insert(), [
                {"community": community, "interest": interest, "language": language,
                 "label": label[:40]}
                for interest, names in named.items() for language, label in names.items()])

    async def set_window(self, community: str, member: str, window: str, timezone: str) -> bool:
        """Set the availability window; False when the member never joined."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(members).where(
                members.c.community == community, members.c.member == member,
            ).values(window=window, timezone=timezone))
            return bool(done.rowcount)

    async def member(self, community: str, member: str) -> Member | None:
        """One member's profile, or None."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(members).where(
                members.c.community == community, members.c.member == member))).first()
        return _member(row) if row else None

    async def participants(self, community: str, now: datetime) -> list[Member]:
        """Active members whose pause is over."""
        async with self.db.connect() as conn:
            rows = await conn.execute(select(members).where(
                members.c.community == community, members.c.active.is_(True)))
            return [_member(r) for r in rows
                    if r.paused_until is None or r.paused_until <= now]

    async def active_members(self, community: str) -> list[Member]:
        """Members who opted in (paused ones too)."""
        async with self.db.connect() as conn:
            rows = await conn.execute(select(members).where(
                members.c.community == community, members.c.active.is_(True)))
            return [_member(r) for r in rows]

    # -- do-not-pair ------------------------------------------------------------------------

    async def add_avoid(self, community: str, member: str, other: str, by_admin: bool) -> None:
        """Record a do-not-pair (a second time changes nothing)."""
        await self.db.insert_ignore(avoid, [
            {"community": community, "member": member, "other": other, "by_admin": by_admin}])

    async def avoided(self, community: str) -> set[tuple[str, str]]:
        """Every do-not-pair entry of the community (members' and admins')."""
        async with self.db.connect() as conn:
            rows = await conn.execute(select(avoid.c.member, avoid.c.other).where(
                avoid.c.community == community))
            return {(r.member, r.other) for r in rows}

    # -- rounds -----------------------------------------------------------------------------

    async def create_round(self, community: str, origin: str, seed: int,
                           placed: list[tuple[int, list[tuple[str, str]], tuple[str, ...]]],
                           status: str) -> int | None:
        """Store a round and its groups; None when a round of this origin exists already."""
        async with self.db.begin() as conn:
            found = (await conn.execute(select(rounds.c.id).where(
                rounds.c.community == community, rounds.c.origin == origin))).scalar()
            if found is not None:
                return None
            now = self.clock.now()
            result = await conn.execute(rounds.insert().values(
                community=community, status=status, origin=origin, seed=seed, created_at=now,
                announced_at=now if status == "announced" else None))
            key = result.inserted_primary_key
            assert key is not None
            rid = int(key[0])
            rows = [{"round": rid, "member": m, "community": community, "group_no": no,
                     "name": name[:100], "shared": ",".join(shared)[:1000], "answer": None,
                     "credited": False}
                    for no, people, shared in placed for m, name in people]
            if rows:
                await conn.execute(groups.insert(), rows)
            return rid

    async def replace_groups(self, rid: int, community: str, seed: int,
                             placed: list[tuple[int, list[tuple[str, str]], tuple[str, ...]]],
                             ) -> bool:
        """Reshuffle a draft; False when it is no longer a draft."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(rounds).where(
                rounds.c.id == rid, rounds.c.community == community, rounds.c.status == "draft",
            ).values(seed=seed))
            if not done.rowcount:
                return False
            await conn.execute(delete(groups).where(groups.c.round == rid))
            rows = [{"round": rid, "member": m, "community": community, "group_no": no,
                     "name": name[:100], "shared": ",".join(shared)[:1000], "answer": None,
                     "credited": False}
                    for no, people, shared in placed for m, name in people]
            if rows:
                await conn.execute(groups.insert(), rows)
            return True

    async def set_status(self, rid: int, community: str, old: str, new: str) -> bool:
        """Move a round from ``old`` to ``new``; False when it was not ``old`` (a second press)."""
        values: dict[str, Any] = {"status": new}
        if new == "announced":
            values["announced_at"] = self.clock.now()
        async with self.db.begin() as conn:
            done = await conn.execute(update(rounds).where(
                rounds.c.id == rid, rounds.c.community == community, rounds.c.status == old,
            ).values(**values))
            return bool(done.rowcount)

    async def supersede_drafts(self, community: str, announced: int) -> int:
        """Discard the community's other drafts; how many there were.

        They were matched without the pairs of the round just announced, so announcing one
        of them could repeat a pair.
        """
        async with self.db.begin() as conn:
            done = await conn.execute(update(rounds).where(
                rounds.c.community == community, rounds.c.status == "draft",
                rounds.c.id != announced).values(status="discarded"))
            return int(done.rowcount or 0)

    async def round_by_origin(self, community: str, origin: str) -> int | None:
        """The round started by ``origin``, if any."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(rounds.c.id).where(
                rounds.c.community == community, rounds.c.origin == origin))).scalar()

    async def round_status(self, rid: int, community: str) -> str | None:
        """A round's status, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(rounds.c.status).where(
                rounds.c.id == rid, rounds.c.community == community))).scalar()

    async def round_number(self, rid: int, community: str) -> int:
        """The round's number among the community's announced rounds (drafts: the next one)."""
        async with self.db.connect() as conn:
            return int((await conn.execute(select(func.count()).where(
                rounds.c.community == community, rounds.c.status == "announced",
                rounds.c.id <= rid))).scalar_one())

    async def placed(self, rid: int) -> list[Placed]:
        """Everyone placed in a round, by group."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(groups, members.c.language).select_from(groups.outerjoin(
                    members, (members.c.community == groups.c.community)
                    & (members.c.member == groups.c.member)))
                .where(groups.c.round == rid).order_by(groups.c.group_no, groups.c.member))
            return [Placed(r.round, r.member, r.group_no, r.name, _split(r.shared), r.answer,
                           r.credited, r.language or "") for r in rows]

    async def recent_pairs(self, community: str, window: int) -> set[tuple[str, str]]:
        """Pairs who shared a group in the last ``window`` announced rounds."""
        async with self.db.connect() as conn:
            ids = [r.id for r in await conn.execute(
                select(rounds.c.id).where(rounds.c.community == community,
                                          rounds.c.status == "announced")
                .order_by(rounds.c.id.desc()).limit(window))]
            if not ids:
                return set()
            rows = await conn.execute(select(groups.c.round, groups.c.group_no, groups.c.member)
                                      .where(groups.c.round.in_(ids)))
            by_group: dict[tuple[int, int], list[str]] = {}
            for r in rows:
                by_group.setdefault((r.round, r.group_no), []).append(r.member)
        pairs: set[tuple[str, str]] = set()
        for people in by_group.values():
            for x, a in enumerate(people):
                for b in people[x + 1:]:
                    pairs.add((a, b) if a <= b else (b, a))
        return pairs

    async def times_matched(self, community: str) -> dict[str, int]:
        """How many announced rounds each member was placed in."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(groups.c.member, func.count()).join(rounds, rounds.c.id == groups.c.round)
                .where(groups.c.community == community, rounds.c.status == "announced")
                .group_by(groups.c.member))
            return {r[0]: int(r[1]) for r in rows}

    async def answer(self, rid: int, member: str, answer: str) -> bool:
        """Record a check-in answer; False when the member is not in that round."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(groups).where(
                groups.c.round == rid, groups.c.member == member).values(answer=answer))
            return bool(done.rowcount)

    async def mark_credited(self, rid: int, member: str) -> bool:
        """Mark a met_peer contribution as reported; False when it was already."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(groups).where(
                groups.c.round == rid, groups.c.member == member,
                groups.c.credited.is_(False)).values(credited=True))
            return bool(done.rowcount)

    async def announced_rounds(self, community: str, limit: int) -> list[int]:
        """The ids of the last ``limit`` announced rounds, newest first."""
        async with self.db.connect() as conn:
            return [int(r.id) for r in await conn.execute(
                select(rounds.c.id).where(rounds.c.community == community,
                                          rounds.c.status == "announced")
                .order_by(rounds.c.id.desc()).limit(limit))]

    # -- privacy ----------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Everything stored about the member, JSON-ready."""
        prefix = member.platform + ":"
        async with self.db.connect() as conn:
            me = [dict(r._mapping) for r in await conn.execute(select(members).where(
                members.c.member == member.id, members.c.community.startswith(prefix)))]
            mine = [dict(r._mapping) for r in await conn.execute(select(avoid).where(
                avoid.c.member == member.id, avoid.c.community.startswith(prefix)))]
            placed = [dict(r._mapping) for r in await conn.execute(select(groups).where(
                groups.c.member == member.id, groups.c.community.startswith(prefix)))]
        for row in me:
            for key in ("paused_until", "joined_at"):
                row[key] = row[key].isoformat() if row[key] else None
            # "#2" means nothing to the member reading the export: its name beside it
            named = await self.names(row["community"])
            row["interest_names"] = list(named.shown(_split(row["interests"]), ""))
        return {"profile": me, "do_not_pair": mine, "rounds": placed}

    async def forget(self, member: MemberRef) -> None:
        """Delete every row naming the member (their do-not-pair entries both ways)."""
        prefix = member.platform + ":"
        async with self.db.begin() as conn:
            await conn.execute(delete(members).where(
                members.c.member == member.id, members.c.community.startswith(prefix)))
            await conn.execute(delete(avoid).where(
                (avoid.c.member == member.id) | (avoid.c.other == member.id),
                avoid.c.community.startswith(prefix)))
            await conn.execute(delete(groups).where(
                groups.c.member == member.id, groups.c.community.startswith(prefix)))


def _member(row: Any) -> Member:
    return Member(row.member, row.name, bool(row.active), row.paused_until,
                  _split(row.interests), row.window, row.timezone)
