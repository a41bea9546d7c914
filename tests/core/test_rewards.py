"""The core remembers granted badges and roles on every platform; the moderator role."""

from __future__ import annotations

from bot import Context, Plugin, Privilege, command
from bot.core.i18n import N_
from bot.core.messages import Reward
from bot.core.refs import CommunityRef, MemberRef, RoleRef
from tests.conftest import WorldFactory


class Grants(Plugin):
    name = "grants"

    @command("give", help=N_("Give"), privilege=Privilege.ADMIN)
    async def give(self, ctx: Context, member: MemberRef) -> None:
        await ctx.grant(member, Reward("helper", role=RoleRef("console", "mods")))


async def test_granted_badges_and_roles_are_known_and_forgotten(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Grants])
    await world.play(":as sara", "hello", ":as owner", "/give @sara")
    app = world.app
    community = CommunityRef("console", "local")
    sara = MemberRef("console", "sara", "sara")
    assert await app.member_badges(community, sara) == {"helper"}
    assert await app.member_roles(community, sara) == {"mods"}
    assert await app.privilege_of(community, sara) == Privilege.MEMBER
    await app.update_community(community, mod_role="mods")
    assert await app.privilege_of(community, sara) == Privilege.MOD
    assert (await app.export_member(sara))["core"]["rewards"][0]["badge"] == "helper"
    await app.forget_member(sara)
    assert await app.member_badges(community, sara) == set()
