"""Interaction replies under load: /help and a poll vote while 5,000 messages/s are offered.

Run: ``.venv/bin/python benchmarks/interactions.py [--rate 5000] [--seconds 20]``.

The default plugin set (every plugin found, those in ``disabled_by_default`` off, as
``run.py`` loads them) runs on a SQLite file with a stand-in Discord platform: Discord's
rate profile and per-route buckets, and a fixed latency per API call. Realistic messages
(many channels, uneven member activity, replies, mentions, 1% thanks) are offered at
``--rate`` for ``--seconds``; every ``--every`` seconds a ``/help`` command and a vote
button press arrive. For each it measures, from the moment the event is submitted to the
dispatcher (as the gateway does), until its reply is handed to the outbox
(``Outbox.submit``) and until the stand-in platform delivered it.

It also prints the offered message rate and the achieved one (messages the dispatcher
handled per second while offering; lower when the event loop falls behind), and how much
background work the outbox held (the warm-up's first-message badges and notes, queued at
Discord's 50 requests/s: the backlog direct replies must not wait behind).

The same run is made twice on fresh databases: with interaction priority (the dispatcher
and the outbox put commands, buttons and their replies ahead of background work) and
without it, so the ratio is measured in one run. Goal: reply into the outbox p99 <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import ButtonPressed, CommandInvoked, MessagePosted  # noqa: E402
from bot.adapters import discord_limits  # noqa: E402
from bot.adapters.discord import DiscordPlatform  # noqa: E402
from bot.app import App  # noqa: E402
from bot.core import dispatch, outbox  # noqa: E402
from bot.core.capabilities import Capability  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.platform import Delivered, Progress  # noqa: E402
from bot.core.privilege import Privilege  # noqa: E402
from bot.core.refs import ChannelRef, CommunityRef, MemberRef  # noqa: E402
from bot.settings import Settings  # noqa: E402

GUILD = "81384788765712384"
COMMUNITY = CommunityRef("discord", GUILD)
OWNER = "70000"
TEXTS = (
    "hello everyone", "good morning", "ok", "does anyone know how to fix this?",
    "lol", "I will be at the meetup on Friday", "here is the link to the document",
    "same", "great idea, let's do it", "has anyone tried the new build?",
)


@dataclass
class Handle:
    """The stand-in's interaction handle: names the interaction it answers."""

    key: str


@dataclass
class Timings:
    """When each interaction was submitted, reached the outbox and was delivered."""

    submitted: dict[str, float] = field(default_factory=dict)
    in_outbox: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    sent: int = 0


class StandIn:
    """A platform named ``discord``: Discord's buckets, a fixed latency per call."""

    name = "discord"
    capabilities = frozenset({Capability.BUTTONS, Capability.EPHEMERAL,
                              Capability.DIRECT_MESSAGES, Capability.EDIT_MESSAGES})
    rate_profile = discord_limits.RATE_PROFILE
    limits = discord_limits.LIMITS

    def __init__(self, timings: Timings, latency: float) -> None:
        """Record deliveries of interaction replies into ``timings``."""
        self.timings = timings
        self.latency = latency

    async def start(self, app: App) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def wait_ready(self) -> None:
        """Always connected."""

    def rate_keys(self, action: Any) -> tuple[tuple[str, str], ...]:
        """The Discord adapter's own buckets for the action."""
        return DiscordPlatform.rate_keys(self, action)  # type: ignore[arg-type]

    async def deliver(
        self, action: Any, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        """Take one API call's time, then record it."""
        await asyncio.sleep(self.latency)
        self.timings.sent += 1
        if isinstance(reply_handle, Handle):
            self.timings.delivered.setdefault(reply_handle.key, time.perf_counter())
        return Delivered(str(self.timings.sent))

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """The owner, and members."""
        return Privilege.OWNER if member.id == OWNER else Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Any, token: str) -> Any:
        """Nothing resolves."""
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """The first channel."""
        return ChannelRef("discord", "1000")


# -- traffic ------------------------------------------------------------------------------


def members(count: int) -> list[MemberRef]:
    """Members with platform ids."""
    return [MemberRef("discord", str(100_000 + i), f"member{i}") for i in range(count)]


