"""The Discord adapter under the faults real Discord produces (issue 12, Discord items).

The real discord.py client runs against the fake Discord, which misbehaves the way
Discord does: odd gateway payloads, dropped and refused connections, 429s with their
headers, 5xx, JSON error codes on unexpected statuses, answers a client cannot read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters import discord_limits as limits
from bot.adapters.discord import DiscordPlatform, GatewayFailed, nonce
from bot.app import App
from bot.core.actions import EditMessage, GrantReward, SendMessage
from bot.core.clock import SystemClock
from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.markup import Markup
from bot.core.messages import Attachment, Content, Reward
from bot.core.platform import (
    NeedsAdmin,
    NotConnected,
    PermanentError,
    Progress,
    RetryAfter,
    TransientError,
    Undeliverable,
)
from bot.core.plugin import Plugin, command
from bot.core.refs import ChannelRef, CommunityRef, MemberRef, RoleRef
from bot.settings import DiscordSettings
from plugins.admin import Admin
from plugins.example import Example
from tests.adapters.test_discord import FAST, MESSAGES, join, until
from tests.conftest import make_settings
from tests.fakes.discord_server import (
    DEFAULT_TOKEN,
    INVALID_WEBHOOK_TOKEN,
    MISSING_ACCESS,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    FakeDiscord,
    SampleGuild,
    member_payload,
    message_payload,
    new_snowflake,
    user_payload,
)

WEBHOOK = "/webhooks/{app_id}/{token}"
EPHEMERAL = 64
EDIT = "/channels/{channel_id}/messages/{message_id}"
SEEN: list[ChannelRef] = []


class Where(Plugin):
    """Remembers where a command was run (texts are not translated: tests only)."""

    name = "where"

    @command("where", help=N_("Say where this is"), private=True)
    async def where(self, ctx: Context) -> None:
        SEEN.append(ctx.channel)
        await ctx.reply("here")


@asynccontextmanager
async def running(
    fake: FakeDiscord,
    *,
    plugins: Sequence[type[Plugin]] = (Example, Admin, Where),
    reconnect_attempts: int = limits.RECONNECT_ATTEMPTS,
) -> AsyncIterator[tuple[App, DiscordPlatform]]:
    platform = DiscordPlatform(
        DiscordSettings(
            token=SecretStr(DEFAULT_TOKEN),
            application_id=fake.application_id,
            api_url=fake.api_url,
            gateway_url=fake.gateway_url,
        ),
        rate_profile=FAST,
        client_options={"guild_ready_timeout": 0.1},
        reconnect_attempts=reconnect_attempts,
    )
    app = App(make_settings(), clock=SystemClock(), platforms=[platform],
              plugins=list(plugins))
    await app.start()
    try:
        yield app, platform
    finally:
        await app.stop()


def community(guild: SampleGuild) -> CommunityRef:
    return CommunityRef("discord", str(guild.guild_id))


def post(guild: SampleGuild, text: str, channel: int | None = None, **kw: Any) -> SendMessage:
    """A message for the general channel (or ``channel``)."""
    return SendMessage(
        community=community(guild),
        channel=ChannelRef("discord", str(channel or guild.general_id)),
        content=Content(Markup(text)),
        **kw,
    )


def texts(fake: FakeDiscord, channel: int) -> list[str]:
    """What everyone in a channel sees the bot write, in order (ephemeral ones are not seen)."""
    return [m.get("content", "") for m in fake.bot_messages
            if int(m["channel_id"]) == channel and not int(m.get("flags") or 0) & EPHEMERAL]


async def greeted(fake: FakeDiscord, guild: SampleGuild, name: str) -> None:
    """A member joins and the bot's greeting naming them appears in the channel."""
    await join(fake, guild, name)
    await fake.wait_for_bot_message(guild.general_id, timeout=15,
                                    predicate=lambda m: name in m["content"])


# -- 12.6: the gateway is supervised -----------------------------------------------------


def _dm_with_null_guild(fake: FakeDiscord, guild: SampleGuild) -> tuple[str, dict[str, Any]]:
    channel = fake.dm_channel(guild.alice_id)
    data = message_payload(channel["id"], fake.users[guild.alice_id], "hi")
    data["guild_id"] = None
    return "MESSAGE_CREATE", data


def _roles_as_objects(fake: FakeDiscord, guild: SampleGuild) -> tuple[str, dict[str, Any]]:
    data = member_payload(fake.users[guild.alice_id], guild_id=guild.guild_id)
    data["roles"] = [{"id": str(guild.admin_role_id), "name": "Admin"}]
    return "GUILD_MEMBER_UPDATE", data


