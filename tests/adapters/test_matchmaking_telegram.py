"""End to end: matchmaking through the real PTB Application against the fake Bot API server.

Bob opened a private chat with the bot (the deep-link start), Sara did not: Bob's introduction
arrives privately, Sara's falls back to the group, mentioning only her.
"""

from __future__ import annotations

from datetime import timedelta

from plugins.admin import Admin
from plugins.matchmaking import Matchmaking
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
from tests.fakes.telegram_server import FakeTelegram

__all__ = ["fake"]  # the fixture, imported for pytest


async def test_a_round_introduces_privately_falls_back_and_checks_in(
    fake: FakeTelegram,
) -> None:
    where = ENGLISH
    admin, bob = int(where.admin["id"]), int(where.bob["id"])
    async with running(fake, [Matchmaking, Admin]) as app:
        await prepare(app, where)
        fake.set_member(where.chat_id, where.admin, "administrator")
        fake.allow_private(admin)
        fake.allow_private(bob)
        for person in (where.bob, where.sara):
            fake.push(fake.message_update(where.chat, person, "/match_join"))
            fake.push(fake.message_update(where.chat, person, "/interests python, chess"))
        await quiet(app)
        fake.push(fake.message_update(where.chat, where.admin, "/match_round"))
        preview = await sent_to(fake, admin, "Preview: 1 group.", where=has_button("Announce"))
        assert "Bob and Sara — shared: chess, python" in text_of(preview)
        assert not fake.calls_of("sendMessage", lambda c: "matched with" in text_of(c))
        fake.push(fake.callback_query_update(where.admin, preview.result,
                                             button(preview, "Announce")["callback_data"]))
        intro = await sent_to(fake, bob, "This round you are matched with Sara.")
        assert "You share: chess, python." in text_of(intro)
        fallback = await sent_to(fake, where.chat_id, "you are matched with Bob this round")
        body = text_of(fallback)
        assert "and you share: chess, python. I could not write to you privately" in body
        assert "open a private chat with me" in body
        assert f"tg://user?id={where.sara['id']}" in body  # pings only Sara
        assert f"tg://user?id={bob}" not in body
        # the deep link that starts the bot, so her next messages can arrive privately
        assert button(fallback, "Open a private chat with me")["url"].startswith("https://t.me/")
        await sent_to(fake, where.chat_id, "Round 1 of matchmaking: 1 group was introduced")

        fake.allow_private(int(where.sara["id"]))  # she followed the link and started the bot
        await app.scheduler.advance(timedelta(days=4, minutes=1))
        question = await sent_to(fake, bob, "Did you meet Sara this round?",
                                 where=has_button("Yes, we met"))
        await sent_to(fake, int(where.sara["id"]), "Did you meet Bob this round?",
                      where=has_button("Yes, we met"))  # the next message reaches her there
        fake.push(fake.callback_query_update(where.bob, question.result,
                                             button(question, "Yes, we met")["callback_data"]))
        await answered(fake, "Wonderful, thanks for telling me!")

