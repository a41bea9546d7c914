"""Poll eligibility by badge or role: the core's record of granted rewards decides."""

from __future__ import annotations

from plugins.polls import Polls
from tests.conftest import WorldFactory
from tests.core.test_rewards import Grants


async def test_only_badge_holders_vote(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls, Grants])
    await world.play(":as sara", "hi", ":as omar", "hi", ":as owner", "/give @sara")
    said = world.bot_lines(await world.play('/poll "Retreat?" "Yes | No" badge=helper'))
    assert any("Only members with the badge “helper” can vote." in line for line in said)
    refused = world.bot_lines(await world.play(":as omar", ":press 1"))
    assert refused == ["Majlis: (only omar sees) Only members with the badge “helper” can vote."]
    counted = world.bot_lines(await world.play(":as sara", ":press 1"))
    assert any("(only sara sees)" in line and "Yes" in line for line in counted)


async def test_only_role_holders_vote_in_arabic(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls, Grants], language="ar")
    await world.play(":as sara", "hi", ":as omar", "hi", ":as owner", "/give @sara")
    await world.play('/poll "رحلة؟" "نعم | لا" role=mods')
    refused = world.bot_lines(await world.play(":as omar", ":press 2"))
    assert refused == [
        "Majlis: (لا يراها إلا omar) التصويت متاح فقط للأعضاء الذين لديهم الدور mods."]
    counted = world.bot_lines(await world.play(":as sara", ":press 2"))
    assert any("(لا يراها إلا sara)" in line for line in counted)
