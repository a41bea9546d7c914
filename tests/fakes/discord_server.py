"""A fake Discord (REST API v10 + gateway WebSocket) on loopback for end-to-end tests.

:class:`FakeDiscord` runs an :mod:`aiohttp` server on ``127.0.0.1`` (ephemeral port) that speaks
enough of Discord's documented API v10 for the *real* ``discord.py`` client to log in, connect to
the gateway, receive events and call the REST API::

    async with FakeDiscord() as fake:                      # also points discord.py at the fake
        world = fake.add_sample_guild()                    # guild, roles, channels, members
        client = make_client()                             # discord.Client with test intents
        async with fake.run_client(client):                # login + connect + wait for on_ready
            await fake.simulate_message(world.general_id, world.alice_id, "hello")
            request = await fake.wait_for_request("POST", "/channels/{channel_id}/messages")
            assert request.json["content"] == "hi alice"

Pointing discord.py at the fake
-------------------------------
discord.py has no "base URL" option; it uses three class attributes which
:func:`point_discord_py_at` (used automatically by ``async with FakeDiscord()`` unless
``patch_discord=False``) sets and restores afterwards:

* ``discord.http.Route.BASE`` -- REST base, read when each ``Route`` is built (webhooks and
  interaction responses use the same class).
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -- a plain ``discord.Client`` does **not**
  ask ``GET /gateway/bot``; it connects straight to this URL (``AutoShardedClient`` asks
  ``/gateway/bot``, which the fake also serves). After READY it reconnects/RESUMEs to READY's
  ``resume_gateway_url``; after ``INVALID_SESSION(false)`` it goes back to ``DEFAULT_GATEWAY``.
* ``discord.asset.Asset.BASE`` -- CDN base for avatars etc. (the fake serves a 1x1 PNG).

Only one fake can be patched in at a time (they are process-wide class attributes).

Other discord.py quirks worth knowing
-------------------------------------
* ``on_ready`` fires ``guild_ready_timeout`` seconds (default **2 s**) after the last
  GUILD_CREATE; :func:`make_client` sets 0.1 s. Do not use 0 (it skips every guild).
* Login calls ``GET /users/@me`` then ``GET /oauth2/applications/@me``.
* The gateway URL gets ``?v=10&encoding=json&compress=zlib-stream`` (``zstd-stream`` when the
  ``zstandard`` package is installed). The fake answers zlib-stream with binary zlib frames
  (``compress=True``, default) and anything else with plain JSON text frames, which discord.py
  always accepts.
* discord.py only honours a 429 if the response carries a ``Via`` header (otherwise it assumes a
  Cloudflare ban and raises ``HTTPException``); the fake sends ``Via: 1.1 google`` everywhere.
  It retries a 429 after the body's ``retry_after`` (up to 5 tries), and 500/502/504 after
  1 + 2n seconds.
* Interaction callbacks are sent with ``?with_response=1`` and discord.py expects an
  ``InteractionCallbackResponse`` body (``{"interaction": ..., "resource": ...}``).
* Without the GUILD_PRESENCES intent, GUILD_CREATE carries only the bot's own member (as on
  Discord); with GUILD_MEMBERS discord.py then requests the rest with gateway op 8, which the
  fake answers with GUILD_MEMBERS_CHUNK.
* Without the MESSAGE_CONTENT intent, guild MESSAGE_CREATE/UPDATE events not authored by the bot
  and not mentioning it arrive with empty ``content``/``embeds``/``attachments``/``components``.
* Reaction events: Discord documents ``burst_colors``; discord.py reads ``burst_colours``.
* Discord has no Arabic locale: ``name_localizations={"ar": ...}`` is rejected with 50035.

What is recorded
----------------
* :attr:`FakeDiscord.requests` -- every REST request (:class:`RecordedRequest`), including unknown
  routes (404 ``{"message": "404: Not Found", "code": 0}``) and injected failures; wait for one
  with :meth:`FakeDiscord.wait_for_request`.
* :attr:`FakeDiscord.gateway_log` -- every gateway frame sent or received (:class:`GatewayFrame`).
* :attr:`FakeDiscord.sessions`, :attr:`~FakeDiscord.connections`, :attr:`~FakeDiscord.resumes`,
  :attr:`~FakeDiscord.interaction_callbacks`, :attr:`~FakeDiscord.reactions` and the REST state
  (:attr:`~FakeDiscord.messages`, :attr:`~FakeDiscord.guilds`, ...).

Payload builders (:func:`user_payload`, :func:`guild_payload`, :func:`member_payload`,
:func:`message_payload`, :func:`reaction_payload`, :func:`interaction_payload`, ...) return plain
``dict``\\ s shaped like Discord's documented objects; snowflakes are strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import math
import re
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, IntFlag
from typing import Any, Final, Literal, NamedTuple, TypeAlias, TypeVar
from urllib.parse import unquote

import discord
import yarl
from aiohttp import WSMsgType, web
from discord.asset import Asset
from discord.gateway import DiscordWebSocket
from discord.http import Route

__all__ = [
    "ALL_PERMISSIONS",
    "CANNOT_SEND_MESSAGES_TO_USER",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DEFAULT_TOKEN",
    "DISCORD_LOCALES",
    "INTERACTION_ALREADY_ACKNOWLEDGED",
    "INVALID_FORM_BODY",
    "MISSING_ACCESS",
    "MISSING_PERMISSIONS",
    "PRIVILEGED_INTENTS",
    "RATE_LIMITED",
    "UNKNOWN_CHANNEL",
    "UNKNOWN_INTERACTION",
    "UNKNOWN_MEMBER",
    "UNKNOWN_MESSAGE",
    "ChannelType",
    "CloseCode",
    "ComponentType",
    "DiscordError",
    "DispatchedEvent",
    "FakeDiscord",
    "GatewayConnection",
    "GatewayFrame",
    "GatewaySession",
    "GuildState",
    "Intent",
    "InteractionCallback",
    "InteractionCallbackType",
    "InteractionType",
    "MessageFlag",
    "MessageType",
    "Op",
    "OptionType",
    "Permission",
    "ReactionRecord",
    "RecordedFile",
    "RecordedRequest",
    "ResumeInfo",
    "SampleGuild",
    "channel_payload",
    "command_interaction_payload",
    "command_option",
    "compile_path_pattern",
    "component_interaction_payload",
    "default_intents",
    "dm_channel_payload",
    "forum_channel_payload",
    "guild_payload",
    "interaction_payload",
    "iso_timestamp",
    "make_client",
    "member_payload",
    "message_payload",
    "modal_submit_interaction_payload",
    "new_snowflake",
    "overwrite_payload",
    "point_discord_py_at",
    "reaction_payload",
    "resolved_payload",
    "role_payload",
    "snowflake_time",
    "subcommand",
    "thread_payload",
    "user_payload",
]

JSON: TypeAlias = dict[str, Any]
"""A JSON object (Discord payload)."""

SnowflakeLike: TypeAlias = int | str
"""A snowflake given as ``int`` or as Discord's string form."""

PathPattern: TypeAlias = str | re.Pattern[str]
"""A REST path pattern: ``"/channels/{channel_id}/messages"`` or a compiled regex."""

ClientT = TypeVar("ClientT", bound=discord.Client)
_T = TypeVar("_T")

