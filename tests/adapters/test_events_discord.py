"""End to end: the events plugin through the real discord.py client against the fake Discord.

A guild scheduled event follows each occurrence: created when the event is posted, updated
when it is edited, cancelled with its occurrence, and the next one created. The app's clock
is manual but starts at the real time, since Discord refuses events that start in the past.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from bot.adapters.discord import DiscordPlatform
from bot.app import App
from bot.core.clock import ManualClock
from bot.settings import DiscordSettings
from plugins.admin import Admin
from plugins.events import Events
from tests.adapters.test_discord import FAST, components, until
from tests.adapters.test_plugins_discord import community_of, ephemeral, followup
from tests.conftest import make_settings
from tests.fakes.discord_server import (
    DEFAULT_TOKEN,
    FakeDiscord,
    Permission,
    SampleGuild,
    command_option,
)

EVENTS = "/guilds/{guild_id}/scheduled-events"
COMMANDS = "/applications/{app_id}/guilds/{guild_id}/commands"


@asynccontextmanager
async def running(fake: FakeDiscord, guild: SampleGuild) -> AsyncIterator[App]:
    """The app with the events plugin on a manual clock set to now."""
    platform = DiscordPlatform(
        DiscordSettings(token=SecretStr(DEFAULT_TOKEN), application_id=fake.application_id,
                        api_url=fake.api_url, gateway_url=fake.gateway_url),
        rate_profile=FAST, client_options={"guild_ready_timeout": 0.1},
    )
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    app = App(make_settings(), clock=ManualClock(now), platforms=[platform],
              plugins=[Admin, Events])
    await app.start()
    try:
        await until(lambda: app.community_info(community_of(guild)).get("name") is not None)
        await app.settle()
        yield app
    finally:
        await app.stop()


def button(message: dict[str, Any], prefix: str) -> str:
    """The custom_id of the message's first button starting with ``prefix``."""
    return next(c["custom_id"] for c in components(message) if c["custom_id"].startswith(prefix))


async def test_an_event_is_mirrored_as_scheduled_events_occurrence_by_occurrence() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild) as app:
            await fake.wait_for_request("PUT", COMMANDS)
            first_day = (app.clock.now() + timedelta(days=3)).date()
            weekday = first_day.strftime("%A").lower()
            payload = await fake.simulate_command(
                "event_create", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("title", "Game night"),
                         command_option("start", f"every {weekday} 19:00"),
                         command_option("duration", "2h"),
                         command_option("place", "The Hub"),
                         command_option("capacity", 1)])
            await fake.wait_for_callback(payload["id"])
            preview = await fake.wait_for_bot_message(
                predicate=lambda m: any(c["custom_id"].startswith("events.confirm")
                                        for c in components(m)))
            assert "Here is your event. Post it?" in preview["content"]
            assert not fake.requests_matching("POST", EVENTS)  # nothing before the confirm
            since = len(fake.requests)
            await fake.simulate_component(button(preview, "events.confirm"),
                                          user_id=guild.owner_id, message_id=preview["id"])
            post = await fake.wait_for_bot_message(
                guild.general_id, predicate=lambda m: any(
                    c["custom_id"].startswith("events.rsvp") for c in components(m)))
            created = await fake.wait_for_request("POST", EVENTS, since=since)

            since = len(fake.requests)
            await fake.simulate_component(button(post, "events.rsvp"), user_id=guild.alice_id,
                                          message_id=post["id"])
            going = await followup(fake, since, "You are going to Game night")
            await fake.simulate_component(button(post, "events.rsvp"), user_id=guild.bob_id,
                                          message_id=post["id"])
            waiting = await followup(fake, since, "you are number 1 on the waitlist")

            since = len(fake.requests)
            edit = await fake.simulate_command(
                "event_edit", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("event", 1), command_option("title", "Board games")])
            await fake.wait_for_callback(edit["id"])
            updated = await fake.wait_for_request("PATCH", EVENTS + "/{event_id}", since=since)

            since = len(fake.requests)
            cancel = await fake.simulate_command(
                "event_cancel", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("event", 1), command_option("reason", "snow")])
            await fake.wait_for_callback(cancel["id"])
            cancelled = await fake.wait_for_request(
                "PATCH", EVENTS + "/{event_id}", since=since,
                predicate=lambda r: "status" in (r.json or {}))
            following = await fake.wait_for_request("POST", EVENTS, since=since)
            told = await fake.wait_for_bot_message(
                fake.dm_channel(guild.alice_id)["id"],
                predicate=lambda m: "cancelled" in m["content"])
            await app.settle()
            events = fake.guilds[guild.guild_id].scheduled_events
    start = datetime.fromisoformat(created.json["scheduled_start_time"])
    assert created.json["name"] == "Game night"
    assert created.json["entity_metadata"] == {"location": "The Hub"}
    assert start.date() == first_day and start.hour == 19  # the community's timezone: UTC
    assert datetime.fromisoformat(created.json["scheduled_end_time"]) - start == timedelta(
        hours=2)
    assert ephemeral(going) and ephemeral(waiting)
    assert updated.json["name"] == "Board games"
    assert cancelled.json["status"] == 4
    assert cancelled.params["event_id"] == updated.params["event_id"]
    nxt = datetime.fromisoformat(following.json["scheduled_start_time"])
    assert nxt - start == timedelta(days=7) and following.json["name"] == "Board games"
    assert "Reason: snow" in told["content"]
    assert len(events) == 2


