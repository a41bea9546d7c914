"""Issue 12.10 on Discord: a reply queued at shutdown still answers its interaction.

The real discord.py client against the fake Discord, a file database kept across the two
runs: the follow-up is held by a 429 when the bot stops, and the next process answers
through the interaction's webhook (ephemeral when private) while the token is valid;
after that a private reply goes by DM or is dropped, never posted in the channel.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.adapters.discord import FOLLOWUP_SECONDS, DiscordPlatform, Handle
from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.messages import Button
from bot.core.payloads import Payload
from bot.core.plugin import Plugin, command, on_button
from bot.core.storage import Database, outbox
from tests.adapters.test_discord import MESSAGES, running, until
from tests.fakes.discord_server import FakeDiscord, SampleGuild

WEBHOOK = "/webhooks/{app_id}/{token}"
COMMANDS = "/applications/{app_id}/guilds/{guild_id}/commands"
EPHEMERAL = 64


class Vote(Payload, prefix="dcrestart.vote"):
    """A press on the test's button."""

    n: int


class Answers(Plugin):
    """One private and one public answer (texts are not translated: tests only)."""

    name = "dcrestart"

    @command("whisper", help=N_("Answer privately"), private=True)
    async def whisper(self, ctx: Context) -> None:
        await ctx.reply("only for you")

    @command("shout", help=N_("Answer for everyone"))
    async def shout(self, ctx: Context) -> None:
        await ctx.reply("for everyone")

    @command("ask", help=N_("Post a button"))
    async def ask(self, ctx: Context) -> None:
        await ctx.send("Vote now", buttons=[Button("Apple", Vote(1))])

    @on_button(Vote)
    async def voted(self, payload: Vote, ctx: Context) -> None:
        await ctx.reply(f"Your vote for {payload.n} is counted.", private=True)


def said(fake: FakeDiscord, text: str) -> list[dict[str, Any]]:
    """Every message the bot created with ``text`` (channel posts, DMs, follow-ups)."""
    return [m for m in fake.bot_messages if text in (m.get("content") or "")]


def public(fake: FakeDiscord, channel: int, text: str) -> list[dict[str, Any]]:
    """The messages with ``text`` that everyone in ``channel`` sees."""
    return [m for m in said(fake, text)
            if int(m["channel_id"]) == channel and not int(m.get("flags") or 0) & EPHEMERAL]


async def queued_at_shutdown(
    fake: FakeDiscord, guild: SampleGuild, url: str, name: str
) -> dict[str, Any]:
    """Run ``/name``; Discord holds its follow-up with a 429 and the bot stops meanwhile."""
    async with running(fake, database_url=url, plugins=[Answers]):
        await fake.wait_for_request("PUT", COMMANDS)
        fake.fail_next("POST", WEBHOOK, 429, retry_after=60)
        payload = await fake.simulate_command(name, user_id=guild.alice_id,
                                              channel_id=guild.general_id)
        await fake.wait_for_callback(payload["id"])
        await until(lambda: any(r.injected for r in fake.requests_matching("POST", WEBHOOK)))
    return payload


async def age_stored_handles(path: Path, aged: bool) -> int:
    """Make the stored reply handles 16 minutes old (if ``aged``); how many there are."""
    stored = 0
    db = Database(f"sqlite+aiosqlite:///{path}")  # on PostgreSQL too, in its test mode
    try:
        async with db.begin() as conn:
            rows = (await conn.execute(select(outbox.c.id, outbox.c.reply))).all()
            for key, data in rows:
                if isinstance(data, dict):
                    stored += 1
                    if aged:
                        data["created"] = time.time() - FOLLOWUP_SECONDS - 60
                        await conn.execute(
                            update(outbox).where(outbox.c.id == key).values(reply=data))
    finally:
        await db.close()
    return stored


def test_a_handle_survives_json() -> None:
    handle = Handle(1001, 2002, "tok", 2, 3003, 1_700_000_000.5, True)
    stored = json.loads(json.dumps(handle.to_json()))
    back = DiscordPlatform.restore_handle(None, stored)  # type: ignore[arg-type]
    assert back is not None and back.interaction is None
    assert (back.interaction_id, back.application_id, back.token, back.type, back.channel_id,
            back.created, back.responded) == (1001, 2002, "tok", 2, 3003, 1_700_000_000.5, True)
    assert DiscordPlatform.restore_handle(None, {"token": "x"}) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "text", "flags"), [("whisper", "only for you", EPHEMERAL),
                                                     ("shout", "for everyone", 0)])
