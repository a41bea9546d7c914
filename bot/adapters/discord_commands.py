"""Slash commands built from the plugins' declarations, synced only when they changed.

Each guild gets the commands of the plugins enabled there (guild commands update at once,
so enabling a plugin shows its commands immediately); commands only usable in a private
chat are global. A hash of each scope's command set is stored with ``app.db.kv_set``, so a
restart with the same set sends nothing and never burns Discord's daily creation limit.

Descriptions and the names of choices come from the plugins' catalogs: the default is in
the community's language, and every Discord locale whose language has a catalog gets its
own. Discord has no Arabic locale (its list: ``discord_limits.LOCALES``), so an Arabic
community's commands carry Arabic as their default text, with English for members whose
Discord speaks English; an English community's carry no Arabic at all, since no locale
could deliver it. Command and option names stay the ASCII names members type.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters import discord_limits as limits
from bot.core.commands import CommandSpec, Kind, ParamSpec
from bot.core.privilege import Privilege
from bot.core.refs import CommunityRef

if TYPE_CHECKING:
    from bot.app import App
    from bot.core.plugin import Plugin

#: Where command-set hashes are stored (``app.db.kv_get``/``kv_set``), keyed by scope.
KV_NAMESPACE = "discord.commands"
GLOBAL_SCOPE = "global"

#: Discord's option types (documented integers).
OPTION_TYPES: dict[Kind, int] = {
    Kind.STRING: 3,
    Kind.INTEGER: 4,
    Kind.BOOLEAN: 5,
    Kind.MEMBER: 6,
    Kind.CHANNEL: 7,
    Kind.ROLE: 8,
    Kind.NUMBER: 10,
    Kind.DURATION: 3,  # the core parses "2h"
    Kind.DATETIME: 3,  # the core parses dates in the community's timezone
    Kind.CHOICE: 3,
}
CHAT_INPUT = 1
_NAME = re.compile(limits.COMMAND_NAME_PATTERN)
#: ``default_member_permissions`` of admin commands: Manage Server.
ADMIN_PERMISSIONS = str(discord.Permissions(manage_guild=True).value)


def guild_scope(guild_id: int | str) -> str:
    """The hash key of one guild's command set."""
    return f"guild:{guild_id}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def discord_locales(language: str) -> list[str]:
    """Discord locales spoken in ``language`` (none for Arabic)."""
    return [loc for loc in limits.LOCALES if loc.split("-")[0].lower() == language.lower()]


def _describe(
    app: App, plugin: Plugin, text: str, base_language: str, ref: CommunityRef, fallback: str,
    limit: int = limits.COMMAND_DESCRIPTION_CHARS,
) -> tuple[str, dict[str, str]]:
    """A text in ``base_language`` and its translations per Discord locale."""

    def translate(language: str) -> str:
        found = app.translator(plugin.name, language, ref).plain(text) if text else ""
        return _cut(found or fallback, limit)

    base = translate(base_language)
    localized: dict[str, str] = {}
    for language in app.catalogs.languages():
        for locale in discord_locales(language):
            found = translate(language)
            if found != base:
                localized[locale] = found
    return base, dict(sorted(localized.items()))


def option_payload(
    app: App, plugin: Plugin, param: ParamSpec, language: str, ref: CommunityRef
) -> dict[str, Any]:
    """One typed option of a slash command."""
    description, localized = _describe(app, plugin, param.help, language, ref, param.name)
    option: dict[str, Any] = {
        "type": OPTION_TYPES[param.kind],
        "name": param.name,
        "description": description,
        "required": param.required,
    }
    if localized:
        option["description_localizations"] = localized
    if param.choices:
        option["choices"] = [
            choice_payload(app, plugin, param, c, language, ref)
            for c in param.choices[: limits.COMMAND_CHOICES]
        ]
    elif param.autocomplete and OPTION_TYPES[param.kind] in (3, 4, 10):
        option["autocomplete"] = True
    if param.kind in (Kind.INTEGER, Kind.NUMBER):
        cast = int if param.kind is Kind.INTEGER else float
        if param.min is not None:
            option["min_value"] = cast(param.min)
        if param.max is not None:
            option["max_value"] = cast(param.max)
    if OPTION_TYPES[param.kind] == 3 and param.max_length is not None and not param.choices:
        option["max_length"] = min(param.max_length, limits.OPTION_STRING_CHARS)
    return option


def choice_payload(
    app: App, plugin: Plugin, param: ParamSpec, choice: str, language: str, ref: CommunityRef
) -> dict[str, Any]:
    """One choice: its label in the community's language (and per Discord locale).

    The value stays what members type elsewhere; a choice without a label is named by its
    value in every language.
    """
    label = param.label(choice)
    name, localized = _describe(app, plugin, label if label != choice else "", language, ref,
                                choice, limits.CHOICE_NAME_CHARS)
    payload: dict[str, Any] = {"name": name, "value": choice[: limits.CHOICE_VALUE_CHARS]}
    if localized:
        payload["name_localizations"] = localized
    return payload


def command_payload(
    app: App, plugin: Plugin, spec: CommandSpec, language: str, ref: CommunityRef
) -> dict[str, Any]:
    """A CHAT_INPUT application command for one declared command."""
    description, localized = _describe(app, plugin, spec.help, language, ref, spec.name)
    params = sorted(spec.params, key=lambda p: not p.required)  # required ones first
    payload: dict[str, Any] = {
        "type": CHAT_INPUT,
        "name": spec.name,
        "description": description,
        "options": [
            option_payload(app, plugin, p, language, ref)
            for p in params[: limits.COMMAND_OPTIONS]
        ],
    }
    if localized:
        payload["description_localizations"] = localized
    if spec.privilege >= Privilege.ADMIN:
        payload["default_member_permissions"] = ADMIN_PERMISSIONS
    return payload


def build_commands(app: App, community: CommunityRef | None) -> list[dict[str, Any]]:
    """The command set of one guild (plugins enabled there) or the global one (DM-only)."""
    ref = community or CommunityRef("discord", "0")
    language = app.language_for(community, None) if community else app.settings.language
    out: list[dict[str, Any]] = []
    for name, (plugin, spec) in sorted(app.dispatcher.commands().items()):
        if not _NAME.match(name) or name != name.lower():
            continue
        if community is None:
            if not spec.direct_only:
                continue
        elif spec.direct_only or not app.is_enabled(community, plugin):
            continue
        out.append(command_payload(app, plugin, spec, language, ref))
    return out[: limits.GUILD_COMMANDS]


def command_hash(commands: Iterable[dict[str, Any]]) -> str:
    """A stable hash of a command set."""
    raw = json.dumps(list(commands), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


async def sync_commands(
    app: App, http: Any, application_id: int, community: CommunityRef | None
) -> bool:
    """PUT a scope's commands when their hash changed; True when something was sent."""
    commands = build_commands(app, community)
    scope = guild_scope(community.id) if community is not None else GLOBAL_SCOPE
    digest = command_hash(commands)
    if await app.db.kv_get(KV_NAMESPACE, scope) == digest:
        return False
    if community is None:
        await http.bulk_upsert_global_commands(application_id, commands)
    else:
        await http.bulk_upsert_guild_commands(application_id, int(community.id), commands)
    await app.db.kv_set(KV_NAMESPACE, scope, digest)
    return True


def flatten_options(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The leaf options of an interaction's data (subcommands are not used by Majlis)."""
    options = list(data.get("options") or ())
    while len(options) == 1 and options[0].get("type") in (1, 2):
        options = list(options[0].get("options") or ())
    return options
