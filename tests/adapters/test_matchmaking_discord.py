"""End to end: matchmaking through the real discord.py client against the fake Discord.

Members join and set interests with slash commands; the admin's preview is ephemeral with
buttons; the introductions and the check-in arrive as DMs; a press records the answer.
"""

from __future__ import annotations

from datetime import timedelta

from plugins.matchmaking import Matchmaking
from tests.adapters.test_discord import components
from tests.adapters.test_plugins_discord import WEBHOOK, ephemeral, followup, running
from tests.fakes.discord_server import FakeDiscord, command_option


async def test_preview_announce_dm_introductions_and_check_in() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Matchmaking]) as app:
            await fake.wait_for_request("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
            for uid in (guild.alice_id, guild.bob_id):  # one command after the other
                since = len(fake.requests)
                await fake.simulate_command("match_join", user_id=uid,
                                            channel_id=guild.general_id)
                await followup(fake, since, "You are in!")
                since = len(fake.requests)
                await fake.simulate_command(
                    "interests", user_id=uid, channel_id=guild.general_id,
                    options=[command_option("chosen", "chess, poetry")])
                await followup(fake, since, "Your interests: chess, poetry.")
            since = len(fake.requests)
            await fake.simulate_command("match_round", user_id=guild.owner_id,
                                        channel_id=guild.general_id)
            preview = await followup(fake, since, "Preview: 1 group.")
            assert ephemeral(preview)  # only the admin sees the groups before anyone is told
            assert "shared: chess, poetry" in preview.json["content"]
            buttons = [c for row in preview.json.get("components", [])
                       for c in row.get("components", [])]
            announce = next(b for b in buttons if b["label"] == "Announce")
            message_id = preview.response["id"]
            since = len(fake.requests)
            await fake.simulate_component(announce["custom_id"], user_id=guild.owner_id,
                                          message_id=message_id)
            dm_channels = []
            for _ in range(2):
                opened = await fake.wait_for_request("POST", "/users/@me/channels", since=since)
                dm_channels.append(opened.response["id"])
                since = fake.requests.index(opened) + 1
            intros = [await fake.wait_for_bot_message(
                channel, predicate=lambda m: "This round you are matched with" in m["content"])
                for channel in dm_channels]
            summary = await fake.wait_for_bot_message(
                guild.general_id, predicate=lambda m: "Round 1 of matchmaking" in m["content"])
            await app.scheduler.advance(timedelta(days=4, minutes=1))
            question = await fake.wait_for_bot_message(
                dm_channels[0], predicate=lambda m: bool(components(m)))
            yes = next(c for c in components(question) if c["label"] == "Yes, we met")
            since = len(fake.requests)
            await fake.simulate_component(yes["custom_id"], user_id=guild.alice_id
                                          if "Bob" in question["content"] else guild.bob_id,
                                          message_id=question["id"])
            thanks = await fake.wait_for_request(
                "POST", WEBHOOK, since=since,
                predicate=lambda r: "Wonderful" in str((r.json or {}).get("content", "")))
            await app.settle()
    assert all("You share: chess, poetry." in m["content"] for m in intros)
    assert summary["content"] == "Round 1 of matchmaking: 1 group was introduced privately."
    assert "Did you meet" in question["content"]
    assert thanks.json["content"] == "Wonderful, thanks for telling me!"
