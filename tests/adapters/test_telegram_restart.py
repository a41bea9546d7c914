"""Issue 12.10 on Telegram: a reply queued at shutdown keeps its reply-to after a restart.

The real PTB Application against the fake Bot API, a file database kept across the two
runs: the reply is held by a 429 when the bot stops, and delivered by the next process.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bot.adapters.telegram import Handle, TelegramPlatform
from bot.core.context import Context
from bot.core.messages import Button
from bot.core.payloads import Payload
from bot.core.plugin import Plugin, command, on_button
from tests.adapters.test_telegram import fake, keyboard, quiet, running, said
from tests.adapters.test_telegram_faults import in_chat, posts
from tests.fakes.telegram_server import FakeTelegram, RecordedCall, group, user

__all__ = ["fake"]  # the fixture, imported for pytest

GROUP = group(-1001, "Majlis")
BOB = user(43, "Bob", language_code="en")


class Vote(Payload, prefix="tgrestart.vote"):
    """A press on the test's button."""

    n: int


class Replies(Plugin):
    """A command answered in the group, a button answered in private."""

    name = "tgrestart"

    @command("hello", help="Say hello")
    async def hello(self, ctx: Context) -> None:
        await ctx.reply("Hello, Bob!")

    @command("ask", help="Post a button")
    async def ask(self, ctx: Context) -> None:
        await ctx.send("Vote now", buttons=[Button("Apple", Vote(1))])

    @on_button(Vote)
    async def voted(self, payload: Vote, ctx: Context) -> None:
        await ctx.reply(f"Your vote for {payload.n} is counted.")


def reply_target(call: RecordedCall) -> int | None:
    """The message a sendMessage answers (``reply_parameters`` or the older field)."""
    params = call.params.get("reply_parameters")
    if isinstance(params, str):
        params = json.loads(params)
    if isinstance(params, dict):
        return int(params["message_id"])
    old = call.params.get("reply_to_message_id")
    return int(old) if old is not None else None


def test_handle_survives_json() -> None:
    handle = Handle(-1001, 17, 5, "4000")
    handle.answered = True
    stored: Any = json.loads(json.dumps(handle.to_json()))
    back = TelegramPlatform.restore_handle(None, stored)  # type: ignore[arg-type]
    assert back is not None
    assert (back.chat_id, back.message_id, back.thread_id, back.callback_id) == (
        -1001, 17, 5, "4000")
    assert not back.answered  # tried again; Telegram refuses an answered query


async def test_reply_queued_at_shutdown_keeps_its_reply_to(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with running(fake, database_url=url, plugins=[Replies]) as (_app, _platform):
        # Telegram answers "retry after 60" when the reply goes out; the bot stops meanwhile
        fake.fail_next("sendMessage", 429, retry_after=60)
        command_update = fake.message_update(GROUP, BOB, "/hello")
        fake.push(command_update)
        await fake.wait_for_call("sendMessage", lambda c: not c.ok)
        await asyncio.sleep(0.3)  # not quiet(): settling would wait for the reply
    assert not posts(fake, -1001, "Hello, Bob!")
    async with running(fake, database_url=url, plugins=[Replies]) as (app, _platform):
        reply = await said(fake, "Hello, Bob!")
        await quiet(app)
    assert reply_target(reply) == command_update["message"]["message_id"]
    assert len(posts(fake, -1001, "Hello, Bob!")) == 1


async def test_private_reply_queued_at_shutdown_stays_private(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with running(fake, database_url=url, plugins=[Replies],
                       callback_wait=1.0) as (_app, _platform):
        fake.push(fake.message_update(GROUP, BOB, "/ask"))
        post = await said(fake, "Vote now")
        fake.allow_private(43)
        # the answer is refused for a minute: the reply with the vote waits in the outbox
        fake.fail_next("answerCallbackQuery", 429, retry_after=60)
        press = fake.callback_query_update(BOB, post.result, keyboard(post)[0][0]["callback_data"])
        fake.push(press)
        await fake.wait_for_call("answerCallbackQuery", lambda c: not c.ok)
        await asyncio.sleep(0.3)  # not quiet(): settling would wait for the reply
    query = press["callback_query"]["id"]
    fake.expire_callback(query)  # the restart took longer than Telegram waits for an answer
    async with running(fake, database_url=url, plugins=[Replies]) as (app, _platform):
        await fake.wait_for_call("sendMessage", in_chat(43, "Your vote for 1 is counted."))
        await quiet(app)
    assert not posts(fake, -1001, "is counted")
    assert len(posts(fake, 43, "is counted")) == 1
    assert not fake.answered_callbacks(query)
