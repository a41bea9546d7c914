"""The message hot path as production runs it: gateway payloads -> every default plugin -> SQLite.

Run: ``.venv/bin/python benchmarks/hot_path.py [--members 100000] [--messages 200000]
[--peer 400] [--level-up off]``, or ``--rss [--rate 1667]`` for memory over a long run
(``--messages`` defaults to 1,000,000 there; ``--rate`` paces the offered messages, so
1,667/s is the 10-minute run), or ``--rss --soak 600`` to feed for ten minutes and print
the RSS climb. ``--level-up off`` (an admin's setting) shows the cost
without level-up posts: every outgoing action is outbox work in the database.

What runs is what ``python run.py`` runs: the App discovers every plugin under ``plugins/``
and enables them as ``config/bot.toml`` says (everything but ``disabled_by_default``), with
their default settings, on a SQLite file. The community is in steady state before the clock
starts: ``--members`` members already registered in the core and in every plugin's tables
(XP history, first badge, poll activity, onboarding done). The timed figure covers the
cold start (``App.start`` and the first open of the community, which loads all of that),
every message, and the final flush and stop.

Traffic is generated: 50 channels, uneven member activity (Zipf: a few members post most
messages), replies (``message_reference`` and ``referenced_message``, type 19), mentions,
and ~1% "thanks @x" messages (kudos). The adapter turns a guild MESSAGE_CREATE payload into
the core event without building ``discord.Message`` (bot/adapters/discord_gateway.py), so
the reference cost is discord.py's own parse of the same payloads, measured in the same run.

It prints:
- messages per second through the whole path, cold start and final flush included;
- the ratio of that per-message cost to discord.py's parse of the same payloads into
  ``discord.Message`` (goal: <= 2.0);
- the ratio to the PyPI peer ``discordlevelingsystem`` (``pip install .[bench]``): its
  ``award_xp`` fed ``discord.Message`` objects parsed from the same payloads (that parse is
  part of its cost: it needs it), on its own SQLite file holding the same members, measured
  on the first ``--peer`` messages (goal: >= 10);
- whether every member's stored XP equals what the plugin's rules give, recomputed from the
  payloads by a second path (message XP with cooldown, minimum length and repeats; kudos
  with the daily and per-pair caps): "XP exact: yes";
- peak RSS; with ``--rss``, RSS sampled through a long run (payloads generated as they are
  fed, so the figure is the bot's own memory), to show it stays flat.

The event loop is given a turn every 500 messages, as a gateway connection reading frames
would; that is when the once-a-second flush runs.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import multiprocessing
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import create_engine, event  # noqa: E402

from bot.adapters.discord import DiscordPlatform  # noqa: E402
from bot.adapters.discord_gateway import RefCache, message_posted_from_payload  # noqa: E402
from bot.app import App  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.platform import Delivered  # noqa: E402
from bot.core.privilege import Privilege  # noqa: E402
from bot.core.ratelimit import UNLIMITED  # noqa: E402
from bot.core.refs import ChannelRef, CommunityRef, MemberRef  # noqa: E402
from bot.core.storage import members as core_members  # noqa: E402
from bot.loader import discover  # noqa: E402
from bot.settings import DiscordSettings, load_settings  # noqa: E402

GUILD = 81_384_788_765_712_384
FIRST_CHANNEL = GUILD + 1
CHANNELS = 50
BOT_ID = 81_384_788_765_712_000
FIRST_MEMBER = 10_000
DISCORD_EPOCH_MS = 1_420_070_400_000
#: A Tuesday morning: no weekly or daily job of any plugin is due while the clock stands.
START = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
COMMUNITY = CommunityRef("discord", str(GUILD))
YIELD_EVERY = 500
#: Activity is Zipf-like: the member of rank r posts with weight 1 / r**ZIPF.
ZIPF = 1.0
REPLY_SHARE, MENTION_SHARE, THANKS_SHARE = 0.15, 0.05, 0.01
TEXTS = (
    "hello everyone", "good morning", "ok", "does anyone know how to fix this?",
    "lol", "I will be at the meetup on Friday", "here is the link to the document",
    "same", "great idea, let's do it", "has anyone tried the new release?",
    "I agree with that", "see you tomorrow", "nice", "can someone review my draft?",
)
THANKS = ("thanks {m}", "thank you {m}!", "{m} thanks, that worked", "thx {m}")
MENTIONS = ("{m} what do you think?", "{m} can you check this", "ping {m}")


# -- traffic ------------------------------------------------------------------------------


def member_id(index: int) -> str:
    """The Discord id of generated member ``index``."""
    return str(FIRST_MEMBER + index)


def _user(index: int) -> dict[str, Any]:
    return {"id": member_id(index), "username": f"member{index}", "discriminator": "0",
            "global_name": f"Member {index}", "avatar": None}


_MEMBER = {"roles": [], "joined_at": "2025-06-01T00:00:00+00:00", "deaf": False,
           "mute": False, "flags": 0}


class Traffic:
    """A community's generated MESSAGE_CREATE ``d`` objects, the same for a given seed."""

    def __init__(self, members: int, seed: int = 8) -> None:
        """Prepare the activity weights of ``members`` members (rank = index)."""
        self.members = members
        self.seed = seed
        # an array, not a list of floats: with --rss this process's memory is the bot's
        self._cumulative = array("d", itertools.accumulate(
            1.0 / (rank + 1) ** ZIPF for rank in range(members)))
        self._channel_weights = list(itertools.accumulate(
            1.0 / (rank + 1) ** 0.8 for rank in range(CHANNELS)))

    def payloads(self, count: int) -> Iterator[dict[str, Any]]:
        """``count`` payloads in time order (a new iterator gives the same ones again)."""
        rng = random.Random(self.seed)
        cumulative, total = self._cumulative, self._cumulative[-1]
        channel_weights, channel_total = self._channel_weights, self._channel_weights[-1]
        last: dict[int, dict[str, Any]] = {}  # the latest message per channel
        at = START
        for i in range(count):
            at += timedelta(milliseconds=rng.randint(20, 400))
            author = bisect.bisect_left(cumulative, rng.random() * total)
            channel = FIRST_CHANNEL + bisect.bisect_left(
                channel_weights, rng.random() * channel_total)
            previous = last.get(channel)
            roll = rng.random()
            mentions: list[dict[str, Any]] = []
            reference = None
            if previous is not None and roll < THANKS_SHARE:
                # thanking whoever wrote the message it replies to, as members do
                helper = previous["author"]
                mentions = [{**helper, "member": _MEMBER}]
                content = rng.choice(THANKS).format(m=f"<@{helper['id']}>")
                reference = previous
            elif roll < THANKS_SHARE + MENTION_SHARE:
                other = bisect.bisect_left(cumulative, rng.random() * total)
                mentions = [{**_user(other), "member": _MEMBER}]
                content = rng.choice(MENTIONS).format(m=f"<@{member_id(other)}>")
            else:
                content = rng.choice(TEXTS)
                if rng.random() < 0.5:
                    content = f"{content} {rng.randrange(1000)}"
                if previous is not None and roll < THANKS_SHARE + MENTION_SHARE + REPLY_SHARE:
                    reference = previous
            ms = int(at.timestamp() * 1000)
            payload: dict[str, Any] = {
                "id": str(((ms - DISCORD_EPOCH_MS) << 22) | (i & 0x3FFFFF)),
                "channel_id": str(channel),
                "guild_id": str(GUILD),
                "author": _user(author),
                "member": _MEMBER,
                "content": content,
                "timestamp": at.isoformat(timespec="microseconds"),
                "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": mentions, "mention_roles": [], "attachments": [], "embeds": [],
                "pinned": False, "type": 0,
            }
            if reference is not None:
                payload["type"] = 19
                payload["message_reference"] = {
                    "type": 0, "message_id": reference["id"], "channel_id": str(channel),
                    "guild_id": str(GUILD)}
                # the gateway sends the replied-to message without its own reference
                payload["referenced_message"] = {
                    k: v for k, v in reference.items()
                    if k not in ("referenced_message", "message_reference", "member")}
            last[channel] = payload
            yield payload


