"""What a community sees: names escaped once, its own language in public, fair kudos and awards.

Issues 11.5 and 11.6 (language of public posts, names escaped twice) and 15 (ties share a
rank, kudos capped per pair, /award 0 refused, corrections not announced, plural forms).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from plugins.contributions import render
from plugins.contributions.tables import awards
from tests.conftest import ConsoleWorld
from tests.plugins.test_contributions import make, xp_of


def said(world: ConsoleWorld, lines: list[str]) -> str:
    return "\n".join(world.bot_lines(lines))


async def test_leaderboard_and_spotlight_escape_names_once(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as ali_baba", "hello from the cave", ":as *star*", "twinkle twinkle")
    text = said(world, await world.play("/leaderboard"))
    assert "1. *star* — 15 XP" in text and "1. ali_baba — 15 XP" in text, text
    assert "\\" not in text
    lines = await world.play(":advance 7d")
    spotlight = said(world, lines).split("This week's spotlight", 1)[1]
    assert "🥇 *star* — 15 XP" in spotlight and "🥇 ali_baba — 15 XP" in spotlight, spotlight
    assert "🏅 ali_baba: First words" in spotlight
    assert "\\" not in spotlight


async def test_tied_members_share_a_place(world_factory: Any) -> None:
    world = await make(world_factory)
    await world.play(":as sara", "hello to everyone", ":advance 2m", "a second message here",
                     ":as omar", "hello from omar", ":as lina", "hello from lina",
                     ":as kim", "hello from kim")
    lines = world.bot_lines(await world.play(":as kim", "/leaderboard"))
    board = lines[-1].split("\n")
    assert board[1:] == ["1. sara — 30 XP", "2. kim — 15 XP", "2. lina — 15 XP",
                         "2. omar — 15 XP"]
    spotlight = said(world, await world.play(":advance 7d")).split("spotlight", 1)[1]
    assert "🥇 sara — 30 XP" in spotlight
    assert all(f"🥈 {name} — 15 XP" in spotlight for name in ("kim", "lina", "omar"))


async def test_public_notes_speak_the_communitys_language(world_factory: Any) -> None:
    world = await make(world_factory)
    lines = await world.play(":as omar", "hi there all", ":as sara", ":lang ar",
                             "thanks @omar for everything", "/kudos @omar again",
                             "/kudos @sara")
    bot = world.bot_lines(lines)
    assert "Majlis: 💛 sara thanked @omar (karma: 1)" in bot
    assert "Majlis: 💛 sara gave kudos to @omar: again (karma: 2)" in bot
    assert "Majlis: (only sara sees) لا يمكنك أن تمنح نفسك إشادة." in bot


async def test_kudos_to_the_same_member_are_capped_per_day(world_factory: Any) -> None:
    world = await make(world_factory)
    lines = await world.play(":as omar", "hi there all", ":as lina", "hello from lina",
                             ":as sara", "thanks @omar", "thanks again @omar",
                             "/kudos @omar one more", "/kudos @lina for the notes")
    bot = world.bot_lines(lines)
    assert "Majlis: 💛 sara thanked @omar (karma: 2)" in bot
    assert ("Majlis: (only sara sees) You already thanked omar 2 times today; try again "
            "tomorrow.") in bot
    assert "Majlis: 💛 sara gave kudos to @lina: for the notes (karma: 1)" in bot
    assert await xp_of(world, "omar") == 15 + 2 * 10
    lines = await world.play(":advance 1d", "/kudos @omar a new day")
    assert "Majlis: 💛 sara gave kudos to @omar: a new day (karma: 3)" in world.bot_lines(lines)


async def test_award_of_zero_is_refused_and_a_correction_is_private(world_factory: Any) -> None:
    world = await make(world_factory)
    lines = await world.play(":as sara", "hello to everyone", ":as owner",
                             "/award @sara 0 nothing", "/award @sara -5 counted twice",
                             "/award @sara 20 helped at the meetup")
    bot = world.bot_lines(lines)
    assert any(line.startswith("Majlis: (only owner sees) Give a number of points other "
                               "than 0") for line in bot), bot
    assert "Majlis: (only owner sees) 5 points were taken from sara: counted twice" in bot
    assert not any("received -5" in line or ("counted twice" in line and "only" not in line)
                   for line in bot)
    assert "Majlis: sara received 20 points: helped at the meetup" in bot
    assert await xp_of(world, "sara") == 15 - 5 + 20
    async with world.app.db.connect() as conn:
        logged = (await conn.execute(select(func.count()).select_from(awards))).scalar_one()
    assert logged == 2


async def test_xp_counts_use_arabic_plural_forms(world_factory: Any) -> None:
    world = await make(world_factory)
    tr = world.app.translator("contributions", "ar", world.console.community)
    board = str(render.leaderboard(tr, "all", [("a", 105), ("b", 15), ("c", 2), ("d", 1)],
                                   lambda m: m))
    assert board.splitlines()[1:] == ["1. a — 105 نقاط خبرة", "2. b — 15 نقطة خبرة",
                                      "3. c — نقطتا خبرة", "4. d — نقطة خبرة واحدة"]
    assert str(render.rank_text(tr, "سارة", 1, 3, 2)) == \
        "سارة: المستوى 1، 3 نقاط خبرة، الترتيب #2"
