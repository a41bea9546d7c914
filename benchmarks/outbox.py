"""Fan out 1,000 messages to a fake platform that enforces the real rate limits.

Prints, per platform profile: the achieved send rate as a fraction of the allowed rate
(goal >= 0.9), how many 429s the platform answered, and how many messages were lost (goal 0).

    .venv/bin/python benchmarks/outbox.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import deque
from typing import Any

from bot.adapters.console import Console
from bot.app import App
from bot.core.actions import Action, SendMessage
from bot.core.clock import SystemClock
from bot.core.messages import Content
from bot.core.platform import Delivered, RetryAfter
from bot.core.ratelimit import Limit, RateProfile
from bot.core.refs import ChannelRef, CommunityRef
from bot.settings import Settings

PROFILES = {
    "discord": RateProfile(
        "discord", (Limit("global", 50, 1.0), Limit("channel", 5, 5.0)), concurrency=16
    ),
    "telegram": RateProfile(
        "telegram",
        (Limit("global", 30, 1.0), Limit("group", 20, 60.0), Limit("channel", 1, 1.0)),
        concurrency=16,
    ),
}


class Enforcer:
    """A platform that answers 429 whenever a send would break its limits."""

    def __init__(self, profile: RateProfile) -> None:
        self.name = "bench"
        self.rate_profile = profile
        self.capabilities = frozenset()
        self.sent: dict[str, float] = {}
        self.rejected = 0
        self._history: dict[tuple[str, str], deque[float]] = {}

    async def start(self, app: App) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, action: Action, reply_handle: Any = None) -> Delivered:
        assert isinstance(action, SendMessage) and action.channel is not None
        await asyncio.sleep(0.002)  # a request's round trip on loopback
        now = time.monotonic()
        keys = {"global": "*", "channel": action.channel.id, "group": action.community.id}
        for limit in self.rate_profile.limits:
            history = self._history.setdefault((limit.scope, keys[limit.scope]), deque())
            while history and history[0] <= now - limit.seconds:
                history.popleft()
            if len(history) >= limit.count:
                self.rejected += 1
                raise RetryAfter(history[0] + limit.seconds - now, "channel")
        for limit in self.rate_profile.limits:
            self._history[(limit.scope, keys[limit.scope])].append(now)
        self.sent[str(action.content.text)] = now
        return Delivered(str(len(self.sent)))

    async def privilege_of(self, community: Any, member: Any) -> Any: ...

    async def resolve(self, community: Any, kind: Any, token: str) -> Any: ...

    def default_channel(self, community: Any) -> Any: ...


def ideal_seconds(profile: RateProfile, count: int, channels: int, communities: int) -> float:
    """The least time the limits allow for ``count`` sends spread evenly (first at t=0)."""
    longest = 0.0
    for limit in profile.limits:
        scopes = {"global": 1, "channel": channels, "group": communities}[limit.scope]
        per_scope = -(-count // scopes)
        batches = -(-per_scope // limit.count)
        longest = max(longest, (batches - 1) * limit.seconds)
    return max(longest, 1e-9)


async def run(name: str, profile: RateProfile, count: int) -> None:
    platform = Enforcer(profile)
    app = App(
        Settings(_env_file=None, database_url="sqlite+aiosqlite://"),  # type: ignore[call-arg]
        clock=SystemClock(),
        platforms=[platform, Console()],
        plugins=[],
    )
    await app.start(connect=False)
    channels = 400 if name == "discord" else 50
    communities = 1 if name == "discord" else 50
    started = time.monotonic()
    for i in range(count):
        community = CommunityRef("bench", f"g{i % communities}")
        channel = ChannelRef("bench", f"c{i % channels}")
        await app.outbox.submit(
            SendMessage(community=community, channel=channel, content=Content.of(f"m{i}"))
        )
    await app.outbox.idle(timeout=3600)
    elapsed = time.monotonic() - started
    ideal = ideal_seconds(profile, count, channels, communities)
    allowed = count / ideal
    achieved = len(platform.sent) / elapsed
    lost = count - len(platform.sent)
    print(
        f"{name:9s} {len(platform.sent)} sent in {elapsed:.1f}s (limits allow {ideal:.1f}s): "
        f"{achieved:.1f}/s of {allowed:.1f}/s allowed = {achieved / allowed:.2f} (goal >= 0.9); "
        f"429s: {platform.rejected}; lost: {lost} (goal 0)"
    )
    await app.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--only", choices=sorted(PROFILES))
    args = parser.parse_args()
    for name, profile in PROFILES.items():
        if args.only in (None, name):
            asyncio.run(run(name, profile, args.messages))


if __name__ == "__main__":
    main()
