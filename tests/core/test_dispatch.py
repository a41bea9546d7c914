"""The dispatcher drops replays (also after a restart) and isolates plugins."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import Context, MessagePosted, Plugin, on
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from tests.conftest import WorldFactory

SEEN: list[str] = []
COMMUNITY = CommunityRef("console", "local")


class Counter(Plugin):
    name = "counter"

    @on(MessagePosted)
    async def count(self, event: MessagePosted, ctx: Context) -> None:
        SEEN.append(event.text)


class Broken(Plugin):
    name = "broken"

    @on(MessagePosted)
    async def explode(self, event: MessagePosted, ctx: Context) -> None:
        raise RuntimeError("boom")


class Slow(Plugin):
    name = "slow"

    @on(MessagePosted)
    async def wait(self, event: MessagePosted, ctx: Context) -> None:
        await asyncio.sleep(3600)


def posted(event_id: str, text: str) -> MessagePosted:
    return MessagePosted(
        id=event_id, community=COMMUNITY, member=MemberRef("console", "sara", "sara"),
        channel=ChannelRef("console", "general"), message_id=event_id, text=text,
    )


async def test_replays_are_dropped_even_after_a_restart(world_factory: WorldFactory,
                                                        tmp_path: Path) -> None:
    SEEN.clear()
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    world = await world_factory([Counter], database_url=url)
    assert await world.app.dispatcher.dispatch(posted("e1", "hello"))
    assert not await world.app.dispatcher.dispatch(posted("e1", "hello"))
    await world.app.stop()
    again = await world_factory([Counter], database_url=url)
    assert not await again.app.dispatcher.dispatch(posted("e1", "hello"))
    assert await again.app.dispatcher.dispatch(posted("e2", "again"))
    assert SEEN == ["hello", "again"]


async def test_a_failing_or_slow_plugin_harms_no_other(world_factory: WorldFactory) -> None:
    SEEN.clear()
    world = await world_factory([Slow, Broken, Counter])
    dispatcher = world.app.dispatcher
    await asyncio.wait_for(dispatcher.dispatch(posted("x1", "one")), 1)
    await asyncio.wait_for(dispatcher.dispatch(posted("x2", "two")), 1)
    assert SEEN == ["one", "two"]
    assert dispatcher.error_count("broken") == 2
    assert dispatcher.error_count("counter") == 0
    await dispatcher.flush()
    assert (await world.app.db.error_counts())["broken"] == 2
    for task in list(dispatcher._tasks):
        task.cancel()


async def test_help_lists_only_what_the_member_may_use(world_factory: WorldFactory) -> None:
    world = await world_factory([])
    owner = world.bot_lines(await world.play("/help"))
    member = world.bot_lines(await world.play(":as sara", "/help"))
    assert any("/pause" in line for line in owner)
    assert not any("/pause" in line for line in member)
    refused = world.bot_lines(await world.play("/pause"))
    assert refused == ["Majlis: (only sara sees) Sorry, /pause is only for admins."]
