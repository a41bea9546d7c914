"""Slash commands as the fake Discord stores them: descriptions and choices in the
community's language, English for English Discord clients, and no Arabic locale (Discord
has none: its locales are ``discord.Locale``)."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from plugins.contributions import Contributions
from plugins.onboarding import Onboarding
from tests.adapters.test_plugins_discord import running
from tests.fakes.discord_server import FakeDiscord

GUILD_COMMANDS = "/applications/{app_id}/guilds/{guild_id}/commands"
#: Discord's own list, from the library: Arabic is not in it.
DISCORD_LOCALES = frozenset(locale.value for locale in discord.Locale)


def localizations(commands: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every ``*_localizations`` map of commands, options and choices."""
    found = []
    for command in commands:
        for key in ("name_localizations", "description_localizations"):
            found.append(command.get(key) or {})
        for option in command.get("options") or ():
            for key in ("name_localizations", "description_localizations"):
                found.append(option.get(key) or {})
            found.extend(choice.get("name_localizations") or {}
                         for choice in option.get("choices") or ())
    return found


def option(commands: list[dict[str, Any]], command: str, name: str) -> dict[str, Any]:
    by_name = {c["name"]: c for c in commands}
    return next(o for o in by_name[command]["options"] if o["name"] == name)


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_choices_are_named_in_the_communitys_language(language: str) -> None:
    assert "ar" not in DISCORD_LOCALES
    async with FakeDiscord() as fake:
        guild = fake.add_sample_guild()
        async with running(fake, guild, [Contributions, Onboarding], language=language) as app:
            await app.settle()
            await fake.wait_for_request("PUT", GUILD_COMMANDS)
            # an Arabic guild: the change of language synced its commands again, at once
            commands = fake.guild_commands[guild.guild_id]
            period = option(commands, "leaderboard", "period")
            action = option(commands, "onboarding_setup", "action")
    # what members type is unchanged; what Discord lists is a label in the language
    assert [c["value"] for c in period["choices"]] == ["week", "month", "all"]
    english = {"week": "This week", "month": "This month", "all": "All time"}
    arabic = {"week": "هذا الأسبوع", "month": "هذا الشهر", "all": "كل الأوقات"}
    expected = arabic if language == "ar" else english
    assert {c["value"]: c["name"] for c in period["choices"]} == expected
    show = next(c for c in action["choices"] if c["value"] == "show")
    assert show["name"] == ("عرض الإعداد" if language == "ar" else "Show the setup")
    if language == "ar":
        # English Discord clients read English; there is no Arabic key to send anywhere
        for choice in period["choices"]:
            assert choice["name_localizations"] == {
                "en-GB": english[choice["value"]], "en-US": english[choice["value"]]}
        assert period["description_localizations"]["en-US"] == "week, month or all"
    else:
        assert all("name_localizations" not in c for c in period["choices"])
    for found in localizations(commands):
        assert set(found) <= DISCORD_LOCALES, found
        assert "ar" not in found
