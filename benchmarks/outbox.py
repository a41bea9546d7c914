"""The outbox against platforms that enforce their real limits, and its hot path.

Run: ``.venv/bin/python benchmarks/outbox.py [--only buckets|cpu|forget] [--scale 1.0]
[--runs 1]``.

It prints, in one run:

1. **Buckets.** A mixed workload (group posts, DMs, callback answers, edits) through the
   outbox to a fake Telegram and a fake Discord that answer 429 (with the refused bucket)
   whenever a send would break the limits of ``bot/adapters/*_limits.py``. The outbox files
   actions under the real adapters' ``rate_keys``; the fakes count them where the platforms
   do. Per real bucket: the share of its allowed rate used while it had work (goal >= 0.90),
   the 429s answered, and the actions lost (goal 0). The Telegram run lasts about a
   minute: one group window (20/min) must pass. ``--runs 3`` repeats it (stability).
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

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.adapters import discord as discord_adapter  # noqa: E402
from bot.adapters import discord_limits, telegram_limits  # noqa: E402
from bot.adapters.discord import DiscordPlatform  # noqa: E402
from bot.adapters.telegram import Handle as TelegramHandle  # noqa: E402
from bot.adapters.telegram import TelegramPlatform  # noqa: E402
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
from bot.settings import DiscordSettings, Settings, TelegramSettings  # noqa: E402

#: The outbox before per-bucket queues, for the CPU comparison.
BEFORE = "7fb97eb"

Bucket = tuple[str, str]


# -- 1. buckets -------------------------------------------------------------------------


class Enforcer:
    """A platform that answers 429 whenever a send would break its real limits.

    The outbox files each action under the buckets of the real adapter (``rate_keys`` of
    :class:`TelegramPlatform` or :class:`DiscordPlatform`); this platform keeps its own
    model of where each call counts (:meth:`truth`), written from the platforms' documents,
    not from the adapter: on Telegram a post to a group counts against the global 30/s, that
    chat's 1/s and that group's 20/min, a DM against the global limit and the member's chat,
    a callback answer against nothing; on Discord a message against the global 50/s and its
    channel's (or DM channel's) route, an edit against the edit route, an interaction
    response against its webhook only.
    """

    capabilities: frozenset[Any] = frozenset()

    def __init__(self, name: str, adapter: Any) -> None:
        self.name = name
        self.adapter = adapter
        self.rate_profile = adapter.rate_profile
        self.rate_keys = adapter.rate_keys  # what the outbox sees: the adapter's own code
        self.limits = {limit.scope: limit for limit in self.rate_profile.limits}
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

    def truth(self, action: Action) -> tuple[Bucket, ...]:
        """Where the platform counts this call (independent of the adapter's ``rate_keys``)."""
        every = ("global", "*")
        answer = isinstance(action, SendMessage) and action.private and action.reply_to
        if self.name == "telegram":
            t = telegram_limits
            if answer:
                return ()  # answerCallbackQuery counts against no chat
            if isinstance(action, SendMessage) and action.channel is None:
                assert action.member is not None
                return (every, (t.CHAT, action.member.id))
            chat = action.channel.id
            keys: tuple[Bucket, ...] = (every, (t.CHAT, chat))
            if isinstance(action, SendMessage) and int(chat) < 0:
                keys += ((t.GROUP, chat),)  # messages *to* the group
            return keys
        d = discord_limits
        if answer:
            assert isinstance(action, SendMessage)
            return ((d.ROUTE_FOLLOWUP, discord_adapter._reply_key(action)),)  # no global
        if isinstance(action, SendMessage) and action.channel is None:
            return (every, (d.ROUTE_MESSAGES, discord_adapter._dm_key(action.member)))
        if isinstance(action, EditMessage):
            assert action.channel is not None
            return (every, (d.ROUTE_EDIT, action.channel.id))
        return (every, (d.ROUTE_MESSAGES, action.channel.id))

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        await asyncio.sleep(0.002)  # a request's round trip on loopback
        now = time.monotonic()
        keys = self.truth(action)
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


def adapter_of(name: str) -> Any:
    """The real adapter (never started): only its ``rate_keys`` and profile are used."""
    if name == "telegram":
        return TelegramPlatform(TelegramSettings(token=SecretStr("1:benchmark")))
    return DiscordPlatform(DiscordSettings(token=SecretStr("benchmark")))


#: The member whose private chat is busy on its own (Telegram 1/s, Discord 5/5 s).
BUSY = "999"


def workload(name: str, scale: float, adapter: Any) -> list[tuple[Action, bool, Any]]:
    """Group posts, DMs, callback answers and edits, interleaved as a busy bot sends them.

    Each entry is (action, direct, reply handle). Telegram groups are chats ``-1000``...,
    Discord channels ``100``...; members are numbered from 1000.
    """
    rng = random.Random(7)
    groups = 3 if name == "telegram" else 1
    channels = 3 if name == "telegram" else 4
    posts_per_channel = 21  # one full window and one more send, per channel
    members = int((900 if name == "telegram" else 400) * scale)
    out: list[tuple[Action, bool, Any]] = []
    n = 0

    def text() -> Content:
        nonlocal n
        n += 1
        return Content.of(f"{name}-{n}")

    def community(i: int) -> CommunityRef:
        return CommunityRef(name, f"-{1000 + i % groups}" if name == "telegram" else "1")

    def channel(i: int) -> ChannelRef:
        return ChannelRef(name, f"-{1000 + i % groups}" if name == "telegram"
                          else f"{100 + i % channels}")

    for i in range(channels * posts_per_channel):
        out.append((SendMessage(community=community(i), channel=channel(i), content=text()),
                    False, None))
    for m in range(members):
        member = MemberRef(name, str(1000 + m))
        for _ in range(2):
            out.append((SendMessage(community=community(m), member=member, content=text()),
                        True, None))
        if m % 3 == 0:
            # a private answer to a press on the button message 7 of the member's group
            where = channel(m)
            handle: Any = None
            if name == "telegram":
                handle = TelegramHandle(int(where.id), callback_id=f"q{m}")
                adapter.remember_press(int(where.id), 7, member.id, handle)
            out.append((SendMessage(community=community(m), channel=where, member=member,
                                    content=text(), reply_to="7", private=True), True, handle))
    for _ in range(15):
        out.append((SendMessage(community=community(0), member=MemberRef(name, BUSY),
                                content=text()), True, None))
    rng.shuffle(out)
    return out


def utilisation(label: str, times: list[float], count: int, seconds: float) -> None:
    """The share of a bucket's allowed rate used from its first send to its last.

    A chat's last message has only itself queued: while the global limit is saturated it
    waits behind chats with more queued (the outbox serves the longest first), no longer
    held back by its own window. Such a tail (a gap of more than two windows before the
    last send) is shown apart, not counted as the bucket's work.
    """
    tail = ""
    if len(times) > 2 and times[-1] - times[-2] > 2 * seconds:
        gap = times[-1] - times[-2]
        tail = f" (then its last send {gap:.0f}s later, held by the global limit)"
        times = times[:-1]
    windows = (len(times) - 1) // count
    if windows <= 0:
        print(f"  {label:44s} {len(times):5d} sends: never saturated")
        return
    ideal = windows * seconds
    span = times[-1] - times[0]
    share = ideal / span if span > 0 else 1.0
    print(f"  {label:44s} {len(times):5d} sends in {span:5.1f}s, the limit allows "
          f"{ideal:5.1f}s -> {share:.2f} of its rate used (goal >= 0.90){tail}")


async def buckets(name: str, scale: float) -> None:
    adapter = adapter_of(name)
    platform = Enforcer(name, adapter)
    app = App(
        Settings(_env_file=None, database_url="sqlite+aiosqlite://"),  # type: ignore[call-arg]
        clock=SystemClock(),
        platforms=[platform],
        plugins=[],
    )
    await app.start(connect=False)
    actions = workload(name, scale, adapter)
    started = time.monotonic()
    posted: list[int] = []
    expected = [str(a.content.text) for a, _, _ in actions if isinstance(a, SendMessage)]
    for action, direct, handle in actions:
        posted.append(await app.outbox.submit(action, direct=direct, reply_handle=handle))
    # edits of messages already sent in a group or channel (they wait for their original)
    for original in posted[:: max(len(posted) // 60, 1)][:60]:
        source = actions[posted.index(original)][0]
        assert isinstance(source, SendMessage)
        if source.channel is None or source.private:
            continue  # edits of posts in a group or channel only
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
    answers = [str(a.content.text) for a, _, _ in actions
               if isinstance(a, SendMessage) and a.private]  # fmt: skip
    dms = [str(a.content.text) for a, _, _ in actions
           if isinstance(a, SendMessage) and a.channel is None and a.member is not None
           and a.member.id != BUSY]  # fmt: skip
    dm_end = max(platform.when[t] for t in dms)
    lim = platform.limits
    every = [t for t in platform.times.get(("global", "*"), []) if t <= dm_end]
    utilisation("global", every, lim["global"].count, lim["global"].seconds)
    if name == "telegram":
        t = telegram_limits
        for label, key in (("group -1000 (20/min)", (t.GROUP, "-1000")),
                           ("a busy private chat (1/s)", (t.CHAT, BUSY))):
            utilisation(label, platform.times.get(key, []), lim[key[0]].count,
                        lim[key[0]].seconds)
    else:
        d = discord_limits
        for label, key in (("channel 101 messages (5/5s)", (d.ROUTE_MESSAGES, "101")),
                           ("a busy DM channel messages (5/5s)",
                            (d.ROUTE_MESSAGES, discord_adapter._dm_key(MemberRef(name, BUSY))))):
            utilisation(label, platform.times.get(key, []), lim[key[0]].count,
                        lim[key[0]].seconds)
        edits = sum(len(v) for k, v in platform.times.items() if k[0] == d.ROUTE_EDIT)
        print(f"  {'edits (PATCH route, by channel)':44s} {edits:5d} sends, never refused")
    first = min(platform.when[t] for t in answers) - started
    last = max(platform.when[t] for t in answers) - started
    outside = "no chat limit, not global" if name == "telegram" else "webhook only, not global"
    print(f"  {'callback answers / interaction responses':44s} {len(answers):5d} sends from "
          f"{first:.1f}s to {last:.1f}s ({outside})")
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
    parser.add_argument("--runs", type=int, default=1, help="bucket runs (stability)")
    args = parser.parse_args()
    if args.only in (None, "buckets"):
        for _ in range(args.runs):
            asyncio.run(buckets("discord", args.scale))
            asyncio.run(buckets("telegram", args.scale))
    if args.only in (None, "cpu"):
        asyncio.run(cpu(args.scale))
    if args.only in (None, "forget"):
        asyncio.run(forget(int(100_000 * args.scale)))


if __name__ == "__main__":
    main()
