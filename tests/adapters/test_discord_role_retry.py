"""A role grant refused for the role order is retried once an admin fixes the order."""

from __future__ import annotations

import asyncio
import copy

from tests.adapters.test_discord import ROLE, running
from tests.fakes.discord_server import FakeDiscord


async def test_a_refused_role_is_granted_after_the_admin_moves_the_bot_role() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        ROLE[0] = str(guild.admin_role_id)  # above the bot's role
        async with running(fake) as app:
            await fake.simulate_command("promote", user_id=guild.alice_id,
                                        channel_id=guild.general_id)
            await fake.wait_for_bot_message(
                guild.general_id, predicate=lambda m: m["content"].startswith("⚠")
            )
            assert guild.admin_role_id not in fake.member_role_ids(guild.guild_id,
                                                                   guild.alice_id)
            assert (await app.db.outbox_counts()).get("failed") is None  # kept, not dropped

            # The admin drags the bot's role above Admin; Discord tells the bot.
            role = copy.deepcopy(fake.guild(guild.guild_id).roles[guild.bot_role_id])
            role["position"] = 10
            await fake.dispatch("GUILD_ROLE_UPDATE",
                                {"guild_id": str(guild.guild_id), "role": role})
            for _ in range(200):
                if guild.admin_role_id in fake.member_role_ids(guild.guild_id, guild.alice_id):
                    break
                await asyncio.sleep(0.02)
            assert guild.admin_role_id in fake.member_role_ids(guild.guild_id, guild.alice_id)
            reports = [m for m in fake.bot_messages if m.get("content", "").startswith("⚠")]
            assert len(reports) == 1  # reported once, not at every retry
