"""Leaderboards read maintained boards: they must always equal a sum over the ledger."""

from __future__ import annotations

import heapq
import random
from datetime import date
from typing import Any

from bot import MemberRef
from plugins.admin import Admin
from plugins.contributions import Contributions, rules
from plugins.contributions.rules import CommunityState, MemberState
from tests.conftest import ConsoleWorld

TODAY = date(2026, 3, 2).toordinal()


def day(offset: int) -> str:
    """The ISO day ``offset`` days before today."""
    return date.fromordinal(TODAY - offset).isoformat()


def since(today: int, days: int) -> str:
    """The first day of a leaderboard of ``days`` days ending on ``today``."""
    return date.fromordinal(today - days + 1).isoformat()


def expected(state: CommunityState, first: str | None, limit: int = 10) -> list[tuple[str, int]]:
    """The leaderboard by summing the ledger the plain way."""
    sums: dict[str, int] = {}
    if first is None:
        sums = {m: s.total for m, s in state.members.items()}
    else:
        for d, ledger in state.days.items():
            if d >= first:
                for m, xp in ledger.items():
                    sums[m] = sums.get(m, 0) + xp
    scores = [(m, x) for m, x in sums.items() if x > 0 and m not in state.opted_out]
    return heapq.nsmallest(limit, scores, key=lambda item: (-item[1], item[0]))


def earn(state: CommunityState, member: str, amount: int, on: str) -> None:
    found = state.members.setdefault(member, MemberState())
    rules.add_xp(state, member, found, amount, on)


def test_week_board_moves_with_the_day() -> None:
    state = CommunityState("console:local")
    earn(state, "sara", 50, day(6))  # the first day of this week
    earn(state, "omar", 30, day(1))
    assert rules.top(state, since(TODAY, 7), 10) == [("sara", 50), ("omar", 30)]
    earn(state, "omar", 10, day(0))  # the board follows what is added after a read
    assert rules.top(state, since(TODAY, 7), 10) == [("sara", 50), ("omar", 40)]
    # the next day sara's XP has left the week; omar's has not
    assert rules.top(state, since(TODAY + 1, 7), 10) == [("omar", 40)]
    assert rules.top(state, since(TODAY + 1, 30), 10) == [("sara", 50), ("omar", 40)]
    earn(state, "sara", 5, date.fromordinal(TODAY + 1).isoformat())
    assert rules.top(state, since(TODAY + 1, 7), 10) == [("omar", 40), ("sara", 5)]
    assert rules.top(state, since(TODAY + 1, 30), 10) == [("sara", 55), ("omar", 40)]


def test_windows_built_at_opening_equal_the_ledger() -> None:
    state = CommunityState("console:local")
    for offset, member, xp in ((0, "a", 10), (6, "b", 30), (7, "c", 40), (29, "d", 5),
                               (30, "e", 99), (3, "a", 25)):
        state.days.setdefault(day(offset), {})[member] = xp
        state.members.setdefault(member, MemberState()).total += xp
    rules.open_windows(state, TODAY, [7, 30])
    assert rules.top(state, since(TODAY, 7), 10) == [("a", 35), ("b", 30)]
    assert rules.top(state, since(TODAY, 30), 10) == expected(state, since(TODAY, 30))
    earn(state, "d", 40, day(0))
    assert rules.top(state, since(TODAY, 7), 10) == [("d", 40), ("a", 35), ("b", 30)]
    assert rules.top(state, since(TODAY + 1, 30), 10) == expected(state, since(TODAY + 1, 30))


def test_opt_out_and_forget_leave_the_boards() -> None:
    state = CommunityState("console:local")
    for member, xp in (("a", 40), ("b", 30), ("c", 30), ("d", 10)):
        earn(state, member, xp, day(2))
    week = since(TODAY, 7)
    assert rules.top(state, week, 2) == [("a", 40), ("b", 30)]
    rules.set_opt_out(state, "a", True)
    assert rules.top(state, week, 2) == [("b", 30), ("c", 30)]
    assert rules.top(state, None, 2) == [("b", 30), ("c", 30)]
    rules.set_opt_out(state, "a", False)
    rules.forget_member(state, "b")
    assert rules.top(state, week, 3) == [("a", 40), ("c", 30), ("d", 10)]
    assert rules.top(state, None, 3) == [("a", 40), ("c", 30), ("d", 10)]
    earn(state, "b", 15, day(0))  # back after being forgotten: only what is new counts
    assert rules.top(state, week, 3) == [("a", 40), ("c", 30), ("b", 15)]


def test_a_listed_member_losing_xp_lets_the_next_in() -> None:
    state = CommunityState("console:local")
    for member, xp in (("a", 40), ("b", 30), ("c", 20)):
        earn(state, member, xp, day(0))
    assert rules.top(state, None, 2) == [("a", 40), ("b", 30)]
    earn(state, "a", -35, day(0))  # a reaction taken back, a correction, decay
    assert rules.top(state, None, 2) == [("b", 30), ("c", 20)]
    assert rules.top(state, since(TODAY, 7), 3) == [("b", 30), ("c", 20), ("a", 5)]


def test_boards_equal_the_ledger_through_random_days() -> None:
    rng = random.Random(14)
    state = CommunityState("console:local")
    members = [f"m{i}" for i in range(40)]
    today = TODAY
    for step in range(3000):
        roll = rng.random()
        if roll < 0.75:
            amount = rng.choice([0, 15, 15, 20, 50, -2, -15])
            on = date.fromordinal(today - rng.choice([0, 0, 0, 1, 3, 8])).isoformat()
            earn(state, rng.choice(members), amount, on)
        elif roll < 0.8:
            rules.set_opt_out(state, rng.choice(members), rng.random() < 0.6)
        elif roll < 0.82:
            rules.forget_member(state, rng.choice(members))
        elif roll < 0.86:
            today += 1
            if rng.random() < 0.5:
                rules.prune_days(state, today)
        else:
            first = rng.choice([since(today, 7), since(today, 30), since(today, 8), None])
            limit = rng.choice([3, 10])
            assert rules.top(state, first, limit) == expected(state, first, limit), step


async def test_week_leaderboard_after_days_pass(world_factory: Any) -> None:
    world: ConsoleWorld = await world_factory([Contributions, Admin])
    await world.play(":as sara", "hello from sara", ":as omar", "hello from omar")
    lines = world.bot_lines(await world.play("/leaderboard week"))
    assert "1. omar — 15 XP" in lines[-1] and "1. sara — 15 XP" in lines[-1]
    await world.play(":advance 3d", ":as omar", "omar again, three days on")
    await world.play(":advance 4d")
    board = world.bot_lines(await world.play("/leaderboard week"))[-1]
    assert "1. omar — 15 XP" in board and "sara" not in board  # sara's day left the week
    board = world.bot_lines(await world.play("/leaderboard month"))[-1]
    assert "1. omar — 30 XP" in board and "2. sara — 15 XP" in board
    await world.app.forget_member(MemberRef("console", "omar"))
    board = world.bot_lines(await world.play("/leaderboard month"))[-1]
    assert "omar" not in board and "1. sara — 15 XP" in board
