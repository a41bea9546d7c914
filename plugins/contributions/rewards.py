"""Level-ups, badges and role rewards: announced, granted through the core, and recorded.

A badge is marked in memory at once (so it is given once however many messages race for
it) and recorded, announced and granted in a task. Role rewards are recorded so
``/rewards_retry`` can grant them again; losing XP revokes level roles above the new level.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import Context, MemberRef, Reward, RoleRef
from plugins.contributions import render
from plugins.contributions.rules import (
    CommunityState,
    MemberState,
    add_badge,
    level_of_reward,
)
from plugins.contributions.settings import ContributionsSettings
from plugins.contributions.store import Store

if TYPE_CHECKING:
    from plugins.contributions import Contributions


class Rewards:
    """What members get for their XP and badges."""

    def __init__(self, plugin: Contributions, store: Store) -> None:
        """Work for ``plugin`` (its contexts) on ``store``."""
        self.plugin = plugin
        self.store = store
        #: Per community, held from reading recorded level roles to granting or revoking
        #: them: /rewards_retry beside the daily decay would grant a role the decay took.
        self._roles: dict[str, asyncio.Lock] = {}

    def _roles_of(self, ctx: Context) -> asyncio.Lock:
        return self._roles.setdefault(ctx.community.key, asyncio.Lock())

    def _context(self, ctx: Context, member: MemberRef) -> Context:
        """A context that posts for the community about ``member`` (its language, 11.5)."""
        return self.plugin.context(ctx.community, channel=ctx.channel, member=member)

    async def level_up(self, ctx: Context, state: CommunityState, member: MemberRef,
                       level: int, config: ContributionsSettings) -> None:
        """Announce a new level (per ``level_up``) and grant its role, if one is set."""
        role = config.role_for(f"level:{level}")
        if config.level_up == "off" and not role:
            return
        mctx = self._context(ctx, member)
        if config.level_up == "channel":
            await mctx.send(render.level_up(mctx.i18n, mctx.mention(member), level),
                            mentions=[member])
        elif config.level_up == "dm":  # only they read it: in their own language
            await mctx.dm(member, render.level_up(mctx.personal, mctx.mention(member), level))
        if role:
            async with self._roles_of(ctx):
                if config.role_mode == "replace":
                    await self.revoke_levels(mctx, state, member)
                await self.grant(mctx, state, member, f"level:{level}", role,
                                 render.level_title(mctx.i18n, level))

    def badge(self, ctx: Context, state: CommunityState, ref: MemberRef, member: MemberState,
              badge: str, config: ContributionsSettings) -> None:
        """Give a badge once: marked in memory now, recorded and announced in a task."""
        if badge in member.badges:
            return
        add_badge(member, badge)
        ctx.spawn(self._badge_posted(ctx, state, ref, badge, config))

    async def _badge_posted(self, ctx: Context, state: CommunityState, ref: MemberRef,
                            badge: str, config: ContributionsSettings) -> None:
        await self.store.record_badge(state.key, ref.id, badge, ctx.now())
        mctx = self._context(ctx, ref)
        await mctx.send(render.badge_earned(mctx.i18n, mctx.mention(ref), badge),
                        mentions=[ref])
        await self.grant(mctx, state, ref, f"badge:{badge}", config.role_for(f"badge:{badge}"),
                         render.badge_title(mctx.i18n, badge))

    async def grant(self, ctx: Context, state: CommunityState, member: MemberRef, key: str,
                    role: str | None, title: str) -> None:
        """Grant a reward; role rewards are recorded so /rewards_retry can grant them again."""
        role_ref = RoleRef(ctx.community.platform, role) if role else None
        await ctx.grant(member, Reward(badge=key.split(":", 1)[1], role=role_ref, title=title))
        if role:
            await self.store.record_reward(state.key, member.id, key, role, ctx.now())

    async def revoke_levels(self, ctx: Context, state: CommunityState,
                            member: MemberRef) -> None:
        """Take back every level role a member holds (``role_mode`` replace)."""
        for reward_key, role in await self.store.take_rewards(state.key, member.id):
            await ctx.grant(member, Reward(badge=reward_key.split(":", 1)[1],
                                           role=RoleRef(ctx.community.platform, role)),
                            revoke=True)

    async def dropped(self, ctx: Context, state: CommunityState, member: MemberRef, level: int,
                      config: ContributionsSettings) -> None:
        """After XP was lost, revoke level roles above ``level``.

        In ``replace`` mode the highest configured level role still earned is granted again.
        """
        async with self._roles_of(ctx):
            await self._dropped(ctx, state, member, level, config)

    async def _dropped(self, ctx: Context, state: CommunityState, member: MemberRef,
                       level: int, config: ContributionsSettings) -> None:
        rows = await self.store.take_rewards(state.key, member.id, above=level)
        if not rows:
            return
        mctx = self._context(ctx, member)
        for key, role in rows:
            title = render.level_title(mctx.i18n, level_of_reward(key))
            await mctx.grant(member, Reward(badge=key.split(":", 1)[1], title=title,
                                            role=RoleRef(ctx.community.platform, role)),
                             revoke=True)
        if config.role_mode == "replace":
            held = [(level_of_reward(k), r) for k, r in config.role_rewards.items()
                    if 0 < level_of_reward(k) <= level]
            if held:
                top, role_id = max(held)
                await self.grant(mctx, state, member, f"level:{top}", role_id,
                                 render.level_title(mctx.i18n, top))

    async def retry(self, ctx: Context) -> int:
        """Grant every recorded role reward again; how many."""
        async with self._roles_of(ctx):
            rows = await self.store.all_rewards(ctx.community.key)
            for member_id, reward_key, role in rows:
                member = MemberRef(ctx.community.platform, member_id)
                await ctx.grant(member, Reward(badge=reward_key.split(":", 1)[1],
                                               role=RoleRef(ctx.community.platform, role)))
        return len(rows)

    async def active_status(self, ctx: Context, state: CommunityState,
                            config: ContributionsSettings) -> None:
        """Grant active-member status after recent activity; remove it when it lapses."""
        since = (ctx.now().date() - timedelta(days=config.active_days - 1)).isoformat()
        gained, lapsed = await self.store.mark_active(state.key, since)
        role_id = config.role_for("badge:active")
        role = RoleRef(ctx.community.platform, role_id) if role_id else None
        title = render.badge_title(ctx.i18n, "active")
        for member_id, revoke in [*((m, False) for m in gained), *((m, True) for m in lapsed)]:
            known = state.members.get(member_id)
            ref = MemberRef(ctx.community.platform, member_id, known.name if known else "")
            await ctx.grant(ref, Reward(badge="active", role=role, title=title), revoke=revoke)