DEFAULT_TOKEN: Final = "ODk0NjE1MjM0NTY3ODkwMTIz.fake.discord-bot-token"
"""Token used by :meth:`FakeDiscord.run_client` when none is given."""

DISCORD_EPOCH_MS: Final = 1_420_070_400_000
"""The Discord epoch (2015-01-01T00:00:00Z) in milliseconds."""

API_VERSION: Final = 10


# --------------------------------------------------------------------------------------------
# Documented enumerations
# --------------------------------------------------------------------------------------------


class Op(IntEnum):
    """Gateway opcodes."""

    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11
    REQUEST_SOUNDBOARD_SOUNDS = 31


class CloseCode(IntEnum):
    """Gateway close event codes."""

    UNKNOWN_ERROR = 4000
    UNKNOWN_OPCODE = 4001
    DECODE_ERROR = 4002
    NOT_AUTHENTICATED = 4003
    AUTHENTICATION_FAILED = 4004
    ALREADY_AUTHENTICATED = 4005
    INVALID_SEQ = 4007
    RATE_LIMITED = 4008
    SESSION_TIMED_OUT = 4009
    INVALID_SHARD = 4010
    SHARDING_REQUIRED = 4011
    INVALID_API_VERSION = 4012
    INVALID_INTENTS = 4013
    DISALLOWED_INTENTS = 4014


class Intent(IntFlag):
    """Gateway intents."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16
    AUTO_MODERATION_CONFIGURATION = 1 << 20
    AUTO_MODERATION_EXECUTION = 1 << 21
    GUILD_MESSAGE_POLLS = 1 << 24
    DIRECT_MESSAGE_POLLS = 1 << 25


PRIVILEGED_INTENTS: Final[int] = int(
    Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES | Intent.MESSAGE_CONTENT
)
"""Intents that must be enabled in the developer portal (else close code 4014)."""


class Permission(IntFlag):
    """Permission bits (``permissions`` fields are these as decimal strings)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51
    BYPASS_SLOWMODE = 1 << 52


ALL_PERMISSIONS: Final[int] = sum(int(p) for p in Permission)
"""Every permission bit (what owners and administrators get)."""

