"""The dispatcher's replay window: 50,000 recent ids dropped when replayed, in a few MiB."""

from __future__ import annotations

import gc
import tracemalloc

from bot.core.dispatch import WINDOW_SIZE
from bot.core.events import MessagePosted
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from tests.conftest import WorldFactory

COMMUNITY = CommunityRef("console", "local")
SARA = MemberRef("console", "sara", "sara")
GENERAL = ChannelRef("console", "general")


def posted(n: int) -> MessagePosted:
    # ids as long as a Discord message's, made afresh for each event as an adapter does
    event_id = f"dc:msg:{1_384_788_765_712_384_000 + n}"
    return MessagePosted(id=event_id, community=COMMUNITY, member=SARA, channel=GENERAL,
                         message_id=event_id[7:], text="hello")


async def test_replays_are_dropped_within_the_last_50000_ids_held_in_a_few_mib(
        world_factory: WorldFactory) -> None:
    world = await world_factory([])
    dispatcher = world.app.dispatcher
    assert await dispatcher.dispatch(posted(-1))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(WINDOW_SIZE):
            assert await dispatcher.dispatch(posted(n))
        # what waits for the once-a-second write (the ids' digests) is not the window: write
        # it now, as the beat would, so the figure does not depend on this machine's speed
        await dispatcher.flush()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # the ids' strings in an ordered dict held ~11 MiB; 60-bit hashes in a set, ~4
    assert held < 6 * 2**20, f"{held / 2**20:.1f} MiB for {WINDOW_SIZE:,} ids"
    assert not await dispatcher.dispatch(posted(0))  # the oldest is still remembered
    assert not await dispatcher.dispatch(posted(WINDOW_SIZE - 1))
    assert await dispatcher.dispatch(posted(-1))  # forgotten: 50,000 newer ids came since
    assert await dispatcher.dispatch(posted(0))  # which pushed the oldest out
    assert not await dispatcher.dispatch(posted(2))