# -- discord.py's own parse --------------------------------------------------------------


def discord_state(members: int) -> tuple[Any, dict[int, discord.TextChannel]]:
    """A ConnectionState with the guild and its 50 text channels, built without a network."""
    client = discord.Client(intents=discord.Intents.all())
    state = client._connection
    guild_data: Any = {
        "id": str(GUILD), "name": "Bench", "owner_id": "1", "channels": [], "members": [],
        "emojis": [], "features": [], "member_count": members,
        "roles": [{"id": str(GUILD), "name": "@everyone", "permissions": "0", "position": 0,
                   "color": 0, "hoist": False, "managed": False, "mentionable": False}],
    }
    guild = discord.Guild(state=state, data=guild_data)
    state._add_guild(guild)
    channels = {}
    for n in range(CHANNELS):
        channel_data: Any = {
            "id": str(FIRST_CHANNEL + n), "type": 0, "name": f"channel-{n}", "position": n,
            "guild_id": str(GUILD), "permission_overwrites": [],
        }
        channel = discord.TextChannel(state=state, guild=guild, data=channel_data)
        guild._add_channel(channel)
        channels[channel.id] = channel
    return state, channels


def parse_all(data: list[dict[str, Any]], members: int) -> float:
    """Seconds discord.py takes to build ``discord.Message`` objects from the payloads."""
    state, channels = discord_state(members)
    started = time.perf_counter()
    for payload in data:
        discord.Message(state=state, channel=channels[int(payload["channel_id"])],
                        data=payload)  # type: ignore[arg-type]
    return time.perf_counter() - started


