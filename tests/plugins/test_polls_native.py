"""Native polls: votes arrive as PollAnswered and count like button votes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import Limits, ManualClock, MemberRef, NativePollLimits
from bot.app import App
from bot.core.actions import Action, EditMessage, SendMessage, SendPoll
from bot.core.capabilities import Capability
from bot.core.commands import Kind
from bot.core.events import CommandInvoked, ContributionMade, PollAnswered
from bot.core.platform import Delivered
from bot.core.privilege import Privilege
from bot.core.ratelimit import RateProfile
from bot.core.refs import ChannelRef, CommunityRef
from plugins.polls import Polls
from plugins.polls.tables import ballots, polls
from tests.conftest import make_settings

COMMUNITY = CommunityRef("native", "g1")
CHANNEL = ChannelRef("native", "c1", "general")
ADMIN = MemberRef("native", "admin", "Admin")
SARA = MemberRef("native", "sara", "Sara")
OMAR = MemberRef("native", "omar", "Omar")


class NativePlatform:
    """A tiny platform with native polls: records actions; a poll's id is ``poll-N``."""

    name = "native"
    capabilities = frozenset({Capability.NATIVE_POLLS, Capability.EDIT_MESSAGES})

    def __init__(self, limits: Limits | None = None) -> None:
        self.rate_profile = RateProfile("native", (), 4)
        self.actions: list[Action] = []
        if limits is not None:
            self.limits = limits

    async def start(self, app: App) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, action: Action, reply_handle: Any = None) -> Delivered:
        self.actions.append(action)
        if isinstance(action, SendPoll):
            return Delivered(f"poll-{len(self.actions)}")
        return Delivered(f"m{len(self.actions)}")

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        return Privilege.ADMIN if member.id == ADMIN.id else Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Kind, token: str) -> Any:
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        return CHANNEL

    def texts(self) -> list[str]:
        return [str(a.content.text) for a in self.actions if isinstance(a, SendMessage)]


@pytest.fixture
async def world() -> AsyncIterator[tuple[App, NativePlatform]]:
    platform = NativePlatform()
    app = App(make_settings(), clock=ManualClock(), platforms=[platform], plugins=[Polls])
    await app.start()
    await app.register_community(COMMUNITY)
    try:
        yield app, platform
    finally:
        await app.stop()


_ids = iter(range(1, 1_000_000))


async def create(app: App, **options: Any) -> None:
    """``/poll`` with native=yes; an option given as None is left out."""
    given = {"question": "Lunch?", "options": "Rice | Fish | Soup", "duration": "1h",
             "native": True, **options}
    await app.dispatcher.dispatch(CommandInvoked(
        id=f"cmd:{next(_ids)}", community=COMMUNITY, member=ADMIN, channel=CHANNEL, name="poll",
        options={k: v for k, v in given.items() if v is not None},
    ))
    await app.settle()


async def answer(app: App, member: MemberRef, poll_id: str, *options: int) -> None:
    await app.dispatcher.dispatch(PollAnswered(
        id=f"vote:{next(_ids)}", community=COMMUNITY, member=member, poll_id=poll_id,
        options=options,
    ))
    await app.settle()


async def ballot_rows(app: App) -> list[tuple[str, int]]:
    async with app.db.connect() as conn:
        rows = await conn.execute(select(ballots.c.voter, ballots.c.option).order_by(
            ballots.c.voter, ballots.c.option))
        return [(r.voter, r.option) for r in rows]


def the_poll(platform: NativePlatform) -> tuple[str, SendPoll]:
    for i, action in enumerate(platform.actions, 1):
        if isinstance(action, SendPoll):
            return f"poll-{i}", action
    raise AssertionError("no native poll was sent")


async def test_native_votes_change_withdraw_and_count_in_the_results(
    world: tuple[App, NativePlatform],
) -> None:
    app, platform = world
    await create(app)
    poll_id, sent = the_poll(platform)
    assert sent.question == "Lunch?" and sent.options == ("Rice", "Fish", "Soup")
    assert "Your native poll is posted." in platform.texts()

    await answer(app, SARA, poll_id, 0)
    await answer(app, OMAR, poll_id, 1)
    await answer(app, SARA, poll_id, 1)      # changed her mind
    await answer(app, SARA, poll_id, 1)      # the same answer again: no harm
    await answer(app, OMAR, poll_id)         # withdrawn
    await answer(app, OMAR, poll_id, 2)
    await answer(app, OMAR, "another-poll", 0)  # not ours: ignored
    await answer(app, OMAR, poll_id, 7)      # no such option: withdrawn, nothing stored
    await answer(app, OMAR, poll_id, 2)
    assert await ballot_rows(app) == [("omar", 2), ("sara", 1)]
    async with app.db.connect() as conn:
        assert (await conn.execute(select(polls.c.native_id))).scalar_one() == poll_id

    await app.scheduler.advance(timedelta(hours=1, minutes=1))
    await app.settle()
    results = platform.texts()[-1]
    assert "Poll #1 is closed" in results
    assert "2 members voted." in results
    assert "Fish — 1 vote (50%)" in results and "Soup — 1 vote (50%)" in results
    assert not any(isinstance(a, EditMessage) for a in platform.actions)


