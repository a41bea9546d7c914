"""Every query of the feedback plugin (the only SQL besides ``tables.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from bot import Plugin

from .lifecycle import OPEN, Status
from .tables import changes, digests, follows, outcomes, people, suggestions, votes


@dataclass(frozen=True, slots=True)
class Counts:
    """A suggestion's votes and followers."""

    up: int = 0
    down: int = 0
    followers: int = 0


@dataclass(frozen=True, slots=True)
class Person:
    """A member as the plugin last saw them: name and language (for notifications)."""

    id: str
    name: str | None
    language: str | None


class FeedbackStore:
    """Reads and writes the feedback_* tables."""

    def __init__(self, plugin: Plugin) -> None:
        """Use the plugin's database."""
        self.db = plugin.db

    # -- people ---------------------------------------------------------------------------

    async def touch(self, community: str, member: str, name: str | None,
                    language: str | None, now: datetime) -> None:
        """Remember a participant's name and language; ``first_at`` is kept from the first."""
        await self.db.upsert(
            people,
            [{"community": community, "member": member, "name": name, "language": language,
              "first_at": now, "last_at": now}],
            ["community", "member"],
            replace=["name", "language", "last_at"],
        )

    async def people(self, community: str, ids: Iterable[str]) -> dict[str, Person]:
        """Known participants among ``ids``."""
        wanted = list(ids)
        if not wanted:
            return {}
        async with self.db.connect() as conn:
            rows = await conn.execute(select(people).where(
                people.c.community == community, people.c.member.in_(wanted)))
            return {r.member: Person(r.member, r.name, r.language) for r in rows}

    # -- suggestions ----------------------------------------------------------------------

    async def create(self, values: dict[str, Any]) -> int:
        """Store a suggestion; its number."""
        async with self.db.begin() as conn:
            result = await conn.execute(suggestions.insert().values(**values))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    async def suggestion(self, number: int, community: str) -> Any:
        """The suggestion #number of this community, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(suggestions).where(
                suggestions.c.id == number, suggestions.c.community == community))).first()

    async def open_ones(self, community: str) -> list[tuple[int, str, str]]:
        """(number, text, normalized text) of the community's open, posted suggestions."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(suggestions.c.id, suggestions.c.text, suggestions.c.norm).where(
                    suggestions.c.community == community,
                    suggestions.c.status.in_([s.value for s in OPEN])))
            return [(r.id, r.text, r.norm) for r in rows]

    async def publish(self, number: int, was: Status, now: datetime,
                      actor: tuple[str, str | None] | None = None) -> bool:
        """Move a draft or reviewed suggestion to ``new`` (once); False if it moved already.

        ``actor`` (id, name): the moderator who approved it, for the audit.
        """
        async with self.db.begin() as conn:
            done = await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == number, suggestions.c.status == was.value)
                .values(status=Status.NEW.value, posted_at=now, updated_at=now))
            if done.rowcount and actor is not None:
                community = (await conn.execute(select(suggestions.c.community).where(
                    suggestions.c.id == number))).scalar_one()
                await conn.execute(changes.insert().values(
                    community=community, suggestion=number, actor=actor[0],
                    actor_name=actor[1], old=was.value, new=Status.NEW.value, at=now))
            return bool(done.rowcount)

    async def hold_for_review(self, number: int, now: datetime) -> bool:
        """A draft goes to the review queue (once)."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == number, suggestions.c.status == Status.DRAFT.value)
                .values(status=Status.REVIEW.value, updated_at=now))
            return bool(done.rowcount)

    async def set_message(self, number: int, channel: str | None, message: int) -> None:
        """Where the public post is."""
        async with self.db.begin() as conn:
            await conn.execute(update(suggestions).where(suggestions.c.id == number)
                               .values(channel=channel, message=message))

    async def change(self, row: Any, new: Status, reason: str, actor: str,
                     actor_name: str | None, now: datetime, *, into: int | None = None) -> bool:
        """Move ``row`` from its status to ``new`` and audit it, once.

        A duplicate (``into``) hands its votes and followers to that suggestion in the
        same transaction: a member who voted on both keeps the vote they gave ``into``.
        """
        async with self.db.begin() as conn:
            moved = await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == row.id, suggestions.c.status == row.status)
                .values(status=new.value, reason=reason or None, duplicate_of=into,
                        updated_at=now))
            if not moved.rowcount:
                return False
            await conn.execute(changes.insert().values(
                community=row.community, suggestion=row.id, actor=actor, actor_name=actor_name,
                old=row.status, new=new.value, reason=reason or None, duplicate_of=into, at=now))
            if into is not None:
                await self._merge(conn, row, into, now)
            return True

    async def _merge(self, conn: Any, row: Any, into: int, now: datetime) -> None:
        have = set((await conn.execute(
            select(votes.c.member).where(votes.c.suggestion == into))).scalars())
        moving = (await conn.execute(select(votes).where(votes.c.suggestion == row.id))).all()
        fresh = [{"suggestion": into, "member": v.member, "value": v.value, "at": v.at}
                 for v in moving if v.member not in have]
        if fresh:
            await conn.execute(votes.insert(), fresh)
        following = set((await conn.execute(
            select(follows.c.member).where(follows.c.suggestion == into))).scalars())
        movers = set((await conn.execute(
            select(follows.c.member).where(follows.c.suggestion == row.id))).scalars())
        if row.author:
            movers.add(row.author)  # the author wants to know what becomes of the idea
        new_followers = [{"suggestion": into, "member": m, "at": now}
                         for m in sorted(movers - following)]
        if new_followers:
            await conn.execute(follows.insert(), new_followers)
        for table in (votes, follows):
            await conn.execute(delete(table).where(table.c.suggestion == row.id))

    async def adopt(self, number: int, now: datetime) -> bool:
        """Mark the suggestion adopted; True the first time only."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == number, suggestions.c.adopted_at.is_(None))
                .values(adopted_at=now))
            return bool(done.rowcount)

    async def history(self, number: int) -> list[Any]:
        """The audited changes of a suggestion, oldest first."""
        async with self.db.connect() as conn:
            return list(await conn.execute(
                select(changes).where(changes.c.suggestion == number)
                .order_by(changes.c.at, changes.c.id)))

    async def roadmap(self, community: str, statuses: Iterable[Status]) -> list[Any]:
        """Suggestions in ``statuses``, oldest first."""
        async with self.db.connect() as conn:
            return list(await conn.execute(
                select(suggestions).where(
                    suggestions.c.community == community,
                    suggestions.c.status.in_([s.value for s in statuses]))
                .order_by(suggestions.c.id)))

    # -- votes and follows ----------------------------------------------------------------

    async def vote(self, number: int, member: str, value: int, now: datetime) -> str:
        """Record a vote: "counted", "changed" or "same" (a second press changes nothing)."""
        async with self.db.begin() as conn:
            old = (await conn.execute(select(votes.c.value).where(
                votes.c.suggestion == number, votes.c.member == member))).scalar()
            if old == value:
                return "same"
            if old is None:
                inserted = await conn.execute(
                    self.db.insert(votes).values(suggestion=number, member=member, value=value,
                                                 at=now).on_conflict_do_nothing())
                return "counted" if inserted.rowcount else "same"
            await conn.execute(update(votes).where(
                votes.c.suggestion == number, votes.c.member == member).values(
                value=value, at=now))
            return "changed"

    async def follow(self, number: int, member: str, now: datetime) -> bool:
        """Follow a suggestion; False if already following."""
        async with self.db.begin() as conn:
            done = await conn.execute(self.db.insert(follows).values(
                suggestion=number, member=member, at=now).on_conflict_do_nothing())
            return bool(done.rowcount)

    async def unfollow(self, number: int, member: str) -> bool:
        """Stop following; False if not following."""
        async with self.db.begin() as conn:
            done = await conn.execute(delete(follows).where(
                follows.c.suggestion == number, follows.c.member == member))
            return bool(done.rowcount)

    async def counts(self, numbers: Iterable[int]) -> dict[int, Counts]:
        """Votes up, down and followers of each suggestion."""
        wanted = list(numbers)
        if not wanted:
            return {}
        async with self.db.connect() as conn:
            tally = await conn.execute(
                select(votes.c.suggestion, votes.c.value, func.count())
                .where(votes.c.suggestion.in_(wanted))
                .group_by(votes.c.suggestion, votes.c.value))
            up: dict[int, int] = {}
            down: dict[int, int] = {}
            for number, value, n in tally:
                (up if value > 0 else down)[number] = int(n)
            followed: dict[int, int] = dict((await conn.execute(
                select(follows.c.suggestion, func.count()).where(
                    follows.c.suggestion.in_(wanted)).group_by(follows.c.suggestion))).all())
        return {n: Counts(up.get(n, 0), down.get(n, 0), int(followed.get(n, 0)))
                for n in wanted}

    async def audience(self, row: Any) -> list[str]:
        """Everyone to tell about a change: the author, voters, followers (each once)."""
        async with self.db.connect() as conn:
            voters = set((await conn.execute(
                select(votes.c.member).where(votes.c.suggestion == row.id))).scalars())
            followers = set((await conn.execute(
                select(follows.c.member).where(follows.c.suggestion == row.id))).scalars())
        everyone = voters | followers | ({row.author} if row.author else set())
        return sorted(everyone)

    # -- poll outcomes --------------------------------------------------------------------

    async def poll_closed(self, values: dict[str, Any]) -> bool:
        """Remember a closed poll; False if it was known already (a replayed event)."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                self.db.insert(outcomes).values(**values).on_conflict_do_nothing())
            return bool(done.rowcount)

    async def outcome(self, community: str, poll: int) -> Any:
        """A closed poll's row, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(outcomes).where(
                outcomes.c.community == community, outcomes.c.poll == poll))).first()

    async def decide(self, community: str, poll: int, text: str, member: str,
                     now: datetime) -> bool:
        """Record what was done with a poll; False if this exact outcome was recorded."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                update(outcomes).where(
                    outcomes.c.community == community, outcomes.c.poll == poll,
                    or_(outcomes.c.outcome.is_(None), outcomes.c.outcome != text))
                .values(outcome=text, decided_by=member, decided_at=now))
            return bool(done.rowcount)

    # -- the digest -----------------------------------------------------------------------

    async def period(self, community: str, start: datetime, end: datetime) -> dict[str, Any]:
        """What happened in [start, end): raised, changed, polls, participation."""
        async with self.db.connect() as conn:
            raised = list(await conn.execute(select(suggestions).where(
                suggestions.c.community == community, suggestions.c.posted_at >= start,
                suggestions.c.posted_at < end).order_by(suggestions.c.id)))
            changed = list(await conn.execute(
                select(changes, suggestions.c.text).join(
                    suggestions, suggestions.c.id == changes.c.suggestion)
                .where(changes.c.community == community, changes.c.at >= start,
                       changes.c.at < end).order_by(changes.c.at, changes.c.id)))
            polls = list(await conn.execute(select(outcomes).where(
                outcomes.c.community == community,
                or_(and_(outcomes.c.closed_at >= start, outcomes.c.closed_at < end),
                    and_(outcomes.c.decided_at >= start, outcomes.c.decided_at < end)))
                .order_by(outcomes.c.poll)))
            ours = select(suggestions.c.id).where(suggestions.c.community == community)
            members: set[str] = {r.author for r in raised if r.author}
            members |= set((await conn.execute(select(votes.c.member).where(
                votes.c.suggestion.in_(ours), votes.c.at >= start, votes.c.at < end)))
                .scalars())
            members |= set((await conn.execute(select(follows.c.member).where(
                follows.c.suggestion.in_(ours), follows.c.at >= start, follows.c.at < end)))
                .scalars())
            # First-timers: members whose first ever suggestion, vote or follow here falls in
            # the period, i.e. who took part now and never before ``start`` (not members who
            # merely joined, or were first seen by the bot, recently).
            wanted = sorted(members)
            earlier: set[str] = set((await conn.execute(select(suggestions.c.author).where(
                suggestions.c.community == community, suggestions.c.author.in_(wanted),
                suggestions.c.posted_at < start))).scalars())
            earlier |= set((await conn.execute(select(votes.c.member).where(
                votes.c.suggestion.in_(ours), votes.c.member.in_(wanted),
                votes.c.at < start))).scalars())
            earlier |= set((await conn.execute(select(follows.c.member).where(
                follows.c.suggestion.in_(ours), follows.c.member.in_(wanted),
                follows.c.at < start))).scalars())
            first = members - earlier
        return {"raised": raised, "changed": changed, "polls": polls,
                "members": members, "first": first}

    async def last_digest_end(self, community: str) -> datetime | None:
        """Where the previous digest's period ended."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(func.max(digests.c.period_end)).where(
                digests.c.community == community))).scalar()

    async def add_digest(self, community: str, start: datetime, end: datetime, status: str,
                         text: str, now: datetime) -> int | None:
        """Store a digest once per period end; None if this period has one."""
        async with self.db.begin() as conn:
            done = await conn.execute(self.db.insert(digests).values(
                community=community, period_start=start, period_end=end, status=status,
                text=text, posted_at=now if status == "posted" else None,
            ).on_conflict_do_nothing())
            if not done.rowcount:
                return None
            return int((await conn.execute(select(digests.c.id).where(
                digests.c.community == community, digests.c.period_end == end))).scalar_one())

    async def draft(self, community: str) -> Any:
        """The newest digest draft waiting for approval, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(digests).where(
                digests.c.community == community, digests.c.status == "draft")
                .order_by(digests.c.period_end.desc()))).first()

    async def edit_draft(self, digest: int, text: str, member: str) -> bool:
        """Replace a draft's text; False if it is no longer a draft."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(digests).where(
                digests.c.id == digest, digests.c.status == "draft").values(
                text=text, edited_by=member))
            return bool(done.rowcount)

    async def approve(self, digest: int, now: datetime) -> Any:
        """Mark a draft posted (once); its row, or None if it was posted already."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(digests).where(
                digests.c.id == digest, digests.c.status == "draft").values(
                status="posted", posted_at=now))
            if not done.rowcount:
                return None
            return (await conn.execute(select(digests).where(digests.c.id == digest))).one()

    # -- privacy --------------------------------------------------------------------------

    async def export(self, member: str, platform: str) -> dict[str, Any]:
        """Suggestions, votes, follows and what the plugin knows of the member."""
        prefix = platform + ":"
        mine = suggestions.c.community.startswith(prefix)
        async with self.db.connect() as conn:
            authored = await conn.execute(select(suggestions).where(
                suggestions.c.author == member, mine).order_by(suggestions.c.id))
            voted = await conn.execute(
                select(votes.c.suggestion, votes.c.value, votes.c.at).join(
                    suggestions, suggestions.c.id == votes.c.suggestion)
                .where(votes.c.member == member, mine))
            followed = await conn.execute(
                select(follows.c.suggestion, follows.c.at).join(
                    suggestions, suggestions.c.id == follows.c.suggestion)
                .where(follows.c.member == member, mine))
            known = await conn.execute(select(people).where(
                people.c.member == member, people.c.community.startswith(prefix)))
            decided = await conn.execute(select(changes.c.suggestion, changes.c.new,
                                                changes.c.at).where(
                changes.c.actor == member, changes.c.community.startswith(prefix)))
            return {
                "suggestions": [{"number": r.id, "community": r.community, "text": r.text,
                                 "anonymous": r.anonymous, "status": r.status,
                                 "created_at": r.created_at.isoformat()} for r in authored],
                "votes": [{"suggestion": r.suggestion, "value": r.value,
                           "at": r.at.isoformat()} for r in voted],
                "follows": [{"suggestion": r.suggestion, "at": r.at.isoformat()}
                            for r in followed],
                "status_changes_made": [{"suggestion": r.suggestion, "status": r.new,
                                         "at": r.at.isoformat()} for r in decided],
                "profile": [{"community": r.community, "name": r.name,
                             "language": r.language, "first_at": r.first_at.isoformat()}
                            for r in known],
            }

    async def forget(self, member: str, platform: str) -> None:
        """Erase the member; their suggestions stay, by "a member", and so do decisions."""
        prefix = platform + ":"
        ours = select(suggestions.c.id).where(suggestions.c.community.startswith(prefix))
        async with self.db.begin() as conn:
            await conn.execute(update(suggestions).where(
                suggestions.c.author == member, suggestions.c.community.startswith(prefix))
                .values(author=None, author_name=None))
            for table in (votes, follows):
                await conn.execute(delete(table).where(
                    table.c.member == member, table.c.suggestion.in_(ours)))
            await conn.execute(update(changes).where(
                changes.c.actor == member, changes.c.community.startswith(prefix))
                .values(actor=None, actor_name=None))
            await conn.execute(delete(people).where(
                people.c.member == member, people.c.community.startswith(prefix)))
            await conn.execute(update(outcomes).where(
                outcomes.c.decided_by == member, outcomes.c.community.startswith(prefix))
                .values(decided_by=None))
            await conn.execute(update(digests).where(
                digests.c.edited_by == member, digests.c.community.startswith(prefix))
                .values(edited_by=None))
            rows = await conn.execute(select(outcomes.c.community, outcomes.c.poll,
                                             outcomes.c.voter_ids).where(
                outcomes.c.community.startswith(prefix)))
            for community, poll, ids in rows.all():
                if member in (ids or []):
                    await conn.execute(update(outcomes).where(
                        outcomes.c.community == community, outcomes.c.poll == poll)
                        .values(voter_ids=[i for i in ids if i != member]))