# -- the bot ------------------------------------------------------------------------------


class BenchDiscord:
    """A platform named ``discord`` that accepts every action at once (no network).

    It offers what the Discord adapter offers with the message-content intent on (buttons,
    DMs, native polls...), so every default plugin that needs them loads as in production.
    """

    name = "discord"
    rate_profile = UNLIMITED

    def __init__(self) -> None:
        """Count what the bot sent (level-ups, kudos notes)."""
        real = DiscordPlatform(DiscordSettings(token=SecretStr("bench"),
                                               message_content_intent=True))
        self.capabilities = real.capabilities
        self.limits = real.limits
        self.delivered = 0

    async def start(self, app: App) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def deliver(self, action: Any, reply_handle: Any = None, progress: Any = None
                      ) -> Delivered:
        """Accept the action."""
        self.delivered += 1
        return Delivered("0")

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """Everyone is a member."""
        return Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Any, token: str) -> Any:
        """Nothing resolves."""
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """The first channel."""
        return ChannelRef("discord", str(FIRST_CHANNEL))


def default_plugins() -> list[type[Any]]:
    """Every plugin the loader finds under ``plugins/``, as ``run.py`` discovers them.

    Plugins installed from other distributions (the test kit's fixture in a development
    virtualenv) are left out: production runs what this repository ships.
    """
    found, failures = discover(None)
    if failures:
        raise SystemExit(f"plugins failed to load: {failures}")
    return [f.cls for f in found if f.origin.startswith("plugins.")]


def make_app(db: Path, platform: BenchDiscord) -> App:
    """The App as ``run.py`` builds it: settings from config/bot.toml, the shipped plugins.

    Which of them run in the community is the settings' ``disabled_by_default`` decision.
    """
    settings = load_settings().model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{db}"})
    return App(settings, clock=ManualClock(START), platforms=[platform],
               plugins=default_plugins())


#: Days of history behind the steady state, and the traffic's messages per day (the
#: generator spaces messages 20-400 ms apart).
HISTORY_DAYS = 60
MESSAGES_PER_DAY = 86_400_000 // 210
#: The Zipf normaliser of the default community size, so a member's history does not
#: depend on ``--members``.
_HARMONIC = sum(1.0 / (rank + 1) ** ZIPF for rank in range(100_000))


def seed_xp(index: int) -> int:
    """XP a member earned before the run: their share of the traffic over the history.

    About half of a member's messages earned (the rest fell in the cooldown or were too
    short), at most one a minute for half of each day; everyone posted at least once. So
    levels match activity, as in a community that has been running for a while, and
    level-ups are as rare as they then are.
    """
    messages = HISTORY_DAYS * MESSAGES_PER_DAY / ((index + 1) ** ZIPF * _HARMONIC)
    return 15 * max(1, min(int(messages / 2), HISTORY_DAYS * 720))


