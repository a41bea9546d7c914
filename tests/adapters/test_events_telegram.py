"""End to end: the events plugin through the real PTB Application against the fake Bot API.

Telegram has no scheduled events, so the post with its buttons is the event; a member who
started the bot gets reminders privately, one who did not is mentioned in the group.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.core.refs import CommunityRef
from plugins.admin import Admin
from plugins.events import Events
from tests.adapters.test_plugins_telegram import (
    ARABIC,
    ENGLISH,
    Group,
    answered,
    button,
    has_button,
    prepare,
    running,
    sent_to,
    text_of,
)
from tests.adapters.test_telegram import fake, quiet
from tests.fakes.telegram_server import FakeTelegram, RecordedCall, private_chat

__all__ = ["fake"]  # the fixture, imported for pytest

TEXTS = {
    "en": {"preview": "Here is your event. Post it?", "post_it": "Post it", "going": "Going",
           "answer": "You are going to Quiz night", "two": "2 going",
           "reminder": "⏰ Reminder: Quiz night", "reason": "Reason: the power is out",
           "cancelled": "is cancelled", "power": "the power is out", "event": "(event #1)"},
    "ar": {"preview": "هذه هي الفعالية. هل تُنشر؟", "post_it": "انشرها", "going": "سأحضر",
           "answer": "حضورك مؤكَّد في Quiz night", "two": "شخصان سيحضران",
           "reminder": "⏰ تذكير: تبدأ Quiz night", "reason": "السبب: the power is out",
           "cancelled": "أُلغيت", "power": "the power is out", "event": "(الفعالية رقم 1)"},
}


async def with_admin(app: Any, fake: FakeTelegram, where: Group, *started: dict[str, Any]
                     ) -> None:
    """The group prepared, its admin an administrator; ``started`` started the bot (DMs)."""
    await prepare(app, where)
    fake.set_member(where.chat_id, where.admin, "administrator")
    for member in started:
        fake.push(fake.message_update(private_chat(member), member, "/start"))
    await quiet(app)


@pytest.mark.parametrize("where", [pytest.param(ENGLISH, id="en"),
                                   pytest.param(ARABIC, id="ar")])
async def test_post_rsvp_reminders_and_a_cancel_in_a_telegram_group(
    fake: FakeTelegram, where: Group
) -> None:
    texts = TEXTS[where.language]
    async with running(fake, [Admin, Events]) as app:
        await with_admin(app, fake, where, where.admin, where.sara)
        day = (app.clock.now() + timedelta(days=2)).date()
        start = day.strftime("%Y-%m-%d")
        fake.push(fake.message_update(
            where.chat, where.admin,
            f'/event_create "Quiz night" "{start} 18:00" duration=2h place="The Nook"'))
        preview = await sent_to(fake, int(where.admin["id"]), texts["preview"],
                                where=has_button(texts["post_it"]))
        assert not fake.calls_of("sendMessage", lambda c: "Quiz night" in text_of(c)
                                 and int(c.params["chat_id"]) == where.chat_id)
        fake.push(fake.callback_query_update(where.admin, preview.result,
                                             button(preview, texts["post_it"])["callback_data"]))
        post = await sent_to(fake, where.chat_id, texts["event"],
                             where=has_button(texts["going"]))
        for member in (where.sara, where.bob):
            fake.push(fake.callback_query_update(member, post.result,
                                                 button(post, texts["going"])["callback_data"]))
            await answered(fake, texts["answer"])
        await quiet(app)
        edits = fake.calls_of("editMessageText", lambda c: c.ok and texts["two"] in text_of(c))
        assert edits and int(edits[-1].params["message_id"]) == post.result["message_id"]

        # to 23 h before the start (the community's zone is UTC): past the 24 h reminder, not
        # the 1 h one, whatever the time of day the test runs at
        starts = datetime.combine(day, time(18), tzinfo=UTC)
        await app.scheduler.advance(starts - timedelta(hours=23) - app.clock.now())
        dm = await sent_to(fake, int(where.sara["id"]), texts["reminder"])
        group_note = await sent_to(fake, where.chat_id, texts["reminder"])
        await quiet(app)
        n = len(fake.calls)
        fake.push(fake.message_update(where.chat, where.admin,
                                      '/event_cancel 1 reason="the power is out"'))
        notice = await sent_to(fake, int(where.sara["id"]), texts["reason"])
        await quiet(app)
        later = fake.calls[n:]
    assert "The Nook" in text_of(dm)
    bob, sara = str(where.bob["first_name"]), str(where.sara["first_name"])
    assert bob in text_of(group_note) and sara not in text_of(group_note)
    assert texts["cancelled"] in text_of(notice)
    assert any(bob in text_of(c) and texts["power"] in text_of(c)
               for c in later if c.method == "sendMessage" and c.ok
               and int(c.params["chat_id"]) == where.chat_id)
    assert CommunityRef("telegram", str(where.chat_id)) == where.community


# -- the post is pinned while the event is upcoming ---------------------------------------


def message_id(call: RecordedCall) -> int:
    """The id of the message a recorded send posted."""
    return int(call.result["message_id"])


async def post_event(fake: FakeTelegram, where: Group, number: int, command: str
                     ) -> RecordedCall:
    """``/event_create`` by the admin, confirmed: the post in the group."""
    n = len(fake.calls)
    fake.push(fake.message_update(where.chat, where.admin, command))
    preview = await fake.wait_for_call("sendMessage", lambda c: c.ok and has_button(
        "Post it")(c) and int(c.params["chat_id"]) == int(where.admin["id"]), after=n)
    fake.push(fake.callback_query_update(where.admin, preview.result,
                                         button(preview, "Post it")["callback_data"]))
    return await sent_to(fake, where.chat_id, f"(event #{number})", where=has_button("Going"))


async def test_the_post_is_pinned_until_the_event_ends_or_is_cancelled(
    fake: FakeTelegram,
) -> None:
    where = ENGLISH
    fake.set_member(where.chat_id, fake.bot_user, "administrator")  # with can_pin_messages
    async with running(fake, [Admin, Events]) as app:
        await with_admin(app, fake, where, where.admin)
        day = (app.clock.now() + timedelta(days=2)).date()
        quiz = message_id(await post_event(fake, where, 1, f'/event_create "Quiz night" '
                                           f'"{day:%Y-%m-%d} 18:00" duration=2h'))
        pin = await fake.wait_for_call("pinChatMessage")
        assert pin.ok and int(pin.params["message_id"]) == quiz
        assert pin.params.get("disable_notification") is True  # nobody is woken for it
        assert fake.pinned[where.chat_id] == [quiz]

        # a weekly series is pinned beside it; cancelling one evening keeps it pinned
        club = message_id(await post_event(fake, where, 2, '/event_create "Book club" '
                                           '"every monday 19:00" duration=1h'))
        await fake.wait_for_call("pinChatMessage", lambda c: int(c.params["message_id"]) == club)
        assert fake.pinned[where.chat_id] == [quiz, club]
        fake.push(fake.message_update(where.chat, where.admin,
                                      '/event_cancel 2 reason="the hall is closed"'))
        await sent_to(fake, int(where.admin["id"]), "Cancelled")
        await quiet(app)
        assert fake.pinned[where.chat_id] == [quiz, club] and not fake.calls_of("unpinChatMessage")

        # the whole series cancelled: unpinned
        fake.push(fake.message_update(where.chat, where.admin,
                                      '/event_cancel 2 reason="the club closed" scope=series'))
        unpin = await fake.wait_for_call("unpinChatMessage")
        assert unpin.ok and int(unpin.params["message_id"]) == club
        assert fake.pinned[where.chat_id] == [quiz]

        # the one-off ends: unpinned, and the post still reads as the event
        ends = datetime.combine(day, time(20), tzinfo=UTC)
        await app.scheduler.advance(ends + timedelta(minutes=1) - app.clock.now())
        unpin = await fake.wait_for_call("unpinChatMessage",
                                         lambda c: int(c.params["message_id"]) == quiz)
        await quiet(app)
        assert unpin.ok and fake.pinned[where.chat_id] == []
        assert len(fake.calls_of("unpinChatMessage")) == 2
    assert all(c.ok for c in fake.calls_of("pinChatMessage"))


async def test_without_the_right_to_pin_the_event_goes_on_unpinned(fake: FakeTelegram) -> None:
    where = ENGLISH  # the bot is a plain member of the group: it may not pin
    async with running(fake, [Admin, Events]) as app:
        await with_admin(app, fake, where, where.admin)
        day = (app.clock.now() + timedelta(days=2)).date()
        n = len(fake.calls)
        post = await post_event(fake, where, 1, f'/event_create "Quiz night" '
                                f'"{day:%Y-%m-%d} 18:00" duration=2h')
        refused = await fake.wait_for_call("pinChatMessage")
        assert refused.error is not None and "not enough rights" in str(refused.error)
        # the event works: an answer is counted and the post shows it
        fake.push(fake.callback_query_update(where.bob, post.result,
                                             button(post, "Going")["callback_data"]))
        await answered(fake, "You are going to Quiz night")
        await fake.wait_for_call("editMessageText", lambda c: c.ok and "1 going" in text_of(c))
        fake.push(fake.message_update(where.chat, where.admin,
                                      '/event_cancel 1 reason="the power is out"'))
        notice = await sent_to(fake, where.chat_id, "the power is out")
        await fake.wait_for_call("unpinChatMessage")
        await quiet(app, 1.5)  # a retry (backoff from 1 s) would show here
        later = fake.calls[n:]
        stats, queued = dict(app.outbox.stats), app.outbox.queued()
    assert str(where.bob["first_name"]) in text_of(notice)
    assert len([c for c in later if c.method == "pinChatMessage"]) == 1
    assert len([c for c in later if c.method == "unpinChatMessage"]) == 1
    assert stats["declined"] == 2 and queued == 0
    # dropped quietly: no "⚠ I could not carry out an action" note in the group
    assert not [c for c in later if c.method == "sendMessage" and "⚠" in text_of(c)]
    assert fake.pinned.get(where.chat_id, []) == []


# -- issues 16, 18: members who never started the bot share one group message ---------------


async def test_three_of_five_who_never_started_the_bot_get_one_group_message(
    fake: FakeTelegram,
) -> None:
    from tests.fakes.telegram_server import user

    where = ENGLISH
    texts = TEXTS["en"]
    others = [user(60 + i, name, language_code="en")
              for i, name in enumerate(["Huda", "Omar", "Lina"])]
    async with running(fake, [Admin, Events]) as app:
        await with_admin(app, fake, where, where.admin, where.sara, where.bob)
        day = (app.clock.now() + timedelta(days=2)).date()
        fake.push(fake.message_update(
            where.chat, where.admin,
            f'/event_create "Quiz night" "{day:%Y-%m-%d} 18:00" duration=2h'))
        preview = await sent_to(fake, int(where.admin["id"]), texts["preview"],
                                where=has_button(texts["post_it"]))
        fake.push(fake.callback_query_update(where.admin, preview.result,
                                             button(preview, texts["post_it"])["callback_data"]))
        post = await sent_to(fake, where.chat_id, texts["event"],
                             where=has_button(texts["going"]))
        for member in (where.sara, where.bob, *others):
            fake.push(fake.callback_query_update(member, post.result,
                                                 button(post, texts["going"])["callback_data"]))
            await answered(fake, texts["answer"])
        await quiet(app)
        starts = datetime.combine(day, time(18), tzinfo=UTC)
        await app.scheduler.advance(starts - timedelta(hours=23) - app.clock.now())
        await sent_to(fake, int(where.sara["id"]), texts["reminder"])
        await sent_to(fake, int(where.bob["id"]), texts["reminder"])
        await sent_to(fake, where.chat_id, texts["reminder"])
        await quiet(app)
    in_group = [c for c in fake.calls_of("sendMessage", lambda c: c.ok
                and int(c.params["chat_id"]) == where.chat_id
                and texts["reminder"] in text_of(c))]
    assert len(in_group) == 1
    note = text_of(in_group[0])
    # the one post carries the deep link that starts the bot, as a single fallback does
    link = button(in_group[0], "Open a private chat with me")
    assert link["url"].startswith("https://t.me/")
    for member in others:
        assert f"tg://user?id={member['id']}" in note
    for member in (where.sara, where.bob):
        assert str(member["first_name"]) not in note
        assert f"tg://user?id={member['id']}" not in note