PINS = "/channels/{channel_id}/messages/pins/{message_id}"


async def post_event(fake: FakeDiscord, guild: SampleGuild, title: str, start: str,
                     duration: str = "1h") -> dict[str, Any]:
    """``/event_create`` by the owner, confirmed: the post in #general."""
    payload = await fake.simulate_command(
        "event_create", user_id=guild.owner_id, channel_id=guild.general_id,
        options=[command_option("title", title), command_option("start", start),
                 command_option("duration", duration)])
    await fake.wait_for_callback(payload["id"])
    preview = await fake.wait_for_bot_message(predicate=lambda m: any(
        c["custom_id"].startswith("events.confirm") for c in components(m))
        and title in m["content"])
    await fake.simulate_component(button(preview, "events.confirm"),
                                  user_id=guild.owner_id, message_id=preview["id"])
    return await fake.wait_for_bot_message(guild.general_id, predicate=lambda m: any(
        c["custom_id"].startswith("events.rsvp") for c in components(m))
        and title in m["content"])


async def cancel(fake: FakeDiscord, guild: SampleGuild, event: int) -> None:
    """``/event_cancel`` of a whole one-off event by the owner."""
    payload = await fake.simulate_command(
        "event_cancel", user_id=guild.owner_id, channel_id=guild.general_id,
        options=[command_option("event", event), command_option("reason", "snow")])
    await fake.wait_for_callback(payload["id"])


async def test_the_post_is_pinned_while_upcoming_and_a_missing_permission_is_not_retried(
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()  # the bot's role has Pin Messages
        async with running(fake, guild) as app:
            await fake.wait_for_request("PUT", COMMANDS)
            day = (app.clock.now() + timedelta(days=3)).date()
            post = await post_event(fake, guild, "Game night", f"{day:%Y-%m-%d} 19:00")
            pinned = await fake.wait_for_request("PUT", PINS)
            assert pinned.params["message_id"] == post["id"]
            assert fake.pinned_in(guild.general_id) == [int(post["id"])]
            await cancel(fake, guild, 1)
            unpinned = await fake.wait_for_request("DELETE", PINS)
            assert unpinned.params["message_id"] == post["id"]
            await app.settle()
            assert fake.pinned_in(guild.general_id) == []

            # without Pin Messages (nor Manage Messages) the pin is refused once and dropped
            role = fake.guilds[guild.guild_id].roles[guild.bot_role_id]
            role["permissions"] = str(int(role["permissions"]) & ~(
                Permission.PIN_MESSAGES | Permission.MANAGE_MESSAGES))
            since = len(fake.requests)
            post = await post_event(fake, guild, "Quiz", f"{day:%Y-%m-%d} 20:00")
            refused = await fake.wait_for_request("PUT", PINS, since=since)
            await app.settle()
            stats = dict(app.outbox.stats)
            later = fake.requests[since:]
    assert refused.status == 403
    assert fake.pinned_in(guild.general_id) == []
    assert len([r for r in later if r.route == PINS]) == 1
    assert stats["declined"] == 1 and stats["failed"] == 0
    # no "⚠ I could not carry out an action" note for the admins
    assert not [m for m in fake.messages.values() if "⚠" in (m.get("content") or "")]


async def test_moving_one_occurrence_moves_its_scheduled_event() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild) as app:
            await fake.wait_for_request("PUT", COMMANDS)
            first_day = (app.clock.now() + timedelta(days=3)).date()
            since = len(fake.requests)
            post = await post_event(fake, guild, "Game night",
                                    f"every {first_day.strftime('%A').lower()} 19:00", "2h")
            created = await fake.wait_for_request("POST", EVENTS, since=since)
            await fake.simulate_component(button(post, "events.rsvp"), user_id=guild.alice_id,
                                          message_id=post["id"])
            await followup(fake, since, "You are going to Game night")

            since = len(fake.requests)
            moved_to = f"{first_day + timedelta(days=1)} 20:30"
            edit = await fake.simulate_command(
                "event_edit", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("event", 1), command_option("start", moved_to),
                         command_option("date", str(first_day))])
            await fake.wait_for_callback(edit["id"])
            updated = await fake.wait_for_request("PATCH", EVENTS + "/{event_id}", since=since)
            told = await fake.wait_for_bot_message(
                fake.dm_channel(guild.alice_id)["id"],
                predicate=lambda m: "moves to" in m["content"])
            await app.settle()
            events = fake.guilds[guild.guild_id].scheduled_events
            posted = fake.requests_matching("POST", EVENTS)
    assert updated.params["event_id"] == str(created.response["id"])
    start = datetime.fromisoformat(updated.json["scheduled_start_time"])
    assert (start.date(), start.hour, start.minute) == (first_day + timedelta(days=1), 20, 30)
    assert datetime.fromisoformat(updated.json["scheduled_end_time"]) - start == timedelta(
        hours=2)
    assert len(posted) == 1 and len(events) == 1  # moved, not made again
    assert "this time only" in told["content"]