async def prepare(db: Path, members: int, level_up: str | None = None) -> list[str]:
    """A database in steady state: every member known to the core and to each plugin.

    The schema and the community's record come from a first start of the app (migrations,
    the community opened once, its jobs scheduled); the members' rows are then written in
    bulk, as months of activity would have left them. Returns the plugins enabled in the community.
    """
    app = make_app(db, BenchDiscord())
    await app.start()
    await app.register_community(COMMUNITY, "Bench")
    if level_up is not None:  # an admin's /config contributions level_up (diagnosis only)
        plugin = app.plugins["contributions"]
        await app.set_setting(plugin, COMMUNITY, "level_up", level_up,
                              translator=app.translator("core", "en", COMMUNITY))
    loaded = sorted(name for name, plugin in app.plugins.items()
                    if name != "core" and app.kernel.is_enabled(COMMUNITY, plugin))
    tables = {t.name: t for p in app.plugins.values() if p.tables is not None
              for t in p.tables.sorted_tables}
    await app.stop()
    yesterday, before = START - timedelta(days=1), START - timedelta(days=40)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "contributions_xp_daily", "contributions_profiles", "contributions_badges",
        "polls_activity", "onboarding_members")}
    core: list[dict[str, Any]] = []
    key = COMMUNITY.key
    for index in range(members):
        who, name = member_id(index), f"Member {index}"
        core.append({"community": key, "member": who, "name": name, "joined_at": before,
                     "last_seen": yesterday})
        rows["contributions_xp_daily"].append({"community": key, "member": who,
                                               "day": yesterday.date().isoformat(),
                                               "xp": seed_xp(index)})
        rows["contributions_profiles"].append({"community": key, "member": who, "name": name})
        rows["contributions_badges"].append({"community": key, "member": who,
                                             "badge": "first_message", "at": before})
        rows["polls_activity"].append({"community": key, "member": who, "joined_at": before,
                                       "last_seen": yesterday, "messages": 3 + index % 50})
        rows["onboarding_members"].append({
            "community": key, "member": who, "name": name, "first_joined_at": before,
            "joined_at": before, "joined_count": 1, "greeted": True, "accepted_at": before,
            "completed_at": before, "first_message_at": before, "second_message_at": before,
            "messages": 2, "newcomer": False, "graduated_at": yesterday})
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(core_members.insert(), core)
        for name, batch in rows.items():
            if name in tables:
                conn.execute(tables[name].insert(), batch)
    engine.dispose()
    return loaded


def _prepare_here(db: str, members: int, level_up: str | None) -> list[str]:
    return asyncio.run(prepare(Path(db), members, level_up))


