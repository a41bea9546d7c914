"""A fake Telegram Bot API server for end-to-end tests.

:class:`FakeTelegram` runs an :mod:`aiohttp` server on ``127.0.0.1`` (ephemeral port) that
speaks enough of the `Telegram Bot API <https://core.telegram.org/bots/api>`_ for the *real*
``python-telegram-bot`` (PTB) ``Application`` to be driven end to end through its real httpx
transport::

    async with FakeTelegram(token="123:ABC", bot_username="majlis_bot") as fake:
        app = fake.application_builder().build()      # or ApplicationBuilder().token(...)
        app.add_handler(CommandHandler("ping", on_ping))  #   .base_url(fake.base_url)...
        async with ptb_polling(app, allowed_updates=Update.ALL_TYPES):
            grp, alice = group(-1001, "Majlis"), user(42, "Alice")
            fake.push(fake.message_update(grp, alice, "/ping@majlis_bot"))
            call = await fake.wait_for_call("sendMessage")
            assert call.params["text"] == "pong"

What the fake does
------------------
* Every request to ``{base_url}{token}/{method}`` (GET or POST; JSON, url-encoded or multipart
  bodies) is recorded in :attr:`FakeTelegram.calls` as a :class:`RecordedCall`, *including*
  failed calls and unknown methods (which answer ``404 Not Found: method not found``).
* Updates are built with the ``*_update`` builder methods (documented payloads with increasing
  ``update_id``), queued with :meth:`FakeTelegram.push` and served by ``getUpdates`` with real
  long-polling and ``offset`` acknowledgement semantics. :meth:`FakeTelegram.redeliver`
  re-sends an already delivered update (Telegram's at-least-once delivery).
* Side effects of pushed updates are applied at push time, like Telegram would: messages are
  stored (so replies, edits and deletions work), a user who writes to the bot in private is
  *started*, ``chat_member``/``my_chat_member``/``new_chat_members``/``left_chat_member`` update
  the membership table, ``migrate_to_chat_id`` marks the old group as migrated, poll answers
  update vote counts, callback queries become answerable.
* Telegram's documented error shapes are produced for the common failure modes (403 for users
  who never started the bot, 429 with ``parameters.retry_after``, 400 with
  ``parameters.migrate_to_chat_id`` for a migrated group, "message is not modified", ...) and
  arbitrary failures can be injected with :meth:`FakeTelegram.fail_next` (429 with
  ``retry_after``, 500, 502, ...).
* Real-world faults: :meth:`FakeTelegram.drop_next` closes the connection without an answer
  (before or after the method took effect, like a response lost on the way back), and a
  ``callback_query`` answered too late (see ``callback_answer_timeout`` and
  :meth:`FakeTelegram.expire_callback`) or a second time answers ``400 Bad Request: query is
  too old and response timeout expired or query ID is invalid``.

Only the error descriptions that Telegram is known to return verbatim are used verbatim; a few
validation messages for rarely hit cases are approximations (noted where they are produced).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import json
import logging
import re
import struct
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from telegram.ext import Application, ApplicationBuilder

__all__ = [
    "CHANNEL_BOT_ID",
    "DEFAULT_ALLOWED_UPDATES",
    "GROUP_ANONYMOUS_BOT",
    "GROUP_ANONYMOUS_BOT_ID",
    "ApiError",
    "FakeTelegram",
    "FilePart",
    "JSONDict",
    "MethodHandler",
    "RecordedCall",
    "chat_member",
    "group",
    "post_webhook_update",
    "private_chat",
    "ptb_polling",
    "user",
    "utf16_len",
]

_LOGGER = logging.getLogger(__name__)

JSONDict = dict[str, Any]
"""A decoded JSON object (Bot API payloads are plain dicts here)."""

MethodHandler = Callable[[JSONDict], Awaitable[Any]]
"""Signature of a method implementation: takes the decoded parameters, returns the ``result``.