def _update_without_flags(fake: FakeDiscord, guild: SampleGuild) -> tuple[str, dict[str, Any]]:
    uid = new_snowflake()  # not cached: discord.py builds the member from this payload
    fake.add_user(user_payload(uid, "zed"))
    data = member_payload(fake.users[uid], guild_id=guild.guild_id)
    del data["flags"]
    return "GUILD_MEMBER_UPDATE", data


@pytest.mark.parametrize("variant", [_dm_with_null_guild, _roles_as_objects,
                                     _update_without_flags])
async def test_a_payload_discord_py_cannot_read_does_not_stop_the_events(
    variant: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            event, data = variant(fake, guild)
            await fake.dispatch(event, data)
            await greeted(fake, guild, "Dana")  # events still arrive after it
            health = platform.health()
    assert health["connected"] and health["reconnects"] == 0
    if variant is not _dm_with_null_guild:  # that one is repaired, not skipped
        assert health["skipped_payloads"] == 1
        assert any(f"skipped a Discord {event} payload" in r.getMessage()
                   for r in caplog.records)


async def test_a_connection_that_ends_is_logged_and_connected_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            # A frame cut short breaks discord.py's receive loop outside any parser:
            # client.connect() ends with the exception.
            await fake.send_raw('{"op": 0, "t": "MESSAGE_CREATE", "d": {"id"')
            await fake.wait_for_identify(count=2, timeout=15)
            await platform.wait_ready()
            await greeted(fake, guild, "Eve")
            health = platform.health()
    assert health["connected"] and health["reconnects"] == 1
    assert "JSONDecodeError" in str(health["last_error"])
    ended = [r for r in caplog.records if "gateway connection ended" in r.getMessage()]
    assert ended and ended[0].levelno == logging.ERROR and ended[0].exc_info


async def test_while_the_gateway_is_down_deliveries_wait_and_it_is_seen_in_health() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            fake.gateway_down = True  # Discord restarts: the socket drops, connects refused
            await fake.drop_connection(abrupt=True)
            await until(lambda: fake.refused_connections > 0)
            down = platform.health()
            with pytest.raises(NotConnected):
                await platform.deliver(post(guild, "during the outage"))
            fake.gateway_down = False
            await asyncio.wait_for(platform.wait_ready(), 15)
            delivered = await platform.deliver(post(guild, "after the outage"))
            up = platform.health()
    assert not down["connected"] and down["last_error"]
    assert up["connected"] and not up["failed"] and up["reconnects"] == 1
    assert texts(fake, guild.general_id) == ["after the outage"]
    assert delivered.message_id is not None


async def test_the_adapter_gives_up_after_repeated_failures() -> None:
    async with FakeDiscord() as fake:
        fake.add_sample_guild()
        async with running(fake, reconnect_attempts=2) as (_, platform):
            fake.gateway_down = True
            await fake.drop_connection(abrupt=True)
            failure = await asyncio.wait_for(platform.failed(), 15)
            health = platform.health()
    assert isinstance(failure, GatewayFailed)
    assert "2 connections in a row failed" in str(failure)
    assert health["failed"] and not health["connected"]


async def test_a_refused_token_at_start_is_final() -> None:
    async with FakeDiscord() as fake:
        fake.add_sample_guild()
        fake.fail_next_identify()  # 4004: discord.py closes the client itself
        with pytest.raises(GatewayFailed):
            async with running(fake):
                pass


# -- 12.7: errors by Discord's codes, sync, interactions without a channel ---------------


async def test_a_command_sync_discord_py_cannot_read_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        fake.malform_next("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
        async with running(fake):
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/"
                                        "commands", predicate=lambda r: r.malformed)
            await greeted(fake, guild, "Fay")
    messages = [r.getMessage() for r in caplog.records]
    assert any("could not sync the commands of discord:" in m for m in messages)
    assert not any("Ignoring exception" in m for m in messages)


async def test_an_interaction_without_a_channel_is_answered_privately() -> None:
    SEEN.clear()
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (app, _):
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            await fake.simulate_command("where", user_id=guild.alice_id,
                                        channel_id=guild.general_id, with_channel=False)
            answer = await fake.wait_for_request("POST", WEBHOOK)
            await app.settle()
            counts = await app.db.outbox_counts()
    assert [c.id for c in SEEN] != ["None"] and SEEN[0].private
    assert answer.json["content"] == "here"
    assert counts == {"sent": 1}


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ({"status": 400, "code": 50013}, NeedsAdmin),  # missing permissions on a 400
        ({"status": MISSING_ACCESS}, NeedsAdmin),
        ({"status": UNKNOWN_CHANNEL}, PermanentError),
        ({"status": 503}, TransientError),
        ({"status": 400, "code": 130000}, TransientError),  # resource overloaded
    ],
)
async def test_errors_are_classified_by_their_json_code(
    failure: dict[str, Any], expected: type[Exception]
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            fake.fail_next("POST", MESSAGES, **failure)
            with pytest.raises(expected) as raised:
                await platform.deliver(post(guild, "hello"))
    assert type(raised.value) is expected
    if expected is NeedsAdmin:
        assert isinstance(raised.value, NeedsAdmin)
        assert f"<#{guild.general_id}>" in str(raised.value.values["channel"])


async def test_an_edit_of_a_deleted_message_fails_for_good() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            fake.fail_next("PATCH", EDIT, UNKNOWN_MESSAGE)
            with pytest.raises(PermanentError) as raised:
                await platform.deliver(EditMessage(
                    community=community(guild), channel=ChannelRef("discord",
                                                                   str(guild.general_id)),
                    content=Content(Markup("new")), message_id=str(new_snowflake()),
                ))
    assert not isinstance(raised.value, NeedsAdmin | TransientError)


async def test_a_dm_to_a_member_who_closed_them_is_undeliverable() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        fake.close_dms(guild.alice_id)
        async with running(fake) as (_, platform):
            with pytest.raises(Undeliverable):
                await platform.deliver(SendMessage(
                    community=community(guild), member=MemberRef("discord", str(guild.alice_id)),
                    content=Content(Markup("psst")),
                ))


async def test_a_missing_permission_on_a_400_is_reported_to_admins_and_kept() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (app, _):
            fake.fail_next("POST", MESSAGES, 400, code=50013)
            await join(fake, guild, "Gus")  # the greeting is refused
            report = await fake.wait_for_bot_message(
                guild.general_id, timeout=15, predicate=lambda m: m["content"].startswith("⚠")
            )
            counts = await app.db.outbox_counts()
    assert "missing a permission" in report["content"]
    assert counts.get("failed") is None  # kept and retried once an admin fixes it


@pytest.mark.parametrize("is_global", [False, True])
async def test_a_429_names_its_scope_and_bucket_and_is_not_waited_twice(
    is_global: bool,
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            # discord.py retries a 429 five times, sleeping retry_after after each.
            fake.fail_next("POST", MESSAGES, 429, times=5, retry_after=0.01, is_global=is_global)
            with pytest.raises(RetryAfter) as raised:
                await platform.deliver(post(guild, "hello"))
    assert raised.value.seconds == 0.0  # discord.py already slept the last retry_after
    if is_global:
        assert (raised.value.scope, raised.value.bucket) == ("global", ("global", "*"))
    else:
        assert raised.value.scope == "channel"
        assert raised.value.bucket == (limits.ROUTE_MESSAGES, str(guild.general_id))


# -- 12.5: a send is posted once ---------------------------------------------------------


async def test_a_send_whose_answer_was_unreadable_is_not_posted_again() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            progress = Progress("mj42")
            fake.malform_next("POST", MESSAGES)
            with pytest.raises(TransientError):
                await platform.deliver(post(guild, "once"), progress=progress)
            delivered = await platform.deliver(post(guild, "once"), progress=progress)
            sends = fake.requests_matching("POST", MESSAGES)
    assert texts(fake, guild.general_id) == ["once"]
    assert [(r.json["nonce"], r.json["enforce_nonce"]) for r in sends] == [("mj42", True)] * 2
    assert delivered.message_id == str(fake.bot_messages[0]["id"])
    assert progress.parts == {0: delivered.message_id}


async def test_each_part_of_a_message_is_sent_once() -> None:
    picture = Attachment("rank.png", b"\x89PNG fake")
    text = "word " * 500  # 2,500 characters: two messages, the second with the picture
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            action = SendMessage(community=community(guild),
                                 channel=ChannelRef("discord", str(guild.general_id)),
                                 content=Content(Markup(text), attachments=(picture,)))
            progress = Progress("mj7")
            fake.fail_next("POST", MESSAGES, 503, after=1)  # the picture's part fails
            with pytest.raises(TransientError):
                await platform.deliver(action, progress=progress)
            assert list(progress.parts) == [0]
            await platform.deliver(action, progress=progress)
            sends = fake.requests_matching("POST", MESSAGES)
    posted = [m for m in fake.bot_messages if int(m["channel_id"]) == guild.general_id]
    assert len(posted) == 2
    assert [len(m["attachments"]) for m in posted] == [0, 1]
    assert [r.json["nonce"] for r in sends] == ["mj7", "mj7.1", "mj7.1"]
    assert sorted(progress.parts) == [0, 1]


def test_nonces_fit_discord() -> None:
    assert nonce("mj1", 0) == "mj1"
    assert nonce("mj1", 3) == "mj1.3"
    long = nonce("mj" + "9" * 23, 12)
    assert len(long) <= limits.NONCE_CHARS


async def test_without_progress_nothing_is_skipped() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            await platform.deliver(post(guild, "a"))
            await platform.deliver(post(guild, "a"))
    assert texts(fake, guild.general_id) == ["a", "a"]


# -- 12.2: private stays private ---------------------------------------------------------


@pytest.mark.parametrize("gone", [UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN])
async def test_a_private_help_whose_followup_fails_goes_by_dm_never_to_the_channel(
    gone: Any,
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (app, _):
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            fake.fail_next("POST", WEBHOOK, gone, times=None)
            await fake.simulate_command("help", user_id=guild.alice_id,
                                        channel_id=guild.general_id)
            dm = await fake.wait_for_bot_message(fake.dm_channel(guild.alice_id)["id"],
                                                 timeout=15)
            await app.settle()
    assert "Commands you can use" in dm["content"]
    assert not any("Commands you can use" in t for t in texts(fake, guild.general_id))


async def test_a_private_reply_nobody_can_receive_is_dropped_not_posted() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        fake.close_dms(guild.alice_id)
        async with running(fake) as (app, _):
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            fake.fail_next("POST", WEBHOOK, UNKNOWN_WEBHOOK, times=None)
            await fake.simulate_command("help", user_id=guild.alice_id,
                                        channel_id=guild.general_id)
            await until(lambda: bool(fake.requests_matching("POST", MESSAGES)))
            await app.settle()
            counts = await app.db.outbox_counts()
    assert counts.get("undeliverable") == 1
    assert texts(fake, guild.general_id) == []


async def test_a_private_reply_after_a_restart_goes_by_dm() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            # an answer to an interaction whose handle did not survive a restart
            await platform.deliver(post(guild, "only for you", reply_to="event", private=True,
                                        member=MemberRef("discord", str(guild.alice_id))))
    assert texts(fake, guild.general_id) == []
    assert texts(fake, int(fake.dm_channel(guild.alice_id)["id"])) == ["only for you"]


# -- 12.1: per-route buckets -------------------------------------------------------------


async def test_rate_keys_follow_discords_buckets() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake) as (_, platform):
            alice = MemberRef("discord", str(guild.alice_id))
            channel_post = platform.rate_keys(post(guild, "hi"))
            reply = platform.rate_keys(post(guild, "hi", reply_to="event", member=alice))
            dm = platform.rate_keys(SendMessage(community=community(guild), member=alice))
            edit = platform.rate_keys(EditMessage(
                community=community(guild),
                channel=ChannelRef("discord", str(guild.general_id)), message_id="1"))
            badge = platform.rate_keys(GrantReward(community=community(guild), member=alice,
                                                   reward=Reward(badge="Helper")))
            role = platform.rate_keys(GrantReward(
                community=community(guild), member=alice,
                reward=Reward(badge="Helper", role=RoleRef("discord", str(guild.admin_role_id)))))
    everything = (limits.GLOBAL, limits.GLOBAL_KEY)
    assert channel_post == (everything, (limits.ROUTE_MESSAGES, str(guild.general_id)))
    assert reply == ((limits.ROUTE_FOLLOWUP, f"reply:{guild.general_id}:{guild.alice_id}"),)
    assert dm == (everything, (limits.ROUTE_MESSAGES, f"dm:{guild.alice_id}"))
    assert edit == (everything, (limits.ROUTE_EDIT, str(guild.general_id)))
    assert badge == ()  # recorded only: no API call
    assert role == (everything, (limits.ROUTE_ROLES, str(guild.guild_id)))
    names = {limit.scope for limit in limits.RATE_PROFILE.limits}
    used = {name for keys in (channel_post, reply, dm, edit, role) for name, _ in keys}
    assert used <= names
    by_name = {limit.scope: limit for limit in limits.RATE_PROFILE.limits}
    assert (by_name[limits.ROUTE_MESSAGES].count,
            by_name[limits.ROUTE_MESSAGES].seconds) == (5, 5.0)
    assert (by_name[limits.GLOBAL].count, by_name[limits.GLOBAL].seconds) == (50, 1.0)


async def test_the_process_exits_non_zero_when_the_gateway_gives_up() -> None:
    from bot.cli import _platforms

    async with FakeDiscord() as fake:
        fake.add_sample_guild()
        settings = make_settings(plugins=["example"], discord=DiscordSettings(
            token=SecretStr(DEFAULT_TOKEN), application_id=fake.application_id,
            api_url=fake.api_url, gateway_url=fake.gateway_url,
        ))
        running_bot = asyncio.create_task(_platforms(settings))
        await fake.wait_until_ready(timeout=15)
        # The session ends and the token is refused when the bot identifies again (4004):
        # discord.py closes its client, nothing can bring this process back.
        fake.fail_next_identify()
        await fake.drop_connection(resumable=False)
        status = await asyncio.wait_for(running_bot, 30)
    assert status == 1
