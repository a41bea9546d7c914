"""The message hot path: Discord payloads -> adapter -> dispatcher -> contributions -> SQLite.

Run: ``.venv/bin/python benchmarks/hot_path.py [--messages 100000] [--baseline 5000]``.

The adapter turns a guild MESSAGE_CREATE payload into the core event without building
discord.py's ``discord.Message`` (bot/adapters/discord_gateway.py; DiscordPlatform installs
it in discord.py's parser table), so the reference cost is discord.py's own parse of the
same payloads, measured in the same run.

It prints:
- messages per second through the whole path (translation, dispatch, plugin, SQLite);
- the ratio of that per-message cost to discord.py's own parse of the same payloads into
  ``discord.Message`` objects (goal: <= 2.0);
- how many times faster it is than a straightforward plugin that commits each XP update in
  its own transaction (measured on ``--baseline`` messages and scaled; goal: >= 10);
- whether every member's XP equals what the rules say ("XP exact: yes").

The event loop is given a turn every 500 messages, as a gateway connection reading frames
would; that is when the once-a-second flush runs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from bot import Context, MessagePosted, Plugin, on  # noqa: E402
from bot.adapters.discord_gateway import RefCache, message_posted_from_payload  # noqa: E402
from bot.app import App  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.platform import Delivered  # noqa: E402
from bot.core.privilege import Privilege  # noqa: E402
from bot.core.ratelimit import UNLIMITED  # noqa: E402
from bot.core.refs import ChannelRef, CommunityRef, MemberRef  # noqa: E402
from bot.settings import Settings  # noqa: E402
from plugins.contributions import Contributions  # noqa: E402
from plugins.contributions.tables import xp_daily  # noqa: E402

GUILD, CHANNEL = 81_384_788_765_712_384, 81_384_788_765_712_385
BOT_ID = 81_384_788_765_712_000
DISCORD_EPOCH_MS = 1_420_070_400_000
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MEMBERS = 1000
XP, COOLDOWN, MIN_LENGTH, RECENT_TEXTS = 15, 60, 5, 8
TEXTS = (
    "hello everyone", "good morning", "ok", "does anyone know how to fix this?",
    "thanks for the help earlier", "lol", "I will be at the meetup on Friday",
    "here is the link to the document", "same", "great idea, let's do it",
)


# -- payloads and discord.py's own parse ---------------------------------------------------


def payloads(count: int, seed: int = 8, *, warm_up: bool = False) -> list[Any]:
    """MESSAGE_CREATE ``d`` objects as the gateway sends them.

    ``warm_up``: one message per member an hour before ``START`` (every member known).
    """
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    at = START - timedelta(hours=1) if warm_up else START
    for i in range(MEMBERS if warm_up else count):
        at += timedelta(milliseconds=rng.randint(50, 1200))
        user = i if warm_up else rng.randrange(MEMBERS)
        if warm_up:
            i += 1 << 20
        ms = int(at.timestamp() * 1000)
        out.append({
            "id": str(((ms - DISCORD_EPOCH_MS) << 22) | (i & 0xFFF)),
            "channel_id": str(CHANNEL),
            "guild_id": str(GUILD),
            "author": {"id": str(10_000 + user), "username": f"member{user}",
                       "discriminator": "0", "global_name": f"Member {user}", "avatar": None},
            "member": {"roles": [], "joined_at": "2025-06-01T00:00:00+00:00", "deaf": False,
                       "mute": False, "flags": 0},
            "content": rng.choice(TEXTS) if rng.random() < 0.7 else f"{rng.choice(TEXTS)} {i}",
            "timestamp": at.isoformat(timespec="microseconds"),
            "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
            "pinned": False, "type": 0,
        })
    return out


def discord_state() -> tuple[Any, discord.TextChannel]:
    """A ConnectionState with one guild and one text channel, built without a network."""
    client = discord.Client(intents=discord.Intents.all())
    state = client._connection
    guild_data: Any = {
        "id": str(GUILD), "name": "Bench", "owner_id": "1", "channels": [], "members": [],
        "emojis": [], "features": [], "member_count": MEMBERS,
        "roles": [{"id": str(GUILD), "name": "@everyone", "permissions": "0", "position": 0,
                   "color": 0, "hoist": False, "managed": False, "mentionable": False}],
    }
    guild = discord.Guild(state=state, data=guild_data)
    state._add_guild(guild)
    channel_data: Any = {
        "id": str(CHANNEL), "type": 0, "name": "general", "position": 0,
        "guild_id": str(GUILD), "permission_overwrites": [],
    }
    channel = discord.TextChannel(state=state, guild=guild, data=channel_data)
    guild._add_channel(channel)
    return state, channel


def parse_all(data: list[Any]) -> float:
    """Seconds discord.py takes to build ``discord.Message`` objects from the payloads."""
    state, channel = discord_state()
    started = time.perf_counter()
    for payload in data:
        discord.Message(state=state, channel=channel, data=payload)
    return time.perf_counter() - started


# -- the app ------------------------------------------------------------------------------


class BenchDiscord:
    """A platform named ``discord`` that accepts every action (no network)."""

    name = "discord"
    capabilities: frozenset[Any] = frozenset()
    rate_profile = UNLIMITED

    async def start(self, app: App) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def deliver(self, action: Any, reply_handle: Any = None) -> Delivered:
        """Accept the action."""
        return Delivered("0")

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """Everyone is a member."""
        return Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Any, token: str) -> Any:
        """Nothing resolves."""
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """The benchmark channel."""
        return ChannelRef("discord", str(CHANNEL))


class NaiveXP(Plugin):
    """The straightforward way: read, decide and commit each message in its own transaction."""

    name = "contributions"
    tables = Contributions.tables

    @classmethod
    def migrations_path(cls) -> Path:
        """Share the real plugin's tables and migrations."""
        return Contributions.migrations_path()

    @on(MessagePosted)
    async def posted(self, event: MessagePosted, ctx: Context) -> None:
        """Apply the same rules with one transaction per message."""
        text = event.text.strip()
        at = event.at or self.clock.now()
        key = (event.community.key, event.member.id)
        last = self.last.get(key)
        recent = self.recent.setdefault(key, [])
        earns = len(text) >= MIN_LENGTH and text.casefold() not in recent and (
            last is None or (text.casefold() != last[1] and at.timestamp() - last[0] >= COOLDOWN)
        )
        self.last[key] = (at.timestamp() if earns else (last[0] if last else 0.0),
                          text.casefold())
        if earns:
            recent.append(text.casefold())
            del recent[:-RECENT_TEXTS]
        stmt = self.db.insert(xp_daily).values(
            community=key[0], member=key[1], day=at.date().isoformat(), xp=XP if earns else 0)
        stmt = stmt.on_conflict_do_update(
            index_elements=[xp_daily.c.community, xp_daily.c.member, xp_daily.c.day],
            set_={"xp": xp_daily.c.xp + stmt.excluded.xp})
        async with self.db.begin() as conn:
            await conn.execute(stmt)

    last: dict[tuple[str, str], tuple[float, str]] = {}
    recent: dict[tuple[str, str], list[str]] = {}


