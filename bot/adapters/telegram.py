"""Telegram: python-telegram-bot 22 on one side, the core's events and actions on the other.

Incoming updates are translated in one PTB ``TypeHandler`` and handed to the dispatcher
with the id ``tg:<update_id>``, so a redelivered update is dropped by the core. Outgoing
actions are rendered to Telegram HTML (user text escaped) with inline keyboards whose
payloads fit 64 bytes (longer ones are stored under a key, so buttons survive restarts).

Private messages: Telegram lets a bot write only to members who started it. Private stays
private: a private answer to a button press is the callback answer (a toast only the member
sees) when it comes in time, else a message in the member's private chat with the bot; a
private reply to a command in a group goes to that private chat; when the member never
started the bot it is :class:`~bot.core.platform.Undeliverable` and never posted in the group.
The outbox then posts the plugin's (public, separate) fallback, marked ``unreached`` (so is
the one post for a group of DMs); this adapter turns that fallback's buttons into deep links
``https://t.me/<bot>?start=<key>`` whose ``/start <key>`` opens the plugin's private flow as
a button press, and adds an "Open a private chat with me" link when it has none.

Every callback query is answered once: with the reply's text if it comes within
:data:`~bot.adapters.telegram_limits.CALLBACK_REPLY_WAIT_SECONDS`, else empty; a press
delivered twice (same query id, or an update replayed after a restart) is not answered again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import httpx
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
    User,
)
from telegram import error as tg_error
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.adapters import telegram_limits as limits
from bot.adapters.telegram_logs import hide_token, redact
from bot.adapters.telegram_render import content_plain, inline_keyboard, split_html
from bot.core.actions import (
    Action,
    CreateThread,
    EditMessage,
    GrantReward,
    PinMessage,
    ScheduleEvent,
    SendMessage,
    SendPoll,
    UnpinMessage,
)
from bot.core.capabilities import Capability
from bot.core.commands import Kind
from bot.core.events import (
    ButtonPressed,
    CommandInvoked,
    CommunityJoined,
    Event,
    MemberJoined,
    MemberLeft,
    MessageEdited,
    MessagePosted,
    PollAnswered,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.i18n import N_, Translator
from bot.core.markup import Markup, escape, mention
from bot.core.messages import Content, Reward
from bot.core.payloads import Payload, PayloadError, decode, shorten, stored_key
from bot.core.platform import (
    Declined,
    Delivered,
    NotConnected,
    PermanentError,
    Progress,
    RetryAfter,
    TransientError,
    Undeliverable,
)
from bot.core.privilege import Privilege
from bot.core.ratelimit import RateProfile
from bot.core.refs import ChannelRef, CommunityRef, MemberRef

if TYPE_CHECKING:
    from bot.app import App
    from bot.settings import TelegramSettings

log = logging.getLogger(__name__)

PLATFORM = "telegram"
#: Update types the bot asks for (``chat_member`` and reactions are not sent otherwise).
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "poll_answer",
    "chat_member",
    "my_chat_member",
    "message_reaction",
]
#: A join or leave reported twice (chat_member and the service message) within this window
#: is emitted once.
JOIN_WINDOW_SECONDS = 120.0
#: How long a getChatMember answer is trusted.
ADMIN_CACHE_SECONDS = 60.0
#: How long a callback query id is remembered, so a redelivered press is not answered twice.
CALLBACK_MEMORY_SECONDS = 600.0
#: What Telegram says when a callback query can no longer be answered.
QUERY_TOO_OLD = ("query is too old", "query id is invalid")
#: Languages the command menus are registered in (besides the default menu).
MENU_LANGUAGES = ("en", "ar")
#: Rights the bot asks for as an administrator.
WANTED_RIGHTS = (
    "can_delete_messages",
    "can_restrict_members",
    "can_invite_users",
    "can_pin_messages",
)
KV_POLLS = "telegram.polls"
#: Seconds a vote for an unknown poll waits for native polls still being sent.
POLL_MAPPING_WAIT = 30.0
KV_INVITES = "telegram.invites"
#: Announcements of scheduled events (Telegram has none): "<chat>/<message>" by
#: "<community key>:<event key>".
KV_EVENTS = "telegram.events"
#: Private messages with buttons -> the community they were sent for (``chat:message``).
KV_PRIVATE = "telegram.private"
#: Private messages whose community is also kept in memory (the newest; the rest are read).
_PRIVATE_OF_SIZE = 10_000
DEEP_LINK_PREFIX = "k"
#: Part 0 of a reward whose invite waits for the member's ``/start`` (no private chat yet).
HELD = "held"

#: The id recorded for a message Telegram may have posted without answering (see
#: :func:`maybe_sent`): it is not posted again, and cannot be edited.
UNCONFIRMED = "unconfirmed"
#: Admins hear about unconfirmed messages at most this often per community.
UNCONFIRMED_REPORT_SECONDS = 3600.0
#: httpx errors (under PTB's ``NetworkError``/``TimedOut``) raised before a request was
#: written: the connection was refused or never opened, or no pooled connection was free.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Reasons for the admins' failure report (msgids).
BLOCKED = N_("Telegram refused: {error}. Check that I am still in the chat and may post there.")
REFUSED = N_("Telegram did not accept the request: {error}")
POLL_OPTIONS = N_("A Telegram poll needs between {low} and {high} options; this one has {n}.")
POLL_PERIOD = N_(
    "A Telegram poll can stay open at most {n} seconds; close longer polls another way."
)
PIN_REFUSED = N_(
    "I may not pin messages in this chat: make me an administrator with the right to pin "
    "messages."
)
#: What Telegram says when the bot lacks the right to pin (``pinChatMessage``, unpin too).
NO_PIN_RIGHTS = "not enough rights"
NOT_CONFIRMED = N_(
    "Telegram may have posted a message without confirming it (the connection was lost "
    "before its answer). It was not sent again, so that it is never posted twice; it cannot "
    "be edited."
)


#: Progress mark of a thread posted as a message (no topic, or a topic never confirmed).
NO_TOPIC = "-"


def maybe_sent(exc: tg_error.TelegramError) -> bool:
    """Whether Telegram may have carried out a request that failed with ``exc``.

    PTB raises ``TimedOut``/``NetworkError`` from the httpx error (``__cause__``). A refused
    or timed-out connection and a pool timeout never wrote the request: surely not sent. A
    read timeout, or a connection closed after the request was written, may come after
    Telegram did the work: maybe sent. A ``NetworkError`` with no httpx cause is Telegram's
    own 5xx answer, retried like any server error.
    """
    cause = exc.__cause__
    return isinstance(cause, httpx.HTTPError) and not isinstance(cause, NOT_SENT)


class StartError(RuntimeError):
    """Telegram could not be reached or refused the bot at start-up (no token in the text)."""


@dataclass(slots=True)
class Handle:
    """How to answer one incoming message or button press (kept in memory by the outbox).

    ``answered`` is set once the callback query was answered, or can no longer be (too old):
    from then on a private reply goes to the member's private chat.
    """

    chat_id: int
    message_id: int | None = None
    thread_id: int | None = None
    callback_id: str | None = None
    answered: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def to_json(self) -> dict[str, Any]:
        """What the outbox stores, so a reply queued at shutdown still answers after restart.

        ``answered`` is not kept: after a restart the press is tried once more, and Telegram
        refuses an answered or old query, which sends the private reply to the private chat.
        """
        return {"chat": self.chat_id, "message": self.message_id, "thread": self.thread_id,
                "callback": self.callback_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Handle:
        """The handle :meth:`to_json` stored."""
        message, thread, callback = data.get("message"), data.get("thread"), data.get("callback")
        return cls(
            int(data["chat"]),
            int(message) if message is not None else None,
            int(thread) if thread is not None else None,
            str(callback) if callback is not None else None,
        )


def channel_of(chat_id: int, thread_id: int | None = None, *, name: str = "",
               private: bool = False) -> ChannelRef:
    """The channel of a chat, or of one forum topic in it (``chat:thread``)."""
    native = f"{chat_id}:{thread_id}" if thread_id else str(chat_id)
    parent = str(chat_id) if thread_id else None
    return ChannelRef(PLATFORM, native, name, private, parent)


def split_channel(channel_id: str) -> tuple[int, int | None]:
    """Chat id and forum topic id of a channel id made by :func:`channel_of`."""
    chat, _, thread = channel_id.partition(":")
    return int(chat), int(thread) if thread else None


def member_of(user: User) -> MemberRef:
    """A Telegram user as a member reference."""
    return MemberRef(PLATFORM, str(user.id), user.full_name, user.language_code, user.is_bot)


def parse_command(text: str, username: str) -> tuple[str, str] | None:
    """``("name", "args")`` of ``/name@bot args``; None for text or another bot's command."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    head, newline, more = head.partition("\n")
    if newline:
        rest = more + (" " + rest if rest else "")
    name, _, addressee = head.partition("@")
    if addressee and addressee.lower() != username.lower():
        return None
    if not name:
        return None
    return name.lower(), rest.strip()


