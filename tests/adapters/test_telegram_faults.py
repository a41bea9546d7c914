"""The Telegram adapter under real-world faults, end to end: the real PTB Application against
the fake Bot API misbehaving like the real one (429 with ``retry_after``, dropped connections,
callback queries answered too late, members who never started the bot), the real core.

What a member sees is checked: which chat a text reached, how often, and whether a press
was answered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.adapters import telegram_limits as limits
from bot.adapters.telegram import Handle, StartError, TelegramPlatform
from bot.adapters.telegram_limits import RATE_PROFILE
from bot.app import App
from bot.core.actions import EditMessage, GrantReward, SendMessage, SendPoll
from bot.core.clock import SystemClock
from bot.core.context import Context
from bot.core.messages import Attachment, Button, Content, Reward
from bot.core.payloads import Payload
from bot.core.platform import NotConnected, Progress, RetryAfter, TransientError, Undeliverable
from bot.core.plugin import Plugin, command, on_button
from bot.core.ratelimit import GLOBAL
from bot.core.refs import ChannelRef, CommunityRef, MemberRef, RoleRef
from bot.settings import TelegramSettings
from tests.adapters.test_telegram import FAST, TOKEN, fake, keyboard, quiet, running, said
from tests.conftest import make_settings
from tests.fakes.telegram_server import FakeTelegram, RecordedCall, group, user


def png(width: int, height: int) -> bytes:
    """A small real PNG picture."""
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


__all__ = ["fake"]  # the fixture, imported for pytest

ROOT = Path(__file__).resolve().parents[2]
GROUP = group(-1001, "Majlis")
COMMUNITY = CommunityRef("telegram", "-1001")
IN_GROUP = ChannelRef("telegram", "-1001")
BOB = user(43, "Bob", language_code="en")
SARA = user(44, "Sara", language_code="en")
OMAR = user(45, "Omar", language_code="en")
PICTURE = png(8, 8)

#: Opened by the test before the plugin's button handler may reply.
release = asyncio.Event()


class Pick(Payload, prefix="tgfault.pick"):
    """A press on the test's button."""

    n: int


class Faults(Plugin):
    """Buttons whose private replies can be made late, and a text-and-picture reply."""

    name = "tgfault"

    @command("ask", help="Post a button")
    async def ask(self, ctx: Context) -> None:
        await ctx.send("Pick one", buttons=[Button("One", Pick(1)), Button("Slow", Pick(2))])

    @on_button(Pick)
    async def picked(self, payload: Pick, ctx: Context) -> None:
        if payload.n == 2:
            await release.wait()  # a slow handler: the press is answered before this
        await ctx.reply(f"Your secret pick is {payload.n}.")

    @command("card", help="Text and a picture")
    async def card(self, ctx: Context) -> None:
        await ctx.reply("Here is your card", attachments=[Attachment("card.png", PICTURE, True)])


def in_chat(chat_id: int, needle: str) -> Callable[[RecordedCall], bool]:
    """A filter for messages the bot sent to ``chat_id`` containing ``needle``."""

    def check(call: RecordedCall) -> bool:
        return (call.ok and int(call.params["chat_id"]) == chat_id
                and needle in str(call.params.get("text", "")))
    return check


def posts(fake: FakeTelegram, chat_id: int, needle: str) -> list[RecordedCall]:
    """Messages the bot sent to ``chat_id`` containing ``needle``."""
    return fake.calls_of("sendMessage", in_chat(chat_id, needle))


async def button_post(fake: FakeTelegram) -> RecordedCall:
    fake.push(fake.message_update(GROUP, SARA, "/ask"))
    return await said(fake, "Pick one")


def data_of(post: RecordedCall, i: int) -> str:
    return str(keyboard(post)[0][i]["callback_data"])


# -- 12.2: private stays private ---------------------------------------------------------


async def test_reply_after_the_press_was_answered_goes_to_the_private_chat(
    fake: FakeTelegram,
) -> None:
    release.clear()
    async with running(fake, plugins=[Faults], callback_wait=1.0) as (app, _platform):
        post = await button_post(fake)
        fake.allow_private(43)
        press = fake.callback_query_update(BOB, post.result, data_of(post, 1))
        fake.push(press)
        query = press["callback_query"]["id"]
        await fake.wait_for_call("answerCallbackQuery")  # answered empty: spinner stops
        fake.expire_callback(query)  # and now it is too old to answer with the text
        release.set()
        await fake.wait_for_call("sendMessage", in_chat(43, "Your secret pick is 2."))
        await quiet(app)
        assert not posts(fake, -1001, "secret pick")
        assert len(fake.answered_callbacks(query)) == 1