async def make_app(folder: Path, plugin: type[Plugin], warm: list[Any]) -> App:
    """An app on a fresh SQLite file with one plugin and the stand-in platform, warmed up.

    Level-up announcements are off (they are outbox traffic, not the hot path), and every
    member has posted once (the core registered them and they have their first badge),
    which is the steady state of a community; none of this is timed.
    """
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    app = App(settings, clock=ManualClock(START), platforms=[BenchDiscord()], plugins=[plugin])
    await app.start()
    community = CommunityRef("discord", str(GUILD))
    await app.register_community(community)
    if isinstance(app.plugins[plugin.name], Contributions):
        await app.set_setting(app.plugins[plugin.name], community, "level_up", "off",
                              translator=app.translator("core", "en", community))
    await pipeline(warm, app)
    return app


async def pipeline(data: list[Any], app: App) -> float:
    """Seconds for translation + dispatch + plugin, flushed to disk at the end.

    This is the adapter's own path for MESSAGE_CREATE: the gateway payload becomes the
    core event directly (bot/adapters/discord_gateway.py), as ``DiscordPlatform`` wires it
    into discord.py's parser table.
    """
    refs = RefCache()
    submit = app.dispatcher.submit
    started = time.perf_counter()
    for i, payload in enumerate(data):
        event = message_posted_from_payload(payload, BOT_ID, refs)
        if event is not None:
            submit(event)
        if i % 500 == 499:
            await asyncio.sleep(0)  # a gateway connection yields between frames
    await app.settle()
    await app.counters.flush()
    return time.perf_counter() - started


