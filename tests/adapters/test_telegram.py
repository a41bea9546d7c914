"""End to end: the real PTB Application against the fake Bot API server, the real core."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.adapters.telegram import TelegramPlatform, parse_command
from bot.adapters.telegram_limits import RATE_PROFILE
from bot.app import App
from bot.core.actions import SendMessage
from bot.core.clock import SystemClock
from bot.core.context import Context
from bot.core.messages import Button, Content, Reward
from bot.core.payloads import Payload
from bot.core.plugin import Plugin, command, on_button
from bot.core.ratelimit import RateProfile
from bot.core.refs import ChannelRef, CommunityRef, RoleRef
from bot.settings import TelegramSettings
from plugins.admin import Admin
from plugins.example import Example
from plugins.example.tables import waves
from tests.conftest import make_settings
from tests.fakes.telegram_server import (
    FakeTelegram,
    RecordedCall,
    group,
    post_webhook_update,
    user,
)

TOKEN = "123:ABC"
FAST = RateProfile("test", (), 16)
#: Presses wait this long for their reply before being answered empty: long enough that a
#: reply on a busy test machine still comes as the answer (tests of the late path pass 1 s).
CALLBACK_WAIT = 5.0
GROUP = group(-1001, "Majlis")
ALICE = user(42, "Alice", username="alice", language_code="en")
BOB = user(43, "Bob", language_code="en")
SARA = user(44, "سارة", language_code="ar")


class Secret(Payload, prefix="tgtest.secret"):
    """Opens the private flow of the test plugin."""

    n: int


class Private(Plugin):
    """A plugin with a private flow (messages are not translated: tests only)."""

    name = "tgtest"

    @command("secret", help="Open a private flow")
    async def secret(self, ctx: Context) -> None:
        assert ctx.member is not None
        await ctx.dm(ctx.member, "psst", buttons=[Button("Open", Secret(7))],
                     fallback="Tap the button to continue in private.")

    @on_button(Secret)
    async def opened(self, payload: Secret, ctx: Context) -> None:
        await ctx.reply(f"private flow {payload.n} is open")

    @command("badge", help="Earn a badge")
    async def badge(self, ctx: Context, role: str | None = None) -> None:
        assert ctx.member is not None
        await ctx.grant(ctx.member, Reward(
            badge="Helper", role=RoleRef("telegram", role) if role else None))


@asynccontextmanager
async def running(
    fake: FakeTelegram,
    *,
    database_url: str = "sqlite+aiosqlite://",
    plugins: Sequence[type[Plugin]] = (Example, Admin, Private),
    profile: RateProfile = FAST,
    callback_wait: float = CALLBACK_WAIT,
    **telegram: Any,
) -> AsyncIterator[tuple[App, TelegramPlatform]]:
    """An app with the Telegram platform against ``fake``, stopped at the end."""
    platform = TelegramPlatform(
        TelegramSettings(token=SecretStr(TOKEN), api_url=fake.base_url, **telegram),
        rate_profile=profile,
        poll_timeout=1,
        callback_wait=callback_wait,
    )
    app = App(make_settings(database_url=database_url), clock=SystemClock(),
              platforms=[platform], plugins=list(plugins))
    await app.start()
    try:
        yield app, platform
    finally:
        await app.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="majlis_bot") as server:
        yield server


def sent(fake: FakeTelegram, needle: str) -> list[RecordedCall]:
    """Successful sendMessage calls whose text contains ``needle``."""
    return fake.calls_of("sendMessage", lambda c: c.ok and needle in c.params.get("text", ""))


async def said(fake: FakeTelegram, needle: str, timeout: float = 8.0) -> RecordedCall:
    """Wait for the bot to send a message containing ``needle``."""
    return await fake.wait_for_call(
        "sendMessage", lambda c: c.ok and needle in c.params.get("text", ""), timeout
    )


def keyboard(call: RecordedCall) -> list[list[dict[str, Any]]]:
    markup = call.params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    assert isinstance(markup, dict)
    rows: list[list[dict[str, Any]]] = markup["inline_keyboard"]
    return rows


async def quiet(app: App, seconds: float = 0.6) -> None:
    """Let polling deliver anything still pending, then settle."""
    await asyncio.sleep(seconds)
    await app.settle()


def test_parse_command() -> None:
    assert parse_command("/remind 2h call", "majlis_bot") == ("remind", "2h call")
    assert parse_command("/Remind@Majlis_Bot 2h", "majlis_bot") == ("remind", "2h")
    assert parse_command("/remind@other_bot 2h", "majlis_bot") is None
    assert parse_command("hello", "majlis_bot") is None


async def test_bot_added_registers_and_explains_rights(fake: FakeTelegram) -> None:
    async with running(fake) as (app, _platform):
        scopes = {json.dumps(c.params.get("scope"), sort_keys=True)
                  for c in fake.calls_of("setMyCommands")}
        assert len(scopes) == 3
        assert {c.params.get("language_code") for c in fake.calls_of("setMyCommands")} >= {
            "en", "ar"}
        ar_private = fake.get_commands({"type": "all_private_chats"}, "ar") or []
        assert any(c["command"] == "help" for c in ar_private)
        admins = fake.get_commands({"type": "all_chat_administrators"}) or []
        members = fake.get_commands({"type": "all_group_chats"}) or []
        assert "pause" in {c["command"] for c in admins}
        assert "pause" not in {c["command"] for c in members}

        fake.push(fake.my_chat_member_update(GROUP, ALICE, "left", "member"))
        note = await said(fake, "administrator")
        assert "privacy mode" in note.params["text"]
        assert await app.db.community("telegram:-1001") is not None


async def test_member_joins_once_and_presses_greeting(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(fake) as (app, _platform):
        fake.push(fake.chat_member_update(GROUP, BOB, "left", "member"))
        fake.push(fake.new_chat_members_update(GROUP, BOB))
        greeting = await said(fake, "Welcome, Bob")
        await quiet(app)
        assert len(sent(fake, "Welcome")) == 1  # never both for one join
        button = keyboard(greeting)[0][0]
        assert button["text"] == "Wave back"
        fake.push(fake.callback_query_update(BOB, greeting.result, button["callback_data"]))
        await said(fake, "You have waved 1 time.")
        await fake.wait_for_call("answerCallbackQuery")
    leaked = [r for r in caplog.records
              if not r.name.startswith("tests.") and TOKEN in r.getMessage()]
    assert not leaked
    assert logging.getLogger("httpx").level == logging.WARNING


async def test_command_with_arabic_arguments(fake: FakeTelegram) -> None:
    async with running(fake) as (app, _platform):
        fake.push(fake.start_update(SARA))  # she started the bot: errors reach her privately
        await fake.wait_for_call("sendMessage", lambda c: c.ok)
        fake.push(fake.message_update(GROUP, SARA, "/remind ساعتين اتصل"))
        error = await fake.wait_for_call("sendMessage", lambda c: c.ok and "ساعتين" in str(
            c.params.get("text")))
        assert error.params["chat_id"] in (44, "44")  # the error is private, never the group
        assert any("\u0600" <= ch <= "\u06ff" for ch in error.params["text"])
        assert "Usage" not in error.params["text"]
        n = len(fake.calls)
        fake.push(fake.message_update(GROUP, SARA, "/remind@majlis_bot 2h اتصل"))
        done = await fake.wait_for_call("sendMessage", after=n)
        assert done.params["text"] != error.params["text"]
        fake.push(fake.message_update(GROUP, SARA, "/remind@other_bot 2h اتصل"))
        await quiet(app)
        items = await app.db.scheduled_items()
        assert [i.data["text"] for i in items] == ["اتصل"]


async def test_admin_command_refused_then_anonymous_admin(fake: FakeTelegram) -> None:
    async with running(fake) as (app, _platform):
        fake.allow_private(43)
        fake.push(fake.message_update(GROUP, BOB, "/pause"))
        refusal = await said(fake, "only for admins")
        assert refusal.params["chat_id"] in (43, "43")  # a private reply: Bob's private chat
        assert not app.outbox.is_paused("telegram:-1001")
        fake.push(fake.message_update(GROUP, None, "/pause", anonymous_admin=True))
        await said(fake, "Paused.")
        assert app.outbox.is_paused("telegram:-1001")
        fake.set_member(-1001, ALICE, "administrator")
        fake.push(fake.message_update(GROUP, ALICE, "/resume"))
        await said(fake, "Resumed.")


async def test_button_press_after_restart(fake: FakeTelegram, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with running(fake, database_url=url) as (app, _platform):
        fake.push(fake.new_chat_members_update(GROUP, BOB))
        greeting = await said(fake, "Welcome, Bob")
        await quiet(app)
    data = keyboard(greeting)[0][0]["callback_data"]
    async with running(fake, database_url=url) as (app, _platform):
        fake.push(fake.callback_query_update(BOB, greeting.result, data))
        await said(fake, "You have waved 1 time.")


async def test_deep_link_into_private_flow(fake: FakeTelegram) -> None:
    async with running(fake) as (app, _platform):
        fake.push(fake.message_update(GROUP, BOB, "/secret"))
        fallback = await said(fake, "Tap the button")
        url = keyboard(fallback)[0][0]["url"]
        assert url.startswith("https://t.me/majlis_bot?start=")
        start = url.split("start=", 1)[1]
        assert len(start) <= 64 and start.replace("_", "").replace("-", "").isalnum()
        counts = await app.db.outbox_counts("telegram:-1001")
        assert counts.get("undeliverable") == 1
        fake.push(fake.start_update(BOB, start))
        opened = await said(fake, "private flow 7 is open")
        assert opened.params["chat_id"] in (43, "43")
        n = len(fake.calls)
        fake.push(fake.message_update(GROUP, BOB, "/secret"))
        dm = await fake.wait_for_call("sendMessage", after=n)
        assert dm.params["text"] == "psst" and dm.params["chat_id"] in (43, "43")


async def test_group_migration_keeps_data(fake: FakeTelegram) -> None:
    basic = group(-5, "Old", type="group")
    async with running(fake) as (app, _platform):
        fake.push(fake.new_chat_members_update(basic, BOB))
        greeting = await said(fake, "Welcome, Bob")
        fake.push(fake.callback_query_update(
            BOB, greeting.result, keyboard(greeting)[0][0]["callback_data"]))
        await said(fake, "You have waved 1 time.")
        fake.push(*fake.migrate_update(-5, -1005, ALICE, title="Old"))
        for _ in range(50):
            if await app.db.community("telegram:-1005") is not None:
                break
            await asyncio.sleep(0.1)
        assert await app.db.community("telegram:-5") is None
        async with app.db.connect() as conn:
            rows = (await conn.execute(select(waves.c.community, waves.c.count))).all()
        assert [tuple(r) for r in rows] == [("telegram:-1005", 1)]
        assert app.communities.info(CommunityRef.from_key("telegram:-1005"))
        assert not app.communities.info(CommunityRef.from_key("telegram:-5"))


async def test_retry_after_burst_loses_nothing(fake: FakeTelegram) -> None:
    async with running(fake, profile=RATE_PROFILE) as (app, _platform):
        community = CommunityRef("telegram", "-1001")
        await app.register_community(community)
        fake.fail_next("sendMessage", 429, retry_after=1, times=3)
        for i in range(3):
            await app.outbox.submit(SendMessage(
                community=community, channel=ChannelRef("telegram", "-1001"),
                content=Content.of(f"burst {i}")))
        for i in range(3):
            await said(fake, f"burst {i}", timeout=15)
        assert app.outbox.stats["retry_after"] == 3
        delivered = [c.params["text"] for c in fake.calls_of("sendMessage", lambda c: c.ok)]
        assert delivered == ["burst 0", "burst 1", "burst 2"]


async def test_redelivered_update_is_handled_once(fake: FakeTelegram) -> None:
    async with running(fake) as (app, _platform):
        fake.allow_private(42)  # /help answers privately
        update = fake.message_update(GROUP, ALICE, "/remind 2h call Sara")
        fake.push(update)
        await said(fake, "I will remind you")
        fake.redeliver(update["update_id"])
        fake.push(fake.message_update(GROUP, ALICE, "/help"))
        await said(fake, "Commands you can use")
        await quiet(app)
        assert len(sent(fake, "I will remind you")) == 1
        assert len(await app.db.scheduled_items()) == 1


async def test_reward_falls_back_to_badge_and_perk_invite(fake: FakeTelegram) -> None:
    async with running(fake, perk_chat_id=-2002) as (app, _platform):
        fake.push(fake.message_update(GROUP, BOB, "/badge"))  # a plain badge: the plugin's
        await quiet(app)
        assert not fake.calls_of("createChatInviteLink")
        assert not sent(fake, "Helper")
        fake.push(fake.message_update(GROUP, BOB, "/badge helpers"))  # a role: the fallback
        badge = await said(fake, "Helper")
        assert "private chat" in badge.params["text"]
        link = fake.calls_of("createChatInviteLink")[0]
        assert int(link.params["member_limit"]) == 1
        assert keyboard(badge)[0][0]["url"].startswith("https://t.me/majlis_bot")
        fake.push(fake.start_update(BOB))
        invite = await said(fake, "single-use invite link")
        assert invite.params["chat_id"] in (43, "43")


async def test_webhook_checks_secret(fake: FakeTelegram) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram"
    async with running(fake, webhook_url=url, webhook_port=port,
                       webhook_secret=SecretStr("s3cret")) as (_app, _platform):
        assert fake.webhook["url"] == url
        assert "chat_member" in fake.webhook.get("allowed_updates", [])
        status, _ = await post_webhook_update(url, fake.new_chat_members_update(GROUP, BOB),
                                              "wrong")
        assert status == 403
        assert await fake.post_to_webhook(fake.new_chat_members_update(GROUP, BOB)) == 200
        await said(fake, "Welcome, Bob")


async def test_admin_plugin_toggle_refreshes_group_menus(fake: FakeTelegram) -> None:
    async with running(fake) as (app, _platform):
        fake.set_member(-1001, ALICE, "creator")
        fake.push(fake.message_update(GROUP, ALICE, "/plugin_disable example"))
        call = await fake.wait_for_call(
            "setMyCommands", lambda c: "chat_id" in json.dumps(c.params.get("scope")))
        names = {c["command"] for c in call.params["commands"]}
        assert "remind" not in names
        await quiet(app)
        plugin = app.plugins["example"]
        assert not app.is_enabled(CommunityRef("telegram", "-1001"), plugin)