class TelegramPlatform:
    """The Telegram platform: polling by default, a webhook when configured."""

    name = PLATFORM
    capabilities = frozenset(
        {
            Capability.BUTTONS,
            Capability.DIRECT_MESSAGES,
            Capability.NATIVE_POLLS,
            Capability.EDIT_MESSAGES,
            Capability.IMAGES,
            Capability.MESSAGE_TEXT,
            Capability.REACTIONS,
            Capability.INVITE_LINKS,
            Capability.CUSTOM_TITLES,
            Capability.MEMBER_EVENTS,
            Capability.THREADS,
            Capability.PIN_MESSAGES,
            # no SCHEDULED_EVENTS: ScheduleEvent is announced as a message (see _event)
        }
    )

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        rate_profile: RateProfile = limits.RATE_PROFILE,
        poll_timeout: int = 10,
        callback_wait: float = limits.CALLBACK_REPLY_WAIT_SECONDS,
        read_timeout: float | None = None,
    ) -> None:
        """Configure; nothing connects until :meth:`start`.

        Args:
            settings: Token, API URL, webhook and perk chat settings.
            rate_profile: The limits the outbox keeps (tests pass a faster one).
            poll_timeout: Long-poll timeout of ``getUpdates`` in seconds.
            callback_wait: Seconds a button press waits for a reply to answer it with
                before it is answered empty (see ``CALLBACK_REPLY_WAIT_SECONDS``).
            read_timeout: Seconds to wait for Telegram's answer to a request (None: PTB's
                default); a request that timed out may still have been carried out.
        """
        if settings.token is None:
            raise ValueError("the Telegram adapter needs MAJLIS_TELEGRAM__TOKEN")
        self.settings = settings
        self.rate_profile = rate_profile
        self.limits = limits.LIMITS
        self.poll_timeout = poll_timeout
        self.callback_wait = callback_wait
        self.read_timeout = read_timeout
        self.app: App | None = None
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.username = ""
        self.can_read_all = False
        self._admin_cache: dict[tuple[int, int], tuple[float, Privilege]] = {}
        self._recent: dict[tuple[int, int, str], float] = {}
        self._users: dict[str, MemberRef] = {}
        #: "chat:message" of private messages with buttons -> their community's key.
        self._private_of: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._secret = ""
        self._ready = asyncio.Event()
        #: Callback query id -> (when it arrived, its handle): a redelivered press is known.
        self._callbacks: dict[str, tuple[float, Handle]] = {}
        #: (chat, message, member) of a press -> (when, its handle): which private reply
        #: will be a callback answer (see :meth:`rate_keys`).
        self._pressed: dict[tuple[int, str, str], tuple[float, Handle]] = {}
        #: Parts delivered per action object, for an outbox that passes no ``progress``.
        self._implicit: dict[int, Progress] = {}
        #: Native polls being sent: their ids are stored only once Telegram answers, and a
        #: quick voter's answer can arrive through polling before that (issue 11.7).
        self._polls_sending = 0
        self._polls_sent = asyncio.Condition()
        #: Messages Telegram may have posted without answering, and when each community's
        #: admins last heard of one.
        self.unconfirmed = 0
        self._unconfirmed_told: dict[str, float] = {}

    # -- life cycle ---------------------------------------------------------------------

    async def start(self, app: App) -> None:
        """Build the PTB application, register menus, start polling or the webhook.

        Raises:
            StartError: Telegram refused the token or could not be reached; the message
                never quotes the token (PTB's own ``InvalidToken`` does).
        """
        self.app = app
        assert self.settings.token is not None
        hide_token(self.settings.token.get_secret_value())
        builder = (
            Application.builder()
            .token(self.settings.token.get_secret_value())
            .base_url(self.settings.api_url)
        )
        if self.read_timeout is not None:
            builder = builder.read_timeout(self.read_timeout)
        webhook = self.settings.webhook_url is not None
        if webhook:
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update), group=-1)
        self.application = application
        try:
            await application.initialize()
        except (tg_error.TelegramError, OSError) as exc:
            self.application = None
            await application.bot.shutdown()
            if isinstance(exc, tg_error.InvalidToken):
                raise StartError(
                    "Telegram rejected the bot token (MAJLIS_TELEGRAM__TOKEN); check it with "
                    "@BotFather"
                ) from None
            # ``from None``: the chained PTB error would print the token with the traceback.
            raise StartError(f"could not reach Telegram: {redact(str(exc))}") from None
        self._ready.set()
        me = application.bot
        self.username = me.username or ""
        self.can_read_all = bool(getattr(me.bot, "can_read_all_group_messages", False))
        await application.start()
        try:
            await self._register_commands()
        except tg_error.TelegramError as exc:
            log.warning("could not register the command menus: %s", exc.message)
        if webhook:
            await self._start_webhook()
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
            )

    async def stop(self) -> None:
        """Stop polling or the webhook server, then PTB."""
        self._ready.clear()
        for task in list(self._tasks):
            task.cancel()
        application, self.application = self.application, None
        if application is None:
            return
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    async def _start_webhook(self) -> None:
        assert self.application is not None
        self._secret = (
            self.settings.webhook_secret.get_secret_value()
            if self.settings.webhook_secret is not None
            else secrets.token_urlsafe(32)
        )
        web_app = web.Application()
        web_app.router.add_post(self.settings.webhook_path, self._webhook)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.webhook_listen, self.settings.webhook_port)
        await site.start()
        self._runner = runner
        await self.application.bot.set_webhook(
            url=str(self.settings.webhook_url),
            secret_token=self._secret,
            allowed_updates=ALLOWED_UPDATES,
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        """Accept an update from Telegram when the secret token matches."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(status=403)
        application = self.application
        if application is None:
            return web.Response(status=503)
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response(status=200)

    # -- the Platform protocol: questions -----------------------------------------------

    def restore_handle(self, data: Any) -> Handle | None:
        """A reply handle stored by the outbox before a restart (None if unreadable)."""
        try:
            return Handle.from_json(data)
        except (KeyError, TypeError, ValueError):
            log.warning("outbox: unreadable Telegram reply handle %r", data)
            return None

    def health(self) -> dict[str, Any]:
        """For health checks: connected, and messages delivered unconfirmed (never resent)."""
        return {"connected": self._ready.is_set(), "unconfirmed": self.unconfirmed}

    async def wait_ready(self) -> None:
        """Return once the bot is initialized (its token accepted) and can deliver."""
        await self._ready.wait()

    def rate_keys(self, action: Action) -> tuple[tuple[str, str], ...]:
        """The Telegram buckets ``action`` counts against.

        Every message counts against the global limit and its chat's; a message *to* a
        group or supergroup also against that group's per-minute limit. Callback answers
        count against no chat and not against the global limit: a private reply to a press
        whose query is still open is one (see :meth:`remember_press`). Any other private
        reply in a group may be an answer (a press from before a restart) or a message in
        the member's private chat, so it counts against both. An action that makes no
        message counts against nothing.
        """
        everywhere = (limits.GLOBAL, limits.GLOBAL_KEY)
        if isinstance(action, SendMessage):
            if action.channel is None:
                if action.member is None:
                    return ()
                return (everywhere, (limits.CHAT, action.member.id))
            chat = split_channel(action.channel.id)[0]
            if action.private and self._fits_answer(action.content) and self._press_of(action):
                return ((limits.CALLBACK, ""),)  # answerCallbackQuery
            if action.private and chat < 0:
                direct = (everywhere, (limits.CHAT, action.member.id)) if action.member else ()
                if action.reply_to and self._fits_answer(action.content):
                    return ((limits.CALLBACK, ""), *direct)
                return direct
            return self._message_keys(chat)
        if isinstance(action, EditMessage | PinMessage | UnpinMessage):
            channel_id = action.channel.id if action.channel else action.community.id
            return (everywhere, (limits.CHAT, str(split_channel(channel_id)[0])))
        if isinstance(action, SendPoll | CreateThread):
            channel = action.channel or self.default_channel(action.community)
            return self._message_keys(split_channel(channel.id)[0]) if channel else ()
        if isinstance(action, ScheduleEvent):
            channel = action.post_channel or self.default_channel(action.community)
            return self._message_keys(split_channel(channel.id)[0]) if channel else ()
        if isinstance(action, GrantReward):
            return self._reward_keys(action)
        return (everywhere,)

    def remember_press(self, chat_id: int, message_id: int, member_id: str,
                       handle: Handle) -> None:
        """Note a button press, so a private reply to it counts as a callback answer."""
        now = time.monotonic()
        pressed = self._pressed
        horizon = now - CALLBACK_MEMORY_SECONDS
        while pressed:
            oldest = next(iter(pressed))
            if pressed[oldest][0] > horizon:
                break
            del pressed[oldest]
        pressed[(chat_id, str(message_id), member_id)] = (now, handle)

    def _press_of(self, action: SendMessage) -> Handle | None:
        """The press a private reply answers, while its query is open (else None)."""
        if action.channel is None or action.member is None or not action.reply_to:
            return None
        chat = split_channel(action.channel.id)[0]
        found = self._pressed.get((chat, action.reply_to, action.member.id))
        return found[1] if found is not None and not found[1].answered else None

    @staticmethod
    def _message_keys(chat: int) -> tuple[tuple[str, str], ...]:
        """A message to ``chat``: the global and chat buckets, and the group's if a group."""
        keys = ((limits.GLOBAL, limits.GLOBAL_KEY), (limits.CHAT, str(chat)))
        return (*keys, (limits.GROUP, str(chat))) if chat < 0 else keys

    def _reward_keys(self, action: GrantReward) -> tuple[tuple[str, str], ...]:
        """A reward sends the perk invite privately and a badge note to the group, or nothing.

        A plain badge or a title makes no message (a custom title is an admin call, not a
        message), so it counts against no bucket.
        """
        keys: list[tuple[str, str]] = []
        if self._perk_chat(action.reward) is not None and not action.revoke:
            keys.append((limits.CHAT, action.member.id))
        if action.reward.role is not None:
            channel = action.channel or self.default_channel(action.community)
            if channel is not None:
                keys.extend(self._message_keys(split_channel(channel.id)[0])[1:])
        return ((limits.GLOBAL, limits.GLOBAL_KEY), *keys) if keys else ()

    @staticmethod
    def _fits_answer(content: Content) -> bool:
        """Whether ``content`` can be a callback answer (a short text, nothing else)."""
        return (
            not content.buttons
            and not content.attachments
            and len(content_plain(content)) <= limits.CALLBACK_ANSWER_CHARS
        )

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """Creator -> owner, administrator -> admin (``getChatMember``, cached a minute)."""
        chat_id = int(community.id)
        if chat_id > 0 or not member.id.lstrip("-").isdigit():
            return Privilege.MEMBER
        user_id = int(member.id)
        if user_id == chat_id:
            return Privilege.ADMIN  # an anonymous administrator, posting as the group
        now = time.monotonic()
        cached = self._admin_cache.get((chat_id, user_id))
        if cached is not None and now - cached[0] < ADMIN_CACHE_SECONDS:
            return cached[1]
        found = Privilege.MEMBER
        if self.application is not None:
            try:
                status = (await self.application.bot.get_chat_member(chat_id, user_id)).status
            except tg_error.TelegramError as exc:
                log.warning("getChatMember failed in %s: %s", chat_id, exc.message)
                return Privilege.MEMBER
            if status == ChatMemberStatus.OWNER:
                found = Privilege.OWNER
            elif status == ChatMemberStatus.ADMINISTRATOR:
                found = Privilege.ADMIN
        self._admin_cache[(chat_id, user_id)] = (now, found)
        return found

    async def resolve(self, community: CommunityRef, kind: Kind, token: str) -> Any:
        """Members seen by ``@username`` or id; the chat or a topic as a channel."""
        if kind is Kind.MEMBER:
            key = token.lstrip("@").lower()
            return self._users.get(key)
        if kind is Kind.CHANNEL:
            native = token.lstrip("#")
            if native == community.id or native.startswith(community.id + ":"):
                return ChannelRef(PLATFORM, native)
            return None
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """The group itself."""
        return channel_of(int(community.id), private=int(community.id) > 0)

    # -- command menus ------------------------------------------------------------------

    def _menus(
        self, community: CommunityRef | None, language: str
    ) -> dict[str, list[BotCommand]]:
        assert self.app is not None
        app = self.app
        ref = community or CommunityRef(PLATFORM, "0")
        members: list[BotCommand] = []
        admins: list[BotCommand] = []
        private: list[BotCommand] = []
        for name, (plugin, spec) in sorted(app.dispatcher.commands().items()):
            if len(name) > limits.COMMAND_NAME_CHARS or not name.replace("_", "").isalnum():
                continue
            if community is not None and not app.is_enabled(community, plugin):
                continue
            text = app.translator(plugin.name, language, ref).plain(spec.help) or name
            entry = BotCommand(name, text[: limits.COMMAND_DESCRIPTION_CHARS])
            if spec.privilege <= Privilege.MEMBER:
                private.append(entry)
                if not spec.direct_only:
                    members.append(entry)
            if spec.privilege <= Privilege.ADMIN and not spec.direct_only:
                admins.append(entry)
        cap = limits.COMMANDS_MAX
        return {"members": members[:cap], "admins": admins[:cap], "private": private[:cap]}

    async def _register_commands(self) -> None:
        assert self.application is not None
        bot = self.application.bot
        for language in ("", *MENU_LANGUAGES):
            assert self.app is not None
            menus = self._menus(None, language or self.app.settings.language)
            await bot.set_my_commands(menus["members"], scope=BotCommandScopeAllGroupChats(),
                                      language_code=language or None)
            await bot.set_my_commands(menus["admins"],
                                      scope=BotCommandScopeAllChatAdministrators(),
                                      language_code=language or None)
            await bot.set_my_commands(menus["private"], scope=BotCommandScopeAllPrivateChats(),
                                      language_code=language or None)

    async def commands_changed(self, community: CommunityRef) -> None:
        """Register this group's own menus (plugins enabled or disabled there)."""
        if self.application is None or community.platform != PLATFORM:
            return
        chat_id = int(community.id)
        bot = self.application.bot
        try:
            for language in ("", *MENU_LANGUAGES):
                assert self.app is not None
                menus = self._menus(community, language or self.app.settings.language)
                await bot.set_my_commands(menus["members"], scope=BotCommandScopeChat(chat_id),
                                          language_code=language or None)
                await bot.set_my_commands(menus["admins"],
                                          scope=BotCommandScopeChatAdministrators(chat_id),
                                          language_code=language or None)
        except tg_error.TelegramError as exc:
            log.warning("could not refresh the menus of %s: %s", chat_id, exc.message)

    # -- incoming -----------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._translate(update)
        except Exception:
            log.exception("could not handle Telegram update %s", update.update_id)

    def _t(self, community: CommunityRef, member: MemberRef | None = None) -> Translator:
        assert self.app is not None
        return self.app.translator(
            PLATFORM, self.app.language_for(community, member), community
        )

    def _remember(self, user: User) -> MemberRef:
        member = member_of(user)
        self._users[member.id] = member
        if user.username:
            self._users[user.username.lower()] = member
        return member

    async def _dispatch(self, event: Event) -> bool:
        """Hand ``event`` to the core; False when the core had handled it before (a replay)."""
        assert self.app is not None
        return await self.app.dispatcher.dispatch(event)

    async def _translate(self, update: Update) -> None:
        eid = f"tg:{update.update_id}"
        if update.my_chat_member is not None:
            await self._bot_status(eid, update.my_chat_member)
        elif update.chat_member is not None:
            await self._member_status(update.chat_member)
        elif update.callback_query is not None:
            await self._callback(eid, update)
        elif update.poll_answer is not None:
            await self._poll_answer(eid, update)
        elif update.message_reaction is not None:
            await self._reaction(eid, update)
        elif update.edited_message is not None:
            await self._edited(eid, update.edited_message)
        elif update.message is not None:
            await self._message(eid, update.message)

    async def _bot_status(self, eid: str, changed: ChatMemberUpdated) -> None:
        chat = changed.chat
        if chat.type == "private" or chat.type == "channel":
            return
        new = changed.new_chat_member
        old = changed.old_chat_member
        present = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR,
                   ChatMemberStatus.RESTRICTED)
        if new.status not in present:
            log.info("removed from chat %s", chat.id)
            return
        community = CommunityRef(PLATFORM, str(chat.id))
        missing: list[str] = []
        if new.status != ChatMemberStatus.ADMINISTRATOR:
            missing.append("administrator")
        else:
            missing.extend(r for r in WANTED_RIGHTS if not getattr(new, r, False))
        added_by = self._remember(changed.from_user)
        await self._dispatch(
            CommunityJoined(
                id=eid, community=community, name=chat.title or "", added_by=added_by,
                missing_rights=tuple(missing), at=changed.date,
            )
        )
        was_present = old.status in present
        if was_present and not missing:
            return
        await self._send_setup_note(community, added_by, missing)

    async def _send_setup_note(
        self, community: CommunityRef, admin: MemberRef, missing: list[str]
    ) -> None:
        assert self.app is not None
        t = self._t(community, admin)
        names = {
            "administrator": t.plain("administrator status"),
            "can_delete_messages": t.plain("delete messages"),
            "can_restrict_members": t.plain("ban users"),
            "can_invite_users": t.plain("invite users via link"),
            "can_pin_messages": t.plain("pin messages"),
        }
        if missing:
            text = t.t(
                "Thanks for adding me, {admin}! To work fully I need these rights: {rights}. "
                "Make me an administrator with them. While privacy mode is on (BotFather, "
                "/setprivacy) and I am not an administrator, I only see commands and replies "
                "to me, and I cannot see members join.",
                admin=mention(admin.id, admin.display_name),
                rights=", ".join(names.get(m, m) for m in missing),
            )
        else:
            text = t.t("Thanks, {admin}! I have every right I need. Send /help to begin.",
                       admin=mention(admin.id, admin.display_name))
        await self.app.outbox.submit(
            SendMessage(community=community, channel=self.default_channel(community),
                        content=Content(text)),
            direct=True,
        )

    def _first_report(self, chat_id: int, user_id: int, kind: str) -> bool:
        """True the first time a join/leave is reported within the window."""
        now = time.monotonic()
        self._recent = {k: v for k, v in self._recent.items() if now - v < JOIN_WINDOW_SECONDS}
        key = (chat_id, user_id, kind)
        if key in self._recent:
            return False
        self._recent[key] = now
        opposite = "left" if kind == "join" else "join"
        self._recent.pop((chat_id, user_id, opposite), None)
        return True

    async def _joined(self, chat_id: int, user: User, at: Any) -> None:
        if user.is_bot or not self._first_report(chat_id, user.id, "join"):
            return
        member = self._remember(user)
        stamp = int(at.timestamp()) if at is not None else 0
        await self._dispatch(
            MemberJoined(id=f"tg:join:{chat_id}:{user.id}:{stamp}",
                         community=CommunityRef(PLATFORM, str(chat_id)), member=member, at=at)
        )

    async def _left(self, chat_id: int, user: User, at: Any) -> None:
        if user.is_bot or not self._first_report(chat_id, user.id, "left"):
            return
        member = self._remember(user)
        stamp = int(at.timestamp()) if at is not None else 0
        await self._dispatch(
            MemberLeft(id=f"tg:left:{chat_id}:{user.id}:{stamp}",
                       community=CommunityRef(PLATFORM, str(chat_id)), member=member, at=at)
        )

    async def _member_status(self, changed: ChatMemberUpdated) -> None:
        inside = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR,
                  ChatMemberStatus.OWNER, ChatMemberStatus.RESTRICTED)
        old, new = changed.old_chat_member, changed.new_chat_member
        was = old.status in inside and getattr(old, "is_member", True)
        now_in = new.status in inside and getattr(new, "is_member", True)
        self._admin_cache.pop((changed.chat.id, new.user.id), None)
        if now_in and not was:
            await self._joined(changed.chat.id, new.user, changed.date)
        elif was and not now_in:
            await self._left(changed.chat.id, new.user, changed.date)

    def _sender(self, message: Message) -> tuple[MemberRef, int | None]:
        """Who wrote a message, and a privilege hint for anonymous administrators."""
        sender_chat = message.sender_chat
        if sender_chat is not None:
            hint = int(Privilege.ADMIN) if sender_chat.id == message.chat.id else None
            name = sender_chat.title or sender_chat.full_name or ""
            return MemberRef(PLATFORM, str(sender_chat.id), name), hint
        assert message.from_user is not None
        return self._remember(message.from_user), None

    def _channel(self, message: Message) -> ChannelRef:
        chat = message.chat
        thread = message.message_thread_id if message.is_topic_message else None
        return channel_of(chat.id, thread, name=chat.title or chat.full_name or "",
                          private=chat.type == "private")

    async def _message(self, eid: str, message: Message) -> None:
        chat = message.chat
        if message.migrate_to_chat_id is not None:
            await self._migrate(chat.id, message.migrate_to_chat_id)
            return
        if message.migrate_from_chat_id is not None:
            await self._migrate(message.migrate_from_chat_id, chat.id)
            return
        if message.new_chat_members:
            for user in message.new_chat_members:
                await self._joined(chat.id, user, message.date)
            return
        if message.left_chat_member is not None:
            await self._left(chat.id, message.left_chat_member, message.date)
            return
        if message.from_user is None and message.sender_chat is None:
            return
        member, hint = self._sender(message)
        community = CommunityRef(PLATFORM, str(chat.id))
        channel = self._channel(message)
        text = message.text or message.caption or ""
        handle = Handle(chat.id, message.message_id, channel_thread(channel))
        parsed = parse_command(text, self.username) if message.text else None
        if parsed is not None:
            name, args = parsed
            if chat.type == "private" and name == "start":
                await self._start_command(eid, message, member, args, handle)
                return
            await self._dispatch(
                CommandInvoked(
                    id=eid, community=community, member=member, channel=channel, name=name,
                    text=args, reply_handle=handle, privilege_hint=hint, at=message.date,
                )
            )
            return
        reply = message.reply_to_message
        if reply is not None and message.is_topic_message and reply.forum_topic_created:
            reply = None
        mentions = tuple(
            found
            for e in (message.entities or ())
            if (found := self._mentioned(message, e)) is not None
        )
        await self._dispatch(
            MessagePosted(
                id=eid, community=community, member=member, channel=channel,
                message_id=str(message.message_id), text=text,
                reply_to=str(reply.message_id) if reply is not None else None,
                reply_to_member=member_of(reply.from_user)
                if reply is not None and reply.from_user is not None else None,
                thread=channel if channel.parent else None,
                mentions=mentions, at=message.date,
            )
        )

    def _mentioned(self, message: Message, entity: MessageEntity) -> MemberRef | None:
        """The member a ``text_mention`` names, or a seen member an ``@username`` names."""
        if entity.user is not None:
            return self._remember(entity.user)
        if entity.type == MessageEntity.MENTION:
            return self._users.get(message.parse_entity(entity).lstrip("@").lower())
        return None

    async def _edited(self, eid: str, message: Message) -> None:
        if message.from_user is None and message.sender_chat is None:
            return
        member, _hint = self._sender(message)
        await self._dispatch(
            MessageEdited(
                id=eid, community=CommunityRef(PLATFORM, str(message.chat.id)), member=member,
                channel=self._channel(message), message_id=str(message.message_id),
                text=message.text or message.caption or "", at=message.edit_date,
            )
        )

    async def _callback(self, eid: str, update: Update) -> None:
        query = update.callback_query
        assert query is not None and self.app is not None
        if not self._first_press(query.id):
            log.debug("callback query %s delivered again; answered once already", query.id)
            return
        message = query.message
        chat_id = message.chat.id if isinstance(message, Message) else query.from_user.id
        handle = Handle(chat_id, callback_id=query.id)
        self._callbacks[query.id] = (time.monotonic(), handle)
        first = True
        try:
            if message is None or query.data is None or not isinstance(message, Message):
                return
            community = CommunityRef(PLATFORM, str(message.chat.id))
            if message.chat.type == "private":  # a private flow belongs to its group
                where = f"{message.chat.id}:{message.message_id}"
                key = self._private_of.get(where) or await self.app.db.kv_get(KV_PRIVATE, where)
                if key:
                    community = CommunityRef.from_key(str(key))
            try:
                payload = await decode(query.data, self.app.db)
            except PayloadError as exc:
                log.info("button with unknown payload: %s", exc)
                return
            channel = self._channel(message)
            handle.thread_id = channel_thread(channel)
            self.remember_press(message.chat.id, message.message_id, str(query.from_user.id),
                                handle)
            first = await self._dispatch(
                ButtonPressed(
                    id=eid, community=community,
                    member=self._remember(query.from_user), channel=channel,
                    message_id=str(message.message_id), payload=payload, reply_handle=handle,
                )
            )
        finally:
            if first:
                self._later(self._answer_if_silent(handle))
            else:  # replayed after a restart: the first delivery was answered (or expired)
                handle.answered = True

    def _first_press(self, query_id: str) -> bool:
        """False for a callback query id seen within :data:`CALLBACK_MEMORY_SECONDS`."""
        horizon = time.monotonic() - CALLBACK_MEMORY_SECONDS
        known = self._callbacks
        while known:
            oldest = next(iter(known))
            if known[oldest][0] > horizon:
                break
            del known[oldest]
        return query_id not in known

    def _later(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_if_silent(self, handle: Handle) -> None:
        """Answer a callback query empty if no reply answered it in time.

        Telegram's client shows a spinner until the query is answered and refuses late
        answers; a reply that comes after this goes to the member's private chat.
        """
        await asyncio.sleep(self.callback_wait)
        try:
            await self._answer(handle)
        except tg_error.TelegramError as exc:
            log.info("could not answer a callback query: %s", exc.message)
        except NotConnected:
            pass

    async def _answer(self, handle: Handle, text: str | None = None) -> bool:
        """Answer ``handle``'s callback query once; False if it was answered or is too old.

        Raises:
            telegram.error.TelegramError: Anything else (a 429 leaves it unanswered).
        """
        async with handle.lock:
            if handle.answered or handle.callback_id is None:
                return False
            try:
                await self._bot.answer_callback_query(
                    handle.callback_id, text=text, show_alert=bool(text)
                )
            except tg_error.BadRequest as exc:
                if not any(m in exc.message.lower() for m in QUERY_TOO_OLD):
                    raise
                handle.answered = True  # it can no longer be answered: nobody else tries
                log.info("callback query %s answered too late", handle.callback_id)
                return False
            handle.answered = True
            return True

    async def _poll_answer(self, eid: str, update: Update) -> None:
        """A vote in a native poll, reported under the poll message's id.

        The outbox got the poll message's id back from delivering the ``SendPoll``, and
        that is the id the plugin knows the poll by; Telegram's ``poll_id`` is mapped to it
        through the kv store (``telegram.polls``), so votes count after a restart too.
        """
        answer = update.poll_answer
        assert answer is not None and self.app is not None
        known = await self._poll_of(answer.poll_id)
        if known is None or answer.user is None:
            return
        chat, _, message_id = known.partition("/")
        await self._dispatch(
            PollAnswered(
                id=eid, community=CommunityRef(PLATFORM, chat),
                member=self._remember(answer.user), poll_id=message_id or answer.poll_id,
                options=tuple(answer.option_ids),
            )
        )

    async def _reaction(self, eid: str, update: Update) -> None:
        reaction = update.message_reaction
        assert reaction is not None
        if reaction.user is None:
            return
        member = self._remember(reaction.user)
        community = CommunityRef(PLATFORM, str(reaction.chat.id))
        channel = channel_of(reaction.chat.id, name=reaction.chat.title or "")

        def emojis(items: Iterable[Any]) -> list[str]:
            return [r.emoji for r in items if isinstance(r, ReactionTypeEmoji)]

        old, new = emojis(reaction.old_reaction), emojis(reaction.new_reaction)
        for i, emoji in enumerate(e for e in new if e not in old):
            await self._dispatch(ReactionAdded(
                id=f"{eid}:+{i}", community=community, member=member, channel=channel,
                message_id=str(reaction.message_id), emoji=emoji, at=reaction.date,
            ))
        for i, emoji in enumerate(e for e in old if e not in new):
            await self._dispatch(ReactionRemoved(
                id=f"{eid}:-{i}", community=community, member=member, channel=channel,
                message_id=str(reaction.message_id), emoji=emoji, at=reaction.date,
            ))

    async def _start_command(
        self, eid: str, message: Message, member: MemberRef, arg: str, handle: Handle
    ) -> None:
        """``/start`` in private: deliver held invites, open a deep-linked private flow."""
        assert self.app is not None
        own = CommunityRef(PLATFORM, str(message.chat.id))
        channel = self._channel(message)
        invite = await self.app.db.kv_get(KV_INVITES, member.id)
        if invite:
            await self.app.db.kv_set(KV_INVITES, member.id, None)
            t = self._t(own, member)
            await self._submit_private(own, channel, member, Content(
                t.t("Here is your single-use invite link: {link}", link=str(invite))))
        target = await self._deep_link_target(arg) if arg else None
        if target is None:
            if not invite:
                t = self._t(own, member)
                await self._submit_private(own, channel, member, Content(
                    t.t("Hello! I can now send you private messages.")))
            return
        community, payload = target
        await self._dispatch(
            ButtonPressed(
                id=eid, community=community, member=member, channel=channel,
                message_id=str(message.message_id), payload=payload, reply_handle=handle,
            )
        )

    async def _submit_private(
        self, community: CommunityRef, channel: ChannelRef, member: MemberRef, content: Content
    ) -> None:
        assert self.app is not None
        await self.app.outbox.submit(
            SendMessage(community=community, channel=channel, member=member, content=content),
            direct=True,
        )

    async def _deep_link_target(self, arg: str) -> tuple[CommunityRef, Payload] | None:
        assert self.app is not None
        if not arg.startswith(DEEP_LINK_PREFIX):
            return None
        raw = await self.app.db.get_payload("~" + arg[len(DEEP_LINK_PREFIX):])
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return CommunityRef.from_key(data["c"]), Payload.unpack(data["p"])
        except (ValueError, KeyError, PayloadError):
            return None

    async def deep_link(self, community: CommunityRef, payload: Payload | None) -> str:
        """``https://t.me/<bot>?start=<key>`` that opens ``payload`` in a private chat."""
        assert self.app is not None
        base = f"https://t.me/{self.username}"
        if payload is None:
            return base
        raw = json.dumps({"c": community.key, "p": payload.pack()}, separators=(",", ":"))
        key = stored_key(raw)
        await self.app.db.put_payload(key, raw)
        return f"{base}?start={DEEP_LINK_PREFIX}{key[1:]}"

    async def _migrate(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: move every row to the new id, refresh caches."""
        assert self.app is not None
        app = self.app
        if await app.migrate_community(
            CommunityRef(PLATFORM, str(old_id)), CommunityRef(PLATFORM, str(new_id))
        ):
            log.info("group %s migrated to supergroup %s", old_id, new_id)

    # -- outgoing -----------------------------------------------------------------------

    @property
    def _bot(self) -> Any:
        if self.application is None or not self._ready.is_set():
            raise NotConnected("telegram is not connected")
        return self.application.bot

    async def _encode(self, payload: Payload) -> str:
        assert self.app is not None
        return await shorten(payload.pack(), limits.CALLBACK_DATA_BYTES, self.app.db)

    async def _keyboard(
        self, community: CommunityRef, content: Content, *, deep: bool = False
    ) -> InlineKeyboardMarkup | None:
        async def link(payload: Payload) -> str:
            return await self.deep_link(community, payload)

        markup = await inline_keyboard(content.buttons, self._encode, link if deep else None)
        if deep and markup is None:
            t = self._t(community)
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                t.plain("Open a private chat with me"), url=await self.deep_link(community, None)
            )]])
        return markup

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        """Carry out one action; Telegram errors become the core's delivery errors.

        ``progress`` records each part (message) as soon as it is sent and skips parts
        already sent, so a 429 on a picture never re-sends the text before it. An outbox
        that passes none gets the same within this process: the parts are kept per action
        object until it is delivered.

        Network failures (the Bot API has no idempotency key): a request surely not sent
        (connection refused, connect or pool timeout) is retried. One that may have been
        carried out (read timeout, connection lost after the request was written) is retried
        only when doing it twice changes nothing a member sees: edits ("not modified"),
        callback answers (a second one is refused, and the reply goes privately), titles,
        invite links. A message, picture, document or poll is not sent again: it is
        recorded as delivered, unconfirmed (``UNCONFIRMED``, see :meth:`_once`); losing
        the confirmation of one message is less bad than posting it twice.
        """
        if self.application is None or not self._ready.is_set():
            raise NotConnected("telegram is not connected")
        implicit = progress is None
        if progress is None:
            progress = self._progress_of(action)
        try:
            delivered = await self._deliver(action, reply_handle, progress)
        except tg_error.RetryAfter as exc:
            retry = getattr(exc, "_retry_after", None)  # a timedelta; the property warns
            seconds = retry.total_seconds() if retry is not None else 1.0
            bucket = self._refused_bucket(action, reply_handle)
            raise RetryAfter(seconds, bucket[0] if bucket else "chat", bucket) from None
        except tg_error.Forbidden as exc:
            raise PermanentError(BLOCKED, error=exc.message) from None
        except tg_error.BadRequest as exc:
            raise PermanentError(REFUSED, error=exc.message) from None
        except (tg_error.TimedOut, tg_error.NetworkError) as exc:
            raise TransientError(redact(exc.message)) from None
        if implicit:
            self._implicit.pop(id(action), None)
        return delivered

    async def _deliver(self, action: Action, handle: Any, progress: Progress) -> Delivered:
        if isinstance(action, SendMessage):
            return await self._send(action, handle, progress)
        if isinstance(action, EditMessage):
            return await self._edit(action)
        if isinstance(action, PinMessage | UnpinMessage):
            return await self._pin(action)
        if isinstance(action, GrantReward):
            return await self._reward(action, progress)
        if isinstance(action, SendPoll):
            return await self._poll(action)
        if isinstance(action, CreateThread):
            return await self._thread(action, progress)
        if isinstance(action, ScheduleEvent):
            return await self._event(action, progress)
        raise PermanentError(REFUSED, error=action.kind)

    def _progress_of(self, action: Action) -> Progress:
        """The parts sent so far of ``action`` (this object), kept until it is collected."""
        found = self._implicit.get(id(action))
        if found is None:
            found = self._implicit[id(action)] = Progress()
            weakref.finalize(action, self._implicit.pop, id(action), None)
        return found

    def _refused_bucket(self, action: Action, handle: Any) -> tuple[str, str] | None:
        """The bucket a 429 most likely refused: Telegram does not say which one."""
        if (
            isinstance(handle, Handle)
            and handle.callback_id
            and not handle.answered
            and isinstance(action, SendMessage)
            and action.private
        ):
            return (limits.CALLBACK, "")
        keys = self.rate_keys(action)
        return keys[-1] if keys else None

    async def _send(self, action: SendMessage, handle: Any, progress: Progress) -> Delivered:
        content = action.content
        if action.channel is None:
            return await self._direct(action, progress)
        chat_id, thread = split_channel(action.channel.id)
        callback = handle if isinstance(handle, Handle) and handle.callback_id else None
        if action.private:
            if callback is not None:
                if self._fits_answer(content):
                    if await self._answer(callback, content_plain(content)):
                        return Delivered(None)
                else:
                    await self._stop_spinner(callback)
            if chat_id < 0:  # a group: private text goes to the member's private chat only
                return await self._private(action, progress)
        reply = (
            handle.message_id
            if isinstance(handle, Handle) and action.reply_to and handle.chat_id == chat_id
            else None
        )
        return await self._post(chat_id, thread, content, action.community, reply=reply,
                                deep=action.unreached, progress=progress)

    async def _stop_spinner(self, handle: Handle) -> None:
        """Answer a press empty now: its reply comes as a message, not as the answer."""
        try:
            await self._answer(handle)
        except tg_error.TelegramError as exc:
            log.info("could not answer a callback query: %s", exc.message)

    async def _direct(self, action: SendMessage, progress: Progress) -> Delivered:
        """A message to ``action.member``'s private chat (``ctx.dm``)."""
        if action.member is None:
            raise PermanentError(REFUSED, error="no recipient")
        return await self._to_private_chat(action, progress)

    async def _private(self, action: SendMessage, progress: Progress) -> Delivered:
        """A private reply in a group, sent to the member's private chat with the bot."""
        if action.member is None:
            raise Undeliverable("a private reply without a member")
        return await self._to_private_chat(action, progress)

    async def _to_private_chat(self, action: SendMessage, progress: Progress) -> Delivered:
        """Post in the member's private chat, or raise :class:`Undeliverable`.

        An anonymous admin (posting as the group) has no private chat; a member who never
        started the bot, or blocked it, cannot be written to. The outbox then posts the
        action's fallback, whose buttons become deep links into the private chat.
        """
        member = action.member
        assert member is not None
        if not member.id.isdigit():
            raise Undeliverable("this member has no private chat with the bot")
        try:
            done = await self._post(int(member.id), None, action.content,
                                    action.community, progress=progress)
        except tg_error.Forbidden as exc:
            raise Undeliverable(exc.message) from None
        if (action.content.buttons and done.message_id not in (None, UNCONFIRMED)
                and self.app is not None):
            # Presses in the private chat belong to the community the message came from:
            # known here at once (a press may come before the stored copy is committed).
            where = f"{member.id}:{done.message_id}"
            if len(self._private_of) >= _PRIVATE_OF_SIZE:
                self._private_of.clear()  # the stored copy answers for older messages
            self._private_of[where] = action.community.key
            await self.app.db.kv_set(KV_PRIVATE, where, action.community.key)
        return done

    async def _post(
        self,
        chat_id: int,
        thread: int | None,
        content: Content,
        community: CommunityRef,
        *,
        reply: int | None = None,
        deep: bool = False,
        progress: Progress | None = None,
        first: int = 0,
    ) -> Delivered:
        """Send ``content`` as text message(s) then one message per attachment.

        Part ``first + i`` is the i-th message; each is recorded in ``progress`` once sent
        and skipped when already there.
        """
        bot = self._bot
        parts = progress.parts if progress is not None else {}
        keyboard = await self._keyboard(community, content, deep=deep)
        chunks = split_html(content) or ([] if content.attachments else ["\u2060"])
        last: str | None = None
        index = first
        for i, chunk in enumerate(chunks):
            if index not in parts:
                message = await self._once(community, bot.send_message(
                    chat_id,
                    chunk,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    message_thread_id=thread,
                    reply_parameters=ReplyParameters(reply, allow_sending_without_reply=True)
                    if reply and i == 0 else None,
                    reply_markup=keyboard if i == len(chunks) - 1 and not content.attachments
                    else None,
                ))
                parts[index] = str(message.message_id) if message else UNCONFIRMED
            last = parts[index]
            index += 1
        for j, attachment in enumerate(content.attachments):
            if index not in parts:
                markup = keyboard if j == len(content.attachments) - 1 else None
                upload = InputFile(attachment.data, filename=attachment.filename)
                if attachment.image and len(attachment.data) <= limits.PHOTO_BYTES:
                    sent = bot.send_photo(chat_id, upload, message_thread_id=thread,
                                          reply_markup=markup)
                else:
                    sent = bot.send_document(chat_id, upload, message_thread_id=thread,
                                             reply_markup=markup)
                message = await self._once(community, sent)
                parts[index] = str(message.message_id) if message else UNCONFIRMED
            last = parts[index]
            index += 1
        return Delivered(last)

    async def _once(self, community: CommunityRef, call: Awaitable[Message]) -> Message | None:
        """Await a call that posts a message; None when Telegram may have posted it unanswered.

        The Bot API has no idempotency key, so a post whose answer was lost is not sent
        again (it would show twice): it counts as delivered, unconfirmed, with a log line,
        a count in :meth:`health` and a note to the community's admins (once an hour).
        Requests surely not sent raise, and are retried by the outbox.
        """
        try:
            return await call
        except tg_error.NetworkError as exc:
            if not maybe_sent(exc):
                raise
        self.unconfirmed += 1
        log.warning("telegram: a message to %s may be posted but was not confirmed; "
                    "not sent again (%d so far)", community.key, self.unconfirmed)
        now = time.monotonic()
        told = self._unconfirmed_told.get(community.key)
        if self.app is not None and (told is None or now - told >= UNCONFIRMED_REPORT_SECONDS):
            self._unconfirmed_told[community.key] = now
            note = Markup("⚠ ") + self._t(community).t(NOT_CONFIRMED)
            self._later(self.app.tell_admins(community, note))
        return None

    async def _edit(self, action: EditMessage) -> Delivered:
        if action.message_id == UNCONFIRMED:
            raise PermanentError(NOT_CONFIRMED)
        channel_id = action.channel.id if action.channel is not None else action.community.id
        chat_id, _thread = split_channel(channel_id)
        chunks = split_html(action.content)
        keyboard = await self._keyboard(action.community, action.content)
        try:
            await self._bot.edit_message_text(
                chunks[0] if chunks else "\u2060",
                chat_id=chat_id,
                message_id=int(action.message_id),
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=keyboard,
            )
        except tg_error.BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        return Delivered(action.message_id)

    async def _pin(self, action: PinMessage | UnpinMessage) -> Delivered:
        """Pin without notifying the chat, or unpin; a chat where the bot may not is declined.

        Unpinning a message that is gone (deleted by an admin) is done: nothing is pinned.
        """
        if action.message_id == UNCONFIRMED:
            raise PermanentError(NOT_CONFIRMED)
        channel_id = action.channel.id if action.channel is not None else action.community.id
        chat_id, _thread = split_channel(channel_id)
        message_id = int(action.message_id)
        try:
            if isinstance(action, PinMessage):
                await self._bot.pin_chat_message(chat_id, message_id, disable_notification=True)
            else:
                await self._bot.unpin_chat_message(chat_id, message_id=message_id)
        except tg_error.BadRequest as exc:
            if NO_PIN_RIGHTS in exc.message.lower():
                raise Declined(PIN_REFUSED) from None
            if isinstance(action, UnpinMessage) and "not found" in exc.message.lower():
                log.info("message %s to unpin in %s is gone: %s", message_id, chat_id,
                         exc.message)
                return Delivered(action.message_id)
            raise
        return Delivered(action.message_id)

    async def _reward(self, action: GrantReward, progress: Progress) -> Delivered:
        """Telegram has no roles: a custom title for admins, and for a role a badge message.

        The plugin that grants a reward announces it; this adds only what stands in for what
        Telegram cannot do: a role becomes a badge message in the group. A reward with a role
        or a ``perk_chat`` also brings a single-use invite to the perk chat, sent in private.
        Part 0 is the invite (its private message id, or ``HELD`` when it waits for the
        member's ``/start``), so a retry creates no second invite; the badge note follows.
        """
        assert self.app is not None
        community, member, reward = action.community, action.member, action.reward
        t = self._t(community, member)
        label = reward.title or reward.badge
        if (
            reward.title
            and not action.revoke
            and not progress.parts
            and int(community.id) < 0
            and await self.privilege_of(community, member) == Privilege.ADMIN
        ):
            try:
                await self._bot.set_chat_administrator_custom_title(
                    community.id, int(member.id), reward.title[: limits.CUSTOM_TITLE_CHARS]
                )
            except tg_error.BadRequest as exc:
                log.info("custom title not set: %s", exc.message)
        parts: list[Markup] = []
        if reward.role is not None:
            who = mention(member.id, member.display_name)
            if action.revoke:
                parts.append(t.t("{member} no longer holds the badge “{badge}”.", member=who,
                                 badge=label))
            else:
                parts.append(t.t("🏅 {member} earned the badge “{badge}”!", member=who,
                                 badge=label))
        perk = self._perk_chat(reward)
        deep = False
        if perk is not None and not action.revoke:
            invited = progress.parts.get(0)
            if invited is None:
                invited = await self._invite(action, perk, label)
                progress.parts[0] = invited
            if invited == HELD:
                parts.append(t.t("Open a private chat with me to receive your invite link."))
                deep = True
            elif parts:
                parts.append(t.t("I sent you an invite link in private."))
        if not parts:
            return Delivered(None)
        channel = action.channel or self.default_channel(community)
        assert channel is not None
        chat_id, thread = split_channel(channel.id)
        return await self._post(chat_id, thread, Content(Markup(" ").join(parts)), community,
                                deep=deep, progress=progress, first=1)

    async def _invite(self, action: GrantReward, perk: int | str, label: str) -> str:
        """Create a single-use perk invite and send it privately: the message id, or HELD."""
        assert self.app is not None
        member, community = action.member, action.community
        link = await self._bot.create_chat_invite_link(
            perk, member_limit=1, name=label[: limits.INVITE_LINK_NAME_CHARS]
        )
        t = self._t(community, member)
        note = Content(t.t("Your reward “{badge}” opens a perk chat. This invite link works "
                           "once: {link}", badge=label, link=link.invite_link))
        try:
            sent = await self._post(int(member.id), None, note, community)
        except tg_error.Forbidden:
            await self.app.db.kv_set(KV_INVITES, member.id, link.invite_link)
            return HELD
        return sent.message_id or HELD

    def _perk_chat(self, reward: Reward) -> int | str | None:
        """The chat a reward opens: its own ``perk_chat``, else the configured one for roles."""
        if reward.perk_chat:
            chat = reward.perk_chat.strip()
            return int(chat) if chat.lstrip("-").isdigit() else chat
        if reward.role is not None:
            return self.settings.perk_chat_id
        return None

    async def _poll(self, action: SendPoll) -> Delivered:
        assert self.app is not None
        n = len(action.options)
        if not limits.POLL_OPTIONS_MIN <= n <= limits.POLL_OPTIONS_MAX:
            raise PermanentError(POLL_OPTIONS, low=limits.POLL_OPTIONS_MIN,
                                 high=limits.POLL_OPTIONS_MAX, n=n)
        period: int | None = None
        if action.duration is not None:
            period = int(action.duration.total_seconds())
            if period > limits.POLL_OPEN_PERIOD_MAX:
                raise PermanentError(POLL_PERIOD, n=limits.POLL_OPEN_PERIOD_MAX)
            period = max(period, limits.POLL_OPEN_PERIOD_MIN)
        channel = action.channel or self.default_channel(action.community)
        assert channel is not None
        chat_id, thread = split_channel(channel.id)
        self._polls_sending += 1
        try:
            message = await self._once(action.community, self._bot.send_poll(
                chat_id,
                action.question[: limits.POLL_QUESTION_CHARS],
                [o[: limits.POLL_OPTION_CHARS] for o in action.options],
                is_anonymous=action.anonymous,
                allows_multiple_answers=action.multiple,
                open_period=period,
                message_thread_id=thread,
            ))
            if message is None:  # its votes cannot be told from another poll's: not counted
                return Delivered(UNCONFIRMED)
            if message.poll is not None:  # votes name the poll; the plugin knows its message
                await self.app.db.kv_set(KV_POLLS, message.poll.id,
                                         f"{chat_id}/{message.message_id}")
        finally:
            async with self._polls_sent:
                self._polls_sending -= 1
                self._polls_sent.notify_all()
        return Delivered(str(message.message_id))

    async def _poll_of(self, poll_id: str) -> str | None:
        """``chat/message_id`` of a native poll, waiting for polls still being sent.

        A vote can reach us before ``sendPoll``'s own response (updates and the request
        race); it then waits, at most :data:`POLL_MAPPING_WAIT` seconds, for the sends in
        flight to store their ids instead of being dropped as a poll we never sent.
        """
        assert self.app is not None
        known = await self.app.db.kv_get(KV_POLLS, poll_id)
        if known is not None or not self._polls_sending:
            return None if known is None else str(known)
        try:
            async with asyncio.timeout(POLL_MAPPING_WAIT), self._polls_sent:
                await self._polls_sent.wait_for(lambda: not self._polls_sending)
        except TimeoutError:
            pass
        known = await self.app.db.kv_get(KV_POLLS, poll_id)
        return None if known is None else str(known)


    # -- threads and scheduled events (fallbacks) -----------------------------------------

    async def _thread(self, action: CreateThread, progress: Progress) -> Delivered:
        """A forum topic in a forum supergroup; elsewhere the first post as a message.

        Fallback: in a group that is not a forum, or when the topic cannot be created
        (no right to manage topics, or a Bot API server without ``createForumTopic``), the
        first post goes out as an ordinary message headed by the thread's name, answering
        ``from_message`` when given; the delivered id is then that message's id, not a
        channel id. A topic's delivered id is its channel id (``chat:topic``).
        """
        assert self.app is not None
        community = action.community
        channel = action.channel or self.default_channel(community)
        if channel is None:
            raise PermanentError(REFUSED, error="no channel")
        chat_id, thread = split_channel(channel.id)
        content = action.content
        has_post = bool(content.text or content.card or content.attachments or content.buttons)
        topic_id = progress.parts.get(0)  # the topic made by an earlier try, if any
        if topic_id is None and thread is None and chat_id < 0 and (
            await self._bot.get_chat(chat_id)
        ).is_forum:
            try:
                topic = await self._bot.create_forum_topic(
                    chat_id, action.name[: limits.FORUM_TOPIC_NAME_CHARS]
                )
            except (tg_error.BadRequest, tg_error.Forbidden, tg_error.InvalidToken) as exc:
                log.info("no forum topic in %s (%s); posting a message instead", chat_id,
                         exc.message)
                topic_id = progress.parts[0] = NO_TOPIC
            except tg_error.NetworkError as exc:
                if not maybe_sent(exc):
                    raise
                # The topic may exist, but its id was lost with the answer and the Bot API
                # cannot list topics: trying again could make a second one.
                log.warning("telegram: a forum topic in %s may be created but was not "
                            "confirmed; posting a message instead", chat_id)
                self.unconfirmed += 1
                topic_id = progress.parts[0] = NO_TOPIC
            else:
                topic_id = progress.parts[0] = str(topic.message_thread_id)
        if topic_id is not None and topic_id != NO_TOPIC:
            if has_post:
                await self._post(chat_id, int(topic_id), content, community,
                                 progress=progress, first=1)
            return Delivered(channel_of(chat_id, int(topic_id)).id)
        reply: int | None = None
        if action.from_message is not None:
            found = await self.app.outbox.message_id(action.from_message)
            reply = int(found) if found is not None and str(found).isdigit() else None
        heading = self._t(community).t("🧵 **{name}**", name=action.name)
        text = Markup("\n\n").join([heading, content.text]) if content.text else heading
        return await self._post(chat_id, thread, replace(content, text=text), community,
                                reply=reply, progress=progress, first=1)

    def _event_text(self, action: ScheduleEvent) -> Markup:
        """An event's announcement: name, date and time in the community's timezone, place."""
        t = self._t(action.community)
        assert action.start is not None
        start = t.datetime(action.start)
        if action.cancel:
            return t.t("❌ The event “{name}” on {start} is cancelled.", name=action.name,
                       start=start)
        lines = [t.t("📅 **{name}**", name=action.name)]
        if action.end is not None:
            lines.append(t.t("🕒 {start} to {end}", start=start, end=t.datetime(action.end)))
        else:
            lines.append(t.t("🕒 {start}", start=start))
        if action.location:
            lines.append(t.t("📍 {place}", place=action.location))
        if action.description:
            lines.append(escape(action.description))
        return Markup("\n").join(lines)

    async def _event(self, action: ScheduleEvent, progress: Progress) -> Delivered:
        """No scheduled events on Telegram: an announcement message, edited on updates.

        The announcement's chat and message id are kept under the event's key
        (``telegram.events``); an update edits it (or posts anew if it is gone), a cancel
        answers it with a cancellation note.
        """
        assert self.app is not None
        community = action.community
        channel = action.post_channel or self.default_channel(community)
        if channel is None or action.start is None:
            raise PermanentError(REFUSED, error="no channel")
        chat_id, thread = split_channel(channel.id)
        key = f"{community.key}:{action.event_key}"
        known = await self.app.db.kv_get(KV_EVENTS, key)
        old_chat, _, old_message = str(known or "").partition("/")
        content = Content(self._event_text(action))
        if action.cancel:
            if not old_message:
                return Delivered(None)
            await self.app.db.kv_set(KV_EVENTS, key, None)
            return await self._post(int(old_chat), thread, content, community,
                                    reply=int(old_message), progress=progress)
        if old_message:
            try:
                return await self._edit(EditMessage(
                    community=community, channel=channel_of(int(old_chat)),
                    message_id=old_message, content=content,
                ))
            except tg_error.BadRequest as exc:
                log.info("event announcement %s is gone (%s); posting anew", old_message,
                         exc.message)
        delivered = await self._post(chat_id, thread, content, community, progress=progress)
        await self.app.db.kv_set(KV_EVENTS, key, f"{chat_id}/{delivered.message_id}")
        return delivered


def channel_thread(channel: ChannelRef) -> int | None:
    """The forum topic id of a channel, if it is a topic."""
    return split_channel(channel.id)[1]