DEFAULT_EVERYONE_PERMISSIONS: Final[int] = int(
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CONNECT
    | Permission.SPEAK
    | Permission.USE_VAD
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
"""Permissions of ``@everyone`` in guilds built by :func:`guild_payload` (unless overridden)."""


class ChannelType(IntEnum):
    """Channel types."""

    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GROUP_DM = 3
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_STAGE_VOICE = 13
    GUILD_DIRECTORY = 14
    GUILD_FORUM = 15
    GUILD_MEDIA = 16


THREAD_TYPES: Final = frozenset({10, 11, 12})
_FORUM_TYPES: Final = frozenset({15, 16})
_NON_TEXT_TYPES: Final = frozenset({4, 14, 15, 16})


class MessageType(IntEnum):
    """Message types (subset)."""

    DEFAULT = 0
    CHANNEL_PINNED_MESSAGE = 6
    USER_JOIN = 7
    THREAD_CREATED = 18
    REPLY = 19
    CHAT_INPUT_COMMAND = 20
    THREAD_STARTER_MESSAGE = 21
    CONTEXT_MENU_COMMAND = 23


class MessageFlag(IntFlag):
    """Message flags (subset)."""

    CROSSPOSTED = 1 << 0
    SUPPRESS_EMBEDS = 1 << 2
    HAS_THREAD = 1 << 5
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_VOICE_MESSAGE = 1 << 13
    IS_COMPONENTS_V2 = 1 << 15


class InteractionType(IntEnum):
    """Interaction types."""

    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class InteractionCallbackType(IntEnum):
    """Interaction callback (response) types."""

    PONG = 1
    CHANNEL_MESSAGE_WITH_SOURCE = 4
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
    MODAL = 9
    PREMIUM_REQUIRED = 10
    LAUNCH_ACTIVITY = 12


class OptionType(IntEnum):
    """Application command option types."""

    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


class ComponentType(IntEnum):
    """Message component types (subset)."""

    ACTION_ROW = 1
    BUTTON = 2
    STRING_SELECT = 3
    TEXT_INPUT = 4
    USER_SELECT = 5
    ROLE_SELECT = 6
    MENTIONABLE_SELECT = 7
    CHANNEL_SELECT = 8


DISCORD_LOCALES: Final = frozenset(
    {
        "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu",
        "nl", "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru",
        "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
    }
)  # fmt: skip
"""Locales Discord accepts (``locale``, ``*_localizations`` keys). Arabic is not one of them."""


# --------------------------------------------------------------------------------------------
# Documented errors
# --------------------------------------------------------------------------------------------


class DiscordError(NamedTuple):
    """A Discord REST error: HTTP status, JSON error ``code`` and ``message``."""

    status: int
    code: int
    message: str


UNAUTHORIZED: Final = DiscordError(401, 0, "401: Unauthorized")
NOT_FOUND: Final = DiscordError(404, 0, "404: Not Found")
METHOD_NOT_ALLOWED: Final = DiscordError(405, 0, "405: Method Not Allowed")
UNKNOWN_APPLICATION: Final = DiscordError(404, 10002, "Unknown Application")
UNKNOWN_CHANNEL: Final = DiscordError(404, 10003, "Unknown Channel")
UNKNOWN_GUILD: Final = DiscordError(404, 10004, "Unknown Guild")
UNKNOWN_MEMBER: Final = DiscordError(404, 10007, "Unknown Member")
UNKNOWN_MESSAGE: Final = DiscordError(404, 10008, "Unknown Message")
UNKNOWN_ROLE: Final = DiscordError(404, 10011, "Unknown Role")
UNKNOWN_USER: Final = DiscordError(404, 10013, "Unknown User")
UNKNOWN_EMOJI: Final = DiscordError(400, 10014, "Unknown Emoji")
UNKNOWN_WEBHOOK: Final = DiscordError(404, 10015, "Unknown Webhook")
UNKNOWN_BAN: Final = DiscordError(404, 10026, "Unknown Ban")
UNKNOWN_INTERACTION: Final = DiscordError(404, 10062, "Unknown interaction")
UNKNOWN_APPLICATION_COMMAND: Final = DiscordError(404, 10063, "Unknown application command")
UNKNOWN_GUILD_SCHEDULED_EVENT: Final = DiscordError(404, 10070, "Unknown Guild Scheduled Event")
INTERACTION_ALREADY_ACKNOWLEDGED: Final = DiscordError(
    400, 40060, "Interaction has already been acknowledged."
)
MISSING_ACCESS: Final = DiscordError(403, 50001, "Missing Access")
CANNOT_EDIT_OTHER_USERS_MESSAGE: Final = DiscordError(
    403, 50005, "Cannot edit a message authored by another user"
)
CANNOT_SEND_EMPTY_MESSAGE: Final = DiscordError(400, 50006, "Cannot send an empty message")
CANNOT_SEND_MESSAGES_TO_USER: Final = DiscordError(403, 50007, "Cannot send messages to this user")
CANNOT_SEND_IN_NON_TEXT_CHANNEL: Final = DiscordError(
    400, 50008, "Cannot send messages in a non-text channel"
)
MISSING_PERMISSIONS: Final = DiscordError(403, 50013, "Missing Permissions")
INVALID_FORM_BODY: Final = DiscordError(400, 50035, "Invalid Form Body")
THREAD_ALREADY_CREATED: Final = DiscordError(
    400, 160004, "A thread has already been created for this message"
)
RATE_LIMITED: Final = DiscordError(429, 0, "You are being rate limited.")

_KNOWN_ERRORS: Final = {
    e.code: e
    for e in (
        UNKNOWN_APPLICATION, UNKNOWN_CHANNEL, UNKNOWN_GUILD, UNKNOWN_MEMBER, UNKNOWN_MESSAGE,
        UNKNOWN_ROLE, UNKNOWN_USER, UNKNOWN_EMOJI, UNKNOWN_WEBHOOK, UNKNOWN_BAN,
        UNKNOWN_INTERACTION, UNKNOWN_APPLICATION_COMMAND, UNKNOWN_GUILD_SCHEDULED_EVENT,
        INTERACTION_ALREADY_ACKNOWLEDGED, MISSING_ACCESS, CANNOT_EDIT_OTHER_USERS_MESSAGE,
        CANNOT_SEND_EMPTY_MESSAGE, CANNOT_SEND_MESSAGES_TO_USER, CANNOT_SEND_IN_NON_TEXT_CHANNEL,
        MISSING_PERMISSIONS, INVALID_FORM_BODY, THREAD_ALREADY_CREATED,
    )
}  # fmt: skip
_STATUS_MESSAGES: Final = {
    400: "400: Bad Request",
    401: "401: Unauthorized",
    403: "403: Forbidden",
    404: "404: Not Found",
    405: "405: Method Not Allowed",
    429: "You are being rate limited.",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
}


class _HTTPError(Exception):
    """Raised by route handlers to answer with a Discord error."""

    def __init__(self, error: DiscordError, errors: JSON | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.errors = errors


def _form_error(path: Sequence[str | int], code: str, message: str) -> _HTTPError:
    """A 50035 Invalid Form Body error for one field (``path`` like ``("options", 0, "name")``)."""
    errors: JSON = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        errors = {str(key): errors}
    return _HTTPError(INVALID_FORM_BODY, errors)


# --------------------------------------------------------------------------------------------
# Snowflakes and timestamps
# --------------------------------------------------------------------------------------------


class _SnowflakeGenerator:
    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value


new_snowflake: Final = _SnowflakeGenerator()
"""Return a new, strictly increasing, time-based snowflake (``int``)."""


def snowflake_time(snowflake: SnowflakeLike) -> datetime:
    """Return the creation time encoded in a snowflake."""
    ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso_timestamp(when: datetime | None = None) -> str:
    """Return an ISO8601 timestamp as Discord writes them (``2024-01-01T00:00:00.000000+00:00``)."""
    return (when or datetime.now(UTC)).isoformat(timespec="microseconds")


def _sid(value: SnowflakeLike) -> str:
    return str(int(value))


def _opt_sid(value: SnowflakeLike | None) -> str | None:
    return None if value is None else str(int(value))


def _copy(value: _T) -> _T:
    return copy.deepcopy(value)


# --------------------------------------------------------------------------------------------
# Payload builders (documented object shapes, snowflakes as strings)
# --------------------------------------------------------------------------------------------


def user_payload(
    user_id: SnowflakeLike | None = None,
    username: str = "user",
    *,
    global_name: str | None = None,
    bot: bool = False,
    avatar: str | None = None,
    discriminator: str = "0",
    system: bool = False,
    public_flags: int = 0,
) -> JSON:
    """Build a user object."""
    data: JSON = {
        "id": _sid(user_id if user_id is not None else new_snowflake()),
        "username": username,
        "discriminator": discriminator,
        "global_name": global_name,
        "avatar": avatar,
        "public_flags": public_flags,
        "flags": public_flags,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }
    if bot:
        data["bot"] = True
    if system:
        data["system"] = True
    return data


def role_payload(
    role_id: SnowflakeLike | None = None,
    name: str = "role",
    *,
    position: int = 1,
    permissions: int = 0,
    color: int = 0,
    hoist: bool = False,
    managed: bool = False,
    mentionable: bool = False,
    tags: JSON | None = None,
    flags: int = 0,
) -> JSON:
    """Build a role object (``permissions`` is serialised as a string)."""
    data: JSON = {
        "id": _sid(role_id if role_id is not None else new_snowflake()),
        "name": name,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(int(permissions)),
        "managed": managed,
        "mentionable": mentionable,
        "flags": flags,
    }
    if tags is not None:
        data["tags"] = tags
    return data


def overwrite_payload(
    target_id: SnowflakeLike, *, member: bool = False, allow: int = 0, deny: int = 0
) -> JSON:
    """Build a permission overwrite (``type`` 0 = role, 1 = member)."""
    return {
        "id": _sid(target_id),
        "type": 1 if member else 0,
        "allow": str(int(allow)),
        "deny": str(int(deny)),
    }


def channel_payload(
    channel_id: SnowflakeLike | None = None,
    name: str = "general",
    *,
    type: int = ChannelType.GUILD_TEXT,
    guild_id: SnowflakeLike | None = None,
    position: int = 0,
    parent_id: SnowflakeLike | None = None,
    topic: str | None = None,
    nsfw: bool = False,
    rate_limit_per_user: int = 0,
    permission_overwrites: Sequence[JSON] = (),
    **extra: Any,
) -> JSON:
    """Build a guild channel object (text by default; see :class:`ChannelType`)."""
    data: JSON = {
        "id": _sid(channel_id if channel_id is not None else new_snowflake()),
        "type": int(type),
        "name": name,
        "position": position,
        "parent_id": _opt_sid(parent_id),
        "permission_overwrites": [dict(o) for o in permission_overwrites],
        "nsfw": nsfw,
        "flags": 0,
    }
    if guild_id is not None:
        data["guild_id"] = _sid(guild_id)
    if int(type) in (0, 5, 15, 16):
        data["topic"] = topic
        data["last_message_id"] = None
        data["rate_limit_per_user"] = rate_limit_per_user
        data["default_auto_archive_duration"] = 1440
        data["default_thread_rate_limit_per_user"] = 0
    if int(type) in (2, 13):
        data.update(bitrate=64000, user_limit=0, rtc_region=None, last_message_id=None)
    data.update(extra)
    return data


def forum_channel_payload(
    channel_id: SnowflakeLike | None = None,
    name: str = "forum",
    *,
    guild_id: SnowflakeLike | None = None,
    available_tags: Sequence[JSON] = (),
    **extra: Any,
) -> JSON:
    """Build a forum channel (type 15) with ``available_tags`` (``{id, name, moderated, ...}``)."""
    tags = [
        {
            "id": _sid(t.get("id", new_snowflake())),
            "name": t["name"],
            "moderated": t.get("moderated", False),
            "emoji_id": t.get("emoji_id"),
            "emoji_name": t.get("emoji_name"),
        }
        for t in available_tags
    ]
    return channel_payload(
        channel_id,
        name,
        type=ChannelType.GUILD_FORUM,
        guild_id=guild_id,
        available_tags=tags,
        default_reaction_emoji=None,
        default_sort_order=None,
        default_forum_layout=0,
        **extra,
    )


def thread_payload(
    thread_id: SnowflakeLike | None = None,
    name: str = "thread",
    *,
    parent_id: SnowflakeLike,
    guild_id: SnowflakeLike | None = None,
    owner_id: SnowflakeLike | None = None,
    type: int = ChannelType.PUBLIC_THREAD,
    archived: bool = False,
    locked: bool = False,
    auto_archive_duration: int = 1440,
    message_count: int = 0,
    member_count: int = 1,
    applied_tags: Sequence[SnowflakeLike] = (),
    rate_limit_per_user: int = 0,
) -> JSON:
    """Build a thread channel object (type 11 public, 12 private, 10 announcement)."""
    now = iso_timestamp()
    data: JSON = {
        "id": _sid(thread_id if thread_id is not None else new_snowflake()),
        "type": int(type),
        "name": name,
        "parent_id": _sid(parent_id),
        "owner_id": _sid(owner_id if owner_id is not None else new_snowflake()),
        "last_message_id": None,
        "message_count": message_count,
        "member_count": member_count,
        "total_message_sent": message_count,
        "rate_limit_per_user": rate_limit_per_user,
        "flags": 0,
        "applied_tags": [_sid(t) for t in applied_tags],
        "thread_metadata": {
            "archived": archived,
            "auto_archive_duration": auto_archive_duration,
            "archive_timestamp": now,
            "locked": locked,
            "create_timestamp": now,
        },
    }
    if int(type) == ChannelType.PRIVATE_THREAD:
        data["thread_metadata"]["invitable"] = True
    if guild_id is not None:
        data["guild_id"] = _sid(guild_id)
    return data


def dm_channel_payload(channel_id: SnowflakeLike | None, recipient: JSON) -> JSON:
    """Build a DM channel object (type 1) with one recipient (a user object)."""
    return {
        "id": _sid(channel_id if channel_id is not None else new_snowflake()),
        "type": int(ChannelType.DM),
        "last_message_id": None,
        "flags": 0,
        "recipients": [_copy(recipient)],
    }


def member_payload(
    user: JSON,
    *,
    roles: Iterable[SnowflakeLike] = (),
    nick: str | None = None,
    joined_at: str | None = None,
    guild_id: SnowflakeLike | None = None,
    permissions: int | None = None,
    avatar: str | None = None,
    flags: int = 0,
    pending: bool = False,
    communication_disabled_until: str | None = None,
    premium_since: str | None = None,
) -> JSON:
    """Build a guild member object.

    ``guild_id`` adds the extra field of GUILD_MEMBER_ADD/UPDATE events; ``permissions`` adds the
    field interaction payloads carry (total permissions of the member in the channel).
    """
    data: JSON = {
        "user": _copy(user),
        "nick": nick,
        "avatar": avatar,
        "banner": None,
        "roles": [_sid(r) for r in roles],
        "joined_at": joined_at or iso_timestamp(),
        "premium_since": premium_since,
        "deaf": False,
        "mute": False,
        "flags": flags,
        "pending": pending,
        "communication_disabled_until": communication_disabled_until,
    }
    if guild_id is not None:
        data["guild_id"] = _sid(guild_id)
    if permissions is not None:
        data["permissions"] = str(int(permissions))
    return data


def guild_payload(
    guild_id: SnowflakeLike | None = None,
    name: str = "Test Guild",
    *,
    owner_id: SnowflakeLike | None = None,
    roles: Sequence[JSON] = (),
    channels: Sequence[JSON] = (),
    threads: Sequence[JSON] = (),
    members: Sequence[JSON] = (),
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    preferred_locale: str = "en-US",
    features: Sequence[str] = (),
    description: str | None = None,
    joined_at: str | None = None,
    scheduled_events: Sequence[JSON] = (),
) -> JSON:
    """Build a GUILD_CREATE-shaped guild object.

    An ``@everyone`` role (id = guild id, position 0) is added unless one is given; channels and
    threads get ``guild_id``; thread channels given in ``channels`` are moved to ``threads``.
    ``owner_id`` defaults to the first member's user id.
    """
    gid = _sid(guild_id if guild_id is not None else new_snowflake())
    role_list = [_copy(r) for r in roles]
    if not any(r["id"] == gid for r in role_list):
        role_list.insert(
            0, role_payload(gid, "@everyone", position=0, permissions=everyone_permissions)
        )
    channel_list: list[JSON] = []
    thread_list: list[JSON] = [_copy(t) for t in threads]
    for channel in channels:
        target = thread_list if channel["type"] in THREAD_TYPES else channel_list
        target.append(_copy(channel))
    for channel in (*channel_list, *thread_list):
        channel["guild_id"] = gid
    member_list = [_copy(m) for m in members]
    if owner_id is None:
        owner_id = member_list[0]["user"]["id"] if member_list else new_snowflake()
    return {
        "id": gid,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": _sid(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "roles": role_list,
        "emojis": [],
        "stickers": [],
        "features": list(features),
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": description,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": preferred_locale,
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "safety_alerts_channel_id": None,
        # GUILD_CREATE extra fields
        "joined_at": joined_at or iso_timestamp(),
        "large": False,
        "unavailable": False,
        "member_count": len(member_list),
        "voice_states": [],
        "members": member_list,
        "channels": channel_list,
        "threads": thread_list,
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [_copy(e) for e in scheduled_events],
        "soundboard_sounds": [],
    }


def _partial_member(member: JSON) -> JSON:
    return {k: _copy(v) for k, v in member.items() if k not in ("user", "guild_id")}


def _user_of(user_or_member: JSON) -> JSON:
    user = user_or_member.get("user", user_or_member)
    return _copy(user) if isinstance(user, dict) else _copy(user_or_member)


_CUSTOM_EMOJI = re.compile(r"^<?(?P<animated>a)?:?(?P<name>[\w~]+):(?P<id>\d+)>?$")


def _emoji_object(emoji: str | JSON) -> JSON:
    """Turn ``"👍"``, ``"name:id"`` or ``"<a:name:id>"`` into a (partial) emoji object."""
    if isinstance(emoji, dict):
        return _copy(emoji)
    match = _CUSTOM_EMOJI.match(emoji)
    if match:
        data: JSON = {"id": match["id"], "name": match["name"]}
        if match["animated"]:
            data["animated"] = True
        return data
    return {"id": None, "name": emoji}


def _emoji_key(emoji: JSON) -> str:
    return f"{emoji['name']}:{emoji['id']}" if emoji.get("id") else str(emoji["name"])


def message_payload(
    channel_id: SnowflakeLike,
    author: JSON,
    content: str = "",
    *,
    message_id: SnowflakeLike | None = None,
    guild_id: SnowflakeLike | None = None,
    member: JSON | None = None,
    mentions: Sequence[JSON] = (),
    mention_roles: Sequence[SnowflakeLike] = (),
    mention_everyone: bool = False,
    referenced_message: JSON | None = None,
    thread: JSON | None = None,
    attachments: Sequence[JSON] = (),
    embeds: Sequence[JSON] = (),
    components: Sequence[JSON] = (),
    type: int | None = None,
    timestamp: str | None = None,
    edited_timestamp: str | None = None,
    flags: int = 0,
    pinned: bool = False,
    tts: bool = False,
    nonce: str | int | None = None,
    webhook_id: SnowflakeLike | None = None,
    application_id: SnowflakeLike | None = None,
    interaction_metadata: JSON | None = None,
) -> JSON:
    """Build a MESSAGE_CREATE payload (a message object plus ``guild_id``/``member``).

    ``author`` is a user object, or a member object (then ``member`` defaults to it for guild
    messages). ``mentions`` are users or members; for guild messages members become users with a
    partial ``member`` field, as Discord sends them. ``referenced_message`` makes it a reply
    (type 19 with ``message_reference``); ``thread`` is the thread started from this message.
    """
    user = _user_of(author)
    if member is None and "user" in author and guild_id is not None:
        member = author
    mention_list: list[JSON] = []
    for mentioned in mentions:
        mentioned_user = _user_of(mentioned)
        if "user" in mentioned and guild_id is not None:
            mentioned_user["member"] = _partial_member(mentioned)
        mention_list.append(mentioned_user)
    data: JSON = {
        "id": _sid(message_id if message_id is not None else new_snowflake()),
        "channel_id": _sid(channel_id),
        "author": user,
        "content": content,
        "timestamp": timestamp or iso_timestamp(),
        "edited_timestamp": edited_timestamp,
        "tts": tts,
        "mention_everyone": mention_everyone,
        "mentions": mention_list,
        "mention_roles": [_sid(r) for r in mention_roles],
        "attachments": [_copy(a) for a in attachments],
        "embeds": [_copy(e) for e in embeds],
        "components": [_copy(c) for c in components],
        "pinned": pinned,
        "type": int(type) if type is not None else (19 if referenced_message else 0),
        "flags": flags,
    }
    if nonce is not None:
        data["nonce"] = nonce
    if webhook_id is not None:
        data["webhook_id"] = _sid(webhook_id)
    if application_id is not None:
        data["application_id"] = _sid(application_id)
    if interaction_metadata is not None:
        data["interaction_metadata"] = _copy(interaction_metadata)
    if referenced_message is not None:
        ref = _copy(referenced_message)
        ref.pop("referenced_message", None)
        data["message_reference"] = {
            "type": 0,
            "message_id": ref["id"],
            "channel_id": ref["channel_id"],
        }
        if guild_id is not None:
            data["message_reference"]["guild_id"] = _sid(guild_id)
        data["referenced_message"] = ref
    if thread is not None:
        data["thread"] = _copy(thread)
        data["flags"] |= int(MessageFlag.HAS_THREAD)
    if guild_id is not None:
        data["guild_id"] = _sid(guild_id)
        if member is not None:
            data["member"] = _partial_member(member)
    return data


def reaction_payload(
    user_id: SnowflakeLike,
    channel_id: SnowflakeLike,
    message_id: SnowflakeLike,
    emoji: str | JSON = "👍",
    *,
    guild_id: SnowflakeLike | None = None,
    member: JSON | None = None,
    message_author_id: SnowflakeLike | None = None,
    burst: bool = False,
) -> JSON:
    """Build a MESSAGE_REACTION_ADD payload (``emoji``: unicode, ``"name:id"`` or an emoji dict).

    The same shape (without ``member``) serves MESSAGE_REACTION_REMOVE.
    """
    data: JSON = {
        "user_id": _sid(user_id),
        "channel_id": _sid(channel_id),
        "message_id": _sid(message_id),
        "emoji": _emoji_object(emoji),
        "burst": burst,
        "burst_colors": [],
        "type": 1 if burst else 0,
    }
    if guild_id is not None:
        data["guild_id"] = _sid(guild_id)
        if member is not None:
            data["member"] = _copy(member)
    if message_author_id is not None:
        data["message_author_id"] = _sid(message_author_id)
    return data


def command_option(
    name: str,
    value: Any = None,
    *,
    option_type: int | None = None,
    options: Sequence[JSON] | None = None,
    focused: bool | None = None,
) -> JSON:
    """Build an interaction ``data.options`` entry.

    The type is inferred for ``str``/``int``/``float``/``bool`` values; pass ``option_type`` for
    USER/CHANNEL/ROLE/MENTIONABLE/ATTACHMENT (their value is the snowflake) and sub-commands.
    """
    if option_type is None:
        if options is not None and value is None:
            option_type = OptionType.SUB_COMMAND
        elif isinstance(value, bool):
            option_type = OptionType.BOOLEAN
        elif isinstance(value, int):
            option_type = OptionType.INTEGER
        elif isinstance(value, float):
            option_type = OptionType.NUMBER
        else:
            option_type = OptionType.STRING
    data: JSON = {"name": name, "type": int(option_type)}
    if option_type in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP):
        data["options"] = [_copy(o) for o in options or ()]
        return data
    if option_type in (
        OptionType.USER,
        OptionType.CHANNEL,
        OptionType.ROLE,
        OptionType.MENTIONABLE,
        OptionType.ATTACHMENT,
    ):
        value = _sid(value)
    data["value"] = value
    if focused is not None:
        data["focused"] = focused
    return data


def subcommand(name: str, options: Sequence[JSON] = (), *, group: bool = False) -> JSON:
    """Build a SUB_COMMAND (or SUB_COMMAND_GROUP) option wrapping ``options``."""
    kind = OptionType.SUB_COMMAND_GROUP if group else OptionType.SUB_COMMAND
    return command_option(name, option_type=kind, options=options)


def resolved_payload(
    *,
    users: Sequence[JSON] = (),
    members: Sequence[JSON] = (),
    roles: Sequence[JSON] = (),
    channels: Sequence[JSON] = (),
    messages: Sequence[JSON] = (),
    attachments: Sequence[JSON] = (),
) -> JSON:
    """Build interaction ``data.resolved``.

    ``members`` are full member objects (with ``user`` and ideally ``permissions``); their users
    go to ``resolved.users`` and the rest to ``resolved.members`` (without ``user``), as Discord
    does. ``channels`` are channel objects, reduced to the documented partial channel (with
    ``permissions``; thread fields kept for threads).
    """
    data: JSON = {}
    if users or members:
        data["users"] = {u["id"]: _copy(u) for u in users}
        data["members"] = {}
        for m in members:
            data["users"][m["user"]["id"]] = _copy(m["user"])
            partial = _partial_member(m)
            partial.setdefault("permissions", "0")
            data["members"][m["user"]["id"]] = partial
        if not data["members"]:
            del data["members"]
    if roles:
        data["roles"] = {r["id"]: _copy(r) for r in roles}
    if channels:
        data["channels"] = {}
        for c in channels:
            partial = {
                "id": c["id"],
                "name": c.get("name"),
                "type": c["type"],
                "permissions": str(c.get("permissions", ALL_PERMISSIONS)),
                "flags": c.get("flags", 0),
            }
            if c.get("guild_id") is not None:
                partial["guild_id"] = c["guild_id"]
            if c["type"] in THREAD_TYPES:
                for key in ("parent_id", "thread_metadata", "owner_id", "member_count"):
                    partial[key] = _copy(c.get(key))
                partial.setdefault("message_count", c.get("message_count", 0))
            else:
                partial["parent_id"] = c.get("parent_id")
            data["channels"][c["id"]] = partial
    if messages:
        data["messages"] = {m["id"]: _copy(m) for m in messages}
    if attachments:
        data["attachments"] = {a["id"]: _copy(a) for a in attachments}
    return data


def interaction_payload(
    interaction_type: int,
    *,
    application_id: SnowflakeLike,
    data: JSON | None = None,
    guild_id: SnowflakeLike | None = None,
    channel: JSON | None = None,
    member: JSON | None = None,
    user: JSON | None = None,
    message: JSON | None = None,
    locale: str = "en-US",
    guild_locale: str | None = None,
    token: str | None = None,
    interaction_id: SnowflakeLike | None = None,
    permissions: int | None = None,
    app_permissions: int = ALL_PERMISSIONS,
    guild_features: Sequence[str] = (),
    context: int | None = None,
    attachment_size_limit: int = 10 * 1024 * 1024,
    entitlements: Sequence[JSON] = (),
) -> JSON:
    """Build an INTERACTION_CREATE payload (an interaction object).

    In a guild pass ``guild_id`` and ``member`` (a member object; its ``permissions`` string is
    set from ``permissions`` or kept, defaulting to ``@everyone``'s defaults); in a DM pass
    ``user``. ``channel`` is the (partial) channel object; ``message`` the message a component
    belongs to. ``context`` defaults to 0 (GUILD) or 1 (BOT_DM).
    """
    iid = _sid(interaction_id if interaction_id is not None else new_snowflake())
    payload: JSON = {
        "id": iid,
        "application_id": _sid(application_id),
        "type": int(interaction_type),
        "token": token or f"aW50ZXJhY3Rpb246{iid}:{secrets.token_urlsafe(48)}",
        "version": 1,
        "app_permissions": str(int(app_permissions)),
        "entitlements": [_copy(e) for e in entitlements],
        "attachment_size_limit": attachment_size_limit,
    }
    if data is not None:
        payload["data"] = _copy(data)
    if interaction_type != InteractionType.PING:
        payload["locale"] = locale
    if guild_id is not None:
        gid = _sid(guild_id)
        payload["guild_id"] = gid
        payload["guild"] = {
            "id": gid,
            "locale": guild_locale or "en-US",
            "features": list(guild_features),
        }
        payload["guild_locale"] = guild_locale or "en-US"
        payload["context"] = 0 if context is None else context
        payload["authorizing_integration_owners"] = {"0": gid}
        if member is not None:
            m = _copy(member)
            m.pop("guild_id", None)
            if permissions is not None:
                m["permissions"] = str(int(permissions))
            m.setdefault("permissions", str(DEFAULT_EVERYONE_PERMISSIONS))
            payload["member"] = m
    else:
        payload["context"] = 1 if context is None else context
        payload["authorizing_integration_owners"] = {"0": "0"}
        if user is not None:
            payload["user"] = _user_of(user)
    if channel is not None:
        payload["channel"] = _copy(channel)
        payload["channel_id"] = channel["id"]
    if message is not None:
        payload["message"] = _copy(message)
    return payload


def command_interaction_payload(
    name: str,
    *,
    application_id: SnowflakeLike,
    options: Sequence[JSON] = (),
    resolved: JSON | None = None,
    command_id: SnowflakeLike | None = None,
    command_type: int = 1,
    target_id: SnowflakeLike | None = None,
    command_guild_id: SnowflakeLike | None = None,
    interaction_type: int = InteractionType.APPLICATION_COMMAND,
    **kwargs: Any,
) -> JSON:
    """Build an APPLICATION_COMMAND (type 2, or 4 for autocomplete) interaction.

    ``data`` is ``{id, name, type, options, resolved, guild_id?, target_id?}``; other keyword
    arguments go to :func:`interaction_payload`.
    """
    data: JSON = {
        "id": _sid(command_id if command_id is not None else new_snowflake()),
        "name": name,
        "type": command_type,
    }
    if options:
        data["options"] = [_copy(o) for o in options]
    if resolved:
        data["resolved"] = _copy(resolved)
    if command_guild_id is not None:
        data["guild_id"] = _sid(command_guild_id)
    if target_id is not None:
        data["target_id"] = _sid(target_id)
    return interaction_payload(interaction_type, application_id=application_id, data=data, **kwargs)


def component_interaction_payload(
    custom_id: str,
    *,
    application_id: SnowflakeLike,
    message: JSON,
    component_type: int = ComponentType.BUTTON,
    values: Sequence[str] | None = None,
    resolved: JSON | None = None,
    **kwargs: Any,
) -> JSON:
    """Build a MESSAGE_COMPONENT (type 3) interaction: ``data = {custom_id, component_type}``.

    ``values`` is for select menus; ``message`` is the message holding the component.
    """
    data: JSON = {"custom_id": custom_id, "component_type": int(component_type)}
    if values is not None:
        data["values"] = list(values)
    if resolved:
        data["resolved"] = _copy(resolved)
    return interaction_payload(
        InteractionType.MESSAGE_COMPONENT,
        application_id=application_id,
        data=data,
        message=message,
        **kwargs,
    )


def modal_submit_interaction_payload(
    custom_id: str,
    values: dict[str, str],
    *,
    application_id: SnowflakeLike,
    **kwargs: Any,
) -> JSON:
    """Build a MODAL_SUBMIT (type 5) interaction with one text input per ``values`` item."""
    rows = [
        {
            "type": ComponentType.ACTION_ROW,
            "components": [{"type": ComponentType.TEXT_INPUT, "custom_id": k, "value": v}],
        }
        for k, v in values.items()
    ]
    data: JSON = {"custom_id": custom_id, "components": rows}
    return interaction_payload(
        InteractionType.MODAL_SUBMIT, application_id=application_id, data=data, **kwargs
    )


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


def compile_path_pattern(pattern: PathPattern) -> re.Pattern[str]:
    """Compile a REST path pattern.

    ``"/channels/{channel_id}/messages"``: each ``{name}`` matches one path segment (a named
    group; repeated names match without capturing); everything else is literal. A leading
    ``/api/v10`` and a query string are ignored. A compiled regex is used as is. Patterns must
    match the whole path (the path recorded without ``/api/v10``).
    """
    if isinstance(pattern, re.Pattern):
        return pattern
    pattern = re.sub(r"^/api(/v\d+)?(?=/)", "", pattern.split("?", 1)[0])
    parts: list[str] = []
    seen: set[str] = set()
    pos = 0
    for match in re.finditer(r"\{(\w+)\}", pattern):
        parts.append(re.escape(pattern[pos : match.start()]))
        name = match.group(1)
        parts.append("[^/]+" if name in seen else f"(?P<{name}>[^/]+)")
        seen.add(name)
        pos = match.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts))


