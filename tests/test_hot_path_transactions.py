"""The message hot path with every default plugin on: no database transaction per message.

The plugins are the ones ``run.py`` loads (every folder under ``plugins/``) with
``config/bot.toml``'s ``disabled_by_default``, on a SQLite file. 200 members joined and
posted once (so the core, contributions, polls and onboarding know them; they are still
newcomers, so onboarding counts their messages), then post 1,000 messages through the
dispatcher as the Discord gateway hands them over. Between the first of those messages and
the final flush the database must see at most a few transactions, whatever any plugin
counts; the flush then stores what a member would see: XP, poll activity, onboarding
progress.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot import ChannelRef, CommunityRef, MemberJoined, MemberRef, MessagePosted
from bot.core.plugin import Plugin
from bot.loader import discover
from bot.settings import load_settings
from plugins.contributions.tables import xp_daily
from plugins.onboarding.tables import members as onboarding_members
from plugins.polls.tables import activity
from tests.conftest import WorldFactory
from tests.engine_events import engine_events

COMMUNITY = CommunityRef("console", "local")
CHANNEL = ChannelRef("console", "general", "general")
PEOPLE = [MemberRef("console", f"m{i:03}", f"Member {i}") for i in range(200)]
ROUNDS = 5  # 200 members x 5 = 1,000 messages
#: Transactions allowed between the first message and the final flush (none are expected:
#: a stray one may come from work a handler started, never one per message).
BOUND = 3


def default_plugins() -> list[type[Plugin]]:
    """What ``run.py`` discovers under ``plugins/`` (not test fixtures installed elsewhere)."""
    found, failures = discover(None)
    assert not failures, failures
    return [f.cls for f in found if f.origin.startswith("plugins.")]


async def test_a_thousand_messages_from_known_members_with_every_default_plugin(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    disabled = load_settings().disabled_by_default
    world = await world_factory(default_plugins(),
                                database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                                disabled_by_default=disabled)
    app = world.app
    enabled = {name for name, plugin in app.plugins.items()
               if name != "core" and app.kernel.is_enabled(COMMUNITY, plugin)}
    assert {"admin", "contributions", "onboarding", "polls"} <= enabled
    assert not enabled & set(disabled)
    start = world.clock.now()
    for i, person in enumerate(PEOPLE):  # they join and say hello once
        app.dispatcher.submit(MemberJoined(id=f"join:{i}", community=COMMUNITY, member=person,
                                           at=start))
        await app.settle()
        app.dispatcher.submit(MessagePosted(
            id=f"hello:{i}", community=COMMUNITY, member=person, channel=CHANNEL,
            message_id=f"hello:{i}", text=f"hello everyone, I am {person.name}", at=start,
            durable=False))
    await app.settle()
    # the one-second flush beat is not what is measured: stop it (this flushes the above)
    await app.kernel.counters.stop()

    engine = app.db.engine.sync_engine
    with engine_events(engine, "begin", "commit") as during:
        for n in range(1, ROUNDS + 1):
            at = start + timedelta(seconds=61 * n)  # past the XP cooldown each round
            for i, person in enumerate(PEOPLE):
                app.dispatcher.submit(MessagePosted(
                    id=f"msg:{n}:{i}", community=COMMUNITY, member=person, channel=CHANNEL,
                    message_id=f"msg:{n}:{i}", text=f"round {n}: news from {person.name}",
                    at=at, durable=False))
                await asyncio.sleep(0)  # the gateway yields between frames
        await app.settle()
    assert during["begin"] <= BOUND, (
        f"{during['begun']} transactions ({during['committed']} committed) for 1,000 messages")

    with engine_events(engine, "begin", "commit") as flush:
        await app.kernel.counters.flush()
    assert 1 <= flush["commit"] <= 8  # one batch per writer, not one row each

    async with app.db.connect() as conn:
        xp = dict((await conn.execute(
            select(xp_daily.c.member, func.sum(xp_daily.c.xp))
            .where(xp_daily.c.community == COMMUNITY.key).group_by(xp_daily.c.member))).all())
        posted = dict((await conn.execute(
            select(activity.c.member, activity.c.messages)
            .where(activity.c.community == COMMUNITY.key))).all())
        progress = dict((await conn.execute(
            select(onboarding_members.c.member, onboarding_members.c.messages)
            .where(onboarding_members.c.community == COMMUNITY.key))).all())
    everyone = {p.id for p in PEOPLE}
    assert xp == dict.fromkeys(everyone, 15 * (1 + ROUNDS))  # 15 XP a message, none cooled
    assert posted == dict.fromkeys(everyone, 1 + ROUNDS)
    assert progress == dict.fromkeys(everyone, 1 + ROUNDS)
    app.kernel.counters.start()  # as it was, for the app's stop
