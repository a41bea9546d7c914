"""Finding plugins: plugins/ folders, installed entry points, broken plugins, needs, reload."""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import types

import pytest

from bot import N_, Capability, Context, Plugin, command
from bot.loader import ENTRY_POINT_GROUP, discover
from bot.testing import FakeCommunity


def test_the_fixture_distribution_exposes_its_entry_point() -> None:
    names = {e.name for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert "hello" in names, (
        "install the fixture: .venv/bin/pip install ./tests/fixtures/majlis_hello"
    )


def test_discover_finds_folders_and_the_installed_plugin() -> None:
    found, failures = discover()
    origins = {f.cls.name: f.origin for f in found}
    assert origins["example"] == "plugins.example"
    assert origins["admin"] == "plugins.admin"
    assert origins["hello"] == "majlis_hello:Hello"
    assert not [f for f in failures if f.name in ("example", "admin", "hello")]


async def test_a_third_party_plugin_runs_with_its_own_catalogs_and_migrations() -> None:
    found, _ = discover(["hello", "admin"])
    classes = [f.cls for f in found]
    async with FakeCommunity(classes) as club:
        await club.says("sara", "/hello")
        club.expect("Hello! You greeted me 1 time.")
        await club.says("sara", "/my_language ar")
        await club.says("sara", "/hello")
        club.expect("أهلًا! حيّيتني مرتين.")


async def test_a_plugin_that_raises_at_setup_is_skipped_and_reported() -> None:
    class Broken(Plugin):
        name = "broken"

        async def setup(self) -> None:
            raise RuntimeError("no config")

    from plugins.admin import Admin

    async with FakeCommunity([Broken, Admin]) as club:
        assert "broken" not in club.app.plugins
        assert [f.name for f in club.app.load_failures] == ["broken"]
        await club.says("owner", "/plugins")
        club.expect("broken — could not be loaded: RuntimeError('no config')")


def test_an_import_error_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = importlib.metadata.EntryPoint("ghost", "majlis_ghost:Ghost", ENTRY_POINT_GROUP)
    real = importlib.metadata.entry_points

    def fake(**kwargs: str) -> list[importlib.metadata.EntryPoint]:
        return [*real(**kwargs), entry] if kwargs.get("group") == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    found, failures = discover()
    assert "example" in {f.cls.name for f in found}
    assert [f.name for f in failures] == ["ghost"]
    assert "ModuleNotFoundError" in failures[0].error


class NeedsRoles(Plugin):
    """Needs a platform with roles; the console has none."""

    name = "needs_roles"
    needs = frozenset({Capability.ROLES})
    wants = frozenset({Capability.NATIVE_POLLS})

    @command("roles_only", help=N_("Only where roles exist"))
    async def roles_only(self, ctx: Context) -> None:
        await ctx.reply("ok")


async def test_missing_needs_are_explained_and_the_plugin_does_not_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from plugins.admin import Admin

    caplog.set_level(logging.INFO)
    async with FakeCommunity([NeedsRoles, Admin]) as club:
        assert club.app.unavailable[("needs_roles", "console")] == {Capability.ROLES}
        assert "needs_roles is unavailable on console: it needs roles" in caplog.text
        assert "falls back on console without native_polls" in caplog.text
        await club.says("owner", "/plugins")
        club.expect("unavailable here: it needs roles")
        await club.says("owner", "/roles_only")
        club.expect("There is no command /roles_only here")


async def test_reload_swaps_the_code_and_a_failed_reload_keeps_the_old_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # same-second edits must count
    module = types.ModuleType("majlis_reload_probe")
    source = '''
from bot import N_, Context, Plugin, command

class Probe(Plugin):
    name = "probe"

    @command("probe", help=N_("Probe"))
    async def probe(self, ctx: Context) -> None:
        await ctx.reply("VERSION")
'''
    import tempfile
    from pathlib import Path

    from plugins.admin import Admin

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "majlis_reload_probe.py"
        path.write_text(source.replace("VERSION", "v1"))
        sys.path.insert(0, folder)
        try:
            del module
            probe = importlib.import_module("majlis_reload_probe")
            async with FakeCommunity([probe.Probe, Admin]) as club:
                await club.says("owner", "/probe")
                club.expect("v1")
                path.write_text(source.replace("VERSION", "v2"))
                importlib.invalidate_caches()
                await club.says("owner", "/plugin_reload probe")
                club.expect("probe was reloaded.")
                await club.says("owner", "/probe")
                club.expect("v2")
                path.write_text("raise RuntimeError('half-written file')\n")
                importlib.invalidate_caches()
                await club.says("owner", "/plugin_reload probe")
                club.expect("Reloading probe failed, so the old version keeps running. "
                            "The error: RuntimeError: half-written file")
                await club.says("owner", "/probe")
                club.expect("v2")
                await club.make_admin("amal")
                await club.says("amal", "/plugin_reload probe")
                club.expect("Sorry, /plugin_reload is only for the owner.")
        finally:
            sys.path.remove(folder)
            sys.modules.pop("majlis_reload_probe", None)
