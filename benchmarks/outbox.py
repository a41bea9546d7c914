"""The outbox against platforms that enforce their real limits, and its hot path.

Run: ``.venv/bin/python benchmarks/outbox.py [--only buckets|cpu|forget] [--scale 1.0]``.

It prints, in one run:

1. **Buckets.** A mixed workload (group posts, DMs, callback answers, edits) through the
   outbox to a fake Telegram and a fake Discord that answer 429 (with the refused bucket)
   whenever a send would break the limits of ``bot/adapters/*_limits.py``. Per real bucket
   (the busiest key of each limit): the share of its allowed rate used while it had work
   (goal >= 0.90), the 429s answered, and the actions lost (goal 0). The Telegram run
   lasts about a minute: one group window (20/min) must pass.
2. **CPU per delivery with 20,000 queued** (1,000 channels, each with a backlog behind
   its window; the first 1,000 deliveries), the outbox of this tree against the one
   before per-bucket queues (commit 7fb97eb, read from git when available), as a ratio;
   and the current one at 20,000 against 1,000 queued (flat means no rescan).
   Queueing 20,000 actions takes a while (one insert each).
3. **forget_me at 100,000 outbox rows** (goal <= 200 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
import types
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.adapters import discord_limits, telegram_limits  # noqa: E402
from bot.app import App  # noqa: E402
from bot.core import storage  # noqa: E402
from bot.core.actions import Action, EditMessage, SendMessage  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.messages import Content  # noqa: E402
from bot.core.migrate import MigrationSource, upgrade  # noqa: E402
from bot.core.outbox import Outbox  # noqa: E402
from bot.core.platform import Delivered, Progress, RetryAfter  # noqa: E402
from bot.core.ratelimit import Limit, RateProfile  # noqa: E402
from bot.core.refs import ChannelRef, CommunityRef, MemberRef  # noqa: E402
from bot.settings import Settings  # noqa: E402

#: The outbox before per-bucket queues, for the CPU comparison.
BEFORE = "7fb97eb"

Bucket = tuple[str, str]


# -- 1. buckets -------------------------------------------------------------------------


class Enforcer:
    """A platform that answers 429 whenever a send would break its limits.

    Its buckets follow the real platforms: on Telegram a post to a group counts against
    that group's 20/min and its chat's 1/s, a DM against the member's chat only, a
    callback answer against nothing; on Discord a message counts against its channel's
    route and the global 50/s, an interaction response against nothing. Every limit name
    of the profile that is neither ``global`` nor ``group`` is keyed by the target chat.
    """

    capabilities: frozenset[Any] = frozenset()

    def __init__(self, name: str, profile: RateProfile) -> None:
        self.name = name
        self.rate_profile = profile
        self.limits = {limit.scope: limit for limit in profile.limits}
        self.delivered: dict[str, int] = {}
        self.when: dict[str, float] = {}
        self.times: dict[Bucket, list[float]] = {}
        self.rejected = 0
        self._history: dict[Bucket, deque[float]] = {}
        self.go = asyncio.Event()

    async def start(self, app: App) -> None: ...

    async def stop(self) -> None: ...

    async def wait_ready(self) -> None:
        await self.go.wait()  # "connected" once the whole workload is queued

    def rate_keys(self, action: Action) -> tuple[Bucket, ...]:
        if isinstance(action, SendMessage) and action.reply_to == "callback":
            return ()  # answerCallbackQuery / an interaction response
        target = action.channel.id if getattr(action, "channel", None) else ""
        if not target and isinstance(action, SendMessage) and action.member is not None:
            target = f"dm{action.member.id}"
        keys: list[Bucket] = []
        edit = isinstance(action, EditMessage)
        routes = [scope for scope in self.limits if scope.startswith("route:")]
        for scope in self.limits:
            if scope == "global":
                keys.append(("global", "*"))
            elif scope == "group":
                # only messages *to the group* count against its 20/min
                if isinstance(action, SendMessage) and action.channel is not None:
                    keys.append((scope, action.community.id))
            elif scope.startswith("route:"):
                # Discord: the route of this call only (create or edit a message)
                wanted = "PATCH" if edit and any("PATCH" in r for r in routes) else "POST"
                if scope.startswith(f"route:{wanted} /channels/") and scope.count("{") == (
                    2 if wanted == "PATCH" else 1
                ):
                    keys.append((scope, target))
            else:
                keys.append((scope, target))
        return tuple(keys)

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        await asyncio.sleep(0.002)  # a request's round trip on loopback
        now = time.monotonic()
        keys = self.rate_keys(action)
        for key in keys:
            limit = self.limits[key[0]]
            history = self._history.setdefault(key, deque())
            while history and history[0] <= now - limit.seconds:
                history.popleft()
            if len(history) >= limit.count:
                self.rejected += 1
                raise RetryAfter(history[0] + limit.seconds - now, key[0], key)
        for key in keys:
            self._history[key].append(now)
            self.times.setdefault(key, []).append(now)
        text = str(action.content.text) if isinstance(action, SendMessage | EditMessage) else ""
        self.delivered[text] = self.delivered.get(text, 0) + 1
        self.when[text] = now
        return Delivered(str(len(self.delivered)))

    async def privilege_of(self, community: Any, member: Any) -> Any: ...

    async def resolve(self, community: Any, kind: Any, token: str) -> Any: ...

    def default_channel(self, community: Any) -> Any: ...


def workload(name: str, scale: float) -> list[tuple[Action, bool]]:
    """Group posts, DMs, callback answers and edits, interleaved as a busy bot sends them."""
    rng = random.Random(7)
    groups = 3 if name == "telegram" else 1
    channels = 3 if name == "telegram" else 4
    posts_per_channel = 21  # one full window and one more send, per channel
    members = int((900 if name == "telegram" else 400) * scale)
    out: list[tuple[Action, bool]] = []
    n = 0

    def text() -> Content:
        nonlocal n
        n += 1
        return Content.of(f"{name}-{n}")

    for i in range(channels * posts_per_channel):
        g = i % groups
        community = CommunityRef(name, f"g{g}")
        channel = ChannelRef(name, f"g{g}" if name == "telegram" else f"c{i % channels}")
        out.append((SendMessage(community=community, channel=channel, content=text()), False))
    for m in range(members):
        community = CommunityRef(name, f"g{m % groups}")
        member = MemberRef(name, f"u{m}")
        for _ in range(2):
            out.append((SendMessage(community=community, member=member, content=text()), True))
        if m % 3 == 0:
            out.append(
                (SendMessage(community=community, channel=ChannelRef(name, f"g{m % groups}"),
                             member=member, content=text(), reply_to="callback",
                             private=True), True)
            )
    # one member's private chat that is busy on its own: 1/s (Telegram) per chat
    community = CommunityRef(name, "g0")
    for _ in range(15):
        out.append(
            (SendMessage(community=community, member=MemberRef(name, "busy"), content=text()),
             True)
        )
    rng.shuffle(out)
    return out


async def buckets(name: str, profile: RateProfile, scale: float) -> None:
    platform = Enforcer(name, profile)
    app = App(
        Settings(_env_file=None, database_url="sqlite+aiosqlite://"),  # type: ignore[call-arg]
        clock=SystemClock(),
        platforms=[platform],
        plugins=[],
    )
    await app.start(connect=False)
    actions = workload(name, scale)
    started = time.monotonic()
    posted: list[int] = []
    expected = [str(a.content.text) for a, _ in actions if isinstance(a, SendMessage)]
    for action, direct in actions:
        posted.append(await app.outbox.submit(action, direct=direct))
    # edits in private chats of messages already sent (they wait for their original)
    for original in posted[:: max(len(posted) // 60, 1)][:60]:
        source = actions[posted.index(original)][0]
        assert isinstance(source, SendMessage)
        if source.channel is None and source.member is not None:
            continue  # DMs are edited by channel on real platforms; keep edits in chats
        await app.outbox.submit(
            EditMessage(community=source.community, channel=source.channel, original=original,
                        content=Content.of(f"edit-{original}"))
        )
        expected.append(f"edit-{original}")
    queued = time.monotonic() - started
    started = time.monotonic()
    platform.go.set()
    await app.outbox.idle(timeout=3600)
    elapsed = time.monotonic() - started
    lost = sum(1 for t in expected if t not in platform.delivered)
    twice = sum(n - 1 for n in platform.delivered.values())
    print(f"{name}: {len(platform.delivered)} actions (queued in {queued:.1f}s, then the "
          f"platform connects) in {elapsed:.1f}s, "
          f"429s answered: {platform.rejected}, lost: {lost} (goal 0), sent twice: {twice}")
    # Each real bucket is measured while it had work it alone held back: a channel's or a
    # chat's from its first send to its last (all its actions were queued at the start);
    # the global bucket until the last of the DMs, which nothing else limits.
    dms = [str(a.content.text) for a, _ in actions
           if isinstance(a, SendMessage) and a.channel is None and a.member is not None
           and a.member.id != "busy"]  # fmt: skip
    dm_end = max(platform.when[t] for t in dms)
    chosen: dict[str, Bucket] = {}
    for scope in platform.limits:
        if scope == "global":
            chosen[scope] = ("global", "*")
        elif scope == "group":
            chosen[scope] = (scope, "g0")
        else:
            if name == "discord":  # on Telegram a group chat's posts wait for the group
                chosen[f"{scope} (a channel)"] = (scope, "c1")
            chosen[f"{scope} (a busy private chat)"] = (scope, "dmbusy")
    for label, key in chosen.items():
        limit = platform.limits[key[0]]
        times = platform.times.get(key, [])
        if key == ("global", "*"):
            times = [t for t in times if t <= dm_end]
        windows = (len(times) - 1) // limit.count
        if windows <= 0:
            print(f"  {label:36s} {len(times)} sends: never saturated")
            continue
        ideal = windows * limit.seconds
        span = times[-1] - times[0]
        share = ideal / span if span > 0 else 1.0
        print(f"  {label:36s} {len(times):5d} sends in {span:5.1f}s, the limit allows "
              f"{ideal:5.1f}s -> {share:.2f} of its rate used (goal >= 0.90)")
    await app.stop()


# -- 2. CPU per delivery with a deep queue --------------------------------------------


class Gate:
    """A platform whose deliveries wait for the gate, then return at once."""

    name = "gate"
    capabilities: frozenset[Any] = frozenset()

    def __init__(self, profile: RateProfile, sample: int) -> None:
        self.rate_profile = profile
        self.gate = asyncio.Event()
        self.count = 0
        self.sample = sample
        self.sampled = asyncio.Event()

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        await self.gate.wait()
        self.count += 1
        if self.count == self.sample:
            self.sampled.set()
        return Delivered(str(self.count))


def before_outbox() -> type[Any] | None:
    """The outbox module of commit ``BEFORE`` with its own rate limiter, if git has it."""
    try:
        ratelimit_src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BEFORE}:bot/core/ratelimit.py"],
            capture_output=True, text=True, check=True,
        ).stdout
        outbox_src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BEFORE}:bot/core/outbox.py"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    old_rl = types.ModuleType("old_ratelimit")
    sys.modules["old_ratelimit"] = old_rl  # dataclasses look their module up
    exec(compile(ratelimit_src, "old_ratelimit", "exec"), old_rl.__dict__)
    old = types.ModuleType("old_outbox")
    sys.modules["old_outbox"] = old  # dataclasses look their module up
    source = outbox_src.replace("from bot.core.ratelimit import", "from old_ratelimit import")
    exec(compile(source, "old_outbox", "exec"), old.__dict__)
    return old.Outbox  # type: ignore[no-any-return]


async def cpu_per_delivery(outbox_cls: type[Any], queued: int, channels: int) -> float:
    """CPU per delivery for the first ``channels`` deliveries with ``queued`` waiting.

    Each channel may send once an hour, so after its first send the rest of its queue
    waits on its window — the situation in which a rescan of the whole queue on every
    wake costs most (a busy bot: many channels, each with a backlog behind its limit).
    """
    db = storage.Database("sqlite+aiosqlite://")
    await upgrade(db.engine, [MigrationSource("core", ROOT / "bot/migrations/versions",
                                              storage.metadata)])

    async def report(*_: Any) -> None: ...

    profile = RateProfile("gate", (Limit("channel", 1, 3600.0),), 8)
    platform = Gate(profile, channels)
    outbox = outbox_cls(db, SystemClock(), report)
    await outbox.start({"gate": platform}, set())
    for i in range(queued):
        await outbox.submit(
            SendMessage(community=CommunityRef("gate", f"g{i % 50}"),
                        channel=ChannelRef("gate", f"c{i % channels}"),
                        content=Content.of(f"m{i}"))
        )
    before = time.process_time()
    platform.gate.set()
    await platform.sampled.wait()
    cpu = (time.process_time() - before) / platform.count
    await outbox.stop()
    await db.close()
    return cpu


async def cpu(scale: float) -> None:
    deep, channels = int(20_000 * scale), int(1000 * scale)
    now_deep = await cpu_per_delivery(Outbox, deep, channels)
    now_shallow = await cpu_per_delivery(Outbox, channels, channels)
    print(f"CPU per delivery with {deep} queued: {now_deep * 1e3:.2f} ms "
          f"(with {channels} queued: {now_shallow * 1e3:.2f} ms, ratio "
          f"{now_deep / now_shallow:.2f}; flat = no rescan)", flush=True)
    old = before_outbox()
    if old is not None:
        old_deep = await cpu_per_delivery(old, deep, channels)
        print(f"  before ({BEFORE}), {deep} queued: {old_deep * 1e3:.2f} ms per delivery -> "
              f"{old_deep / now_deep:.1f}x less CPU now")


# -- 3. forget_me with 100k outbox rows ----------------------------------------------


async def forget(rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = storage.Database(f"sqlite+aiosqlite:///{folder}/f.db")
        await upgrade(db.engine, [MigrationSource("core", ROOT / "bot/migrations/versions",
                                                  storage.metadata)])
        now = datetime.now(UTC)
        members = 5000
        batch: list[dict[str, Any]] = []
        subjects: list[dict[str, Any]] = []
        async with db.begin() as conn:
            for i in range(1, rows + 1):
                member = f"u{i % members}"
                text = f"[Member {member}](member:{member}) received 250 points"
                batch.append({
                    "id": i, "community": "telegram:g1", "platform": "telegram",
                    "action": {"kind": "send", "content": {"__content__": {"text": text}}},
                    "member": member if i % 4 == 0 else None, "direct": False,
                    "status": "sent", "attempts": 0, "not_before": now, "created_at": now,
                    "result": str(i),
                })  # fmt: skip
                subjects.append({"outbox_id": i, "member": member})
                if len(batch) == 5000:
                    await conn.execute(insert(storage.outbox), batch)
                    await conn.execute(insert(storage.outbox_subjects), subjects)
                    batch, subjects = [], []
            if batch:
                await conn.execute(insert(storage.outbox), batch)
                await conn.execute(insert(storage.outbox_subjects), subjects)
        began = time.perf_counter()
        await db.forget_member("telegram", "u42")
        took = time.perf_counter() - began
        print(f"forget_me at {rows} outbox rows: {took * 1e3:.0f} ms (goal <= 200 ms)")
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["buckets", "cpu", "forget"])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    if args.only in (None, "buckets"):
        asyncio.run(buckets("discord", discord_limits.RATE_PROFILE, args.scale))
        asyncio.run(buckets("telegram", telegram_limits.RATE_PROFILE, args.scale))
    if args.only in (None, "cpu"):
        asyncio.run(cpu(args.scale))
    if args.only in (None, "forget"):
        asyncio.run(forget(int(100_000 * args.scale)))


if __name__ == "__main__":
    main()