def prepare_apart(db: Path, members: int, level_up: str | None) -> list[str]:
    """:func:`prepare` in a child process, so this one's memory is the bot's alone."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_prepare_here, str(db), members, level_up).result()


@dataclass
class Run:
    """What one timed run of the bot measured."""

    seconds: float
    start_seconds: float
    open_seconds: float
    stop_seconds: float
    begins: int
    commits: int
    delivered: int
    samples: list[tuple[int, float, float, float, int]]
    fed: int = 0


def rss_mb() -> float:
    """The resident set size now, in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """The peak resident set size so far, in MiB (``getrusage``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_bot(db: Path, data: Iterable[dict[str, Any]], sample_every: int = 0,
                  rate: float = 0.0, until: float = 0.0) -> Run:
    """Cold start, every message, final flush and stop, timed as one.

    The first message opens the community (loading its state); the feed waits for that
    as a gateway would be held up, so messages do not pile up in memory meanwhile.
    ``rate``: messages offered per second (0: as fast as the bot takes them); ``until``:
    stop feeding that many seconds after the first open (0: feed all of ``data``).
    """
    platform = BenchDiscord()
    app = make_app(db, platform)
    counts = {"begin": 0, "commit": 0}
    counting = False

    def begun(_conn: Any) -> None:
        if counting:
            counts["begin"] += 1

    def committed(_conn: Any) -> None:
        if counting:
            counts["commit"] += 1

    event.listen(app.kernel.db.engine.sync_engine, "begin", begun)
    event.listen(app.kernel.db.engine.sync_engine, "commit", committed)
    samples: list[tuple[int, float, float, float, int]] = []
    refs = RefCache()
    dispatcher = app.dispatcher
    submit = dispatcher.submit
    started = time.perf_counter()
    await app.start()
    started_up = time.perf_counter()
    opened = started_up
    n = 0
    for n, payload in enumerate(data, 1):
        posted = message_posted_from_payload(payload, BOT_ID, refs)
        if posted is not None:
            submit(posted)
            if n == 1:
                await dispatcher.open(posted.community)
                opened = time.perf_counter()
                counting = True
        if n % YIELD_EVERY == 0:
            # a gateway connection yields between frames (and waits for the next ones)
            ahead = n / rate - (time.perf_counter() - opened) if rate else 0.0
            await asyncio.sleep(max(ahead, 0.0))
            if sample_every and n % sample_every == 0:
                samples.append((n, time.perf_counter() - started, rss_mb(), peak_rss_mb(),
                                len(asyncio.all_tasks())))
            if until and time.perf_counter() - opened >= until:
                break
    await app.settle(timeout=3600)  # what the outbox has queued may take minutes
    counting = False
    flushing = time.perf_counter()
    await app.stop()
    ended = time.perf_counter()
    return Run(ended - started, started_up - started, opened - started_up, ended - flushing,
               counts["begin"], counts["commit"], platform.delivered, samples, n)


# -- exactness ------------------------------------------------------------------------------


def expected_xp(data: Iterable[dict[str, Any]], members: int) -> dict[str, int]:
    """Every member's XP by the contributions plugin's default rules, from the payloads.

    Messages: XP per message once the cooldown has passed, if long enough, and neither the
    member's previous text nor one of their last few earning texts. Kudos: a message that
    mentions members and holds a thanks phrase gives each (not the author) the kudos XP,
    within the giver's daily cap and the per-pair cap; kudos are counted on the bot's
    clock day (the benchmark's clock stands at ``START``).
    """
    from plugins.contributions.rules import RECENT_TEXTS
    from plugins.contributions.settings import ContributionsSettings

    rules = ContributionsSettings()
    xp = int(rules.xp_per_message * rules.multiplier)
    phrases = [p.casefold() for p in rules.thanks_phrases]
    kudos_day = START.date().isoformat()
    totals = {member_id(i): seed_xp(i) for i in range(members)}
    last_xp: dict[str, float] = {}
    last_text: dict[str, str] = {}
    earned: dict[str, list[str]] = {}
    given: dict[str, int] = {}
    pairs: dict[tuple[str, str, str], int] = {}
    for payload in data:
        member = payload["author"]["id"]
        text = payload["content"].strip()
        at = datetime.fromisoformat(payload["timestamp"]).timestamp()
        folded = text.casefold()
        recent = earned.setdefault(member, [])
        if (len(text) >= rules.min_length and folded != last_text.get(member)
                and folded not in recent
                and at - last_xp.get(member, float("-inf")) >= rules.cooldown_seconds):
            totals[member] = totals.get(member, 0) + xp
            last_xp[member] = at
            recent.append(folded)
            del recent[:-RECENT_TEXTS]
        last_text[member] = folded
        if payload["mentions"] and any(p in folded for p in phrases):
            for target in dict.fromkeys(u["id"] for u in payload["mentions"]):
                if target == member:
                    continue
                if given.get(member, 0) >= rules.kudos_daily_cap:
                    break
                pair = (member, target, kudos_day)
                if pairs.get(pair, 0) >= rules.kudos_pair_cap:
                    continue
                given[member] = given.get(member, 0) + 1
                pairs[pair] = pairs.get(pair, 0) + 1
                totals[target] = totals.get(target, 0) + rules.kudos_xp
    return totals


def stored_xp(db: Path) -> dict[str, int]:
    """XP per member as stored in the database file."""
    with sqlite3.connect(db) as conn:
        return {m: int(x) for m, x in conn.execute(
            "SELECT member, SUM(xp) FROM contributions_xp_daily GROUP BY member")}


# -- the peer ------------------------------------------------------------------------------


class _MessageTime:
    """``time.time()`` for discord.py's cooldowns: the time of the message being handled.

    The peer's cooldown reads the wall clock; fed in the messages' own time it treats the
    generated traffic as it would live.
    """

    now = 0.0

    def time(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def peer_database(folder: Path) -> Path:
    """The peer's database file, made by its own API (before any event loop runs)."""
    from discordLevelingSystem import DiscordLevelingSystem

    folder.mkdir(parents=True, exist_ok=True)
    DiscordLevelingSystem.create_database_file(str(folder))
    return folder / "DiscordLevelingSystem.db"


async def run_peer(db: Path, data: list[dict[str, Any]], members: int) -> float:
    """Seconds for discordlevelingsystem to parse and award XP for ``data``.

    Its database holds the same members with the same XP first, as its ``insert`` would
    leave them (not timed).
    """
    import discord.app_commands.checks as checks
    import discord.ext.commands.cooldowns as cooldowns
    from discordLevelingSystem import DiscordLevelingSystem

    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO leaderboard VALUES (?, ?, ?, ?, ?, ?)", (
            (GUILD, int(member_id(i)), f"member{i}", 0, seed_xp(i), seed_xp(i))
            for i in range(members)))
    clock = _MessageTime()
    saved = checks.time, cooldowns.time
    checks.time = cooldowns.time = clock  # type: ignore[assignment]
    try:
        peer = DiscordLevelingSystem(rate=1, per=60.0, announce_level_up=False)
        await peer.switch_connection(str(db))
        state, channels = discord_state(members)
        started = time.perf_counter()
        for payload in data:
            message = discord.Message(state=state, channel=channels[int(payload["channel_id"])],
                                      data=payload)  # type: ignore[arg-type]
            clock.now = message.created_at.timestamp()
            await peer.award_xp(amount=15, message=message)
        seconds = time.perf_counter() - started
        assert peer._connection is not None
        await peer._connection.close()
    finally:
        checks.time, cooldowns.time = saved  # type: ignore[assignment]
    return seconds


