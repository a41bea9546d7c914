"""Contributions: XP decay for long-inactive members, and reactions taken back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot import MemberRef, ReactionRemoved
from plugins.contributions.tables import decay, rewards
from tests.conftest import ConsoleWorld
from tests.plugins.test_contributions import make, plugin, xp_of


async def decay_rows(world: ConsoleWorld) -> int:
    async with world.app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(decay))).scalar_one())


async def test_decay_is_off_by_default(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as sara", "hello to everyone", ":advance 40d")
    assert await xp_of(world, "sara") == 15
    assert await decay_rows(world) == 0


async def test_inactive_members_lose_a_share_once_per_period(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play("/config contributions decay_after_days 3",
                     "/config contributions decay_percent 10",
                     ":as sara", "hello to everyone", ":as omar", "hi all, omar here",
                     ":as owner", "/award @sara 185 founding member")
    assert await xp_of(world, "sara") == 200
    await world.play(":advance 2d", ":as omar", "still around, omar again")
    assert await xp_of(world, "sara") == 200
    await world.play(":advance 1d")  # three days without activity
    assert await xp_of(world, "sara") == 180
    assert await xp_of(world, "omar") == 30  # active two days ago: untouched

    # A second firing the same day does nothing.
    contributions = plugin(world)
    ctx = contributions.context(world.console.community)
    await contributions.active(ctx, {})
    await contributions.active(ctx, {})
    assert await xp_of(world, "sara") == 180
    assert await decay_rows(world) == 1

    await world.play(":advance 2d")
    assert await xp_of(world, "sara") == 180  # the period restarts at each decay
    await world.play(":advance 1d")
    assert await xp_of(world, "sara") == 162

    # The ledger agrees: leaderboards read the same rows.
    lines = await world.play(":as sara", "/leaderboard all")
    assert any("sara — 162 XP" in line for line in world.bot_lines(lines))


async def test_decay_can_drop_a_level_and_its_role_never_below_zero(
    world_factory: Any,
) -> None:
    world = await make(world_factory)
    await world.play("/config contributions decay_after_days 1",
                     "/config contributions decay_percent 50",
                     "/config contributions role_rewards level:1=vip",
                     ":as sara", "hello to everyone", ":as owner", "/award @sara 185 founding")
    assert "Level 1" in world.console.rewards["sara"]
    lines = await world.play(":advance 1d")
    assert await xp_of(world, "sara") == 100  # still level 1
    lines = await world.play(":advance 1d")
    assert await xp_of(world, "sara") == 50
    assert "Majlis: (badge removed from sara: Level 1)" in world.bot_lines(lines)
    assert "Level 1" not in world.console.rewards["sara"]
    async with world.app.db.connect() as conn:
        assert not (await conn.execute(select(rewards))).all()
    await world.play(":advance 10d")
    assert await xp_of(world, "sara") == 0
    lines = await world.play(":as sara", "/rank")
    assert any("sara: level 0, 0 XP" in line for line in world.bot_lines(lines))


async def test_decay_settings_are_bounded(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play("/config contributions decay_percent 80")
    config = await plugin(world).config(world.console.community)
    assert config.decay_percent == 10  # type: ignore[attr-defined]


def removed(world: ConsoleWorld, who: str, emoji: str, message_id: str) -> ReactionRemoved:
    console = world.console
    return ReactionRemoved(id=f"unreact-{who}-{emoji}-{message_id}",
                           community=console.community, member=console.members[who],
                           channel=console.channel, message_id=message_id, emoji=emoji,
                           author=MemberRef("console", "sara", "sara"))


async def test_removed_reaction_takes_its_xp_back_once(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as sara", "my very first words", ":advance 2m",
                     "a message worth liking", ":as omar", ":react 👍", ":react ❤️",
                     ":as lina", ":react 👍")
    message = world.console.posts[-1].id
    assert await xp_of(world, "sara") == 30 + 2 + 2
    dispatch = world.app.dispatcher.dispatch
    await dispatch(removed(world, "omar", "👍", message))
    assert await xp_of(world, "sara") == 34  # omar's ❤️ is still there
    await dispatch(removed(world, "omar", "❤️", message))
    assert await xp_of(world, "sara") == 32
    again = removed(world, "omar", "❤️", message)
    await dispatch(again)
    await dispatch(removed(world, "omar", "👍", message))
    assert await xp_of(world, "sara") == 32  # idempotent
    await world.play(":as kim")
    await dispatch(removed(world, "kim", "👍", message))  # never reacted: nothing to take
    assert await xp_of(world, "sara") == 32
    await dispatch(removed(world, "lina", "👍", message))
    assert await xp_of(world, "sara") == 30
