"""Contributions settings are typed: bad weights and role rewards are refused (issue 11.3)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot import ContributionMade, internal_id
from plugins.contributions.settings import ContributionsSettings
from tests.plugins.test_contributions import make, plugin, xp_of


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("weights", "poll_voted=abc", "it must be a whole number"),
        ("weights", "poll_voted=-5", "it must be at least 0"),
        ("weights", "poll_votes=5", "it must be one of"),
        ("role_rewards", "level:x=role", "is not allowed for role_rewards"),
        ("role_rewards", "badge:helpr=role", "is not allowed for role_rewards"),
        ("role_rewards", "level:5=", "is not allowed for role_rewards"),
    ],
)
async def test_bad_structured_values_are_refused_and_nothing_changes(
    world_factory: Any, key: str, value: str, problem: str
) -> None:
    world = await make(world_factory)
    before = (await plugin(world).config(world.console.community)).model_dump()
    lines = await world.play(f"/config contributions {key} {value}")
    reply = "\n".join(world.bot_lines(lines))
    assert f"is not allowed for {key}" in reply and problem in reply, reply
    after = (await plugin(world).config(world.console.community)).model_dump()
    assert after == before


async def test_thanks_phrases_take_a_comma_list_and_weights_count(world_factory: Any) -> None:
    world = await make(world_factory)
    lines = await world.play("/config contributions thanks_phrases merci,danke،gracias",
                             "/config contributions weights poll_voted=٧,event_attended=20",
                             "/config contributions role_rewards level:٠٥=vip,badge:helper=h")
    assert not any("not allowed" in line for line in lines), lines
    config = await plugin(world).config(world.console.community)
    assert config.thanks_phrases == ["merci", "danke", "gracias"]  # type: ignore[attr-defined]
    assert config.weights == {"poll_voted": 7, "event_attended": 20}  # type: ignore[attr-defined]
    assert config.role_rewards == {"level:5": "vip", "badge:helper": "h"}  # type: ignore[attr-defined]
    lines = await world.play(":as omar", "hello there all", ":as sara", "merci @omar !")
    assert "Majlis: 💛 sara thanked @omar (karma: 1)" in world.bot_lines(lines)
    sara = world.console.members["sara"]
    await world.app.dispatcher.dispatch(ContributionMade(
        id=internal_id("vote"), community=world.console.community, member=sara,
        kind="poll_voted"))
    await world.app.settle()
    assert await xp_of(world, "sara") == 15 + 7


def test_values_stored_as_text_by_earlier_versions_still_read() -> None:
    config = ContributionsSettings.model_validate({
        "weights": "poll_voted=5, event_attended=20, suggestion_adopted=50",
        "role_rewards": "level:1=helpers-role,badge:helper=helper-role",
        "thanks_phrases": ["thanks"],
    })
    assert config.weight("event_attended") == 20 and config.weight("unknown") == 0
    assert config.role_for("level:1") == "helpers-role"
    assert config.role_for("badge:helper") == "helper-role"
    assert ContributionsSettings().role_rewards == {}
    with pytest.raises(ValidationError):
        ContributionsSettings.model_validate({"role_rewards": "level:x=role"})
