"""Jobs of different items run side by side on the real clock (up to 8 at once): what one
plugin's jobs share in memory, or with its commands and buttons, stays right.

Each test fires due jobs through a scheduler that runs them side by side (as the real
clock does), and holds one job at an await point while the other runs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.core.scheduler import Scheduler
from bot.testing import START, FakeCommunity
from plugins.admin import Admin
from plugins.feedback import Feedback
from plugins.polls import Polls


async def fire_side_by_side(world: Any, by: timedelta) -> int:
    """Move the clock and fire what is due as the real clock does: up to 8 jobs at once."""
    app = world.app
    world.clock.set(world.clock.now() + by)
    scheduler = Scheduler(app.db, world.clock, app.kernel.fire, app.kernel.misfire_of,
                          in_flight=8)
    fired = await scheduler.run_due()
    await app.settle()
    return fired


async def test_the_digest_job_and_digest_now_at_once_post_the_period_once() -> None:
    """The weekly digest fires while an admin sends /digest_now: both read where the last
    digest ended before either stored its own, so both posted the same week's news."""
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.advance("1h")
        await club.says("sara", "/suggest Add a channel for board games")
        first = START + timedelta(days=7)  # the first weekly digest
        await club.advance(first - timedelta(seconds=1) - club.clock.now())
        store = club.app.plugins["feedback"].store
        period, reading = store.period, 0
        both_read = asyncio.Event()

        async def slow_period(*args: Any) -> Any:
            nonlocal reading
            reading += 1
            if reading == 2:
                both_read.set()
            try:  # the other digest gets its turn while this one reads the week
                await asyncio.wait_for(both_read.wait(), 0.5)
            except TimeoutError:
                pass
            return await period(*args)

        store.period = slow_period
        club.new()
        await asyncio.gather(fire_side_by_side(club, timedelta(seconds=2)),
                             club.says("amal", "/digest_now"))
        await club.app.settle()
        digests = [s.text for s in club.new() if s.text.startswith("📰")]
        assert len(digests) == 1, digests
        assert "1 new suggestion:" in digests[0]


async def test_a_vote_refreshing_the_poll_as_it_closes_leaves_it_closed() -> None:
    """A vote's refresh of the poll message reads the counts while the deadline job closes
    the poll: its edit (open counts, vote buttons) came after the closing edit, so the
    closed poll showed its buttons again."""
    async with FakeCommunity([Polls], admins=["amal"]) as club:
        await club.says("amal", '/poll "Which day?" "Sat | Sun" duration=1h')
        message = next(p for p in club.platform.posts if p.buttons)  # the poll
        plugin = club.app.plugins["polls"]
        tally, counting, closed = plugin.store.tally, asyncio.Event(), asyncio.Event()
        close = plugin.lifecycle.close

        async def slow_tally(row: Any) -> Any:
            counting.set()
            try:  # the deadline comes while the vote's refresh counts
                await asyncio.wait_for(closed.wait(), 0.5)
            except TimeoutError:
                pass
            return await tally(row)

        async def closing(community: Any, poll_id: int) -> bool:
            try:
                return await close(community, poll_id)
            finally:
                closed.set()

        plugin.store.tally = slow_tally
        plugin.lifecycle.close = closing
        voting = asyncio.create_task(club.presses("sara", "Sat"))
        await asyncio.wait_for(counting.wait(), 5)
        assert await fire_side_by_side(club, timedelta(hours=1)) == 1
        await voting
        await club.app.settle()
        assert [b.label for b in message.buttons] == []  # nobody can vote in a closed poll
        last_edit = [line for line in club.platform.transcript
                     if f"(edited {message.id})" in line][-1]
        assert "— closed." in last_edit
