"""End to end: the polls, onboarding and contributions plugins through the real PTB
Application against the fake Bot API server, in an English and an Arabic group.

The app runs on a :class:`ManualClock` (deadlines are reached with ``scheduler.advance``);
polling and HTTP use real time with short long-poll timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.adapters.telegram import TelegramPlatform
from bot.app import App
from bot.core.clock import ManualClock
from bot.core.plugin import Plugin
from bot.core.refs import CommunityRef
from bot.settings import TelegramSettings
from plugins.admin import Admin
from plugins.contributions import Contributions
from plugins.onboarding import Onboarding
from plugins.onboarding.tables import interests, members
from plugins.polls import Polls
from plugins.polls.tables import ballots
from tests.adapters.test_telegram import CALLBACK_WAIT, FAST, TOKEN, fake, keyboard, quiet
from tests.conftest import make_settings
from tests.fakes.telegram_server import FakeTelegram, RecordedCall, group, user

__all__ = ["fake"]  # the fixture, imported for pytest

PERK_CHAT = -2002


@dataclass(frozen=True)
class Group:
    """One test group: its chat, language and members, with the texts to expect."""

    chat: dict[str, Any]
    language: str
    admin: dict[str, Any]
    bob: dict[str, Any]
    sara: dict[str, Any]
    texts: dict[str, str]

    @property
    def community(self) -> CommunityRef:
        """The group as a community."""
        return CommunityRef("telegram", str(self.chat["id"]))

    @property
    def chat_id(self) -> int:
        """The group's chat id."""
        return int(self.chat["id"])


ENGLISH = Group(
    chat=group(-1001, "Majlis"),
    language="en",
    admin=user(42, "Alice", username="alice", language_code="en"),
    bob=user(43, "Bob", language_code="en"),
    sara=user(44, "Sara", language_code="en"),
    texts={
        "question": "Which day?",
        "options": "Sat | Sun | Mon",
        "counted": "Your vote for “{option}” is counted.",
        "changed": "You changed your vote to “{option}”.",
        "closed": "Poll #1 is closed",
        "reach": "Reach:",
        "winner": "Winner: ",
        "welcome": "Welcome to Majlis, Bob!",
        "accept": "I accept the rules",
        "thanks_rules": "Thank you for accepting the rules.",
        "done": "Done",
        "saved": "Saved your interests: Python.",
        "all_set": "You are all set!",
        "badge": "earned the badge",
        "invite_sent": "I sent you an invite link in private.",
        "perk": "This invite link works once",
        "thank": "thanks @alice for the help",
        "thanked": "thanked",
        "level": "reached level",
        "rank": "level 1",
        "top": "Top contributors of all time",
    },
)

ARABIC = Group(
    chat=group(-1002, "المجلس"),
    language="ar",
    admin=user(52, "علياء", username="alia_ar", language_code="ar"),
    bob=user(53, "بكر", language_code="ar"),
    sara=user(54, "سارة", language_code=None),
    texts={
        "question": "أي يوم؟",
        "options": "السبت | الأحد | الاثنين",
        "counted": "احتُسب صوتك لـ«{option}».",
        "changed": "غيّرت صوتك إلى «{option}».",
        "closed": "أُغلق الاستطلاع",
        "reach": "مدى الوصول:",
        "winner": "الاثنين",
        "welcome": "أهلًا بك في المجلس يا بكر!",
        "accept": "أقبل القواعد",
        "thanks_rules": "",
        "done": "تم",
        "saved": "حُفظت اهتماماتك: Python.",
        "all_set": "كل شيء جاهز!",
        "badge": "شارة",
        "invite_sent": "",
        "perk": "",
        "thank": "شكرا @alia_ar على المساعدة",
        "thanked": "شكر",
        "level": "بلغت المستوى",
        "rank": "المستوى",
        "top": "أبرز المساهمين على الإطلاق",
    },
)

GROUPS = [pytest.param(ENGLISH, id="en"), pytest.param(ARABIC, id="ar")]


def arabic(text: str) -> bool:
    """Whether ``text`` has Arabic letters."""
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


@asynccontextmanager
async def running(
    fake: FakeTelegram, plugins: Sequence[type[Plugin]], *,
    database_url: str = "sqlite+aiosqlite://", **telegram: Any
) -> AsyncIterator[App]:
    """An app on a manual clock (starting now) with Telegram against ``fake``."""
    platform = TelegramPlatform(
        TelegramSettings(token=SecretStr(TOKEN), api_url=fake.base_url, **telegram),
        rate_profile=FAST,
        poll_timeout=1,
        callback_wait=CALLBACK_WAIT,
    )
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    app = App(make_settings(database_url=database_url), clock=clock, platforms=[platform],
              plugins=list(plugins))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def prepare(app: App, where: Group, **settings: dict[str, Any]) -> None:
    """Register the group in its language and apply ``plugin={key: value}`` settings."""
    await app.register_community(where.community, str(where.chat["title"]))
    await app.update_community(where.community, language=where.language)
    for name, values in settings.items():
        plugin = app.plugins[name]
        translator = app.translator(name, "en", where.community)
        for key, value in values.items():
            await app.set_setting(plugin, where.community, key, value, translator=translator)


