"""Onboarding on the hot path: messages are counted in memory and written in batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from bot import ChannelRef, CommunityRef, MemberJoined, MemberRef, MessagePosted
from plugins.onboarding import Onboarding
from plugins.onboarding.tables import members

COMMUNITY = CommunityRef("console", "local")
CHANNEL = ChannelRef("console", "general", "general")


@contextmanager
def database_work(engine: Any) -> Iterator[dict[str, int]]:
    """Count the commits and statements that reach ``engine`` while the block runs."""
    seen = {"commits": 0, "statements": 0}

    def committed(_conn: Any) -> None:
        seen["commits"] += 1

    def executed(*_args: Any) -> None:
        seen["statements"] += 1

    event.listen(engine, "commit", committed)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", committed)
        event.remove(engine, "before_cursor_execute", executed)


def message(member: MemberRef, n: int) -> MessagePosted:
    return MessagePosted(id=f"m{n}", community=COMMUNITY, member=member, channel=CHANNEL,
                         message_id=f"m{n}", text=f"message {n}")


async def test_a_thousand_messages_from_known_members_cost_no_transaction_each(
    world_factory: Any,
) -> None:
    world = await world_factory([Onboarding])
    app = world.app
    people = [MemberRef("console", f"p{i:02}", f"p{i:02}") for i in range(40)]
    for i, person in enumerate(people):
        await app.dispatcher.dispatch(MemberJoined(id=f"j{i}", community=COMMUNITY,
                                                   member=person))
    await app.settle()
    for i, person in enumerate(people):  # each newcomer's first message is thanked
        await app.dispatcher.dispatch(message(person, -1 - i))
    await app.settle()
    thanked = [line for line in world.bot_lines(world.console.transcript)
               if "Thanks for your first message" in line]
    assert len(thanked) == len(people)
    await app.kernel.counters.flush()

    # 25 more messages each: still newcomers (graduation takes 7 days), so every one counts
    with database_work(app.db.engine.sync_engine) as seen:
        for n in range(1000):
            await app.dispatcher.dispatch(message(people[n % len(people)], n))
        await app.settle()
    assert seen["commits"] <= 5, seen
    assert seen["statements"] <= 10, seen

    # nothing is lost: the next flush writes every count
    await app.kernel.counters.flush()
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(members.c.messages, members.c.second_message_at)
                                   .where(members.c.community == COMMUNITY.key))).all()
    assert sorted(r.messages for r in rows) == [26] * len(people)
    assert all(r.second_message_at is not None for r in rows)
    said = world.bot_lines(world.console.transcript)
    assert sum("Thanks for your first message" in line for line in said) == len(people)
