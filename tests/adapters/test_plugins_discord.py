"""End to end: the polls, onboarding and contributions plugins through the real discord.py
client against the fake Discord, in English and in Arabic.

The app runs on a :class:`ManualClock` (deadlines are reached with
``app.scheduler.advance``); the gateway and the REST calls use real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.discord import DiscordPlatform
from bot.app import App
from bot.core.clock import ManualClock
from bot.core.plugin import Plugin
from bot.core.refs import CommunityRef
from bot.settings import DiscordSettings
from plugins.admin import Admin
from plugins.contributions import Contributions
from plugins.onboarding import Onboarding
from plugins.polls import Polls
from tests.adapters.test_discord import FAST, MESSAGES, components, join, until
from tests.conftest import make_settings
from tests.fakes.discord_server import (
    DEFAULT_TOKEN,
    UNKNOWN_WEBHOOK,
    FakeDiscord,
    RecordedRequest,
    SampleGuild,
    command_option,
)

WEBHOOK = "/webhooks/{app_id}/{token}"
ROLES = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
LANGUAGES = pytest.mark.parametrize("language", ["en", "ar"])
EPHEMERAL = 64


@asynccontextmanager
async def running(
    fake: FakeDiscord,
    guild: SampleGuild,
    plugins: Sequence[type[Plugin]],
    *,
    language: str = "en",
    message_content: bool = False,
) -> AsyncIterator[App]:
    """The app on a manual clock with the Discord platform, the guild set to ``language``."""
    platform = DiscordPlatform(
        DiscordSettings(
            token=SecretStr(DEFAULT_TOKEN),
            application_id=fake.application_id,
            api_url=fake.api_url,
            gateway_url=fake.gateway_url,
            message_content_intent=message_content,
        ),
        rate_profile=FAST,
        client_options={"guild_ready_timeout": 0.1},
    )
    app = App(make_settings(), clock=ManualClock(), platforms=[platform],
              plugins=[Admin, *plugins])
    await app.start()
    try:
        community = community_of(guild)
        await until(lambda: app.community_info(community).get("name") is not None)
        await app.settle()
        if language != "en":
            await app.update_community(community, language=language)
        yield app
    finally:
        await app.stop()


def community_of(guild: SampleGuild) -> CommunityRef:
    """The core's reference to the sample guild."""
    return CommunityRef("discord", str(guild.guild_id))


async def configure(app: App, guild: SampleGuild, plugin: str, **values: Any) -> None:
    """Set plugin settings as an admin would."""
    community = community_of(guild)
    translator = app.translator(plugin, "en", community)
    for key, value in values.items():
        await app.set_setting(app.plugins[plugin], community, key, value, translator=translator)


def tr(app: App, domain: str, language: str, msgid: str, **values: Any) -> str:
    """A catalog string as members of ``language`` read it (markup removed)."""
    return str(app.translator(domain, language, CommunityRef("discord", "0")).plain(msgid,
                                                                                   **values))


def ephemeral(request: RecordedRequest) -> bool:
    """Whether a follow-up is flagged ephemeral."""
    return bool(int(request.json.get("flags") or 0) & EPHEMERAL)


async def followup(fake: FakeDiscord, since: int, text: str) -> RecordedRequest:
    """The first follow-up since ``since`` whose content contains ``text``."""
    return await fake.wait_for_request(
        "POST", WEBHOOK, since=since,
        predicate=lambda r: text in str((r.json or {}).get("content", "")),
    )


# -- polls ---------------------------------------------------------------------------------