async def breakdown(data: list[Any], warm: list[Any], folder: Path) -> str:
    """Where the time goes, in µs per message (separate passes, so roughly)."""
    refs = RefCache()
    started = time.perf_counter()
    events = [message_posted_from_payload(payload, BOT_ID, refs) for payload in data]
    translated = time.perf_counter() - started
    app = await make_app(folder, Contributions, warm)
    community = events[0].community if events and events[0] is not None else None
    assert community is not None
    plugin = app.plugins[Contributions.name]
    timings = {}
    for label, enabled in (("core dispatch", False), ("dispatch + plugin", True)):
        await app.set_enabled(community, plugin.name, enabled)
        started = time.perf_counter()
        for i, event in enumerate(events):
            assert event is not None
            app.dispatcher.submit(replace(event, id=f"{event.id}:{label}"))
            if i % 500 == 499:
                await asyncio.sleep(0)
        timings[label] = time.perf_counter() - started
    started = time.perf_counter()
    await app.counters.flush()
    xp = time.perf_counter() - started
    await app.stop()
    n = len(data)
    return (f"translation {translated / n * 1e6:.1f}, core dispatch "
            f"{timings['core dispatch'] / n * 1e6:.1f}, plugin "
            f"{(timings['dispatch + plugin'] - timings['core dispatch']) / n * 1e6:.1f}, "
            f"XP flush {xp / n * 1e6:.1f}")


# -- exactness -----------------------------------------------------------------------------


def expected_xp(data: list[Any]) -> dict[str, int]:
    """Every member's XP by the rules: cooldown, minimum length, no repeated text."""
    last_xp: dict[str, float] = {}
    last_text: dict[str, str] = {}
    earned: dict[str, list[str]] = {}
    totals: dict[str, int] = {}
    for payload in data:
        member = payload["author"]["id"]
        text = payload["content"].strip()
        at = datetime.fromisoformat(payload["timestamp"]).timestamp()
        folded = text.casefold()
        recent = earned.setdefault(member, [])
        if (len(text) >= MIN_LENGTH and folded != last_text.get(member)
                and folded not in recent
                and at - last_xp.get(member, float("-inf")) >= COOLDOWN):
            totals[member] = totals.get(member, 0) + XP
            last_xp[member] = at
            recent.append(folded)
            del recent[:-RECENT_TEXTS]  # the last few earning texts earn nothing again
        last_text[member] = folded
        totals.setdefault(member, 0)
    return totals


def stored_xp(db: Path) -> dict[str, int]:
    """XP per member as stored in the database file."""
    with sqlite3.connect(db) as conn:
        return {m: int(x) for m, x in conn.execute(
            f"SELECT member, SUM(xp) FROM {xp_daily.name} GROUP BY member")}


# -- main ----------------------------------------------------------------------------------


async def run(count: int, baseline_count: int) -> None:
    """Measure and print the three figures and the exactness check."""
    warm = payloads(0, warm_up=True)
    data = payloads(count)
    parse_seconds = min(parse_all(data) for _ in range(2))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "fast"
        app = await make_app(folder, Contributions, warm)
        total_seconds = await pipeline(data, app)
        await app.stop()
        exact = stored_xp(folder / "bench.db") == expected_xp(warm + data)

        naive_folder = Path(tmp) / "naive"
        naive = await make_app(naive_folder, NaiveXP, warm)
        naive_data = data[:baseline_count]
        naive_seconds = await pipeline(naive_data, naive)
        await naive.stop()
        naive_exact = stored_xp(naive_folder / "bench.db") == expected_xp(warm + naive_data)
        split = await breakdown(data[:20_000], warm, Path(tmp) / "split")

    per_message = total_seconds / count
    per_parse = parse_seconds / count
    per_naive = naive_seconds / baseline_count
    print(f"messages: {count:,} (baseline {baseline_count:,}), members: {MEMBERS:,}")
    print(f"discord.py parse alone: {per_parse * 1e6:.1f} µs/message")
    print(f"whole path: {per_message * 1e6:.1f} µs/message = {count / total_seconds:,.0f} "
          "messages/s")
    print(f"ratio to parse alone: {per_message / per_parse:.2f}x (goal <= 2.0)")
    print(f"straightforward baseline: {per_naive * 1e6:.1f} µs/message; "
          f"speed-up: {per_naive / per_message:.1f}x (goal >= 10)")
    print(f"breakdown (µs/message, 20,000 messages): {split}")
    print(f"XP exact: {'yes' if exact and naive_exact else 'NO'}")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.baseline))


if __name__ == "__main__":
    main()