async def test_an_anonymous_native_poll_stores_no_member_ids(
    world: tuple[App, NativePlatform],
) -> None:
    app, platform = world
    await create(app, anonymous=True, multiple=2)
    poll_id, sent = the_poll(platform)
    assert sent.anonymous and sent.multiple
    await answer(app, SARA, poll_id, 0, 2)
    await answer(app, OMAR, poll_id, 0, 1, 2)  # more than allowed: the first two count
    voters = {voter for voter, _ in await ballot_rows(app)}
    assert len(voters) == 2 and not voters & {"sara", "omar"}
    assert sorted(o for _, o in await ballot_rows(app)) == [0, 0, 1, 2]


async def test_votes_after_the_close_are_ignored(world: tuple[App, NativePlatform]) -> None:
    app, platform = world
    await create(app)
    poll_id, _ = the_poll(platform)
    await answer(app, SARA, poll_id, 0)
    await app.scheduler.advance(timedelta(hours=2))
    await app.settle()
    await answer(app, OMAR, poll_id, 1)
    assert await ballot_rows(app) == [("sara", 0)]


#: A platform whose native polls last at most ten minutes and hide anonymous votes from bots.
SHORT = Limits(native_poll=NativePollLimits(
    max_options=12, max_option_length=100, max_question_length=300,
    max_duration=timedelta(seconds=600), anonymous_votes_visible=False,
))


@pytest.fixture
async def short() -> AsyncIterator[tuple[App, NativePlatform]]:
    platform = NativePlatform(SHORT)
    app = App(make_settings(), clock=ManualClock(), platforms=[platform], plugins=[Polls])
    await app.start()
    await app.register_community(COMMUNITY)
    try:
        yield app, platform
    finally:
        await app.stop()


async def poll_count(app: App) -> int:
    async with app.db.connect() as conn:
        return len((await conn.execute(select(polls.c.id))).all())


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"duration": None},  # the default: 72 hours
         "A native poll here can stay open at most 10 minutes, and this one would stay open "
         "3 days. Give a shorter duration (like duration=10m), or leave out native=yes"),
        ({"duration": "1h"}, "at most 10 minutes, and this one would stay open 1 hour."),
        ({"duration": "5m", "anonymous": True},
         "The bot cannot see the votes of an anonymous native poll here, so it could not count "
         "them. Leave out anonymous=yes for a public native poll, or leave out native=yes"),
        ({"duration": "5m", "options": " | ".join(f"o{i}" for i in range(13))},
         "Native polls here allow at most 12 options of up to 100 characters"),
    ],
)
async def test_what_the_platform_cannot_hold_is_refused_before_anything_is_posted(
    short: tuple[App, NativePlatform], options: dict[str, Any], said: str,
) -> None:
    app, platform = short
    await create(app, **options)
    assert not any(isinstance(a, SendPoll) for a in platform.actions)
    assert await poll_count(app) == 0
    assert not any("posted" in text for text in platform.texts())
    assert [t for t in platform.texts() if said in t], platform.texts()


async def test_a_short_public_native_poll_is_posted_and_counted(
    short: tuple[App, NativePlatform],
) -> None:
    app, platform = short
    await create(app, duration="10m")
    poll_id, sent = the_poll(platform)
    assert sent.duration == timedelta(minutes=10) and not sent.anonymous
    assert "Your native poll is posted." in platform.texts()
    await answer(app, SARA, poll_id, 2)
    await app.scheduler.advance(timedelta(minutes=11))
    await app.settle()
    assert "1 member voted." in platform.texts()[-1]


async def test_a_native_vote_is_reported_as_a_contribution_once(
    world: tuple[App, NativePlatform], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.plugins.test_polls import record_plugin_emits

    app, platform = world
    reported = record_plugin_emits(app.plugins["polls"], monkeypatch)
    await create(app)
    poll_id, _ = the_poll(platform)
    await answer(app, SARA, poll_id, 0)
    await answer(app, SARA, poll_id, 1)   # changed her mind
    await answer(app, SARA, poll_id)      # withdrawn
    await answer(app, SARA, poll_id, 2)   # and back: still her one vote in this poll
    await answer(app, OMAR, poll_id)      # an empty answer is no vote
    votes = [(e.member.id, e.kind, e.ref) for e in reported if isinstance(e, ContributionMade)]
    assert votes == [("sara", "poll_voted", "poll:1")]


async def test_a_members_answers_are_applied_in_the_order_they_came(
    world: tuple[App, NativePlatform], monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, platform = world
    await create(app)
    poll_id, _ = the_poll(platform)
    store = app.plugins["polls"].store  # type: ignore[attr-defined]
    real = store.native_poll
    reads = 0

    async def first_read_slow(*args: Any) -> Any:
        nonlocal reads
        reads += 1
        if reads == 1:  # as a busy connection of a pool would be
            await asyncio.sleep(0.05)
        return await real(*args)

    monkeypatch.setattr(store, "native_poll", first_read_slow)
    for options in ((0,), ()):  # she picks Rice, then takes it back at once
        await app.dispatcher.dispatch(PollAnswered(
            id=f"vote:{next(_ids)}", community=COMMUNITY, member=SARA, poll_id=poll_id,
            options=options))
    await app.settle()
    assert await ballot_rows(app) == []  # her last answer: no vote
