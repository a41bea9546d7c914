"""The console's fallbacks for threads and scheduled events (it has neither)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.capabilities import Capability
from bot.core.context import Context
from bot.core.refs import CommunityRef
from tests.conftest import WorldFactory


async def test_threads_and_events_fall_back_to_lines(world_factory: WorldFactory) -> None:
    world = await world_factory([])
    community = CommunityRef("console", "local")
    ctx = Context(world.app, None, community)
    assert not ctx.has(Capability.THREADS) and not ctx.has(Capability.SCHEDULED_EVENTS)
    start = len(world.console.transcript)
    thread = await ctx.create_thread("Ideas", "Post your ideas")
    start_at = datetime(2030, 1, 2, 18, 30, tzinfo=UTC)
    await ctx.scheduled_event("meetup", "Meetup", start_at, location="Café")
    await ctx.scheduled_event("meetup", "Meetup", start_at + timedelta(hours=1))
    await ctx.scheduled_event("meetup", "Meetup", start_at, cancel=True)
    await world.app.settle()
    lines = world.bot_lines(world.console.transcript[start:])
    assert lines == [
        "Majlis: (thread Ideas) Post your ideas",
        "Majlis: (event Meetup at 2030-01-02 18:30)",
        "Majlis: (event Meetup at 2030-01-02 19:30)",
        "Majlis: (event Meetup cancelled)",
    ]
    thread_id = await world.app.outbox.delivered(thread, timeout=5)
    assert thread_id is not None and thread_id.startswith("thread:")


async def test_bad_thread_and_event_input_is_refused(world_factory: WorldFactory) -> None:
    world = await world_factory([])
    ctx = Context(world.app, None, CommunityRef("console", "local"))
    with pytest.raises(ValueError):
        await ctx.create_thread("  ", "text")
    with pytest.raises(ValueError):
        await ctx.scheduled_event("k", "Meetup", datetime(2030, 1, 1, 18, 0))
    start = datetime(2030, 1, 1, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        await ctx.scheduled_event("k", "Meetup", start, end=start)