# -- main ----------------------------------------------------------------------------------


def report_run(label: str, result: Run, count: int) -> None:
    """Where the time went and what the database saw."""
    body = result.seconds - result.start_seconds - result.open_seconds - result.stop_seconds
    print(f"{label}: {result.seconds:.2f} s = App.start {result.start_seconds:.2f} s "
          f"+ first open {result.open_seconds:.2f} s + messages {body:.2f} s "
          f"+ final flush and stop {result.stop_seconds:.2f} s")
    print(f"database transactions while messages flowed: {result.begins} begun, "
          f"{result.commits} committed ({result.begins / max(count, 1):.4f} per message); "
          f"actions delivered (level-ups, kudos notes): {result.delivered:,}")


async def run(members: int, count: int, peer_count: int, folder: Path, peer_db: Path,
              level_up: str | None) -> None:
    """The default run: the bot, discord.py's parse and the peer on the same messages."""
    traffic = Traffic(members)
    data = list(traffic.payloads(count))
    db = folder / "majlis.db"
    loaded = prepare_apart(db, members, level_up)
    result = await run_bot(db, data)
    exact = stored_xp(db) == expected_xp(data, members)
    parse_seconds = min(parse_all(data, members) for _ in range(2))
    peer_data = data[:peer_count]
    peer_seconds = await run_peer(peer_db, peer_data, members) if peer_count else 0.0

    per_message = result.seconds / count
    per_parse = parse_seconds / count
    print(f"plugins (as config/bot.toml enables them): {', '.join(loaded)}; contributions' "
          f"level_up: {level_up or 'default (channel)'}")
    print(f"members: {members:,} (known), messages: {count:,} in {CHANNELS} channels "
          f"(peer: first {peer_count:,})")
    print(f"discord.py parse alone: {per_parse * 1e6:.1f} µs/message")
    print(f"whole path: {per_message * 1e6:.1f} µs/message = {count / result.seconds:,.0f} "
          "messages/s (cold start and final flush included)")
    report_run("timed", result, count)
    print(f"ratio to discord.py's parse: {per_message / per_parse:.2f}x (goal <= 2.0)")
    body = result.seconds - result.start_seconds - result.open_seconds - result.stop_seconds
    print(f"  of which the messages alone (no cold start, no final flush): "
          f"{body / count * 1e6:.1f} µs/message = {body / count / per_parse:.2f}x; the cold "
          f"start adds {(result.start_seconds + result.open_seconds) / count / per_parse:.2f}x")
    if peer_count:
        per_peer = peer_seconds / peer_count
        print(f"discordlevelingsystem (parse + award_xp): {per_peer * 1e6:,.0f} µs/message; "
              f"Majlis is {per_peer / per_message:.1f}x faster (goal >= 10)")
    print(f"XP exact: {'yes' if exact else 'NO'}")
    print(f"peak RSS: {peak_rss_mb():.0f} MiB (payload lists of every phase held in memory; "
          "--rss measures the bot alone)")