def messages(
    count: int, people: list[MemberRef], channels: int, seed: int, prefix: str
) -> list[MessagePosted]:
    """Realistic guild messages: uneven activity, replies, mentions, 1% thanks."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) ** 0.9 for i in range(len(people))]  # a few talk a lot
    authors = rng.choices(people, weights, k=count)
    rooms = [ChannelRef("discord", str(1000 + i)) for i in range(channels)]
    room_weights = [1 / (i + 1) ** 0.7 for i in range(channels)]
    where = rng.choices(rooms, room_weights, k=count)
    out: list[MessagePosted] = []
    for i in range(count):
        author = authors[i]
        text = rng.choice(TEXTS) if rng.random() < 0.7 else f"{rng.choice(TEXTS)} {i}"
        other = people[rng.randrange(len(people))]
        mentions: tuple[MemberRef, ...] = ()
        reply_to = reply_member = None
        roll = rng.random()
        if roll < 0.01 and other != author:
            text, mentions = f"thanks <@{other.id}> for the help", (other,)
        elif roll < 0.06:
            text, mentions = f"<@{other.id}> {text}", (other,)
        elif roll < 0.16:
            reply_to, reply_member = str(rng.randrange(1 << 40)), other
        out.append(MessagePosted(
            id=f"{prefix}{i}", community=COMMUNITY, member=author, channel=where[i],
            message_id=f"{prefix}{i}", text=text, reply_to=reply_to,
            reply_to_member=reply_member, mentions=mentions, durable=False,
        ))
    return out


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values fall."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- one run -------------------------------------------------------------------------------


@dataclass
class Result:
    """What one run measured."""

    label: str
    offered: float
    achieved: float
    lag: float
    outbox: dict[str, list[float]]
    delivered: dict[str, list[float]]
    missing: int
    queued: int
    backlog: int


async def one_run(label: str, args: argparse.Namespace, folder: Path, priority: bool) -> Result:
    """Start a fresh app, warm it up, offer the load, and measure the interactions."""
    dispatch.INTERACTIONS_FIRST = priority
    outbox.DIRECT_FIRST = priority
    timings = Timings()
    platform = StandIn(timings, args.latency)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        disabled_by_default=["example"])
    app = App(settings, clock=SystemClock(), platforms=[platform])
    await app.start()
    await app.register_community(COMMUNITY)
    submit = app.dispatcher.submit
    real_submit = app.outbox.submit

    async def watched(action: Any, **kwargs: Any) -> int:
        handle = kwargs.get("reply_handle")
        if isinstance(handle, Handle):
            timings.in_outbox.setdefault(handle.key, time.perf_counter())
        return await real_submit(action, **kwargs)

    app.outbox.submit = watched
    people = members(args.members)
    owner = MemberRef("discord", OWNER, "owner")
    general = ChannelRef("discord", "1000")

    # every member known (posted once), and one open poll: the steady state, not timed
    warm = messages(args.members, people, args.channels, 1, "w")
    for i, (event, person) in enumerate(zip(warm, people, strict=True)):
        submit(MessagePosted(id=event.id, community=COMMUNITY, member=person,
                             channel=event.channel, message_id=event.id, text=event.text,
                             durable=False))
        if i % 500 == 499:
            await asyncio.sleep(0)
    submit(CommandInvoked(id="poll", community=COMMUNITY, member=owner, channel=general,
                          name="poll", text='"Lunch?" "Rice | Bread | Soup" duration=3d',
                          reply_handle=Handle("poll"), durable=False))
    await app.dispatcher.idle()
    await asyncio.sleep(1.0)
    backlog = app.outbox.queued()

    count = int(args.rate * args.seconds)
    load = messages(count, people, args.channels, 2, "m")
    started = time.perf_counter()
    handled_before = app.dispatcher.handled
    sent = 0
    next_interaction = 0.0
    n = 0
    lag = 0.0
    while sent < count:
        now = time.perf_counter() - started
        due = min(count, int(now * args.rate))
        if due > sent:
            lag = max(lag, (due - sent) / args.rate)
        while sent < due:
            # a gateway connection yields between frames, in bursts of at most 500
            batch = min(due, sent + 500)
            for event in load[sent:batch]:
                submit(event)
            sent = batch
            await asyncio.sleep(0)
        if now >= next_interaction:
            next_interaction += args.every
            voter = people[(n * 7919) % len(people)]
            pair: tuple[tuple[str, CommandInvoked | ButtonPressed], ...] = (
                ("help", CommandInvoked(
                    id=f"help{n}", community=COMMUNITY, member=voter, channel=general,
                    name="help", reply_handle=Handle(f"help{n}"), durable=False)),
                ("vote", ButtonPressed(
                    id=f"vote{n}", community=COMMUNITY, member=voter, channel=general,
                    message_id="1", payload=_vote(app, n % 3),
                    reply_handle=Handle(f"vote{n}"), durable=False)),
            )
            for kind, interaction in pair:
                timings.submitted[f"{kind}{n}"] = time.perf_counter()
                submit(interaction)
            n += 1
        await asyncio.sleep(0.005)
    offered_for = time.perf_counter() - started
    handled = app.dispatcher.handled - handled_before
    # let the last interactions be answered (bounded), then stop
    for _ in range(int(args.drain / 0.05)):
        if len(timings.delivered) >= len(timings.submitted):
            break
        await asyncio.sleep(0.05)
    queued = app.outbox.queued()
    for task in list(app.dispatcher._tasks):
        task.cancel()
    await app.stop()

    def spans(marks: dict[str, float], kind: str) -> list[float]:
        return [marks[k] - t for k, t in timings.submitted.items()
                if k.startswith(kind) and k in marks]

    return Result(
        label=label,
        offered=count / args.seconds,
        achieved=handled / offered_for,
        lag=lag,
        outbox={k: spans(timings.in_outbox, k) for k in ("help", "vote")},
        delivered={k: spans(timings.delivered, k) for k in ("help", "vote")},
        missing=len(timings.submitted) - len(timings.delivered),
        queued=queued,
        backlog=backlog,
    )


def _vote(app: App, option: int) -> Any:
    """A press on option ``option`` of poll 1 (the plugin's own payload class)."""
    vote_class = next(p for p in app.dispatcher._buttons if p.__name__ == "Vote")
    return vote_class(poll=1, option=option)


def line(name: str, values: list[float]) -> str:
    """p50/p99/max in milliseconds."""
    return (f"{name}: p50 {percentile(values, 0.5) * 1e3:8.1f}  p99 "
            f"{percentile(values, 0.99) * 1e3:8.1f}  max "
            f"{max(values, default=float('nan')) * 1e3:8.1f} ms  (n={len(values)})")


async def run(args: argparse.Namespace) -> None:
    """Both runs, then the figures and ratios."""
    logging.basicConfig(level=logging.ERROR)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, priority in (("priority on", True), ("priority off", False)):
            folder = Path(tmp) / label.replace(" ", "_")
            results.append(await one_run(label, args, folder, priority))
    print(f"default plugins, {args.members:,} members, {args.channels} channels, "
          f"{args.rate:,.0f} messages/s offered for {args.seconds:.0f} s, an interaction "
          f"pair every {args.every * 1e3:.0f} ms, {args.latency * 1e3:.0f} ms per API call")
    for result in results:
        print(f"\n[{result.label}] offered {result.offered:,.0f} msgs/s, achieved "
              f"{result.achieved:,.0f} msgs/s, producer lag max {result.lag * 1e3:.0f} ms, "
              f"undelivered interactions {result.missing}, outbox queued after warm-up "
              f"{result.backlog}, at the end {result.queued}")
        for kind in ("help", "vote"):
            print("  " + line(f"/{kind} into outbox" if kind == "help" else
                              "vote into outbox", result.outbox[kind]))
            print("  " + line(f"/{kind} delivered  " if kind == "help" else
                              "vote delivered  ", result.delivered[kind]))
    on, off = results
    print()
    for kind in ("help", "vote"):
        for stage, on_v, off_v in (("into outbox", on.outbox[kind], off.outbox[kind]),
                                   ("delivered", on.delivered[kind], off.delivered[kind])):
            a, b = percentile(on_v, 0.99), percentile(off_v, 0.99)
            if not off_v:
                print(f"{kind} {stage}: off: none within the run and {args.drain:.0f} s after; "
                      f"on: p99 {a * 1e3:.0f} ms")
            else:
                print(f"{kind} {stage}: p99 off/on = {b / a:.1f}x")
    worst = max(percentile(on.outbox[k], 0.99) for k in ("help", "vote"))
    print(f"goal: reply into the outbox p99 <= 300 ms: {worst * 1e3:.0f} ms "
          f"({'met' if worst <= 0.3 else 'NOT met'})")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between interactions")
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds to wait for the last replies after the load")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