def _method_matches(expected: str, actual: str) -> bool:
    return expected == "*" or expected.upper() == actual.upper()


@dataclass
class RecordedFile:
    """A file part of a multipart request (discord.py names them ``files[0]``, ``files[1]``)."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request the fake received, with the answer it gave.

    ``path`` is URL-decoded and relative to the API base (``/channels/1/messages``), without the
    query (see ``query``). ``json`` is the JSON body, or the ``payload_json`` part of a multipart
    body (whose files are in ``files`` and other fields in ``form``). ``route`` is the route
    template that handled it (``None`` for unknown routes, which got a 404), ``params`` its
    placeholders, ``injected`` whether :meth:`FakeDiscord.fail_next` answered it.
    """

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    json: Any = None
    files: list[RecordedFile] = field(default_factory=list)
    form: dict[str, str] = field(default_factory=dict)
    multipart: bool = False
    raw_body: bytes = field(default=b"", repr=False)
    status: int = 0
    response: Any = field(default=None, repr=False)
    route: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    injected: bool = False
    timestamp: float = field(default_factory=time.time, repr=False)

    @property
    def handled(self) -> bool:
        """Whether a route (built-in or custom) handled the request."""
        return self.route is not None

    def header(self, name: str) -> str | None:
        """Return a request header, case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def matches(self, method: str, pattern: PathPattern) -> bool:
        """Whether this request has ``method`` (``"*"`` = any) and its path matches ``pattern``."""
        return _method_matches(method, self.method) and bool(
            compile_path_pattern(pattern).fullmatch(self.path)
        )


@dataclass
class GatewayFrame:
    """A gateway payload sent (``"send"``) or received (``"recv"``) by the fake."""

    direction: Literal["send", "recv"]
    connection_id: int
    op: int | None
    t: str | None
    s: int | None
    d: Any = field(repr=False)
    timestamp: float = field(default_factory=time.time, repr=False)


@dataclass
class DispatchedEvent:
    """A DISPATCH (op 0) a session received (kept for RESUME replays)."""

    seq: int
    event: str
    data: JSON = field(repr=False)

    def frame(self) -> JSON:
        """Return the gateway payload of this dispatch."""
        return {"op": int(Op.DISPATCH), "t": self.event, "s": self.seq, "d": self.data}


_NEVER_REPLAYED: Final = frozenset({"READY", "RESUMED"})


@dataclass(eq=False)
class GatewayConnection:
    """One gateway WebSocket connection (``path`` is ``/gateway`` or ``/resume-gateway``)."""

    id: int
    path: str
    query: dict[str, str]
    compress: str | None
    ws: web.WebSocketResponse = field(repr=False)
    request: web.Request = field(repr=False)
    session: GatewaySession | None = field(default=None, repr=False)
    closed: bool = False
    close_code: int | None = None
    closed_by_server: bool = False
    heartbeats: int = 0
    compressor: Any = field(default=None, repr=False)
    close_task: asyncio.Future[bool] | None = field(default=None, repr=False)


@dataclass(eq=False)
class GatewaySession:
    """A gateway session (created by IDENTIFY, continued by RESUME).

    ``history`` holds every dispatch with its ``seq``; ``invalidated`` sessions cannot resume.
    """

    session_id: str
    intents: int
    identify: JSON = field(repr=False)
    shard: list[int] | None = None
    large_threshold: int = 50
    seq: int = 0
    history: list[DispatchedEvent] = field(default_factory=list, repr=False)
    connection: GatewayConnection | None = field(default=None, repr=False)
    invalidated: bool = False
    ready: bool = False
    replay_on_resume: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def connected(self) -> bool:
        """Whether a live connection is attached."""
        return self.connection is not None and not self.connection.closed

    def events(self, name: str | None = None) -> list[DispatchedEvent]:
        """Return the dispatched events, optionally only those named ``name``."""
        return [e for e in self.history if name is None or e.event == name.upper()]


@dataclass
class ResumeInfo:
    """A successful RESUME: the client's ``seq`` and the events replayed to it."""

    session_id: str
    seq: int
    replayed: list[DispatchedEvent]
    connection_id: int


