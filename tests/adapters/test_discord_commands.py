"""Slash commands from declarations: types, permissions, localization, hashing."""

from __future__ import annotations

from bot.adapters.discord_commands import build_commands, command_hash, discord_locales
from bot.core.refs import CommunityRef
from plugins.admin import Admin
from plugins.example import Example
from tests.conftest import make_settings


def test_arabic_has_no_discord_locale() -> None:
    assert discord_locales("ar") == []
    assert "en-US" in discord_locales("en")


async def test_command_payloads_are_typed_and_admin_gated() -> None:
    from bot.app import App

    app = App(make_settings(), plugins=[Example, Admin])
    await app.start(connect=False)
    try:
        community = CommunityRef("discord", "1")
        await app.register_community(community, "g")
        commands = {c["name"]: c for c in build_commands(app, community)}
        remind = commands["remind"]
        assert [(o["name"], o["type"], o["required"]) for o in remind["options"]] == [
            ("after", 3, True), ("text", 3, True)]
        assert "default_member_permissions" not in remind
        assert commands["config"]["default_member_permissions"] == "32"
        plugin_option = commands["plugin_enable"]["options"][0]
        assert plugin_option.get("autocomplete") is True
        assert command_hash(commands.values()) == command_hash(
            {c["name"]: c for c in build_commands(app, community)}.values())
    finally:
        await app.stop()
