"""End to end: the feedback plugin through the real python-telegram-bot Application against
the fake Bot API, in an English and an Arabic group: the post and its buttons, votes and
follows answered privately, and a status change told by DM where the member opened a private
chat, else in the group mentioning only them."""

from __future__ import annotations

import pytest

from plugins.feedback import Feedback
from tests.adapters.test_plugins_telegram import (
    GROUPS,
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
from tests.fakes.telegram_server import FakeTelegram

__all__ = ["fake"]  # the fixture, imported for pytest


@pytest.mark.parametrize("where", GROUPS)
async def test_a_suggestion_is_voted_followed_and_its_change_told_once(
    fake: FakeTelegram, where: Group
) -> None:
    async with running(fake, [Feedback]) as app:
        await prepare(app, where)
        t = app.translator("feedback", where.language, where.community)
        fake.set_member(where.chat_id, where.admin, "administrator")
        fake.push(fake.message_update(where.chat, where.admin,
                                      "/suggest Add a channel for board games"))
        up, follow = t.plain("👍 Vote up"), t.plain("🔔 Follow")
        post = await sent_to(fake, where.chat_id, "Add a channel for board games",
                             where=has_button(up))
        fake.push(fake.callback_query_update(where.bob, post.result,
                                             button(post, up)["callback_data"]))
        counted = await answered(fake, t.plain("Your 👍 for #{n} is counted.", n=1))
        fake.push(fake.callback_query_update(where.sara, post.result,
                                             button(post, follow)["callback_data"]))
        await answered(fake, t.plain("You follow #{n}: I will tell you when its status "
                                     "changes. /unfollow {n} stops it.", n=1))
        await quiet(app)

        bob, sara = int(where.bob["id"]), int(where.sara["id"])
        fake.allow_private(bob)  # bob opened a private chat with the bot; sara did not
        fake.push(fake.message_update(where.chat, where.admin,
                                      "/suggestion_status 1 under_review asking the team"))
        status = t.plain("under review")
        dm = await sent_to(fake, bob, status)
        note = await sent_to(fake, where.chat_id, status,
                             where=lambda c: f"tg://user?id={sara}" in text_of(c))
        await quiet(app)
    assert counted.params.get("show_alert") in (True, "true")  # only bob sees it
    notice = t.plain("🔔 Suggestion #{n} “{text}” is now **{status}**.", n=1,
                     text="Add a channel for board games", status="<b>" + status + "</b>")
    assert notice.replace("**", "") in text_of(dm)
    assert notice.replace("**", "") in text_of(note)
    assert f"tg://user?id={bob}" not in text_of(note)  # the fallback names only sara
    told = [c for c in fake.calls_of("sendMessage", lambda c: c.ok)
            if status in text_of(c) and "🔔" in text_of(c)]
    assert len(told) == 2  # once each; the author, who made the change, is not told