def text_of(call: RecordedCall) -> str:
    """The text of a recorded send or answer."""
    return str(call.params.get("text", ""))


def chat_of(call: RecordedCall) -> int:
    """The chat a recorded call was addressed to."""
    return int(call.params["chat_id"])


async def sent_to(
    fake: FakeTelegram, chat_id: int, needle: str = "", *,
    where: Callable[[RecordedCall], bool] = lambda c: True, method: str = "sendMessage",
    timeout: float = 8.0,
) -> RecordedCall:
    """Wait for a successful ``method`` to ``chat_id`` whose text contains ``needle``."""
    return await fake.wait_for_call(
        method,
        lambda c: c.ok and chat_of(c) == chat_id and needle in text_of(c) and where(c),
        timeout,
    )


def button(call: RecordedCall, label: str) -> dict[str, Any]:
    """The inline button of a sent message whose text contains ``label``."""
    for row in keyboard(call):
        for entry in row:
            if label in entry["text"]:
                return entry
    raise AssertionError(f"no button {label!r} in {keyboard(call)}")


def has_button(label: str) -> Callable[[RecordedCall], bool]:
    """A filter for sends with a button labelled ``label``."""

    def check(call: RecordedCall) -> bool:
        if "reply_markup" not in call.params:
            return False
        try:
            button(call, label)
        except AssertionError:
            return False
        return True

    return check


async def answered(fake: FakeTelegram, needle: str, timeout: float = 8.0) -> RecordedCall:
    """Wait for an ``answerCallbackQuery`` whose text contains ``needle``."""
    return await fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.ok and needle in text_of(c), timeout
    )


# -- polls -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", GROUPS)
async def test_poll_votes_change_and_results_with_chart(
    fake: FakeTelegram, where: Group
) -> None:
    texts = where.texts
    options = [o.strip() for o in texts["options"].split("|")]
    async with running(fake, [Polls]) as app:
        await prepare(app, where)
        fake.set_member(where.chat_id, where.admin, "administrator")
        fake.push(fake.message_update(
            where.chat, where.admin,
            f'/poll "{texts["question"]}" "{texts["options"]}" duration=1h'))
        poll = await sent_to(fake, where.chat_id, texts["question"], where=has_button(options[0]))
        assert arabic(text_of(poll)) == (where.language == "ar")

        fake.push(fake.callback_query_update(where.bob, poll.result,
                                             button(poll, options[0])["callback_data"]))
        first = await answered(fake, texts["counted"].format(option=options[0]))
        assert first.params.get("show_alert") in (True, "true")  # only Bob sees it
        fake.push(fake.callback_query_update(where.sara, poll.result,
                                             button(poll, options[2])["callback_data"]))
        await answered(fake, texts["counted"].format(option=options[2]))
        fake.push(fake.callback_query_update(where.bob, poll.result,
                                             button(poll, options[2])["callback_data"]))
        await answered(fake, texts["changed"].format(option=options[2]))
        await quiet(app)
        edits = fake.calls_of("editMessageText", lambda c: c.ok)
        assert edits and int(edits[-1].params["message_id"]) == poll.result["message_id"]
        assert not fake.calls_of("sendMessage", lambda c: texts["closed"] in text_of(c))

        await app.scheduler.advance(timedelta(hours=1, minutes=1))
        results = await sent_to(fake, where.chat_id, texts["closed"])
        body = text_of(results)
        assert texts["reach"] in body and texts["winner"] in body and options[2] in body
        chart = await sent_to(fake, where.chat_id, method="sendPhoto")
        assert chart.ok and chart.result["photo"]
        await quiet(app)
        assert fake.count("sendPhoto") == 1  # closed exactly once
        n = len(fake.calls)
        fake.push(fake.callback_query_update(where.sara, poll.result,
                                             button(poll, options[0])["callback_data"]))
        late = await fake.wait_for_call("answerCallbackQuery", after=n)
        assert arabic(text_of(late)) == (where.language == "ar")