@dataclass
class InteractionCallback:
    """A ``POST /interactions/{id}/{token}/callback`` the fake accepted."""

    interaction_id: int
    token: str
    type: int
    data: JSON
    files: list[RecordedFile]
    with_response: bool

    @property
    def ephemeral(self) -> bool:
        """Whether the response message has the EPHEMERAL flag."""
        return bool(int(self.data.get("flags") or 0) & MessageFlag.EPHEMERAL)


@dataclass
class ReactionRecord:
    """A reaction the bot added through REST (``emoji`` is ``"👍"`` or ``"name:id"``)."""

    channel_id: int
    message_id: int
    emoji: str
    user_id: int


@dataclass(eq=False)
class _InteractionState:
    payload: JSON
    responded: bool = False
    callback_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        channel = self.payload.get("channel") or {}
        return int(self.payload.get("channel_id") or channel.get("id") or 0)


_GUILD_CREATE_ONLY_KEYS: Final = frozenset(
    {
        "roles", "channels", "threads", "members", "guild_scheduled_events", "joined_at",
        "large", "unavailable", "member_count", "voice_states", "presences", "stage_instances",
        "soundboard_sounds",
    }
)  # fmt: skip


@dataclass(eq=False)
class GuildState:
    """The fake's state of one guild (dicts keyed by ``int`` snowflakes, values are payloads)."""

    id: int
    data: JSON = field(repr=False)
    roles: dict[int, JSON] = field(default_factory=dict, repr=False)
    channels: dict[int, JSON] = field(default_factory=dict, repr=False)
    threads: dict[int, JSON] = field(default_factory=dict, repr=False)
    members: dict[int, JSON] = field(default_factory=dict, repr=False)
    scheduled_events: dict[int, JSON] = field(default_factory=dict, repr=False)
    bans: dict[int, JSON] = field(default_factory=dict, repr=False)
    joined_at: str = field(default_factory=iso_timestamp)

    @classmethod
    def from_payload(cls, payload: JSON) -> GuildState:
        """Create the state from a :func:`guild_payload`-shaped dict."""
        gid = int(payload["id"])
        state = cls(
            id=gid,
            data={k: _copy(v) for k, v in payload.items() if k not in _GUILD_CREATE_ONLY_KEYS},
            joined_at=payload.get("joined_at") or iso_timestamp(),
        )
        for role in payload.get("roles", []):
            state.roles[int(role["id"])] = _copy(role)
        if gid not in state.roles:
            state.roles[gid] = role_payload(
                gid, "@everyone", position=0, permissions=DEFAULT_EVERYONE_PERMISSIONS
            )
        for channel in (*payload.get("channels", []), *payload.get("threads", [])):
            state.add_channel(channel)
        for member in payload.get("members", []):
            m = _copy(member)
            m.pop("guild_id", None)
            state.members[int(m["user"]["id"])] = m
        for event in payload.get("guild_scheduled_events", []):
            state.scheduled_events[int(event["id"])] = _copy(event)
        return state

    @property
    def owner_id(self) -> int:
        """The owner's user id."""
        return int(self.data["owner_id"])

    @property
    def name(self) -> str:
        """The guild name."""
        return str(self.data.get("name", ""))

    @property
    def preferred_locale(self) -> str:
        """The guild's preferred locale (``guild_locale`` of interactions)."""
        return str(self.data.get("preferred_locale") or "en-US")

    def add_channel(self, channel: JSON) -> JSON:
        """Add (or replace) a channel or thread; returns the stored dict."""
        stored = _copy(channel)
        stored["guild_id"] = str(self.id)
        target = self.threads if stored["type"] in THREAD_TYPES else self.channels
        target[int(stored["id"])] = stored
        return stored

    def rest_payload(self) -> JSON:
        """The guild object as ``GET /guilds/{id}`` returns it."""
        data = _copy(self.data)
        data["roles"] = [_copy(r) for r in self.roles.values()]
        return data

    def gateway_payload(
        self, *, all_members: bool = True, bot_id: int | None = None, large_threshold: int = 250
    ) -> JSON:
        """The GUILD_CREATE payload; ``all_members=False`` sends only the bot's member."""
        data = self.rest_payload()
        members = list(self.members.values())
        if not all_members:
            members = [m for m in members if int(m["user"]["id"]) == bot_id]
        data.update(
            joined_at=self.joined_at,
            large=len(self.members) > large_threshold,
            unavailable=False,
            member_count=len(self.members),
            voice_states=[],
            members=_copy(members),
            channels=[_copy(c) for c in self.channels.values()],
            threads=[_copy(t) for t in self.threads.values()],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[_copy(e) for e in self.scheduled_events.values()],
            soundboard_sounds=[],
        )
        return data

    def top_role_position(self, user_id: int) -> int:
        """Position of the member's highest role (0 = only ``@everyone``)."""
        member = self.members.get(user_id)
        if member is None:
            return 0
        positions = [self.roles[int(r)]["position"] for r in member["roles"] if int(r) in self.roles]
        return max(positions, default=0)


