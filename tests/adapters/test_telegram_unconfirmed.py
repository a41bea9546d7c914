"""Issue 12.5 on Telegram, which has no nonce: a post whose answer was lost is never posted
twice. The real PTB client against the fake Bot API, which carries a request out and then
loses the answer (connection closed, or an answer slower than the client waits), or refuses
connections (nothing sent: retried).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr

from bot.adapters.telegram import UNCONFIRMED, TelegramPlatform
from bot.app import App
from bot.core.actions import EditMessage, SendMessage
from bot.core.clock import SystemClock
from bot.core.messages import Attachment, Content
from bot.core.platform import TransientError
from bot.settings import TelegramSettings
from tests.adapters.test_telegram import FAST, TOKEN, fake, quiet
from tests.adapters.test_telegram_faults import (
    COMMUNITY,
    IN_GROUP,
    PICTURE,
    in_chat,
    posts,
)
from tests.conftest import make_settings
from tests.fakes.telegram_server import FakeTelegram

__all__ = ["fake"]  # the fixture, imported for pytest

#: The client waits this long for an answer; the fake's slow answers take longer.
READ_TIMEOUT = 0.5


@asynccontextmanager
async def bot(fake: FakeTelegram) -> AsyncIterator[tuple[App, TelegramPlatform]]:
    """An app whose Telegram client gives up on an answer after ``READ_TIMEOUT``."""
    platform = TelegramPlatform(
        TelegramSettings(token=SecretStr(TOKEN), api_url=fake.base_url),
        rate_profile=FAST, poll_timeout=1, read_timeout=READ_TIMEOUT,
    )
    app = App(make_settings(), clock=SystemClock(), platforms=[platform], plugins=[])
    await app.start()
    await app.register_community(COMMUNITY)
    app.outbox.backoff_base = 0.05  # a retry (if any) comes at once
    try:
        yield app, platform
    finally:
        await app.stop()


def announcement(text: str) -> SendMessage:
    return SendMessage(community=COMMUNITY, channel=IN_GROUP, content=Content.of(text))


@pytest.mark.parametrize("fault", ["disconnect", "slow answer"])
async def test_a_post_whose_answer_is_lost_is_not_posted_again(
    fake: FakeTelegram, fault: str
) -> None:
    async with bot(fake) as (app, platform):
        if fault == "disconnect":
            fake.drop_next("sendMessage", after_processing=True)
        else:
            fake.stall_next("sendMessage", READ_TIMEOUT * 4)
        outbox_id = await app.outbox.submit(announcement("The meetup moved to Friday."))
        assert await app.outbox.delivered(outbox_id, timeout=10) == UNCONFIRMED
        await quiet(app, READ_TIMEOUT * 5)
        assert len(posts(fake, -1001, "The meetup moved to Friday.")) == 1
        assert platform.health()["unconfirmed"] == 1
        # the admins hear of it (here the group is the admin channel)
        assert posts(fake, -1001, "may have posted a message without confirming it")


async def test_only_the_part_whose_answer_was_lost_is_unconfirmed(fake: FakeTelegram) -> None:
    async with bot(fake) as (app, _platform):
        fake.drop_next("sendMessage", after_processing=True)
        card = SendMessage(community=COMMUNITY, channel=IN_GROUP, content=Content.of(
            "Your rank card", attachments=(Attachment("rank.png", PICTURE, True),)))
        outbox_id = await app.outbox.submit(card)
        photo_id = await app.outbox.delivered(outbox_id, timeout=10)
        await quiet(app)
        assert len(posts(fake, -1001, "Your rank card")) == 1
        photos = fake.calls_of("sendPhoto", lambda c: c.ok)
        assert len(photos) == 1 and photo_id == str(photos[0].result["message_id"])


async def test_an_edit_whose_answer_was_lost_is_retried(fake: FakeTelegram) -> None:
    async with bot(fake) as (app, _platform):
        original = await app.outbox.submit(announcement("Poll: open"))
        await app.outbox.delivered(original, timeout=10)
        fake.stall_next("editMessageText", READ_TIMEOUT * 4)
        edit = await app.outbox.submit(EditMessage(
            community=COMMUNITY, channel=IN_GROUP, original=original,
            content=Content.of("Poll: closed")))
        assert await app.outbox.delivered(edit, timeout=15) is not None
        await quiet(app)
        edits = fake.calls_of("editMessageText")
        assert len(edits) == 2 and all("closed" in str(c.params["text"]) for c in edits)
        assert not fake.calls_of("sendMessage", in_chat(-1001, "may have posted"))


async def test_an_edit_of_an_unconfirmed_post_is_refused_and_reported(
    fake: FakeTelegram,
) -> None:
    async with bot(fake) as (app, _platform):
        fake.drop_next("sendMessage", after_processing=True)
        original = await app.outbox.submit(announcement("Poll: open"))
        await app.outbox.delivered(original, timeout=10)
        edit = await app.outbox.submit(EditMessage(
            community=COMMUNITY, channel=IN_GROUP, original=original,
            content=Content.of("Poll: closed")))
        assert await app.outbox.delivered(edit, timeout=10) is None
        await quiet(app)
        assert not fake.calls_of("editMessageText")
        assert posts(fake, -1001, "could not carry out an action")


async def test_a_request_never_sent_is_retried(fake: FakeTelegram) -> None:
    async with bot(fake) as (app, platform):
        await fake.go_offline()  # connections refused: nothing reaches Telegram
        with pytest.raises(TransientError):
            await platform.deliver(announcement("Welcome, everyone!"))
        await fake.go_online()
        done = await platform.deliver(announcement("Welcome, everyone!"))
        assert done.message_id not in (None, UNCONFIRMED)
        await quiet(app)
        assert len(posts(fake, -1001, "Welcome, everyone!")) == 1
        assert platform.health()["unconfirmed"] == 0