Raise :class:`ApiError` to answer with an error instead.
"""

GROUP_ANONYMOUS_BOT_ID: Final = 1087968824
"""``from.id`` of messages sent by anonymous group administrators (``@GroupAnonymousBot``)."""

GROUP_ANONYMOUS_BOT: Final[JSONDict] = {
    "id": GROUP_ANONYMOUS_BOT_ID,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
"""The ``User`` Telegram puts in ``from`` for messages of anonymous group administrators."""

CHANNEL_BOT_ID: Final = 136817688
"""``from.id`` of messages sent on behalf of a channel (``@Channel_Bot``)."""

ALL_UPDATE_TYPES: Final = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)

DEFAULT_ALLOWED_UPDATES: Final = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
"""Update types Telegram delivers when ``allowed_updates`` was never set (or set to ``[]``)."""

_MEMBER_STATUSES: Final = frozenset(
    {"creator", "administrator", "member", "restricted", "left", "kicked"}
)
_STATUS_ALIASES: Final = {"owner": "creator", "banned": "kicked", "admin": "administrator"}

# Parameters whose form-encoded value is a plain string (everything else is JSON-decoded, which
# is how PTB encodes non-string values: ``json.dumps`` for ints, bools, lists and objects).
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "question",
        "explanation",
        "title",
        "description",
        "short_description",
        "custom_title",
        "name",
        "callback_query_id",
        "inline_message_id",
        "url",
        "parse_mode",
        "question_parse_mode",
        "explanation_parse_mode",
        "language_code",
        "emoji",
        "secret_token",
        "ip_address",
        "action",
        "business_connection_id",
        "message_effect_id",
        "invite_link",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "sticker",
        "thumbnail",
        "certificate",
    }
)

_COMMAND_RE: Final = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}")
_BOT_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")

_ADMIN_RIGHTS: Final = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_post_messages",
    "can_edit_messages",
    "can_pin_messages",
    "can_manage_topics",
    "can_manage_direct_messages",
    "can_manage_tags",
)
_RESTRICTED_PERMISSIONS: Final = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)


# --------------------------------------------------------------------------------------------
# Errors, recorded calls
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``.

    Raise it from a :data:`MethodHandler` registered with :meth:`FakeTelegram.register`; the
    HTTP status of the response equals ``error_code`` (PTB maps the HTTP status to its
    exception classes: 400 ``BadRequest``, 403 ``Forbidden``, 401/404 ``InvalidToken``,
    409 ``Conflict``; a ``parameters.retry_after`` gives ``RetryAfter`` and
    ``parameters.migrate_to_chat_id`` gives ``ChatMigrated`` whatever the status).
    """

    def __init__(
        self, error_code: int, description: str, parameters: JSONDict | None = None
    ) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """The JSON body Telegram would answer with."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class FilePart:
    """A file uploaded in a multipart request (stands in the call's ``params`` too)."""

    field: str
    """Name of the multipart field (``document``, ``photo``, or an ``attach://`` name)."""
    filename: str | None
    size: int
    content_type: str | None
    content: bytes = dataclasses.field(repr=False)


@dataclass
class RecordedCall:
    """One Bot API request received by the fake.

    Iterating yields ``(method, params)`` so ``for method, params in fake.calls`` works.
    """

    method: str
    """Canonical method name (``sendMessage``), or the name as sent for unknown methods."""
    params: JSONDict
    """Decoded parameters. Uploaded files appear as :class:`FilePart` under their field name."""
    files: list[FilePart]
    """The uploaded files of the request (also present in :attr:`params`)."""
    http_method: str = "POST"
    result: Any = None
    """The ``result`` the fake answered with (e.g. the sent ``Message`` dict)."""
    error: ApiError | None = None
    """The error the fake answered with, if any."""
    done: bool = False
    """Whether the answer has been produced (long-polling ``getUpdates`` is recorded early)."""
    dropped: bool = False
    """Whether the connection was closed instead of answering (see ``drop_next``)."""
    timestamp: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        """Whether the call took effect: answered ``"ok": true``, or dropped after running."""
        return self.done and self.error is None and (not self.dropped or self.result is not None)

    def __iter__(self) -> Iterator[Any]:
        yield self.method
        yield self.params


class _Signal:
    """A broadcast wake-up: ``fire()`` wakes every current ``wait()`` (no lost wake-ups for
    callers that check their condition before waiting, since all of this runs on one loop)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None = None) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


@dataclass
class _Failure:
    error: ApiError
    remaining: int


@dataclass
class _Drop:
    remaining: int
    after_processing: bool


@dataclass
class _Member:
    status: str
    user: JSONDict
    fields: JSONDict


# --------------------------------------------------------------------------------------------
# Chat / user / chat-member builders (pure functions)
# --------------------------------------------------------------------------------------------


def user(
    id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
    is_bot: bool = False,
    is_premium: bool | None = None,
) -> JSONDict:
    """Build a Bot API ``User`` dict (optional fields omitted when ``None``)."""
    data: JSONDict = {"id": id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        data["last_name"] = last_name
    if username is not None:
        data["username"] = username
    if language_code is not None:
        data["language_code"] = language_code
    if is_premium:
        data["is_premium"] = True
    return data


def group(
    id: int,
    title: str,
    type: str = "supergroup",
    is_forum: bool = False,
    *,
    username: str | None = None,
) -> JSONDict:
    """Build a Bot API ``Chat`` dict for a ``group``/``supergroup`` (or ``channel``).

    Supergroup ids look like ``-100xxxxxxxxxx`` in real life, basic groups are ``-xxxxxxxxx``;
    the fake does not enforce it.
    """
    data: JSONDict = {"id": id, "type": type, "title": title}
    if username is not None:
        data["username"] = username
    if is_forum:
        data["is_forum"] = True
    return data


def private_chat(of_user: Mapping[str, Any]) -> JSONDict:
    """The private ``Chat`` between the bot and *of_user* (its ``id`` is the user's id)."""
    data: JSONDict = {"id": of_user["id"], "type": "private", "first_name": of_user["first_name"]}
    for key in ("last_name", "username"):
        if key in of_user:
            data[key] = of_user[key]
    return data


def chat_member(member_user: Mapping[str, Any], status: str, **fields: Any) -> JSONDict:
    """Build a ``ChatMember`` dict of the right variant with every field PTB requires.

    *status* is one of ``creator``, ``administrator``, ``member``, ``restricted``, ``left``,
    ``kicked`` (aliases: ``owner``, ``admin``, ``banned``). Keyword arguments override or add
    fields, e.g. ``custom_title="Sheikh"``, ``can_promote_members=True``, ``until_date=0``.
    Administrator defaults: can manage chat, delete messages, video chats, restrict members,
    change info, invite users and pin messages; cannot promote members nor manage stories.
    """
    status = _STATUS_ALIASES.get(status, status)
    if status not in _MEMBER_STATUSES:
        raise ValueError(f"unknown chat member status {status!r}")
    data: JSONDict = {"status": status, "user": dict(member_user)}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
            can_manage_topics=False,
        )
    elif status == "restricted":
        data["is_member"] = True
        data.update(dict.fromkeys(_RESTRICTED_PERMISSIONS, False))
        data["until_date"] = 0
    elif status == "kicked":
        data["until_date"] = 0
    data.update(fields)
    return data


def utf16_len(text: str) -> int:
    """Length of *text* in UTF-16 code units (the unit of Bot API entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _auto_entities(text: str) -> list[JSONDict]:
    """``bot_command`` and ``mention`` entities as Telegram's client-side parser makes them."""
    found: list[tuple[int, int, str]] = []
    for match in _COMMAND_RE.finditer(text):
        found.append((match.start(), match.end(), "bot_command"))
    for match in _MENTION_RE.finditer(text):
        found.append((match.start(), match.end(), "mention"))
    found.sort()
    return [
        {
            "type": kind,
            "offset": utf16_len(text[:start]),
            "length": utf16_len(text[start:end]),
        }
        for start, end, kind in found
    ]


# --------------------------------------------------------------------------------------------
# parse_mode=HTML (Telegram strips the tags and answers with entities)
# --------------------------------------------------------------------------------------------

_HTML_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlEntityParser(HTMLParser):
    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=True)
        self.raw = raw
        self.parts: list[str] = []
        self.pos = 0
        self.stack: list[tuple[str, int, dict[str, str | None], JSONDict]] = []
        self.entities: list[JSONDict] = []
        self.error: str | None = None

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        lines = self.raw.split("\n")
        prefix = "\n".join(lines[: line - 1]) + ("\n" if line > 1 else "")
        return len((prefix + lines[line - 1][:col]).encode())

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = f"{message} at byte offset {self._byte_offset()}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS or (tag == "span" and ("class", "tg-spoiler") not in attrs):
            self._fail(f'Unsupported start tag "{tag}"')
            return
        self.stack.append((tag, self.pos, dict(attrs), {}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self._fail(f'Unmatched end tag "{tag}"')
            return
        name, start, attrs, extra = self.stack.pop()
        if name == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attrs.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][3]["language"] = language
            return
        length = self.pos - start
        if length == 0:
            return
        entity: JSONDict = {"type": _HTML_TAGS[name], "offset": start, "length": length}
        if name == "a":
            entity["url"] = attrs.get("href") or ""
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id") or ""
        elif name == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        entity.update(extra)
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.pos += utf16_len(data)


def _parse_html(raw: str) -> tuple[str, list[JSONDict]]:
    parser = _HtmlEntityParser(raw)
    parser.feed(raw)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"'
    if parser.error is not None:
        raise _bad_request(f"can't parse entities: {parser.error}")
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


# --------------------------------------------------------------------------------------------
# Request parameter decoding
# --------------------------------------------------------------------------------------------


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if not stripped:
        return value
    if stripped[0] in '{[-0123456789"' or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


async def _read_params(request: web.Request) -> tuple[JSONDict, list[FilePart]]:
    params: JSONDict = {}
    files: list[FilePart] = []
    for key, value in request.query.items():
        params[key] = _decode_form_value(key, value)
    if request.method != "POST" or not request.body_exists:
        return params, files
    content_type = request.content_type
    if content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params, files
    form = await request.post()
    for key, item in form.items():
        if isinstance(item, web.FileField):
            content = item.file.read()
            part = FilePart(
                field=key,
                filename=item.filename,
                size=len(content),
                content_type=item.content_type,
                content=content,
            )
            files.append(part)
            params[key] = part
        elif isinstance(item, str):
            params[key] = _decode_form_value(key, item)
        else:  # bytes (should not happen for PTB)
            params[key] = _decode_form_value(key, bytes(item).decode())
    return params, files


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise _bad_request(f"invalid {name} specified")


def _require(params: Mapping[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise _bad_request(f"{name} is empty" if name == "text" else f"{name} is required")
    return params[name]


def _png_size(content: bytes) -> tuple[int, int] | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return None


def _update_type(update: Mapping[str, Any]) -> str:
    for key in update:
        if key != "update_id":
            return key
    raise ValueError("an update needs a payload besides update_id")


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A loopback fake of the Telegram Bot API for the real PTB ``Application``.

    Use it as an async context manager; it listens on ``127.0.0.1`` on an ephemeral port.

    Args:
        token: The bot token; the bot's user id is the part before ``:``.
        bot_username: The bot's ``username`` (without ``@``), used by ``getMe`` and in
            ``/cmd@bot_username`` commands.
        bot_first_name: The bot's ``first_name``.
        require_start: When true (default), sending to a private chat fails with
            ``403 Forbidden: bot can't initiate conversation with a user`` unless the user has
            written to the bot in private first (see :meth:`start_update`,
            :meth:`allow_private`).
        enforce_allowed_updates: When true (default), ``getUpdates`` only delivers update types
            allowed by the last ``allowed_updates`` it received, defaulting like Telegram to
            everything except ``chat_member``, ``message_reaction`` and
            ``message_reaction_count``. Filtered updates are dropped (and logged, see
            :attr:`filtered_updates`).
        strict_chats: When true, methods addressed to a group the fake has never seen answer
            ``400 Bad Request: chat not found``; by default a plausible chat is synthesized.
        can_read_all_group_messages: Reported by ``getMe`` (privacy mode is not emulated).
        default_member_status: ``getChatMember`` status for pairs never configured.
        callback_answer_timeout: Seconds after it was pushed that a callback query can still
            be answered (Telegram's limit is undocumented, a few seconds); None: no limit.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "majlis_bot",
        *,
        bot_first_name: str = "Majlis",
        require_start: bool = True,
        enforce_allowed_updates: bool = True,
        strict_chats: bool = False,
        can_read_all_group_messages: bool = False,
        default_member_status: str = "member",
        callback_answer_timeout: float | None = None,
    ) -> None:
        bot_id_text, _, _ = token.partition(":")
        if not bot_id_text.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(bot_id_text)
        self.bot_username = bot_username
        self.require_start = require_start
        self.callback_answer_timeout = callback_answer_timeout
        self.enforce_allowed_updates = enforce_allowed_updates
        self.strict_chats = strict_chats
        self.default_member_status = _STATUS_ALIASES.get(
            default_member_status, default_member_status
        )
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        """The bot's ``User`` dict (as put in ``from`` of the messages it sends)."""
        self.me: JSONDict = {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        """The ``User`` returned by ``getMe`` (mutable before the app initializes)."""

        self.calls: list[RecordedCall] = []
        """Every request received, in arrival order."""
        self.commands: dict[tuple[tuple[Any, ...], str], list[JSONDict]] = {}
        """``setMyCommands`` storage keyed by ``(scope key, language_code)``; see
        :meth:`get_commands`."""
        self.webhook: JSONDict = {}
        """Parameters of the last ``setWebhook`` (empty when no webhook is set)."""
        self.allowed_updates: list[str] | None = None
        """Last ``allowed_updates`` received by ``getUpdates``/``setWebhook`` (None: never)."""
        self.filtered_updates: list[JSONDict] = []
        """Updates dropped because their type was not in ``allowed_updates``."""
        self.invite_links: list[JSONDict] = []
        """``ChatInviteLink`` dicts created by ``createChatInviteLink``."""
        self.started_users: set[int] = set()
        """Users who wrote to the bot in private (the bot may message them)."""
        self.blocked_users: set[int] = set()
        """Users who blocked the bot (403 ``bot was blocked by the user``)."""
        self.migrations: dict[int, int] = {}
        """Basic group id -> supergroup id for groups migrated by :meth:`migrate_update`."""
        self.chats: dict[int, JSONDict] = {}
        """Known chats by id (registered by pushed updates and :meth:`add_chat`)."""
        self.users: dict[int, JSONDict] = {self.bot_id: dict(self.bot_user)}
        """Known users by id (registered by pushed updates)."""
        self.messages: dict[tuple[int, int], JSONDict] = {}
        """Known messages by ``(chat_id, message_id)``: pushed ones and ones the bot sent."""
        self.polls: dict[str, JSONDict] = {}
        """Polls sent by the bot by poll id (``Poll`` dicts, vote counts kept up to date)."""
        self.files: dict[str, FilePart] = {}
        """Uploaded files by ``file_id`` (downloadable via ``getFile`` and ``base_file_url``)."""
        self.pinned: dict[int, list[int]] = {}
        """Pinned message ids by chat, oldest first (``pinChatMessage``/``unpinChatMessage``);
        the last one is the chat's ``pinned_message`` in ``getChat``."""

        self._handlers: dict[str, tuple[str, MethodHandler]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._members: dict[tuple[int, int], _Member] = {}
        self._poll_voters: dict[str, dict[int, list[int]]] = {}
        self._poll_locations: dict[str, tuple[int, int]] = {}
        self._callback_ids: set[str] = set()
        self._answered_callbacks: set[str] = set()
        self._callback_pushed: dict[str, float] = {}
        self._expired_callbacks: set[str] = set()
        self._drops: dict[str, deque[_Drop]] = {}
        self._stalls: dict[str, deque[list[float]]] = {}
        self._topics: dict[tuple[int, int], JSONDict] = {}
        self._history: dict[int, JSONDict] = {}
        self._pending: list[JSONDict] = []
        self._redeliveries: deque[JSONDict] = deque()
        self._last_message_id: dict[int, int] = {}
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._updates_signal = _Signal()
        self._calls_signal = _Signal()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._register_builtin_methods()

    # ---------------------------------------------------------------- lifecycle / addresses

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start listening on ``127.0.0.1`` (ephemeral port)."""
        if self._runner is not None:
            return
        await self._listen(0)
        self._closing = False

    async def _listen(self, port: int) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def close(self) -> None:
        """Release pending long polls and stop the server."""
        self._closing = True
        self._updates_signal.fire()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The TCP port the fake listens on."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: ``http://127.0.0.1:<port>/bot`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``: ``http://127.0.0.1:<port>/file/bot``."""
        return f"{self.url}/file/bot"

    @property
    def api_url(self) -> str:
        """``{base_url}{token}``: POST ``{api_url}/{method}`` to call a method directly."""
        return f"{self.base_url}{self.token}"

    def application_builder(self) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """A PTB ``ApplicationBuilder`` with token, ``base_url`` and ``base_file_url`` set."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    # ------------------------------------------------------------------------- recorded calls

    def calls_of(
        self, method: str, predicate: Callable[[RecordedCall], bool] | None = None
    ) -> list[RecordedCall]:
        """Recorded calls of *method* (case-insensitive), optionally filtered by *predicate*."""
        wanted = method.lower()
        return [
            call
            for call in self.calls
            if call.method.lower() == wanted and (predicate is None or predicate(call))
        ]

    def count(self, method: str) -> int:
        """How many times *method* was called (e.g. to check ``getChatMember`` caching)."""
        return len(self.calls_of(method))

    def clear_calls(self) -> None:
        """Forget the recorded calls (does not touch any other state)."""
        self.calls.clear()

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 5.0,
        *,
        after: int = 0,
        completed: bool = True,
    ) -> RecordedCall:
        """Wait until a call of *method* matching *predicate* is recorded.

        Already recorded calls count, starting at index *after* of :attr:`calls` (take
        ``n = len(fake.calls)`` before acting and pass ``after=n`` to only see newer calls).
        By default the call is returned once answered, so ``call.result``/``call.error`` are
        set; pass ``completed=False`` to match on arrival instead (useful for ``getUpdates``:
        ``wait_for_call("getUpdates", lambda c: c.params.get("offset") == n,
        completed=False)`` returns as soon as PTB acknowledged update ``n - 1``, without
        waiting for that long poll to end).

        Raises:
            TimeoutError: if no such call completes within *timeout* seconds.
        """
        wanted = method.lower()

        def find() -> RecordedCall | None:
            for call in self.calls[after:]:
                if (
                    (call.done or not completed)
                    and call.method.lower() == wanted
                    and (predicate is None or predicate(call))
                ):
                    return call
            return None

        async def wait() -> RecordedCall:
            while (found := find()) is None:
                await self._calls_signal.wait()
            return found

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            seen = [c.method for c in self.calls[after:]]
            raise TimeoutError(f"no {method} call within {timeout}s; calls seen: {seen}") from None

    # ------------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = 1,
        times: int = 1,
        *,
        parameters: JSONDict | None = None,
    ) -> None:
        """Make the next *times* calls of *method* fail with Telegram's error shape.

        For ``error_code=429`` the body carries ``parameters.retry_after`` (PTB raises
        ``telegram.error.RetryAfter``) and, by default, Telegram's description "Too Many
        Requests: retry after N"; 500 and 502 answer "Internal Server Error" and "Bad
        Gateway" (PTB raises ``NetworkError``); other codes only carry *parameters* if given, e.g.
        ``fail_next("sendMessage", 400, "Bad Request: chat not found")`` or
        ``parameters={"migrate_to_chat_id": -100123}``. Failures queue up in order.
        """
        params = dict(parameters or {})
        if error_code == 429 and retry_after is not None:
            params.setdefault("retry_after", retry_after)
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {params.get('retry_after', 1)}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
        failure = _Failure(ApiError(error_code, description, params or None), times)
        self._failures.setdefault(method.lower(), deque()).append(failure)

    def drop_next(self, method: str, times: int = 1, *, after_processing: bool = False) -> None:
        """Close the connection of the next *times* calls of *method* without an answer.

        The client sees the server disconnect (PTB raises ``NetworkError``). With
        *after_processing* the method takes effect first (a message is sent and recorded in
        :attr:`calls` with its result), so only the answer is lost: what a retry must not
        repeat. Drops are taken before failures queued with :meth:`fail_next`.
        """
        self._drops.setdefault(method.lower(), deque()).append(_Drop(times, after_processing))

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next *times* calls of *method* only *seconds* after carrying them out.

        The method takes effect at once (a message is sent and recorded); a client whose read
        timeout is shorter gives up first (PTB raises ``TimedOut``), so only the answer is
        lost, as when Telegram is slow to respond.
        """
        self._stalls.setdefault(method.lower(), deque()).append([float(seconds), times])

    async def go_offline(self) -> None:
        """Stop listening and close every connection: new requests are refused (the client
        sees a connection error; nothing was sent). :meth:`go_online` listens again on the
        same port."""
        if self._runner is not None:
            self._closing = True  # long polls end before the connections close
            self._updates_signal.fire()
            await self._runner.cleanup()
            self._runner = None
            self._closing = False

    async def go_online(self) -> None:
        """Listen again on the port used before :meth:`go_offline`."""
        if self._runner is None:
            await self._listen(self.port)

    def expire_callback(self, query_id: str) -> None:
        """Make callback query *query_id* too old to answer (as Telegram does after a few
        seconds): ``answerCallbackQuery`` then fails with "query is too old"."""
        self._expired_callbacks.add(str(query_id))

    def answered_callbacks(self, query_id: str) -> list[RecordedCall]:
        """The successful ``answerCallbackQuery`` calls for *query_id*."""
        return self.calls_of(
            "answerCallbackQuery",
            lambda c: c.ok and str(c.params.get("callback_query_id")) == str(query_id),
        )

    def register(self, method: str, handler: MethodHandler) -> None:
        """Implement (or override) a Bot API *method* with ``async handler(params) -> result``."""
        self._handlers[method.lower()] = (method, handler)

    # -------------------------------------------------------------- chats, users, membership

    def add_chat(self, chat: Mapping[str, Any], **full_info: Any) -> None:
        """Register *chat* (a ``Chat`` dict); *full_info* adds ``ChatFullInfo`` fields
        returned by ``getChat`` (``description=...``, ``permissions=...``)."""
        stored = self.chats.setdefault(int(chat["id"]), {})
        stored.update(chat)
        stored.update(full_info)

    def set_member(
        self, chat_id: int, member: int | Mapping[str, Any], status: str, **fields: Any
    ) -> None:
        """Set the membership of *member* (user id or ``User`` dict) in *chat_id*.

        *status*: ``creator``, ``administrator``, ``member``, ``restricted``, ``left`` or
        ``kicked``; *fields* override ``ChatMember`` fields (``custom_title``, rights, ...).
        ``getChatMember`` and ``getChatAdministrators`` answer from this table.
        """
        member_user = self._user_of(member)
        status = _STATUS_ALIASES.get(status, status)
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        self.users.setdefault(member_user["id"], dict(member_user))
        self._members[(chat_id, member_user["id"])] = _Member(status, member_user, dict(fields))

    def member_status(self, chat_id: int, user_id: int) -> str:
        """Current membership status of *user_id* in *chat_id* (default if never set)."""
        state = self._members.get((chat_id, user_id))
        return state.status if state else self.default_member_status

    def chat_member_dict(self, chat_id: int, user_id: int) -> JSONDict:
        """The ``ChatMember`` dict ``getChatMember`` would answer with."""
        state = self._members.get((chat_id, user_id))
        if state is None:
            return chat_member(self._user_of(user_id), self.default_member_status)
        return chat_member(state.user, state.status, **state.fields)

    def allow_private(self, user_id: int) -> None:
        """Mark *user_id* as having started the bot (private messages allowed)."""
        self.started_users.add(user_id)
        self.blocked_users.discard(user_id)

    def block_private(self, user_id: int) -> None:
        """Make private sends to *user_id* fail with ``403 Forbidden: bot was blocked by the
        user`` (what Telegram answers once a user blocked the bot)."""
        self.blocked_users.add(user_id)

    def get_commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict] | None:
        """Commands stored by ``setMyCommands`` for *scope* (``BotCommandScope`` dict,
        default ``{"type": "default"}``) and *language_code*; ``None`` if never set."""
        return self.commands.get((self._scope_key(scope), language_code or ""))

    # ------------------------------------------------------------------------ update queue

    def push(self, *updates: JSONDict | Iterable[JSONDict]) -> None:
        """Queue updates for ``getUpdates`` and apply their side effects.

        Accepts update dicts and iterables of them (e.g. the pair of :meth:`migrate_update`).
        Updates are delivered in ``update_id`` order once the poller asks for them.
        """
        flat: list[JSONDict] = []
        for item in updates:
            if isinstance(item, Mapping):
                flat.append(dict(item))
            else:
                flat.extend(dict(u) for u in item)
        for update in flat:
            if "update_id" not in update:
                update["update_id"] = next(self._update_ids)
            _update_type(update)
            self._apply_side_effects(update)
            self._history[update["update_id"]] = update
            self._pending.append(update)
        self._pending.sort(key=lambda u: int(u["update_id"]))
        self._notify_updates()

    def redeliver(self, update_id: int) -> None:
        """Deliver the already pushed update *update_id* once more, same ``update_id``.

        It is served by the next ``getUpdates`` regardless of the acknowledged ``offset`` (as
        Telegram may do when it did not register the acknowledgement), before other updates.
        """
        try:
            update = self._history[update_id]
        except KeyError:
            raise KeyError(f"update {update_id} was never pushed") from None
        self._redeliveries.append(update)
        self._notify_updates()

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates pushed but not yet acknowledged via ``offset``."""
        return list(self._pending)

    async def post_to_webhook(
        self,
        update: JSONDict,
        *,
        timeout: float = 5.0,
    ) -> int:
        """POST *update* to the URL set with ``setWebhook`` (with its ``secret_token``).

        Returns the HTTP status of the bot's webhook server.
        """
        if not self.webhook.get("url"):
            raise RuntimeError("no webhook set (setWebhook was not called)")
        self._apply_side_effects(update)
        status, _ = await post_webhook_update(
            self.webhook["url"], update, self.webhook.get("secret_token"), timeout=timeout
        )
        return status

    # ----------------------------------------------------------------------- update builders

    def next_update_id(self) -> int:
        """Reserve the next ``update_id``."""
        return next(self._update_ids)

    def next_message_id(self, chat_id: int) -> int:
        """Reserve the next ``message_id`` of *chat_id* (shared by users and the bot)."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def message(
        self,
        chat: Mapping[str, Any],
        from_user: Mapping[str, Any] | None = None,
        text: str | None = None,
        *,
        entities: list[JSONDict] | None = None,
        reply_to: Mapping[str, Any] | int | None = None,
        message_thread_id: int | None = None,
        is_topic_message: bool | None = None,
        sender_chat: Mapping[str, Any] | None = None,
        anonymous_admin: bool = False,
        date: int | None = None,
        message_id: int | None = None,
        **extra: Any,
    ) -> JSONDict:
        """Build a ``Message`` dict (see :meth:`message_update` for the arguments)."""
        chat_id = int(chat["id"])
        msg: JSONDict = {
            "message_id": message_id if message_id is not None else self.next_message_id(chat_id),
        }
        if anonymous_admin:
            msg["from"] = dict(GROUP_ANONYMOUS_BOT)
            msg["sender_chat"] = dict(chat)
        else:
            if from_user is not None:
                msg["from"] = dict(from_user)
            if sender_chat is not None:
                msg["sender_chat"] = dict(sender_chat)
        msg["chat"] = dict(chat)
        msg["date"] = date if date is not None else int(time.time())
        if message_thread_id is not None:
            msg["message_thread_id"] = message_thread_id
            if is_topic_message is None:
                is_topic_message = bool(chat.get("is_forum"))
        if is_topic_message:
            msg["is_topic_message"] = True
        reply = self._reply_target(chat_id, reply_to)
        if (
            reply is None
            and message_thread_id is not None
            and chat.get("is_forum")
            and "forum_topic_created" not in extra
        ):
            # Telegram quirk: a message in a forum topic that replies to nothing has the
            # topic's forum_topic_created service message as reply_to_message.
            reply = self._topics.get((chat_id, message_thread_id)) or {
                "message_id": message_thread_id,
                "date": msg["date"],
                "chat": dict(chat),
                "message_thread_id": message_thread_id,
                "forum_topic_created": {"name": "Topic", "icon_color": 7322096},
                "is_topic_message": True,
            }
        if reply is not None:
            msg["reply_to_message"] = reply
        if text is not None:
            msg["text"] = text
            ents = entities if entities is not None else _auto_entities(text)
            if ents:
                msg["entities"] = ents
        msg.update(extra)
        return msg

    def message_update(
        self,
        chat: Mapping[str, Any],
        from_user: Mapping[str, Any] | None = None,
        text: str | None = None,
        *,
        entities: list[JSONDict] | None = None,
        reply_to: Mapping[str, Any] | int | None = None,
        message_thread_id: int | None = None,
        is_topic_message: bool | None = None,
        sender_chat: Mapping[str, Any] | None = None,
        anonymous_admin: bool = False,
        date: int | None = None,
        message_id: int | None = None,
        **extra: Any,
    ) -> JSONDict:
        """Build a ``message`` update.

        Args:
            chat: ``Chat`` dict (:func:`group`, :func:`private_chat`).
            from_user: Sender ``User`` dict (:func:`user`).
            text: Message text; ``bot_command`` entities (``/cmd``, ``/cmd@bot``, anywhere
                after whitespace) and ``mention`` entities are generated with UTF-16 offsets
                unless *entities* is given.
            reply_to: A ``Message`` dict, or a message id of a message known to the fake.
            message_thread_id: Forum topic id; sets ``is_topic_message`` in forums and, when
                *reply_to* is not given, ``reply_to_message`` = the topic creation message
                (as Telegram does).
            sender_chat: ``sender_chat`` (e.g. a linked channel).
            anonymous_admin: Send as an anonymous admin: ``sender_chat`` = the group itself and
                ``from`` = ``@GroupAnonymousBot`` (id 1087968824).
            date: Unix time (default: now).
            message_id: Explicit id (default: next id of that chat).
            **extra: Any other ``Message`` field (``photo``, ``caption``, ``poll``...).
        """
        msg = self.message(
            chat,
            from_user,
            text,
            entities=entities,
            reply_to=reply_to,
            message_thread_id=message_thread_id,
            is_topic_message=is_topic_message,
            sender_chat=sender_chat,
            anonymous_admin=anonymous_admin,
            date=date,
            message_id=message_id,
            **extra,
        )
        return {"update_id": self.next_update_id(), "message": msg}

    def edited_message_update(
        self, original: Mapping[str, Any], text: str, *, entities: list[JSONDict] | None = None
    ) -> JSONDict:
        """Build an ``edited_message`` update for the known *original* message."""
        msg = copy.deepcopy(dict(original))
        msg["text"] = text
        ents = entities if entities is not None else _auto_entities(text)
        msg.pop("entities", None)
        if ents:
            msg["entities"] = ents
        msg["edit_date"] = int(time.time())
        return {"update_id": self.next_update_id(), "edited_message": msg}

    def start_update(self, from_user: Mapping[str, Any], payload: str | None = None) -> JSONDict:
        """Build the private ``/start [PAYLOAD]`` message a deep link ``t.me/bot?start=PAYLOAD``
        produces. Pushing it marks the user as started."""
        text = "/start" if not payload else f"/start {payload}"
        return self.message_update(private_chat(from_user), from_user, text)

    def forum_topic_update(
        self, chat: Mapping[str, Any], from_user: Mapping[str, Any], name: str
    ) -> JSONDict:
        """Build the ``forum_topic_created`` service message; its ``message_id`` is the new
        topic's ``message_thread_id``."""
        message_id = self.next_message_id(int(chat["id"]))
        return self.message_update(
            chat,
            from_user,
            message_id=message_id,
            message_thread_id=message_id,
            is_topic_message=True,
            forum_topic_created={"name": name, "icon_color": 7322096},
        )

    def new_chat_members_update(
        self,
        chat: Mapping[str, Any],
        members: Mapping[str, Any] | list[Mapping[str, Any]],
        from_user: Mapping[str, Any] | None = None,
    ) -> JSONDict:
        """Build a ``new_chat_members`` service message (``from`` = who added them, default
        the joining user). Pushing it makes them ``member``s."""
        users = [dict(members)] if isinstance(members, Mapping) else [dict(m) for m in members]
        sender = from_user if from_user is not None else users[0]
        return self.message_update(chat, sender, new_chat_members=users)

    def left_chat_member_update(
        self,
        chat: Mapping[str, Any],
        member: Mapping[str, Any],
        from_user: Mapping[str, Any] | None = None,
    ) -> JSONDict:
        """Build a ``left_chat_member`` service message (``from`` = who removed them, default
        the leaving user). Pushing it makes the user ``left``."""
        sender = from_user if from_user is not None else member
        return self.message_update(chat, sender, left_chat_member=dict(member))

    def chat_member_update(
        self,
        chat: Mapping[str, Any],
        member: Mapping[str, Any],
        old_status: str,
        new_status: str,
        *,
        from_user: Mapping[str, Any] | None = None,
        invite_link: Mapping[str, Any] | None = None,
        via_join_request: bool | None = None,
        old_fields: Mapping[str, Any] | None = None,
        new_fields: Mapping[str, Any] | None = None,
        date: int | None = None,
    ) -> JSONDict:
        """Build a ``chat_member`` update (``ChatMemberUpdated``) for *member* in *chat*.

        Telegram only delivers these when ``chat_member`` is in ``allowed_updates`` and the bot
        is an administrator. *from_user* is the actor (default: the member).
        """
        return {
            "update_id": self.next_update_id(),
            "chat_member": self._chat_member_updated(
                chat,
                member,
                old_status,
                new_status,
                from_user=from_user,
                invite_link=invite_link,
                via_join_request=via_join_request,
                old_fields=old_fields,
                new_fields=new_fields,
                date=date,
            ),
        }

    def my_chat_member_update(
        self,
        chat: Mapping[str, Any],
        from_user: Mapping[str, Any],
        old_status: str = "left",
        new_status: str = "member",
        *,
        old_fields: Mapping[str, Any] | None = None,
        new_fields: Mapping[str, Any] | None = None,
        date: int | None = None,
    ) -> JSONDict:
        """Build a ``my_chat_member`` update: the bot's own status in *chat* changed, by
        *from_user* (e.g. added as ``member``/``administrator``, or ``kicked`` in a private
        chat when the user blocks the bot)."""
        return {
            "update_id": self.next_update_id(),
            "my_chat_member": self._chat_member_updated(
                chat,
                self.bot_user,
                old_status,
                new_status,
                from_user=from_user,
                old_fields=old_fields,
                new_fields=new_fields,
                date=date,
            ),
        }

    def callback_query_update(
        self,
        from_user: Mapping[str, Any],
        message: Mapping[str, Any] | None,
        data: str | None,
        *,
        inline_message_id: str | None = None,
        query_id: str | None = None,
    ) -> JSONDict:
        """Build a ``callback_query`` update: *from_user* pressed a button with callback *data*
        under *message* (a ``Message`` dict, e.g. ``call.result`` of a recorded sendMessage).
        Pushing it makes its id answerable once by ``answerCallbackQuery``."""
        qid = (
            query_id if query_id is not None else str(4_000_000_000_000_000_000 + next(self._ids))
        )
        chat_id = int(message["chat"]["id"]) if message is not None else 0
        query: JSONDict = {
            "id": qid,
            "from": dict(from_user),
            "chat_instance": str(abs(chat_id * 31 + self.bot_id)),
        }
        if message is not None:
            query["message"] = copy.deepcopy(dict(message))
        if inline_message_id is not None:
            query["inline_message_id"] = inline_message_id
        if data is not None:
            query["data"] = data
        return {"update_id": self.next_update_id(), "callback_query": query}

    def poll_answer_update(
        self,
        poll_id: str,
        from_user: Mapping[str, Any] | None,
        option_ids: list[int],
        *,
        voter_chat: Mapping[str, Any] | None = None,
    ) -> JSONDict:
        """Build a ``poll_answer`` update (non-anonymous polls only); ``option_ids=[]``
        retracts the vote. Pushing it updates the vote counts of a poll the bot sent."""
        poll = self.polls.get(poll_id)
        persistent = [poll["options"][i]["persistent_id"] if poll else str(i) for i in option_ids]
        answer: JSONDict = {
            "poll_id": poll_id,
            "option_ids": list(option_ids),
            "option_persistent_ids": persistent,  # required since Bot API 9.6
        }
        if from_user is not None:
            answer["user"] = dict(from_user)
        if voter_chat is not None:
            answer["voter_chat"] = dict(voter_chat)
        return {"update_id": self.next_update_id(), "poll_answer": answer}

    def poll_update(self, poll_id: str) -> JSONDict:
        """Build a ``poll`` update with the current state of a poll the bot sent."""
        return {"update_id": self.next_update_id(), "poll": copy.deepcopy(self.polls[poll_id])}

    def message_reaction_update(
        self,
        chat: Mapping[str, Any],
        message_id: int,
        from_user: Mapping[str, Any] | None,
        old: Iterable[str] = (),
        new: Iterable[str] = (),
        *,
        actor_chat: Mapping[str, Any] | None = None,
        date: int | None = None,
    ) -> JSONDict:
        """Build a ``message_reaction`` update; *old*/*new* are emoji strings (made
        ``ReactionTypeEmoji``). Use *actor_chat* (and ``from_user=None``) for anonymous
        reactions. Delivered only if ``message_reaction`` is in ``allowed_updates``."""
        reaction: JSONDict = {"chat": dict(chat), "message_id": message_id}
        if from_user is not None:
            reaction["user"] = dict(from_user)
        if actor_chat is not None:
            reaction["actor_chat"] = dict(actor_chat)
        reaction["date"] = date if date is not None else int(time.time())
        reaction["old_reaction"] = [{"type": "emoji", "emoji": e} for e in old]
        reaction["new_reaction"] = [{"type": "emoji", "emoji": e} for e in new]
        return {"update_id": self.next_update_id(), "message_reaction": reaction}

    def migrate_update(
        self,
        old_chat_id: int,
        new_chat_id: int,
        from_user: Mapping[str, Any] | None = None,
        *,
        title: str = "Group",
    ) -> tuple[JSONDict, JSONDict]:
        """Build the two updates of a group -> supergroup migration.

        The first is the ``migrate_to_chat_id`` service message in the old basic group, the
        second the ``migrate_from_chat_id`` one in the new supergroup; pass both to
        :meth:`push`. After pushing, sends to the old id fail with ``400`` and
        ``parameters.migrate_to_chat_id`` (PTB raises ``ChatMigrated``).
        """
        actor = dict(from_user) if from_user is not None else dict(GROUP_ANONYMOUS_BOT)
        old_chat = group(old_chat_id, title, type="group")
        new_chat = group(new_chat_id, title, type="supergroup")
        first = self.message_update(old_chat, actor, migrate_to_chat_id=new_chat_id)
        second = self.message_update(new_chat, actor, migrate_from_chat_id=old_chat_id)
        return first, second

    # ------------------------------------------------------------------------ internals

    def _user_of(self, member: int | Mapping[str, Any]) -> JSONDict:
        if isinstance(member, Mapping):
            return dict(member)
        known = self.users.get(member)
        if known is not None:
            return dict(known)
        return {"id": member, "is_bot": False, "first_name": f"User {member}"}

    @staticmethod
    def _scope_key(scope: Mapping[str, Any] | None) -> tuple[Any, ...]:
        scope = scope or {"type": "default"}
        return (scope.get("type", "default"), scope.get("chat_id"), scope.get("user_id"))

    def _reply_target(
        self, chat_id: int, reply_to: Mapping[str, Any] | int | None
    ) -> JSONDict | None:
        if reply_to is None:
            return None
        if isinstance(reply_to, Mapping):
            target = dict(reply_to)
        else:
            known = self.messages.get((chat_id, reply_to))
            if known is None:
                raise KeyError(f"message {reply_to} of chat {chat_id} is unknown to the fake")
            target = known
        target = copy.deepcopy(target)
        target.pop("reply_to_message", None)  # Telegram does not nest replies
        return target

    def _chat_member_updated(
        self,
        chat: Mapping[str, Any],
        member: Mapping[str, Any],
        old_status: str,
        new_status: str,
        *,
        from_user: Mapping[str, Any] | None = None,
        invite_link: Mapping[str, Any] | None = None,
        via_join_request: bool | None = None,
        old_fields: Mapping[str, Any] | None = None,
        new_fields: Mapping[str, Any] | None = None,
        date: int | None = None,
    ) -> JSONDict:
        data: JSONDict = {
            "chat": dict(chat),
            "from": dict(from_user) if from_user is not None else dict(member),
            "date": date if date is not None else int(time.time()),
            "old_chat_member": chat_member(member, old_status, **dict(old_fields or {})),
            "new_chat_member": chat_member(member, new_status, **dict(new_fields or {})),
        }
        if invite_link is not None:
            data["invite_link"] = dict(invite_link)
        if via_join_request is not None:
            data["via_join_request"] = via_join_request
        return data

    def _remember_chat(self, chat: Mapping[str, Any]) -> None:
        stored = self.chats.setdefault(int(chat["id"]), {})
        stored.update(chat)

    def _remember_user(self, some_user: Mapping[str, Any] | None) -> None:
        if some_user is not None and "id" in some_user:
            self.users[int(some_user["id"])] = dict(some_user)

    def _apply_side_effects(self, update: Mapping[str, Any]) -> None:
        kind = _update_type(update)
        payload = update[kind]
        if kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            self._apply_message(payload)
        elif kind in ("chat_member", "my_chat_member"):
            chat = payload["chat"]
            self._remember_chat(chat)
            self._remember_user(payload.get("from"))
            new = dict(payload["new_chat_member"])
            member_user = new.pop("user")
            status = new.pop("status")
            self._remember_user(member_user)
            self.set_member(int(chat["id"]), member_user, status, **new)
            if kind == "my_chat_member" and chat.get("type") == "private":
                user_id = int(payload["from"]["id"])
                if status == "kicked":
                    self.blocked_users.add(user_id)
                elif status == "member":
                    self.allow_private(user_id)
        elif kind == "callback_query":
            self._callback_ids.add(str(payload["id"]))
            self._callback_pushed.setdefault(str(payload["id"]), time.monotonic())
            self._remember_user(payload.get("from"))
            if "message" in payload:
                self._remember_chat(payload["message"]["chat"])
        elif kind == "poll_answer":
            self._apply_poll_answer(payload)
        elif kind == "message_reaction":
            self._remember_chat(payload["chat"])
            self._remember_user(payload.get("user"))

    def _apply_message(self, msg: Mapping[str, Any]) -> None:
        chat = msg["chat"]
        chat_id = int(chat["id"])
        self._remember_chat(chat)
        sender = msg.get("from")
        self._remember_user(sender)
        self.messages[(chat_id, int(msg["message_id"]))] = copy.deepcopy(dict(msg))
        self._last_message_id[chat_id] = max(
            self._last_message_id.get(chat_id, 0), int(msg["message_id"])
        )
        if chat.get("type") == "private" and sender is not None and sender["id"] == chat_id:
            self.started_users.add(chat_id)
        for joined in msg.get("new_chat_members", ()):
            self._remember_user(joined)
            self.set_member(chat_id, joined, "member")
        if "left_chat_member" in msg:
            self.set_member(chat_id, msg["left_chat_member"], "left")
        if "migrate_to_chat_id" in msg:
            self.migrations[chat_id] = int(msg["migrate_to_chat_id"])
        if "forum_topic_created" in msg:
            self._topics[(chat_id, int(msg["message_id"]))] = copy.deepcopy(dict(msg))

    def _apply_poll_answer(self, answer: Mapping[str, Any]) -> None:
        poll = self.polls.get(str(answer["poll_id"]))
        if poll is None:
            return
        voter = answer.get("user") or answer.get("voter_chat") or {}
        voters = self._poll_voters.setdefault(poll["id"], {})
        previous = voters.pop(int(voter.get("id", 0)), [])
        for index in previous:
            poll["options"][index]["voter_count"] -= 1
        chosen = list(answer.get("option_ids", []))
        for index in chosen:
            poll["options"][index]["voter_count"] += 1
        if chosen:
            voters[int(voter.get("id", 0))] = chosen
        poll["total_voter_count"] = len(voters)

    def _notify_updates(self) -> None:
        self._updates_signal.fire()

    # ------------------------------------------------------------------------ HTTP handling

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        raw_method = request.match_info["method"]
        try:
            params, files = await _read_params(request)
        except ValueError as exc:
            error = _bad_request(f"can't parse request: {exc}")
            return web.json_response(error.payload(), status=error.error_code)
        entry = self._handlers.get(raw_method.lower())
        name = entry[0] if entry is not None else raw_method
        call = RecordedCall(name, params, files, http_method=request.method)
        self.calls.append(call)
        self._calls_signal.fire()
        drop = self._take_drop(raw_method)
        if drop is not None:
            return await self._drop(request, call, entry, after_processing=drop.after_processing)
        try:
            failure = self._take_failure(raw_method)
            if failure is not None:
                raise failure
            if entry is None:
                raise ApiError(404, "Not Found: method not found")
            if name == "getUpdates":
                call.result = await self._get_updates(params, request)
            else:
                call.result = await entry[1](params)
        except ApiError as exc:
            call.error = exc
        except Exception as exc:
            _LOGGER.exception("FakeTelegram: %s crashed", name)
            call.error = ApiError(500, f"Internal Server Error: {exc!r}")
        finally:
            call.done = True
            self._calls_signal.fire()
        stall = self._take_stall(raw_method)
        if stall:
            await asyncio.sleep(stall)
        if call.error is not None:
            return web.json_response(call.error.payload(), status=call.error.error_code)
        return web.json_response({"ok": True, "result": call.result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for file_id, part in self.files.items():
            if self._file_path(file_id, part) == path:
                return web.Response(
                    body=part.content,
                    content_type=part.content_type or "application/octet-stream",
                )
        return web.Response(status=404)

    def _take_drop(self, method: str) -> _Drop | None:
        queue = self._drops.get(method.lower())
        if not queue:
            return None
        drop = queue[0]
        drop.remaining -= 1
        if drop.remaining <= 0:
            queue.popleft()
        return drop

    async def _drop(
        self,
        request: web.Request,
        call: RecordedCall,
        entry: tuple[str, MethodHandler] | None,
        *,
        after_processing: bool,
    ) -> web.StreamResponse:
        """Close the client's connection instead of answering (after running the method)."""
        call.dropped = True
        try:
            if after_processing and entry is not None and call.method != "getUpdates":
                call.result = await entry[1](call.params)
        except ApiError as exc:
            call.error = exc
        finally:
            call.done = True
            self._calls_signal.fire()
        if request.transport is not None:
            request.transport.abort()  # no status line: the client sees a disconnect
        return web.Response(status=200)  # never written: the transport is gone

    def _take_stall(self, method: str) -> float:
        queue = self._stalls.get(method.lower())
        if not queue:
            return 0.0
        stall = queue[0]
        stall[1] -= 1
        if stall[1] <= 0:
            queue.popleft()
        return stall[0]

    def _take_failure(self, method: str) -> ApiError | None:
        queue = self._failures.get(method.lower())
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        return failure.error

    # --------------------------------------------------------------------------- getUpdates

    async def _get_updates(self, params: JSONDict, request: web.Request) -> list[JSONDict]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset") or 0, "offset")
        limit = max(1, min(100, _as_int(params.get("limit") or 100, "limit")))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if "allowed_updates" in params and params["allowed_updates"] is not None:
            self.allowed_updates = list(params["allowed_updates"])
        # A new getUpdates terminates the previous long poll (Telegram answers it with 409).
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()
        self._acknowledge(offset)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._closing:
                return []
            batch = self._take_batch(limit, request)
            if batch:
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._updates_signal.wait(remaining)

    def _acknowledge(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _allowed(self, update: Mapping[str, Any]) -> bool:
        if not self.enforce_allowed_updates:
            return True
        allowed = set(self.allowed_updates or ()) or DEFAULT_ALLOWED_UPDATES
        return _update_type(update) in allowed

    def _take_batch(self, limit: int, request: web.Request) -> list[JSONDict]:
        transport = request.transport
        if transport is None or transport.is_closing():
            return []  # the client is gone: keep everything for the next poll
        kept: list[JSONDict] = []
        for update in self._pending:
            if self._allowed(update):
                kept.append(update)
            else:
                _LOGGER.warning(
                    "FakeTelegram: dropping %s update %s (not in allowed_updates %s)",
                    _update_type(update),
                    update["update_id"],
                    self.allowed_updates,
                )
                self.filtered_updates.append(update)
        self._pending = kept
        batch: list[JSONDict] = []
        while self._redeliveries and len(batch) < limit:
            batch.append(copy.deepcopy(self._redeliveries.popleft()))
        batch.extend(copy.deepcopy(u) for u in self._pending[: limit - len(batch)])
        return batch

    # ------------------------------------------------------------------- method plumbing

    def _register_builtin_methods(self) -> None:
        builtin: dict[str, MethodHandler] = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_not_direct,
            "deleteWebhook": self._m_delete_webhook,
            "setWebhook": self._m_set_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendPhoto": self._m_send_photo,
            "sendDocument": self._m_send_document,
            "sendPoll": self._m_send_poll,
            "stopPoll": self._m_stop_poll,
            "sendChatAction": self._m_send_chat_action,
            "getChat": self._m_get_chat,
            "getChatMember": self._m_get_chat_member,
            "getChatAdministrators": self._m_get_chat_administrators,
            "getChatMemberCount": self._m_get_chat_member_count,
            "setChatAdministratorCustomTitle": self._m_set_custom_title,
            "createChatInviteLink": self._m_create_chat_invite_link,
            "promoteChatMember": self._m_promote_chat_member,
            "restrictChatMember": self._m_restrict_chat_member,
            "banChatMember": self._m_ban_chat_member,
            "unbanChatMember": self._m_unban_chat_member,
            "leaveChat": self._m_leave_chat,
            "createForumTopic": self._m_create_forum_topic,
            "pinChatMessage": self._m_pin_chat_message,
            "unpinChatMessage": self._m_unpin_chat_message,
            "setMessageReaction": self._m_true,
            "getFile": self._m_get_file,
        }
        for name, handler in builtin.items():
            self.register(name, handler)

    def _resolve_chat_id(self, params: Mapping[str, Any], name: str = "chat_id") -> int:
        raw = params.get(name)
        if raw in (None, ""):
            raise _bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat_id, chat in self.chats.items():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return chat_id
            raise _bad_request("chat not found")
        return _as_int(raw, name)

    def _chat_for(self, chat_id: int) -> JSONDict:
        known = self.chats.get(chat_id)
        if known is not None:
            return {
                k: known[k]
                for k in ("id", "type", "title", "username", "first_name", "last_name", "is_forum")
                if k in known
            }
        if chat_id > 0:
            member_user = self._user_of(chat_id)
            return private_chat(member_user)
        if self.strict_chats:
            raise _bad_request("chat not found")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return group(chat_id, f"Chat {chat_id}", type=kind)

    def _check_can_send(self, chat_id: int) -> None:
        if chat_id in self.migrations:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrations[chat_id]},
            )
        if chat_id > 0:
            target = self.users.get(chat_id)
            if target is not None and target.get("is_bot") and chat_id != self.bot_id:
                raise ApiError(403, "Forbidden: bot can't send messages to bots")
            if chat_id in self.blocked_users:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if self.require_start and chat_id not in self.started_users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return
        state = self._members.get((chat_id, self.bot_id))
        chat = self._chat_for(chat_id)
        kind = "supergroup chat" if chat.get("type") == "supergroup" else "group chat"
        if chat.get("type") == "channel":
            kind = "channel chat"
        if state is not None and state.status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        if state is not None and state.status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind}")

    def _formatted(
        self, params: Mapping[str, Any], text_key: str, mode_key: str, entities_key: str
    ) -> tuple[str | None, list[JSONDict] | None]:
        raw = params.get(text_key)
        if raw is None:
            return None, None
        text = str(raw)
        mode = str(params.get(mode_key) or "").lower()
        if mode == "html":
            return _parse_html(text)
        explicit = params.get(entities_key)
        if explicit:
            return text, list(explicit)
        return text, None

    def _reply_for_send(self, chat_id: int, params: Mapping[str, Any]) -> JSONDict | None:
        reply_params = params.get("reply_parameters")
        if isinstance(reply_params, Mapping):
            message_id = reply_params.get("message_id")
            target_chat = reply_params.get("chat_id", chat_id)
            allow_missing = bool(reply_params.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            target_chat = chat_id
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        key = (_as_int(target_chat, "chat_id"), _as_int(message_id, "message_id"))
        target = self.messages.get(key)
        if target is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        target = copy.deepcopy(target)
        target.pop("reply_to_message", None)
        return target

    def _bot_message(self, params: Mapping[str, Any], content: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat_id(params)
        self._check_can_send(chat_id)
        chat = self._chat_for(chat_id)
        reply = self._reply_for_send(chat_id, params)
        msg: JSONDict = {
            "message_id": self.next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": chat,
            "date": int(time.time()),
        }
        thread_id = params.get("message_thread_id")
        if thread_id is None and reply is not None and reply.get("is_topic_message"):
            thread_id = reply.get("message_thread_id")
        if thread_id is not None and chat.get("is_forum"):
            msg["message_thread_id"] = _as_int(thread_id, "message_thread_id")
            msg["is_topic_message"] = True
        if reply is not None:
            msg["reply_to_message"] = reply
        msg.update(content)
        markup = params.get("reply_markup")
        if isinstance(markup, Mapping) and "inline_keyboard" in markup:
            msg["reply_markup"] = dict(markup)  # only inline keyboards are echoed by Telegram
        if params.get("has_protected_content") or params.get("protect_content"):
            msg["has_protected_content"] = True
        self.messages[(chat_id, msg["message_id"])] = copy.deepcopy(msg)
        return msg

    def _known_message(self, params: Mapping[str, Any], action: str) -> tuple[int, JSONDict]:
        chat_id = self._resolve_chat_id(params)
        message_id = _as_int(_require(params, "message_id"), "message_id")
        msg = self.messages.get((chat_id, message_id))
        if msg is None:
            raise _bad_request(f"message to {action} not found")
        return chat_id, msg

    def _store_upload(self, value: Any, kind: str) -> tuple[str, str, FilePart | None]:
        """Returns (file_id, file_unique_id, part) for an uploaded or referenced file."""
        if isinstance(value, FilePart):
            n = next(self._ids)
            file_id = f"{kind[:2].upper()}ACAgQAAxkBAAI{n:08d}"
            self.files[file_id] = value
            return file_id, f"AgAD{n:08d}", value
        if isinstance(value, str) and value:
            part = self.files.get(value)
            return value, f"AgAD{zlib.crc32(value.encode()):010d}", part
        raise _bad_request(f"there is no {kind} in the request")

    @staticmethod
    def _file_path(file_id: str, part: FilePart) -> str:
        suffix = ""
        if part.filename and "." in part.filename:
            suffix = "." + part.filename.rsplit(".", 1)[1]
        return f"documents/{file_id}{suffix}"

    # ------------------------------------------------------------------- method handlers

    async def _m_true(self, params: JSONDict) -> bool:
        return True

    async def _m_not_direct(self, params: JSONDict) -> Any:  # pragma: no cover - special-cased
        raise AssertionError("getUpdates is handled by _get_updates")

    async def _m_get_me(self, params: JSONDict) -> JSONDict:
        return dict(self.me)

    async def _m_delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._pending.clear()
            self._redeliveries.clear()
        return True

    async def _m_set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._m_delete_webhook(params)
        self.webhook = {k: v for k, v in params.items() if not isinstance(v, FilePart)}
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._pending.clear()
            self._redeliveries.clear()
        return True

    async def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": "certificate" in self.webhook,
            "pending_update_count": len(self._pending),
        }
        if self.webhook.get("max_connections"):
            info["max_connections"] = self.webhook["max_connections"]
        if self.webhook and self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        return info

    async def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('field "commands" must be an Array')
        cleaned: list[JSONDict] = []
        for command in commands:
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _BOT_COMMAND_RE.match(name):  # approximation of Telegram's validation
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        if len(cleaned) > 100:
            raise _bad_request("too many commands")
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands[key] = cleaned
        return True

    async def _m_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return list(
            self.get_commands(params.get("scope"), str(params.get("language_code") or "")) or []
        )

    async def _m_delete_my_commands(self, params: JSONDict) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return True

    async def _m_send_message(self, params: JSONDict) -> JSONDict:
        text, entities = self._formatted(params, "text", "parse_mode", "entities")
        if not text or not text.strip():
            raise _bad_request("message text is empty")
        if utf16_len(text) > 4096:
            raise _bad_request("message is too long")
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), Mapping):
            options = params["link_preview_options"]
            if any(v for v in options.values()):
                content["link_preview_options"] = dict(options)
        return self._bot_message(params, content)

    async def _m_edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text, entities = self._formatted(params, "text", "parse_mode", "entities")
        if not text or not text.strip():
            raise _bad_request("message text is empty")
        if utf16_len(text) > 4096:
            raise _bad_request("MESSAGE_TOO_LONG")
        if params.get("inline_message_id"):
            return True
        _, msg = self._known_message(params, "edit")
        if msg.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        if "text" not in msg:
            raise _bad_request("there is no text in the message to edit")
        markup = params.get("reply_markup")
        new_markup = dict(markup) if isinstance(markup, Mapping) else None
        if (
            msg.get("text") == text
            and (msg.get("entities") or None) == (entities or None)
            and msg.get("reply_markup") == new_markup
        ):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg["text"] = text
        msg.pop("entities", None)
        if entities:
            msg["entities"] = entities
        msg.pop("reply_markup", None)  # editing without reply_markup removes the keyboard
        if new_markup is not None and "inline_keyboard" in new_markup:
            msg["reply_markup"] = new_markup
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    async def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        _, msg = self._known_message(params, "edit")
        if msg.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        markup = params.get("reply_markup")
        new_markup = dict(markup) if isinstance(markup, Mapping) else None
        if new_markup is not None and not new_markup.get("inline_keyboard"):
            new_markup = None
        if msg.get("reply_markup") == new_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.pop("reply_markup", None)
        if new_markup is not None:
            msg["reply_markup"] = new_markup
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    async def _m_delete_message(self, params: JSONDict) -> bool:
        chat_id, msg = self._known_message(params, "delete")
        del self.messages[(chat_id, int(msg["message_id"]))]
        pins = self.pinned.get(chat_id, [])
        if int(msg["message_id"]) in pins:
            pins.remove(int(msg["message_id"]))  # a deleted message is no longer pinned
        return True

    def _check_can_pin(self, chat_id: int) -> None:
        """Like Telegram: in a private chat the bot may pin; elsewhere it must be the creator
        or an administrator with ``can_pin_messages`` (``can_edit_messages`` in a channel)."""
        self._check_can_send(chat_id)
        if chat_id > 0:
            return
        state = self._members.get((chat_id, self.bot_id))
        status = state.status if state else self.default_member_status
        right = "can_edit_messages" if self._chat_for(chat_id).get("type") == "channel" else (
            "can_pin_messages")
        may = status == "creator" or (
            status == "administrator" and (state is None or state.fields.get(right, True))
        )
        if not may:
            raise _bad_request("not enough rights to manage pinned messages in the chat")

    async def _m_pin_chat_message(self, params: JSONDict) -> bool:
        """Pin a known message (pinning it again keeps one pin); see :attr:`pinned`."""
        chat_id = self._resolve_chat_id(params)
        self._check_can_pin(chat_id)
        message_id = _as_int(_require(params, "message_id"), "message_id")
        if (chat_id, message_id) not in self.messages:
            raise _bad_request("message to pin not found")
        pins = self.pinned.setdefault(chat_id, [])
        if message_id in pins:
            pins.remove(message_id)
        pins.append(message_id)
        return True

    async def _m_unpin_chat_message(self, params: JSONDict) -> bool:
        """Unpin ``message_id``, or without it the most recent pin. A known message that is
        not pinned answers True (as far as we know Telegram does not refuse it)."""
        chat_id = self._resolve_chat_id(params)
        self._check_can_pin(chat_id)
        pins = self.pinned.setdefault(chat_id, [])
        raw = params.get("message_id")
        if raw in (None, ""):
            if pins:
                pins.pop()
            return True
        message_id = _as_int(raw, "message_id")
        if (chat_id, message_id) not in self.messages:
            raise _bad_request("message to unpin not found")
        if message_id in pins:
            pins.remove(message_id)
        return True

    async def _m_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(_require(params, "callback_query_id"))
        pushed = self._callback_pushed.get(query_id)
        late = (
            query_id in self._expired_callbacks
            or (self.callback_answer_timeout is not None and pushed is not None
                and time.monotonic() - pushed > self.callback_answer_timeout)
        )
        if query_id not in self._callback_ids or query_id in self._answered_callbacks or late:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._answered_callbacks.add(query_id)
        return True

    def _caption_content(self, params: JSONDict) -> JSONDict:
        caption, entities = self._formatted(params, "caption", "parse_mode", "caption_entities")
        content: JSONDict = {}
        if caption:
            if utf16_len(caption) > 1024:
                raise _bad_request("message caption is too long")
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return content

    async def _m_send_photo(self, params: JSONDict) -> JSONDict:
        file_id, unique_id, part = self._store_upload(params.get("photo"), "photo")
        caption = self._caption_content(params)
        width, height = (_png_size(part.content) if part else None) or (800, 600)
        scale = min(1.0, 90 / max(width, height))
        size = part.size if part else 0
        photo = [
            {
                "file_id": file_id + "_s",
                "file_unique_id": unique_id + "s",
                "width": max(1, int(width * scale)),
                "height": max(1, int(height * scale)),
                "file_size": max(1, size // 10),
            },
            {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "width": width,
                "height": height,
                "file_size": size,
            },
        ]
        return self._bot_message(params, {"photo": photo, **caption})

    async def _m_send_document(self, params: JSONDict) -> JSONDict:
        file_id, unique_id, part = self._store_upload(params.get("document"), "document")
        caption = self._caption_content(params)
        document: JSONDict = {"file_id": file_id, "file_unique_id": unique_id}
        if part is not None:
            if part.filename:
                document["file_name"] = part.filename
            if part.content_type:
                document["mime_type"] = part.content_type
            document["file_size"] = part.size
        return self._bot_message(params, {"document": document, **caption})

    async def _m_send_poll(self, params: JSONDict) -> JSONDict:
        question = str(_require(params, "question"))
        if not 1 <= len(question) <= 300:
            raise _bad_request("poll question length must not exceed 300")
        raw_options = params.get("options")
        if not isinstance(raw_options, list) or not 2 <= len(raw_options) <= 12:
            raise _bad_request("poll must have at least 2 option")
        options = []
        for index, option in enumerate(raw_options):
            text = option.get("text") if isinstance(option, Mapping) else option
            # persistent_id is required since Bot API 9.6 (PTB 22.8 rejects options without)
            options.append({"persistent_id": str(index), "text": str(text), "voter_count": 0})
        poll_type = str(params.get("type") or "regular")
        is_anonymous = params.get("is_anonymous")
        poll: JSONDict = {
            "id": str(5_292_236_785_283_000_000 + next(self._ids)),
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": bool(params.get("is_closed")),
            "is_anonymous": True if is_anonymous is None else bool(is_anonymous),
            "type": poll_type,
            "allows_multiple_answers": bool(params.get("allows_multiple_answers")),
            # Required by PTB 22.8 (Bot API 9.6 / 10.0).
            "allows_revoting": bool(params.get("allows_revoting", poll_type != "quiz")),
            "members_only": bool(params.get("members_only")),
        }
        if poll_type == "quiz":
            # PTB 22.8 sends correct_option_ids (Bot API 9.6); older clients correct_option_id.
            raw_correct = params.get("correct_option_ids")
            if raw_correct is None and params.get("correct_option_id") is not None:
                raw_correct = [params["correct_option_id"]]
            if not isinstance(raw_correct, list) or not raw_correct:
                raise _bad_request("wrong correct option ID specified")
            correct = [_as_int(i, "correct_option_id") for i in raw_correct]
            if any(not 0 <= i < len(options) for i in correct):
                raise _bad_request("wrong correct option ID specified")
            poll["correct_option_ids"] = correct  # Bot API 9.6 replaced correct_option_id
            if params.get("explanation"):
                poll["explanation"] = params["explanation"]
        for key in ("open_period", "close_date"):
            if params.get(key) is not None:
                poll[key] = _as_int(params[key], key)
        msg = self._bot_message(params, {"poll": poll})
        self.polls[poll["id"]] = poll
        self._poll_locations[poll["id"]] = (int(msg["chat"]["id"]), int(msg["message_id"]))
        return copy.deepcopy(msg)

    async def _m_stop_poll(self, params: JSONDict) -> JSONDict:
        _, msg = self._known_message(params, "stop")
        poll_id = msg.get("poll", {}).get("id")
        poll = self.polls.get(poll_id) if poll_id else None
        if poll is None:
            raise _bad_request("message with poll to stop not found")
        if poll["is_closed"]:
            raise _bad_request("poll has already been closed")
        poll["is_closed"] = True
        msg["poll"] = copy.deepcopy(poll)
        markup = params.get("reply_markup")
        msg.pop("reply_markup", None)
        if isinstance(markup, Mapping) and markup.get("inline_keyboard"):
            msg["reply_markup"] = dict(markup)
        return copy.deepcopy(poll)

    async def _m_send_chat_action(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        self._check_can_send(chat_id)
        return True

    def _full_chat(self, chat_id: int) -> JSONDict:
        info: JSONDict = {**self._chat_for(chat_id), **self.chats.get(chat_id, {})}
        info.setdefault("accent_color_id", 0)
        info.setdefault("max_reaction_count", 11)
        info.setdefault(
            "accepted_gift_types",
            {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        pins = self.pinned.get(chat_id)
        if pins and (chat_id, pins[-1]) in self.messages:
            info["pinned_message"] = copy.deepcopy(self.messages[(chat_id, pins[-1])])
        return info

    async def _m_get_chat(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat_id(params)
        if chat_id in self.migrations:
            self._check_can_send(chat_id)
        if chat_id > 0 and chat_id not in self.users and self.strict_chats:
            raise _bad_request("chat not found")
        return self._full_chat(chat_id)

    async def _m_get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat_id(params)
        user_id = _as_int(_require(params, "user_id"), "user_id")
        if chat_id in self.migrations:
            self._check_can_send(chat_id)
        return self.chat_member_dict(chat_id, user_id)

    async def _m_get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        chat_id = self._resolve_chat_id(params)
        if chat_id > 0:
            raise _bad_request("there are no administrators in the private chat")
        admins = [
            chat_member(state.user, state.status, **state.fields)
            for (cid, _), state in self._members.items()
            if cid == chat_id
            and state.status in ("creator", "administrator")
            and not state.user.get("is_bot")  # Telegram only lists human administrators
        ]
        admins.sort(key=lambda m: m["status"] != "creator")
        return admins

    async def _m_get_chat_member_count(self, params: JSONDict) -> int:
        chat_id = self._resolve_chat_id(params)
        return sum(
            1
            for (cid, _), state in self._members.items()
            if cid == chat_id
            and (
                state.status in ("creator", "administrator", "member")
                or (state.status == "restricted" and state.fields.get("is_member", True))
            )
        )

    async def _m_set_custom_title(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        user_id = _as_int(_require(params, "user_id"), "user_id")
        title = str(params.get("custom_title") or "")
        if len(title) > 16:
            raise _bad_request("ADMIN_RANK_INVALID")  # approximation
        state = self._members.get((chat_id, user_id))
        if state is None or state.status != "administrator":
            raise _bad_request("user is not an administrator")  # approximation
        if title:
            state.fields["custom_title"] = title
        else:
            state.fields.pop("custom_title", None)
        return True

    async def _m_create_chat_invite_link(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat_id(params)
        self._check_can_send(chat_id)
        member_limit = params.get("member_limit")
        creates_join_request = bool(params.get("creates_join_request"))
        if member_limit is not None and creates_join_request:
            raise _bad_request("member limit can't be specified for links requiring approval")
        link: JSONDict = {
            "invite_link": f"https://t.me/+FakeInvite{next(self._ids):06d}",
            "creator": dict(self.bot_user),
            "creates_join_request": creates_join_request,
            "is_primary": False,
            "is_revoked": False,
        }
        if params.get("name"):
            link["name"] = str(params["name"])
        if params.get("expire_date") is not None:
            link["expire_date"] = _as_int(params["expire_date"], "expire_date")
        if member_limit is not None:
            link["member_limit"] = _as_int(member_limit, "member_limit")
        self.invite_links.append({**link, "chat_id": chat_id})
        return link

    async def _m_promote_chat_member(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        user_id = _as_int(_require(params, "user_id"), "user_id")
        rights: dict[str, bool] = {k: bool(params[k]) for k in _ADMIN_RIGHTS if k in params}
        if "is_anonymous" in params:
            rights["is_anonymous"] = bool(params["is_anonymous"])
        if any(rights.values()):
            fields: JSONDict = {
                "can_be_edited": True,  # the bot promoted them, so it may edit them
                "is_anonymous": False,
                **dict.fromkeys(_ADMIN_RIGHTS[:10], False),  # the required ones
                **rights,
            }
            previous = self._members.get((chat_id, user_id))
            if previous is not None and "custom_title" in previous.fields:
                fields["custom_title"] = previous.fields["custom_title"]
            self.set_member(chat_id, user_id, "administrator", **fields)
        else:  # "Pass False for all boolean parameters to demote a user."
            self.set_member(chat_id, user_id, "member")
        return True

    async def _m_restrict_chat_member(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        user_id = _as_int(_require(params, "user_id"), "user_id")
        permissions = params.get("permissions")
        if not isinstance(permissions, Mapping):
            raise _bad_request("invalid permissions specified")  # approximation
        fields: JSONDict = {k: bool(permissions.get(k, False)) for k in _RESTRICTED_PERMISSIONS}
        if all(fields[k] for k in _RESTRICTED_PERMISSIONS[:10]):
            self.set_member(chat_id, user_id, "member")  # lifting all restrictions
            return True
        fields["until_date"] = _as_int(params.get("until_date") or 0, "until_date")
        fields["is_member"] = self.member_status(chat_id, user_id) not in ("left", "kicked")
        self.set_member(chat_id, user_id, "restricted", **fields)
        return True

    async def _m_ban_chat_member(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        user_id = _as_int(_require(params, "user_id"), "user_id")
        until = _as_int(params.get("until_date") or 0, "until_date")
        self.set_member(chat_id, user_id, "kicked", until_date=until)
        return True

    async def _m_unban_chat_member(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        user_id = _as_int(_require(params, "user_id"), "user_id")
        status = self.member_status(chat_id, user_id)
        # "By default, this method guarantees that after the call the user is not a member of
        # the chat, but will be able to join it" -- unless only_if_banned is passed.
        if status == "creator":
            raise _bad_request("can't remove chat owner")
        if status == "kicked" or not params.get("only_if_banned"):
            self.set_member(chat_id, user_id, "left")
        return True

    async def _m_create_forum_topic(self, params: JSONDict) -> JSONDict:
        """A topic in a forum supergroup; the bot needs ``can_manage_topics`` (or to own it).

        Like Telegram, the topic's id is the id of its ``forum_topic_created`` service message.
        """
        chat_id = self._resolve_chat_id(params)
        self._check_can_send(chat_id)
        chat = self._chat_for(chat_id)
        if not chat.get("is_forum"):
            raise _bad_request("the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise _bad_request("TOPIC_NAME_INVALID")
        state = self._members.get((chat_id, self.bot_id))
        status = state.status if state else self.default_member_status
        may = status == "creator" or (
            status == "administrator" and state is not None
            and state.fields.get("can_manage_topics", True)
        )
        if not may:
            raise _bad_request("not enough rights to create a topic")
        thread_id = self.next_message_id(chat_id)
        created = {"name": name, "icon_color": 7322096}
        self.messages[(chat_id, thread_id)] = {
            "message_id": thread_id,
            "from": dict(self.bot_user),
            "chat": chat,
            "date": int(time.time()),
            "message_thread_id": thread_id,
            "forum_topic_created": dict(created),
        }
        return {"message_thread_id": thread_id, **created}

    async def _m_leave_chat(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        self.set_member(chat_id, self.bot_user, "left")
        return True

    async def _m_get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(_require(params, "file_id"))
        part = self.files.get(file_id)
        if part is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"AgAD{zlib.crc32(file_id.encode()):010d}",
            "file_size": part.size,
            "file_path": self._file_path(file_id, part),
        }


# --------------------------------------------------------------------------------------------
# Client-side helpers
# --------------------------------------------------------------------------------------------


async def post_webhook_update(
    url: str,
    update: Mapping[str, Any],
    secret_token: str | None = None,
    *,
    timeout: float = 5.0,
) -> tuple[int, str]:
    """POST *update* as JSON to a bot's webhook *url*, the way Telegram does.

    Sends ``Content-Type: application/json`` and, if given, the
    ``X-Telegram-Bot-Api-Secret-Token`` header. Returns ``(HTTP status, response body)``.
    """
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with (
        aiohttp.ClientSession(timeout=client_timeout) as session,
        session.post(url, data=json.dumps(dict(update)), headers=headers) as response,
    ):
        return response.status, await response.text()


@contextlib.asynccontextmanager
async def ptb_polling(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    allowed_updates: list[str] | None = None,
    timeout: int = 1,
    drop_pending_updates: bool = False,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run a PTB ``Application`` with polling for the duration of the block.

    Does ``initialize()``, ``start()`` and ``updater.start_polling(poll_interval=0,
    timeout=timeout, ...)``; on exit ``updater.stop()`` (which cancels the in-flight long poll
    at once, then acknowledges the fetched updates with a ``timeout=0`` getUpdates),
    ``stop()`` and ``shutdown()``.
    """
    updater = app.updater
    if updater is None:
        raise RuntimeError("the application has no Updater")
    await app.initialize()
    try:
        await app.start()
        try:
            await updater.start_polling(
                poll_interval=0,
                timeout=timeout,
                allowed_updates=allowed_updates,
                drop_pending_updates=drop_pending_updates,
            )
            try:
                yield app
            finally:
                if updater.running:
                    await updater.stop()
        finally:
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