async def test_vote_answered_late_after_429_never_reaches_the_group(fake: FakeTelegram) -> None:
    async with running(fake, plugins=[Faults], callback_wait=1.0) as (app, _platform):
        post = await button_post(fake)
        fake.allow_private(43)
        # The answer carrying Bob's reply is refused for 3 s; his press is answered empty
        # after 1 s, so the text goes to his private chat. Omar never started the bot: his
        # reply is the answer if it comes in time, else it is dropped, never posted.
        fake.fail_next("answerCallbackQuery", 429, retry_after=3)
        bob = fake.callback_query_update(BOB, post.result, data_of(post, 0))
        omar = fake.callback_query_update(OMAR, post.result, data_of(post, 0))
        fake.push(bob, omar)
        await fake.wait_for_call("sendMessage", in_chat(43, "Your secret pick is 1."),
                                 timeout=15)
        await quiet(app, 1.5)
        assert not posts(fake, -1001, "secret pick")
        for press in (bob, omar):
            assert len(fake.answered_callbacks(press["callback_query"]["id"])) == 1


async def test_several_presses_a_second_under_real_limits(fake: FakeTelegram) -> None:
    async with running(fake, plugins=[Faults], callback_wait=1.0,
                       profile=RATE_PROFILE) as (app, _platform):
        post = await button_post(fake)
        presses = [fake.callback_query_update(who, post.result, data_of(post, 0))
                   for who in (BOB, SARA, OMAR, BOB)]
        fake.push(*presses)
        await quiet(app, 4)
        assert not posts(fake, -1001, "secret pick")
        for press in presses:
            assert len(fake.answered_callbacks(press["callback_query"]["id"])) == 1


async def test_a_press_is_answered_while_the_group_window_is_full(fake: FakeTelegram) -> None:
    async with running(fake, plugins=[Faults], profile=RATE_PROFILE) as (app, _platform):
        await app.register_community(COMMUNITY)
        post = await button_post(fake)
        for i in range(25):  # more than the group's 20 a minute: the rest wait a minute
            await app.outbox.submit(SendMessage(community=COMMUNITY, channel=IN_GROUP,
                                                content=Content.of(f"news {i}")))
        press = fake.callback_query_update(BOB, post.result, data_of(post, 0))
        fake.push(press)
        answered = await fake.wait_for_call(
            "answerCallbackQuery",
            lambda c: c.ok and "secret pick is 1" in str(c.params.get("text")))
        assert str(answered.params["callback_query_id"]) == press["callback_query"]["id"]
        assert not posts(fake, -1001, "secret pick")


async def test_private_reply_after_restart_goes_to_private_chat_or_nowhere(
    fake: FakeTelegram,
) -> None:
    async with running(fake, plugins=[Faults]) as (app, _platform):
        await app.register_community(COMMUNITY)
        fake.allow_private(43)
        for member in (MemberRef("telegram", "43", "Bob"), MemberRef("telegram", "45", "Omar"),
                       MemberRef("telegram", "-1001", "Majlis")):  # an anonymous admin
            # reply_to "event" with no handle: what the outbox holds after a restart
            await app.outbox.submit(SendMessage(
                community=COMMUNITY, channel=IN_GROUP, member=member, private=True,
                reply_to="event", content=Content.of(f"only for {member.name}")), direct=True)
        await fake.wait_for_call("sendMessage", in_chat(43, "only for Bob"))
        await quiet(app)
        assert not posts(fake, -1001, "only for")
        counts = await app.db.outbox_counts(COMMUNITY.key)
        assert counts.get("undeliverable") == 2


# -- 12.10: a redelivered callback query is answered once -------------------------------


async def test_redelivered_callback_is_answered_once(fake: FakeTelegram) -> None:
    async with running(fake, plugins=[Faults]) as (app, _platform):
        post = await button_post(fake)
        fake.allow_private(43)
        press = fake.callback_query_update(BOB, post.result, data_of(post, 0))
        fake.push(press)
        query = press["callback_query"]["id"]
        await fake.wait_for_call("answerCallbackQuery", lambda c: c.ok)
        fake.redeliver(press["update_id"])  # the same update again
        fake.push(fake.callback_query_update(BOB, post.result, data_of(post, 0),
                                             query_id=query))  # the same query, a new update
        await quiet(app, 2.5)
        calls = fake.calls_of("answerCallbackQuery",
                              lambda c: str(c.params["callback_query_id"]) == query)
        assert len(calls) == 1 and calls[0].ok
        assert "Your secret pick is 1." in str(calls[0].params.get("text"))


