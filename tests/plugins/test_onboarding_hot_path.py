"""Onboarding on the hot path: messages are counted in memory and written in batches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import ChannelRef, CommunityRef, MemberJoined, MemberRef, MessagePosted
from plugins.onboarding import Onboarding
from plugins.onboarding.tables import members
from tests.engine_events import engine_events

COMMUNITY = CommunityRef("console", "local")
CHANNEL = ChannelRef("console", "general", "general")


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
    with engine_events(app.db.engine.sync_engine, "commit", "before_cursor_execute") as seen:
        for n in range(1000):
            await app.dispatcher.dispatch(message(people[n % len(people)], n))
        await app.settle()
    assert seen["commit"] <= 5, seen
    assert seen["before_cursor_execute"] <= 10, seen

    # nothing is lost: the next flush writes every count
    await app.kernel.counters.flush()
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(members.c.messages, members.c.second_message_at)
                                   .where(members.c.community == COMMUNITY.key))).all()
    assert sorted(r.messages for r in rows) == [26] * len(people)
    assert all(r.second_message_at is not None for r in rows)
    said = world.bot_lines(world.console.transcript)
    assert sum("Thanks for your first message" in line for line in said) == len(people)