@dataclass(frozen=True)
class SampleGuild:
    """Ids of the guild built by :meth:`FakeDiscord.add_sample_guild`.

    Roles by position: ``@everyone`` 0, Member 1, Moderator 2, bot's role 3 (MANAGE_ROLES,
    managed), Admin 4 (ADMINISTRATOR). Members: owner (Admin), alice (Member), bob (no role), the
    bot (bot role). Channels: ``general`` (text), ``forum`` (forum with tags), ``thread``
    (public thread in general, owned by alice).
    """

    guild_id: int
    owner_id: int
    alice_id: int
    bob_id: int
    everyone_role_id: int
    member_role_id: int
    moderator_role_id: int
    bot_role_id: int
    admin_role_id: int
    general_id: int
    forum_id: int
    thread_id: int


@dataclass
class _FailureRule:
    method: str
    pattern: re.Pattern[str]
    error: DiscordError
    remaining: int | None
    retry_after: float | None
    is_global: bool
    scope: str
    errors: JSON | None


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


_Handler: TypeAlias = Callable[[RecordedRequest], Awaitable[_Reply]]

RouteHandler: TypeAlias = Callable[
    [RecordedRequest], Awaitable[tuple[int, Any]] | tuple[int, Any]
]
"""A custom route handler: gets the request, returns ``(status, json_body_or_None)``."""


