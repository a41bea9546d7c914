"""Contributions: XP, kudos, levels, badges, role rewards, leaderboards and a weekly spotlight.

The message handler is the hot path: it keeps per-member state in memory (total XP, last XP
time for the cooldown, a hash of the last text against farming, streak, badges) and adds XP
to an accumulator flushed in batches, so in the common case it finishes without waiting.
Only rare moments (a level-up, a badge, kudos) wait on the database or the outbox.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot import (
    N_,
    Attachment,
    Capability,
    CommunityJoined,
    CommunityRef,
    Context,
    ContributionMade,
    MemberRef,
    MessagePosted,
    Plugin,
    Privilege,
    ReactionAdded,
    ReactionRemoved,
    Reward,
    RoleRef,
    command,
    job,
    on,
)
from bot.core.commands import Param
from plugins.contributions import levels
from plugins.contributions.card import CardData, badge_line, render_card
from plugins.contributions.tables import (
    awards,
    badges,
    decay,
    kudos,
    metadata,
    profiles,
    rewards,
    tallies,
    xp_daily,
)

#: Phrases that turn a message mentioning someone into kudos (case-insensitive).
DEFAULT_PHRASES = ("thanks", "thank you", "thx", "شكرا", "شكراً", "مشكور", "جزاك الله خير")
#: Message ids remembered per community to count a replayed message once.
SEEN_MESSAGES = 20_000
#: (message, reactor) pairs remembered per community for the reaction cap.
SEEN_REACTIONS = 20_000
SPOTLIGHT_RULE = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"
ACTIVE_RULE = "FREQ=DAILY;BYHOUR=3;BYMINUTE=0"
STREAK_DAYS = 7
#: ``key=value`` pairs separated by commas (settings that map names to values).
PAIRS = r"^\s*([^=,\s]+\s*=\s*[^=,\s]+\s*(,\s*[^=,\s]+\s*=\s*[^=,\s]+\s*)*)?$"


def pairs(text: str) -> dict[str, str]:
    """Read ``a=1, b=2`` into a dict."""
    out: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out

#: Badge ids and their display names (msgids).
BADGES: dict[str, str] = {
    "first_message": N_("First words"),
    "streak_7": N_("7-day streak"),
    "helper": N_("Helper"),
    "event_regular": N_("Event regular"),
    "idea_adopted": N_("Idea adopted"),
    "active": N_("Active member"),
}


class ContributionsSettings(BaseModel):
    """What admins can change with /config contributions."""

    model_config = ConfigDict(extra="forbid")
    channel_scoped: ClassVar[frozenset[str]] = frozenset({"multiplier", "earn_xp"})

    xp_per_message: int = Field(default=15, ge=0, le=1000,
                                description=N_("XP one message earns"))
    cooldown_seconds: int = Field(
        default=60, ge=0, le=86400,
        description=N_("Seconds before a member's next message earns XP"))
    min_length: int = Field(default=5, ge=0, le=500,
                            description=N_("Shortest message (in characters) that earns XP"))
    multiplier: float = Field(default=1.0, ge=0, le=10,
                              description=N_("XP multiplier (can be set per channel)"))
    earn_xp: bool = Field(default=True,
                          description=N_("Whether messages earn XP (set per channel to exclude)"))
    curve: Literal["quadratic", "linear", "flat"] = Field(
        default="quadratic", description=N_("Level curve: quadratic, linear or flat"))
    level_up: Literal["channel", "dm", "off"] = Field(
        default="channel", description=N_("Where level-ups are announced: channel, dm or off"))
    thanks_phrases: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PHRASES), max_length=30,
        description=N_("Phrases that give kudos to the members a message mentions"))
    kudos_daily_cap: int = Field(default=5, ge=0, le=100,
                                 description=N_("Kudos one member may give per day"))
    kudos_xp: int = Field(default=10, ge=0, le=1000,
                          description=N_("XP a member receives with each kudos"))
    reaction_xp: int = Field(default=2, ge=0, le=100,
                             description=N_("XP for each reaction received on a message"))
    reactions_per_message: int = Field(
        default=5, ge=0, le=100, description=N_("Reactions per message that earn XP"))
    weights: str = Field(
        default="poll_voted=5, event_attended=20, suggestion_adopted=50", max_length=2000,
        pattern=PAIRS, description=N_("XP for contributions other plugins report: kind=XP, ..."))
    helper_kudos: int = Field(default=10, ge=1, le=10000,
                              description=N_("Kudos received for the Helper badge"))
    event_regular: int = Field(default=5, ge=1, le=1000,
                               description=N_("Events attended for the Event regular badge"))
    role_rewards: str = Field(
        default="", max_length=2000, pattern=PAIRS,
        description=N_("Roles to grant, like level:5=ROLE, badge:helper=ROLE (role ids)"))
    role_mode: Literal["stack", "replace"] = Field(
        default="stack", description=N_("Level roles: stack them or replace the previous one"))
    active_days: int = Field(default=30, ge=0, le=365,
                             description=N_("Days of activity for active-member status (0: off)"))
    spotlight: bool = Field(default=True, description=N_("Post a weekly spotlight"))
    decay_after_days: int = Field(
        default=0, ge=0, le=3650,
        description=N_("Days without activity before a member's XP decays (0: off)"))
    decay_percent: int = Field(
        default=10, ge=1, le=50,
        description=N_("Percent of XP an inactive member loses each decay period"))


@dataclass(slots=True)
class _Member:
    """What the hot path knows about one member in one community."""

    name: str = ""
    total: int = 0
    level: int = 0
    next_at: int = 0
    last_xp: float = float("-inf")
    last_hash: int = 0
    last_day: int = 0
    streak: int = 0
    badges: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Reaction:
    """Reaction XP granted to ``author`` for one member's reactions on one message."""

    author: str
    amount: int
    emojis: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Community:
    key: str
    curve: str = "quadratic"
    members: dict[str, _Member] = field(default_factory=dict)
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    reactions: OrderedDict[tuple[str, str], _Reaction] = field(default_factory=OrderedDict)
    reaction_counts: dict[str, int] = field(default_factory=dict)


