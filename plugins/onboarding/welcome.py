"""Joins, leaves and greetings: the public welcome and the raid guard.

The greeting is public, so it speaks the community's language (a greeting sent by DM
speaks the newcomer's). A member is greeted once: :meth:`Welcome.greet` marks the member
greeted and sends the greeting, the raid batch marks and greets everyone waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import ChannelRef, Context, MemberJoined, MemberRef, Reward, RoleRef
from plugins.onboarding import render
from plugins.onboarding.rules import RaidGuard, interactive_steps, render_template
from plugins.onboarding.settings import OnboardingSettings

if TYPE_CHECKING:
    from bot import Markup
    from plugins.onboarding import Onboarding
    from plugins.onboarding.render import Words


def channel_ref(ctx: Context, channel_id: str | None) -> ChannelRef | None:
    """A channel named in the settings (None: the community's default channel)."""
    if not channel_id:
        return None
    return ChannelRef(ctx.community.platform, channel_id, channel_id)


def newcomer_reward(ctx: Context, config: OnboardingSettings) -> Reward:
    """The "newcomer" badge (and role): named in the community's language, as revoked."""
    role = None
    if config.newcomer_role is not None:
        role = RoleRef(ctx.community.platform, config.newcomer_role, config.newcomer_role)
    return Reward(badge=ctx.i18n.plain("newcomer"), role=role)


class Welcome:
    """Records joins, greets (one by one, or in a batch during a raid)."""

    def __init__(self, plugin: Onboarding) -> None:
        """Work for ``plugin``, with its store and in-memory progress."""
        self.plugin = plugin
        self.store = plugin.store
        self.raids = RaidGuard()

    async def joined(self, event: MemberJoined, ctx: Context) -> None:
        """Record the join (idempotently), then greet now or in the raid batch."""
        member = event.member
        if member.is_bot:
            return
        plugin = self.plugin
        config: OnboardingSettings = await ctx.settings()
        community = ctx.community.key
        now = event.at or ctx.now()
        raid = self.raids.join(community, now, config)
        # "greeted" stays false while a greeting is still owed: greet() or the raid
        # batch sets it together with sending
        owed = raid or config.greet
        # the join, its reward and its greeting commit together: if any fails (or the
        # process dies), the platform's redelivery of the join finds no row and does it all
        async with ctx.transaction():
            outcome, progress = await self.store.record_join(
                community, member, now, greeted=not owed
            )
            if outcome == "duplicate" or progress is None:
                return  # a replayed join: greeted already
            if outcome == "new":
                await ctx.grant(member, newcomer_reward(ctx, config))
            if raid:
                await self.raid(ctx, config, now)
            elif config.greet:
                await self.greet(ctx, config, member, back=outcome == "back")
        plugin.progress.track(community, member.id, progress)
        await plugin.ensure_daily(ctx.community)
        if not raid:
            await plugin.flow.proceed(ctx, config, member, quiet=outcome == "back",
                                      joining=True)

    async def left(self, ctx: Context, member: MemberRef, at: datetime) -> None:
        """Remember the leave; choices stay for a welcome back."""
        await self.store.left(ctx.community.key, member.id, at)

    async def greet(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef, *, back: bool
    ) -> bool:
        """Greet ``member`` once; False when they were greeted already.

        The "greeted" mark and the greeting commit in one transaction: a replayed join
        never greets twice, and a crash between the two never loses the greeting.
        """
        dm = config.greet_in == "dm"
        words: Words = ctx.for_member(member) if dm else ctx.i18n
        if back:
            text = render.welcome_back(words, member.display_name)
        else:
            text = await self.greeting_text(ctx, words, config, member)
        async with ctx.transaction():
            if not await self.store.mark_greeted(ctx.community.key, member.id):
                return False
            if dm:
                await ctx.dm(member, text)
            else:
                await ctx.send(text, channel=channel_ref(ctx, config.greeting_channel))
        return True

    async def greeting_text(
        self, ctx: Context, words: Words, config: OnboardingSettings, member: MemberRef
    ) -> Markup:
        """The greeting for ``member``: the admins' template, else the built-in one."""
        community = str(self.plugin.kernel.communities.info(ctx.community).get("name") or "")
        if not config.template:
            return render.default_greeting(words, community, member.display_name)
        count = await self.plugin.kernel.communities.member_count(ctx.community)
        return render_template(config.template, {
            "name": member.display_name,
            "community": community,
            "member_count": words.number(count),
            "rules_link": config.rules_link,
        })

    # -- raid guard -------------------------------------------------------------------

    async def raid(self, ctx: Context, config: OnboardingSettings, now: datetime) -> None:
        """Alert moderators once per raid and greet the newcomers in one batch later."""
        community = ctx.community.key
        if self.raids.should_alert(community, now, config):
            public = self.plugin.context(ctx.community)  # the community's language
            info = self.plugin.kernel.communities.info(ctx.community)
            channel = channel_ref(public, config.alert_channel or info.get("admin_channel"))
            await public.send(render.raid_alert(public.i18n, config.raid_joins,
                                                config.raid_seconds), channel=channel)
        if self.raids.batch_needed(community):
            await self.plugin.schedule(
                "greet_batch", ctx.community, at=now + timedelta(seconds=config.raid_seconds),
                key="batch",
            )

    async def greet_batch(self, ctx: Context) -> None:
        """Greet every member a raid left waiting, in one message with their count.

        Like :meth:`greet`, the members are marked greeted together with the greeting.
        """
        community = ctx.community.key
        self.raids.batch_done(community)
        config: OnboardingSettings = await self.plugin.config(ctx.community)  # type: ignore[assignment]
        async with ctx.transaction():
            waiting = await self.store.take_waiting(community)
            if not waiting:
                return
            text, buttons = render.batch_greeting(ctx.i18n, len(waiting),
                                                  steps=bool(interactive_steps(config)))
            await ctx.send(text, channel=channel_ref(ctx, config.greeting_channel),
                           buttons=buttons)