async def test_a_reply_queued_at_shutdown_answers_its_interaction_after_restart(
    tmp_path: Path, name: str, text: str, flags: int
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        payload = await queued_at_shutdown(fake, guild, url, name)
        assert not said(fake, text)
        since = len(fake.requests)
        async with running(fake, database_url=url, plugins=[Answers]) as app:
            followup = await fake.wait_for_request(
                "POST", WEBHOOK, since=since, predicate=lambda r: not r.injected, timeout=15)
            await app.settle()
        dm = fake.dm_channels.get(guild.alice_id)
    assert followup.params["token"] == payload["token"]
    assert int(followup.params["application_id"]) == fake.application_id
    assert int(followup.json.get("flags") or 0) & EPHEMERAL == flags
    [message] = said(fake, text)  # once, as the interaction's follow-up
    assert int(message["channel_id"]) == guild.general_id
    assert int(message.get("flags") or 0) & EPHEMERAL == flags
    assert message["interaction_metadata"]["id"] == payload["id"]
    assert dm is None or not any(int(m["channel_id"]) == int(dm["id"])
                                 for m in said(fake, text))
    if flags:
        assert not public(fake, guild.general_id, text)


@pytest.mark.parametrize(("aged", "dms_open"), [(True, True), (True, False), (False, True)])
async def test_a_private_reply_whose_token_expired_during_the_restart_never_goes_public(
    tmp_path: Path, aged: bool, dms_open: bool
) -> None:
    """``aged``: the stored handle says 16 minutes passed; otherwise only Discord knows."""
    path = tmp_path / "majlis.db"
    url = f"sqlite+aiosqlite:///{path}"
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        payload = await queued_at_shutdown(fake, guild, url, "whisper")
        # the bot was down for 16 minutes: Discord forgot the token
        fake.expire_interaction(payload["id"])
        assert await age_stored_handles(path, aged) == 1  # the reply's handle was stored
        if not dms_open:
            fake.close_dms(guild.alice_id)
        since = len(fake.requests)
        async with running(fake, database_url=url, plugins=[Answers]) as app:
            await until(lambda: bool([r for r in fake.requests[since:]
                                      if r.matches("POST", MESSAGES)]))
            await app.settle()
            counts = await app.db.outbox_counts()
        dm = int(fake.dm_channel(guild.alice_id)["id"])
    assert not public(fake, guild.general_id, "only for you")
    tried = [r for r in fake.requests[since:] if r.matches("POST", WEBHOOK)]
    if aged:
        assert not tried  # an expired token is not even tried
    else:
        assert [r.status for r in tried] == [404]  # refused: Unknown Webhook
    if dms_open:
        [message] = said(fake, "only for you")
        assert int(message["channel_id"]) == dm
    else:
        assert not said(fake, "only for you")
        assert counts.get("undeliverable") == 1


async def test_a_public_reply_whose_token_expired_is_posted_in_the_channel(
    tmp_path: Path,
) -> None:
    path = tmp_path / "majlis.db"
    url = f"sqlite+aiosqlite:///{path}"
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        payload = await queued_at_shutdown(fake, guild, url, "shout")
        fake.expire_interaction(payload["id"])
        assert await age_stored_handles(path, True) == 1
        since = len(fake.requests)
        async with running(fake, database_url=url, plugins=[Answers]) as app:
            await fake.wait_for_bot_message(guild.general_id, timeout=15)
            await app.settle()
    assert not [r for r in fake.requests[since:] if r.matches("POST", WEBHOOK)]
    assert [m["content"] for m in public(fake, guild.general_id, "for everyone")] == [
        "for everyone"]


async def test_a_private_answer_to_a_press_queued_at_shutdown_stays_ephemeral(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, database_url=url, plugins=[Answers]):
            await fake.wait_for_request("PUT", COMMANDS)
            await fake.simulate_command("ask", user_id=guild.alice_id,
                                        channel_id=guild.general_id)
            post = await fake.wait_for_bot_message(
                guild.general_id, timeout=15, predicate=lambda m: m["content"] == "Vote now")
            fake.fail_next("POST", WEBHOOK, 429, retry_after=60)
            [button] = [c for row in post["components"] for c in row["components"]]
            press = await fake.simulate_component(button["custom_id"], user_id=guild.alice_id,
                                                  message_id=post["id"])
            await fake.wait_for_callback(press["id"])
            await until(lambda: any(r.injected for r in fake.requests_matching("POST", WEBHOOK)))
        since = len(fake.requests)
        async with running(fake, database_url=url, plugins=[Answers]) as app:
            followup = await fake.wait_for_request(
                "POST", WEBHOOK, since=since, predicate=lambda r: not r.injected, timeout=15)
            await app.settle()
    assert followup.params["token"] == press["token"]
    assert int(followup.json.get("flags") or 0) & EPHEMERAL
    [message] = said(fake, "is counted")
    assert int(message["flags"]) & EPHEMERAL
    assert not public(fake, guild.general_id, "is counted")