@LANGUAGES
async def test_a_poll_with_buttons_collects_votes_and_posts_a_chart(language: str) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Polls], language=language) as app:
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            payload = await fake.simulate_command(
                "poll", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("question", "Lunch?"),
                         command_option("options", "A | B | C"),
                         command_option("duration", "1h")],
            )
            callback = await fake.wait_for_callback(payload["id"])
            poll = await fake.wait_for_bot_message(guild.general_id,
                                                   predicate=lambda m: bool(components(m)))
            ids = [c["custom_id"] for c in components(poll)]
            assert ids[:3] == ["polls.vote:1:0", "polls.vote:1:1", "polls.vote:1:2"]
            assert "Lunch?" in poll["content"]

            since = len(fake.requests)
            await fake.simulate_component(ids[0], user_id=guild.alice_id, message_id=poll["id"])
            counted = tr(app, "polls", language, "Your vote for “{option}” is counted.",
                         option="A")
            first = await followup(fake, since, counted)
            await fake.simulate_component(ids[1], user_id=guild.bob_id, message_id=poll["id"])
            await followup(fake, since, tr(app, "polls", language,
                                           "Your vote for “{option}” is counted.", option="B"))
            await fake.simulate_component(ids[1], user_id=guild.alice_id, message_id=poll["id"])
            changed = await followup(fake, since, tr(
                app, "polls", language, "You changed your vote to “{option}”.", option="B"))
            await app.settle()
            edits = fake.requests_matching("PATCH", "/channels/{channel_id}/messages/{message_id}")

            since = len(fake.requests)
            await app.scheduler.advance(timedelta(hours=1, minutes=1))
            results = await fake.wait_for_request("POST", MESSAGES, since=since,
                                                  predicate=lambda r: bool(r.files))
            await app.settle()
    assert callback.type == 5  # deferred, answered by follow-ups
    assert ephemeral(first) and ephemeral(changed)
    assert edits, "the poll message shows the new counts"
    content = results.json["content"]
    assert tr(app, "polls", language, "🗳 Poll #{id} is closed: **{question}**", id=1,
              question="Lunch?").replace("**", "") in content.replace("**", "")
    assert tr(app, "polls", language, "Winner: **{option}**.",
              option="B").replace("**", "") in content.replace("**", "")
    percent = app.translator("polls", language, community_of(guild)).percent
    assert tr(app, "polls", language, "Reach: {newcomers} of voters joined in the last 30 "
              "days; {beyond} are not among the most active 10% of members.",
              newcomers=percent(0.0), beyond=percent(1.0)) in content
    assert results.files[0].filename == "poll-1.png"
    assert results.files[0].data.startswith(b"\x89PNG")


async def test_a_vote_confirmation_whose_followup_fails_never_appears_in_the_channel() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Polls]) as app:
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            await fake.simulate_command(
                "poll", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("question", "Lunch?"),
                         command_option("options", "A | B"),
                         command_option("duration", "1h")],
            )
            poll = await fake.wait_for_bot_message(guild.general_id,
                                                   predicate=lambda m: bool(components(m)))
            # The interaction's webhook is gone (404 Unknown Webhook) for every follow-up.
            fake.fail_next("POST", WEBHOOK, UNKNOWN_WEBHOOK, times=None)
            await fake.simulate_component(components(poll)[0]["custom_id"],
                                          user_id=guild.alice_id, message_id=poll["id"])
            counted = tr(app, "polls", "en", "Your vote for “{option}” is counted.", option="A")
            dm = await fake.wait_for_bot_message(fake.dm_channel(guild.alice_id)["id"],
                                                 timeout=15)
            await app.settle()
    public = [m["content"] for m in fake.bot_messages
              if int(m["channel_id"]) == guild.general_id
              and not int(m.get("flags") or 0) & EPHEMERAL]
    assert counted in dm["content"]
    assert not any(counted in text for text in public)


# -- onboarding -----------------------------------------------------------------------------


@LANGUAGES
async def test_a_newcomer_is_greeted_walked_through_by_dm_and_gets_the_starter_role(
    language: str,
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Onboarding], language=language) as app:
            await configure(
                app, guild, "onboarding", rules_text="Be kind.",
                interests=[{"id": 1, "label": "Poetry"}, {"id": 2, "label": "Chess"}],
                starter_role=str(guild.member_role_id),
            )
            uid = await join(fake, guild, "Carol")
            greeting = await fake.wait_for_bot_message(
                guild.general_id, predicate=lambda m: "Carol" in m["content"])
            channel = await fake.wait_for_request("POST", "/users/@me/channels")
            rules = await fake.wait_for_bot_message(
                channel.response["id"], predicate=lambda m: bool(components(m)))
            accept = components(rules)[0]
            await fake.simulate_component(accept["custom_id"], user_id=uid,
                                          message_id=rules["id"])
            picker = await fake.wait_for_bot_message(
                channel.response["id"], predicate=lambda m: len(components(m)) == 3)
            await fake.simulate_component(components(picker)[0]["custom_id"], user_id=uid,
                                          message_id=picker["id"])
            await fake.wait_for_request(
                "PATCH", "/channels/{channel_id}/messages/{message_id}",
                predicate=lambda r: "✅" in str(r.json))
            await fake.simulate_component(components(picker)[2]["custom_id"], user_id=uid,
                                          message_id=picker["id"])
            role = await fake.wait_for_request("PUT", ROLES)
            done = await fake.wait_for_bot_message(
                channel.response["id"],
                predicate=lambda m: m["content"].startswith("🎉"))
            await app.settle()
    assert tr(app, "onboarding", language, "Welcome to {community}, {name}! 👋",
              community="Majlis Test Guild", name="Carol") == greeting["content"]
    assert accept["label"] == tr(app, "onboarding", language, "I accept the rules")
    assert components(picker)[2]["label"] == tr(app, "onboarding", language, "Done")
    assert role.params["user_id"] == str(uid)
    assert role.params["role_id"] == str(guild.member_role_id)
    assert guild.member_role_id in fake.member_role_ids(guild.guild_id, uid)
    assert done["content"].startswith(
        tr(app, "onboarding", language, "🎉 You are all set! Welcome aboard."))


