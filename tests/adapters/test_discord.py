"""End to end: the real discord.py client against the fake Discord, the real core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.discord import DiscordPlatform
from bot.app import App
from bot.core.clock import SystemClock
from bot.core.context import Context
from bot.core.messages import Reward
from bot.core.plugin import Plugin, command
from bot.core.ratelimit import RateProfile
from bot.core.refs import RoleRef
from bot.settings import DiscordSettings
from plugins.admin import Admin
from plugins.example import Example, Wave
from tests.conftest import make_settings
from tests.fakes.discord_server import (
    DEFAULT_TOKEN,
    FakeDiscord,
    SampleGuild,
    command_option,
    new_snowflake,
    user_payload,
)

FAST = RateProfile("test", (), 16)
MESSAGES = "/channels/{channel_id}/messages"


class RolesAndDms(Plugin):
    """Commands that exercise roles and DMs (texts are not translated: tests only)."""

    name = "dctest"

    @command("promote", help="Get the admin role")
    async def promote(self, ctx: Context) -> None:
        assert ctx.member is not None
        await ctx.grant(ctx.member, Reward(badge="Admin", role=RoleRef("discord", ROLE[0])))

    @command("secret", help="Get a private message")
    async def secret(self, ctx: Context) -> None:
        assert ctx.member is not None
        await ctx.dm(ctx.member, "psst")


ROLE: list[str] = [""]


@asynccontextmanager
async def running(
    fake: FakeDiscord,
    *,
    database_url: str = "sqlite+aiosqlite://",
    plugins: Sequence[type[Plugin]] = (Example, Admin, RolesAndDms),
) -> AsyncIterator[App]:
    platform = DiscordPlatform(
        DiscordSettings(
            token=SecretStr(DEFAULT_TOKEN),
            application_id=fake.application_id,
            api_url=fake.api_url,
            gateway_url=fake.gateway_url,
        ),
        rate_profile=FAST,
        client_options={"guild_ready_timeout": 0.1},
    )
    app = App(make_settings(database_url=database_url), clock=SystemClock(),
              platforms=[platform], plugins=list(plugins))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def join(fake: FakeDiscord, guild: SampleGuild, name: str = "Carol") -> int:
    uid = new_snowflake()
    fake.add_user(user_payload(uid, name.lower(), global_name=name))
    await fake.simulate_member_join(guild.guild_id, uid)
    return uid


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components") or () for c in row.get("components", ())]


async def test_a_member_joins_and_is_greeted_with_a_button() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake):
            uid = await join(fake, guild)
            request = await fake.wait_for_request("POST", MESSAGES)
    body = request.json
    assert request.params["channel_id"] == str(guild.general_id)
    assert "Carol" in body["content"]
    assert [c["custom_id"] for c in components(body)] == [Wave(str(uid)).pack()]
    assert body["allowed_mentions"]["parse"] == []


async def test_a_slash_command_with_options_is_deferred_then_answered() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as app:
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            assert fake.find_command("remind", guild.guild_id) is not None
            payload = await fake.simulate_command(
                "remind", user_id=guild.alice_id, channel_id=guild.general_id,
                options=[command_option("after", "2h"), command_option("text", "call Sara")],
            )
            callback = await fake.wait_for_callback(payload["id"])
            followup = await fake.wait_for_request("POST", "/webhooks/{app_id}/{token}")
            await app.settle()
    assert callback.type == 5  # deferred
    assert "remind you" in followup.json["content"]


async def test_a_button_works_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, database_url=url):
            uid = await join(fake, guild)
            greeting = await fake.wait_for_bot_message(guild.general_id)
        custom_id = components(greeting)[0]["custom_id"]
        async with running(fake, database_url=url):
            since = len(fake.requests)
            await fake.simulate_component(custom_id, user_id=uid, message_id=greeting["id"])
            answer = await fake.wait_for_request("POST", "/webhooks/{app_id}/{token}",
                                                 since=since)
    assert "waved 1 time" in answer.json["content"]


async def test_a_role_refused_for_hierarchy_is_reported_to_admins() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        ROLE[0] = str(guild.admin_role_id)  # above the bot's role
        async with running(fake):
            await fake.simulate_command("promote", user_id=guild.alice_id,
                                        channel_id=guild.general_id)
            report = await fake.wait_for_bot_message(
                guild.general_id, predicate=lambda m: m["content"].startswith("⚠")
            )
    assert "Manage Roles" in report["content"]
    assert "Admin" in report["content"]
    assert guild.admin_role_id not in fake.member_role_ids(guild.guild_id, guild.alice_id)


async def test_a_dm_to_closed_dms_falls_back_to_the_channel() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        fake.close_dms(guild.alice_id)
        async with running(fake):
            await fake.simulate_command("secret", user_id=guild.alice_id,
                                        channel_id=guild.general_id)
            fallback = await fake.wait_for_request(
                "POST", MESSAGES,
                predicate=lambda r: r.params["channel_id"] == str(guild.general_id),
            )
    assert f"<@{guild.alice_id}>" in fallback.json["content"]
    mentions = fallback.json["allowed_mentions"]
    assert [str(u) for u in mentions["users"]] == [str(guild.alice_id)]
    assert mentions["parse"] == []


async def test_a_429_burst_is_retried_and_nothing_is_lost() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        fake.fail_next("POST", MESSAGES, 429, times=8, retry_after=0.01)
        async with running(fake):
            await join(fake, guild, "Dana")
            await join(fake, guild, "Eve")
            await fake.wait_for_bot_message(guild.general_id, timeout=30,
                                            predicate=lambda m: "Dana" in m["content"])
            await fake.wait_for_bot_message(guild.general_id, timeout=30,
                                            predicate=lambda m: "Eve" in m["content"])
    assert len(fake.bot_messages) == 2


async def until(probe: Any) -> None:
    """Wait (polling the loop) until ``probe()`` is true."""
    for _ in range(500):
        if probe():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never met")


async def test_an_event_replayed_after_resume_is_handled_once() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as app:
            handled = app.dispatcher.handled
            await fake.simulate_message(guild.general_id, guild.alice_id, "hello")
            await until(lambda: app.dispatcher.handled > handled)
            dropped = app.dispatcher.dropped
            await fake.drop_connection(resumable=True, replay=1)
            resume = await fake.wait_for_resume()
            await until(lambda: app.dispatcher.dropped > dropped)
            await app.settle()
    assert [e.event for e in resume.replayed] == ["MESSAGE_CREATE"]
    assert app.dispatcher.dropped == dropped + 1
    assert app.dispatcher.handled == handled + 1


async def test_commands_are_synced_only_when_they_changed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    puts = "/applications/{app_id}/guilds/{guild_id}/commands"
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, database_url=url):
            await fake.wait_for_request("PUT", puts)
            config = fake.find_command("config", guild.guild_id)
        first = len(fake.requests_matching("PUT", puts))
        async with running(fake, database_url=url) as app:
            await app.settle()
            assert len(fake.requests_matching("PUT", puts)) == first
            from bot.core.refs import CommunityRef

            community = CommunityRef("discord", str(guild.guild_id))
            await app.set_enabled(community, "dctest", False)
            await fake.wait_for_request("PUT", puts, predicate=lambda r: not any(
                c["name"] == "promote" for c in r.json))
    assert first == 1
    assert config is not None and config["default_member_permissions"] == "32"
    assert fake.find_command("promote", guild.guild_id) is None


@pytest.fixture(autouse=True)
def _reset_role() -> None:
    ROLE[0] = ""
