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
  ``resume_gateway_url``.
* ``discord.asset.Asset.BASE`` -- CDN base for avatars etc. (the fake serves a 1x1 PNG).

Only one fake can be patched in at a time (they are process-wide class attributes).

Other discord.py quirks worth knowing
-------------------------------------
* ``on_ready`` fires ``guild_ready_timeout`` seconds (default **2 s**) after the last
  GUILD_CREATE; :func:`make_client` sets 0.1 s. Do not use 0 (it skips every guild).
* Login calls ``GET /users/@me`` then ``GET /oauth2/applications/@me``.
* ``Client.before_identify_hook`` sleeps 5 s before every IDENTIFY but the first (after
  INVALID_SESSION or a failed RESUME); :meth:`FakeDiscord.run_client` disables that.
* After INVALID_SESSION(false) discord.py re-IDENTIFYs on the URL it last *connected* to (the
  resume URL, as ``Client.connect`` keeps a stale ``gateway`` parameter), not on
  ``DEFAULT_GATEWAY``; the fake serves both URLs identically.
* Gateway op 8 sends ``guild_id`` as an ``int``; interaction responses raise
  ``discord.InteractionResponded`` client-side before any second callback reaches the fake.
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
import mimetypes
import re
import secrets
import time
import traceback
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, IntFlag
from types import TracebackType
from typing import Any, Final, Literal, NamedTuple, TypeAlias, TypeVar
from urllib.parse import unquote

import discord
import yarl
from aiohttp import BodyPartReader, WSMsgType, web
from discord.asset import Asset
from discord.gateway import DiscordWebSocket
from discord.http import Route