async def run_rss(members: int, count: int, folder: Path, level_up: str | None,
                  rate: float, soak: float = 0.0) -> None:
    """A long run with payloads generated as they are fed; RSS sampled along the way.

    ``soak``: feed for that many seconds (at ``rate``) instead of ``count`` messages, with
    20 samples spread over the run.
    """
    traffic = Traffic(members)
    db = folder / "majlis.db"
    loaded = prepare_apart(db, members, level_up)
    before = rss_mb()
    if soak:
        expected = rate * soak
        every = max(YIELD_EVERY, round(expected / 20 / YIELD_EVERY) * YIELD_EVERY)
        result = await run_bot(db, traffic.payloads(10 * int(expected) + YIELD_EVERY),
                               sample_every=every, rate=rate, until=soak)
        count = result.fed
    else:
        result = await run_bot(db, traffic.payloads(count),
                               sample_every=max(count // 20, 1000), rate=rate)
    bot_peak = peak_rss_mb()  # before the XP check below, which is not the bot's memory
    exact = stored_xp(db) == expected_xp(traffic.payloads(count), members)
    print(f"plugins: {', '.join(loaded)}; members: {members:,}; messages: {count:,} "
          "(generated while fed, so msgs/s here includes generating them); offered: "
          f"{f'{rate:,.0f}/s' if rate else 'as fast as taken'}"
          + (f" for {soak:.0f} s" if soak else ""))
    print(f"RSS before the bot started (imports): {before:.0f} MiB")
    print("  messages    seconds  RSS MiB  peak MiB  tasks (handlers' work waiting)")
    for n, seconds, now, peak, tasks in result.samples:
        print(f"  {n:>9,} {seconds:>9.1f} {now:>8.0f} {peak:>9.0f}  {tasks:>6,}")
    report_run("timed", result, count)
    print(f"{count / result.seconds:,.0f} messages/s; peak RSS while the bot ran "
          f"{bot_peak:.0f} MiB (goal <= 200 MB = 190.7 MiB)")
    if len(result.samples) >= 4:
        # the first samples include the first minute's fill of bounded windows (replayed
        # message ids); the climb is read from the second sample on, and over the last half
        rss = [sample[2] for sample in result.samples]
        half = rss[len(rss) // 2]
        print(f"RSS climb: {rss[-1] - rss[1]:+.0f} MiB from the second sample "
              f"({rss[1]:.0f} -> {rss[-1]:.0f} MiB), {rss[-1] - half:+.0f} MiB over the "
              f"second half; highest sample {max(rss):.0f} MiB (goal: flat)")
    print(f"XP exact: {'yes' if exact else 'NO'}")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=None,
                        help="default 200,000 (1,000,000 with --rss)")
    parser.add_argument("--peer", type=int, default=400,
                        help="messages fed to discordlevelingsystem (0: skip it)")
    parser.add_argument("--rss", action="store_true",
                        help="only the bot, on a long run, with RSS sampled")
    parser.add_argument("--level-up", choices=["channel", "dm", "off"], default=None,
                        help="set contributions' level_up (default: the plugin's default, "
                             "channel); off shows the cost without level-up posts")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="with --rss: messages offered per second (default: as fast as "
                             "the bot takes them; 1667 feeds 1M in 10 minutes)")
    parser.add_argument("--soak", type=float, default=0.0, metavar="SECONDS",
                        help="with --rss: feed for SECONDS (at --rate, default 1667/s) "
                             "instead of --messages, printing RSS samples and the climb")
    args = parser.parse_args()
    count = args.messages or (1_000_000 if args.rss else 200_000)
    with tempfile.TemporaryDirectory() as tmp:
        if args.rss or args.soak:
            rate = args.rate or (1667.0 if args.soak else 0.0)
            asyncio.run(run_rss(args.members, count, Path(tmp), args.level_up, rate,
                                args.soak))
            return
        peer_db = peer_database(Path(tmp) / "peer") if args.peer else Path(tmp)
        asyncio.run(run(args.members, count, args.peer, Path(tmp), peer_db,
                        args.level_up))


if __name__ == "__main__":
    main()
