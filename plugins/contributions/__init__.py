"""Contributions: XP, kudos, levels, badges, role rewards, leaderboards and a weekly spotlight.

Read top-down: the Plugin class below holds the settings, handlers, commands and jobs, each
thin; the rules live in ``rules.py`` (pure), queries and batched writers in ``store.py``,
level-ups, badges and role rewards in ``rewards.py``, texts and the rank card in
``render.py`` (and ``card.py``), the settings model in ``settings.py``, level curves in
``levels.py``, tables in ``tables.py``.

Hot path: the message and reaction handlers are plain ``def``s. A community's state (every
member's XP, level, cooldown, streak, badges; recent days of the ledger; kudos caps) is
loaded in :meth:`Contributions.open`, and what changes goes to batched writers flushed at
least every second. Only rare moments (a level-up, a badge, a kudos note) post, through
``ctx.spawn``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from bot import (
    N_,
    Attachment,
    Capability,
    CommunityRef,
    Context,
    ContributionMade,
    MemberRef,
    MessagePosted,
    Param,
    Plugin,
    Privilege,
    ReactionAdded,
    ReactionRemoved,
    command,
    job,
    on,
)
from plugins.contributions import levels, render, rules
from plugins.contributions.rewards import Rewards
from plugins.contributions.rules import BADGES, STREAK_DAYS, CommunityState, MemberState
from plugins.contributions.settings import DEFAULT_PHRASES, ContributionsSettings
from plugins.contributions.store import Store
from plugins.contributions.tables import metadata

SPOTLIGHT_RULE = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"
ACTIVE_RULE = "FREQ=DAILY;BYHOUR=3;BYMINUTE=0"
#: Days of the leaderboards of a period (their sums are kept up to date in memory).
PERIODS = {"week": 7, "month": 30}
#: Members the spotlight considers (enough to show everyone tied for the third place).
SPOTLIGHT_CANDIDATES = 10

__all__ = ["BADGES", "DEFAULT_PHRASES", "STREAK_DAYS", "Contributions",
           "ContributionsSettings", "levels"]


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

    def __init__(self, kernel: Any) -> None:
        """No community is loaded yet; XP, names, tallies and kudos go to batched writers."""
        super().__init__(kernel)
        self.store = Store(self.db)
        self.rewards = Rewards(self, self.store)
        self._communities: dict[str, CommunityState] = {}
        self._days: dict[int, tuple[int, str]] = {}
        self._lock = asyncio.Lock()
        self.xp = self.accumulator(self.store.write_xp)
        self.names = self.accumulator(self.store.write_names)
        self.tallies = self.accumulator(self.store.write_tallies)
        kernel.counters.also_flush(self.store.flush_rows)

    # -- life cycle -------------------------------------------------------------------------

    async def open(self, community: CommunityRef) -> None:
        """Load the community's state (one connection) and schedule its jobs."""
        if community.key in self._communities:
            return
        config: ContributionsSettings = await self.config(community)  # type: ignore[assignment]
        state = await self.store.load(community.key, config.curve, self.clock.now().toordinal())
        for member in state.members.values():
            rules.relevel(state.curve, member)
        rules.open_windows(state, self.clock.now().toordinal(), list(PERIODS.values()))
        if community.key in self._communities:
            return  # opened meanwhile (a command's _state beside the dispatcher): that one
            # may have counted messages already, which this load would drop
        self._communities[community.key] = state
        await self.schedule("spotlight", community, rule=SPOTLIGHT_RULE, key="spotlight")
        await self.schedule("active", community, rule=ACTIVE_RULE, key="active")

    async def flush(self) -> None:
        """Write everything pending now (kudos, names, XP, tallies)."""
        await self.store.flush_rows()
        await self.names.flush()
        await self.xp.flush()
        await self.tallies.flush()

    async def teardown(self) -> None:
        """Flush what is in memory."""
        await self.flush()

    async def _state(self, community: CommunityRef) -> CommunityState:
        """The community's state for commands and jobs (loaded if its opening failed)."""
        state = self._communities.get(community.key)
        if state is None:
            async with self._lock:
                await self.open(community)
            state = self._communities[community.key]
        return state

    # -- in-memory bookkeeping ------------------------------------------------------------

    def _day(self, at: datetime) -> tuple[int, str]:
        ordinal = at.toordinal()
        day = self._days.get(ordinal)
        if day is None:
            # one int per day, not per message: every member who posts keeps it (last_day)
            day = self._days[ordinal] = (ordinal, at.date().isoformat())
        return day

    def _member(self, state: CommunityState, ref: MemberRef) -> MemberState:
        member, renamed = rules.member_of(state, ref)
        if renamed:
            self.names.add((state.key, ref.id, ref.name), 0)
        return member

    def _add_xp(self, state: CommunityState, member_id: str, member: MemberState, amount: int,
                day: str) -> int | None:
        """Add XP in memory and to the batch; the new level if one was crossed.

        Nothing earned on a day already in the member's ledger changes nothing (the day's
        row exists or is in the batch), so most cooled-down messages stop here.
        """
        if not amount:
            ledger = state.days.get(day)
            if ledger is not None and member_id in ledger:
                return None
        self.xp.add((state.key, member_id, day), amount)
        return rules.add_xp(state, member_id, member, amount, day)

    def _public(self, ctx: Context) -> Any:
        """The translator of what the bot posts for the community (its language, 11.5)."""
        if not ctx.answering:
            return ctx.i18n
        return self.context(ctx.community, channel=ctx.channel).i18n

    # -- what counts (the hot path) ---------------------------------------------------------

    @on(MessagePosted)
    def posted(self, event: MessagePosted, ctx: Context) -> None:
        """Earn XP for a message; never waits. Private messages to the bot do not count."""
        author = event.member
        if author.is_bot or event.channel.private:
            return
        state = self._communities.get(event.community.key)
        if state is None or not rules.first_time(state, event.message_id):
            return  # not opened (the failure is reported) or a replay
        config: ContributionsSettings = ctx.config
        if state.curve != config.curve:
            rules.check_curve(state, config.curve)
        member = self._member(state, author)
        at = event.at or self.clock.now()
        ordinal, day = self._day(at)
        rules.count_day(member, ordinal)
        text = event.text.strip()
        amount = rules.message_xp(
            member, text, at.timestamp(), earns=config.earn_xp, xp=config.xp_per_message,
            multiplier=config.multiplier, min_length=config.min_length,
            cooldown=config.cooldown_seconds)
        level = self._add_xp(state, author.id, member, amount, day)
        if level is not None:
            ctx.spawn(self.rewards.level_up(ctx, state, author, level, config))
        if "first_message" not in member.badges:
            self.rewards.badge(ctx, state, author, member, "first_message", config)
        if member.streak >= STREAK_DAYS and "streak_7" not in member.badges:
            self.rewards.badge(ctx, state, author, member, "streak_7", config)
        if not event.mentions:
            return  # nearly every message: no kudos to look for
        for target in rules.thanked(text, event.mentions, author, config.thanks_phrases):
            ctx.spawn(self._kudos(ctx, state, author, target, "", config, reply=False))

    @on(ReactionAdded)
    def reacted(self, event: ReactionAdded, ctx: Context) -> None:
        """Reactions received earn the author XP, once per reacting member, capped."""
        author = event.author
        if author is None or author.is_bot or author.id == event.member.id:
            return
        state = self._communities.get(event.community.key)
        if state is None:
            return
        config: ContributionsSettings = ctx.config
        if not rules.reaction_added(state, event.message_id, event.member.id, author.id,
                                    event.emoji, cap=config.reactions_per_message,
                                    xp=config.reaction_xp):
            return
        member = self._member(state, author)
        _, day = self._day(event.at or self.clock.now())
        level = self._add_xp(state, author.id, member, config.reaction_xp, day)
        if level is not None:
            ctx.spawn(self.rewards.level_up(ctx, state, author, level, config))

    @on(ReactionRemoved)
    def unreacted(self, event: ReactionRemoved, ctx: Context) -> None:
        """Take back the XP a member's reactions earned once their last one is gone.

        Only reactions seen since the community was loaded are known.
        """
        state = self._communities.get(event.community.key)
        if state is None:
            return
        found = rules.reaction_removed(state, event.message_id, event.member.id, event.emoji)
        if found is None:
            return
        author_id, amount = found
        member = state.members[author_id]
        old = member.level
        _, day = self._day(event.at or self.clock.now())
        self._add_xp(state, author_id, member, -amount, day)
        if member.level < old:
            author = event.author or MemberRef(event.community.platform, author_id, member.name)
            ctx.spawn(self.rewards.dropped(ctx, state, author, member.level, ctx.config))

    @on(ContributionMade)
    def contributed(self, event: ContributionMade, ctx: Context) -> None:
        """XP for what other plugins report (``weights``), with a tally for badges."""
        state = self._communities.get(event.community.key)
        if state is None:
            return
        config: ContributionsSettings = ctx.config
        member = self._member(state, event.member)
        _, day = self._day(event.at or self.clock.now())
        weight = config.weight(event.kind)
        level = self._add_xp(state, event.member.id, member, weight, day) if weight else None
        count = rules.tally(state, event.member.id, event.kind)
        self.tallies.add((state.key, event.member.id, event.kind))
        if level is not None:
            ctx.spawn(self.rewards.level_up(ctx, state, event.member, level, config))
        if event.kind == "event_attended" and count >= config.event_regular:
            self.rewards.badge(ctx, state, event.member, member, "event_regular", config)
        if event.kind == "suggestion_adopted":
            self.rewards.badge(ctx, state, event.member, member, "idea_adopted", config)

    # -- kudos ------------------------------------------------------------------------------

    def _kudos(self, ctx: Context, state: CommunityState, giver: MemberRef,
               receiver: MemberRef, reason: str, config: ContributionsSettings,
               *, reply: bool) -> Awaitable[Any]:
        """Give kudos in memory now; returns the posting to await or spawn.

        Refusals are private and in the giver's language; the note is public and in the
        community's (issue 11.5).
        """
        personal = ctx.personal
        if receiver.id == giver.id:
            return ctx.reply(personal.t("You cannot give kudos to yourself."), private=True)
        if receiver.is_bot:
            return ctx.reply(personal.t("Kudos are for members, not bots."), private=True)
        now = ctx.now()
        _, day = self._day(now)
        why = rules.kudos_refusal(state, giver.id, receiver.id, day,
                                  daily_cap=config.kudos_daily_cap,
                                  pair_cap=config.kudos_pair_cap)
        if why is not None:
            cap = config.kudos_pair_cap if why == "pair" else config.kudos_daily_cap
            return ctx.reply(render.kudos_refused(personal, why, receiver.display_name, cap),
                             private=True)
        karma = rules.count_kudos(state, giver.id, receiver.id, day)
        self.tallies.add((state.key, receiver.id, "kudos"))
        self.store.add_kudos(state.key, giver.id, receiver.id, day, now, reason)
        member = self._member(state, receiver)
        level = self._add_xp(state, receiver.id, member, config.kudos_xp, day)
        if karma >= config.helper_kudos:
            self.rewards.badge(ctx, state, receiver, member, "helper", config)
        return self._kudos_posted(ctx, state, giver, receiver, reason, karma, level, config,
                                  reply=reply)

    async def _kudos_posted(self, ctx: Context, state: CommunityState, giver: MemberRef,
                            receiver: MemberRef, reason: str, karma: int, level: int | None,
                            config: ContributionsSettings, *, reply: bool) -> None:
        text = render.kudos_note(self._public(ctx), giver.display_name,
                                 ctx.mention(receiver), reason, karma)
        if reply:
            await ctx.reply(text)
        else:
            await ctx.send(text, mentions=[receiver])
        if level is not None:
            await self.rewards.level_up(ctx, state, receiver, level, config)

    @command("kudos", help=N_("Thank a member: /kudos @member [reason]"))
    async def kudos_command(
        self,
        ctx: Context,
        member: Annotated[MemberRef, Param(help=N_("Who to thank"))],
        reason: Annotated[str | None, Param(help=N_("What for"), max_length=300)] = None,
    ) -> None:
        """Give kudos to a member."""
        assert ctx.member is not None
        state = await self._state(ctx.community)
        await self._kudos(ctx, state, ctx.member, member, reason or "", ctx.config, reply=True)

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
        """Award (or take back) XP, logged with the admin and the reason.

        An award is announced publicly; taking points back is told only to the admin.
        """
        assert ctx.member is not None
        if points == 0:
            await ctx.reply(ctx.t("Give a number of points other than 0: positive to award, "
                                  "negative to take back (for example 50 or -20)."),
                            private=True)
            return
        state = await self._state(ctx.community)
        await self.store.record_award(state.key, member.id, ctx.member.id, points, reason,
                                      ctx.now())
        target = self._member(state, member)
        _, day = self._day(ctx.now())
        level = self._add_xp(state, member.id, target, points, day)
        if points < 0:
            await ctx.reply(render.correction(ctx.i18n, member.display_name, -points, reason),
                            private=True)
            return
        await ctx.reply(render.award(self._public(ctx), member.display_name, points, reason))
        if level is not None:
            await self.rewards.level_up(ctx, state, member, level, ctx.config)

    @command("rewards_retry", help=N_("Grant every recorded role reward again (after fixing "
                                      "the bot's permissions)"), privilege=Privilege.ADMIN)
    async def rewards_retry(self, ctx: Context) -> None:
        """Grant recorded role rewards again; granting a role someone has is harmless."""
        count = await self.rewards.retry(ctx)
        await ctx.reply(ctx.tn("Granting {n} role reward again.",
                               "Granting {n} role rewards again.", count))

    # -- rank and leaderboards ------------------------------------------------------------

    def _name(self, state: CommunityState, member_id: str) -> str:
        known = state.members.get(member_id)
        return known.name if known is not None and known.name else member_id

    @command("rank", help=N_("Your level, XP and rank (or another member's)"))
    async def rank(
        self, ctx: Context,
        member: Annotated[MemberRef | None, Param(help=N_("Whose rank"))] = None,
    ) -> None:
        """Show a rank card."""
        assert ctx.member is not None
        who = member or ctx.member
        state = await self._state(ctx.community)
        rules.check_curve(state, ctx.config.curve)
        data = state.members.get(who.id) or MemberState()
        level = levels.level_for(state.curve, data.total)
        position = rules.rank_of(state, data.total)
        name = who.name or data.name or who.id
        attachments: list[Attachment] = []
        if ctx.has(Capability.IMAGES):
            png = render.rank_card(ctx.i18n, name, state.curve, data.total, position,
                                   sorted(data.badges))
            attachments.append(Attachment("rank.png", png, image=True))
        await ctx.reply(render.rank_text(ctx.i18n, name, level, data.total, position),
                        attachments=attachments)

    def _since(self, now: datetime, days: int | None) -> str | None:
        return (now.date() - timedelta(days=days - 1)).isoformat() if days else None

    @command("leaderboard", help=N_("Top contributors this week, this month or of all time"))
    async def leaderboard(
        self, ctx: Context,
        period: Annotated[Literal["week", "month", "all"],
                          Param(help=N_("week, month or all"),
                                labels=(("week", N_("This week")), ("month", N_("This month")),
                                        ("all", N_("All time"))))] = "all",
    ) -> None:
        """List the top ten from the boards kept in memory (no query, no sum over days)."""
        state = await self._state(ctx.community)
        now = ctx.now()
        rules.prune_days(state, now.toordinal())
        top = rules.top(state, self._since(now, PERIODS.get(period)), 10)
        if not top:
            await ctx.reply(ctx.t("No one has earned XP yet."))
            return
        await ctx.reply(render.leaderboard(ctx.i18n, period, top,
                                           lambda m: self._name(state, m)))

    @command("leaderboard_optout", help=N_("Hide or show yourself on leaderboards"))
    async def optout(self, ctx: Context) -> None:
        """Toggle being listed on leaderboards."""
        assert ctx.member is not None
        state = await self._state(ctx.community)
        me = ctx.member.id
        hidden = me not in state.opted_out
        await self.store.set_opt_out(state.key, me, ctx.member.name, hidden)
        rules.set_opt_out(state, me, hidden)
        if hidden:
            await ctx.reply(ctx.t("You are no longer listed on leaderboards."), private=True)
        else:
            await ctx.reply(ctx.t("You are listed on leaderboards again."), private=True)

    # -- jobs -------------------------------------------------------------------------------

    @job("spotlight")
    async def spotlight(self, ctx: Context, data: dict[str, Any]) -> None:
        """Celebrate the week's top contributors (ties share a medal) and new badges."""
        config: ContributionsSettings = ctx.config
        if not config.spotlight:
            return
        state = await self._state(ctx.community)
        now = ctx.now()
        since = (now.date() - timedelta(days=7)).isoformat()
        top = rules.top(state, since, SPOTLIGHT_CANDIDATES)
        new_badges = await self.store.new_badges(state.key, now - timedelta(days=7))
        if not top and not new_badges:
            return
        named = [m for m, _ in top] + [m for m, _ in new_badges]
        await ctx.send(render.spotlight(ctx.i18n, top, new_badges,
                                        lambda m: self._name(state, m)), about=named)

    @job("active")
    async def active(self, ctx: Context, data: dict[str, Any]) -> None:
        """The daily job: active-member status, then XP decay for long-inactive members."""
        config: ContributionsSettings = ctx.config
        state = await self._state(ctx.community)
        await self.flush()
        if config.active_days:
            await self.rewards.active_status(ctx, state, config)
        if config.decay_after_days:
            await self._decay(ctx, state, config)

    async def _decay(self, ctx: Context, state: CommunityState,
                     config: ContributionsSettings) -> None:
        """Take ``decay_percent`` of the XP of members inactive for ``decay_after_days``.

        Once per period of inactivity (recorded in ``contributions_decay`` and as a negative
        ledger entry); never below 0 XP; a second run on the same day does nothing.
        """
        ordinal, day = self._day(self.clock.now())
        cutoff = date.fromordinal(ordinal - config.decay_after_days).isoformat()
        taken = await self.store.decay(state.key, day, cutoff, config.decay_percent)
        for member_id, amount in taken.items():
            member = state.members.setdefault(member_id, MemberState())
            old = member.level
            rules.add_xp(state, member_id, member, -amount, day)  # already in the ledger
            if member.level < old:
                ref = MemberRef(ctx.community.platform, member_id, member.name)
                await self.rewards.dropped(ctx, state, ref, member.level, config)

    # -- privacy ----------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Everything stored about the member."""
        await self.flush()
        return await self.store.export(member)

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's rows and in-memory state."""
        await self.flush()
        await self.store.forget(member)
        for key, state in self._communities.items():
            if key.startswith(member.platform + ":"):
                rules.forget_member(state, member.id)