async def counted(app: App, n: int, timeout: float = 15.0) -> None:
    """Wait until ``n`` ballots are stored (votes arrive through polling, in real time)."""
    async def enough() -> None:
        while True:
            await quiet(app, 0.2)
            async with app.db.connect() as conn:
                if len((await conn.execute(select(ballots.c.voter))).all()) >= n:
                    return

    await asyncio.wait_for(enough(), timeout)


async def test_native_poll_votes_are_counted_across_a_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    where = ENGLISH
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with running(fake, [Polls], database_url=url) as app:
        await prepare(app, where)
        fake.set_member(where.chat_id, where.admin, "administrator")
        fake.push(fake.message_update(
            where.chat, where.admin, '/poll "Which day?" "Sat | Sun | Mon" native=yes '
            "duration=10m"))
        sent = await fake.wait_for_call("sendPoll", lambda c: c.ok)
        assert int(sent.params["open_period"]) == 600
        assert sent.params.get("is_anonymous") in (False, "false")  # else no votes arrive
        poll_id = sent.result["poll"]["id"]
        fake.push(fake.poll_answer_update(poll_id, where.bob, [0]))
        await counted(app, 1)
    async with running(fake, [Polls], database_url=url) as app:  # the mapping is stored
        fake.push(fake.poll_answer_update(poll_id, where.sara, [1]))
        fake.push(fake.poll_answer_update(poll_id, where.admin, [0]))
        await counted(app, 3)
        await app.scheduler.advance(timedelta(minutes=11))
        results = await sent_to(fake, where.chat_id, "members voted")
        assert "3 members voted." in text_of(results)
        assert "Winner: <b>Sat</b>" in text_of(results)


async def test_hidden_interim_results_and_forget_me_stay_private(fake: FakeTelegram) -> None:
    where = ENGLISH
    admin, bob = int(where.admin["id"]), int(where.bob["id"])
    async with running(fake, [Polls, Admin]) as app:
        await prepare(app, where)
        fake.set_member(where.chat_id, where.admin, "administrator")
        fake.allow_private(admin)
        fake.push(fake.message_update(
            where.chat, where.admin, '/poll "Which day?" "Sat | Sun" hidden=yes'))
        poll = await sent_to(fake, where.chat_id, "Which day?", where=has_button("Sat"))
        fake.push(fake.callback_query_update(where.bob, poll.result,
                                             button(poll, "Sat")["callback_data"]))
        await answered(fake, "Your vote for “Sat” is counted.")
        fake.push(fake.message_update(where.chat, where.admin, "/poll_results 1"))
        interim = await sent_to(fake, admin, "Interim results of poll #1")
        assert "1 member voted." in text_of(interim)

        fake.allow_private(bob)
        fake.push(fake.message_update(where.chat, where.bob, "/forget_me"))
        confirm = await sent_to(fake, bob, "Are you sure?", where=has_button("Yes"))
        fake.push(fake.callback_query_update(where.bob, confirm.result,
                                             button(confirm, "Yes")["callback_data"]))
        await fake.wait_for_call(  # the goodbye: an answer to the press, or in private
            "answerCallbackQuery", lambda c: c.ok and "Erasing your data" in text_of(c))
        fake.push(fake.message_update(where.chat, where.sara, "/forget_me"))  # not started
        await quiet(app)
        group_texts = [text_of(c) for c in fake.calls_of(
            "sendMessage", lambda c: chat_of(c) == where.chat_id)]
        assert not [t for t in group_texts if "Interim results" in t or "member voted" in t]
        assert not [t for t in group_texts if "Are you sure" in t or "Erasing" in t]


# -- onboarding --------------------------------------------------------------------------

ONBOARDING = {
    "rules_text": "Be kind.",
    "interests": [{"id": 1, "label": "Python"}, {"id": 2, "label": "Design"}],
    "starter_role": "starter",
}