# -- contributions --------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "content_intent"),
                         [("en", True), ("ar", True), ("en", False)])
async def test_messages_earn_xp_a_level_role_and_a_rank_card(
    language: str, content_intent: bool
) -> None:
    """Without the message content intent texts arrive empty: min_length 0 still counts them."""
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Contributions], language=language,
                           message_content=content_intent) as app:
            await configure(app, guild, "contributions", xp_per_message=60,
                            cooldown_seconds=0, curve="flat", min_length=0 if not content_intent
                            else 5, role_rewards=f"level:1={guild.moderator_role_id}")
            await fake.simulate_message(guild.general_id, guild.bob_id, "hello everyone")
            sent = await fake.wait_for_gateway(event="MESSAGE_CREATE", direction="send")
            await app.settle()
            assert not fake.requests_matching("PUT", ROLES)
            await fake.simulate_message(guild.general_id, guild.bob_id, "a second message")
            role = await fake.wait_for_request("PUT", ROLES)
            level_up = await fake.wait_for_bot_message(
                guild.general_id, predicate=lambda m: m["content"].startswith("🎉"))
            await app.settle()
            since = len(fake.requests)
            await fake.simulate_command("rank", user_id=guild.bob_id,
                                        channel_id=guild.general_id)
            rank = await fake.wait_for_request("POST", WEBHOOK, since=since,
                                               predicate=lambda r: bool(r.files))
            await app.settle()
    assert (sent.d["content"] != "") is content_intent
    assert role.params["user_id"] == str(guild.bob_id)
    assert role.params["role_id"] == str(guild.moderator_role_id)
    assert guild.moderator_role_id in fake.member_role_ids(guild.guild_id, guild.bob_id)
    t = app.translator("contributions", language, community_of(guild))
    assert level_up["content"] == t.plain("🎉 {member} reached level {level}!",
                                          member=f"<@{guild.bob_id}>", level=t.number(1))
    assert rank.files[0].data.startswith(b"\x89PNG")


async def vote_natively(fake: FakeDiscord, guild: SampleGuild, message: dict[str, Any],
                        user_id: int, answer_id: int, *, remove: bool = False) -> None:
    """A member (un)chooses an answer of a native poll (answer ids start at 1)."""
    await fake.dispatch(
        "MESSAGE_POLL_VOTE_REMOVE" if remove else "MESSAGE_POLL_VOTE_ADD",
        {"user_id": str(user_id), "channel_id": str(message["channel_id"]),
         "message_id": str(message["id"]), "guild_id": str(guild.guild_id),
         "answer_id": answer_id},
    )


@LANGUAGES
async def test_votes_in_a_native_poll_are_counted(language: str) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Polls], language=language) as app:
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            await fake.simulate_command(
                "poll", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("question", "Lunch?"),
                         command_option("options", "A | B | C"),
                         command_option("duration", "1h"), command_option("native", True)],
            )
            posted = await fake.wait_for_request("POST", MESSAGES,
                                                 predicate=lambda r: "poll" in (r.json or {}))
            poll = posted.response
            await followup(fake, 0, tr(app, "polls", language, "Your native poll is posted."))
            await app.settle()
            handled = app.dispatcher.handled
            await vote_natively(fake, guild, poll, guild.alice_id, 1)
            await vote_natively(fake, guild, poll, guild.bob_id, 1)
            await vote_natively(fake, guild, poll, guild.bob_id, 1, remove=True)  # changes
            await vote_natively(fake, guild, poll, guild.bob_id, 3)
            await vote_natively(fake, guild, poll, guild.alice_id, 1, remove=True)
            await vote_natively(fake, guild, poll, guild.alice_id, 1)  # back to A
            await until(lambda: app.dispatcher.handled >= handled + 6)
            await app.settle()
            since = len(fake.requests)
            await app.scheduler.advance(timedelta(hours=1, minutes=1))
            results = await fake.wait_for_request("POST", MESSAGES, since=since,
                                                  predicate=lambda r: bool(r.files))
            await app.settle()
    body = posted.json["poll"]
    assert body["question"]["text"] == "Lunch?"
    assert [a["poll_media"]["text"] for a in body["answers"]] == ["A", "B", "C"]
    content = results.json["content"]
    t = app.translator("polls", language, community_of(guild))
    for index, option, count in ((1, "A", 1), (2, "B", 0), (3, "C", 1)):
        assert t.plain("{index}. {option} — {votes} ({percent})", index=index, option=option,
                       votes=t.tn("{n} vote", "{n} votes", count),
                       percent=t.percent(count / 2)) in content
    assert str(t.tn("{n} member voted.", "{n} members voted.", 2)) in content
