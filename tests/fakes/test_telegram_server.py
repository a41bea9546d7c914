"""The fake Telegram server driven by the real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    Chat,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReactionTypeEmoji,
    Update,
    User,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    TypeHandler,
)

from .telegram_server import (
    GROUP_ANONYMOUS_BOT_ID,
    FakeTelegram,
    FilePart,
    group,
    post_webhook_update,
    private_chat,
    ptb_polling,
    user,
)

AnyApp = Application[Any, Any, Any, Any, Any, Any]

GROUP = group(-1001234567890, "Majlis Hall")
FORUM = group(-1009876543210, "Majlis Forum", is_forum=True)
ALICE = user(42, "Alice", username="alice", language_code="ar")
BOB = user(43, "Bob", language_code="en")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token="123:ABC", bot_username="majlis_bot") as server:
        yield server


def message_of(update: Update) -> Message:
    assert update.message is not None
    return update.message


def build_app(fake: FakeTelegram) -> AnyApp:
    return fake.application_builder().build()


class Collector:
    """Collects every update the Application dispatches."""

    def __init__(self, app: AnyApp) -> None:
        self.updates: asyncio.Queue[Update] = asyncio.Queue()
        app.add_handler(TypeHandler(Update, self._collect), group=-1)

    async def _collect(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.updates.put(update)

    async def next(self, timeout: float = 3.0) -> Update:
        return await asyncio.wait_for(self.updates.get(), timeout)


# ---------------------------------------------------------------------------- plumbing


async def test_base_url_form_and_get_me(fake: FakeTelegram) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"
    app = build_app(fake)
    assert app.bot.base_url == f"{fake.base_url}123:ABC"
    async with app:
        me = app.bot.bot
    assert me.id == 123
    assert me.username == "majlis_bot"
    assert me.can_join_groups is True
    assert me.supports_inline_queries is False
    assert fake.calls[0].method == "getMe"
    method, params = fake.calls[0]
    assert (method, params) == ("getMe", {})


async def test_unknown_method_is_404_and_recorded(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        # PTB turns the 404 into EndPointNotFound in do_api_request (InvalidToken elsewhere).
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("fancyNewMethod", api_kwargs={"chat_id": 5})
    call = fake.calls_of("fancyNewMethod")[0]
    assert call.params == {"chat_id": 5}
    assert call.error is not None and call.error.error_code == 404
    assert call.error.payload() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_raw_json_body_and_wrong_token(fake: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{fake.api_url}/getChatMember", json={"chat_id": GROUP["id"], "user_id": 42}
        ) as response:
            body = await response.json()
        assert body["ok"] is True
        assert body["result"]["status"] == "member"
        async with session.post(f"{fake.base_url}999:XYZ/getMe") as response:
            assert response.status == 401
    assert fake.calls_of("getChatMember")[0].params == {"chat_id": GROUP["id"], "user_id": 42}


# ------------------------------------------------------------------ polling end to end


async def test_group_command_reply(fake: FakeTelegram) -> None:
    app = build_app(fake)
    seen: list[tuple[list[str], int | None]] = []

    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append((list(context.args or []), update.message.message_thread_id))
        await update.message.reply_text("pong")

    app.add_handler(CommandHandler("ping", ping))
    async with ptb_polling(app, allowed_updates=Update.ALL_TYPES):
        update = fake.message_update(GROUP, ALICE, "/ping@majlis_bot now")
        fake.push(update)
        call = await fake.wait_for_call("sendMessage")
        # Commands addressed to another bot are ignored by PTB's CommandHandler.
        fake.push(fake.message_update(GROUP, ALICE, "/ping@other_bot"))
        await fake.wait_for_call(
            "getUpdates", lambda c: c.params.get("offset", 0) > 2, completed=False
        )

    assert seen == [(["now"], None)]
    assert call.params["chat_id"] == GROUP["id"]
    assert call.params["text"] == "pong"
    # PTB quotes in groups: reply_parameters points at the command message.
    assert call.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    sent = call.result
    assert sent["from"]["username"] == "majlis_bot"
    assert sent["chat"]["id"] == GROUP["id"]
    assert sent["message_id"] == update["message"]["message_id"] + 1
    assert sent["reply_to_message"]["text"] == "/ping@majlis_bot now"
    assert len(fake.calls_of("sendMessage")) == 1
    assert fake.allowed_updates == list(Update.ALL_TYPES)
    assert fake.pending_updates == []  # acknowledged by the shutdown getUpdates


async def test_command_entities_are_utf16(fake: FakeTelegram) -> None:
    update = fake.message_update(GROUP, ALICE, "😀 /vote@majlis_bot @alice_b")
    entities = update["message"]["entities"]
    assert entities == [
        {"type": "bot_command", "offset": 3, "length": 16},  # the emoji is 2 UTF-16 units
        {"type": "mention", "offset": 20, "length": 8},
    ]
    app = build_app(fake)
    collector = Collector(app)
    async with ptb_polling(app):
        fake.push(update)
        got = await collector.next()
    assert got.message is not None
    parsed = got.message.parse_entities()
    assert sorted(parsed.values()) == ["/vote@majlis_bot", "@alice_b"]


async def test_callback_query_answered(fake: FakeTelegram) -> None:
    app = build_app(fake)
    answered: list[str | None] = []

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        answered.append(query.data)
        await query.answer("Counted!")
        await query.edit_message_text("Thanks for voting")

    app.add_handler(CallbackQueryHandler(on_button))
    async with ptb_polling(app):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="vote:yes")]])
        fake.push(fake.message_update(GROUP, ALICE, "hello"))  # the fake learns the chat
        sent = await app.bot.send_message(GROUP["id"], "Vote?", reply_markup=markup)
        message = fake.calls_of("sendMessage")[-1].result
        assert message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "vote:yes"
        assert sent.reply_markup == markup
        fake.push(fake.callback_query_update(BOB, message, "vote:yes"))
        answer = await fake.wait_for_call("answerCallbackQuery")
        edit = await fake.wait_for_call("editMessageText")

    assert answered == ["vote:yes"]
    assert answer.ok and answer.params["text"] == "Counted!"
    assert edit.ok
    assert edit.result["text"] == "Thanks for voting"
    assert "reply_markup" not in edit.result  # editing without markup drops the keyboard
    assert "edit_date" in edit.result


async def test_answering_twice_or_unknown_query_fails(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query("777")
        fake.push(fake.callback_query_update(BOB, None, "x", inline_message_id="inl"))
        query_id = fake.pending_updates[-1]["callback_query"]["id"]
        assert await app.bot.answer_callback_query(query_id) is True
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(query_id)


async def test_redelivered_update_arrives_twice(fake: FakeTelegram) -> None:
    app = build_app(fake)
    collector = Collector(app)
    async with ptb_polling(app):
        first = fake.message_update(GROUP, ALICE, "salaam")
        fake.push(first)
        got = await collector.next()
        assert got.update_id == first["update_id"]
        # Wait until PTB acknowledged it, then let Telegram deliver it once more.
        await fake.wait_for_call(
            "getUpdates",
            lambda c: c.params.get("offset") == first["update_id"] + 1,
            completed=False,
        )
        assert fake.pending_updates == []
        fake.redeliver(first["update_id"])
        again = await collector.next()
        second = fake.message_update(GROUP, BOB, "wa alaikum")
        fake.push(second)
        after = await collector.next()

    assert again.update_id == first["update_id"]
    assert again.message is not None and again.message.text == "salaam"
    assert after.update_id == second["update_id"]
    assert collector.updates.empty()


async def test_offset_and_long_poll_semantics(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await app.bot.get_updates(timeout=1) == ()
        assert loop.time() - started >= 0.9  # held for the long-poll timeout

        async def push_later() -> None:
            await asyncio.sleep(0.2)
            fake.push(fake.message_update(GROUP, ALICE, "late"))

        task = asyncio.create_task(push_later())
        started = loop.time()
        updates = await app.bot.get_updates(timeout=5)
        await task
        assert loop.time() - started < 2
        assert [u.message.text for u in updates if u.message] == ["late"]
        # Not acknowledged yet: served again; acknowledged: gone.
        assert len(await app.bot.get_updates(timeout=0)) == 1
        assert await app.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_get_chat_member_administrator_and_counting(fake: FakeTelegram) -> None:
    fake.set_member(GROUP["id"], ALICE, "administrator", custom_title="Sheikha")
    fake.set_member(GROUP["id"], 7, "creator")
    fake.set_member(GROUP["id"], fake.bot_user, "administrator")
    fake.set_member(GROUP["id"], BOB, "restricted")
    async with build_app(fake) as app:
        member = await app.bot.get_chat_member(GROUP["id"], ALICE["id"])
        assert isinstance(member, ChatMemberAdministrator)
        assert member.custom_title == "Sheikha"
        assert member.user.first_name == "Alice"
        assert isinstance(await app.bot.get_chat_member(GROUP["id"], 7), ChatMemberOwner)
        assert isinstance(await app.bot.get_chat_member(GROUP["id"], 43), ChatMemberRestricted)
        assert isinstance(await app.bot.get_chat_member(GROUP["id"], 99), ChatMemberMember)
        admins = await app.bot.get_chat_administrators(GROUP["id"])
        # Telegram lists the human administrators only, owner first.
        assert [a.user.id for a in admins] == [7, 42]
    assert fake.count("getChatMember") == 4
    assert len(fake.calls_of("getChatMember", lambda c: c.params["user_id"] == 42)) == 1


async def test_member_management_methods(fake: FakeTelegram) -> None:
    gid = GROUP["id"]
    async with build_app(fake) as app:
        bot = app.bot
        assert await bot.promote_chat_member(gid, 42, can_delete_messages=True)
        assert await bot.set_chat_administrator_custom_title(gid, 42, "Imam")
        member = await bot.get_chat_member(gid, 42)
        assert isinstance(member, ChatMemberAdministrator)
        assert member.can_delete_messages and not member.can_promote_members
        assert member.custom_title == "Imam"
        with pytest.raises(BadRequest):
            await bot.set_chat_administrator_custom_title(gid, 43, "Nope")
        assert await bot.restrict_chat_member(gid, 43, ChatPermissions(can_send_messages=False))
        restricted = await bot.get_chat_member(gid, 43)
        assert isinstance(restricted, ChatMemberRestricted)
        assert restricted.can_send_messages is False
        assert await bot.restrict_chat_member(gid, 43, ChatPermissions.all_permissions())
        assert fake.member_status(gid, 43) == "member"
        assert await bot.promote_chat_member(gid, 42)  # all False: demoted
        assert fake.member_status(gid, 42) == "member"
        link = await bot.create_chat_invite_link(gid, member_limit=5, name="spring")
        assert link.member_limit == 5 and link.name == "spring"
        assert link.creator.id == 123 and link.invite_link.startswith("https://t.me/+")
        chat = await bot.get_chat(gid)
        assert chat.title == "Chat -1001234567890"  # synthesized: never seen
        fake.add_chat(GROUP, description="A place to meet")
        chat = await bot.get_chat(gid)
        assert chat.title == "Majlis Hall" and chat.description == "A place to meet"


# PTB >= 22.2 warns when RetryAfter is built (retry_after becomes a timedelta in v23).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", retry_after=3)
    fake.push(fake.message_update(GROUP, ALICE, "hi"))
    async with build_app(fake) as app:
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(GROUP["id"], "flood")
        assert info.value.retry_after in (3, dt.timedelta(seconds=3))
        sent = await app.bot.send_message(GROUP["id"], "ok now")
        assert sent.text == "ok now"
    failed, succeeded = fake.calls_of("sendMessage")
    assert failed.error is not None
    assert failed.error.payload() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert succeeded.ok


async def test_fail_next_other_codes_and_times(fake: FakeTelegram) -> None:
    fake.fail_next("getChat", 400, "Bad Request: chat not found", times=2)
    async with build_app(fake) as app:
        for _ in range(2):
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await app.bot.get_chat(GROUP["id"])
        assert (await app.bot.get_chat(GROUP["id"])).id == GROUP["id"]


async def test_server_errors_and_dropped_connections(fake: FakeTelegram) -> None:
    fake.allow_private(43)
    fake.fail_next("sendMessage", 502)
    fake.fail_next("sendMessage", 500)
    async with build_app(fake) as app:
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.send_message(43, "one")
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await app.bot.send_message(43, "two")
        fake.drop_next("sendMessage")
        with pytest.raises(NetworkError, match="disconnected"):
            await app.bot.send_message(43, "lost on the way in")
        fake.drop_next("sendMessage", after_processing=True)
        with pytest.raises(NetworkError, match="disconnected"):
            await app.bot.send_message(43, "lost on the way back")
        assert (await app.bot.send_message(43, "fine")).text == "fine"
    calls = fake.calls_of("sendMessage")
    assert [c.ok for c in calls] == [False, False, False, True, True]
    assert calls[2].dropped and calls[2].result is None  # never took effect
    assert calls[3].dropped and calls[3].result["text"] == "lost on the way back"


async def test_slow_answers_and_refused_connections(fake: FakeTelegram) -> None:
    fake.allow_private(43)
    async with build_app(fake) as app:
        fake.stall_next("sendMessage", 1.0)
        with pytest.raises(TimedOut):
            await app.bot.send_message(43, "answered too late", read_timeout=0.2)
        await fake.go_offline()
        with pytest.raises(NetworkError, match="ConnectError"):
            await app.bot.send_message(43, "never sent")
        await fake.go_online()
        assert (await app.bot.send_message(43, "fine")).text == "fine"
    calls = fake.calls_of("sendMessage")
    assert [c.params["text"] for c in calls] == ["answered too late", "fine"]
    assert all(c.ok for c in calls)  # the slow one took effect


async def test_callback_answered_too_late(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        fake.push(fake.callback_query_update(BOB, None, "x", inline_message_id="inl"))
        expired = fake.pending_updates[-1]["callback_query"]["id"]
        fake.expire_callback(expired)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(expired)
        assert not fake.answered_callbacks(expired)
    async with FakeTelegram(callback_answer_timeout=0.0) as strict, build_app(strict) as app:
        strict.push(strict.callback_query_update(BOB, None, "x", inline_message_id="inl"))
        query_id = strict.pending_updates[-1]["callback_query"]["id"]
        await asyncio.sleep(0.01)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(query_id, text="late")


async def test_private_chat_requires_start(fake: FakeTelegram) -> None:
    app = build_app(fake)
    started: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        started.append(list(context.args or []))
        assert update.message is not None
        await update.message.reply_text("Welcome")

    app.add_handler(CommandHandler("start", start))
    async with ptb_polling(app):
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await app.bot.send_message(ALICE["id"], "hello stranger")
        fake.push(fake.start_update(ALICE, "invite-abc"))
        welcome = await fake.wait_for_call("sendMessage", lambda c: c.ok)
        assert await app.bot.send_message(ALICE["id"], "now we can talk")
        fake.block_private(ALICE["id"])
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(ALICE["id"], "still there?")

    assert started == [["invite-abc"]]
    assert welcome.result["chat"] == private_chat(ALICE)
    assert "reply_to_message" not in welcome.result  # PTB does not quote in private chats
    first = fake.calls_of("sendMessage")[0]
    assert first.error is not None and first.error.error_code == 403


async def test_set_my_commands_per_scope_and_language(fake: FakeTelegram) -> None:
    scope = BotCommandScopeChat(GROUP["id"])
    async with build_app(fake) as app:
        bot = app.bot
        assert await bot.set_my_commands([BotCommand("help", "Help")])
        assert await bot.set_my_commands(
            [BotCommand("ping", "اختبار"), BotCommand("vote", "تصويت")],
            scope=scope,
            language_code="ar",
        )
        got = await bot.get_my_commands(scope=scope, language_code="ar")
        assert [c.command for c in got] == ["ping", "vote"]
        assert await bot.get_my_commands(scope=scope) == ()
        assert [c.command for c in await bot.get_my_commands()] == ["help"]
        with pytest.raises(BadRequest):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        assert await bot.delete_my_commands(scope=scope, language_code="ar")
        assert await bot.get_my_commands(scope=scope, language_code="ar") == ()

    assert fake.get_commands() == [{"command": "help", "description": "Help"}]
    assert fake.get_commands({"type": "chat", "chat_id": GROUP["id"]}, "ar") is None
    call = fake.calls_of("setMyCommands")[1]
    assert call.params["scope"] == {"type": "chat", "chat_id": GROUP["id"]}
    assert call.params["language_code"] == "ar"


async def test_chat_member_and_migration_updates(fake: FakeTelegram) -> None:
    app = build_app(fake)
    collector = Collector(app)
    old_id, new_id = -4001, -1004001
    async with ptb_polling(app, allowed_updates=Update.ALL_TYPES):
        fake.push(fake.my_chat_member_update(GROUP, ALICE, "left", "administrator"))
        fake.push(fake.chat_member_update(GROUP, BOB, "left", "member"))
        fake.push(fake.migrate_update(old_id, new_id, ALICE, title="Old Majlis"))
        mine, member, to_msg, from_msg = [await collector.next() for _ in range(4)]
        with pytest.raises(ChatMigrated) as info:
            await app.bot.send_message(old_id, "anyone?")

    assert mine.my_chat_member is not None
    assert mine.my_chat_member.new_chat_member.user.id == 123
    assert isinstance(mine.my_chat_member.new_chat_member, ChatMemberAdministrator)
    assert fake.member_status(GROUP["id"], 123) == "administrator"
    assert member.chat_member is not None
    assert member.chat_member.from_user.id == BOB["id"]
    assert member.chat_member.old_chat_member.status == "left"
    assert isinstance(member.chat_member.new_chat_member, ChatMemberMember)
    assert fake.member_status(GROUP["id"], BOB["id"]) == "member"
    assert to_msg.message is not None and from_msg.message is not None
    assert to_msg.message.migrate_to_chat_id == new_id
    assert to_msg.message.chat.type == "group"
    assert from_msg.message.migrate_from_chat_id == old_id
    assert from_msg.message.chat.type == "supergroup"
    assert info.value.new_chat_id == new_id


async def test_default_allowed_updates_drop_chat_member(fake: FakeTelegram) -> None:
    app = build_app(fake)
    collector = Collector(app)
    async with ptb_polling(app):  # no allowed_updates: Telegram's default set
        fake.push(fake.chat_member_update(GROUP, BOB, "left", "member"))
        fake.push(fake.message_reaction_update(GROUP, 1, ALICE, new=["👍"]))
        fake.push(fake.message_update(GROUP, ALICE, "visible"))
        got = await collector.next()
    assert got.message is not None and got.message.text == "visible"
    assert [next(iter(u.keys() - {"update_id"})) for u in fake.filtered_updates] == [
        "chat_member",
        "message_reaction",
    ]


async def test_service_messages_anonymous_admin_forum_reactions_polls(
    fake: FakeTelegram,
) -> None:
    app = build_app(fake)
    collector = Collector(app)
    async with ptb_polling(app, allowed_updates=Update.ALL_TYPES):
        fake.push(fake.new_chat_members_update(GROUP, [ALICE, BOB]))
        fake.push(fake.left_chat_member_update(GROUP, BOB))
        fake.push(fake.message_update(GROUP, None, "/ban", anonymous_admin=True))
        topic = fake.forum_topic_update(FORUM, ALICE, "Fiqh")
        thread_id = topic["message"]["message_id"]
        fake.push(topic, fake.message_update(FORUM, BOB, "question", message_thread_id=thread_id))
        fake.push(fake.message_reaction_update(GROUP, 3, ALICE, old=[], new=["❤"]))
        joined, left, anon, created, in_topic, reaction = [
            await collector.next() for _ in range(6)
        ]

        sent = await app.bot.send_poll(GROUP["id"], "Tea or coffee?", ["Tea", "Coffee"])
        assert sent.poll is not None
        fake.push(fake.poll_answer_update(sent.poll.id, ALICE, [1]))
        fake.push(fake.poll_answer_update(sent.poll.id, BOB, [1]))
        answer = await collector.next()
        await collector.next()
        stopped = await app.bot.stop_poll(GROUP["id"], sent.message_id)
        reply_in_topic = await app.bot.send_message(
            FORUM["id"], "answer", reply_to_message_id=message_of(in_topic).message_id
        )

    assert [u.id for u in message_of(joined).new_chat_members] == [42, 43]
    assert message_of(left).left_chat_member == User(43, "Bob", False, language_code="en")
    assert fake.member_status(GROUP["id"], 42) == "member"
    assert fake.member_status(GROUP["id"], 43) == "left"
    assert message_of(anon).from_user == User(GROUP_ANONYMOUS_BOT_ID, "Group", True)
    assert message_of(anon).sender_chat == Chat(GROUP["id"], "supergroup")
    topic_created = message_of(created).forum_topic_created
    assert topic_created is not None and topic_created.name == "Fiqh"
    topic_msg = message_of(in_topic)
    assert topic_msg.is_topic_message and topic_msg.message_thread_id == thread_id
    # Telegram quirk: the topic's creation message is the reply target.
    assert topic_msg.reply_to_message is not None
    assert topic_msg.reply_to_message.forum_topic_created is not None
    assert reply_in_topic.message_thread_id == thread_id
    assert reaction.message_reaction is not None
    assert reaction.message_reaction.new_reaction == (ReactionTypeEmoji("❤"),)
    assert answer.poll_answer is not None and answer.poll_answer.option_ids == (1,)
    assert stopped.is_closed
    assert [o.voter_count for o in stopped.options] == [0, 2]
    assert stopped.total_voter_count == 2


async def test_send_document_multipart_and_download(fake: FakeTelegram) -> None:
    payload = b"%PDF-1.4 fake report" * 10
    fake.push(fake.message_update(GROUP, ALICE, "report please"))
    async with build_app(fake) as app:
        sent = await app.bot.send_document(
            GROUP["id"],
            io.BytesIO(payload),
            filename="report.pdf",
            caption="<b>Weekly</b> report",
            parse_mode="HTML",
        )
        assert sent.document is not None
        assert sent.document.file_name == "report.pdf"
        assert sent.caption == "Weekly report"
        assert sent.caption_entities[0].type == "bold"
        tg_file = await sent.document.get_file()
        assert tg_file.file_path is not None
        assert tg_file.file_path.startswith(fake.base_file_url)
        downloaded = await tg_file.download_as_bytearray()
        assert bytes(downloaded) == payload
        again = await app.bot.send_document(GROUP["id"], sent.document.file_id)
        assert again.document is not None

    call = fake.calls_of("sendDocument")[0]
    part = call.params["document"]
    assert isinstance(part, FilePart)
    assert (part.field, part.filename, part.size) == ("document", "report.pdf", len(payload))
    assert call.files == [part]
    assert call.params["chat_id"] == GROUP["id"]
    assert call.params["caption"] == "<b>Weekly</b> report"
    assert fake.calls_of("sendDocument")[1].params["document"] == sent.document.file_id


async def test_send_photo_and_message_edits(fake: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") * 2
    fake.push(fake.message_update(GROUP, ALICE, "pic"))
    async with build_app(fake) as app:
        bot = app.bot
        photo = await bot.send_photo(GROUP["id"], io.BytesIO(png), caption="view")
        assert photo.photo[-1].width == 640 and photo.caption == "view"
        msg = await bot.send_message(GROUP["id"], "<i>draft</i>", parse_mode="HTML")
        assert msg.text == "draft" and msg.entities[0].type == "italic"
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(GROUP["id"], "<blink>x</blink>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text(
                "<i>draft</i>", GROUP["id"], msg.message_id, parse_mode="HTML"
            )
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ok")]])
        edited = await bot.edit_message_reply_markup(
            GROUP["id"], msg.message_id, reply_markup=markup
        )
        assert edited.reply_markup == markup
        assert await bot.delete_message(GROUP["id"], msg.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(GROUP["id"], msg.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", GROUP["id"], 999)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(GROUP["id"], "   ")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(GROUP["id"], "x" * 4097)


async def test_bot_not_in_group(fake: FakeTelegram) -> None:
    fake.push(fake.my_chat_member_update(GROUP, ALICE, "member", "kicked"))
    async with build_app(fake) as app:
        with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
            await app.bot.send_message(GROUP["id"], "hello?")


async def test_pins_need_the_right_to_pin_and_a_known_message(fake: FakeTelegram) -> None:
    gid = GROUP["id"]
    async with build_app(fake) as app:
        bot = app.bot
        first = await bot.send_message(gid, "first")
        second = await bot.send_message(gid, "second")
        # a plain member may not pin in a group
        with pytest.raises(BadRequest, match=r"(?i)not enough rights to manage pinned"):
            await bot.pin_chat_message(gid, first.message_id)
        fake.set_member(gid, fake.bot_user, "administrator", can_pin_messages=False)
        with pytest.raises(BadRequest, match=r"(?i)not enough rights to manage pinned"):
            await bot.unpin_chat_message(gid, first.message_id)
        assert fake.pinned.get(gid, []) == []
        fake.set_member(gid, fake.bot_user, "administrator")
        with pytest.raises(BadRequest, match=r"(?i)message to pin not found"):
            await bot.pin_chat_message(gid, 9999)
        assert await bot.pin_chat_message(gid, first.message_id, disable_notification=True)
        assert await bot.pin_chat_message(gid, second.message_id)
        assert await bot.pin_chat_message(gid, first.message_id)  # again: one pin, latest
        assert fake.pinned[gid] == [second.message_id, first.message_id]
        chat = await bot.get_chat(gid)
        assert chat.pinned_message is not None and chat.pinned_message.text == "first"
        assert await bot.unpin_chat_message(gid, message_id=second.message_id)
        assert await bot.unpin_chat_message(gid, message_id=second.message_id)  # not pinned
        with pytest.raises(BadRequest, match=r"(?i)message to unpin not found"):
            await bot.unpin_chat_message(gid, message_id=9999)
        assert await bot.unpin_chat_message(gid)  # the most recent one
        assert fake.pinned[gid] == []
        assert (await bot.get_chat(gid)).pinned_message is None
        await bot.pin_chat_message(gid, second.message_id)
        await bot.delete_message(gid, second.message_id)
        assert fake.pinned[gid] == []  # a deleted message is no longer pinned


async def test_webhook_helper_posts_with_secret(fake: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_post("/hook", hook)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/hook"
    try:
        update = fake.message_update(GROUP, ALICE, "via webhook")
        status, body = await post_webhook_update(url, update, "s3cret")
        assert (status, body) == (200, "ok")
        async with build_app(fake) as app:
            assert await app.bot.set_webhook(url, secret_token="t0ken")
            info = await app.bot.get_webhook_info()
            assert info.url == url
            assert await fake.post_to_webhook(fake.message_update(GROUP, BOB, "2")) == 200
            with pytest.raises(Exception, match="webhook is active"):
                await app.bot.get_updates(timeout=0)
            assert await app.bot.delete_webhook()
    finally:
        await runner.cleanup()
    assert received[0] == ("s3cret", json.loads(json.dumps(update)))
    assert received[1][0] == "t0ken"


async def test_shutdown_with_pending_long_poll_is_fast(fake: FakeTelegram) -> None:
    app = build_app(fake)
    loop = asyncio.get_running_loop()
    async with ptb_polling(app, timeout=30):
        await fake.wait_for_call("deleteWebhook")
        await asyncio.sleep(0.1)  # a 30 s long poll is now in flight
        started = loop.time()
    assert loop.time() - started < 2


async def test_quiz_poll_uses_correct_option_ids(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        sent = await app.bot.send_poll(
            GROUP["id"], "2 + 2?", ["3", "4"], type="quiz", correct_option_ids=[1]
        )
    assert sent.poll is not None and sent.poll.correct_option_ids == (1,)
    # PTB 22.8 sends the Bot API 9.6 list form.
    assert fake.calls_of("sendPoll")[0].params["correct_option_ids"] == [1]