class Contributions(Plugin):
    """Recognises what members give and rewards it."""

    name = "contributions"
    description = N_("XP, kudos, levels, badges, role rewards, leaderboards and a spotlight")
    settings = ContributionsSettings
    tables = metadata
    wants = frozenset({Capability.ROLES, Capability.CUSTOM_TITLES,
                       Capability.DIRECT_MESSAGES, Capability.IMAGES})
    stores = N_("Your XP per day, kudos you gave and received, points admins awarded you, "
                "your badges and rewards, your name and whether you opted out of leaderboards.")

    def __init__(self, app: Any) -> None:
        """Start with no community loaded; XP goes through an accumulator."""
        super().__init__(app)
        self._communities: dict[str, _Community] = {}
        self._loading: dict[str, asyncio.Future[_Community]] = {}
        self._days: dict[int, str] = {}
        self.xp = self.accumulator(self._write_xp)
        self.names = self.accumulator(self._write_names)

    # -- persistence ----------------------------------------------------------------------

    def _insert(self, table: Any) -> Any:
        return sqlite_insert(table) if self.db.is_sqlite else pg_insert(table)

    async def _write_xp(self, batch: dict[tuple[str, str, str], int]) -> None:
        """Add a batch to the XP ledger: one transaction, one executemany upsert."""
        rows = [{"community": c, "member": m, "day": d, "xp": n}
                for (c, m, d), n in batch.items()]
        stmt = self._insert(xp_daily)
        stmt = stmt.on_conflict_do_update(
            index_elements=[xp_daily.c.community, xp_daily.c.member, xp_daily.c.day],
            set_={"xp": xp_daily.c.xp + stmt.excluded.xp},
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt, rows)

    async def _write_names(self, batch: dict[tuple[str, str, str], int]) -> None:
        rows = [{"community": c, "member": m, "name": n} for (c, m, n) in batch]
        stmt = self._insert(profiles)
        stmt = stmt.on_conflict_do_update(
            index_elements=[profiles.c.community, profiles.c.member],
            set_={"name": stmt.excluded.name},
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt, rows)

    async def flush(self) -> None:
        """Write pending XP and names now."""
        await self.names.flush()
        await self.xp.flush()

    async def teardown(self) -> None:
        """Flush what is in memory."""
        await self.flush()

    def _day(self, at: datetime) -> tuple[int, str]:
        ordinal = at.toordinal()
        text = self._days.get(ordinal)
        if text is None:
            text = self._days[ordinal] = at.date().isoformat()
        return ordinal, text

    # -- community state ------------------------------------------------------------------

    async def _community(self, community: CommunityRef) -> _Community:
        found = self._communities.get(community.key)
        if found is not None:
            return found
        pending = self._loading.get(community.key)
        if pending is not None:
            return await pending
        future: asyncio.Future[_Community] = asyncio.get_running_loop().create_future()
        self._loading[community.key] = future
        try:
            state = await self._load(community)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            self._loading.pop(community.key, None)
        self._communities[community.key] = state
        future.set_result(state)
        return state

    async def _load(self, community: CommunityRef) -> _Community:
        key = community.key
        config: ContributionsSettings = await self.config(community)  # type: ignore[assignment]
        state = _Community(key, config.curve)
        today = self.clock.now().toordinal()
        since = date.fromordinal(today - STREAK_DAYS - 1).isoformat()
        async with self.db.connect() as conn:
            for row in await conn.execute(
                select(xp_daily.c.member, func.sum(xp_daily.c.xp))
                .where(xp_daily.c.community == key).group_by(xp_daily.c.member)
            ):
                state.members[row[0]] = _Member(total=int(row[1] or 0))
            for row in await conn.execute(
                select(xp_daily.c.member, xp_daily.c.day)
                .where(xp_daily.c.community == key, xp_daily.c.day >= since, _earned())
                .order_by(xp_daily.c.day)
            ):
                member = state.members.setdefault(row[0], _Member())
                ordinal = date.fromisoformat(row[1]).toordinal()
                member.streak = member.streak + 1 if member.last_day == ordinal - 1 else 1
                member.last_day = ordinal
            for row in await conn.execute(
                select(badges.c.member, badges.c.badge).where(badges.c.community == key)
            ):
                state.members.setdefault(row[0], _Member()).badges.add(row[1])
            for row in await conn.execute(
                select(profiles.c.member, profiles.c.name).where(profiles.c.community == key)
            ):
                state.members.setdefault(row[0], _Member()).name = row[1]
        for member in state.members.values():
            self._relevel(state, member)
        await self.schedule("spotlight", community, rule=SPOTLIGHT_RULE, key="spotlight")
        await self.schedule("active", community, rule=ACTIVE_RULE, key="active")
        return state

    def _relevel(self, state: _Community, member: _Member) -> None:
        member.level = levels.level_for(state.curve, member.total)
        member.next_at = levels.threshold(state.curve, member.level + 1)

    def _member(self, state: _Community, ref: MemberRef) -> _Member:
        found = state.members.get(ref.id)
        if found is None:
            found = state.members[ref.id] = _Member()
            found.next_at = levels.threshold(state.curve, 1)
        if found.name != ref.name and ref.name:
            found.name = ref.name
            self.names.add((state.key, ref.id, ref.name), 0)
        return found

    def _add_xp(self, state: _Community, member_id: str, member: _Member, amount: int,
                day: str) -> int | None:
        """Add XP in memory and to the batch; the new level if one was crossed."""
        self.xp.add((state.key, member_id, day), amount)
        member.total += amount
        if member.total >= member.next_at:
            old = member.level
            self._relevel(state, member)
            return member.level if member.level > old else None
        if amount < 0:
            self._relevel(state, member)
        return None

    def _check_curve(self, state: _Community, curve: str) -> None:
        if state.curve != curve:
            state.curve = curve
            for member in state.members.values():
                self._relevel(state, member)

    # -- what counts ------------------------------------------------------------------------

    @on(CommunityJoined)
    async def joined(self, event: CommunityJoined, ctx: Context) -> None:
        """Load the community's state and schedule its jobs."""
        await self._community(event.community)

    @on(MessagePosted)
    async def posted(self, event: MessagePosted, ctx: Context) -> None:
        """Earn XP for a message (the hot path: no database wait in the common case).

        Private messages to the bot (answers to its DMs) are not contributions.
        """
        author = event.member
        if author.is_bot or event.channel.private:
            return
        state = self._communities.get(event.community.key)
        if state is None:
            state = await self._community(event.community)
        seen = state.seen
        if event.message_id in seen:
            return
        seen[event.message_id] = None
        if len(seen) > SEEN_MESSAGES:
            seen.popitem(last=False)
        config: ContributionsSettings = await ctx.settings()
        if state.curve != config.curve:
            self._check_curve(state, config.curve)
        member = self._member(state, author)
        at = event.at or self.clock.now()
        ordinal, day = self._day(at)
        if member.last_day != ordinal:
            member.streak = member.streak + 1 if member.last_day == ordinal - 1 else 1
            member.last_day = ordinal
        text = event.text.strip()
        digest = hash(text.casefold())
        amount = 0
        now = at.timestamp()
        if (
            config.earn_xp
            and len(text) >= config.min_length
            and (digest != member.last_hash or not text)  # empty: text not visible to us
            and now - member.last_xp >= config.cooldown_seconds
        ):
            amount = int(config.xp_per_message * config.multiplier)
            member.last_xp = now
        member.last_hash = digest
        level = self._add_xp(state, author.id, member, amount, day)
        if level is not None:
            await self._level_up(ctx, state, author, level, config)
        if "first_message" not in member.badges:
            await self._badge(ctx, state, author, member, "first_message", config)
        if member.streak >= STREAK_DAYS and "streak_7" not in member.badges:
            await self._badge(ctx, state, author, member, "streak_7", config)
        if event.mentions and config.thanks_phrases:
            folded = text.casefold()
            if any(p.casefold() in folded for p in config.thanks_phrases if p):
                done: set[str] = set()
                for target in event.mentions:
                    if target.id in done or target.id == author.id or target.is_bot:
                        continue
                    done.add(target.id)
                    await self._kudos(ctx, state, author, target, "", config, reply=False)

    @on(ReactionAdded)
    async def reacted(self, event: ReactionAdded, ctx: Context) -> None:
        """Reactions received earn the author XP, capped per message."""
        author = event.author
        if author is None or author.is_bot or author.id == event.member.id:
            return
        state = await self._community(event.community)
        config: ContributionsSettings = await ctx.settings()
        pair = (event.message_id, event.member.id)
        granted = state.reactions.get(pair)
        if granted is not None:
            granted.emojis.add(event.emoji)
            return
        count = state.reaction_counts.get(event.message_id, 0)
        if count >= config.reactions_per_message:
            return
        state.reactions[pair] = _Reaction(author.id, config.reaction_xp, {event.emoji})
        if len(state.reactions) > SEEN_REACTIONS:
            old, _ = state.reactions.popitem(last=False)
            state.reaction_counts.pop(old[0], None)
        state.reaction_counts[event.message_id] = count + 1
        member = self._member(state, author)
        _, day = self._day(event.at or self.clock.now())
        level = self._add_xp(state, author.id, member, config.reaction_xp, day)
        if level is not None:
            await self._level_up(ctx, state, author, level, config)

    @on(ReactionRemoved)
    async def unreacted(self, event: ReactionRemoved, ctx: Context) -> None:
        """Take back the reaction XP this member's reactions earned the author, once.

        Only reactions that earned XP since the community was loaded are known; the XP goes
        when the member's last reaction on the message is gone.
        """
        state = await self._community(event.community)
        pair = (event.message_id, event.member.id)
        granted = state.reactions.get(pair)
        if granted is None:
            return
        granted.emojis.discard(event.emoji)
        if granted.emojis:
            return
        del state.reactions[pair]
        count = state.reaction_counts.get(event.message_id, 0)
        if count > 1:
            state.reaction_counts[event.message_id] = count - 1
        else:
            state.reaction_counts.pop(event.message_id, None)
        member = state.members.get(granted.author)
        amount = min(granted.amount, max(member.total, 0)) if member is not None else 0
        if member is None or amount <= 0:
            return
        old = member.level
        _, day = self._day(event.at or self.clock.now())
        self._add_xp(state, granted.author, member, -amount, day)
        if member.level < old:
            author = event.author or MemberRef(event.community.platform, granted.author,
                                               member.name)
            config: ContributionsSettings = await ctx.settings()
            await self._dropped(ctx, state, author, member.level, config)

    @on(ContributionMade)
    async def contributed(self, event: ContributionMade, ctx: Context) -> None:
        """XP for what other plugins report, with a tally for badges."""
        state = await self._community(event.community)
        config: ContributionsSettings = await ctx.settings()
        member = self._member(state, event.member)
        _, day = self._day(event.at or self.clock.now())
        raw = pairs(config.weights).get(event.kind, "0")
        weight = int(raw) if raw.lstrip("-").isdigit() else 0
        level = self._add_xp(state, event.member.id, member, weight, day) if weight else None
        count = await self._tally(state.key, event.member.id, event.kind)
        if level is not None:
            await self._level_up(ctx, state, event.member, level, config)
        if event.kind == "event_attended" and count >= config.event_regular:
            await self._badge(ctx, state, event.member, member, "event_regular", config)
        if event.kind == "suggestion_adopted":
            await self._badge(ctx, state, event.member, member, "idea_adopted", config)

    async def _tally(self, community: str, member: str, kind: str, by: int = 1) -> int:
        stmt = self._insert(tallies).values(community=community, member=member, kind=kind,
                                            count=by)
        stmt = stmt.on_conflict_do_update(
            index_elements=[tallies.c.community, tallies.c.member, tallies.c.kind],
            set_={"count": tallies.c.count + by},
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)
            found = await conn.execute(
                select(tallies.c.count).where(tallies.c.community == community,
                                              tallies.c.member == member,
                                              tallies.c.kind == kind))
            return int(found.scalar_one())

    # -- kudos ------------------------------------------------------------------------------

    async def _kudos(self, ctx: Context, state: _Community, giver: MemberRef,
                     receiver: MemberRef, reason: str, config: ContributionsSettings,
                     *, reply: bool) -> None:
        answer = ctx.reply if reply else ctx.send
        if receiver.id == giver.id:
            await ctx.reply(ctx.t("You cannot give kudos to yourself."), private=True)
            return
        if receiver.is_bot:
            await ctx.reply(ctx.t("Kudos are for members, not bots."), private=True)
            return
        now = ctx.now()
        _, day = self._day(now)
        async with self.db.begin() as conn:
            given = (await conn.execute(
                select(func.count()).select_from(kudos).where(
                    kudos.c.community == state.key, kudos.c.giver == giver.id,
                    kudos.c.day == day))).scalar_one()
            if given >= config.kudos_daily_cap:
                refused = True
            else:
                refused = False
                await conn.execute(insert(kudos).values(
                    community=state.key, giver=giver.id, receiver=receiver.id, day=day, at=now,
                    reason=reason))
        if refused:
            await ctx.reply(ctx.tn("You can give {n} kudos a day; try again tomorrow.",
                                   "You can give {n} kudos a day; try again tomorrow.",
                                   config.kudos_daily_cap), private=True)
            return
        karma = await self._tally(state.key, receiver.id, "kudos")
        member = self._member(state, receiver)
        level = self._add_xp(state, receiver.id, member, config.kudos_xp, day)
        if reason:
            text = ctx.t("💛 {giver} gave kudos to {receiver}: {reason} (karma: {karma})",
                         giver=giver.display_name, receiver=ctx.mention(receiver),
                         reason=reason, karma=ctx.i18n.number(karma))
        else:
            text = ctx.t("💛 {giver} thanked {receiver} (karma: {karma})",
                         giver=giver.display_name, receiver=ctx.mention(receiver),
                         karma=ctx.i18n.number(karma))
        if reply:
            await answer(text)
        else:
            await ctx.send(text, mentions=[receiver])
        if level is not None:
            await self._level_up(ctx, state, receiver, level, config)
        if karma >= config.helper_kudos:
            await self._badge(ctx, state, receiver, member, "helper", config)

    @command("kudos", help=N_("Thank a member: /kudos @member [reason]"))
    async def kudos_command(
        self,
        ctx: Context,
        member: Annotated[MemberRef, Param(help=N_("Who to thank"))],
        reason: Annotated[str | None, Param(help=N_("What for"), max_length=300)] = None,
    ) -> None:
        """Give kudos to a member."""
        assert ctx.member is not None
        state = await self._community(ctx.community)
        config: ContributionsSettings = await ctx.settings()
        await self._kudos(ctx, state, ctx.member, member, reason or "", config, reply=True)

    @command("award", help=N_("Give or take points: /award @member POINTS reason"),
             privilege=Privilege.ADMIN)
    async def award(
        self,
        ctx: Context,
        member: Annotated[MemberRef, Param(help=N_("Who"))],
        points: Annotated[int, Param(help=N_("Points; negative to correct"),
                                     min=-100000, max=100000)],
        reason: Annotated[str, Param(help=N_("Why"), max_length=300)],
    ) -> None:
        """Award (or take back) XP, logged with the admin and the reason."""
        assert ctx.member is not None
        state = await self._community(ctx.community)
        config: ContributionsSettings = await ctx.settings()
        async with self.db.begin() as conn:
            await conn.execute(insert(awards).values(
                community=state.key, member=member.id, by=ctx.member.id, points=points,
                reason=reason, at=ctx.now()))
        target = self._member(state, member)
        _, day = self._day(ctx.now())
        level = self._add_xp(state, member.id, target, points, day)
        await ctx.reply(ctx.tn("{member} received {n} point: {reason}",
                               "{member} received {n} points: {reason}", points,
                               member=member.display_name, reason=reason))
        if level is not None:
            await self._level_up(ctx, state, member, level, config)

    # -- levels, badges, rewards ----------------------------------------------------------

    async def _level_up(self, ctx: Context, state: _Community, member: MemberRef, level: int,
                        config: ContributionsSettings) -> None:
        role = pairs(config.role_rewards).get(f"level:{level}") if config.role_rewards else None
        if config.level_up == "off" and not role:
            return
        mctx = self.context(ctx.community, channel=ctx.channel, member=member)
        text = mctx.t("🎉 {member} reached level {level}!", member=mctx.mention(member),
                      level=mctx.i18n.number(level))
        if config.level_up == "channel":
            await mctx.send(text, mentions=[member])
        elif config.level_up == "dm":
            await mctx.dm(member, text)
        if role:
            title = mctx.i18n.plain("Level {level}").format(level=level)
            if config.role_mode == "replace":
                await self._revoke_levels(mctx, state, member)
            await self._grant(mctx, state, member, f"level:{level}", role, title)

    async def _badge(self, ctx: Context, state: _Community, ref: MemberRef, member: _Member,
                     badge: str, config: ContributionsSettings) -> None:
        if badge in member.badges:
            return
        member.badges.add(badge)
        async with self.db.begin() as conn:
            await conn.execute(self._insert(badges).values(
                community=state.key, member=ref.id, badge=badge, at=ctx.now()
            ).on_conflict_do_nothing())
        mctx = self.context(ctx.community, channel=ctx.channel, member=ref)
        title = mctx.i18n.plain(BADGES[badge])
        await mctx.send(mctx.t("🏅 {member} earned the badge “{badge}”!",
                               member=mctx.mention(ref), badge=title), mentions=[ref])
        role = pairs(config.role_rewards).get(f"badge:{badge}")
        await self._grant(mctx, state, ref, f"badge:{badge}", role, title)

    async def _grant(self, ctx: Context, state: _Community, member: MemberRef, key: str,
                     role: str | None, title: str) -> None:
        """Grant a reward; role rewards are recorded so /rewards_retry can grant them again."""
        role_ref = RoleRef(ctx.community.platform, role) if role else None
        await ctx.grant(member, Reward(badge=key.split(":", 1)[1], role=role_ref, title=title))
        if role:
            stmt = self._insert(rewards).values(
                community=state.key, member=member.id, reward=key, role=role, at=ctx.now())
            stmt = stmt.on_conflict_do_update(
                index_elements=[rewards.c.community, rewards.c.member, rewards.c.reward],
                set_={"role": role})
            async with self.db.begin() as conn:
                await conn.execute(stmt)

    async def _revoke_levels(self, ctx: Context, state: _Community, member: MemberRef) -> None:
        async with self.db.begin() as conn:
            rows = list(await conn.execute(
                select(rewards.c.reward, rewards.c.role).where(
                    rewards.c.community == state.key, rewards.c.member == member.id,
                    rewards.c.reward.startswith("level:"))))
            await conn.execute(delete(rewards).where(
                rewards.c.community == state.key, rewards.c.member == member.id,
                rewards.c.reward.startswith("level:")))
        for reward_key, role in rows:
            await ctx.grant(member, Reward(badge=reward_key.split(":", 1)[1],
                                           role=RoleRef(ctx.community.platform, role)),
                            revoke=True)

    async def _dropped(self, ctx: Context, state: _Community, member: MemberRef, level: int,
                       config: ContributionsSettings) -> None:
        """After XP was lost, revoke level roles above ``level``.

        In ``replace`` mode the highest configured level role still earned is granted again.
        """
        async with self.db.begin() as conn:
            rows = [(key, role) for key, role in await conn.execute(
                select(rewards.c.reward, rewards.c.role).where(
                    rewards.c.community == state.key, rewards.c.member == member.id,
                    rewards.c.reward.startswith("level:")))
                    if _level_of(key) > level]
            if rows:
                await conn.execute(delete(rewards).where(
                    rewards.c.community == state.key, rewards.c.member == member.id,
                    rewards.c.reward.in_([key for key, _ in rows])))
        if not rows:
            return
        mctx = self.context(ctx.community, channel=ctx.channel, member=member)
        for key, role in rows:
            title = mctx.i18n.plain("Level {level}").format(level=_level_of(key))
            await mctx.grant(member, Reward(badge=key.split(":", 1)[1], title=title,
                                            role=RoleRef(ctx.community.platform, role)),
                             revoke=True)
        if config.role_mode == "replace":
            held = [(_level_of(k), r) for k, r in pairs(config.role_rewards).items()
                    if k.startswith("level:") and 0 < _level_of(k) <= level]
            if held:
                top, role_id = max(held)
                title = mctx.i18n.plain("Level {level}").format(level=top)
                await self._grant(mctx, state, member, f"level:{top}", role_id, title)

    @command("rewards_retry", help=N_("Grant every recorded role reward again (after fixing "
                                      "the bot's permissions)"), privilege=Privilege.ADMIN)
    async def rewards_retry(self, ctx: Context) -> None:
        """Grant recorded role rewards again; granting a role someone has is harmless."""
        async with self.db.connect() as conn:
            rows = list(await conn.execute(
                select(rewards.c.member, rewards.c.reward, rewards.c.role)
                .where(rewards.c.community == ctx.community.key)
                .order_by(rewards.c.member, rewards.c.reward)))
        for member_id, reward_key, role in rows:
            member = MemberRef(ctx.community.platform, member_id)
            await ctx.grant(member, Reward(badge=reward_key.split(":", 1)[1],
                                           role=RoleRef(ctx.community.platform, role)))
        await ctx.reply(ctx.tn("Granting {n} role reward again.",
                               "Granting {n} role rewards again.", len(rows)))

    # -- rank and leaderboards ------------------------------------------------------------

    @command("rank", help=N_("Your level, XP and rank (or another member's)"))
    async def rank(
        self, ctx: Context,
        member: Annotated[MemberRef | None, Param(help=N_("Whose rank"))] = None,
    ) -> None:
        """Show a rank card."""
        assert ctx.member is not None
        who = member or ctx.member
        state = await self._community(ctx.community)
        config: ContributionsSettings = await ctx.settings()
        self._check_curve(state, config.curve)
        data = state.members.get(who.id) or _Member()
        level, into, need = levels.progress(state.curve, data.total)
        position = 1 + sum(1 for m in state.members.values() if m.total > data.total)
        badge_names = [ctx.i18n.plain(BADGES[b]) for b in sorted(data.badges) if b in BADGES]
        name = who.name or data.name or who.id
        text = ctx.t("{name}: level {level}, {xp} XP, rank #{rank}", name=name,
                     level=ctx.i18n.number(level), xp=ctx.i18n.number(data.total),
                     rank=ctx.i18n.number(position))
        attachments: list[Attachment] = []
        if ctx.has(Capability.IMAGES):
            png = render_card(CardData(
                name=name,
                level_label=ctx.i18n.plain("Level {level}").format(level=level),
                rank_label=ctx.i18n.plain("Rank #{rank}").format(rank=position),
                xp_label=ctx.i18n.plain("{into} / {need} XP to the next level").format(
                    into=into, need=need),
                badges_label=badge_line(badge_names),
                fraction=into / need if need else 0.0,
            ), rtl=ctx.i18n.rtl)
            attachments.append(Attachment("rank.png", png, image=True))
        await ctx.reply(text, attachments=attachments)

    async def _top(self, community: str, since: str | None, limit: int) -> list[tuple[str, int]]:
        await self.flush()
        total = func.sum(xp_daily.c.xp).label("total")
        query = (
            select(xp_daily.c.member, total)
            .where(xp_daily.c.community == community)
            .where(xp_daily.c.member.not_in(
                select(profiles.c.member).where(profiles.c.community == community,
                                                profiles.c.opt_out.is_(True))))
            .group_by(xp_daily.c.member)
            .having(total > 0)
            .order_by(total.desc(), xp_daily.c.member)
            .limit(limit)
        )
        if since is not None:
            query = query.where(xp_daily.c.day >= since)
        async with self.db.connect() as conn:
            return [(row[0], int(row[1])) for row in await conn.execute(query)]

    @command("leaderboard", help=N_("Top contributors this week, this month or of all time"))
    async def leaderboard(
        self, ctx: Context,
        period: Annotated[Literal["week", "month", "all"],
                          Param(help=N_("week, month or all"))] = "all",
    ) -> None:
        """List the top ten."""
        state = await self._community(ctx.community)
        days = {"week": 7, "month": 30}.get(period)
        since = (ctx.now().date() - timedelta(days=days - 1)).isoformat() if days else None
        top = await self._top(state.key, since, 10)
        titles = {"week": ctx.t("🏆 Top contributors this week"),
                  "month": ctx.t("🏆 Top contributors this month"),
                  "all": ctx.t("🏆 Top contributors of all time")}
        if not top:
            await ctx.reply(ctx.t("No one has earned XP yet."))
            return
        lines = [titles[period]]
        for i, (member_id, xp) in enumerate(top, 1):
            known = state.members.get(member_id)
            lines.append(ctx.t("{place}. {name} — {xp} XP", place=ctx.i18n.number(i),
                               name=(known.name if known and known.name else member_id),
                               xp=ctx.i18n.number(xp)))
        await ctx.reply("\n".join(str(line) for line in lines))

    @command("leaderboard_optout", help=N_("Hide or show yourself on leaderboards"))
    async def optout(self, ctx: Context) -> None:
        """Toggle being listed on leaderboards."""
        assert ctx.member is not None
        key = ctx.community.key
        async with self.db.begin() as conn:
            current = (await conn.execute(select(profiles.c.opt_out).where(
                profiles.c.community == key, profiles.c.member == ctx.member.id))).scalar()
            if current is None:
                await conn.execute(insert(profiles).values(
                    community=key, member=ctx.member.id, name=ctx.member.name, opt_out=True))
                hidden = True
            else:
                hidden = not current
                await conn.execute(update(profiles).where(
                    profiles.c.community == key, profiles.c.member == ctx.member.id
                ).values(opt_out=hidden))
        if hidden:
            await ctx.reply(ctx.t("You are no longer listed on leaderboards."), private=True)
        else:
            await ctx.reply(ctx.t("You are listed on leaderboards again."), private=True)

    # -- jobs -------------------------------------------------------------------------------

    @job("spotlight")
    async def spotlight(self, ctx: Context, data: dict[str, Any]) -> None:
        """Celebrate the week's top contributors and new badges."""
        config: ContributionsSettings = await ctx.settings()
        if not config.spotlight:
            return
        state = await self._community(ctx.community)
        now = ctx.now()
        since = (now.date() - timedelta(days=7)).isoformat()
        top = await self._top(state.key, since, 3)
        async with self.db.connect() as conn:
            new_badges = list(await conn.execute(
                select(badges.c.member, badges.c.badge)
                .where(badges.c.community == state.key, badges.c.at >= now - timedelta(days=7))
                .order_by(badges.c.at, badges.c.member)))
        if not top and not new_badges:
            return
        lines = [ctx.t("🌟 This week's spotlight")]
        medals = ("🥇", "🥈", "🥉")
        for medal, (member_id, xp) in zip(medals, top, strict=False):
            known = state.members.get(member_id)
            lines.append(ctx.t("{medal} {name} — {xp} XP", medal=medal,
                               name=known.name if known and known.name else member_id,
                               xp=ctx.i18n.number(xp)))
        if new_badges:
            lines.append(ctx.t("New badges:"))
            for member_id, badge in new_badges:
                known = state.members.get(member_id)
                lines.append(ctx.t("🏅 {name}: {badge}",
                                   name=known.name if known and known.name else member_id,
                                   badge=ctx.i18n.plain(BADGES.get(badge, badge))))
        lines.append(ctx.t("Thank you all for making this community what it is!"))
        named = [m for m, _ in top] + [m for m, _ in new_badges]
        await ctx.send("\n".join(str(line) for line in lines), about=named)

    @job("active")
    async def active(self, ctx: Context, data: dict[str, Any]) -> None:
        """The daily job: active-member status, then XP decay for long-inactive members."""
        config: ContributionsSettings = await ctx.settings()
        state = await self._community(ctx.community)
        if config.active_days:
            await self._active(ctx, state, config)
        if config.decay_after_days:
            await self._decay(ctx, state, config)

    async def _active(self, ctx: Context, state: _Community,
                      config: ContributionsSettings) -> None:
        """Grant active-member status after recent activity; remove it when it lapses."""
        await self.flush()
        since = (ctx.now().date() - timedelta(days=config.active_days - 1)).isoformat()
        async with self.db.begin() as conn:
            recent = set((await conn.execute(
                select(xp_daily.c.member).where(xp_daily.c.community == state.key,
                                                xp_daily.c.day >= since,
                                                _earned()).distinct())).scalars())
            flagged = set((await conn.execute(
                select(profiles.c.member).where(profiles.c.community == state.key,
                                                profiles.c.active.is_(True)))).scalars())
            gained, lapsed = sorted(recent - flagged), sorted(flagged - recent)
            for member_id in gained:
                stmt = self._insert(profiles).values(community=state.key, member=member_id,
                                                     active=True)
                await conn.execute(stmt.on_conflict_do_update(
                    index_elements=[profiles.c.community, profiles.c.member],
                    set_={"active": True}))
            if lapsed:
                await conn.execute(update(profiles).where(
                    profiles.c.community == state.key, profiles.c.member.in_(lapsed)
                ).values(active=False))
        role_id = pairs(config.role_rewards).get("badge:active")
        role = RoleRef(ctx.community.platform, role_id) if role_id else None
        title = ctx.i18n.plain(BADGES["active"])
        for member_id, revoke in [*((m, False) for m in gained), *((m, True) for m in lapsed)]:
            known = state.members.get(member_id)
            ref = MemberRef(ctx.community.platform, member_id, known.name if known else "")
            await ctx.grant(ref, Reward(badge="active", role=role, title=title), revoke=revoke)

    async def _decay(self, ctx: Context, state: _Community,
                     config: ContributionsSettings) -> None:
        """Take ``decay_percent`` of the XP of members inactive for ``decay_after_days``.

        Once per period of inactivity (the period restarts at each decay), recorded in
        ``contributions_decay`` and as a negative ``xp_daily`` entry; never below 0 XP, and a
        second run on the same day finds the row and does nothing.
        """
        await self.flush()
        ordinal, day = self._day(self.clock.now())
        cutoff = date.fromordinal(ordinal - config.decay_after_days).isoformat()
        key = state.key
        taken: dict[str, int] = {}
        async with self.db.begin() as conn:
            totals = dict((await conn.execute(
                select(xp_daily.c.member, func.sum(xp_daily.c.xp))
                .where(xp_daily.c.community == key).group_by(xp_daily.c.member))).all())
            last = dict((await conn.execute(
                select(xp_daily.c.member, func.max(xp_daily.c.day))
                .where(xp_daily.c.community == key, _earned())
                .group_by(xp_daily.c.member))).all())
            for member_id, decayed in await conn.execute(
                select(decay.c.member, func.max(decay.c.day))
                .where(decay.c.community == key).group_by(decay.c.member)
            ):
                last[member_id] = max(last.get(member_id, ""), decayed)
            for member_id in sorted(totals):
                total = int(totals[member_id] or 0)
                if total <= 0 or last.get(member_id, "") > cutoff:
                    continue
                amount = min(total, max(1, total * config.decay_percent // 100))
                added = await conn.execute(self._insert(decay).values(
                    community=key, member=member_id, day=day, xp=-amount
                ).on_conflict_do_nothing())
                if not added.rowcount:
                    continue
                stmt = self._insert(xp_daily).values(community=key, member=member_id,
                                                     day=day, xp=-amount)
                await conn.execute(stmt.on_conflict_do_update(
                    index_elements=[xp_daily.c.community, xp_daily.c.member, xp_daily.c.day],
                    set_={"xp": xp_daily.c.xp + stmt.excluded.xp}))
                taken[member_id] = amount
        for member_id, amount in taken.items():
            member = state.members.setdefault(member_id, _Member())
            old = member.level
            member.total -= amount
            self._relevel(state, member)
            if member.level < old:
                ref = MemberRef(ctx.community.platform, member_id, member.name)
                await self._dropped(ctx, state, ref, member.level, config)

    # -- privacy ----------------------------------------------------------------------------

    def _mine(self, table: Any, member: MemberRef, column: str = "member") -> Any:
        return (table.c[column] == member.id) & table.c.community.startswith(
            member.platform + ":")

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Everything stored about the member."""
        await self.flush()
        out: dict[str, Any] = {}
        async with self.db.connect() as conn:
            for name, table in (("xp", xp_daily), ("profile", profiles), ("awards", awards),
                                ("badges", badges), ("tallies", tallies),
                                ("rewards", rewards), ("decay", decay)):
                rows = await conn.execute(select(table).where(self._mine(table, member)))
                out[name] = [_jsonable(row._mapping) for row in rows]
            rows = await conn.execute(select(kudos).where(
                or_(self._mine(kudos, member, "giver"), self._mine(kudos, member, "receiver"))))
            out["kudos"] = [_jsonable(row._mapping) for row in rows]
        return out

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's rows and in-memory state."""
        await self.flush()
        async with self.db.begin() as conn:
            for table in (xp_daily, profiles, awards, badges, tallies, rewards, decay):
                await conn.execute(delete(table).where(self._mine(table, member)))
            await conn.execute(delete(kudos).where(
                or_(self._mine(kudos, member, "giver"), self._mine(kudos, member, "receiver"))))
            await conn.execute(update(awards).where(
                self._mine(awards, member, "by")).values(by=""))
        for key, state in self._communities.items():
            if key.startswith(member.platform + ":"):
                state.members.pop(member.id, None)


def _earned() -> Any:
    """Ledger rows that show activity: all but the rows holding only a decay."""
    return ~exists().where(decay.c.community == xp_daily.c.community,
                           decay.c.member == xp_daily.c.member, decay.c.day == xp_daily.c.day,
                           decay.c.xp == xp_daily.c.xp)


def _level_of(reward: str) -> int:
    """The level in a ``level:N`` reward key (0 when it is not one)."""
    _, _, text = reward.partition(":")
    return int(text) if text.isdigit() else 0


def _jsonable(row: Iterable[Any] | Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}
