"""Counters, rate windows, content round trips, channel-scoped settings, schema checks."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, Integer, MetaData, String, Table

from bot import Button, Plugin
from bot.core.counters import Accumulator
from bot.core.i18n import Catalogs, Translator
from bot.core.markup import Markup
from bot.core.messages import Attachment, Card, CardField, Content
from bot.core.migrate import CORE_VERSIONS, MigrationSource, SchemaMismatch, upgrade
from bot.core.ratelimit import Limit, RateLimiter, RateProfile
from bot.core.refs import ChannelRef, CommunityRef
from bot.core.storage import Database, metadata
from plugins.example import Wave
from tests.conftest import WorldFactory


async def test_accumulator_sums_and_keeps_a_failed_batch() -> None:
    written: list[dict[str, int]] = []
    fail = True

    async def writer(batch: dict[str, int]) -> None:
        if fail:
            raise RuntimeError("disk full")
        written.append(batch)

    acc: Accumulator[str] = Accumulator("xp", writer)
    acc.add("sara", 5)
    acc.add("sara", 3)
    acc.add("omar")
    with pytest.raises(RuntimeError):
        await acc.flush()
    assert acc.pending("sara") == 8  # nothing lost
    fail = False
    assert await acc.flush() == 2
    assert written == [{"sara": 8, "omar": 1}]
    assert await acc.flush() == 0


def test_rate_windows_and_refunds() -> None:
    limiter = RateLimiter(RateProfile("t", (Limit("channel", 2, 1.0),), margin=0.0))
    c1, c2 = (("channel", "c1"),), (("channel", "c2"),)
    limiter.record(c1, 0.0)
    limiter.record(c1, 0.1)
    assert limiter.wait(c1, 0.2)[0] == pytest.approx(0.8)
    assert limiter.wait(c2, 0.2)[0] == 0
    limiter.unrecord(c1, 0.1)  # the platform refused that one
    assert limiter.wait(c1, 0.2)[0] == 0
    limiter.block(("global", "*"), 5.0)
    assert limiter.wait(c2, 1.0)[0] == pytest.approx(4.0)


def test_content_survives_the_outbox_table() -> None:
    content = Content(
        Markup("**Hi** [Sara](member:7)"),
        ((Button("Wave", Wave("7")), Button("Docs", url="https://example.org")),),
        Card("Title", "desc", (CardField("a", "1"),), "foot"),
        (Attachment("chart.png", b"\x89PNG", image=True),),
        ("7",),
    )
    assert Content.from_json(content.to_json()) == content


class Scoped(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel_scoped: ClassVar[frozenset[str]] = frozenset({"multiplier"})
    multiplier: float = Field(default=1.0, ge=0, le=5)
    name: str = "x"


class ScopedPlugin(Plugin):
    name = "scoped"
    settings = Scoped


async def test_channel_scoped_settings(world_factory: WorldFactory) -> None:
    world = await world_factory([ScopedPlugin])
    app = world.app
    plugin = app.plugins["scoped"]
    community = CommunityRef("console", "local")
    quiet = ChannelRef("console", "quiet")
    en = Translator(Catalogs(), "core", "en")
    await app.set_setting(plugin, community, "multiplier", 2, translator=en, channel=quiet)
    in_channel = await app.settings_of(plugin, community, quiet)
    elsewhere = await app.settings_of(plugin, community, ChannelRef("console", "general"))
    assert (in_channel.multiplier, elsewhere.multiplier) == (2.0, 1.0)  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="cannot be set per channel"):
        await app.set_setting(plugin, community, "name", "y", translator=en, channel=quiet)
    with pytest.raises(Exception, match="at most 5"):
        await app.set_setting(plugin, community, "multiplier", 9, translator=en)
    assert (await app.settings_of(plugin, community)).multiplier == 1.0  # type: ignore[attr-defined]


async def test_start_up_refuses_tables_without_a_migration() -> None:
    db = Database("sqlite+aiosqlite://")
    stray = MetaData()
    Table("stray_things", stray, Column("id", Integer, primary_key=True), Column("x", String(5)))
    sources = [
        MigrationSource("core", CORE_VERSIONS, metadata),
        MigrationSource("stray", CORE_VERSIONS.parent / "nowhere", stray),
    ]
    with pytest.raises(SchemaMismatch):
        await upgrade(db.engine, sources)
    await db.close()
