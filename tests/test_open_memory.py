"""Opening a big community reads its rows a chunk at a time: the peak stays near the state.

Rows fetched whole (tuples, rows and fresh strings for 100k members, polls' datetimes, a
list of badges per member) were all alive at once while the state was built: the process's
peak rose by ~50 MiB and ~20 MiB of emptied pools stayed resident after the open.
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.core.refs import CommunityRef
from bot.core.storage import members as core_members
from plugins.contributions import Contributions
from plugins.contributions.tables import badges, profiles, xp_daily
from plugins.polls import Polls
from plugins.polls.tables import activity
from tests.conftest import WorldFactory

MEMBERS = 20_000


async def test_opening_20000_members_holds_little_beyond_their_state(
        world_factory: WorldFactory, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'big.db'}"
    world = await world_factory([Contributions, Polls], database_url=url)
    community = CommunityRef("console", "big")  # not opened yet
    key = community.key
    now = world.app.clock.now()
    day, before = (now - timedelta(days=1)).date().isoformat(), now - timedelta(days=40)
    who = [f"member{n}" for n in range(MEMBERS)]
    async with world.app.db.begin() as conn:
        await conn.execute(insert(core_members), [
            {"community": key, "member": m, "name": m, "joined_at": before,
             "last_seen": now} for m in who])
        await conn.execute(insert(xp_daily), [
            {"community": key, "member": m, "day": day, "xp": 15 * (n % 40 + 1)}
            for n, m in enumerate(who)])
        await conn.execute(insert(profiles), [
            {"community": key, "member": m, "name": f"Member {m}"} for m in who])
        await conn.execute(insert(badges), [
            {"community": key, "member": m, "badge": "first_message", "at": before}
            for m in who])
        await conn.execute(insert(activity), [
            {"community": key, "member": m, "joined_at": before,
             "last_seen": datetime(2026, 1, 5, tzinfo=UTC), "messages": 3} for m in who])
    del who
    dispatcher = world.app.dispatcher
    assert not dispatcher.is_open(community)
    gc.collect()
    tracemalloc.start()
    try:
        await dispatcher.open(community)
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # what was loaded is there: every member's XP, name and badge, and their activity
    contributions = world.app.plugins["contributions"]
    assert isinstance(contributions, Contributions)
    state = contributions._communities[key]
    assert len(state.members) == MEMBERS
    assert state.members["member41"].total == 30
    assert state.members["member41"].name == "Member member41"
    assert state.members["member41"].badges == {"first_message"}
    polls = world.app.plugins["polls"]
    assert isinstance(polls, Polls)
    assert polls.activity.members(key)["member41"].messages == 3
    # fetched whole, the rows held 9 MiB beyond the state at the peak; in chunks, 2
    assert peak - held < 4 * 2**20, (
        f"peak {peak / 2**20:.1f} MiB, kept {held / 2**20:.1f} MiB")
