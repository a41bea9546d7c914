"""End to end: the feedback plugin through the real discord.py client against the fake
Discord, in English and Arabic: a suggestion posted with its buttons and comment thread,
votes, a status change told by DM, and a poll's outcome told to its voters."""

from __future__ import annotations

from datetime import timedelta

from plugins.feedback import Feedback
from plugins.polls import Polls
from tests.adapters.test_discord import MESSAGES, components
from tests.adapters.test_plugins_discord import (
    LANGUAGES,
    community_of,
    ephemeral,
    followup,
    running,
    tr,
)
from tests.fakes.discord_server import FakeDiscord, command_option

COMMANDS = "/applications/{app_id}/guilds/{guild_id}/commands"
THREAD_FROM_MESSAGE = "/channels/{channel_id}/messages/{message_id}/threads"
EDIT = "/channels/{channel_id}/messages/{message_id}"


@LANGUAGES
async def test_a_suggestion_gets_buttons_a_thread_votes_and_a_status_dm(language: str) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Feedback, Polls], language=language) as app:
            await fake.wait_for_request("PUT", COMMANDS)
            await fake.simulate_command(
                "suggest", user_id=guild.alice_id, channel_id=guild.general_id,
                options=[command_option("text", "Add a channel for board games")])
            post = await fake.wait_for_bot_message(guild.general_id,
                                                   predicate=lambda m: bool(components(m)))
            sent = await fake.wait_for_request(
                "POST", MESSAGES, predicate=lambda r: "board games" in str(r.json))
            thread = await fake.wait_for_request("POST", THREAD_FROM_MESSAGE)
            posted = await followup(fake, 0, tr(app, "feedback", language,
                                                "Your suggestion #{n} is posted. I will tell "
                                                "you when its status changes.", n=1))

            since = len(fake.requests)
            ids = [c["custom_id"] for c in components(post)]
            await fake.simulate_component(ids[0], user_id=guild.bob_id, message_id=post["id"])
            counted = await followup(fake, since, tr(app, "feedback", language,
                                                     "Your 👍 for #{n} is counted.", n=1))
            edited = await fake.wait_for_request(
                "PATCH", EDIT, since=since, predicate=lambda r: "👍 1" in str(r.json))

            since, shown = len(fake.requests), len(fake.bot_messages)
            await fake.simulate_command(
                "suggestion_status", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("number", 1), command_option("status", "planned")])
            refused = await followup(fake, since, "under_review")
            await fake.simulate_command(
                "suggestion_status", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("number", 1), command_option("status", "under_review"),
                         command_option("reason", "asking the team")])
            dms = {}
            for user in (guild.alice_id, guild.bob_id):
                channel = fake.dm_channel(user)["id"]
                dms[user] = await fake.wait_for_bot_message(channel, since=shown)
            await app.settle()
    t = app.translator("feedback", language, community_of(guild))
    assert post["content"].startswith(t.plain("💡 **Suggestion #{n}**: {text}", n=1,
                                              text="Add a channel for board games"))
    assert ids == ["feedback.up:1", "feedback.down:1", "feedback.follow:1"]
    assert sent.json["allowed_mentions"]["parse"] == []  # member text pings nobody
    assert [c["label"] for c in components(post)] == [
        t.plain("👍 Vote up"), t.plain("👎 Vote down"), t.plain("🔔 Follow")]
    assert t.plain("Comments: in the thread of this suggestion.") in post["content"]
    assert thread.params["message_id"] == post["id"]
    assert thread.json["name"] == "#1 Add a channel for board games"
    assert ephemeral(posted) and ephemeral(counted) and ephemeral(refused)
    assert edited.params["message_id"] == post["id"]
    notice = t.plain("🔔 Suggestion #{n} “{text}” is now **{status}**.", n=1,
                     text="Add a channel for board games", status=t.plain("under review"))
    for message in dms.values():
        assert message["content"].startswith(notice)
        assert t.plain("Why: {reason}", reason="asking the team") in message["content"]
    assert not [m for m in fake.bot_messages if int(m["channel_id"]) == guild.general_id
                and notice in m["content"]]  # told privately, not in the channel


async def test_a_closed_poll_asks_the_admins_and_its_outcome_reaches_the_voters() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Feedback, Polls]) as app:
            await fake.wait_for_request("PUT", COMMANDS)
            await fake.simulate_command(
                "poll", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("question", "Which day?"),
                         command_option("options", "Sat | Sun"),
                         command_option("duration", "1h")])
            poll = await fake.wait_for_bot_message(guild.general_id,
                                                   predicate=lambda m: bool(components(m)))
            for user in (guild.alice_id, guild.bob_id):
                await fake.simulate_component(components(poll)[0]["custom_id"], user_id=user,
                                              message_id=poll["id"])
            await app.settle()
            since = len(fake.requests)
            await app.scheduler.advance(timedelta(hours=1, minutes=1))
            asked = await fake.wait_for_request(
                "POST", MESSAGES, since=since,
                predicate=lambda r: "What was done" in str((r.json or {}).get("content")))
            since, shown = len(fake.requests), len(fake.bot_messages)
            await fake.simulate_command(
                "poll_outcome", user_id=guild.owner_id, channel_id=guild.general_id,
                options=[command_option("poll", 1),
                         command_option("text", "Meetups move to Saturday")])
            told = [await fake.wait_for_bot_message(fake.dm_channel(u)["id"], since=shown)
                    for u in (guild.alice_id, guild.bob_id)]
            done = await followup(fake, since, "I told its 2 voters.")
            await app.settle()
    assert "Poll #1 “Which day?” closed (2 voters; winner: Sat)." in asked.json["content"]
    assert [m["content"] for m in told] == [
        "🗳 What came of poll #1 “Which day?”: Meetups move to Saturday"] * 2
    assert ephemeral(done)