@dataclass
class _RouteDef:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: _Handler
    auth: bool = True


@dataclass
class _CustomRoute:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: RouteHandler
    remaining: int | None


# Which intent a dispatch needs: (intent in guilds, intent in DMs or None if guild-only).
_EVENT_INTENTS: Final[dict[str, tuple[int, int | None]]] = {
    **{
        e: (Intent.GUILDS, None)
        for e in (
            "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE", "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE", "CHANNEL_CREATE", "CHANNEL_UPDATE",
            "CHANNEL_DELETE", "THREAD_CREATE", "THREAD_UPDATE", "THREAD_DELETE",
            "THREAD_LIST_SYNC", "THREAD_MEMBER_UPDATE", "STAGE_INSTANCE_CREATE",
            "STAGE_INSTANCE_UPDATE", "STAGE_INSTANCE_DELETE",
        )
    },
    **{
        e: (Intent.GUILD_MEMBERS, None)
        for e in (
            "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE",
            "THREAD_MEMBERS_UPDATE",
        )
    },
    **{
        e: (Intent.GUILD_MODERATION, None)
        for e in ("GUILD_AUDIT_LOG_ENTRY_CREATE", "GUILD_BAN_ADD", "GUILD_BAN_REMOVE")
    },
    "GUILD_EMOJIS_UPDATE": (Intent.GUILD_EXPRESSIONS, None),
    "GUILD_STICKERS_UPDATE": (Intent.GUILD_EXPRESSIONS, None),
    "INVITE_CREATE": (Intent.GUILD_INVITES, None),
    "INVITE_DELETE": (Intent.GUILD_INVITES, None),
    "VOICE_STATE_UPDATE": (Intent.GUILD_VOICE_STATES, None),
    "PRESENCE_UPDATE": (Intent.GUILD_PRESENCES, None),
    **{
        e: (Intent.GUILD_MESSAGES, Intent.DIRECT_MESSAGES)
        for e in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK")
    },
    **{
        e: (Intent.GUILD_MESSAGE_REACTIONS, Intent.DIRECT_MESSAGE_REACTIONS)
        for e in (
            "MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE", "MESSAGE_REACTION_REMOVE_ALL",
            "MESSAGE_REACTION_REMOVE_EMOJI",
        )
    },
    "TYPING_START": (Intent.GUILD_MESSAGE_TYPING, Intent.DIRECT_MESSAGE_TYPING),
    "MESSAGE_POLL_VOTE_ADD": (Intent.GUILD_MESSAGE_POLLS, Intent.DIRECT_MESSAGE_POLLS),
    "MESSAGE_POLL_VOTE_REMOVE": (Intent.GUILD_MESSAGE_POLLS, Intent.DIRECT_MESSAGE_POLLS),
    **{
        e: (Intent.GUILD_SCHEDULED_EVENTS, None)
        for e in (
            "GUILD_SCHEDULED_EVENT_CREATE", "GUILD_SCHEDULED_EVENT_UPDATE",
            "GUILD_SCHEDULED_EVENT_DELETE", "GUILD_SCHEDULED_EVENT_USER_ADD",
            "GUILD_SCHEDULED_EVENT_USER_REMOVE",
        )
    },
}  # fmt: skip

