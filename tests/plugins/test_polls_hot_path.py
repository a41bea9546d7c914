"""Polls on the hot path: messages and joins are counted in memory and written in batches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from bot import ChannelRef, MemberJoined, MessagePosted
from bot.adapters.console import PLATFORM
from plugins.polls import Polls
from plugins.polls.tables import activity
from tests.conftest import ConsoleWorld, WorldFactory

MEMBERS = [f"m{i}" for i in range(20)]


class Commits:
    """Counts committed transactions, and statements on the plugin's tables, while attached."""

    def __init__(self, world: ConsoleWorld) -> None:
        self.engine = world.app.db.engine.sync_engine
        self.count = 0
        self.polls_statements = 0

    def _committed(self, conn: Any) -> None:
        self.count += 1

    def _executed(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "polls_" in statement:
            self.polls_statements += 1

    def __enter__(self) -> Commits:
        event.listen(self.engine, "commit", self._committed)
        event.listen(self.engine, "before_cursor_execute", self._executed)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "commit", self._committed)
        event.remove(self.engine, "before_cursor_execute", self._executed)


async def stored_activity(world: ConsoleWorld) -> dict[str, tuple[int, Any, Any]]:
    async with world.app.db.connect() as conn:
        rows = await conn.execute(select(activity))
        return {r.member: (r.messages, r.joined_at, r.last_seen) for r in rows}


async def test_a_thousand_messages_from_known_members_commit_a_handful_of_times(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    for name in MEMBERS:  # known members: they joined and posted once
        await world.play(f":as {name}", "hello")
    await world.app.counters.flush()
    community = world.console.community
    channel = ChannelRef(PLATFORM, "general")
    members = world.console.members
    with Commits(world) as commits:
        for i in range(1000):
            await world.app.dispatcher.dispatch(MessagePosted(
                id=f"load:{i}", community=community, member=members[MEMBERS[i % 20]],
                channel=channel, message_id=f"load:{i}", text="lorem ipsum", durable=False,
                at=world.clock.now(),
            ))
        await world.app.settle()
        during, touched = commits.count, commits.polls_statements
        await world.app.counters.flush()
    # today's code commits once per message: 1,000
    assert during <= 5, f"{during} commits for 1,000 messages"
    assert touched <= 1  # at most one batch, if the one-second flush beat came meanwhile
    assert commits.count - during <= 2  # the flush itself: one batch
    stored = await stored_activity(world)
    assert {m: stored[m][0] for m in MEMBERS} == {m: 51 for m in MEMBERS}
    assert all(stored[m][2] == world.clock.now() for m in MEMBERS)


async def test_joins_are_batched_and_the_first_join_is_kept(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(":as sara", "hi")
    await world.app.counters.flush()
    first = (await stored_activity(world))["sara"][1]
    assert first is not None
    community = world.console.community
    sara = world.console.members["sara"]
    await world.play(":advance 1d")
    with Commits(world) as commits:
        for i in range(200):
            await world.app.dispatcher.dispatch(MemberJoined(
                id=f"join:{i}", community=community, member=sara, at=world.clock.now(),
                durable=False))
        await world.app.settle()
        joins = commits.polls_statements
    assert joins <= 1  # today's code: one upsert per join (200)
    await world.app.counters.flush()
    assert (await stored_activity(world))["sara"][:2] == (1, first)
    plugin = world.app.plugins["polls"]
    assert isinstance(plugin, Polls)
    assert plugin.activity.members(community.key)["sara"].joined_at == first


async def test_reach_counts_what_is_not_flushed_yet(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    # no flush between the messages and the close: reach must still see them
    await world.play(":as old", *["busy day"] * 5, ":as a", "hi", ":as b", "hi", ":as c", "hi",
                     ":as owner", '/poll "Q?" "A | B" duration=1h', ":as old", ":press 1",
                     ":as a", ":press 2")
    text = "\n".join(await world.play(":advance 2h"))
    # "old" is the most active 10% (at least one member); "a" is not: 50% beyond
    assert "50% are not among the most active 10% of members." in text
