"""Events per second through the dispatcher with N no-op plugins.

Prints, for each N, events/s and the cost per event relative to N = 0 (the dispatcher's
own cost: de-duplication, routing, isolation), measured in one run.

    .venv/bin/python benchmarks/dispatch.py [--events 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import Context, MessagePosted, Plugin, on
from bot.adapters.console import Console
from bot.app import App
from bot.core.clock import ManualClock
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from bot.settings import Settings


def noop_plugin(index: int) -> type[Plugin]:
    """A plugin whose only handler returns at once."""

    async def seen(self: Plugin, event: MessagePosted, ctx: Context) -> None:
        return None

    namespace: dict[str, Any] = {"name": f"noop{index}", "seen": on(MessagePosted)(seen)}
    return type(f"Noop{index}", (Plugin,), namespace)


async def measure(plugins: int, events: int) -> float:
    app = App(
        Settings(_env_file=None, database_url="sqlite+aiosqlite://"),  # type: ignore[call-arg]
        clock=ManualClock(),
        platforms=[Console()],
        plugins=[noop_plugin(i) for i in range(plugins)],
    )
    await app.start(connect=False)
    community = CommunityRef("console", "bench")
    member = MemberRef("console", "sara", "sara")
    channel = ChannelRef("console", "general")
    submit = app.dispatcher.submit
    batch = [
        MessagePosted(id=f"e{i}", community=community, member=member, channel=channel,
                      message_id=str(i), text="hello", durable=False)
        for i in range(events)
    ]
    submit(batch[0])  # registers the community and the member (not timed)
    await app.settle()
    started = time.perf_counter()
    for i, event in enumerate(batch[1:], 1):
        submit(event)
        if i % 1000 == 0:
            await asyncio.sleep(0)
    await app.settle()
    elapsed = time.perf_counter() - started
    await app.stop()
    return (events - 1) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    base = None
    for n in (0, 1, 5, 10, 20):
        rate = asyncio.run(measure(n, args.events))
        base = base or rate
        print(f"{n:2d} no-op plugins: {rate:>10,.0f} events/s; cost per event "
              f"{1e6 / rate:5.2f} µs = {base / rate:4.2f}x the dispatcher alone")


if __name__ == "__main__":
    main()
