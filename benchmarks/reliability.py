"""Reliability figures for the outbox: nothing lost, nothing twice, private stays private.

Run: ``.venv/bin/python benchmarks/reliability.py [--sends 10000] [--kills 20]``.

1. **Faults.** ``--sends`` actions (group posts, multi-part posts with a picture, private
   replies, DMs to members whose DMs are closed) go through the outbox to a fake platform
   that answers 429 (with the refused bucket), 500 before or *after* posting (the
   response lost), and drops its connection for short windows. The fake behaves as the
   contract asks of an adapter (private never public, parts recorded in ``Progress``, a
   create-message ``nonce`` = ``Progress.key`` + part that Discord enforces). Prints:
   actions lost, parts posted twice, private texts that reached a public channel —
   each must be 0.
2. **SIGKILL loop.** A child process runs the outbox on a file SQLite database and
   delivers to a fake that appends each posted part to a ledger file; it is killed
   ``--kills`` times mid-load (SIGKILL) and restarted, then runs to the end. Prints:
   actions lost, parts posted twice at the platform (what the nonce lets through), and
   repeats the nonce absorbed (what a platform without nonces, Telegram, would have shown
   twice: a kill between a part's success and its record).

Bounded in time: the fake's limits are generous (the faults are the point) and backoff
is shortened; a run takes a minute or two.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.core.actions import Action, SendMessage  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.messages import Attachment, Content  # noqa: E402
from bot.core.platform import (  # noqa: E402
    Delivered,
    NotConnected,
    Progress,
    RetryAfter,
    TransientError,
    Undeliverable,
)
from bot.core.ratelimit import Limit, RateProfile  # noqa: E402
from bot.core.refs import ChannelRef, CommunityRef, MemberRef  # noqa: E402
from bot.settings import Settings  # noqa: E402

PROFILE = RateProfile(
    "fake", (Limit("global", 2000, 1.0), Limit("chat", 50, 1.0), Limit("group", 400, 1.0)), 16
)
CLOSED_DMS = {f"u{i}" for i in range(0, 200, 7)}


class Misbehaving:
    """A platform that honours the adapter contract while its API misbehaves.

    ``ledger`` (a file) gets one line per part really posted; ``public`` keeps the text
    of everything posted where others can read it.
    """

    name = "fake"
    capabilities: frozenset[Any] = frozenset()
    rate_profile = PROFILE

    def __init__(self, seed: int, ledger: Path | None = None, faults: bool = True) -> None:
        self.rng = random.Random(seed)
        self.faults = faults
        self.connected = asyncio.Event()
        self.connected.set()
        self.posted: Counter[tuple[str, int]] = Counter()  # (progress key, part) -> posts
        self.absorbed = 0  # resends the nonce turned into no-ops
        self.nonces: dict[tuple[str, int], str] = {}
        self.public: list[str] = []
        self.private: list[str] = []
        self.ledger = None
        if ledger is not None:
            # the platform remembers nonces across *our* restarts, as Discord's server does
            if ledger.exists():
                for line in ledger.read_text().splitlines():
                    mark, key, part = line.split()
                    if mark == "P":
                        self.nonces[(key, int(part))] = f"{key}.{part}"
            self.ledger = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self._outages: asyncio.Task[None] | None = None

    async def start(self, app: App) -> None:
        if self.faults:
            self._outages = asyncio.get_running_loop().create_task(self._flap())

    async def stop(self) -> None:
        if self._outages is not None:
            self._outages.cancel()

    async def _flap(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))
            self.connected.clear()  # the gateway drops; REST answers "not connected"
            await asyncio.sleep(self.rng.uniform(0.05, 0.3))
            self.connected.set()

    async def wait_ready(self) -> None:
        await self.connected.wait()

    def rate_keys(self, action: Action) -> tuple[tuple[str, str], ...]:
        assert isinstance(action, SendMessage)
        if action.channel is None:
            assert action.member is not None
            return (("global", "*"), ("chat", f"dm{action.member.id}"))
        return (("global", "*"), ("group", action.community.id), ("chat", action.channel.id))

    def _record(self, key: tuple[str, int], text: str, public: bool) -> str:
        if key in self.nonces:  # Discord: same nonce within minutes -> the same message
            self.absorbed += 1
            if self.ledger is not None:
                os.write(self.ledger, f"A {key[0]} {key[1]}\n".encode())
            return self.nonces[key]
        self.posted[key] += 1
        message_id = f"{key[0]}.{key[1]}"
        self.nonces[key] = message_id
        (self.public if public else self.private).append(text)
        if self.ledger is not None:
            os.write(self.ledger, f"P {key[0]} {key[1]}\n".encode())
        return message_id

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        assert isinstance(action, SendMessage) and progress is not None
        await asyncio.sleep(0)
        if not self.connected.is_set():
            raise NotConnected("reconnecting")
        text = str(action.content.text)
        private = action.channel is None or action.private
        if private and action.member is not None and action.member.id in CLOSED_DMS:
            raise Undeliverable("the member's DMs are closed")  # never a public post
        parts = 1 + len(action.content.attachments)
        for part in range(parts):
            if part in progress.parts:
                continue
            roll = self.rng.random() if self.faults else 1.0
            if roll < 0.08:
                raise RetryAfter(self.rng.uniform(0.01, 0.2), "chat", self.rate_keys(action)[-1])
            if roll < 0.12:
                raise TransientError("500 Internal Server Error")
            message_id = self._record((progress.key, part), text, not private)
            if roll < 0.15:
                raise TransientError("502 after the message was created (response lost)")
            progress.parts[part] = message_id
        return Delivered(progress.parts.get(0))

    async def privilege_of(self, community: Any, member: Any) -> Any: ...

    async def resolve(self, community: Any, kind: Any, token: str) -> Any: ...

    def default_channel(self, community: Any) -> ChannelRef | None:
        return ChannelRef("fake", "admins")


def actions(count: int, seed: int) -> list[tuple[SendMessage, bool]]:
    """A mix: posts, posts with a picture, private replies, DMs (some to closed DMs)."""
    rng = random.Random(seed)
    picture = Attachment("card.png", b"\x89PNG....", image=True)
    out: list[tuple[SendMessage, bool]] = []
    for i in range(count):
        community = CommunityRef("fake", f"g{i % 5}")
        channel = ChannelRef("fake", f"c{i % 40}")
        member = MemberRef("fake", f"u{rng.randrange(200)}", f"Member {i}")
        kind = rng.random()
        if kind < 0.45:
            out.append((SendMessage(community=community, channel=channel,
                                    content=Content.of(f"post {i}")), False))
        elif kind < 0.6:
            out.append((SendMessage(community=community, channel=channel,
                                    content=Content.of(f"rank {i}", attachments=[picture])),
                        False))
        elif kind < 0.8:
            out.append((SendMessage(community=community, channel=channel, member=member,
                                    private=True, content=Content.of(f"secret vote {i}"),
                                    reply_to="event"), True))
        else:
            out.append((SendMessage(community=community, member=member,
                                    content=Content.of(f"private note {i}"),
                                    fallback=Content.of(f"open your DMs {i}"),
                                    fallback_channel=channel), False))
    return out


def app_for(platform: Misbehaving, url: str) -> App:
    return App(
        Settings(_env_file=None, database_url=url),  # type: ignore[call-arg]
        clock=SystemClock(), platforms=[platform], plugins=[],
    )


def tune(app: App) -> None:
    # keep the run bounded: errors back off from 10 ms, "not connected" pauses 10 ms
    app.outbox.backoff_base = 0.01
    app.outbox.not_connected_pause = 0.01


async def faults(count: int) -> None:
    platform = Misbehaving(seed=1)
    with tempfile.TemporaryDirectory() as folder:
        app = app_for(platform, f"sqlite+aiosqlite:///{folder}/r.db")
        await app.start()
        tune(app)
        started = time.monotonic()
        sent = actions(count, seed=2)
        ids = [await app.outbox.submit(a, direct=d) for a, d in sent]
        await app.outbox.idle(timeout=1800)
        took = time.monotonic() - started
        counts = await app.db.outbox_counts()
        lost = 0
        for action_id, (action, _) in zip(ids, sent, strict=True):
            parts = 1 + len(action.content.attachments)
            private = action.channel is None or action.private
            closed = private and action.member is not None and action.member.id in CLOSED_DMS
            done = all(platform.posted[(f"mj{action_id}", p)] for p in range(parts))
            if not done and not closed:
                lost += 1
        twice = sum(n - 1 for n in platform.posted.values() if n > 1)
        secrets = {str(a.content.text) for a, _ in sent if a.channel is None or a.private}
        leaked = sum(1 for text in platform.public if text in secrets)
        fallbacks = sum(1 for text in platform.public if text.startswith("open your DMs"))
        print(f"faults: {count} sends in {took:.1f}s; outbox {app.outbox.stats}; rows {counts}")
        print(f"  lost: {lost} (goal 0); parts posted twice: {twice} (goal 0); private texts "
              f"made public: {leaked} (goal 0); public fallbacks for closed DMs: {fallbacks}; "
              f"resends the nonce absorbed: {platform.absorbed}")
        await app.stop()


# -- the SIGKILL loop ---------------------------------------------------------------------


async def child(db: Path, ledger: Path, count: int, faults: bool) -> None:
    """Queue the workload once (in batches, recorded), then deliver until told to stop."""
    platform = Misbehaving(seed=os.getpid(), ledger=ledger, faults=faults)
    app = app_for(platform, f"sqlite+aiosqlite:///{db}")
    await app.start()
    tune(app)
    queued = db.with_suffix(".queued")
    done = int(queued.read_text()) if queued.exists() else 0
    work = actions(count, seed=3)
    for start in range(done, count, 50):
        # an action counts as queued once submit returned: the row is committed
        for action, direct in work[start : start + 50]:
            await app.outbox.submit(action, direct=direct)
        queued.write_text(str(min(start + 50, count)))
    await app.outbox.idle(timeout=3600)
    print("drained", flush=True)
    await app.stop()


def kill_loop(count: int, kills: int, faults: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db, ledger = Path(folder) / "k.db", Path(folder) / "ledger"
        command = [sys.executable, __file__, "--child", str(db), str(ledger), str(count),
                   "yes" if faults else "no"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        rng = random.Random(4)
        started = time.monotonic()
        for _ in range(kills):
            proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.5, 4.0))  # start-up (~1 s), then mid-load
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        out, _ = proc.communicate(timeout=1800)
        took = time.monotonic() - started
        lines = [line.split() for line in ledger.read_text().splitlines()]
        posted = Counter((key, part) for mark, key, part in lines if mark == "P")
        absorbed = sum(1 for mark, _, _ in lines if mark == "A")
        marker = db.with_suffix(".queued")
        queued = int(marker.read_text()) if marker.exists() else 0
        report = asyncio.run(_stored(db))
        lost = 0
        for action_id, parts, private_closed in report:
            if private_closed:
                continue
            if not all(posted[(f"mj{action_id}", str(p))] for p in range(parts)):
                lost += 1
        twice = sum(n - 1 for n in posted.values() if n > 1)
        what = "with API faults" if faults else "healthy API"
        print(f"SIGKILL loop ({what}): {kills} kills, {len(report)} actions stored "
              f"({queued} queued by the load), drained: "
              f"{'yes' if b'drained' in out else 'no'}, in {took:.0f}s")
        print(f"  lost: {lost} (goal 0); parts posted twice: {twice} (goal 0); resends the "
              f"nonce absorbed: {absorbed} (a platform without nonces would show these twice)")


async def _stored(db: Path) -> list[tuple[int, int, bool]]:
    from sqlalchemy import select

    from bot.core import storage

    database = storage.Database(f"sqlite+aiosqlite:///{db}")
    out = []
    async with database.connect() as conn:
        for row in await conn.execute(select(storage.outbox.c.id, storage.outbox.c.action)):
            action = Action.from_json(row.action)
            if not isinstance(action, SendMessage) or action.community.id == "admins":
                continue
            if action.channel is not None and action.channel.id == "admins":
                continue  # a report to admins, not part of the load
            private = action.channel is None or action.private
            closed = private and action.member is not None and action.member.id in CLOSED_DMS
            is_fallback = str(action.content.text).startswith("open your DMs")
            out.append((row.id, 1 + len(action.content.attachments), closed or is_fallback))
    await database.close()
    return out


def main() -> None:
    # every retry is logged as a warning; thousands of them are the point here
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--load", type=int, default=3000, help="actions in the SIGKILL loop")
    parser.add_argument("--kill-faults", choices=["yes", "no"], default="yes",
                        help="inject API faults during the SIGKILL loop too")
    parser.add_argument("--child", nargs=4, metavar=("DB", "LEDGER", "COUNT", "FAULTS"))
    args = parser.parse_args()
    if args.child:
        db, ledger, count, faulty = args.child
        asyncio.run(child(Path(db), Path(ledger), int(count), faulty == "yes"))
        return
    if args.sends:
        asyncio.run(faults(args.sends))
    if args.kills:
        kill_loop(args.load, args.kills, args.kill_faults == "yes")


if __name__ == "__main__":
    main()
