"""The polls plugin on the console: members vote, change their minds, and see the result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import ButtonPressed, ChannelRef, Event, ManualClock, MemberRef, PollClosed
from bot.adapters.console import PLATFORM
from plugins.polls import Polls, Vote, Withdraw, split_options, voter_key
from plugins.polls.chart import bar_chart, visual
from plugins.polls.rules import Seen, usual_voices
from plugins.polls.tables import ballots, polls
from tests.conftest import ConsoleWorld, WorldFactory

CREATE = '/poll "Where shall we meet?" "Cafe | Park | Library" duration=2d'


def plugin_of(world: ConsoleWorld) -> Polls:
    found = world.app.plugins["polls"]
    assert isinstance(found, Polls)
    return found


def record_emits(world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """Keep every event the plugin emits (and still dispatch it)."""
    return record_plugin_emits(plugin_of(world), monkeypatch)


def record_plugin_emits(plugin: Any, monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """Keep every event ``plugin`` emits (and still dispatch it)."""
    seen: list[Event] = []
    real = plugin.emit

    async def emit(event: Event) -> None:
        seen.append(event)
        await real(event)

    monkeypatch.setattr(plugin, "emit", emit)
    return seen


async def poll_row(world: ConsoleWorld, poll_id: int = 1) -> Any:
    async with world.app.db.connect() as conn:
        return (await conn.execute(select(polls).where(polls.c.id == poll_id))).one()


async def ballot_rows(world: ConsoleWorld, poll_id: int = 1) -> list[Any]:
    async with world.app.db.connect() as conn:
        return list((await conn.execute(select(ballots).where(ballots.c.poll == poll_id))).all())


def test_options_split_on_bars_and_semicolons() -> None:
    assert split_options("Cafe | Park|  ; Library") == ["Cafe", "Park", "Library"]
    assert split_options("مقهى؛ حديقة") == ["مقهى", "حديقة"]


async def test_create_vote_change_withdraw_and_close(
    world_factory: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await world_factory([Polls])
    emitted = record_emits(world, monkeypatch)
    await world.play(":as sara", "hello", ":as omar", "hi", ":as lina", ":as owner")
    lines = world.bot_lines(await world.play(CREATE))
    assert any("Where shall we meet? (poll #1)" in line for line in lines)
    assert any("[1 Cafe] [2 Park] [3 Library] [4 Withdraw my vote]" in line for line in lines)
    lines = world.bot_lines(await world.play(":as sara", ":press 1"))
    assert "Majlis: (only sara sees) Your vote for “Cafe” is counted." in lines
    assert any("1. Cafe — 1 vote (100%)" in line for line in lines)
    lines = world.bot_lines(await world.play(":press 1"))
    assert lines == ["Majlis: (only sara sees) You already chose “Cafe”."]
    lines = world.bot_lines(await world.play(":as omar", ":press 2", ":press 3"))
    assert "Majlis: (only omar sees) You changed your vote to “Library”." in lines
    lines = world.bot_lines(await world.play(":as lina", ":press 4", ":press 3"))
    assert "Majlis: (only lina sees) You have not voted in this poll." in lines
    lines = world.bot_lines(await world.play(":as lina", ":press 4"))
    assert "Majlis: (only lina sees) Your vote is withdrawn." in lines
    await world.play(":press 3")
    lines = await world.play(":advance 3d")
    text = "\n".join(lines)
    assert "Poll #1 is closed: Where shall we meet?" in text
    assert "3. Library — 2 votes (67%)" in text
    assert "Winner: Library." in text
    assert "(image: poll-1.png" in text
    assert "Reach: 100% of voters joined in the last 30 days" in text
    closed = [e for e in emitted if isinstance(e, PollClosed)]
    assert len(closed) == 1
    event = closed[0]
    assert event.options == (("Cafe", 1), ("Park", 0), ("Library", 2))
    assert event.winners == ("Library",) and not event.tie and event.voters == 3
    assert event.newcomer_share == 1.0
    # the closed poll has no buttons any more; an old press (another client) is refused
    assert "(only lina sees)" not in world.bot_lines(await world.play(":press 1"))
    start = len(world.console.transcript)
    await world.app.dispatcher.dispatch(ButtonPressed(
        id="late", community=world.console.community, member=world.console.members["lina"],
        channel=ChannelRef(PLATFORM, "general"), message_id="m1", payload=Vote(1, 0)))
    await world.app.settle()
    assert world.bot_lines(world.console.transcript[start:]) == [
        "Majlis: (only lina sees) Poll #1 is closed."]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('/poll "Q?" "Only one"', "A poll needs 2 to 20 options"),
        ('/poll "Q?" "' + " | ".join(f"o{i}" for i in range(21)) + '"', "You gave 21."),
        ('/poll "Q?" "Tea | tea"', "“tea” appears twice"),
        ('/poll "' + "x" * 301 + '?" "A | B"', "at most 300 characters"),
        ('/poll "Q?" "A | ' + "b" * 101 + '"', "Each option can be at most 100 characters"),
        ('/poll "Q?" "A | B" until=2020-01-01', "must close in the future"),
        ('/poll "Q?" "A | B" multiple=3', "at most the number of options: 2"),
        ('/poll "Q?" "A | B" duration=soon', "is not a duration"),
    ],
)
async def test_bad_input_is_refused_with_what_is_allowed(
    world_factory: WorldFactory, line: str, expected: str
) -> None:
    world = await world_factory([Polls])
    lines = world.bot_lines(await world.play(line))
    assert len(lines) == 1 and expected in lines[0], lines
    async with world.app.db.connect() as conn:
        assert (await conn.execute(select(polls))).first() is None


async def test_members_cannot_create_polls_unless_allowed(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    lines = world.bot_lines(await world.play(":as sara", CREATE))
    assert lines == ["Majlis: (only sara sees) Only admins can create polls here."]


async def test_native_poll_falls_back_to_buttons_on_the_console(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    lines = world.bot_lines(await world.play(CREATE + " native=yes"))
    assert lines[0] == ("Majlis: (only owner sees) This platform has no native polls, so I made "
                        "a poll with buttons.")
    assert "[1 Cafe]" in lines[1]


async def test_a_thousand_concurrent_votes_are_all_counted_once(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    # a file database, as in production: the in-memory test database shares one
    # connection between concurrent transactions (see the plugin README)
    world = await world_factory([Polls], database_url=f"sqlite+aiosqlite:///{tmp_path / 'v.db'}")
    await world.play(CREATE)
    community = world.console.community
    channel = ChannelRef(PLATFORM, "general")
    presses = [
        ButtonPressed(
            id=f"load:{i}", community=community, member=MemberRef(PLATFORM, f"m{i}", f"m{i}"),
            channel=channel, message_id="m1", payload=Vote(1, i % 3),
        )
        for i in range(1000)
    ]
    # the same members press the same buttons again (new presses, not replays)
    presses += [
        ButtonPressed(
            id=f"again:{i}", community=community, member=MemberRef(PLATFORM, f"m{i}", f"m{i}"),
            channel=channel, message_id="m1", payload=Vote(1, i % 3),
        )
        for i in range(0, 1000, 10)
    ]
    await asyncio.gather(*(world.app.dispatcher.dispatch(p) for p in presses))
    await world.app.settle()
    rows = await ballot_rows(world)
    assert len(rows) == 1000
    assert len({r.voter for r in rows}) == 1000
    counts = [sum(1 for r in rows if r.option == o) for o in range(3)]
    assert counts == [334, 333, 333]
    assert world.app.dispatcher.error_count("polls") == 0


async def test_multiple_choice_has_a_maximum(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    await world.play(CREATE + " multiple=2")
    lines = world.bot_lines(await world.play(":as sara", ":press 1", ":press 2", ":press 3"))
    assert ("Majlis: (only sara sees) You can choose at most 2 options. Withdraw your vote to "
            "choose again.") in lines
    assert sorted(r.option for r in await ballot_rows(world)) == [0, 1]


async def test_anonymous_votes_cannot_be_tied_back_after_forget_or_close(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(CREATE + " anonymous=yes")
    await world.play(":as sara", ":press 2", ":as omar", ":press 1")
    row = await poll_row(world)
    assert row.salt is not None
    voters = {r.voter for r in await ballot_rows(world)}
    assert not voters & {"sara", "omar"}
    assert voter_key(row.salt, "sara") in voters
    sara = world.console.members["sara"]
    await world.app.forget_member(sara)
    rows = await ballot_rows(world)
    assert len(rows) == 2  # her vote still counts...
    assert voter_key(row.salt, "sara") not in {r.voter for r in rows}  # ...but is not hers
    export = await world.app.export_member(world.console.members["omar"])
    assert export["polls"]["votes"] == []
    await world.play(":as owner", "/poll_close 1")
    assert (await poll_row(world)).salt is None


async def test_public_votes_are_exported_and_forgotten(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    await world.play(CREATE, ":as sara", "hi", ":press 3", "/poll_remind on")
    sara = world.console.members["sara"]
    data = (await world.app.export_member(sara))["polls"]
    assert data["votes"] == [{"poll": 1, "question": "Where shall we meet?", "option": "Library"}]
    assert data["activity"][0]["messages"] == 1
    assert data["reminders"] == ["console:local"]
    await world.app.forget_member(sara)
    assert await ballot_rows(world) == []
    assert (await world.app.export_member(sara))["polls"] == {
        "votes": [], "activity": [], "reminders": [], "created": [], "templates": []}


async def test_hidden_results_only_admins_see_interim(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    lines = world.bot_lines(await world.play(CREATE + " hidden=yes"))
    assert any("Results are hidden until the poll closes." in line for line in lines)
    await world.play(":as sara", ":press 1")
    lines = world.bot_lines(await world.play("/poll_results 1"))
    assert lines == ["Majlis: (only sara sees) Results are hidden until the poll closes."]
    lines = world.bot_lines(await world.play(":as owner", "/poll_results 1"))
    assert lines[0].startswith("Majlis: (only owner sees) 🗳 Interim results of poll #1")
    assert "1. Cafe — 1 vote (100%)" in lines[0] + "\n".join(lines)


async def test_only_creator_or_admin_closes_and_only_once(
    world_factory: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await world_factory([Polls])
    emitted = record_emits(world, monkeypatch)
    await world.play(":as sara", ":as owner", CREATE)
    lines = world.bot_lines(await world.play(":as sara", "/poll_close 1"))
    assert lines == ["Majlis: (only sara sees) Only the poll's creator or an admin can close it."]
    plugin = plugin_of(world)
    community = world.console.community
    results = await asyncio.gather(*(plugin.close(community, 1) for _ in range(5)))
    await world.app.settle()
    assert results.count(True) == 1
    lines = await world.play(":advance 3d", ":as owner", "/poll_close 1")
    assert sum("Poll #1 is closed: Where" in line for line in world.console.transcript) == 1
    assert world.bot_lines(lines)[-1] == "Majlis: (only owner sees) Poll #1 is closed."
    assert len([e for e in emitted if isinstance(e, PollClosed)]) == 1


async def test_quorum_by_share_of_active_members(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    for name in ("a", "b", "c", "d"):
        await world.play(f":as {name}", "hello")
    await world.play(":as owner", CREATE + " quorum_percent=50", ":as a", ":press 1")
    text = "\n".join(await world.play(":advance 3d"))
    # four members posted in the last 30 days (commands are not messages): 50% is 2
    assert "Quorum not met: 1 voted, 2 needed; the result is not binding." in text
    assert "Winner: Cafe." in text


async def test_reach_counts_newcomers_and_voices_beyond_the_usual(
    world_factory: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    world = await world_factory([Polls], clock=clock)
    emitted = record_emits(world, monkeypatch)
    await world.play(":as old", *["busy day"] * 5)
    for name in ("p", "q", "r", "s", "t", "u", "v", "w", "x"):
        await world.play(f":as {name}", "hi")
    await world.play(":advance 40d", ":as new", "hello")
    await world.play(":as owner", CREATE, ":as old", ":press 1", ":as new", ":press 2",
                     ":as p", ":press 2", ":as q", ":press 3")
    await world.play(":advance 3d")
    event = next(e for e in emitted if isinstance(e, PollClosed))
    assert event.voters == 4
    assert event.newcomer_share == 0.25  # only "new" joined in the last 30 days
    assert event.beyond_usual_share == 0.75  # "old" is the most active 10%
    assert event.winners == ("Park",) and not event.tie


async def test_only_members_who_joined_before_may_vote_when_asked(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(":as sara", ":advance 1h", ":as owner", CREATE + " eligible=before_open",
                     ":advance 1m")
    lines = world.bot_lines(await world.play(":as zed", ":press 1"))
    assert lines == ["Majlis: (only zed sees) Only members who joined before the poll opened "
                     "can vote."]
    lines = world.bot_lines(await world.play(":as sara", ":press 1"))
    assert "Majlis: (only sara sees) Your vote for “Cafe” is counted." in lines


async def test_reminder_goes_to_opted_in_members_who_have_not_voted(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(":as sara", "/poll_remind on", ":as omar", "/poll_remind on",
                     ":as lina", ":as owner", CREATE, ":as omar", ":press 1")
    lines = world.bot_lines(await world.play(":advance 47h"))
    assert lines == [
        "Majlis: (DM to sara) Poll #1 “Where shall we meet?” closes "
        "Wed, January 7, 2026, 09:00 (UTC) and you have not voted yet."
    ]
    lines = world.bot_lines(await world.play(":as sara", "/poll_remind off"))
    assert lines == ["Majlis: (only sara sees) I will not remind you about polls."]


async def test_arabic_results_and_plurals(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls], language="ar")
    await world.play('/poll "أين نلتقي؟" "مقهى | حديقة" duration=1d')
    await world.play(":as سارة", ":press 1", ":as عمر", ":press 1", ":as ليلى", ":press 2")
    text = "\n".join(await world.play(":advance 2d"))
    assert "الفائز: مقهى." in text
    assert "صوتان" in text
    assert "(صورة: poll-1.png" in text


async def test_deadline_survives_a_restart_and_closes_once(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    clock = ManualClock()
    world = await world_factory([Polls], database_url=url, clock=clock)
    await world.play(CREATE, ":as sara", ":press 2")
    await world.app.stop()
    later = ManualClock(clock.now() + timedelta(days=3))
    again = await world_factory([Polls], database_url=url, clock=later)
    await again.app.settle()
    assert (await poll_row(again)).closed_at is not None
    assert sum("Poll #1 is closed" in line for line in again.console.transcript) == 1
    assert any("Winner: Park." in line for line in again.console.transcript)
    await again.play(":advance 3d")
    assert sum("Poll #1 is closed" in line for line in again.console.transcript) == 1


async def test_withdraw_and_vote_payloads_pack_small() -> None:
    assert Vote(12, 3).pack() == "polls.vote:12:3"
    assert len(Withdraw(123456).pack()) < 64


def test_chart_is_a_png_and_shapes_arabic() -> None:
    assert visual("Cafe", shapes_itself=False) == "Cafe"
    assert visual("مقهى", shapes_itself=True) == "مقهى"
    shaped = visual("مقهى", shapes_itself=False)
    assert shaped != "مقهى"
    assert all("\ufe70" <= char <= "\ufeff" for char in shaped)  # joined letter forms
    png = bar_chart("أين نلتقي؟", ["مقهى", "حديقة"], [2, 1], rtl=True, highlight=[0])
    assert png.startswith(b"\x89PNG")
    assert bar_chart("Q", ["A", "B"], [0, 0]).startswith(b"\x89PNG")


async def test_the_closed_poll_keeps_its_final_counts_and_winner(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(CREATE, ":as sara", ":press 3", ":as omar", ":press 3", ":as lina",
                     ":press 1")
    lines = await world.play(":advance 3d")
    edited = next(line for line in lines if "(edited" in line)
    assert "Where shall we meet? (poll #1) — closed." in edited
    assert "3. Library — 2 votes (67%)" in edited
    assert "3 members voted." in edited and "Winner: Library." in edited
    assert "[1 Cafe]" not in edited  # no buttons any more


async def test_the_open_poll_shows_its_quorum(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    for name in ("a", "b", "c", "d"):
        await world.play(f":as {name}", "hello")
    lines = world.bot_lines(await world.play(":as owner", CREATE + " quorum_percent=50"))
    # four members posted in the last 30 days: 50% is 2
    assert any("Quorum: 2 members must vote for the result to count." in line
               for line in lines)
    lines = world.bot_lines(await world.play('/poll "Tea?" "Yes | No" quorum=1'))
    assert any("Quorum: 1 member must vote for the result to count." in line for line in lines)
    lines = world.bot_lines(await world.play('/poll "Cake?" "Yes | No"'))
    assert not any("Quorum" in line for line in lines)


async def test_a_multiple_choice_voter_can_take_back_one_option(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(CREATE + " multiple=2", ":as sara", ":press 1", ":press 3")
    lines = world.bot_lines(await world.play(":press 1"))
    assert "Majlis: (only sara sees) You took back your vote for “Cafe”." in lines
    assert any("1. Cafe — 0 votes (0%)" in line and "3. Library — 1 vote (100%)" in line
               for line in lines)
    assert [r.option for r in await ballot_rows(world)] == [2]
    # in a single-choice poll a second press changes nothing
    await world.play(":as owner", '/poll "Tea?" "Yes | No"', ":as sara", ":press 1")
    lines = world.bot_lines(await world.play(":press 1"))
    assert lines == ["Majlis: (only sara sees) You already chose “Yes”."]


async def test_no_chart_is_posted_for_a_poll_nobody_voted_in(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(CREATE)
    text = "\n".join(await world.play(":advance 3d"))
    assert "Poll #1 is closed: Where shall we meet?" in text
    assert "No votes were cast." in text
    assert "(image:" not in text


def test_tied_members_share_a_rank_among_the_usual_voices() -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    members = {name: Seen(at, at, 1) for name in ("omar", "sara")}
    members.update({f"q{i}": Seen(at, None, 0) for i in range(8)})
    # ten members: the most active 10% is one member, but two posted the most, equally
    assert usual_voices(members) == {"omar", "sara"}
    renamed = {"zed" if k == "omar" else k: v for k, v in members.items()}
    assert usual_voices(renamed) == {"zed", "sara"}  # names never decide
    members["omar"] = Seen(at, at, 3)
    assert usual_voices(members) == {"omar"}
    assert usual_voices({f"q{i}": Seen(at, None, 0) for i in range(3)}) == set()


async def test_the_reminder_speaks_the_members_own_language(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(":as sara", "/poll_remind on", ":as owner", CREATE)
    # her own choice (as /language records it); the community speaks English
    await world.app.kernel.communities.set_member_language(
        world.console.community, world.console.members["sara"], "ar")
    lines = world.bot_lines(await world.play(":advance 47h"))
    assert len(lines) == 1 and lines[0].startswith("Majlis: (DM to sara) الاستطلاع رقم 1 «Where")


async def test_a_members_first_vote_in_a_poll_earns_the_vote_xp_once(
    world_factory: WorldFactory,
) -> None:
    from plugins.contributions import Contributions
    from plugins.polls.tables import credited

    world = await world_factory([Polls, Contributions])
    await world.play(":as sara", ":as owner", CREATE)

    async def xp() -> int:
        contributions = world.app.plugins["contributions"]
        await contributions.flush()
        state = contributions._communities[world.console.community.key]  # type: ignore[attr-defined]
        return state.members["sara"].total if "sara" in state.members else 0

    assert await xp() == 0
    await world.play(":as sara", ":press 1")
    assert await xp() == 5  # contributions' default weight for poll_voted
    lines = world.bot_lines(await world.play("/rank"))
    assert any("5 XP" in line for line in lines), lines
    # changing one's mind, withdrawing and voting again earn nothing more
    await world.play(":press 2", ":press 4", ":press 3")
    assert await xp() == 5
    await world.play(":as owner", '/poll "Tea or coffee?" "Tea | Coffee"', ":as sara", ":press 1")
    assert await xp() == 10  # a second poll is a second vote
    async with world.app.db.connect() as conn:
        assert len((await conn.execute(select(credited))).all()) == 2
    await world.app.plugins["polls"].forget(world.console.members["sara"])
    async with world.app.db.connect() as conn:
        assert (await conn.execute(select(credited))).all() == []
