"""End to end on Telegram: a newcomer's introduction, answered in the private chat with the
bot (a community of its own, ``telegram:<user id>``) or with ``/intro``, is posted in the
group; a skipped prompt leaves later private messages alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.core.refs import MemberRef
from plugins.onboarding import Onboarding
from plugins.onboarding.tables import members
from tests.adapters.test_plugins_telegram import (
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
from tests.fakes.telegram_server import FakeTelegram, private_chat

__all__ = ["fake"]  # the fixture, imported for pytest

WELCOME = "Please welcome"
RULES = {"rules_text": "Be kind."}


async def joined_and_prompted(fake: FakeTelegram, where: Group, who: dict[str, Any]) -> int:
    """``who`` starts the bot, joins the group, accepts the rules in private, and gets the
    introduction prompt there."""
    uid = int(who["id"])
    fake.push(fake.start_update(who))
    await sent_to(fake, uid, "I can now send you private messages")
    fake.push(fake.chat_member_update(where.chat, who, "left", "member"))
    rules = await sent_to(fake, uid, "Be kind.", where=has_button("I accept the rules"))
    fake.push(fake.callback_query_update(who, rules.result,
                                         button(rules, "I accept")["callback_data"]))
    await sent_to(fake, uid, "Introduce yourself", where=has_button("Skip"))
    return uid


async def intro_of(app: App, where: Group, uid: int) -> tuple[str | None, bool]:
    """The stored introduction of ``uid`` in the group, and whether the step is closed."""
    await quiet(app)
    async with app.db.connect() as conn:
        row = (await conn.execute(select(members).where(
            members.c.community == where.community.key, members.c.member == str(uid))
        )).one()
    return row.intro, row.intro_at is not None


async def test_private_reply_is_posted_in_the_group_escaped(fake: FakeTelegram) -> None:
    where = ENGLISH
    async with running(fake, [Onboarding]) as app:
        await prepare(app, where, onboarding=RULES)
        fake.push(fake.my_chat_member_update(where.chat, where.admin, "left", "administrator"))
        await sent_to(fake, where.chat_id)  # the setup note
        bob = await joined_and_prompted(fake, where, where.bob)

        text = "Hi, I am Bob <b>not bold</b> & I like @alice"
        fake.push(fake.message_update(private_chat(where.bob), where.bob, text))
        posted = await sent_to(fake, where.chat_id, WELCOME)
        assert "&lt;b&gt;not bold&lt;/b&gt; &amp; I like" in text_of(posted)
        assert "tg://user?id=43" in text_of(posted)  # the only mention: Bob
        await sent_to(fake, bob, "I posted your introduction")
        assert await intro_of(app, where, bob) == (text, True)

        # the step is closed: a later private message is not posted again
        fake.push(fake.message_update(private_chat(where.bob), where.bob, "just chatting"))
        await quiet(app)
        welcomes = fake.calls_of("sendMessage", lambda c: c.ok and WELCOME in text_of(c))
        assert len(welcomes) == 1
        member = MemberRef("telegram", str(bob))
        data = await app.export_member(member)
        assert data["onboarding"]["communities"][0]["intro"] == text
        await app.forget_member(member)
        data = await app.export_member(member)
        assert data["onboarding"] == {"communities": []}


async def test_skip_then_intro_command_in_private(fake: FakeTelegram) -> None:
    where = ENGLISH
    async with running(fake, [Onboarding]) as app:
        await prepare(app, where, onboarding={**RULES, "intro_max_length": 30})
        fake.push(fake.my_chat_member_update(where.chat, where.admin, "left", "administrator"))
        await sent_to(fake, where.chat_id)
        sara = await joined_and_prompted(fake, where, where.sara)
        prompt = await sent_to(fake, sara, "Introduce yourself", where=has_button("Skip"))
        fake.push(fake.callback_query_update(where.sara, prompt.result,
                                             button(prompt, "Skip")["callback_data"]))
        await answered(fake, "No problem")
        fake.push(fake.message_update(private_chat(where.sara), where.sara, "hello bot"))
        await quiet(app)
        assert await intro_of(app, where, sara) == (None, True)

        fake.push(fake.message_update(private_chat(where.sara), where.sara,
                                      "/intro " + "x" * 31))
        await sent_to(fake, sara, "at most 30 are allowed")
        fake.push(fake.message_update(private_chat(where.sara), where.sara,
                                      "/intro Sara, designer"))
        posted = await sent_to(fake, where.chat_id, WELCOME)
        assert "Sara, designer" in text_of(posted)
        assert await intro_of(app, where, sara) == ("Sara, designer", True)
        assert not fake.calls_of("sendMessage", lambda c: c.ok and "hello bot" in text_of(c))