@pytest.mark.parametrize("slow_store", [False, True], ids=["", "slow_store"])
@pytest.mark.parametrize("where", GROUPS)
async def test_join_greeting_deep_link_private_flow_and_perk(
    fake: FakeTelegram, where: Group, slow_store: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = where.texts
    bob = int(where.bob["id"])
    async with running(fake, [Onboarding], perk_chat_id=PERK_CHAT) as app:
        await prepare(app, where, onboarding=ONBOARDING)
        if slow_store:
            # a busy database (a pool on PostgreSQL): the record of which community a private
            # message belongs to commits after the member already pressed its button
            real = app.db.kv_set

            async def kv_set(namespace: str, key: str, value: object) -> None:
                if namespace == "telegram.private":
                    await asyncio.sleep(1.0)
                await real(namespace, key, value)

            monkeypatch.setattr(app.db, "kv_set", kv_set)
        fake.push(fake.my_chat_member_update(where.chat, where.admin, "left", "administrator"))
        await sent_to(fake, where.chat_id)  # the setup note
        fake.push(fake.chat_member_update(where.chat, where.bob, "left", "member"))
        greeting = await sent_to(fake, where.chat_id, texts["welcome"])
        assert "reply_markup" not in greeting.params

        # Bob never started the bot: the rules go to the group as a deep link.
        fallback = await sent_to(fake, where.chat_id, where=has_button(texts["accept"]))
        url = button(fallback, texts["accept"])["url"]
        assert url.startswith("https://t.me/majlis_bot?start=")
        assert fake.calls_of("sendMessage", lambda c: not c.ok and chat_of(c) == bob)

        fake.push(fake.start_update(where.bob, url.split("start=", 1)[1]))
        if texts["thanks_rules"]:
            await sent_to(fake, bob, texts["thanks_rules"])
        picker = await sent_to(fake, bob, where=has_button("Python"))
        assert button(picker, texts["done"])
        fake.push(fake.callback_query_update(where.bob, picker.result,
                                             button(picker, "Python")["callback_data"]))
        redrawn = await fake.wait_for_call(
            "editMessageText", lambda c: c.ok and chat_of(c) == bob and has_button("✅ Python")(c))
        assert int(redrawn.params["message_id"]) == picker.result["message_id"]
        fake.push(fake.callback_query_update(where.bob, picker.result,
                                             button(picker, texts["done"])["callback_data"]))
        await answered(fake, texts["saved"])
        await sent_to(fake, bob, texts["all_set"])

        # The starter role falls back to a badge in the group and a single-use perk invite.
        links = [c for c in fake.calls_of("createChatInviteLink", lambda c: c.ok)
                 if int(c.params["chat_id"]) == PERK_CHAT]
        assert links and all(int(c.params["member_limit"]) == 1 for c in links)
        label = str(links[-1].params["name"])
        badge = await sent_to(fake, where.chat_id, label, where=lambda c: texts["badge"]
                              in text_of(c))
        assert texts["invite_sent"] in text_of(badge)
        invite = await sent_to(fake, bob, links[-1].result["invite_link"])
        assert texts["perk"] in text_of(invite)
        await quiet(app)
        async with app.db.connect() as conn:
            row = (await conn.execute(select(members).where(
                members.c.community == where.community.key, members.c.member == str(bob))
            )).one()
            picked = (await conn.execute(select(interests.c.interest).where(
                interests.c.community == where.community.key))).scalars().all()
        assert row.completed_at is not None and list(picked) == [1]


# -- contributions -----------------------------------------------------------------------

CONTRIBUTIONS = {"xp_per_message": 60, "cooldown_seconds": 0, "role_rewards": "level:1=7"}


@pytest.mark.parametrize("where", GROUPS)
async def test_xp_kudos_level_reward_rank_and_leaderboard(
    fake: FakeTelegram, where: Group
) -> None:
    texts = where.texts
    alice = where.admin
    async with running(fake, [Contributions], perk_chat_id=PERK_CHAT) as app:
        await prepare(app, where, contributions=CONTRIBUTIONS)
        fake.push(fake.message_update(where.chat, alice, "hello everyone, glad to be here"))
        await sent_to(fake, where.chat_id, texts["badge"])  # first words
        fake.push(fake.message_update(where.chat, where.bob, texts["thank"]))
        thanked = await sent_to(fake, where.chat_id, texts["thanked"])
        assert str(alice["first_name"]) in text_of(thanked)
        fake.push(fake.message_update(where.chat, alice, "here is the summary of the meeting"))
        level = await sent_to(fake, where.chat_id, texts["level"])
        assert str(alice["first_name"]) in text_of(level)

        links = await fake.wait_for_call(
            "createChatInviteLink",
            lambda c: c.ok and any(d in str(c.params.get("name", "")) for d in "1١"))
        assert int(links.params["member_limit"]) == 1
        label = str(links.params["name"])
        await sent_to(fake, where.chat_id, label, where=lambda c: texts["badge"] in text_of(c))

        fake.push(fake.message_update(where.chat, alice, "/rank"))
        rank = await sent_to(fake, where.chat_id, texts["rank"])
        assert str(alice["first_name"]) in text_of(rank)
        await sent_to(fake, where.chat_id, method="sendPhoto")
        fake.push(fake.message_update(where.chat, alice, "/leaderboard"))
        board = await sent_to(fake, where.chat_id, texts["top"])
        lines = text_of(board).splitlines()
        assert str(alice["first_name"]) in lines[1] and str(where.bob["first_name"]) in lines[2]
        assert arabic(text_of(board)) == (where.language == "ar")