__all__ = [
    "ALL_PERMISSIONS",
    "API_VERSION",
    "CANNOT_EDIT_OTHER_USERS_MESSAGE",
    "CANNOT_SEND_EMPTY_MESSAGE",
    "CANNOT_SEND_IN_NON_TEXT_CHANNEL",
    "CANNOT_SEND_MESSAGES_TO_USER",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DEFAULT_TOKEN",
    "DISCORD_EPOCH_MS",
    "DISCORD_LOCALES",
    "INTERACTION_ALREADY_ACKNOWLEDGED",
    "INVALID_FORM_BODY",
    "INVALID_WEBHOOK_TOKEN",
    "JSON",
    "METHOD_NOT_ALLOWED",
    "MISSING_ACCESS",
    "MISSING_PERMISSIONS",
    "NOT_FOUND",
    "PRIVILEGED_INTENTS",
    "RATE_LIMITED",
    "THREAD_ALREADY_CREATED",
    "THREAD_TYPES",
    "UNAUTHORIZED",
    "UNKNOWN_APPLICATION",
    "UNKNOWN_APPLICATION_COMMAND",
    "UNKNOWN_BAN",
    "UNKNOWN_CHANNEL",
    "UNKNOWN_EMOJI",
    "UNKNOWN_GUILD",
    "UNKNOWN_GUILD_SCHEDULED_EVENT",
    "UNKNOWN_INTERACTION",
    "UNKNOWN_MEMBER",
    "UNKNOWN_MESSAGE",
    "UNKNOWN_ROLE",
    "UNKNOWN_USER",
    "UNKNOWN_WEBHOOK",
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
    "PathPattern",
    "Permission",
    "ReactionRecord",
    "RecordedFile",
    "RecordedRequest",
    "ResumeInfo",
    "RouteHandler",
    "SampleGuild",
    "SnowflakeLike",
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
INVALID_WEBHOOK_TOKEN: Final = DiscordError(401, 50027, "Invalid Webhook Token")
INVALID_FORM_BODY: Final = DiscordError(400, 50035, "Invalid Form Body")
THREAD_ALREADY_CREATED: Final = DiscordError(
    400, 160004, "A thread has already been created for this message"
)
RATE_LIMITED: Final = DiscordError(429, 0, "You are being rate limited.")

NONCE_WINDOW_SECONDS: Final = 300.0
"""How long a create-message ``nonce`` with ``enforce_nonce`` is remembered ("a few minutes")."""
MALFORMED_BODY: Final = b'{"id": "1", "channel_id": '
"""What :meth:`FakeDiscord.malform_next` answers by default: JSON cut short."""

_KNOWN_ERRORS: Final = {
    e.code: e
    for e in (
        UNKNOWN_APPLICATION, UNKNOWN_CHANNEL, UNKNOWN_GUILD, UNKNOWN_MEMBER, UNKNOWN_MESSAGE,
        UNKNOWN_ROLE, UNKNOWN_USER, UNKNOWN_EMOJI, UNKNOWN_WEBHOOK, UNKNOWN_BAN,
        UNKNOWN_INTERACTION, UNKNOWN_APPLICATION_COMMAND, UNKNOWN_GUILD_SCHEDULED_EVENT,
        INTERACTION_ALREADY_ACKNOWLEDGED, MISSING_ACCESS, CANNOT_EDIT_OTHER_USERS_MESSAGE,
        CANNOT_SEND_EMPTY_MESSAGE, CANNOT_SEND_MESSAGES_TO_USER, CANNOT_SEND_IN_NON_TEXT_CHANNEL,
        MISSING_PERMISSIONS, INVALID_FORM_BODY, THREAD_ALREADY_CREATED, INVALID_WEBHOOK_TOKEN,
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
    """Return an ISO8601 timestamp as Discord writes them (``2024-01-01T00:00:00.123456+00:00``).

    Args:
        when: the time (default: now).
    """
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
    return interaction_payload(
        interaction_type, application_id=application_id, data=data, **kwargs
    )


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
    placeholders, ``injected`` whether :meth:`FakeDiscord.fail_next` answered it, ``malformed``
    whether :meth:`FakeDiscord.malform_next` spoiled its (successful) answer.
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
    malformed: bool = False
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
        positions = [
            self.roles[int(r)]["position"] for r in member["roles"] if int(r) in self.roles
        ]
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
    after: int = 0


@dataclass
class _MalformRule:
    method: str
    pattern: re.Pattern[str]
    remaining: int | None
    body: bytes


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


_Handler: TypeAlias = Callable[[RecordedRequest], Awaitable[_Reply]]

RouteHandler: TypeAlias = Callable[[RecordedRequest], Awaitable[tuple[int, Any]] | tuple[int, Any]]
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
def point_discord_py_at(
    api_url: str, gateway_url: str, cdn_url: str | None = None
) -> Iterator[None]:
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


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeDiscord:
    """A fake Discord REST API v10 + gateway on ``127.0.0.1`` for the real discord.py client.

    Use as ``async with FakeDiscord() as fake:`` (or :meth:`start`/:meth:`stop`). Set up state
    before connecting (:meth:`add_guild`, :meth:`add_sample_guild`, :meth:`add_user`), run a
    client with :meth:`run_client`, push events with :meth:`dispatch` or the ``simulate_*``
    helpers and assert on :attr:`requests` / :meth:`wait_for_request`.

    Args:
        token: bot token the fake accepts (REST ``Authorization: Bot <token>`` and IDENTIFY /
            RESUME); ``None`` accepts any token.
        application_id: the application id (default: a new snowflake).
        bot_user: the bot's user object (default: ``user_payload(..., "majlis", bot=True)``).
        heartbeat_interval_ms: HELLO's ``heartbeat_interval``.
        compress: answer ``compress=zlib-stream`` connections with zlib-stream binary frames
            (otherwise every frame is JSON text).
        patch_discord: call :func:`point_discord_py_at` while running.
        echo_events: emit the gateway events Discord sends after the bot's own REST actions
            (MESSAGE_CREATE/UPDATE/DELETE, GUILD_MEMBER_UPDATE/REMOVE, THREAD_CREATE/UPDATE,
            CHANNEL_UPDATE, GUILD_ROLE_*, GUILD_SCHEDULED_EVENT_*). Off by default.
        enforce_intents: only deliver events the session's intents allow, blank message
            content without MESSAGE_CONTENT, send only the bot's member in GUILD_CREATE without
            GUILD_PRESENCES.
        enforce_permissions: check MANAGE_ROLES / KICK / BAN and the role hierarchy for role
            assignment, kicks and bans (403 50013 otherwise).
        privileged_intents: privileged intents "enabled in the developer portal"; IDENTIFY
            asking for others is closed with 4014.
        application_flags: ``application.flags`` in READY.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        application_id: SnowflakeLike | None = None,
        bot_user: JSON | None = None,
        heartbeat_interval_ms: int = 1000,
        compress: bool = True,
        patch_discord: bool = True,
        echo_events: bool = False,
        enforce_intents: bool = True,
        enforce_permissions: bool = True,
        privileged_intents: int = PRIVILEGED_INTENTS,
        application_flags: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.application_id = (
            int(application_id) if application_id is not None else new_snowflake()
        )
        self.bot_user: JSON = bot_user or user_payload(
            new_snowflake(), "majlis", global_name="Majlis", bot=True
        )
        self.bot_user.setdefault("bot", True)
        self.owner_user: JSON = user_payload(new_snowflake(), "app-owner")
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.compress = compress
        self.patch_discord = patch_discord
        self.echo_events = echo_events
        self.enforce_intents = enforce_intents
        self.enforce_permissions = enforce_permissions
        self.privileged_intents = privileged_intents
        self.application_flags = application_flags
        self.host = host
        self.port = port
        self.ack_heartbeats = True
        """Answer heartbeats with op 11 (set ``False`` to simulate a zombie connection)."""

        # State
        self.users: dict[int, JSON] = {}
        self.guilds: dict[int, GuildState] = {}
        self.channels: dict[int, JSON] = {}
        """Every known channel (guild channels, threads, DMs) by id; shared with guilds."""
        self.dm_channels: dict[int, JSON] = {}
        """DM channel by recipient user id."""
        self.messages: dict[int, JSON] = {}
        """Every known message by id (dispatched MESSAGE_CREATE and REST-created)."""
        self.bot_messages: list[JSON] = []
        """Snapshots of messages the bot created (REST, interaction responses, followups)."""
        self.attachments: dict[int, bytes] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.closed_dms: set[int] = set()
        """User ids whose DMs are closed: sending to their DM channel answers 403 50007."""
        self.reactions: list[ReactionRecord] = []
        self.interactions: dict[int, JSON] = {}
        self._interactions_by_token: dict[str, _InteractionState] = {}

        # Records
        self.requests: list[RecordedRequest] = []
        self.gateway_log: list[GatewayFrame] = []
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.resumes: list[ResumeInfo] = []
        self.interaction_callbacks: list[InteractionCallback] = []
        self.heartbeats = 0
        self.refused_connections = 0
        """Gateway connections refused while :attr:`gateway_down`."""
        self.internal_errors: list[str] = []
        """Tracebacks of bugs in the fake (raised at ``__aexit__`` if the test passed)."""

        self._sessions_by_id: dict[str, GatewaySession] = {}
        self._identify_failures: list[tuple[int, str]] = []
        self._failures: list[_FailureRule] = []
        self._malformed: list[_MalformRule] = []
        self._nonces: dict[tuple[int, str], tuple[float, int]] = {}
        self.gateway_down = False
        """Refuse gateway connections (HTTP 502 on the upgrade), as while Discord restarts."""
        self._custom_routes: list[_CustomRoute] = []
        self._connection_ids = iter(range(1, 1 << 30))
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._exit_stack = contextlib.ExitStack()
        self._routes = self._build_routes()
        self.add_user(self.bot_user)
        self.add_user(self.owner_user)

    # ---------------------------------------------------------------- lifecycle & URLs

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if exc_type is None and self.internal_errors:
            raise AssertionError(
                "FakeDiscord had internal errors:\n" + "\n".join(self.internal_errors)
            )

    async def start(self) -> None:
        """Start the server (and patch discord.py if ``patch_discord``)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self._handle_gateway)
        app.router.add_route("GET", "/resume-gateway", self._handle_gateway)
        app.router.add_route("GET", "/attachments/{tail:.*}", self._handle_attachment)
        app.router.add_route("GET", "/cdn/{tail:.*}", self._handle_cdn)
        app.router.add_route("*", "/api/{tail:.*}", self._handle_rest)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        if self.patch_discord:
            self._exit_stack.enter_context(self.patched())

    async def stop(self) -> None:
        """Close gateway connections, stop the server and undo the discord.py patch."""
        try:
            for conn in list(self.connections):
                if not conn.closed:
                    await self._close_connection(conn, 1001)
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None
        finally:
            self._exit_stack.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """REST base, ``http://127.0.0.1:PORT/api/v10`` (what ``Route.BASE`` is set to)."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """``ws://127.0.0.1:PORT/gateway`` (``/gateway/bot`` and ``DEFAULT_GATEWAY``)."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """``ws://127.0.0.1:PORT/resume-gateway`` (READY's ``resume_gateway_url``)."""
        return f"ws://{self.host}:{self.port}/resume-gateway"

    @property
    def cdn_url(self) -> str:
        """CDN base (``Asset.BASE``); every image there is a 1x1 PNG."""
        return f"{self.base_url}/cdn"

    @property
    def bot_id(self) -> int:
        """The bot user's id."""
        return int(self.bot_user["id"])

    def patched(self) -> contextlib.AbstractContextManager[None]:
        """Context manager pointing discord.py at this fake (see :func:`point_discord_py_at`)."""
        return point_discord_py_at(self.api_url, self.gateway_url, self.cdn_url)

    @contextlib.asynccontextmanager
    async def run_client(
        self,
        client: ClientT,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        wait_ready: bool = True,
        skip_identify_delay: bool = True,
    ) -> AsyncIterator[ClientT]:
        """Log ``client`` in, connect it in a background task and wait for ``on_ready``.

        On exit the client is closed and the connect task awaited. Any exception of the connect
        task before ``on_ready`` (e.g. ``discord.LoginFailure``, ``PrivilegedIntentsRequired``)
        is raised here.

        ``skip_identify_delay``: discord.py's default ``Client.before_identify_hook`` sleeps 5 s
        before every IDENTIFY but the first (e.g. after INVALID_SESSION); this replaces it on
        the instance with a no-op. Pass ``False`` to keep the client's own hook.
        """
        if skip_identify_delay:

            async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
                return None

            client.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
        task: asyncio.Task[None] | None = None
        try:
            await client.login(token or self.token or DEFAULT_TOKEN)
            task = asyncio.create_task(client.connect(reconnect=True), name="fake-discord-connect")
            if wait_ready:
                ready = asyncio.ensure_future(client.wait_until_ready())
                try:
                    done, _ = await asyncio.wait(
                        {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    ready.cancel()
                if task in done:
                    task.result()
                    raise RuntimeError("client.connect() returned before the client was ready")
                if ready not in done:
                    raise TimeoutError(f"discord client not ready after {timeout}s")
            yield client
        finally:
            await client.close()  # also closes the HTTP session if login failed
            if task is not None and task.done():
                if not task.cancelled():
                    task.exception()  # retrieved (or already raised above)
            elif task is not None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout)

    # ---------------------------------------------------------------- waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, probe: Callable[[], _T | None], timeout: float, what: str) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = probe()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"FakeDiscord: timed out after {timeout}s waiting for {what}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    # ---------------------------------------------------------------- state set-up

    def add_user(self, user: JSON) -> JSON:
        """Add (or update) a user object; returns the stored dict."""
        stored = _user_of(user)
        stored.pop("member", None)
        self.users[int(stored["id"])] = stored
        return stored

    def add_guild(self, guild: JSON, *, bot_roles: Iterable[SnowflakeLike] = ()) -> GuildState:
        """Add a guild from a :func:`guild_payload`-shaped dict (state only, no event).

        Users of its members are added; the bot becomes a member (with ``bot_roles``) if it is
        not one already. Use :meth:`join_guild` once a client is connected.
        """
        state = GuildState.from_payload(guild)
        self.guilds[state.id] = state
        for member in state.members.values():
            self.add_user(member["user"])
        if self.bot_id not in state.members:
            state.members[self.bot_id] = member_payload(
                self.bot_user, roles=bot_roles, joined_at=state.joined_at
            )
        for channel in (*state.channels.values(), *state.threads.values()):
            self.channels[int(channel["id"])] = channel
        return state

    async def join_guild(
        self, guild: JSON, *, bot_roles: Iterable[SnowflakeLike] = ()
    ) -> GuildState:
        """Add a guild and dispatch its GUILD_CREATE (discord.py's ``on_guild_join``)."""
        state = self.add_guild(guild, bot_roles=bot_roles)
        for session in self._live_sessions():
            payload = state.gateway_payload(
                all_members=self._gets_all_members(session),
                bot_id=self.bot_id,
                large_threshold=session.large_threshold,
            )
            payload.pop("unavailable", None)
            async with session.lock:
                await self._send_dispatch(session, "GUILD_CREATE", payload)
        self._notify()
        return state

    def add_channel(self, channel: JSON) -> JSON:
        """Add a channel/thread (to its ``guild_id``'s guild if any); returns the stored dict."""
        if channel.get("guild_id") is not None:
            stored = self.guild(channel["guild_id"]).add_channel(channel)
        else:
            stored = _copy(channel)
            if stored["type"] == ChannelType.DM:
                self.dm_channels[int(stored["recipients"][0]["id"])] = stored
        self.channels[int(stored["id"])] = stored
        return stored

    def add_member(self, guild_id: SnowflakeLike, member: JSON) -> JSON:
        """Add (or replace) a member (state only); returns the stored dict."""
        stored = _copy(member)
        stored.pop("guild_id", None)
        self.add_user(stored["user"])
        self.guild(guild_id).members[int(stored["user"]["id"])] = stored
        return stored

    def add_message(self, message: JSON) -> JSON:
        """Store a message (state only), e.g. an old message a test will reply to."""
        stored = {k: _copy(v) for k, v in message.items() if k not in ("guild_id", "member")}
        self.messages[int(stored["id"])] = stored
        self.add_user(stored["author"])
        return stored

    def add_sample_guild(
        self, name: str = "Majlis Test Guild", *, preferred_locale: str = "en-US"
    ) -> SampleGuild:
        """Add a small realistic guild and return its ids (see :class:`SampleGuild`)."""
        gid, owner, alice, bob = (new_snowflake() for _ in range(4))
        member_role, mod_role, bot_role, admin_role = (new_snowflake() for _ in range(4))
        general, forum, thread = (new_snowflake() for _ in range(3))
        bot_permissions = (
            Permission.MANAGE_ROLES | Permission.MANAGE_MESSAGES | Permission.MANAGE_THREADS
            | Permission.MANAGE_EVENTS | Permission.CREATE_EVENTS | Permission.KICK_MEMBERS
            | Permission.MODERATE_MEMBERS | Permission.CREATE_PUBLIC_THREADS
            | Permission.SEND_MESSAGES_IN_THREADS | Permission.EMBED_LINKS
            | Permission.ATTACH_FILES | Permission.ADD_REACTIONS | Permission.VIEW_CHANNEL
            | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY
            | Permission.PIN_MESSAGES
        )  # fmt: skip
        roles = [
            role_payload(member_role, "Member", position=1),
            role_payload(
                mod_role,
                "Moderator",
                position=2,
                permissions=Permission.MANAGE_MESSAGES
                | Permission.KICK_MEMBERS
                | Permission.MODERATE_MEMBERS
                | Permission.MANAGE_THREADS,
            ),
            role_payload(
                bot_role,
                "Majlis",
                position=3,
                permissions=bot_permissions,
                managed=True,
                tags={"bot_id": str(self.bot_id)},
            ),
            role_payload(admin_role, "Admin", position=4, permissions=Permission.ADMINISTRATOR),
        ]
        users = {
            owner: user_payload(owner, "owner", global_name="Owner"),
            alice: user_payload(alice, "alice", global_name="Alice"),
            bob: user_payload(bob, "bob", global_name="Bob"),
        }
        members = [
            member_payload(users[owner], roles=[admin_role]),
            member_payload(users[alice], roles=[member_role]),
            member_payload(users[bob]),
        ]
        channels = [
            channel_payload(general, "general", topic="General chat"),
            forum_channel_payload(
                forum,
                "forum",
                available_tags=[{"name": "question"}, {"name": "idea"}],
                position=1,
            ),
            thread_payload(thread, "sample thread", parent_id=general, owner_id=alice),
        ]
        self.add_guild(
            guild_payload(
                gid,
                name,
                owner_id=owner,
                roles=roles,
                channels=channels,
                members=members,
                preferred_locale=preferred_locale,
            ),
            bot_roles=[bot_role],
        )
        return SampleGuild(
            guild_id=gid,
            owner_id=owner,
            alice_id=alice,
            bob_id=bob,
            everyone_role_id=gid,
            member_role_id=member_role,
            moderator_role_id=mod_role,
            bot_role_id=bot_role,
            admin_role_id=admin_role,
            general_id=general,
            forum_id=forum,
            thread_id=thread,
        )

    def guild(self, guild_id: SnowflakeLike) -> GuildState:
        """Return a guild's state (``KeyError`` if unknown)."""
        return self.guilds[int(guild_id)]

    def member(self, guild_id: SnowflakeLike, user_id: SnowflakeLike) -> JSON | None:
        """Return the stored member object, or ``None``."""
        guild = self.guilds.get(int(guild_id))
        return None if guild is None else guild.members.get(int(user_id))

    def member_role_ids(self, guild_id: SnowflakeLike, user_id: SnowflakeLike) -> set[int]:
        """Return the member's role ids (empty if not a member)."""
        member = self.member(guild_id, user_id)
        return {int(r) for r in member["roles"]} if member else set()

    def dm_channel(self, user_id: SnowflakeLike) -> JSON:
        """Return the DM channel with a user, creating it (like ``POST /users/@me/channels``)."""
        uid = int(user_id)
        channel = self.dm_channels.get(uid)
        if channel is None:
            user = self.users.get(uid) or self.add_user(user_payload(uid, f"user{uid}"))
            channel = dm_channel_payload(new_snowflake(), user)
            self.dm_channels[uid] = channel
            self.channels[int(channel["id"])] = channel
        return channel

    def close_dms(self, user_id: SnowflakeLike) -> None:
        """Make messages to the user's DM channel fail with 403 50007."""
        self.closed_dms.add(int(user_id))

    def expire_interaction(self, interaction_id: SnowflakeLike) -> None:
        """Let an interaction's token run out, as Discord does 15 minutes after it was made.

        Its callback and webhook routes answer 404 (Unknown Interaction / Unknown Webhook)
        from then on; what it already posted stays.
        """
        for token, state in list(self._interactions_by_token.items()):
            if state.id == int(interaction_id):
                del self._interactions_by_token[token]

    def compute_permissions(
        self,
        guild_id: SnowflakeLike,
        user_id: SnowflakeLike,
        channel_id: SnowflakeLike | None = None,
    ) -> int:
        """Compute a member's permissions (guild level, or in a channel with its overwrites)."""
        guild = self.guild(guild_id)
        uid = int(user_id)
        if uid == guild.owner_id:
            return ALL_PERMISSIONS
        role_ids = [int(r) for r in (guild.members.get(uid) or {"roles": []})["roles"]]
        perms = int(guild.roles[guild.id]["permissions"])
        for rid in role_ids:
            if rid in guild.roles:
                perms |= int(guild.roles[rid]["permissions"])
        if perms & Permission.ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel_id is None:
            return perms
        channel = guild.channels.get(int(channel_id)) or guild.threads.get(int(channel_id))
        if channel is not None and channel["type"] in THREAD_TYPES:
            channel = guild.channels.get(int(channel["parent_id"]))
        if channel is None:
            return perms
        overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites", [])}
        if guild.id in overwrites:
            perms &= ~int(overwrites[guild.id]["deny"])
            perms |= int(overwrites[guild.id]["allow"])
        allow = deny = 0
        for rid in role_ids:
            ow = overwrites.get(rid)
            if ow is not None and ow["type"] == 0:
                allow |= int(ow["allow"])
                deny |= int(ow["deny"])
        perms = (perms & ~deny) | allow
        ow = overwrites.get(uid)
        if ow is not None and ow["type"] == 1:
            perms = (perms & ~int(ow["deny"])) | int(ow["allow"])
        return perms

    def _guild_id_of_channel(self, channel_id: SnowflakeLike) -> int | None:
        channel = self.channels.get(int(channel_id))
        if channel is None or channel.get("guild_id") is None:
            return None
        return int(channel["guild_id"])

    def _channel_or_partial(self, channel_id: int) -> JSON:
        channel = self.channels.get(channel_id)
        return _copy(channel) if channel else {"id": str(channel_id), "type": 0}

    # ---------------------------------------------------------------- gateway: public API

    async def dispatch(self, event: str, data: JSON) -> int:
        """Send a DISPATCH (op 0) with the next ``seq`` to every live session.

        The fake's state is updated first (e.g. MESSAGE_CREATE stores the message,
        INTERACTION_CREATE makes the interaction answerable, GUILD_MEMBER_ADD adds the member).
        With ``enforce_intents`` sessions whose intents exclude the event do not get it, and
        message content is blanked without MESSAGE_CONTENT. Sessions that are disconnected but
        resumable get the event on RESUME. Returns the number of sessions it was queued for.
        """
        event = event.upper()
        with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
            self._apply_event_to_state(event, data)  # odd payloads are still dispatched
        count = 0
        for session in self._live_sessions(require_connection=False):
            if not self._session_wants(session, event, data):
                continue
            payload = self._filter_for_session(session, event, data)
            async with session.lock:
                await self._send_dispatch(session, event, payload)
            count += 1
        self._notify()
        return count

    async def wait_until_ready(self, timeout: float = 10.0) -> GatewaySession:
        """Wait until a session got READY + its GUILD_CREATEs and is connected; return it.

        The client's own ``on_ready`` fires ``guild_ready_timeout`` later; use
        ``client.wait_until_ready()`` for that (as :meth:`run_client` does).
        """

        def probe() -> GatewaySession | None:
            return next((s for s in self._live_sessions() if s.ready), None)

        return await self._wait(probe, timeout, "a ready gateway session")

    async def wait_for_resume(self, *, since: int = 0, timeout: float = 10.0) -> ResumeInfo:
        """Wait for a successful RESUME (the first in ``resumes[since:]``) and return it."""

        def probe() -> ResumeInfo | None:
            return self.resumes[since] if len(self.resumes) > since else None

        return await self._wait(probe, timeout, f"RESUME #{since + 1}")

    async def wait_for_identify(self, *, count: int = 1, timeout: float = 10.0) -> GatewaySession:
        """Wait until ``count`` sessions were identified and return the ``count``-th."""

        def probe() -> GatewaySession | None:
            return self.sessions[count - 1] if len(self.sessions) >= count else None

        return await self._wait(probe, timeout, f"IDENTIFY #{count}")

    async def wait_for_gateway(
        self,
        op: int | None = None,
        *,
        event: str | None = None,
        direction: Literal["send", "recv"] = "recv",
        since: int = 0,
        predicate: Callable[[GatewayFrame], bool] | None = None,
        timeout: float = 5.0,
    ) -> GatewayFrame:
        """Wait for a gateway frame in ``gateway_log[since:]`` (received by default)."""

        def probe() -> GatewayFrame | None:
            for frame in self.gateway_log[since:]:
                if frame.direction != direction or (op is not None and frame.op != op):
                    continue
                if event is not None and frame.t != event.upper():
                    continue
                if predicate is None or predicate(frame):
                    return frame
            return None

        return await self._wait(probe, timeout, f"gateway {direction} op={op} event={event}")

    async def drop_connection(
        self,
        resumable: bool = True,
        *,
        code: int = CloseCode.UNKNOWN_ERROR,
        replay: int = 0,
        abrupt: bool = False,
    ) -> int:
        """Close every live gateway connection; returns how many were closed.

        ``resumable=True``: the client (close code 4000 by default) reconnects to
        ``resume_gateway_url`` and sends RESUME; the fake replays the events after its ``seq``
        (events dispatched meanwhile are queued) plus the last ``replay`` events it already had
        (duplicates, as after a lost ack), then dispatches RESUMED. ``resumable=False``: the
        session is invalidated, so RESUME gets INVALID_SESSION(false) and the client IDENTIFYs
        anew (events dispatched in between are lost). ``abrupt`` aborts the TCP connection
        without a close frame.
        """
        dropped = 0
        for conn in [c for c in self.connections if not c.closed]:
            session = conn.session
            if session is not None:
                if not resumable:
                    session.invalidated = True
                session.replay_on_resume = replay
                if session.connection is conn:
                    session.connection = None
            if abrupt:
                conn.closed_by_server = True
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
            else:
                await self._close_connection(conn, code)
            dropped += 1
        self._notify()
        return dropped

    async def replay(self, n: int = 1) -> list[DispatchedEvent]:
        """Re-send the last ``n`` dispatches (original ``seq``) to every live connection.

        Simulates duplicate delivery; discord.py handles them as new events (and its ``seq``
        goes back to the replayed value until the next event).
        """
        replayed: list[DispatchedEvent] = []
        for session in self._live_sessions():
            async with session.lock:
                events = [e for e in session.history if e.event not in _NEVER_REPLAYED][-n:]
                for ev in events:
                    if session.connection and await self._send_frame(
                        session.connection, ev.frame()
                    ):
                        replayed.append(ev)
        self._notify()
        return replayed

    async def send_raw(self, text: str) -> int:
        """Send ``text`` as a raw text frame (not JSON-encoded) to every live connection.

        For frames a client must survive: truncated JSON, a HELLO without its interval, a
        dispatch whose ``d`` is ``null``. Returns how many connections got it.
        """
        sent = 0
        for conn in [c for c in self.connections if not c.closed and not c.ws.closed]:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.send_str(text)
                sent += 1
        self._notify()
        return sent

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT to live connections (discord.py closes and RESUMEs)."""
        for session in self._live_sessions():
            if session.connection is not None:
                await self._send_frame(session.connection, {"op": int(Op.RECONNECT), "d": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION(``resumable``) to live connections."""
        for session in self._live_sessions():
            if not resumable:
                session.invalidated = True
            if session.connection is not None:
                frame = {"op": int(Op.INVALID_SESSION), "d": resumable, "s": None, "t": None}
                await self._send_frame(session.connection, frame)

    def fail_next_identify(
        self, close_code: int = CloseCode.AUTHENTICATION_FAILED, reason: str = ""
    ) -> None:
        """Close the next IDENTIFY's connection with ``close_code`` (e.g. 4004, 4014)."""
        self._identify_failures.append((int(close_code), reason))

    # ---------------------------------------------------------------- gateway: simulate users

    async def simulate_message(
        self,
        channel_id: SnowflakeLike,
        author_id: SnowflakeLike,
        content: str = "",
        *,
        reply_to: SnowflakeLike | None = None,
        mentions: Sequence[SnowflakeLike] | None = None,
        **kwargs: Any,
    ) -> JSON:
        """Dispatch a MESSAGE_CREATE from a known user in a known channel; returns the payload.

        ``member`` comes from the guild state; ``mentions``/``mention_roles`` default to the
        ``<@id>`` / ``<@&id>`` mentions in ``content``; ``reply_to`` is a stored message id.
        Other keyword arguments go to :func:`message_payload`.
        """
        cid = int(channel_id)
        guild_id = self._guild_id_of_channel(cid)
        if guild_id is None and kwargs.get("guild_id") is not None:
            guild_id = int(kwargs.pop("guild_id"))
        kwargs.pop("guild_id", None)
        author = self.users[int(author_id)]
        member = self.member(guild_id, author_id) if guild_id is not None else None
        if mentions is None:
            mentions = [int(m) for m in _USER_MENTION.findall(content)]
        mention_objects: list[JSON] = []
        for uid in mentions:
            mentioned = self.member(guild_id, uid) if guild_id is not None else None
            if mentioned is None and int(uid) in self.users:
                mentioned = self.users[int(uid)]
            if mentioned is not None:
                mention_objects.append(mentioned)
        kwargs.setdefault("mention_roles", [int(r) for r in _ROLE_MENTION.findall(content)])
        if reply_to is not None:
            kwargs["referenced_message"] = self.messages[int(reply_to)]
        payload = message_payload(
            cid,
            author,
            content,
            guild_id=guild_id,
            member=member,
            mentions=mention_objects,
            **kwargs,
        )
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def simulate_dm(self, author_id: SnowflakeLike, content: str, **kwargs: Any) -> JSON:
        """Dispatch a MESSAGE_CREATE in the DM channel between the bot and ``author_id``."""
        channel = self.dm_channel(author_id)
        return await self.simulate_message(channel["id"], author_id, content, **kwargs)

    async def simulate_reaction(
        self,
        user_id: SnowflakeLike,
        message_id: SnowflakeLike,
        emoji: str | JSON = "👍",
        *,
        channel_id: SnowflakeLike | None = None,
        remove: bool = False,
    ) -> JSON:
        """Dispatch MESSAGE_REACTION_ADD (or _REMOVE) by a user on a stored message."""
        message = self.messages.get(int(message_id))
        if channel_id is None:
            if message is None:
                raise KeyError(f"unknown message {message_id}; pass channel_id")
            channel_id = message["channel_id"]
        guild_id = self._guild_id_of_channel(channel_id)
        member = None
        if guild_id is not None and not remove:
            member = self.member(guild_id, user_id)
        payload = reaction_payload(
            user_id,
            channel_id,
            message_id,
            emoji,
            guild_id=guild_id,
            member=member,
            message_author_id=message["author"]["id"] if message and not remove else None,
        )
        if remove:
            for key in ("burst_colors", "message_author_id"):
                payload.pop(key, None)
        await self.dispatch(
            "MESSAGE_REACTION_REMOVE" if remove else "MESSAGE_REACTION_ADD", payload
        )
        return payload

    async def simulate_member_join(
        self,
        guild_id: SnowflakeLike,
        user: JSON | SnowflakeLike,
        *,
        roles: Iterable[SnowflakeLike] = (),
    ) -> JSON:
        """Dispatch GUILD_MEMBER_ADD for a user (object or known id); returns the payload."""
        user_obj = user if isinstance(user, dict) else self.users[int(user)]
        payload = member_payload(_user_of(user_obj), roles=roles, guild_id=guild_id)
        await self.dispatch("GUILD_MEMBER_ADD", payload)
        return payload

    async def simulate_member_remove(
        self, guild_id: SnowflakeLike, user_id: SnowflakeLike
    ) -> JSON:
        """Dispatch GUILD_MEMBER_REMOVE; returns the payload."""
        payload = {"guild_id": _sid(guild_id), "user": _copy(self.users[int(user_id)])}
        await self.dispatch("GUILD_MEMBER_REMOVE", payload)
        return payload

    def _interaction_context(
        self, user_id: SnowflakeLike, channel_id: SnowflakeLike | None, locale: str
    ) -> JSON:
        uid = int(user_id)
        if channel_id is None:
            channel = self.dm_channel(uid)
        else:
            channel = self._channel_or_partial(int(channel_id))
        guild_id = self._guild_id_of_channel(channel["id"])
        ctx: JSON = {"application_id": self.application_id, "locale": locale}
        if guild_id is None:
            ctx.update(user=self.users[uid], channel=_copy(channel))
            return ctx
        guild = self.guild(guild_id)
        member = guild.members[uid]
        channel_copy = _copy(channel)
        channel_copy["permissions"] = str(self.compute_permissions(guild_id, uid, channel["id"]))
        ctx.update(
            guild_id=guild_id,
            member=member,
            channel=channel_copy,
            guild_locale=guild.preferred_locale,
            guild_features=guild.data.get("features", []),
            permissions=self.compute_permissions(guild_id, uid, channel["id"]),
            app_permissions=self.compute_permissions(guild_id, self.bot_id, channel["id"]),
        )
        return ctx

    def _auto_resolved(self, options: Sequence[JSON], guild_id: int | None, user_id: int) -> JSON:
        users: dict[int, JSON] = {}
        members: dict[int, JSON] = {}
        roles: dict[int, JSON] = {}
        channels: dict[int, JSON] = {}

        def visit(opts: Sequence[JSON]) -> None:
            for opt in opts:
                if opt.get("options"):
                    visit(opt["options"])
                if opt["type"] not in (6, 7, 8, 9) or "value" not in opt:
                    continue
                target = int(opt["value"])
                guild = self.guilds.get(guild_id) if guild_id is not None else None
                if opt["type"] in (6, 9) and target in self.users:
                    if guild is not None and target in guild.members:
                        member = _copy(guild.members[target])
                        member["permissions"] = str(self.compute_permissions(guild.id, target))
                        members[target] = member
                    else:
                        users[target] = self.users[target]
                if opt["type"] in (8, 9) and guild is not None and target in guild.roles:
                    roles[target] = guild.roles[target]
                if opt["type"] == 7 and target in self.channels:
                    channel = _copy(self.channels[target])
                    if guild_id is not None:
                        channel["permissions"] = str(
                            self.compute_permissions(guild_id, user_id, target)
                        )
                    channels[target] = channel

        visit(options)
        return resolved_payload(
            users=list(users.values()),
            members=list(members.values()),
            roles=list(roles.values()),
            channels=list(channels.values()),
        )

    def find_command(self, name: str, guild_id: SnowflakeLike | None = None) -> JSON | None:
        """Return a registered command by name (guild commands first), or ``None``."""
        candidates = []
        if guild_id is not None:
            candidates.extend(self.guild_commands.get(int(guild_id), []))
        candidates.extend(self.global_commands)
        return next((c for c in candidates if c["name"] == name), None)

    async def simulate_command(
        self,
        name: str,
        *,
        user_id: SnowflakeLike,
        channel_id: SnowflakeLike | None = None,
        options: Sequence[JSON] = (),
        resolved: JSON | None = None,
        locale: str = "en-US",
        command_type: int = 1,
        target_id: SnowflakeLike | None = None,
        autocomplete: bool = False,
        with_channel: bool = True,
    ) -> JSON:
        """Dispatch an APPLICATION_COMMAND interaction (slash command by default).

        ``channel_id=None`` means the bot's DM with the user; ``with_channel=False`` leaves
        ``channel`` and ``channel_id`` out of a guild interaction (Discord omits them in
        some contexts, e.g. user-installed apps). The member's ``permissions``,
        ``app_permissions``, ``guild_locale`` and the command id (if registered) come from the
        fake's state; ``resolved`` is built from USER/CHANNEL/ROLE/MENTIONABLE options unless
        given. Returns the payload (its ``id``/``token`` identify the interaction).
        """
        ctx = self._interaction_context(user_id, channel_id, locale)
        guild_id = ctx.get("guild_id")
        command = self.find_command(name, guild_id)
        if resolved is None:
            resolved = self._auto_resolved(options, guild_id, int(user_id))
        payload = command_interaction_payload(
            name,
            options=options,
            resolved=resolved,
            command_id=command["id"] if command else None,
            command_type=command_type,
            target_id=target_id,
            command_guild_id=command.get("guild_id") if command else None,
            interaction_type=(
                InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE
                if autocomplete
                else InteractionType.APPLICATION_COMMAND
            ),
            **ctx,
        )
        if not with_channel:
            payload.pop("channel", None)
            payload.pop("channel_id", None)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def simulate_component(
        self,
        custom_id: str,
        *,
        user_id: SnowflakeLike,
        message_id: SnowflakeLike,
        component_type: int = ComponentType.BUTTON,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> JSON:
        """Dispatch a MESSAGE_COMPONENT interaction on a stored message (e.g. a button click)."""
        message = self.messages[int(message_id)]
        channel_id = int(message["channel_id"])
        dm = self._guild_id_of_channel(channel_id) is None
        ctx = self._interaction_context(user_id, None if dm else channel_id, locale)
        payload = component_interaction_payload(
            custom_id,
            message=message,
            component_type=component_type,
            values=values,
            **ctx,
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def simulate_modal_submit(
        self,
        custom_id: str,
        values: dict[str, str],
        *,
        user_id: SnowflakeLike,
        channel_id: SnowflakeLike | None = None,
        locale: str = "en-US",
    ) -> JSON:
        """Dispatch a MODAL_SUBMIT interaction with text input values by ``custom_id``."""
        ctx = self._interaction_context(user_id, channel_id, locale)
        payload = modal_submit_interaction_payload(custom_id, values, **ctx)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    # ---------------------------------------------------------------- gateway: internals

    def _live_sessions(self, *, require_connection: bool = True) -> list[GatewaySession]:
        return [
            s
            for s in self.sessions
            if not s.invalidated and s.ready and (s.connected or not require_connection)
        ]

    def _token_ok(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        return self.token is None or token == self.token

    def _gets_all_members(self, session: GatewaySession) -> bool:
        return not self.enforce_intents or bool(session.intents & Intent.GUILD_PRESENCES)

    def _session_wants(self, session: GatewaySession, event: str, data: JSON) -> bool:
        if not self.enforce_intents:
            return True
        spec = _EVENT_INTENTS.get(event)
        if spec is None:
            return True
        guild_intent, dm_intent = spec
        in_dm = dm_intent is not None and data.get("guild_id") is None
        needed = dm_intent if in_dm and dm_intent is not None else guild_intent
        return bool(session.intents & needed)

    def _filter_for_session(self, session: GatewaySession, event: str, data: JSON) -> JSON:
        payload = _copy(data)
        if (
            not self.enforce_intents
            or event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
            or session.intents & Intent.MESSAGE_CONTENT
            or payload.get("guild_id") is None
        ):
            return payload
        bot = str(self.bot_id)
        if (payload.get("author") or {}).get("id") == bot:
            return payload
        if any(m.get("id") == bot for m in payload.get("mentions", [])):
            return payload
        for key, empty in (
            ("content", ""),
            ("embeds", []),
            ("attachments", []),
            ("components", []),
        ):
            if key in payload:
                payload[key] = empty
        payload.pop("poll", None)
        return payload

    def _log_frame(
        self, direction: Literal["send", "recv"], conn: GatewayConnection, payload: JSON
    ) -> None:
        self.gateway_log.append(
            GatewayFrame(
                direction=direction,
                connection_id=conn.id,
                op=payload.get("op"),
                t=payload.get("t"),
                s=payload.get("s"),
                d=payload.get("d"),
            )
        )

    async def _send_frame(self, conn: GatewayConnection, payload: JSON) -> bool:
        if conn.closed or conn.ws.closed:
            return False
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        try:
            if conn.compressor is not None:
                data = conn.compressor.compress(text.encode()) + conn.compressor.flush(
                    zlib.Z_SYNC_FLUSH
                )
                await conn.ws.send_bytes(data)
            else:
                await conn.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            return False
        self._log_frame("send", conn, payload)
        return True

    async def _send_dispatch(
        self, session: GatewaySession, event: str, data: JSON
    ) -> DispatchedEvent:
        """Assign the next seq, store and (if connected) send. Caller holds ``session.lock``."""
        session.seq += 1
        dispatched = DispatchedEvent(session.seq, event, data)
        session.history.append(dispatched)
        if session.connection is not None and not session.connection.closed:
            await self._send_frame(session.connection, dispatched.frame())
        return dispatched

    async def _close_connection(
        self, conn: GatewayConnection, code: int, reason: str = ""
    ) -> None:
        conn.closed_by_server = True
        if conn.close_task is None:
            conn.close_task = asyncio.ensure_future(
                conn.ws.close(code=int(code), message=reason.encode())
            )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(conn.close_task), timeout=5.0)

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:
            self.refused_connections += 1
            self._notify()
            return web.Response(status=502, text="502: Bad Gateway")
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0, compress=False)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = GatewayConnection(
            id=next(self._connection_ids),
            path=request.path,
            query=dict(request.query),
            compress=compress,
            ws=ws,
            request=request,
        )
        if self.compress and compress == "zlib-stream":
            conn.compressor = zlib.compressobj()
        self.connections.append(conn)
        self._notify()
        try:
            hello = {
                "op": int(Op.HELLO),
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                "s": None,
                "t": None,
            }
            await self._send_frame(conn, hello)
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    raw = msg.data
                elif msg.type is WSMsgType.BINARY:
                    raw = msg.data.decode()
                else:
                    break
                try:
                    payload = json.loads(raw)
                except ValueError:
                    await self._close_connection(
                        conn, CloseCode.DECODE_ERROR, "Error while decoding payload."
                    )
                    break
                self._log_frame("recv", conn, payload)
                try:
                    await self._on_gateway_payload(conn, payload)
                except Exception:
                    self.internal_errors.append(traceback.format_exc())
                self._notify()
        finally:
            if conn.close_task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(conn.close_task), timeout=5.0)
            conn.closed = True
            conn.close_code = ws.close_code
            session = conn.session
            if session is not None:
                if session.connection is conn:
                    session.connection = None
                if not conn.closed_by_server and ws.close_code in (1000, 1001):
                    session.invalidated = True  # a clean client close ends the session
            self._notify()
        return ws

    async def _on_gateway_payload(self, conn: GatewayConnection, payload: JSON) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == Op.HEARTBEAT:
            conn.heartbeats += 1
            self.heartbeats += 1
            if self.ack_heartbeats:
                await self._send_frame(conn, {"op": int(Op.HEARTBEAT_ACK)})
        elif op == Op.IDENTIFY:
            await self._identify(conn, data if isinstance(data, dict) else {})
        elif op == Op.RESUME:
            await self._resume(conn, data if isinstance(data, dict) else {})
        elif conn.session is None:
            await self._close_connection(conn, CloseCode.NOT_AUTHENTICATED, "Not authenticated.")
        elif op == Op.REQUEST_GUILD_MEMBERS:
            await self._request_guild_members(conn.session, data if isinstance(data, dict) else {})
        elif op in (Op.PRESENCE_UPDATE, Op.VOICE_STATE_UPDATE, Op.REQUEST_SOUNDBOARD_SOUNDS):
            pass  # recorded in gateway_log
        else:
            await self._close_connection(conn, CloseCode.UNKNOWN_OPCODE, "Unknown opcode.")

    def _ready_payload(self, session: GatewaySession) -> JSON:
        user = _copy(self.bot_user)
        user.update(verified=True, mfa_enabled=False, email=None)
        data: JSON = {
            "v": API_VERSION,
            "user": user,
            "guilds": [
                {"id": str(g.id), "unavailable": True} for g in self._session_guilds(session)
            ],
            "session_id": session.session_id,
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            data["shard"] = list(session.shard)
        return data

    def _session_guilds(self, session: GatewaySession) -> list[GuildState]:
        if not session.shard:
            return list(self.guilds.values())
        shard_id, shard_count = session.shard
        return [g for g in self.guilds.values() if (g.id >> 22) % shard_count == shard_id]

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if conn.session is not None:
            await self._close_connection(
                conn, CloseCode.ALREADY_AUTHENTICATED, "Already authenticated."
            )
            return
        if not self._token_ok(data.get("token")):
            await self._close_connection(
                conn, CloseCode.AUTHENTICATION_FAILED, "Authentication failed."
            )
            return
        if self._identify_failures:
            code, reason = self._identify_failures.pop(0)
            await self._close_connection(conn, code, reason)
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await self._close_connection(conn, CloseCode.INVALID_INTENTS, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await self._close_connection(
                conn, CloseCode.DISALLOWED_INTENTS, "Disallowed intent(s)."
            )
            return
        shard = data.get("shard")
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            intents=intents,
            identify=_copy(data),
            shard=list(shard) if shard else None,
            large_threshold=int(data.get("large_threshold") or 50),
        )
        self.sessions.append(session)
        self._sessions_by_id[session.session_id] = session
        conn.session = session
        async with session.lock:
            session.connection = conn
            await self._send_dispatch(session, "READY", self._ready_payload(session))
            for guild in self._session_guilds(session):
                if self._session_wants(session, "GUILD_CREATE", {}):
                    payload = guild.gateway_payload(
                        all_members=self._gets_all_members(session),
                        bot_id=self.bot_id,
                        large_threshold=session.large_threshold,
                    )
                    await self._send_dispatch(session, "GUILD_CREATE", payload)
            session.ready = True
        self._notify()

    async def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        if not self._token_ok(data.get("token")):
            await self._close_connection(
                conn, CloseCode.AUTHENTICATION_FAILED, "Authentication failed."
            )
            return
        session = self._sessions_by_id.get(str(data.get("session_id")))
        if session is None or session.invalidated:
            frame = {"op": int(Op.INVALID_SESSION), "d": False, "s": None, "t": None}
            await self._send_frame(conn, frame)
            return
        seq = int(data.get("seq") or 0)
        if seq > session.seq:
            await self._close_connection(conn, CloseCode.INVALID_SEQ, "Invalid seq.")
            return
        async with session.lock:
            old = session.connection
            if old is not None and old is not conn:
                old.session = None
            session.connection = conn
            conn.session = session
            candidates = [e for e in session.history if e.event not in _NEVER_REPLAYED]
            replay = [e for e in candidates if e.seq > seq]
            if session.replay_on_resume:
                already = [e for e in candidates if e.seq <= seq]
                replay = already[-session.replay_on_resume :] + replay
                session.replay_on_resume = 0
            for ev in replay:
                await self._send_frame(conn, ev.frame())
            await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})
            self.resumes.append(ResumeInfo(session.session_id, seq, replay, conn.id))
        self._notify()

    async def _request_guild_members(self, session: GatewaySession, data: JSON) -> None:
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        members = list(guild.members.values()) if guild else []
        if self.enforce_intents and not session.intents & Intent.GUILD_MEMBERS:
            members = []
        not_found: list[str] = []
        user_ids = data.get("user_ids")
        if user_ids is not None:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if int(m["user"]["id"]) in wanted]
            found = {int(m["user"]["id"]) for m in members}
            not_found = [str(u) for u in sorted(wanted - found)]
        else:
            query = str(data.get("query") or "").casefold()
            if query:
                members = [
                    m
                    for m in members
                    if any(
                        str(name).casefold().startswith(query)
                        for name in (
                            m["user"]["username"],
                            m["user"].get("global_name"),
                            m.get("nick"),
                        )
                        if name
                    )
                ]
            limit = int(data.get("limit") or 0)
            if limit:
                members = members[:limit]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        async with session.lock:
            for index, chunk in enumerate(chunks):
                payload: JSON = {
                    "guild_id": str(data.get("guild_id")),
                    "members": _copy(chunk),
                    "chunk_index": index,
                    "chunk_count": len(chunks),
                }
                if index == 0 and not_found:
                    payload["not_found"] = not_found
                if data.get("presences"):
                    payload["presences"] = []
                if data.get("nonce") is not None:
                    payload["nonce"] = data["nonce"]
                await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", payload)

    # ---------------------------------------------------------------- state from events

    def _register_interaction(self, data: JSON) -> None:
        self.interactions[int(data["id"])] = _copy(data)
        self._interactions_by_token[str(data["token"])] = _InteractionState(_copy(data))
        user = (data.get("member") or {}).get("user") or data.get("user")
        if user:
            self.add_user(user)

    def _apply_event_to_state(self, event: str, data: JSON) -> None:
        guild = self.guilds.get(int(data["guild_id"])) if data.get("guild_id") else None
        if event == "MESSAGE_CREATE":
            self.add_message(data)
            channel = self.channels.get(int(data["channel_id"]))
            if channel is not None:
                channel["last_message_id"] = data["id"]
        elif event == "MESSAGE_UPDATE":
            stored = self.messages.get(int(data["id"]))
            if stored is not None:
                stored.update(
                    {k: _copy(v) for k, v in data.items() if k not in ("guild_id", "member")}
                )
            elif "author" in data:
                self.add_message(data)
        elif event == "MESSAGE_DELETE":
            self.messages.pop(int(data["id"]), None)
        elif event == "MESSAGE_DELETE_BULK":
            for mid in data.get("ids", []):
                self.messages.pop(int(mid), None)
        elif event == "INTERACTION_CREATE":
            self._register_interaction(data)
        elif event == "GUILD_CREATE":
            self.add_guild(data)
        elif event == "GUILD_DELETE":
            self.guilds.pop(int(data["id"]), None)
        elif event in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE") and guild is not None:
            existing = guild.members.get(int(data["user"]["id"]))
            merged = {**existing, **_copy(data)} if existing else _copy(data)
            merged.pop("guild_id", None)
            merged.setdefault("roles", [])
            merged.setdefault("flags", 0)
            merged.setdefault("joined_at", iso_timestamp())
            self.add_user(merged["user"])
            guild.members[int(data["user"]["id"])] = merged
        elif event == "GUILD_MEMBER_REMOVE" and guild is not None:
            guild.members.pop(int(data["user"]["id"]), None)
        elif event in ("CHANNEL_CREATE", "CHANNEL_UPDATE", "THREAD_CREATE", "THREAD_UPDATE"):
            channel = {k: v for k, v in data.items() if k != "newly_created"}
            self.add_channel(channel)
        elif event in ("CHANNEL_DELETE", "THREAD_DELETE"):
            self.channels.pop(int(data["id"]), None)
            if guild is not None:
                guild.channels.pop(int(data["id"]), None)
                guild.threads.pop(int(data["id"]), None)
        elif event in ("GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE") and guild is not None:
            guild.roles[int(data["role"]["id"])] = _copy(data["role"])
        elif event == "GUILD_ROLE_DELETE" and guild is not None:
            guild.roles.pop(int(data["role_id"]), None)
        elif event.startswith("GUILD_SCHEDULED_EVENT_") and guild is not None and "id" in data:
            if event.endswith("_DELETE"):
                guild.scheduled_events.pop(int(data["id"]), None)
            elif event.endswith(("_CREATE", "_UPDATE")):
                guild.scheduled_events[int(data["id"])] = _copy(data)

    # ---------------------------------------------------------------- REST: public API

    async def wait_for_request(
        self,
        method: str,
        path: PathPattern,
        *,
        since: int = 0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = 5.0,
    ) -> RecordedRequest:
        """Wait for the first request in ``requests[since:]`` matching and return it.

        ``path`` is a pattern like ``"/channels/{channel_id}/messages"`` (see
        :func:`compile_path_pattern`), a concrete path or a regex; ``method`` may be ``"*"``.
        Requests are recorded once answered, so ``status``/``response`` are set. To wait for a
        *new* request, pass ``since=len(fake.requests)`` taken before triggering it.
        """
        regex = compile_path_pattern(path)

        def probe() -> RecordedRequest | None:
            for request in self.requests[since:]:
                if (
                    _method_matches(method, request.method)
                    and regex.fullmatch(request.path)
                    and (predicate is None or predicate(request))
                ):
                    return request
            return None

        try:
            return await self._wait(probe, timeout, f"{method} {path}")
        except TimeoutError as exc:
            seen = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.requests)
            raise TimeoutError(f"{exc}; requests so far:\n{seen or '  (none)'}") from None

    def requests_matching(self, method: str, path: PathPattern) -> list[RecordedRequest]:
        """Return recorded requests matching ``method`` and ``path`` (as in wait_for_request)."""
        return [r for r in self.requests if r.matches(method, path)]

    @property
    def unhandled_requests(self) -> list[RecordedRequest]:
        """Requests no route handled (answered 404/405) -- routes the fake does not know."""
        return [r for r in self.requests if not r.handled and not r.injected]

    async def wait_for_callback(
        self, interaction_id: SnowflakeLike | None = None, *, since: int = 0, timeout: float = 5.0
    ) -> InteractionCallback:
        """Wait for an accepted interaction callback (for ``interaction_id`` if given)."""

        def probe() -> InteractionCallback | None:
            for cb in self.interaction_callbacks[since:]:
                if interaction_id is None or cb.interaction_id == int(interaction_id):
                    return cb
            return None

        return await self._wait(probe, timeout, f"interaction callback {interaction_id}")

    async def wait_for_bot_message(
        self,
        channel_id: SnowflakeLike | None = None,
        *,
        since: int = 0,
        predicate: Callable[[JSON], bool] | None = None,
        timeout: float = 5.0,
    ) -> JSON:
        """Wait for a message the bot created (in ``bot_messages[since:]``) and return it."""

        def probe() -> JSON | None:
            for message in self.bot_messages[since:]:
                if channel_id is not None and int(message["channel_id"]) != int(channel_id):
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        return await self._wait(probe, timeout, f"a bot message in channel {channel_id}")

    def fail_next(
        self,
        method: str,
        path: PathPattern,
        status: int | DiscordError = 500,
        code: int = 0,
        message: str | None = None,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        is_global: bool = False,
        scope: str = "user",
        errors: JSON | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` matching requests (``None`` = all) with a Discord error.

        ``after`` lets that many matching requests through first (the second part of a
        message fails, the first went out).

        ``status`` is an HTTP status or a :class:`DiscordError` (e.g.
        :data:`CANNOT_SEND_MESSAGES_TO_USER`, :data:`MISSING_PERMISSIONS`). The body is
        ``{"message", "code"[, "errors"]}``; ``message`` defaults to Discord's text for the code.
        A 429 gets ``{"message", "retry_after", "global"}`` plus ``Retry-After``,
        ``X-RateLimit-*`` (``Scope``: ``scope``; ``Global`` if ``is_global``) and ``Via``
        headers; ``retry_after`` defaults to 0.05 s. Matching requests are still recorded
        (``injected=True``).
        """
        if isinstance(status, DiscordError):
            error = status
        else:
            known = _KNOWN_ERRORS.get(code)
            text = message or (known.message if known else _STATUS_MESSAGES.get(status, "Error"))
            error = DiscordError(status, code, text)
        if message is not None:
            error = error._replace(message=message)
        if error.status == 429 and retry_after is None:
            retry_after = 0.05
        self._failures.append(
            _FailureRule(
                method=method,
                pattern=compile_path_pattern(path),
                error=error,
                remaining=times,
                retry_after=retry_after,
                is_global=is_global,
                scope=scope,
                errors=errors,
                after=after,
            )
        )

    def malform_next(
        self,
        method: str,
        path: PathPattern,
        *,
        times: int | None = 1,
        body: bytes = MALFORMED_BODY,
    ) -> None:
        """Carry out the next ``times`` matching requests, but answer a body a client cannot read.

        The request takes effect (a message is created, commands are saved) and the answer
        is ``200`` with ``Content-Type: application/json`` and ``body`` (default: JSON cut
        short), as when a proxy truncates a response: the client cannot know it succeeded.
        """
        self._malformed.append(_MalformRule(method, compile_path_pattern(path), times, body))

    def clear_failures(self) -> None:
        """Drop every pending :meth:`fail_next` and :meth:`malform_next` rule."""
        self._failures.clear()
        self._malformed.clear()

    def add_route(
        self, method: str, path: PathPattern, handler: RouteHandler, *, times: int | None = None
    ) -> None:
        """Answer matching requests with ``handler(request) -> (status, body)`` (sync or async).

        Custom routes take precedence over built-in ones (``times=None``: forever). ``body`` is
        JSON-serialised; ``None`` sends no body.
        """
        regex = compile_path_pattern(path)
        template = path if isinstance(path, str) else path.pattern
        self._custom_routes.append(_CustomRoute(method, template, regex, handler, times))

    # ---------------------------------------------------------------- REST: plumbing

    def _build_routes(self) -> list[_RouteDef]:
        app = "/applications/{application_id}"
        guild_app = app + "/guilds/{guild_id}"
        chan = "/channels/{channel_id}"
        msg = chan + "/messages/{message_id}"
        hook = "/webhooks/{application_id}/{token}"
        guild = "/guilds/{guild_id}"
        member = guild + "/members/{user_id}"
        events = guild + "/scheduled-events"
        table: list[tuple[str, str, _Handler, bool]] = [
            ("GET", "/users/@me", self._get_me, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/users/{user_id}", self._get_user, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            # application commands (global and guild)
            *(
                route
                for base in (app, guild_app)
                for route in (
                    ("GET", base + "/commands", self._list_commands, True),
                    ("PUT", base + "/commands", self._bulk_commands, True),
                    ("POST", base + "/commands", self._upsert_command, True),
                    ("GET", base + "/commands/{command_id}", self._get_command, True),
                    ("PATCH", base + "/commands/{command_id}", self._edit_command, True),
                    ("DELETE", base + "/commands/{command_id}", self._delete_command, True),
                )
            ),
            # channels, messages, reactions, threads
            ("GET", chan, self._get_channel, True),
            ("PATCH", chan, self._edit_channel, True),
            ("DELETE", chan, self._delete_channel, True),
            ("GET", chan + "/messages", self._list_messages, True),
            ("POST", chan + "/messages", self._post_message, True),
            ("POST", chan + "/messages/bulk-delete", self._bulk_delete, True),
            ("GET", msg, self._get_message, True),
            ("PATCH", msg, self._edit_message_route, True),
            ("DELETE", msg, self._delete_message, True),
            ("PUT", chan + "/messages/pins/{message_id}", self._pin_message, True),
            ("DELETE", chan + "/messages/pins/{message_id}", self._unpin_message, True),
            ("PUT", chan + "/pins/{message_id}", self._pin_message, True),  # the older path
            ("DELETE", chan + "/pins/{message_id}", self._unpin_message, True),
            ("PUT", msg + "/reactions/{emoji}/{user}", self._add_reaction, True),
            ("DELETE", msg + "/reactions/{emoji}/{user}", self._remove_reaction, True),
            ("GET", msg + "/reactions/{emoji}", self._list_reactions, True),
            ("DELETE", msg + "/reactions/{emoji}", self._clear_reactions, True),
            ("DELETE", msg + "/reactions", self._clear_reactions, True),
            ("POST", msg + "/threads", self._thread_from_message, True),
            ("POST", chan + "/threads", self._create_thread, True),
            ("PUT", chan + "/thread-members/{user}", self._no_content, True),
            ("DELETE", chan + "/thread-members/{user}", self._no_content, True),
            ("POST", chan + "/typing", self._typing, True),
            # interactions and their webhooks (authenticated by the token in the path)
            ("POST", "/interactions/{interaction_id}/{token}/callback",
             self._interaction_callback, False),
            ("POST", hook, self._followup, False),
            ("GET", hook + "/messages/{message_id}", self._get_webhook_message, False),
            ("PATCH", hook + "/messages/{message_id}", self._edit_webhook_message, False),
            ("DELETE", hook + "/messages/{message_id}", self._delete_webhook_message, False),
            # guilds, roles, members, bans, scheduled events
            ("GET", guild, self._get_guild, True),
            ("GET", guild + "/channels", self._list_guild_channels, True),
            ("GET", guild + "/roles", self._list_roles, True),
            ("POST", guild + "/roles", self._create_role, True),
            ("PATCH", guild + "/roles/{role_id}", self._edit_role, True),
            ("DELETE", guild + "/roles/{role_id}", self._delete_role, True),
            ("GET", guild + "/members", self._list_members, True),
            ("GET", member, self._get_member, True),
            ("PATCH", member, self._edit_member, True),
            ("DELETE", member, self._kick_member, True),
            ("PUT", member + "/roles/{role_id}", self._add_member_role, True),
            ("DELETE", member + "/roles/{role_id}", self._remove_member_role, True),
            ("PUT", guild + "/bans/{user_id}", self._ban_member, True),
            ("DELETE", guild + "/bans/{user_id}", self._unban_member, True),
            ("GET", events, self._list_events, True),
            ("POST", events, self._create_event, True),
            ("GET", events + "/{event_id}", self._get_event, True),
            ("PATCH", events + "/{event_id}", self._edit_event, True),
            ("DELETE", events + "/{event_id}", self._delete_event, True),
        ]  # fmt: skip
        return [
            _RouteDef(method, template, compile_path_pattern(template), handler, auth)
            for method, template, handler, auth in table
        ]

    async def _read_body(self, request: web.Request, record: RecordedRequest) -> None:
        if request.content_type.startswith("multipart/"):
            record.multipart = True
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: not used by Discord
                data = bytes(await part.read(decode=True))
                name = part.name or ""
                filename = part.filename
                if filename is not None:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    record.files.append(RecordedFile(name, filename, content_type, data))
                elif name == "payload_json":
                    record.json = json.loads(data)
                else:
                    record.form[name] = data.decode()
        elif request.body_exists:
            record.raw_body = await request.read()
            if record.raw_body:
                try:
                    record.json = json.loads(record.raw_body)
                except ValueError:
                    raise _HTTPError(
                        DiscordError(400, 50109, "The request body contains invalid JSON.")
                    ) from None

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        match = re.match(r"^/api(?:/v\d+)?(/.*)?$", request.rel_url.raw_path)
        raw_path = (match.group(1) if match else None) or "/"
        path = "/".join(unquote(segment) for segment in raw_path.split("/"))
        record = RecordedRequest(
            method=request.method,
            path=path.rstrip("/") or "/",
            query=dict(request.query),
            headers=dict(request.headers),
        )
        try:
            await self._read_body(request, record)
            reply = await self._route(record)
        except _HTTPError as exc:
            reply = self._error_reply(exc.error, exc.errors)
        except Exception as exc:
            # A bug in the fake. Not a 500: discord.py would retry it for ~25 s.
            self.internal_errors.append(traceback.format_exc())
            reply = _Reply(400, {"message": f"FakeDiscord internal error: {exc!r}", "code": 0})
        if 200 <= reply.status < 300 and not record.injected:
            reply = self._malform(record, reply)
        record.status = reply.status
        record.response = reply.body
        self.requests.append(record)
        self._notify()
        return self._to_response(reply, record)

    def _malform(self, record: RecordedRequest, reply: _Reply) -> _Reply:
        for rule in self._malformed:
            if _method_matches(rule.method, record.method) and rule.pattern.fullmatch(record.path):
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._malformed.remove(rule)
                record.malformed = True
                return _Reply(reply.status, rule.body, dict(reply.headers), "application/json")
        return reply

    async def _route(self, record: RecordedRequest) -> _Reply:
        for rule in self._failures:
            if _method_matches(rule.method, record.method) and rule.pattern.fullmatch(record.path):
                if rule.after > 0:
                    rule.after -= 1
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._failures.remove(rule)
                record.injected = True
                return self._failure_reply(rule, record)
        for custom in self._custom_routes:
            match = custom.regex.fullmatch(record.path)
            if match and _method_matches(custom.method, record.method):
                if custom.remaining is not None:
                    custom.remaining -= 1
                    if custom.remaining <= 0:
                        self._custom_routes.remove(custom)
                record.route = custom.template
                record.params = match.groupdict()
                result = custom.handler(record)
                status, body = await result if isinstance(result, Awaitable) else result
                return _Reply(status, body)
        path_known = False
        for route in self._routes:
            match = route.regex.fullmatch(record.path)
            if match is None:
                continue
            path_known = True
            if route.method != record.method:
                continue
            record.route = route.template
            record.params = match.groupdict()
            if route.auth:
                self._check_auth(record)
            return await route.handler(record)
        raise _HTTPError(METHOD_NOT_ALLOWED if path_known else NOT_FOUND)

    def _check_auth(self, record: RecordedRequest) -> None:
        auth = record.header("Authorization") or ""
        if not auth.startswith("Bot ") or not self._token_ok(auth[4:]):
            raise _HTTPError(UNAUTHORIZED)

    @staticmethod
    def _error_reply(error: DiscordError, errors: JSON | None = None) -> _Reply:
        body: JSON = {"message": error.message, "code": error.code}
        if errors:
            body["errors"] = errors
        return _Reply(error.status, body)

    def _failure_reply(self, rule: _FailureRule, record: RecordedRequest) -> _Reply:
        if rule.error.status != 429:
            return self._error_reply(rule.error, rule.errors)
        retry_after = float(rule.retry_after or 0.0)
        body: JSON = {
            "message": rule.error.message,
            "retry_after": retry_after,
            "global": rule.is_global,
        }
        if rule.error.code:
            body["code"] = rule.error.code
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Scope": "global" if rule.is_global else rule.scope,
        }
        if rule.is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers["X-RateLimit-Bucket"] = self._bucket(record)
        return _Reply(429, body, headers)

    @staticmethod
    def _bucket(record: RecordedRequest) -> str:
        key = f"{record.method} {record.route or record.path}"
        return hashlib.sha1(key.encode()).hexdigest()[:32]

    def _to_response(self, reply: _Reply, record: RecordedRequest) -> web.Response:
        headers = {"Via": "1.1 google", **reply.headers}
        if record.route is not None and "X-RateLimit-Limit" not in headers:
            headers.update(
                {
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "4",
                    "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                    "X-RateLimit-Reset-After": "1.000",
                    "X-RateLimit-Bucket": self._bucket(record),
                }
            )
        if reply.body is None:
            return web.Response(status=reply.status, headers=headers)
        if isinstance(reply.body, bytes) and reply.content_type == "application/json":
            # Exactly "application/json" (aiohttp would add a charset), so discord.py parses it.
            headers["Content-Type"] = "application/json"
            return web.Response(status=reply.status, body=reply.body, headers=headers)
        if isinstance(reply.body, bytes):
            return web.Response(
                status=reply.status,
                body=reply.body,
                headers=headers,
                content_type=reply.content_type or "application/octet-stream",
            )
        # Exactly "application/json": discord.py's json_or_text compares the header verbatim.
        headers["Content-Type"] = "application/json"
        body = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()
        return web.Response(status=reply.status, body=body, headers=headers)

    async def _handle_attachment(self, request: web.Request) -> web.StreamResponse:
        parts = request.match_info["tail"].split("/")
        try:
            data = self.attachments[int(parts[1])]
        except (IndexError, ValueError, KeyError):
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _handle_cdn(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_ONE_PIXEL_PNG, content_type="image/png")

    # ---------------------------------------------------------------- REST: helpers

    @staticmethod
    def _int_param(record: RecordedRequest, name: str, error: DiscordError = NOT_FOUND) -> int:
        try:
            return int(record.params[name])
        except (KeyError, ValueError):
            raise _HTTPError(error) from None

    def _body(self, record: RecordedRequest) -> JSON:
        if record.json is None:
            return {}
        if not isinstance(record.json, dict):
            raise _form_error(
                (), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
            )
        return record.json

    def _require_guild(self, record: RecordedRequest) -> GuildState:
        guild = self.guilds.get(self._int_param(record, "guild_id", UNKNOWN_GUILD))
        if guild is None:
            raise _HTTPError(UNKNOWN_GUILD)
        return guild

    def _require_channel(self, record: RecordedRequest) -> JSON:
        channel = self.channels.get(self._int_param(record, "channel_id", UNKNOWN_CHANNEL))
        if channel is None:
            raise _HTTPError(UNKNOWN_CHANNEL)
        return channel

    def _require_message(self, record: RecordedRequest) -> JSON:
        self._require_channel(record)
        message = self.messages.get(self._int_param(record, "message_id", UNKNOWN_MESSAGE))
        if message is None or int(message["channel_id"]) != int(record.params["channel_id"]):
            raise _HTTPError(UNKNOWN_MESSAGE)
        return message

    def _require_app(self, record: RecordedRequest) -> None:
        if self._int_param(record, "application_id", UNKNOWN_APPLICATION) != self.application_id:
            raise _HTTPError(MISSING_ACCESS)

    def _with_gateway_fields(self, message: JSON) -> JSON:
        """A stored message as MESSAGE_CREATE/UPDATE carries it (``guild_id``, ``member``)."""
        data = _copy(message)
        guild_id = self._guild_id_of_channel(message["channel_id"])
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
            member = self.member(guild_id, message["author"]["id"])
            if member is not None and "webhook_id" not in message:
                data["member"] = _partial_member(member)
        return data

    async def _echo(self, event: str, data: JSON) -> None:
        if self.echo_events:
            await self.dispatch(event, data)

    @staticmethod
    async def _no_content(record: RecordedRequest) -> _Reply:
        return _Reply(204)

    # ---------------------------------------------------------------- REST: users, gateway, app

    async def _get_me(self, record: RecordedRequest) -> _Reply:
        user = _copy(self.bot_user)
        user.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        return _Reply(200, user)

    async def _get_user(self, record: RecordedRequest) -> _Reply:
        user = self.users.get(self._int_param(record, "user_id", UNKNOWN_USER))
        if user is None:
            raise _HTTPError(UNKNOWN_USER)
        return _Reply(200, _copy(user))

    async def _create_dm(self, record: RecordedRequest) -> _Reply:
        body = self._body(record)
        try:
            uid = int(body["recipient_id"])
        except (KeyError, TypeError, ValueError):
            raise _form_error(
                ("recipient_id",), "BASE_TYPE_REQUIRED", "This field is required"
            ) from None
        if uid not in self.users:
            raise _HTTPError(UNKNOWN_USER)
        return _Reply(200, _copy(self.dm_channel(uid)))

    async def _get_gateway(self, record: RecordedRequest) -> _Reply:
        return _Reply(200, {"url": self.gateway_url})

    async def _get_gateway_bot(self, record: RecordedRequest) -> _Reply:
        return _Reply(
            200,
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - len(self.sessions),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            },
        )

    async def _get_application(self, record: RecordedRequest) -> _Reply:
        return _Reply(
            200,
            {
                "id": str(self.application_id),
                "name": self.bot_user["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot": _copy(self.bot_user),
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": _copy(self.owner_user),
                "team": None,
                "verify_key": hashlib.sha256(str(self.application_id).encode()).hexdigest(),
                "flags": self.application_flags,
                "approximate_guild_count": len(self.guilds),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "tags": [],
                "integration_types_config": {"0": {}},
            },
        )

    # ---------------------------------------------------------------- REST: application commands

    def _command_list(self, record: RecordedRequest) -> list[JSON]:
        self._require_app(record)
        if "guild_id" not in record.params:
            return self.global_commands
        gid = self._int_param(record, "guild_id", UNKNOWN_GUILD)
        if gid not in self.guilds:
            raise _HTTPError(MISSING_ACCESS)
        return self.guild_commands.setdefault(gid, [])

    def _validate_name(
        self, value: object, path: tuple[str | int, ...], *, chat_input: bool
    ) -> None:
        if not isinstance(value, str) or not 1 <= len(value) <= 32:
            raise _form_error(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        if chat_input and (not _COMMAND_NAME.fullmatch(value) or value != value.lower()):
            raise _form_error(
                path,
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {value!r} (lowercase, no spaces, 1-32 characters)",
            )

    def _validate_localizations(
        self, value: object, path: tuple[str | int, ...], *, chat_input: bool, name: bool
    ) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            raise _form_error(
                path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
            )
        for locale, text in value.items():
            if locale not in DISCORD_LOCALES:
                raise _form_error(
                    (*path, locale),
                    "BASE_TYPE_CHOICES",
                    f"Value must be one of {sorted(DISCORD_LOCALES)}.",
                )
            if name:
                self._validate_name(text, (*path, locale), chat_input=chat_input)
            elif not isinstance(text, str) or not 1 <= len(text) <= 100:
                raise _form_error(
                    (*path, locale), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )

    def _validate_options(self, options: object, path: tuple[str | int, ...]) -> None:
        if options is None:
            return
        if not isinstance(options, list) or len(options) > 25:
            raise _form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        seen_optional = False
        names: set[str] = set()
        for index, option in enumerate(options):
            opath = (*path, index)
            if not isinstance(option, dict) or option.get("type") not in range(1, 12):
                raise _form_error(
                    (*opath, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1..11)."
                )
            self._validate_name(option.get("name"), (*opath, "name"), chat_input=True)
            if option["name"] in names:
                raise _form_error(
                    (*opath, "name"),
                    "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                    "Option name already exists",
                )
            names.add(option["name"])
            description = option.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 100:
                raise _form_error(
                    (*opath, "description"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            self._validate_localizations(
                option.get("name_localizations"),
                (*opath, "name_localizations"),
                chat_input=True,
                name=True,
            )
            self._validate_localizations(
                option.get("description_localizations"),
                (*opath, "description_localizations"),
                chat_input=True,
                name=False,
            )
            if option.get("required"):
                if seen_optional:
                    raise _form_error(
                        (*opath, "required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            if len(option.get("choices") or []) > 25:
                raise _form_error(
                    (*opath, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            if option["type"] in (1, 2):
                self._validate_options(option.get("options"), (*opath, "options"))

    def _normalise_command(
        self, body: object, path: tuple[str | int, ...], existing: list[JSON], guild_id: int | None
    ) -> JSON:
        if not isinstance(body, dict):
            raise _form_error(
                path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
            )
        kind = int(body.get("type") or 1)
        chat_input = kind == 1
        self._validate_name(body.get("name"), (*path, "name"), chat_input=chat_input)
        description = body.get("description") or ""
        if chat_input and not 1 <= len(description) <= 100:
            raise _form_error(
                (*path, "description"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        if not chat_input and description:
            raise _form_error(
                (*path, "description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            )
        self._validate_localizations(
            body.get("name_localizations"),
            (*path, "name_localizations"),
            chat_input=chat_input,
            name=True,
        )
        self._validate_localizations(
            body.get("description_localizations"),
            (*path, "description_localizations"),
            chat_input=True,
            name=False,
        )
        self._validate_options(body.get("options"), (*path, "options"))
        previous = next(
            (c for c in existing if c["name"] == body["name"] and c["type"] == kind), None
        )
        command: JSON = {
            "id": previous["id"] if previous else str(new_snowflake()),
            "application_id": str(self.application_id),
            "version": str(new_snowflake()),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": description,
            "description_localizations": body.get("description_localizations"),
            "options": _copy(body.get("options") or []),
            "default_member_permissions": body.get("default_member_permissions"),
            "dm_permission": body.get("dm_permission", True),
            "nsfw": bool(body.get("nsfw", False)),
            "integration_types": body.get("integration_types") or [0],
            "contexts": body.get("contexts"),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    def _guild_of_commands(self, record: RecordedRequest) -> int | None:
        return int(record.params["guild_id"]) if "guild_id" in record.params else None

    async def _list_commands(self, record: RecordedRequest) -> _Reply:
        return _Reply(200, _copy(self._command_list(record)))

    async def _bulk_commands(self, record: RecordedRequest) -> _Reply:
        existing = self._command_list(record)
        if not isinstance(record.json, list):
            raise _form_error((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        commands: list[JSON] = []
        for index, body in enumerate(record.json):
            command = self._normalise_command(
                body, (index,), existing, self._guild_of_commands(record)
            )
            if any(
                c["name"] == command["name"] and c["type"] == command["type"] for c in commands
            ):
                raise _form_error(
                    (index, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            commands.append(command)
        existing[:] = commands
        return _Reply(200, _copy(commands))

    async def _upsert_command(self, record: RecordedRequest) -> _Reply:
        existing = self._command_list(record)
        command = self._normalise_command(
            self._body(record), (), existing, self._guild_of_commands(record)
        )
        for index, current in enumerate(existing):
            if current["id"] == command["id"]:
                existing[index] = command
                return _Reply(200, _copy(command))
        existing.append(command)
        return _Reply(201, _copy(command))

    def _find_command(self, record: RecordedRequest) -> tuple[list[JSON], int]:
        commands = self._command_list(record)
        cid = record.params.get("command_id")
        for index, command in enumerate(commands):
            if command["id"] == cid:
                return commands, index
        raise _HTTPError(UNKNOWN_APPLICATION_COMMAND)

    async def _get_command(self, record: RecordedRequest) -> _Reply:
        commands, index = self._find_command(record)
        return _Reply(200, _copy(commands[index]))

    async def _edit_command(self, record: RecordedRequest) -> _Reply:
        commands, index = self._find_command(record)
        merged = {**commands[index], **self._body(record)}
        others = [c for i, c in enumerate(commands) if i != index]
        command = self._normalise_command(merged, (), others, self._guild_of_commands(record))
        command["id"] = commands[index]["id"]
        commands[index] = command
        return _Reply(200, _copy(command))

    async def _delete_command(self, record: RecordedRequest) -> _Reply:
        commands, index = self._find_command(record)
        del commands[index]
        return _Reply(204)

    # ---------------------------------------------------------------- REST: messages

    def _validate_message_body(
        self, body: JSON, files: Sequence[RecordedFile], *, creating: bool
    ) -> None:
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            raise _form_error(
                ("content",), "BASE_TYPE_STRING", "Could not interpret value as string."
            )
        if content and len(content) > 2000:
            raise _form_error(
                ("content",), "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."
            )
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise _form_error(
                ("embeds",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."
            )
        for index, embed in enumerate(embeds):
            if len(str(embed.get("title") or "")) > 256:
                raise _form_error(
                    ("embeds", index, "title"),
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 256 or fewer in length.",
                )
            if len(str(embed.get("description") or "")) > 4096:
                raise _form_error(
                    ("embeds", index, "description"),
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 4096 or fewer in length.",
                )
        if len(body.get("components") or []) > 40:
            raise _form_error(
                ("components",), "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length."
            )
        if creating and not (
            content
            or embeds
            or files
            or body.get("sticker_ids")
            or body.get("components")
            or body.get("poll")
        ):
            raise _HTTPError(CANNOT_SEND_EMPTY_MESSAGE)

    def _make_attachments(
        self, channel_id: int, descriptors: object, files: Sequence[RecordedFile]
    ) -> list[JSON]:
        described: dict[int, JSON] = {}
        if isinstance(descriptors, list):
            for descriptor in descriptors:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    described[int(descriptor["id"])] = descriptor
        attachments: list[JSON] = []
        for position, file in enumerate(files):
            match = re.fullmatch(r"files\[(\d+)\]", file.name)
            descriptor = described.get(int(match.group(1)) if match else position, {})
            attachment_id = new_snowflake()
            filename = str(descriptor.get("filename") or file.filename)
            url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
            self.attachments[attachment_id] = file.data
            content_type = mimetypes.guess_type(filename)[0] or file.content_type
            attachment: JSON = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(file.data),
                "url": url,
                "proxy_url": url,
                "content_type": content_type,
            }
            if descriptor.get("description"):
                attachment["description"] = descriptor["description"]
            if content_type.startswith("image/"):
                attachment.update(width=1, height=1)
            attachments.append(attachment)
        return attachments

    def _mentions_in(self, content: str, guild_id: int | None) -> tuple[list[JSON], list[int]]:
        users: list[JSON] = []
        for uid in dict.fromkeys(int(u) for u in _USER_MENTION.findall(content)):
            if uid in self.users:
                user = _copy(self.users[uid])
                member = self.member(guild_id, uid) if guild_id is not None else None
                if member is not None:
                    user["member"] = _partial_member(member)
                users.append(user)
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        roles = [int(r) for r in _ROLE_MENTION.findall(content) if guild and int(r) in guild.roles]
        return users, roles

    def _create_message(
        self,
        channel_id: int,
        body: JSON,
        files: Sequence[RecordedFile],
        *,
        check_channel: bool = True,
        extra: JSON | None = None,
    ) -> JSON:
        channel = self.channels.get(channel_id)
        if check_channel:
            if channel is None:
                raise _HTTPError(UNKNOWN_CHANNEL)
            if channel["type"] in _NON_TEXT_TYPES:
                raise _HTTPError(CANNOT_SEND_IN_NON_TEXT_CHANNEL)
            if channel["type"] == ChannelType.DM and any(
                int(r["id"]) in self.closed_dms for r in channel.get("recipients", [])
            ):
                raise _HTTPError(CANNOT_SEND_MESSAGES_TO_USER)
        self._validate_message_body(body, files, creating=True)
        guild_id = self._guild_id_of_channel(channel_id)
        reference = body.get("message_reference")
        referenced: JSON | None = None
        if isinstance(reference, dict) and reference.get("message_id") is not None:
            referenced = self.messages.get(int(reference["message_id"]))
            if referenced is None and reference.get("fail_if_not_exists", True):
                raise _form_error(
                    ("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
        content = body.get("content") or ""
        mentions, mention_roles = self._mentions_in(content, guild_id)
        if referenced is not None and (body.get("allowed_mentions") or {}).get(
            "replied_user", True
        ):
            author = referenced["author"]
            if all(m["id"] != author["id"] for m in mentions):
                mentions.append(_copy(author))
        message = message_payload(
            channel_id,
            self.bot_user,
            content,
            mentions=mentions,
            mention_roles=mention_roles,
            referenced_message=referenced,
            attachments=self._make_attachments(channel_id, body.get("attachments"), files),
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=int(body.get("flags") or 0),
            tts=bool(body.get("tts")),
            nonce=body.get("nonce"),
            **(extra or {}),
        )
        if referenced is not None and guild_id is not None:
            message["message_reference"]["guild_id"] = str(guild_id)
        if body.get("poll"):
            message["poll"] = _copy(body["poll"])
        self.messages[int(message["id"])] = message
        self.bot_messages.append(_copy(message))
        if channel is not None:
            channel["last_message_id"] = message["id"]
            if channel["type"] in THREAD_TYPES:
                channel["message_count"] = int(channel.get("message_count", 0)) + 1
                channel["total_message_sent"] = int(channel.get("total_message_sent", 0)) + 1
                channel["thread_metadata"]["archived"] = False
        return message

    def _edit_message(self, message: JSON, body: JSON, files: Sequence[RecordedFile]) -> JSON:
        self._validate_message_body(body, files, creating=False)
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = (
                    _copy(body[key]) if body[key] is not None else ([] if key != "content" else "")
                )
        if "flags" in body and body["flags"] is not None:
            keep = int(message.get("flags", 0)) & (MessageFlag.EPHEMERAL | MessageFlag.HAS_THREAD)
            message["flags"] = (int(body["flags"]) & ~int(MessageFlag.LOADING)) | keep
        else:
            message["flags"] = int(message.get("flags", 0)) & ~int(MessageFlag.LOADING)
        new_attachments = self._make_attachments(
            int(message["channel_id"]), body.get("attachments"), files
        )
        if "attachments" in body and body["attachments"] is not None:
            keep_ids = set()
            for descriptor in body["attachments"]:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    keep_ids.add(str(int(descriptor["id"])))
            message["attachments"] = [
                a for a in message.get("attachments", []) if a["id"] in keep_ids
            ]
        message["attachments"] = list(message.get("attachments", [])) + new_attachments
        if "content" in body:
            mentions, roles = self._mentions_in(
                message["content"] or "", self._guild_id_of_channel(message["channel_id"])
            )
            message["mentions"], message["mention_roles"] = mentions, [str(r) for r in roles]
        message["edited_timestamp"] = iso_timestamp()
        return message

    async def _post_message(self, record: RecordedRequest) -> _Reply:
        channel = self._require_channel(record)
        body = self._body(record)
        earlier = self._earlier_by_nonce(int(channel["id"]), body)
        if earlier is not None:
            return _Reply(200, _copy(earlier))
        message = self._create_message(int(channel["id"]), body, record.files)
        self._remember_nonce(int(channel["id"]), body, message)
        await self._echo("MESSAGE_CREATE", self._with_gateway_fields(message))
        return _Reply(200, _copy(message))

    def _earlier_by_nonce(self, channel_id: int, body: JSON) -> JSON | None:
        """As Discord: with ``enforce_nonce``, a nonce seen within a few minutes returns the
        message it created (no new message); if that message was deleted, 404 10008."""
        nonce = body.get("nonce")
        if isinstance(nonce, str) and len(nonce) > 25:
            raise _form_error(("nonce",), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if not body.get("enforce_nonce") or nonce is None:
            return None
        found = self._nonces.get((channel_id, str(nonce)))
        if found is None or time.monotonic() - found[0] > NONCE_WINDOW_SECONDS:
            return None
        message = self.messages.get(found[1])
        if message is None:
            raise _HTTPError(UNKNOWN_MESSAGE)
        return message

    def _remember_nonce(self, channel_id: int, body: JSON, message: JSON) -> None:
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (time.monotonic(), int(message["id"]))

    async def _list_messages(self, record: RecordedRequest) -> _Reply:
        channel = self._require_channel(record)
        limit = max(1, min(100, int(record.query.get("limit") or 50)))
        messages = sorted(
            (m for m in self.messages.values() if m["channel_id"] == channel["id"]),
            key=lambda m: int(m["id"]),
            reverse=True,
        )
        if "before" in record.query:
            messages = [m for m in messages if int(m["id"]) < int(record.query["before"])]
        if "after" in record.query:
            messages = [m for m in messages if int(m["id"]) > int(record.query["after"])][-limit:]
        return _Reply(200, _copy(messages[:limit]))

    async def _get_message(self, record: RecordedRequest) -> _Reply:
        return _Reply(200, _copy(self._require_message(record)))

    async def _edit_message_route(self, record: RecordedRequest) -> _Reply:
        message = self._require_message(record)
        if message["author"]["id"] != str(self.bot_id):
            raise _HTTPError(CANNOT_EDIT_OTHER_USERS_MESSAGE)
        self._edit_message(message, self._body(record), record.files)
        await self._echo("MESSAGE_UPDATE", self._with_gateway_fields(message))
        return _Reply(200, _copy(message))

    async def _delete_message(self, record: RecordedRequest) -> _Reply:
        message = self._require_message(record)
        del self.messages[int(message["id"])]
        event: JSON = {"id": message["id"], "channel_id": message["channel_id"]}
        guild_id = self._guild_id_of_channel(message["channel_id"])
        if guild_id is not None:
            event["guild_id"] = str(guild_id)
        await self._echo("MESSAGE_DELETE", event)
        return _Reply(204)

    def _check_can_pin(self, record: RecordedRequest) -> None:
        """PIN_MESSAGES in the channel (MANAGE_MESSAGES still counts, as during Discord's
        transition to the separate permission); 403 50013 otherwise."""
        if not self.enforce_permissions:
            return
        channel = self._require_channel(record)
        guild_id = self._guild_id_of_channel(channel["id"])
        if guild_id is None:
            return  # a DM: anyone in it may pin
        perms = self.compute_permissions(guild_id, self.bot_id, channel["id"])
        if not perms & (Permission.PIN_MESSAGES | Permission.MANAGE_MESSAGES):
            raise _HTTPError(MISSING_PERMISSIONS)

    async def _pin_message(self, record: RecordedRequest) -> _Reply:
        """Pin: ``pinned`` set on the message, a "pinned a message" system message (type 6)
        in the channel, and CHANNEL_PINS_UPDATE. Pinning it again changes nothing."""
        self._check_can_pin(record)
        message = self._require_message(record)
        if message.get("pinned"):
            return _Reply(204)
        message["pinned"] = True
        channel_id = message["channel_id"]
        guild_id = self._guild_id_of_channel(channel_id)
        note = message_payload(channel_id, self.bot_user, type=6, guild_id=guild_id)
        note["message_reference"] = {"message_id": message["id"], "channel_id": channel_id,
                                     **({"guild_id": str(guild_id)} if guild_id else {})}
        self.add_message(note)
        await self._echo("MESSAGE_CREATE", self._with_gateway_fields(note))
        await self._pins_update(channel_id, guild_id)
        return _Reply(204)

    async def _unpin_message(self, record: RecordedRequest) -> _Reply:
        self._check_can_pin(record)
        message = self._require_message(record)
        if message.get("pinned"):
            message["pinned"] = False
            await self._pins_update(message["channel_id"],
                                    self._guild_id_of_channel(message["channel_id"]))
        return _Reply(204)

    async def _pins_update(self, channel_id: Any, guild_id: int | None) -> None:
        event: JSON = {"channel_id": str(channel_id), "last_pin_timestamp": iso_timestamp()}
        if guild_id is not None:
            event["guild_id"] = str(guild_id)
        await self._echo("CHANNEL_PINS_UPDATE", event)

    def pinned_in(self, channel_id: SnowflakeLike) -> list[int]:
        """Ids of the pinned messages of a channel, oldest message first."""
        return sorted(int(m["id"]) for m in self.messages.values()
                      if int(m["channel_id"]) == int(channel_id) and m.get("pinned"))

    async def _bulk_delete(self, record: RecordedRequest) -> _Reply:
        channel = self._require_channel(record)
        ids = [str(i) for i in self._body(record).get("messages") or []]
        if not 2 <= len(ids) <= 100:
            raise _form_error(
                ("messages",), "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."
            )
        for mid in ids:
            self.messages.pop(int(mid), None)
        event: JSON = {"ids": ids, "channel_id": channel["id"]}
        if channel.get("guild_id"):
            event["guild_id"] = channel["guild_id"]
        await self._echo("MESSAGE_DELETE_BULK", event)
        return _Reply(204)

    async def _typing(self, record: RecordedRequest) -> _Reply:
        self._require_channel(record)
        return _Reply(204)

    # ---------------------------------------------------------------- REST: reactions

    def _reaction_user(self, record: RecordedRequest) -> int:
        user = record.params.get("user", "@me")
        if user == "@me":
            return self.bot_id
        return self._int_param(record, "user", UNKNOWN_USER)

    async def _add_reaction(self, record: RecordedRequest) -> _Reply:
        message = self._require_message(record)
        if record.params.get("user") != "@me":
            raise _HTTPError(METHOD_NOT_ALLOWED)
        emoji = _emoji_object(record.params["emoji"])
        if not emoji.get("name") and not emoji.get("id"):
            raise _HTTPError(UNKNOWN_EMOJI)
        key = _emoji_key(emoji)
        if not any(
            r.message_id == int(message["id"]) and r.emoji == key and r.user_id == self.bot_id
            for r in self.reactions
        ):
            self.reactions.append(
                ReactionRecord(int(message["channel_id"]), int(message["id"]), key, self.bot_id)
            )
            reactions = message.setdefault("reactions", [])
            entry = next((r for r in reactions if _emoji_key(r["emoji"]) == key), None)
            if entry is None:
                entry = {
                    "count": 0,
                    "count_details": {"burst": 0, "normal": 0},
                    "me": False,
                    "me_burst": False,
                    "burst_colors": [],
                    "emoji": emoji,
                }
                reactions.append(entry)
            entry["count"] += 1
            entry["count_details"]["normal"] += 1
            entry["me"] = True
            guild_id = self._guild_id_of_channel(message["channel_id"])
            bot_member = self.member(guild_id, self.bot_id) if guild_id is not None else None
            await self._echo(
                "MESSAGE_REACTION_ADD",
                reaction_payload(
                    self.bot_id,
                    message["channel_id"],
                    message["id"],
                    emoji,
                    guild_id=guild_id,
                    member=bot_member,
                    message_author_id=message["author"]["id"],
                ),
            )
        return _Reply(204)

    async def _remove_reaction(self, record: RecordedRequest) -> _Reply:
        message = self._require_message(record)
        key = _emoji_key(_emoji_object(record.params["emoji"]))
        user_id = self._reaction_user(record)
        before = len(self.reactions)
        self.reactions = [
            r
            for r in self.reactions
            if not (r.message_id == int(message["id"]) and r.emoji == key and r.user_id == user_id)
        ]
        if len(self.reactions) != before:
            for entry in message.get("reactions", []):
                if _emoji_key(entry["emoji"]) == key:
                    entry["count"] -= 1
                    entry["count_details"]["normal"] = max(0, entry["count_details"]["normal"] - 1)
                    entry["me"] = entry["me"] and user_id != self.bot_id
            message["reactions"] = [r for r in message.get("reactions", []) if r["count"] > 0]
        return _Reply(204)

    async def _list_reactions(self, record: RecordedRequest) -> _Reply:
        message = self._require_message(record)
        key = _emoji_key(_emoji_object(record.params["emoji"]))
        users = [
            _copy(self.users[r.user_id])
            for r in self.reactions
            if r.message_id == int(message["id"]) and r.emoji == key and r.user_id in self.users
        ]
        return _Reply(200, users)

    async def _clear_reactions(self, record: RecordedRequest) -> _Reply:
        message = self._require_message(record)
        emoji = record.params.get("emoji")
        key = _emoji_key(_emoji_object(emoji)) if emoji else None
        self.reactions = [
            r
            for r in self.reactions
            if not (r.message_id == int(message["id"]) and (key is None or r.emoji == key))
        ]
        message["reactions"] = [
            r
            for r in message.get("reactions", [])
            if key is not None and _emoji_key(r["emoji"]) != key
        ]
        return _Reply(204)

    # ---------------------------------------------------------------- REST: channels & threads

    async def _get_channel(self, record: RecordedRequest) -> _Reply:
        return _Reply(200, _copy(self._require_channel(record)))

    async def _edit_channel(self, record: RecordedRequest) -> _Reply:
        channel = self._require_channel(record)
        body = self._body(record)
        if "name" in body and not 1 <= len(str(body["name"] or "")) <= 100:
            raise _form_error(
                ("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        metadata_keys = ("archived", "locked", "auto_archive_duration", "invitable")
        for key, value in body.items():
            if channel["type"] in THREAD_TYPES and key in metadata_keys:
                channel["thread_metadata"][key] = value
                if key == "archived":
                    channel["thread_metadata"]["archive_timestamp"] = iso_timestamp()
            elif key == "applied_tags":
                channel[key] = [str(t) for t in value or []]
            else:
                channel[key] = _copy(value)
        event = "THREAD_UPDATE" if channel["type"] in THREAD_TYPES else "CHANNEL_UPDATE"
        await self._echo(event, channel)
        return _Reply(200, _copy(channel))

    async def _delete_channel(self, record: RecordedRequest) -> _Reply:
        channel = self._require_channel(record)
        event = "THREAD_DELETE" if channel["type"] in THREAD_TYPES else "CHANNEL_DELETE"
        self._apply_event_to_state(event, channel)
        await self._echo(event, channel)
        return _Reply(200, _copy(channel))

    def _new_thread(
        self, parent: JSON, body: JSON, *, thread_id: int | None = None, default_type: int
    ) -> JSON:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _form_error(
                ("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        kind = int(body.get("type") or default_type)
        if kind not in THREAD_TYPES:
            raise _form_error(("type",), "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
        thread = thread_payload(
            thread_id,
            name,
            parent_id=parent["id"],
            guild_id=parent.get("guild_id"),
            owner_id=self.bot_id,
            type=kind,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
            applied_tags=[int(t) for t in body.get("applied_tags") or []],
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
        )
        thread["member"] = {
            "id": thread["id"],
            "user_id": str(self.bot_id),
            "join_timestamp": iso_timestamp(),
            "flags": 0,
        }
        return thread

    async def _create_thread(self, record: RecordedRequest) -> _Reply:
        parent = self._require_channel(record)
        body = self._body(record)
        if parent["type"] in _FORUM_TYPES:
            starter = body.get("message")
            if not isinstance(starter, dict):
                raise _form_error(("message",), "BASE_TYPE_REQUIRED", "This field is required")
            thread = self._new_thread(parent, body, default_type=ChannelType.PUBLIC_THREAD)
            stored = self.add_channel({k: v for k, v in thread.items() if k != "member"})
            message = self._create_message(
                int(thread["id"]), starter, record.files, extra={"message_id": thread["id"]}
            )
            stored["message_count"] = thread["message_count"] = 1
            stored["last_message_id"] = thread["last_message_id"] = message["id"]
            await self._echo("THREAD_CREATE", {**stored, "newly_created": True})
            return _Reply(201, {**thread, "message": _copy(message)})
        if parent["type"] not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            raise _HTTPError(CANNOT_SEND_IN_NON_TEXT_CHANNEL)
        thread = self._new_thread(parent, body, default_type=ChannelType.PRIVATE_THREAD)
        stored = self.add_channel({k: v for k, v in thread.items() if k != "member"})
        await self._echo("THREAD_CREATE", {**stored, "newly_created": True})
        return _Reply(201, thread)

    async def _thread_from_message(self, record: RecordedRequest) -> _Reply:
        message = self._require_message(record)
        parent = self._require_channel(record)
        if message.get("thread") is not None or int(message["id"]) in self.channels:
            raise _HTTPError(THREAD_ALREADY_CREATED)
        kind = (
            ChannelType.ANNOUNCEMENT_THREAD
            if parent["type"] == ChannelType.GUILD_ANNOUNCEMENT
            else ChannelType.PUBLIC_THREAD
        )
        body = {**self._body(record), "type": kind}
        thread = self._new_thread(parent, body, thread_id=int(message["id"]), default_type=kind)
        stored = self.add_channel({k: v for k, v in thread.items() if k != "member"})
        message["thread"] = _copy(stored)
        message["flags"] = int(message.get("flags", 0)) | MessageFlag.HAS_THREAD
        await self._echo("THREAD_CREATE", {**stored, "newly_created": True})
        return _Reply(201, thread)

    # ---------------------------------------------------------------- REST: interactions

    def _interaction_by_token(
        self, record: RecordedRequest, error: DiscordError
    ) -> _InteractionState:
        state = self._interactions_by_token.get(record.params.get("token", ""))
        if state is None:
            raise _HTTPError(error)
        return state

    def _interaction_extra(self, state: _InteractionState) -> JSON:
        payload = state.payload
        data = payload.get("data") or {}
        user = (payload.get("member") or {}).get("user") or payload.get("user")
        metadata: JSON = {
            "id": str(state.id),
            "type": payload["type"],
            "user": _copy(user),
            "authorizing_integration_owners": _copy(
                payload.get("authorizing_integration_owners", {})
            ),
        }
        kind: int = MessageType.DEFAULT
        if payload["type"] == InteractionType.APPLICATION_COMMAND:
            metadata["name"] = data.get("name")
            kind = (
                MessageType.CHAT_INPUT_COMMAND
                if data.get("type", 1) == 1
                else MessageType.CONTEXT_MENU_COMMAND
            )
        elif payload["type"] == InteractionType.MESSAGE_COMPONENT and payload.get("message"):
            metadata["interacted_message_id"] = payload["message"]["id"]
        return {
            "type": kind,
            "webhook_id": self.application_id,
            "application_id": self.application_id,
            "interaction_metadata": metadata,
        }

    def _interaction_message(
        self, state: _InteractionState, body: JSON, files: Sequence[RecordedFile]
    ) -> JSON:
        guild_id = state.payload.get("guild_id")
        if guild_id is not None and state.channel_id and state.channel_id not in self.channels:
            self.add_channel({**state.payload.get("channel", {}), "guild_id": guild_id})
        return self._create_message(
            state.channel_id,
            body,
            files,
            check_channel=False,
            extra=self._interaction_extra(state),
        )

    async def _interaction_callback(self, record: RecordedRequest) -> _Reply:
        state = self._interaction_by_token(record, UNKNOWN_INTERACTION)
        if state.id != self._int_param(record, "interaction_id", UNKNOWN_INTERACTION):
            raise _HTTPError(UNKNOWN_INTERACTION)
        if state.responded:
            raise _HTTPError(INTERACTION_ALREADY_ACKNOWLEDGED)
        body = self._body(record)
        kind = body.get("type")
        if kind not in {int(t) for t in InteractionCallbackType}:
            raise _form_error(
                ("type",),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}.",
            )
        data = body.get("data") or {}
        message: JSON | None = None
        if kind == InteractionCallbackType.CHANNEL_MESSAGE_WITH_SOURCE:
            message = self._interaction_message(state, data, record.files)
        elif kind == InteractionCallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            flags = (int(data.get("flags") or 0) & MessageFlag.EPHEMERAL) | MessageFlag.LOADING
            message = self._interaction_message(
                state, {"content": "", "flags": flags, "components": [{}]}, []
            )
            message["components"] = []
        elif kind in (
            InteractionCallbackType.DEFERRED_UPDATE_MESSAGE,
            InteractionCallbackType.UPDATE_MESSAGE,
        ):
            original = state.payload.get("message")
            message = self.messages.get(int(original["id"])) if original else None
            if kind == InteractionCallbackType.UPDATE_MESSAGE and message is not None:
                self._edit_message(message, data, record.files)
                await self._echo("MESSAGE_UPDATE", self._with_gateway_fields(message))
        elif kind == InteractionCallbackType.MODAL and (
            not data.get("custom_id") or not data.get("title")
        ):
            raise _form_error(
                ("data", "custom_id"), "BASE_TYPE_REQUIRED", "This field is required"
            )
        state.responded = True
        state.callback_type = kind
        if message is not None and kind in (4, 5):
            state.original_message_id = int(message["id"])
            if not int(message["flags"]) & MessageFlag.EPHEMERAL:
                await self._echo("MESSAGE_CREATE", self._with_gateway_fields(message))
        with_response = record.query.get("with_response", "").lower() in ("1", "true")
        self.interaction_callbacks.append(
            InteractionCallback(
                state.id,
                state.payload["token"],
                int(kind),
                _copy(data),
                record.files,
                with_response,
            )
        )
        if not with_response:
            return _Reply(204)
        interaction: JSON = {
            "id": str(state.id),
            "type": state.payload["type"],
            "activity_instance_id": None,
            "response_message_id": message["id"] if message else None,
            "response_message_loading": kind
            == InteractionCallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            "response_message_ephemeral": bool(
                message and int(message["flags"]) & MessageFlag.EPHEMERAL
            ),
        }
        resource: JSON = {"type": kind}
        if message is not None:
            resource["message"] = _copy(message)
        return _Reply(200, {"interaction": interaction, "resource": resource})

    def _webhook_state(self, record: RecordedRequest) -> _InteractionState:
        if self._int_param(record, "application_id", UNKNOWN_WEBHOOK) != self.application_id:
            raise _HTTPError(UNKNOWN_WEBHOOK)
        state = self._interaction_by_token(record, UNKNOWN_WEBHOOK)
        if not state.responded:
            raise _HTTPError(UNKNOWN_WEBHOOK)
        return state

    def _webhook_message(self, record: RecordedRequest, state: _InteractionState) -> JSON:
        raw = record.params.get("message_id")
        if raw == "@original":
            message_id = state.original_message_id
        else:
            message_id = self._int_param(record, "message_id", UNKNOWN_MESSAGE)
            if message_id not in state.followup_ids and message_id != state.original_message_id:
                message_id = None
        message = self.messages.get(message_id) if message_id is not None else None
        if message is None:
            raise _HTTPError(UNKNOWN_MESSAGE)
        return message

    async def _followup(self, record: RecordedRequest) -> _Reply:
        state = self._webhook_state(record)
        message = self._interaction_message(state, self._body(record), record.files)
        state.followup_ids.append(int(message["id"]))
        if not int(message["flags"]) & MessageFlag.EPHEMERAL:
            await self._echo("MESSAGE_CREATE", self._with_gateway_fields(message))
        if record.query.get("wait", "").lower() in ("1", "true"):
            return _Reply(200, _copy(message))
        return _Reply(204)

    async def _get_webhook_message(self, record: RecordedRequest) -> _Reply:
        return _Reply(200, _copy(self._webhook_message(record, self._webhook_state(record))))

    async def _edit_webhook_message(self, record: RecordedRequest) -> _Reply:
        message = self._webhook_message(record, self._webhook_state(record))
        self._edit_message(message, self._body(record), record.files)
        self.bot_messages.append(_copy(message))
        if not int(message["flags"]) & MessageFlag.EPHEMERAL:
            await self._echo("MESSAGE_UPDATE", self._with_gateway_fields(message))
        return _Reply(200, _copy(message))

    async def _delete_webhook_message(self, record: RecordedRequest) -> _Reply:
        message = self._webhook_message(record, self._webhook_state(record))
        del self.messages[int(message["id"])]
        return _Reply(204)

    # ---------------------------------------------------------------- REST: guilds, roles, members

    async def _get_guild(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        data = guild.rest_payload()
        if record.query.get("with_counts", "").lower() in ("1", "true"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return _Reply(200, data)

    async def _list_guild_channels(self, record: RecordedRequest) -> _Reply:
        return _Reply(200, [_copy(c) for c in self._require_guild(record).channels.values()])

    async def _list_roles(self, record: RecordedRequest) -> _Reply:
        return _Reply(200, [_copy(r) for r in self._require_guild(record).roles.values()])

    def _check_manage_roles(self, guild: GuildState, role_id: int | None = None) -> None:
        if not self.enforce_permissions or self.bot_id == guild.owner_id:
            return
        if not self.compute_permissions(guild.id, self.bot_id) & Permission.MANAGE_ROLES:
            raise _HTTPError(MISSING_PERMISSIONS)
        if role_id is not None and guild.roles[role_id]["position"] >= guild.top_role_position(
            self.bot_id
        ):
            raise _HTTPError(MISSING_PERMISSIONS)

    def _check_moderate(self, guild: GuildState, user_id: int, permission: Permission) -> None:
        if not self.enforce_permissions:
            return
        if user_id == guild.owner_id:
            raise _HTTPError(MISSING_PERMISSIONS)
        if self.bot_id == guild.owner_id:
            return
        if not self.compute_permissions(guild.id, self.bot_id) & permission:
            raise _HTTPError(MISSING_PERMISSIONS)
        if guild.top_role_position(user_id) >= guild.top_role_position(self.bot_id):
            raise _HTTPError(MISSING_PERMISSIONS)

    async def _create_role(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        self._check_manage_roles(guild)
        body = self._body(record)
        role = role_payload(
            None,
            str(body.get("name") or "new role"),
            position=1,
            permissions=int(body.get("permissions") or guild.roles[guild.id]["permissions"]),
            color=int(body.get("color") or 0),
            hoist=bool(body.get("hoist")),
            mentionable=bool(body.get("mentionable")),
        )
        for other in guild.roles.values():
            if other["position"] >= 1 and int(other["id"]) != guild.id:
                other["position"] += 1
        guild.roles[int(role["id"])] = role
        await self._echo("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role})
        return _Reply(200, _copy(role))

    def _require_role(self, guild: GuildState, record: RecordedRequest) -> int:
        role_id = self._int_param(record, "role_id", UNKNOWN_ROLE)
        if role_id not in guild.roles:
            raise _HTTPError(UNKNOWN_ROLE)
        return role_id

    async def _edit_role(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        role_id = self._require_role(guild, record)
        self._check_manage_roles(guild, role_id)
        role = guild.roles[role_id]
        for key, value in self._body(record).items():
            role[key] = str(int(value)) if key == "permissions" else _copy(value)
        await self._echo("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role})
        return _Reply(200, _copy(role))

    async def _delete_role(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        role_id = self._require_role(guild, record)
        self._check_manage_roles(guild, role_id)
        del guild.roles[role_id]
        for member in guild.members.values():
            member["roles"] = [r for r in member["roles"] if int(r) != role_id]
        await self._echo("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role_id)})
        return _Reply(204)

    async def _list_members(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        limit = max(1, min(1000, int(record.query.get("limit") or 1)))
        after = int(record.query.get("after") or 0)
        members = sorted(
            (m for uid, m in guild.members.items() if uid > after),
            key=lambda m: int(m["user"]["id"]),
        )
        return _Reply(200, _copy(members[:limit]))

    def _require_member(self, guild: GuildState, record: RecordedRequest) -> JSON:
        member = guild.members.get(self._int_param(record, "user_id", UNKNOWN_MEMBER))
        if member is None:
            raise _HTTPError(UNKNOWN_MEMBER)
        return member

    async def _get_member(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        return _Reply(200, _copy(self._require_member(guild, record)))

    async def _member_updated(self, guild: GuildState, member: JSON) -> None:
        await self._echo("GUILD_MEMBER_UPDATE", {**_copy(member), "guild_id": str(guild.id)})

    async def _edit_member(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        member = self._require_member(guild, record)
        body = self._body(record)
        if "roles" in body:
            new_roles = {int(r) for r in body["roles"] or []}
            for role_id in new_roles ^ {int(r) for r in member["roles"]}:
                if role_id not in guild.roles:
                    raise _HTTPError(UNKNOWN_ROLE)
                self._check_manage_roles(guild, role_id)
            member["roles"] = [str(r) for r in sorted(new_roles)]
        if "communication_disabled_until" in body:
            self._check_moderate(guild, int(member["user"]["id"]), Permission.MODERATE_MEMBERS)
        for key in ("nick", "mute", "deaf", "communication_disabled_until", "flags"):
            if key in body:
                member[key] = body[key]
        await self._member_updated(guild, member)
        return _Reply(200, _copy(member))

    async def _add_member_role(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        member = self._require_member(guild, record)
        role_id = self._require_role(guild, record)
        self._check_manage_roles(guild, role_id)
        if str(role_id) not in member["roles"]:
            member["roles"].append(str(role_id))
            await self._member_updated(guild, member)
        return _Reply(204)

    async def _remove_member_role(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        member = self._require_member(guild, record)
        role_id = self._require_role(guild, record)
        self._check_manage_roles(guild, role_id)
        if str(role_id) in member["roles"]:
            member["roles"].remove(str(role_id))
            await self._member_updated(guild, member)
        return _Reply(204)

    async def _kick_member(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        member = self._require_member(guild, record)
        user_id = int(member["user"]["id"])
        self._check_moderate(guild, user_id, Permission.KICK_MEMBERS)
        del guild.members[user_id]
        await self._echo(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": _copy(member["user"])}
        )
        return _Reply(204)

    async def _ban_member(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        user_id = self._int_param(record, "user_id", UNKNOWN_USER)
        if user_id not in self.users:
            raise _HTTPError(UNKNOWN_USER)
        self._check_moderate(guild, user_id, Permission.BAN_MEMBERS)
        guild.bans[user_id] = {
            "reason": record.header("X-Audit-Log-Reason"),
            "user": _copy(self.users[user_id]),
        }
        if guild.members.pop(user_id, None) is not None:
            await self._echo(
                "GUILD_MEMBER_REMOVE",
                {"guild_id": str(guild.id), "user": _copy(self.users[user_id])},
            )
        return _Reply(204)

    async def _unban_member(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        if guild.bans.pop(self._int_param(record, "user_id", UNKNOWN_BAN), None) is None:
            raise _HTTPError(UNKNOWN_BAN)
        return _Reply(204)

    # ---------------------------------------------------------------- REST: scheduled events

    def _require_event(self, guild: GuildState, record: RecordedRequest) -> JSON:
        event = guild.scheduled_events.get(
            self._int_param(record, "event_id", UNKNOWN_GUILD_SCHEDULED_EVENT)
        )
        if event is None:
            raise _HTTPError(UNKNOWN_GUILD_SCHEDULED_EVENT)
        return event

    @staticmethod
    def _parse_time(value: object, path: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise _form_error(
                (path,), "DATE_TIME_TYPE_PARSE", "Could not parse date time."
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def _validate_event(self, guild: GuildState, event: JSON, *, creating: bool) -> None:
        name = event.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _form_error(
                ("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if event.get("privacy_level") != 2:
            raise _form_error(("privacy_level",), "BASE_TYPE_CHOICES", "Value must be one of {2}.")
        if event.get("entity_type") not in (1, 2, 3):
            raise _form_error(
                ("entity_type",), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}."
            )
        if "scheduled_start_time" not in event or event["scheduled_start_time"] is None:
            raise _form_error(
                ("scheduled_start_time",), "BASE_TYPE_REQUIRED", "This field is required"
            )
        start = self._parse_time(event["scheduled_start_time"], "scheduled_start_time")
        if creating and start < datetime.now(UTC) - timedelta(seconds=5):
            raise _form_error(
                ("scheduled_start_time",),
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            )
        end = event.get("scheduled_end_time")
        if end is not None and self._parse_time(end, "scheduled_end_time") <= start:
            raise _form_error(
                ("scheduled_end_time",),
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                "Cannot schedule event to end before starting.",
            )
        if event["entity_type"] == 3:
            location = (event.get("entity_metadata") or {}).get("location")
            if not location:
                raise _form_error(
                    ("entity_metadata", "location"), "BASE_TYPE_REQUIRED", "This field is required"
                )
            if end is None:
                raise _form_error(
                    ("scheduled_end_time",), "BASE_TYPE_REQUIRED", "This field is required"
                )
        else:
            channel_id = event.get("channel_id")
            if channel_id is None or int(channel_id) not in guild.channels:
                raise _form_error(("channel_id",), "BASE_TYPE_REQUIRED", "This field is required")

    async def _list_events(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        return _Reply(200, [_copy(e) for e in guild.scheduled_events.values()])

    async def _create_event(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        body = self._body(record)
        self._validate_event(guild, body, creating=True)
        event: JSON = {
            "id": str(new_snowflake()),
            "guild_id": str(guild.id),
            "channel_id": _opt_sid(body.get("channel_id")) if body["entity_type"] != 3 else None,
            "creator_id": str(self.bot_id),
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": 2,
            "status": 1,
            "entity_type": body["entity_type"],
            "entity_id": None,
            "entity_metadata": _copy(body.get("entity_metadata")),
            "creator": _copy(self.bot_user),
            "user_count": 0,
            "image": None,
            "recurrence_rule": _copy(body.get("recurrence_rule")),
        }
        guild.scheduled_events[int(event["id"])] = event
        await self._echo("GUILD_SCHEDULED_EVENT_CREATE", event)
        return _Reply(200, _copy(event))

    async def _get_event(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        return _Reply(200, _copy(self._require_event(guild, record)))

    async def _edit_event(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        event = self._require_event(guild, record)
        merged = {**event, **_copy(self._body(record))}
        self._validate_event(guild, merged, creating=False)
        if merged["entity_type"] == 3:
            merged["channel_id"] = None
        event.update(merged)
        await self._echo("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return _Reply(200, _copy(event))

    async def _delete_event(self, record: RecordedRequest) -> _Reply:
        guild = self._require_guild(record)
        event = self._require_event(guild, record)
        del guild.scheduled_events[int(event["id"])]
        await self._echo("GUILD_SCHEDULED_EVENT_DELETE", event)
        return _Reply(204)
