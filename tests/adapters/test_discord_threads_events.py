"""Threads and guild scheduled events through the core: real discord.py, the fake Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.core.context import Context
from bot.core.refs import ChannelRef, CommunityRef
from plugins.admin import Admin
from tests.adapters.test_discord import running
from tests.fakes.discord_server import (
    MISSING_PERMISSIONS,
    FakeDiscord,
    SampleGuild,
    channel_payload,
    new_snowflake,
)

MESSAGES = "/channels/{channel_id}/messages"
THREADS = "/channels/{channel_id}/threads"
EVENTS = "/guilds/{guild_id}/scheduled-events"


def context(app: App, guild: SampleGuild) -> Context:
    """A core context in the sample guild's general channel."""
    community = CommunityRef("discord", str(guild.guild_id))
    return Context(app, None, community, channel=ChannelRef("discord", str(guild.general_id)))


async def test_a_thread_from_a_message_gets_its_first_post() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, plugins=(Admin,)) as app:
            ctx = context(app, guild)
            starter = await ctx.send("Weekly meetup")
            thread = await ctx.create_thread("Meetup talk", "Say hello here", from_message=starter)
            thread_id = await app.outbox.delivered(thread, timeout=10)
            message_id = await app.outbox.delivered(starter, timeout=10)
            request = await fake.wait_for_request(
                "POST", "/channels/{channel_id}/messages/{message_id}/threads"
            )
            post = await fake.wait_for_bot_message(thread_id)
    assert request.params["message_id"] == message_id
    assert request.json["name"] == "Meetup talk"
    assert thread_id == message_id  # Discord gives the thread the message's id
    assert post["content"] == "Say hello here"


async def test_a_standalone_thread_is_public_and_gets_its_first_post() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, plugins=(Admin,)) as app:
            thread = await context(app, guild).create_thread("Ideas", "Post your ideas")
            thread_id = await app.outbox.delivered(thread, timeout=10)
            request = await fake.wait_for_request("POST", THREADS)
            post = await fake.wait_for_bot_message(thread_id)
    assert request.params["channel_id"] == str(guild.general_id)
    assert request.json["name"] == "Ideas"
    assert request.json["type"] == 11
    assert thread_id is not None and int(thread_id) in fake.channels
    assert fake.channels[int(thread_id)]["parent_id"] == str(guild.general_id)
    assert post["content"] == "Post your ideas"


async def test_a_scheduled_event_is_created_updated_and_cancelled_by_key() -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, plugins=(Admin,)) as app:
            ctx = context(app, guild)
            first = await ctx.scheduled_event("meetup:1", "Meetup", start, location="Café Nil",
                                              description="Bring friends")
            event_id = await app.outbox.delivered(first, timeout=10)
            created = await fake.wait_for_request("POST", EVENTS)
            moved = await ctx.scheduled_event("meetup:1", "Meetup (moved)",
                                              start + timedelta(hours=3),
                                              end=start + timedelta(hours=5), location="Café Nil")
            assert await app.outbox.delivered(moved, timeout=10) == event_id
            patch = await fake.wait_for_request("PATCH", EVENTS + "/{event_id}")
            events = dict(fake.guilds[guild.guild_id].scheduled_events)
            cancelled = await ctx.scheduled_event("meetup:1", "Meetup", start, cancel=True)
            await app.outbox.delivered(cancelled, timeout=10)
            cancel = await fake.wait_for_request(
                "PATCH", EVENTS + "/{event_id}", predicate=lambda r: "status" in r.json
            )
            stored = await app.db.kv_get("discord.events", f"{ctx.community.key}:meetup:1")
    assert created.json["entity_type"] == 3
    assert created.json["entity_metadata"] == {"location": "Café Nil"}
    assert created.json["description"] == "Bring friends"
    assert datetime.fromisoformat(created.json["scheduled_end_time"]) == start + timedelta(hours=1)
    assert patch.params["event_id"] == event_id
    assert patch.json["name"] == "Meetup (moved)"
    assert list(events) == [int(event_id or 0)]
    assert events[int(event_id or 0)]["name"] == "Meetup (moved)"
    assert len(fake.requests_matching("POST", EVENTS)) == 1
    assert cancel.params["event_id"] == event_id
    assert cancel.json["status"] == 4
    assert stored is None


async def test_voice_and_stage_channel_events_name_their_channel() -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        voice, stage = new_snowflake(), new_snowflake()
        fake.add_channel(channel_payload(voice, "voice", type=2, guild_id=guild.guild_id))
        fake.add_channel(channel_payload(stage, "stage", type=13, guild_id=guild.guild_id))
        async with running(fake, plugins=(Admin,)) as app:
            ctx = context(app, guild)
            await ctx.scheduled_event("call", "Call", start,
                                      channel=ChannelRef("discord", str(voice)))
            await ctx.scheduled_event("talk", "Talk", start,
                                      channel=ChannelRef("discord", str(stage)))
            await app.settle()
    created = {r.json["name"]: r.json for r in fake.requests_matching("POST", EVENTS)}
    assert created["Call"]["entity_type"] == 2
    assert created["Call"]["channel_id"] == str(voice)
    assert created["Talk"]["entity_type"] == 1
    assert created["Talk"]["channel_id"] == str(stage)


async def test_a_thread_refused_for_permissions_is_reported_to_admins() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        fake.fail_next("POST", THREADS, MISSING_PERMISSIONS)
        async with running(fake, plugins=(Admin,)) as app:
            await context(app, guild).create_thread("Secret plans", "hi")
            report = await fake.wait_for_bot_message(
                guild.general_id, predicate=lambda m: m["content"].startswith("⚠")
            )
    assert "Create Public Threads" in report["content"]
    assert "Secret plans" in report["content"]