# -- 12.9: no token in any log or terminal line -----------------------------------------

REJECTED = "7008:SeCrEtSeCrEtSeCrEt"


async def test_rejected_token_is_never_printed(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    platform = TelegramPlatform(
        TelegramSettings(token=SecretStr(REJECTED), api_url=fake.base_url), rate_profile=FAST)
    app = App(make_settings(), clock=SystemClock(), platforms=[platform], plugins=[])
    with pytest.raises(StartError) as raised:
        await app.start()
    try:
        printed = "".join(traceback.format_exception(raised.value))
        assert "rejected the bot token" in printed
        assert REJECTED not in printed and "SeCrEt" not in printed
        assert "SeCrEt" not in caplog.text
        assert not [r for r in caplog.records if "SeCrEt" in r.getMessage()]
        out, err = capfd.readouterr()
        assert "SeCrEt" not in out + err
        assert logging.getLogger("httpx").level == logging.WARNING
        with pytest.raises(NotConnected):
            await platform.deliver(SendMessage(community=COMMUNITY, channel=IN_GROUP))
    finally:
        await app.stop()


async def test_token_redacted_from_any_logger_and_traceback(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(fake, plugins=[]) as (_app, _platform):
        url = f"{fake.base_url}{TOKEN}/sendMessage"
        late = logging.getLogger("tests.some_library_loaded_later.client")
        late.info("HTTP Request: POST %s", url)
        try:
            raise ConnectionError(f"cannot reach {url}")
        except ConnectionError:
            late.exception("request to %r failed", url)
    records = [r for r in caplog.records if r.name.startswith("tests.some_library")]
    assert len(records) == 2 and "<token>/sendMessage" in records[0].getMessage()
    assert TOKEN not in caplog.text and "<token>" in caplog.text
    assert "ConnectionError: cannot reach" in caplog.text  # the traceback is kept, redacted


async def test_rejected_token_in_the_terminal(fake: FakeTelegram, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        MAJLIS_TELEGRAM__TOKEN=REJECTED,
        MAJLIS_TELEGRAM__API_URL=fake.base_url,
        MAJLIS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}",
        MAJLIS_LOG_LEVEL="DEBUG",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run.py"), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    terminal = (out + err).decode()
    assert process.returncode != 0
    assert "rejected the bot token" in terminal  # it reached the fake, which said 401
    assert "SeCrEt" not in terminal


# -- 12.1/12.3/12.5: buckets, readiness, parts ------------------------------------------


def test_rate_keys_follow_telegram_buckets() -> None:
    platform = TelegramPlatform(TelegramSettings(token=SecretStr(TOKEN)))
    bob = MemberRef("telegram", "43", "Bob")
    glob = GLOBAL  # the core's global bucket: a global 429 holds every send
    assert platform.rate_keys(SendMessage(community=COMMUNITY, channel=IN_GROUP)) == (
        glob, (limits.CHAT, "-1001"), (limits.GROUP, "-1001"))
    topic = ChannelRef("telegram", "-1001:7")
    assert platform.rate_keys(SendPoll(community=COMMUNITY, channel=topic)) == (
        glob, (limits.CHAT, "-1001"), (limits.GROUP, "-1001"))
    dm = SendMessage(community=COMMUNITY, member=bob, content=Content.of("hi"))
    assert platform.rate_keys(dm) == (glob, (limits.CHAT, "43"))  # not the group's window
    answer = SendMessage(community=COMMUNITY, channel=IN_GROUP, member=bob, private=True,
                         reply_to="event", content=Content.of("Your vote is counted."))
    assert platform.rate_keys(answer)[0] == (limits.CALLBACK, "")
    assert (limits.GROUP, "-1001") not in platform.rate_keys(answer)
    # once the press is known, its answer counts against no chat and not the global limit
    pressed = replace(answer, reply_to="9")
    platform.remember_press(-1001, 9, "43", Handle(-1001, callback_id="q1"))
    assert platform.rate_keys(pressed) == ((limits.CALLBACK, ""),)
    private_chat = ChannelRef("telegram", "43", private=True)
    edit = EditMessage(community=COMMUNITY, channel=private_chat, message_id="5")
    assert platform.rate_keys(edit) == (glob, (limits.CHAT, "43"))
    badge = GrantReward(community=COMMUNITY, member=bob, reward=Reward(badge="Helper"))
    assert platform.rate_keys(badge) == ()  # recorded only: no API call
    role = GrantReward(community=COMMUNITY, member=bob,
                       reward=Reward(badge="Helper", role=RoleRef("telegram", "r")))
    assert (limits.GROUP, "-1001") in platform.rate_keys(role)
    names = {limit.scope for limit in RATE_PROFILE.limits}
    assert names == {limits.GLOBAL, limits.CHAT, limits.GROUP, limits.CALLBACK}
    assert limits.POLL_OPEN_PERIOD_MAX == 600


async def test_not_connected_until_initialized(fake: FakeTelegram) -> None:
    platform = TelegramPlatform(
        TelegramSettings(token=SecretStr(TOKEN), api_url=fake.base_url), rate_profile=FAST,
        poll_timeout=1)
    action = SendMessage(community=COMMUNITY, channel=IN_GROUP, content=Content.of("hello"))
    with pytest.raises(NotConnected):
        await platform.deliver(action)
    ready = asyncio.ensure_future(platform.wait_ready())
    await asyncio.sleep(0)
    assert not ready.done()
    app = App(make_settings(), clock=SystemClock(), platforms=[platform], plugins=[])
    await app.start()
    try:
        await asyncio.wait_for(ready, 10)
        assert (await platform.deliver(action)).message_id is not None
    finally:
        await app.stop()
    with pytest.raises(NotConnected):
        await platform.deliver(action)
    assert not fake.calls_of("sendMessage", lambda c: not c.ok)


async def test_a_429_on_the_picture_never_resends_the_text(fake: FakeTelegram) -> None:
    async with running(fake, plugins=[Faults]) as (app, platform):
        await app.register_community(COMMUNITY)
        action = SendMessage(community=COMMUNITY, channel=IN_GROUP, content=Content.of(
            "Your rank", attachments=(Attachment("rank.png", PICTURE, True),)))
        progress = Progress("mj1")
        fake.fail_next("sendPhoto", 429, "Too Many Requests: retry after 3", retry_after=3)
        with pytest.raises(RetryAfter) as refused:
            await platform.deliver(action, progress=progress)
        assert refused.value.seconds == 3
        assert refused.value.bucket == (limits.GROUP, "-1001")
        text_id = progress.parts[0]
        await fake.go_offline()  # then Telegram cannot be reached: nothing sent, retried
        with pytest.raises(TransientError):
            await platform.deliver(action, progress=progress)
        assert progress.parts == {0: text_id}
        await fake.go_online()
        done = await platform.deliver(action, progress=progress)
        assert set(progress.parts) == {0, 1} and done.message_id == progress.parts[1]
        assert len(posts(fake, -1001, "Your rank")) == 1
        assert len(fake.calls_of("sendPhoto", lambda c: c.ok)) == 1


async def test_rank_text_posted_once_through_todays_outbox(fake: FakeTelegram) -> None:
    async with running(fake, plugins=[Faults]) as (app, _platform):
        fake.fail_next("sendPhoto", 429, retry_after=1, times=3)
        fake.push(fake.message_update(GROUP, SARA, "/card"))
        await fake.wait_for_call("sendPhoto", lambda c: c.ok, timeout=15)
        await quiet(app)
        assert len(fake.calls_of("sendMessage", in_chat(-1001, "Here is your card"))) == 1
        assert len(fake.calls_of("sendPhoto", lambda c: c.ok)) == 1


async def test_undeliverable_private_reply_keeps_the_group_clean(fake: FakeTelegram) -> None:
    async with running(fake, plugins=[Faults]) as (_app, platform):
        action = SendMessage(community=COMMUNITY, channel=IN_GROUP, private=True,
                             member=MemberRef("telegram", "45", "Omar"),
                             content=Content.of("a secret"))
        with pytest.raises(Undeliverable):
            await platform.deliver(action)
        fake.block_private(45)
        with pytest.raises(Undeliverable):
            await platform.deliver(action)
        assert not fake.calls_of("sendMessage", lambda c: int(c.params["chat_id"]) < 0)
