"""The contributions plugin on the console: XP rules, kudos, levels, badges, rewards, privacy."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import ContributionMade, MemberRef, MessageDeleted, MessageEdited, MessagePosted
from bot.core.events import internal_id
from plugins.admin import Admin
from plugins.contributions import Contributions, levels
from tests.conftest import ROOT, ConsoleWorld


async def make(world_factory: Any, **settings: Any) -> ConsoleWorld:
    world: ConsoleWorld = await world_factory([Contributions, Admin], **settings)
    return world


def plugin(world: ConsoleWorld) -> Contributions:
    found = world.app.plugins["contributions"]
    assert isinstance(found, Contributions)
    return found


async def xp_of(world: ConsoleWorld, name: str) -> int:
    contributions = plugin(world)
    await contributions.flush()
    state = contributions._communities[world.console.community.key]
    return state.members[name].total if name in state.members else 0


def test_curves() -> None:
    assert [levels.step("quadratic", n) for n in range(3)] == [100, 155, 220]
    assert levels.threshold("quadratic", 2) == 255
    assert levels.level_for("quadratic", 254) == 1
    assert levels.level_for("quadratic", 255) == 2
    assert levels.level_for("linear", 250) == 2
    assert levels.level_for("flat", 999) == 9
    assert levels.progress("flat", 250) == (2, 50, 100)


def test_levels_match_the_steps_up_to_the_last_level() -> None:
    for curve in ("quadratic", "linear", "flat"):
        total = 0
        for level in range(levels.MAX_LEVEL + 1):
            assert levels.threshold(curve, level) == total
            assert levels.level_for(curve, total - 1) == max(level - 1, 0)
            assert levels.level_for(curve, total) == level
            total += levels.step(curve, level)
        assert levels.threshold(curve, levels.MAX_LEVEL + 1) == total
        assert levels.level_for(curve, total * 10) == levels.MAX_LEVEL  # never beyond
    assert levels.level_for("quadratic", -50) == 0


async def test_xp_cooldown_length_and_anti_farming(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as sara", "hello everyone", "hello everyone", "short")
    assert await xp_of(world, "sara") == 15  # cooldown
    await world.play(":advance 2m", "hello everyone")
    assert await xp_of(world, "sara") == 15  # a text that earned already (issue 15)
    await world.play(":advance 2m", "Hello everyone")
    assert await xp_of(world, "sara") == 15  # identical text
    await world.play(":advance 2m", "hi")
    assert await xp_of(world, "sara") == 15  # too short
    await world.play("something new to say")
    assert await xp_of(world, "sara") == 30
    await world.play(":advance 2m", "and now for something else", ":advance 2m",
                     "something new to say")
    assert await xp_of(world, "sara") == 45  # alternating two texts farms nothing


async def test_duplicates_edits_and_deletions_mint_nothing(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as sara")
    console = world.console
    member = console.members["sara"]
    posted = MessagePosted(id="dup-1", community=console.community, member=member,
                           channel=console.channel, message_id="x1", text="a first message")
    await world.app.dispatcher.dispatch(posted)
    await world.app.dispatcher.dispatch(posted)
    replay = MessagePosted(id="dup-2", community=console.community, member=member,
                           channel=console.channel, message_id="x1", text="a first message",
                           at=world.clock.now() + timedelta(hours=1))
    await world.app.dispatcher.dispatch(replay)
    await world.app.dispatcher.dispatch(MessageEdited(
        id="e1", community=console.community, member=member, channel=console.channel,
        message_id="x1", text="edited text here"))
    await world.app.dispatcher.dispatch(MessageDeleted(
        id="d1", community=console.community, channel=console.channel, message_id="x1"))
    await world.app.settle()
    assert await xp_of(world, "sara") == 15


async def test_kudos_in_both_languages_cap_and_no_self(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.app.set_setting(plugin(world), world.console.community, "kudos_daily_cap", 2,
                                translator=world.app.translator("core", "en",
                                                                world.console.community))
    lines = await world.play(":as omar", "hi there all", ":as sara", "thanks @omar for that",
                             "شكرا @omar", "/kudos @omar once more", "/kudos @sara")
    bot = world.bot_lines(lines)
    assert "Majlis: 💛 sara thanked @omar (karma: 1)" in bot
    assert "Majlis: 💛 sara thanked @omar (karma: 2)" in bot
    assert any("You can give 2 kudos a day" in line for line in bot)
    assert any("You cannot give kudos to yourself." in line for line in bot)
    assert await xp_of(world, "omar") == 15 + 20


async def test_level_up_with_role_reward_and_retry(world_factory: Any) -> None:
    world = await make(world_factory)
    lines = await world.play(
        "/config contributions role_rewards level:1=vip,badge:helper=helper",
        ":as sara", "hello to everyone", ":as owner", "/award @sara 90 ran the meetup",
        "/rewards_retry")
    bot = world.bot_lines(lines)
    assert "Majlis: 🎉 @sara reached level 1!" in bot
    assert "Majlis: (badge for sara: Level 1)" in bot
    assert "Majlis: Granting 1 role reward again." in bot
    assert "Level 1" in world.console.rewards["sara"]


async def test_reactions_capped_and_contribution_events(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as sara", "my very first words", ":advance 2m",
                     "a message worth liking", ":as omar", ":react 👍", ":react 👍")
    assert await xp_of(world, "sara") == 30 + 2
    console = world.console
    sara = console.members["sara"]
    for _ in range(5):
        await world.app.dispatcher.dispatch(ContributionMade(
            id=internal_id("attended"), community=console.community, member=sara,
            kind="event_attended"))
    await world.app.dispatcher.dispatch(ContributionMade(
        id=internal_id("adopted"), community=console.community, member=sara,
        kind="suggestion_adopted"))
    for _ in range(100):  # the outbox may still hold the last post for a moment
        await world.app.settle()
        if "“Idea adopted”!" in "\n".join(console.transcript):
            break
        await asyncio.sleep(0.01)
    assert await xp_of(world, "sara") == 32 + 5 * 20 + 50
    transcript = "\n".join(console.transcript)
    assert "earned the badge “Event regular”" in transcript
    assert "earned the badge “Idea adopted”" in transcript, transcript


async def test_rank_card_leaderboard_and_optout(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as sara", "hello from sara", ":as omar", "hello from omar too")
    lines = await world.play(":as sara", "/rank", "/leaderboard week", "/leaderboard_optout",
                             "/leaderboard all")
    bot = world.bot_lines(lines)
    assert any(line.startswith("Majlis: sara: level 0, 15 XP, rank #1 (image: rank.png")
               for line in bot)
    text = "\n".join(bot)
    assert "1. omar — 15 XP" in text.split("Top contributors of all time")[1]
    assert "sara" not in text.split("Top contributors of all time")[1]


async def test_arabic_card_renders() -> None:
    from plugins.contributions.card import CardData, render_card

    png = render_card(CardData("سارة", "المستوى 1", "الترتيب #1", "5 / 155", "أولى الكلمات",
                               0.3), rtl=True)
    assert png.startswith(b"\x89PNG")


async def test_streak_badge_and_spotlight(world_factory: Any) -> None:
    world = await make(world_factory)
    script = [":as sara"]
    for day in range(7):
        script += [f"message number {day} today", ":advance 1d"]
    lines = await world.play(*script)
    text = "\n".join(lines)
    assert "earned the badge “7-day streak”" in text
    assert "This week's spotlight" in text


async def test_export_and_forget(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as omar", "hi there all", ":as sara", "thanks @omar for this")
    sara = MemberRef("console", "sara")
    data = await plugin(world).export(sara)
    assert data["xp"] and data["kudos"] and data["badges"]
    await plugin(world).forget(sara)
    data = await plugin(world).export(sara)
    assert not any(data.values())


HARD_KILL = textwrap.dedent("""
    import asyncio, sys
    from datetime import timedelta
    from bot.app import App
    from bot.core.clock import ManualClock
    from bot.core.events import MessagePosted
    from bot.core.refs import ChannelRef, CommunityRef, MemberRef
    from plugins.contributions import Contributions
    from tests.conftest import make_settings

    async def main() -> None:
        clock = ManualClock()
        app = App(make_settings(database_url="sqlite+aiosqlite:///" + sys.argv[1]),
                  clock=clock, plugins=[Contributions])
        await app.start(connect=False)
        community = CommunityRef("console", "local")
        channel = ChannelRef("console", "general")
        for i in range(300):
            member = MemberRef("console", f"m{i % 7}", f"m{i % 7}")
            await app.dispatcher.dispatch(MessagePosted(
                id=f"e{i}", community=community, member=member, channel=channel,
                message_id=f"x{i}", text=f"message number {i}",
                at=clock.now() + timedelta(seconds=61 * i)))
        await app.settle()
        await app.plugins["contributions"].flush()
        print("flushed", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


def test_hard_kill_keeps_flushed_xp_and_database_intact(tmp_path: Path) -> None:
    db = tmp_path / "kill.db"
    proc = subprocess.Popen([sys.executable, "-c", HARD_KILL, str(db)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "flushed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        totals = dict(conn.execute(
            "SELECT member, SUM(xp) FROM contributions_xp_daily GROUP BY member").fetchall())
    # 300 messages, 61 s apart, distinct texts: every one earns 15 XP.
    expected = {f"m{k}": 15 * sum(1 for i in range(300) if i % 7 == k) for k in range(7)}
    assert totals == expected


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_a_second_open_of_the_same_community_keeps_what_the_first_counted(
    world_factory: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await make(world_factory)
    await world.play(":as sara", "a first message that counts for sure")
    contributions = plugin(world)
    community = world.console.community
    earned = await xp_of(world, "sara")
    assert earned > 0
    contributions._communities.pop(community.key)  # as before the community opened
    real = contributions.store.load
    gates = [asyncio.Event(), asyncio.Event()]
    calls: list[int] = []

    async def load(*args: Any) -> Any:
        mine = gates[len(calls)]  # the first call waits for the first gate, and so on
        calls.append(1)
        state = await real(*args)
        await mine.wait()
        return state

    monkeypatch.setattr(contributions.store, "load", load)
    first = asyncio.create_task(contributions.open(community))
    second = asyncio.create_task(contributions.open(community))  # a command's _state
    await asyncio.sleep(0.05)
    gates[0].set()
    await first
    await world.play(":as sara", "and a second one, long enough to earn more")
    counted = contributions._communities[community.key].members["sara"].total
    assert counted > earned
    gates[1].set()
    await second
    # the later load (from the database, before this message was flushed) is dropped
    assert contributions._communities[community.key].members["sara"].total == counted
