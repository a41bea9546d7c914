"""Forgetting a member leaves no row behind in any table of any plugin or the core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, select

from bot.core import storage
from bot.loader import PLUGINS_DIR, discover
from bot.testing import FakeCommunity

MEMBER = "zaynab7q"  # distinctive, so a substring match is never a coincidence


def _plugins() -> list[Any]:
    """Every plugin folder present now (plugins are added in parallel: found, not listed)."""
    folders = sorted(p.name for p in PLUGINS_DIR.iterdir() if (p / "__init__.py").exists())
    found, failures = discover(folders)
    assert not failures, failures
    return [f.cls for f in found]


async def _rows_naming(club: FakeCommunity, member: str) -> list[str]:
    metadatas: list[MetaData] = [storage.metadata]
    metadatas += [p.tables for p in club.app.plugins.values() if p.tables is not None]
    hits: list[str] = []
    async with club.app.db.connect() as conn:
        for metadata in metadatas:
            for table in metadata.sorted_tables:
                for row in await conn.execute(select(table)):
                    for column, value in row._mapping.items():
                        if value is not None and member in str(value):
                            hits.append(f"{table.name}.{column}: {value!r}")
    return hits


async def test_forget_me_leaves_no_row_naming_the_member() -> None:
    plugins = _plugins()
    assert {"admin", "example"} <= {p.name for p in plugins}
    async with FakeCommunity(plugins, admins=["amal"]) as club:
        for plugin in club.app.plugins.values():
            await club.app.set_enabled(club.platform.community, plugin.name, True)
        await club.joins(MEMBER)
        await club.presses(MEMBER, "Wave back")
        await club.says(MEMBER, "hello everyone, I am new here")
        await club.says("amal", f"welcome @{MEMBER}!")
        await club.says(MEMBER, "/my_language ar")
        await club.says(MEMBER, "/remind 2h call the venue")
        await club.says(MEMBER, "/remind 3d bring the books")
        await club.advance("3h")
        await club.says(MEMBER, "/help")
        await club.says(MEMBER, "/my_data")
        # what adapters keep: a record keyed by the member's id, their private chat
        platform = club.platform.community.platform
        await club.app.db.kv_set("deep-links", f"{platform}:{MEMBER}", {"started": True})
        await club.app.db.ensure_community(f"{platform}:{MEMBER}", platform, "", club.clock.now())
        await club.app.counters.flush()
        assert await _rows_naming(club, MEMBER), "the activity should have left rows"

        await club.says(MEMBER, "/forget_me")
        await club.presses(MEMBER, 1)
        await club.app.settle()
        await club.app.counters.flush()

        left = await _rows_naming(club, MEMBER)
        assert left == [], "\n".join(h[-400:] for h in left)
        exported = await club.app.export_member(club.member(MEMBER))
        assert exported["core"] == {"memberships": [], "rewards": []}
