"""Contributions on the hot path: 1,000 events from known members cost a few transactions.

Realistic traffic for the plugin: distinct messages from 50 members, 1% thanking someone,
reactions and reported poll votes. XP is checked against the plugin's rules, recomputed
here independently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select

from bot import ContributionMade, MemberRef, MessagePosted, ReactionAdded
from plugins.contributions.tables import xp_daily
from tests.conftest import ConsoleWorld
from tests.plugins.test_contributions import make, plugin

MEMBERS = 50
EVENTS = 1000
XP, KUDOS_XP, REACTION_XP, VOTE_XP = 15, 10, 2, 5


@contextmanager
def plugin_commits(world: ConsoleWorld) -> Iterator[list[int]]:
    """Count committed transactions that wrote to a contributions table."""
    engine = world.app.db.engine.sync_engine
    counted = [0]

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().split(None, 1)[0].upper()
        if "contributions_" in statement and head in ("INSERT", "UPDATE", "DELETE"):
            conn.info["contributions_wrote"] = True

    def committed(conn: Any) -> None:
        if conn.info.pop("contributions_wrote", False):
            counted[0] += 1

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", committed)


async def test_a_thousand_events_from_known_members_commit_at_most_five_times(
    world_factory: Any,
) -> None:
    world = await make(world_factory)
    console = world.console
    community, channel = console.community, console.channel
    members = [MemberRef("console", f"m{k}", f"m{k}") for k in range(MEMBERS)]
    start = world.clock.now()
    expected: Counter[str] = Counter()
    submit = world.app.dispatcher.submit
    for k, member in enumerate(members):  # every member is known and has their first badge
        submit(MessagePosted(id=f"warm{k}", community=community, member=member,
                             channel=channel, message_id=f"w{k}", text=f"hello, I am m{k}",
                             at=start))
        expected[member.id] += XP
    await world.app.settle()
    await plugin(world).flush()

    last_xp = {m.id: start for m in members}
    kudos_given: Counter[str] = Counter()
    kudos_pairs: Counter[tuple[str, str]] = Counter()

    def message(member: MemberRef, at: datetime) -> None:
        """The rules: distinct texts this long earn XP once the 60 s cooldown has passed."""
        if (at - last_xp[member.id]).total_seconds() >= 60:
            expected[member.id] += XP
            last_xp[member.id] = at

    with plugin_commits(world) as commits:
        for i in range(EVENTS):
            author = members[i % MEMBERS]
            other = members[(i + 1) % MEMBERS]
            at = start + timedelta(minutes=2, seconds=3 * i)  # 150 s between a member's posts
            if i % 100 == 50:  # 1%: a member reports a poll vote
                submit(ContributionMade(id=f"v{i}", community=community, member=author,
                                        kind="poll_voted", at=at))
                expected[author.id] += VOTE_XP
            elif i % 100 == 75:  # 1%: someone reacts to the previous message
                submit(ReactionAdded(id=f"r{i}", community=community, member=other,
                                     channel=channel, message_id=f"x{i - 1}", emoji="👍",
                                     author=members[(i - 1) % MEMBERS], at=at))
                expected[members[(i - 1) % MEMBERS].id] += REACTION_XP
            elif i % 100 == 25:  # 1%: a member thanks another (within the daily caps)
                giver, receiver = members[i // 100 % 3], members[20 + i // 700]
                submit(MessagePosted(id=f"e{i}", community=community, member=giver,
                                     channel=channel, message_id=f"x{i}",
                                     text=f"thanks for the help, {receiver.name} ({i})",
                                     mentions=(receiver,), at=at))
                message(giver, at)
                if kudos_given[giver.id] < 5 and kudos_pairs[(giver.id, receiver.id)] < 2:
                    kudos_given[giver.id] += 1
                    kudos_pairs[(giver.id, receiver.id)] += 1
                    expected[receiver.id] += KUDOS_XP
            else:
                submit(MessagePosted(id=f"e{i}", community=community, member=author,
                                     channel=channel, message_id=f"x{i}",
                                     text=f"message number {i} from {author.name}", at=at))
                message(author, at)
        await world.app.settle()
        between_flushes = commits[0]
    assert between_flushes <= 5, f"{between_flushes} transactions for {EVENTS} events"

    await plugin(world).flush()
    async with world.app.db.connect() as conn:
        stored = dict((await conn.execute(
            select(xp_daily.c.member, func.sum(xp_daily.c.xp))
            .where(xp_daily.c.community == community.key)
            .group_by(xp_daily.c.member))).all())
    assert stored == dict(expected)
    assert sum(kudos_given.values()) == 10 - 1  # one pair went over its cap
    lines = await world.play(":as m3", "/rank")
    assert any(f"m3: level 2, {expected['m3']} XP" in line for line in world.bot_lines(lines))
