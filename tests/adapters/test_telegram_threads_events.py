"""Telegram's fallbacks for threads (forum topics or messages) and scheduled events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import App
from bot.core.capabilities import Capability
from bot.core.context import Context
from bot.core.refs import ChannelRef, CommunityRef
from plugins.admin import Admin
from tests.adapters.test_telegram import fake, running
from tests.fakes.telegram_server import FakeTelegram, group

__all__ = ["fake"]  # the fixture, imported for pytest

PLAIN = group(-2001, "Plain group")
FORUM = group(-2002, "Forum group", is_forum=True)


def context(app: App, chat: dict[str, Any]) -> Context:
    """A core context in ``chat``'s general channel."""
    community = CommunityRef("telegram", str(chat["id"]))
    return Context(app, None, community, channel=ChannelRef("telegram", str(chat["id"])))


async def test_a_thread_in_a_plain_group_is_a_message_answering_its_origin(
    fake: FakeTelegram,
) -> None:
    fake.add_chat(PLAIN)
    async with running(fake, plugins=(Admin,)) as (app, _platform):
        ctx = context(app, PLAIN)
        starter = await ctx.send("Weekly meetup")
        thread = await ctx.create_thread("Meetup talk", "Say hello here", from_message=starter)
        delivered = await app.outbox.delivered(thread, timeout=10)
        origin = await app.outbox.delivered(starter, timeout=10)
    post = fake.calls_of("sendMessage", lambda c: c.ok and "Meetup talk" in c.params["text"])
    assert len(post) == 1
    assert "<b>Meetup talk</b>" in post[0].params["text"]
    assert "Say hello here" in post[0].params["text"]
    assert str(post[0].params["reply_parameters"]["message_id"]) == origin
    assert delivered == str(post[0].result["message_id"])
    assert not fake.calls_of("createForumTopic")


async def test_a_thread_in_a_forum_is_a_topic(fake: FakeTelegram) -> None:
    fake.add_chat(FORUM)
    fake.set_member(FORUM["id"], fake.bot_id, "administrator", can_manage_topics=True)
    async with running(fake, plugins=(Admin,)) as (app, _platform):
        thread = await context(app, FORUM).create_thread("Ideas", "Post your ideas")
        delivered = await app.outbox.delivered(thread, timeout=10)
    topic = fake.calls_of("createForumTopic")
    assert len(topic) == 1 and topic[0].params["name"] == "Ideas"
    topic_id = topic[0].result["message_thread_id"]
    post = fake.calls_of("sendMessage", lambda c: c.ok and "Post your ideas" in c.params["text"])
    assert len(post) == 1 and int(post[0].params["message_thread_id"]) == topic_id
    assert post[0].result["is_topic_message"] is True
    assert delivered == f"-2002:{topic_id}"


async def test_a_forum_where_the_bot_may_not_make_topics_gets_a_message(
    fake: FakeTelegram,
) -> None:
    fake.add_chat(FORUM)  # the bot is a plain member: no can_manage_topics
    async with running(fake, plugins=(Admin,)) as (app, _platform):
        thread = await context(app, FORUM).create_thread("Ideas", "Post your ideas")
        delivered = await app.outbox.delivered(thread, timeout=10)
    assert [c.error and c.error.description for c in fake.calls_of("createForumTopic")] == [
        "Bad Request: not enough rights to create a topic"
    ]
    post = fake.calls_of("sendMessage", lambda c: c.ok and "Post your ideas" in c.params["text"])
    assert len(post) == 1 and "<b>Ideas</b>" in post[0].params["text"]
    assert delivered == str(post[0].result["message_id"])


async def test_a_topic_whose_answer_was_lost_is_not_made_twice(fake: FakeTelegram) -> None:
    """The Bot API cannot list topics: a topic made without an answer is not made again."""
    fake.add_chat(FORUM)
    fake.set_member(FORUM["id"], fake.bot_id, "administrator", can_manage_topics=True)
    fake.drop_next("createForumTopic", after_processing=True)
    async with running(fake, plugins=(Admin,)) as (app, platform):
        thread = await context(app, FORUM).create_thread("Ideas", "Post your ideas")
        delivered = await app.outbox.delivered(thread, timeout=10)
        assert platform.health()["unconfirmed"] == 1
    made = [m for m in fake.messages.values() if "forum_topic_created" in m]
    assert len(made) == 1  # Telegram made it once; it was not asked again
    assert len(fake.calls_of("createForumTopic")) == 1
    post = fake.calls_of("sendMessage", lambda c: c.ok and "Post your ideas" in c.params["text"])
    assert len(post) == 1 and "<b>Ideas</b>" in post[0].params["text"]
    assert delivered == str(post[0].result["message_id"])


async def test_an_event_is_announced_edited_and_cancelled(fake: FakeTelegram) -> None:
    fake.add_chat(PLAIN)
    start = datetime(2030, 1, 2, 18, 30, tzinfo=UTC)
    async with running(fake, plugins=(Admin,)) as (app, _platform):
        ctx = context(app, PLAIN)
        assert not ctx.has(Capability.SCHEDULED_EVENTS)
        first = await ctx.scheduled_event("meetup", "Meetup", start, location="Café Nil",
                                          description="Bring friends")
        announced = await app.outbox.delivered(first, timeout=10)
        moved = await ctx.scheduled_event("meetup", "Meetup", start + timedelta(hours=1),
                                          end=start + timedelta(hours=3), location="Café Nil")
        assert await app.outbox.delivered(moved, timeout=10) == announced
        cancelled = await ctx.scheduled_event("meetup", "Meetup", start, cancel=True)
        await app.outbox.delivered(cancelled, timeout=10)
        stored = await app.db.kv_get("telegram.events", "telegram:-2001:meetup")
    posts = fake.calls_of("sendMessage", lambda c: c.ok and "Meetup" in c.params["text"])
    assert len(posts) == 2
    text = posts[0].params["text"]
    assert "<b>Meetup</b>" in text and "2030" in text and "18:30 (UTC)" in text
    assert "📍 Café Nil" in text and "Bring friends" in text
    edit = fake.calls_of("editMessageText")
    assert len(edit) == 1 and str(edit[0].params["message_id"]) == announced
    assert "19:30 (UTC)" in edit[0].params["text"] and "21:30" in edit[0].params["text"]
    assert "cancelled" in posts[1].params["text"]
    assert str(posts[1].params["reply_parameters"]["message_id"]) == announced
    assert stored is None


async def test_an_event_is_announced_in_arabic_in_the_community_timezone(
    fake: FakeTelegram,
) -> None:
    fake.add_chat(PLAIN)
    start = datetime(2030, 1, 2, 18, 30, tzinfo=UTC)
    async with running(fake, plugins=(Admin,)) as (app, _platform):
        ctx = context(app, PLAIN)
        await app.register_community(ctx.community)
        await app.update_community(ctx.community, language="ar", timezone="Africa/Cairo")
        first = await ctx.scheduled_event("iftar", "إفطار", start,
                                          end=start + timedelta(hours=2))
        await app.outbox.delivered(first, timeout=10)
        expected = app.translator("telegram", "ar", ctx.community).datetime(start)
    text = fake.calls_of("sendMessage", lambda c: c.ok and "إفطار" in c.params["text"])[0]
    assert "من" in text.params["text"] and expected in text.params["text"]
    assert "20:30 (القاهرة)" in text.params["text"]  # 18:30 UTC is 20:30 in Cairo
