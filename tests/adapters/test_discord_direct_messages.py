"""A member's answer by DM reaches the guild the bot wrote to them for."""

from __future__ import annotations

import asyncio

from bot.core.context import Context
from bot.core.events import MessagePosted
from bot.core.i18n import N_
from bot.core.plugin import Plugin, command, on
from plugins.admin import Admin
from plugins.example import Example
from tests.adapters.test_discord import join, running
from tests.fakes.discord_server import FakeDiscord

ANSWERS: list[MessagePosted] = []


class Ask(Plugin):
    name = "ask"

    @command("ask", help=N_("Ask me something privately"))
    async def ask(self, ctx: Context) -> None:
        assert ctx.member is not None
        await ctx.dm(ctx.member, ctx.t("What brings you here?"))

    @on(MessagePosted)
    async def answered(self, event: MessagePosted, ctx: Context) -> None:
        if event.channel.private:
            ANSWERS.append(event)


async def test_a_dm_answer_is_dispatched_for_its_guild() -> None:
    ANSWERS.clear()
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, plugins=(Example, Admin, Ask)):
            uid = await join(fake, guild)
            await fake.simulate_command("ask", user_id=uid, channel_id=guild.general_id)
            await fake.wait_for_request("POST", "/users/@me/channels")
            await fake.wait_for_bot_message(fake.dm_channel(uid)["id"])
            await fake.simulate_dm(uid, "I love books")
            for _ in range(100):
                if ANSWERS:
                    break
                await asyncio.sleep(0.02)
            assert [a.text for a in ANSWERS] == ["I love books"]
            assert ANSWERS[0].community.id == str(guild.guild_id)
            # a stranger who never got a DM from the bot is not a member of any community
            await fake.simulate_dm(guild.bob_id, "hello?")
            await asyncio.sleep(0.2)
            assert len(ANSWERS) == 1


async def test_dm_answers_earn_no_xp() -> None:
    from bot.adapters.console import Console
    from bot.app import App
    from bot.core.clock import ManualClock
    from bot.core.refs import ChannelRef, CommunityRef, MemberRef
    from plugins.contributions import Contributions
    from tests.conftest import make_settings

    app = App(make_settings(), clock=ManualClock(), platforms=[Console()],
              plugins=[Contributions])
    await app.start(connect=False)
    community = CommunityRef("console", "local")
    sara = MemberRef("console", "sara", "sara")
    await app.dispatcher.dispatch(MessagePosted(
        id="dm1", community=community, member=sara,
        channel=ChannelRef("console", "dm:sara", private=True), message_id="dm1",
        text="a long enough private answer",
    ))
    await app.settle()
    plugin = app.plugins["contributions"]
    assert isinstance(plugin, Contributions)
    await plugin.flush()
    state = plugin._communities.get(community.key)
    assert state is None or "sara" not in state.members or state.members["sara"].total == 0
    await app.stop()
