"""End to end: the events plugin through the real PTB Application against the fake Bot API.

Telegram has no scheduled events, so the post with its buttons is the event; a member who
started the bot gets reminders privately, one who did not is mentioned in the group.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.refs import CommunityRef
from plugins.admin import Admin
from plugins.events import Events
from tests.adapters.test_plugins_telegram import (
    ENGLISH,
    answered,
    button,
    has_button,
    prepare,
    running,
    sent_to,
    text_of,
)
from tests.adapters.test_telegram import fake, quiet
from tests.fakes.telegram_server import FakeTelegram, private_chat

__all__ = ["fake"]  # the fixture, imported for pytest


async def test_post_rsvp_reminders_and_a_cancel_in_a_telegram_group(fake: FakeTelegram) -> None:
    where = ENGLISH
    async with running(fake, [Admin, Events]) as app:
        await prepare(app, where)
        fake.set_member(where.chat_id, where.admin, "administrator")
        for member in (where.admin, where.sara):  # they started the bot: DMs reach them
            fake.push(fake.message_update(private_chat(member), member, "/start"))
        await quiet(app)
        start = (app.clock.now() + timedelta(days=2)).strftime("%Y-%m-%d")
        fake.push(fake.message_update(
            where.chat, where.admin,
            f'/event_create "Quiz night" "{start} 18:00" duration=2h place="The Nook"'))
        preview = await sent_to(fake, int(where.admin["id"]), "Here is your event. Post it?",
                                where=has_button("Post it"))
        assert not fake.calls_of("sendMessage", lambda c: "Quiz night" in text_of(c)
                                 and int(c.params["chat_id"]) == where.chat_id)
        fake.push(fake.callback_query_update(where.admin, preview.result,
                                             button(preview, "Post it")["callback_data"]))
        post = await sent_to(fake, where.chat_id, "(event #1)", where=has_button("Going"))
        for member in (where.sara, where.bob):
            fake.push(fake.callback_query_update(member, post.result,
                                                 button(post, "Going")["callback_data"]))
            await answered(fake, "You are going to Quiz night")
        await quiet(app)
        edits = fake.calls_of("editMessageText", lambda c: c.ok and "2 going" in text_of(c))
        assert edits and int(edits[-1].params["message_id"]) == post.result["message_id"]

        await app.scheduler.advance(timedelta(days=1, hours=1))  # past the 24 h reminder
        dm = await sent_to(fake, int(where.sara["id"]), "⏰ Reminder: Quiz night")
        group_note = await sent_to(fake, where.chat_id, "⏰ Reminder: Quiz night")
        await quiet(app)
        n = len(fake.calls)
        fake.push(fake.message_update(where.chat, where.admin,
                                      '/event_cancel 1 reason="the power is out"'))
        notice = await sent_to(fake, int(where.sara["id"]), "Reason: the power is out")
        await quiet(app)
        later = fake.calls[n:]
    assert "The Nook" in text_of(dm)
    assert "Bob" in text_of(group_note) and "Sara" not in text_of(group_note)
    assert "is cancelled" in text_of(notice)
    assert any("Bob" in text_of(c) and "the power is out" in text_of(c)
               for c in later if c.method == "sendMessage" and c.ok
               and int(c.params["chat_id"]) == where.chat_id)
    assert CommunityRef("telegram", str(where.chat_id)) == where.community
