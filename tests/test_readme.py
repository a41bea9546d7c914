"""The README promises only what exists (issue 15): its commands, plugins, links and settings."""

from __future__ import annotations

import re

from bot.core.builtin import Builtin
from bot.loader import PLUGINS_DIR, discover
from bot.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _box() -> dict[str, str]:
    """The "What is in the box" table: plugin name (or ``core``) -> its row."""
    section = README.split("## What is in the box", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        found = re.match(r"\| `?([a-z_]+)`? \| (.*) \|$", line)
        if found and found.group(1) != "plugin":
            rows[found.group(1)] = found.group(2)
    return rows


def test_every_plugin_in_the_box_is_there_and_every_shipped_plugin_is_in_it() -> None:
    shipped = {p.name for p in PLUGINS_DIR.iterdir() if (p / "__init__.py").is_file()}
    assert set(_box()) == shipped | {"core"}


def test_every_command_the_box_names_is_a_command_of_that_plugin() -> None:
    commands = {f.cls.name: set(f.cls.commands) for f in discover(None)[0]}
    commands["core"] = set(Builtin.commands)
    for plugin, row in _box().items():
        named = set(re.findall(r"`/([a-z_]+)", row))
        assert named, plugin
        assert named <= commands[plugin], (plugin, named - commands[plugin])


def test_the_first_command_needs_only_a_python3_of_3_11_or_newer() -> None:
    first = re.search(r"```bash\n(.*?)\n```", README, re.DOTALL)
    assert first is not None
    assert first.group(1).startswith("python3 -m venv .venv")
    assert "python3.11" not in first.group(1)


def test_links_inside_the_repository_lead_to_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README)
    assert "docs/architecture.md" in links
    for link in links:
        assert (ROOT / link).exists(), link


def test_starting_on_discord_and_on_telegram_is_explained_with_real_settings() -> None:
    assert "## Running on Discord" in README and "## Running on Telegram" in README
    fields = Settings.model_fields
    for variable in set(re.findall(r"MAJLIS_([A-Z]+)__([A-Z_]+)", README)):
        section, key = (part.lower() for part in variable)
        assert section in fields, variable
        model = fields[section].annotation
        assert key in model.model_fields, variable  # type: ignore[union-attr]