_USER_MENTION: Final = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION: Final = re.compile(r"<@&(\d+)>")
_COMMAND_NAME: Final = re.compile(r"^[-_'\w\u0900-\u097f\u0e00-\u0e7f]{1,32}$")
_ONE_PIXEL_PNG: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


# --------------------------------------------------------------------------------------------
# Pointing discord.py at the fake
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def point_discord_py_at(api_url: str, gateway_url: str, cdn_url: str | None = None) -> Iterator[None]:
    """Point discord.py's REST base, default gateway (and CDN) at other URLs, then restore them.

    Sets ``discord.http.Route.BASE``, ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` and
    (if given) ``discord.asset.Asset.BASE``. They are class attributes, so this affects every
    client in the process.
    """
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, Asset.BASE)
    Route.BASE = api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    if cdn_url is not None:
        Asset.BASE = cdn_url.rstrip("/")
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, Asset.BASE = saved


def default_intents() -> discord.Intents:
    """Intents guilds, members, guild_messages, guild_reactions and dm_messages (no content)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.dm_messages = True
    return intents


def make_client(*, intents: discord.Intents | None = None, **options: Any) -> discord.Client:
    """Create a ``discord.Client`` suited to the fake.

    Uses :func:`default_intents` unless ``intents`` is given and ``guild_ready_timeout=0.1``
    unless given (discord.py waits that long after the last GUILD_CREATE before ``on_ready``).
    """
    options.setdefault("guild_ready_timeout", 0.1)
    return discord.Client(intents=intents or default_intents(), **options)
