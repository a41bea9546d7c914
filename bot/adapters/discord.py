"""Discord: discord.py 2 on one side, the core's events and actions on the other.

Gateway events become core events whose ids carry Discord's own identity (message,
interaction and member ids), so events replayed after a RESUME are dropped by the core.
Interactions are acknowledged at once (deferred) and answered later through follow-ups by
:meth:`DiscordPlatform.deliver`, also after a restart (the outbox stores the handle's
application id and token: :meth:`Handle.to_json`); after 15 minutes, or when the
interaction's webhook is gone, public answers go to the channel and private ones by DM
(or not at all: a private text is never posted in a channel). Buttons are persistent:
their ``custom_id`` is the packed payload (or a stored key), decoded on every press, so no
view registry is needed and presses survive restarts. Slash commands are built from the
plugins' declarations in :mod:`bot.adapters.discord_commands`.

The gateway connection is supervised (:meth:`DiscordPlatform.health`,
:meth:`DiscordPlatform.failed`); a payload discord.py cannot parse is logged and skipped.
Failures are classified by Discord's JSON error codes in :mod:`bot.adapters.discord_errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import io
import logging
import math
import random
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters import discord_limits as limits
from bot.adapters.discord_commands import flatten_options, sync_commands
from bot.adapters.discord_errors import classify, current_bucket, describe, set_where
from bot.adapters.discord_gateway import (
    MEMBER_MESSAGE_TYPES,
    RefCache,
    message_posted_from_payload,
)
from bot.adapters.discord_render import card_embed, content_markdown, view_of
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
    MessagePosted,
    PollAnswered,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.i18n import N_, Translator
from bot.core.messages import Content
from bot.core.payloads import Payload, PayloadError, decode, shorten
from bot.core.platform import (
    Declined,
    Delivered,
    DeliveryError,
    NeedsAdmin,
    NotConnected,
    PermanentError,
    Progress,
    TransientError,
    Undeliverable,
)
from bot.core.privilege import Privilege
from bot.core.ratelimit import RateProfile
from bot.core.refs import ChannelRef, CommunityRef, MemberRef, RoleRef

if TYPE_CHECKING:
    from bot.app import App
    from bot.settings import DiscordSettings

log = logging.getLogger(__name__)

PLATFORM = "discord"
#: Interactions older than this answer in the channel instead (a margin below 15 minutes).
FOLLOWUP_SECONDS = limits.INTERACTION_FOLLOWUP_SECONDS - 30.0
#: How long start() waits for the gateway's READY before going on in the background.
READY_TIMEOUT = 60.0
#: kv namespace: DM message id -> the guild it was sent for (its buttons act there).
KV_DM = "discord.dm"
_USER = re.compile(r"^<@!?(\d+)>$")
_CHANNEL = re.compile(r"^<#(\d+)>$")
_ROLE = re.compile(r"^<@&(\d+)>$")

# Reasons for the admins' failure report (msgids, translated here in the ``discord`` domain).
ROLE_REFUSED = N_(
    "Discord refused to change the role “{role}” of {member}. Give me the Manage Roles "
    "permission and move my role above “{role}” in the server settings."
)
REFUSED = N_("Discord did not accept the request: {error}")
POLL_ANSWERS = N_("A Discord poll needs between 1 and {n} answers; this one has {count}.")
POLL_QUESTION = N_("A Discord poll question can be at most {n} characters long.")
POLL_ANSWER = N_("A Discord poll answer can be at most {n} characters long: “{answer}”.")
POLL_DURATION = N_("A Discord poll can stay open at most {n} days.")
THREAD_REFUSED = N_(
    "Discord refused to open the thread “{name}”. Give me the Create Public Threads and "
    "Send Messages in Threads permissions in that channel."
)
EVENT_REFUSED = N_(
    "Discord refused to schedule the event “{name}”. Give me the Manage Events permission."
)
EVENT_PLACE = N_("A Discord event needs a location or a voice or stage channel.")
PIN_REFUSED = N_(
    "Discord refused to pin or unpin a message in {channel}. Give me the Pin Messages "
    "permission there."
)
#: Where the ids of scheduled events are kept (``app.db.kv_get``/``kv_set``), keyed by
#: ``<community key>:<event key>``.
KV_EVENTS = "discord.events"


class GatewayFailed(RuntimeError):
    """The gateway could not be kept up (bad token, refused intents, or repeated failures).

    :meth:`DiscordPlatform.failed` resolves with it; the process should exit non-zero so
    its supervisor (systemd, Docker, ...) restarts it or tells someone.
    """


@dataclass(slots=True)
class Handle:
    """How to answer one interaction: through its webhook (application id + token).

    A live handle holds discord.py's interaction; the outbox stores :meth:`to_json`, and
    :meth:`DiscordPlatform.restore_handle` rebuilds a handle without it after a restart, so
    a reply queued at shutdown is still a follow-up (ephemeral if private) while the token
    is valid. ``created`` is wall-clock time: it must mean the same in the next process.
    """

    interaction_id: int
    application_id: int
    token: str
    type: int
    channel_id: int | None
    created: float
    #: Whether the initial response was sent (or deferred): only then is there a webhook.
    responded: bool = True
    interaction: discord.Interaction[Any] | None = None

    @classmethod
    def live(cls, interaction: discord.Interaction[Any]) -> Handle:
        """The handle of an interaction just received (and acknowledged, or tried)."""
        return cls(
            interaction.id, interaction.application_id, interaction.token,
            int(interaction.type.value), interaction.channel_id, time.time(),
            interaction.response.is_done(), interaction,
        )

    @property
    def acknowledged(self) -> bool:
        """Whether the initial response went out (the live interaction knows best)."""
        if self.interaction is not None:
            return self.interaction.response.is_done()
        return self.responded

    @property
    def expired(self) -> bool:
        """Whether follow-ups no longer work.

        A restored handle whose interaction was never acknowledged cannot be answered at
        all: the initial response had to go out within 3 seconds.
        """
        if self.interaction is None and not self.responded:
            return True
        return time.time() - self.created > FOLLOWUP_SECONDS

    def webhook(self, client: discord.Client) -> discord.Webhook:
        """The interaction's follow-up webhook (application type: ephemeral is allowed)."""
        if self.interaction is not None:
            return self.interaction.followup
        data: Any = {"id": self.application_id, "type": 3, "token": self.token}
        return discord.Webhook.from_state(data=data, state=client._connection)

    def to_json(self) -> dict[str, Any]:
        """What the outbox stores, so a reply queued at shutdown still answers after restart.

        It holds the interaction's token (valid 15 minutes, for this interaction only):
        never log it.
        """
        return {
            "interaction": str(self.interaction_id), "application": str(self.application_id),
            "token": self.token, "type": self.type,
            "channel": str(self.channel_id) if self.channel_id is not None else None,
            "responded": self.acknowledged, "created": self.created,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Handle:
        """The handle :meth:`to_json` stored (without a live interaction)."""
        channel = data.get("channel")
        return cls(
            int(data["interaction"]), int(data["application"]), str(data["token"]),
            int(data["type"]), int(channel) if channel is not None else None,
            float(data["created"]), bool(data.get("responded", False)),
        )


class StaticView(discord.ui.View):
    """A view discord.py does not keep: presses arrive as raw interactions, decoded anew."""

    def is_dispatchable(self) -> bool:
        """Never stored in discord.py's view store (buttons must work after restarts)."""
        return False


# -- translation of native objects (hot path: no I/O) ------------------------------------


def member_ref(user: discord.abc.User | discord.Member) -> MemberRef:
    """A Discord user or member as a member reference (no language: see the module doc)."""
    return MemberRef(PLATFORM, str(user.id), user.display_name, None, user.bot)


def channel_ref(channel: Any) -> ChannelRef:
    """A channel or thread (threads name their parent)."""
    parent = getattr(channel, "parent_id", None) if isinstance(channel, discord.Thread) else None
    return ChannelRef(
        PLATFORM,
        str(channel.id),
        getattr(channel, "name", "") or "",
        isinstance(channel, discord.DMChannel),
        str(parent) if parent else None,
    )


_MEMBER_MESSAGE_TYPES = tuple(discord.MessageType(t) for t in MEMBER_MESSAGE_TYPES)
#: Members whose native-poll choices are kept in memory before the oldest are forgotten.
POLL_CHOICES_KEPT = 10_000
#: References reused by every translation (the gateway fast path and discord.py's path).
_REFS = RefCache()


def _community_ref(guild_id: int) -> CommunityRef:
    return _REFS.community(str(guild_id))


def _channel_ref(channel: Any) -> ChannelRef:
    found = _REFS.channels.get(str(channel.id))
    if found is None or found.name != getattr(channel, "name", found.name):
        found = _REFS.remember(channel_ref(channel))
    return found


def message_posted(message: discord.Message) -> MessagePosted | None:
    """A guild message as the core's event; None for DMs and the bot's own messages.

    This is the hot path: references to guilds and channels are reused, not rebuilt.
    """
    guild = message.guild
    if guild is None:
        return None
    author = message.author
    if author.id == message._state.self_id or message.type not in _MEMBER_MESSAGE_TYPES:
        return None
    channel = _channel_ref(message.channel)
    reference = message.reference
    reply_to: str | None = None
    reply_member: MemberRef | None = None
    if reference is not None and reference.message_id is not None:
        reply_to = str(reference.message_id)
        resolved = reference.resolved
        if isinstance(resolved, discord.Message):
            reply_member = member_ref(resolved.author)
    return MessagePosted(
        id=f"dc:msg:{message.id}",
        durable=False,
        community=_community_ref(guild.id),
        member=MemberRef(PLATFORM, str(author.id), author.display_name, None, author.bot),
        channel=channel,
        message_id=str(message.id),
        text=message.content,
        reply_to=reply_to,
        reply_to_member=reply_member,
        thread=channel if channel.parent is not None else None,
        mentions=tuple(member_ref(u) for u in message.mentions) if message.mentions else (),
        at=message.created_at,
    )


def _option_value(option: dict[str, Any], resolved: dict[str, Any]) -> Any:
    """An option's value as a core type (durations and dates stay strings for the core)."""
    kind, value = option.get("type"), option.get("value")
    if value is None:
        return None
    if kind in (6, 9):
        uid = str(value)
        user = (resolved.get("users") or {}).get(uid, {})
        member = (resolved.get("members") or {}).get(uid, {})
        name = (
            member.get("nick") or user.get("global_name") or user.get("username") or ""
        )
        return MemberRef(PLATFORM, uid, name, None, bool(user.get("bot", False)))
    if kind == 7:
        channel = (resolved.get("channels") or {}).get(str(value), {})
        parent = channel.get("parent_id") if channel.get("type") in (10, 11, 12) else None
        return ChannelRef(PLATFORM, str(value), channel.get("name", ""), False, parent)
    if kind == 8:
        role = (resolved.get("roles") or {}).get(str(value), {})
        return RoleRef(PLATFORM, str(value), role.get("name", ""))
    if kind == 4:
        return int(value)
    if kind == 10:
        return float(value)
    if kind == 5:
        return bool(value)
    return str(value)


def command_options(data: dict[str, Any]) -> dict[str, Any]:
    """The options of an application command interaction, converted to core types."""
    resolved = data.get("resolved") or {}
    return {o["name"]: _option_value(o, resolved) for o in flatten_options(data)}


def privilege_hint(interaction: discord.Interaction[Any]) -> int | None:
    """ADMIN or OWNER when the interaction says so (lower levels are looked up)."""
    guild = interaction.guild
    if guild is not None and guild.owner_id == interaction.user.id:
        return int(Privilege.OWNER)
    permissions = interaction.permissions
    if permissions.administrator or permissions.manage_guild:
        return int(Privilege.ADMIN)
    return None


def allowed_mentions(content: Content) -> discord.AllowedMentions:
    """Never @everyone, @here or roles; only the members the core named."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        users=[discord.Object(int(m)) for m in content.mention_ids if m.isdigit()],
        replied_user=False,
    )


class DiscordPlatform:
    """The Discord platform: one discord.py client (auto-sharded when ``shard_count`` is set)."""

    name = PLATFORM

    def __init__(
        self,
        settings: DiscordSettings,
        *,
        rate_profile: RateProfile = limits.RATE_PROFILE,
        client_options: dict[str, Any] | None = None,
        reconnect_attempts: int = limits.RECONNECT_ATTEMPTS,
    ) -> None:
        """Configure; nothing connects until :meth:`start`.

        Args:
            settings: Token, application id, URLs, intents and shards.
            rate_profile: The limits the outbox keeps (tests pass a faster one).
            client_options: Extra keyword arguments for the discord.py client.
            reconnect_attempts: Connections lost in a row (without READY in between)
                before the adapter gives up and :meth:`failed` resolves.
        """
        if settings.token is None:
            raise ValueError("the Discord adapter needs MAJLIS_DISCORD__TOKEN")
        self.settings = settings
        self.rate_profile = rate_profile
        self.limits = limits.LIMITS
        self.client_options = dict(client_options or {})
        caps = {
            Capability.ROLES,
            Capability.DIRECT_MESSAGES,
            Capability.NATIVE_POLLS,
            Capability.BUTTONS,
            Capability.EPHEMERAL,
            Capability.THREADS,
            Capability.SCHEDULED_EVENTS,
            Capability.REACTIONS,
            Capability.EDIT_MESSAGES,
            Capability.IMAGES,
            Capability.AUTOCOMPLETE,
            Capability.PIN_MESSAGES,
        }
        if settings.members_intent:
            caps.add(Capability.MEMBER_EVENTS)
        if settings.message_content_intent:
            caps.add(Capability.MESSAGE_TEXT)
        self.capabilities = frozenset(caps)
        self.app: App | None = None
        self.client: discord.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._poll_choices: dict[tuple[int, int], set[int]] = {}  # (message, user) -> answers
        self._poll_seq = 0
        self.reconnect_attempts = reconnect_attempts
        self._ready = asyncio.Event()
        self._stopping = False
        self._failure: asyncio.Future[GatewayFailed] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._down_streak = 0  # connections lost in a row without READY or RESUMED since
        self._reached_ready = False  # in the current client.connect() run
        self._was_up = False  # connected at least once: the next READY/RESUMED reconnects
        self._health: dict[str, Any] = {
            "connected": False, "reconnects": 0, "last_error": None, "failed": False,
            "skipped_payloads": 0,
        }

    # -- life cycle ---------------------------------------------------------------------

    def intents(self) -> discord.Intents:
        """Guilds, members (if enabled), guild messages, reactions, DMs, content (if enabled)."""
        intents = discord.Intents.none()
        intents.guilds = True
        intents.members = self.settings.members_intent
        intents.guild_messages = True
        intents.guild_reactions = True
        intents.dm_messages = True
        intents.message_content = self.settings.message_content_intent
        intents.guild_scheduled_events = True
        intents.guild_polls = True
        return intents

    def _make_client(self) -> discord.Client:
        options: dict[str, Any] = {
            "intents": self.intents(),
            "chunk_guilds_at_startup": False,
            "member_cache_flags": discord.MemberCacheFlags.from_intents(self.intents()),
        }
        if self.settings.application_id is not None:
            options["application_id"] = self.settings.application_id
        options.update(self.client_options)
        client: discord.Client
        if self.settings.shard_count is not None:
            if self.settings.shard_ids:
                options["shard_ids"] = self.settings.shard_ids
            client = discord.AutoShardedClient(
                shard_count=self.settings.shard_count,
                **options,
            )
        else:
            client = discord.Client(**options)
        for event in (
            "on_ready", "on_guild_available", "on_guild_join", "on_member_join",
            "on_guild_role_update", "on_guild_role_create", "on_guild_update",
            "on_raw_member_remove", "on_message", "on_raw_reaction_add",
            "on_raw_reaction_remove", "on_interaction", "on_raw_poll_vote_add",
            "on_raw_poll_vote_remove", "on_resumed", "on_disconnect",
        ):  # fmt: skip
            setattr(client, event, getattr(self, "_" + event))
        self._fast_messages(client)
        self._guard_parsers(client)
        return client

    def _guard_parsers(self, client: discord.Client) -> None:
        """Make every gateway parser skip (and log) a payload it cannot read.

        discord.py runs parsers inside its receive loop without a ``try``: one odd payload
        (a DM with ``guild_id: null``, member ``roles`` as objects, GUILD_MEMBER_UPDATE
        without ``flags`` for a member not cached) ends ``client.connect()`` with the
        exception, and with it every event, while REST calls go on as if all were well.
        """
        parsers: dict[str, Any] = client._connection.parsers
        for name, parser in list(parsers.items()):
            parsers[name] = self._guarded(name, parser)

    def _guarded(self, name: str, parser: Any) -> Any:
        health = self._health

        def guarded(data: Any) -> None:
            if type(data) is dict and "guild_id" in data and data["guild_id"] is None:
                # Discord sends an explicit null on some DM payloads; discord.py reads
                # the key's presence as "in a guild".
                data = {k: v for k, v in data.items() if k != "guild_id"}
            try:
                parser(data)
            except Exception as exc:
                health["skipped_payloads"] += 1
                # The payload itself is not logged: interaction payloads carry a token.
                log.warning("skipped a Discord %s payload discord.py could not read: %r",
                            name, exc, exc_info=exc)

        return guarded

    def _fast_messages(self, client: discord.Client) -> None:
        """Translate guild MESSAGE_CREATE payloads directly (see discord_gateway)."""
        state = client._connection
        original = state.parsers["MESSAGE_CREATE"]

        def thread_parent(guild_id: int, channel_id: int) -> int | None:
            guild = state._get_guild(guild_id)
            thread = guild.get_thread(channel_id) if guild is not None else None
            return thread.parent_id if thread is not None else None

        def parse_message_create(data: Any) -> None:
            event = message_posted_from_payload(data, state.self_id, _REFS, thread_parent)
            if event is None or self.app is None:
                original(data)  # DMs, the bot's own and system messages
                return
            self.app.dispatcher.submit(event)

        state.parsers["MESSAGE_CREATE"] = parse_message_create

    async def start(self, app: App) -> None:
        """Log in, connect to the gateway under supervision and wait for READY.

        Raises:
            GatewayFailed: The gateway refused the bot for good before READY.
        """
        self.app = app
        Route.BASE = self.settings.api_url.rstrip("/")
        if self.settings.gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.gateway_url)
        loop = asyncio.get_running_loop()
        self._stopping = False
        self._failure = loop.create_future()
        client = self._make_client()
        self.client = client
        assert self.settings.token is not None
        await client.login(self.settings.token.get_secret_value())
        self._task = loop.create_task(self._supervise(client), name="discord-gateway")
        ready: asyncio.Future[Any] = asyncio.ensure_future(self._ready.wait())
        waiting: set[asyncio.Future[Any]] = {self._failure, ready}
        try:
            done, _ = await asyncio.wait(
                waiting, timeout=READY_TIMEOUT,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if self._failure in done:
            raise self._failure.result()
        if not done:
            log.warning("Discord not ready after %ss; connecting in the background",
                        READY_TIMEOUT)

    async def _supervise(self, client: discord.Client) -> None:
        """Run ``client.connect()``; when it ends, log why, back off and connect again.

        discord.py reconnects by itself after network errors and resumable closes; what
        ends ``connect()`` is anything else (an exception in its receive loop, a close
        code it treats as final). A client discord.py closed itself (bad token, refused
        intents) cannot be reused: that is final at once.
        """
        delay = limits.RECONNECT_FIRST_SECONDS
        while not self._stopping:
            cause: BaseException | None = None
            self._reached_ready = False
            try:
                await client.connect(reconnect=True)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                cause = exc
            if self._stopping:
                return
            self._lost(describe(cause) if cause is not None else "connect() returned")
            if client.is_closed() or self._failure_done():
                self._give_up(self._health["last_error"])
                return
            if self._reached_ready:  # it worked for a while: start the backoff afresh
                delay = limits.RECONNECT_FIRST_SECONDS
            wait = delay * (0.5 + random.random() / 2)  # jitter: shards do not stampede
            log.error("Discord gateway connection ended (%s); reconnecting in %.1f s",
                      self._health["last_error"], wait, exc_info=cause)
            await self._close_socket(client)
            await asyncio.sleep(wait)
            delay = min(delay * limits.RECONNECT_FACTOR, limits.RECONNECT_MAX_SECONDS)

    @staticmethod
    async def _close_socket(client: discord.Client) -> None:
        """Close the websocket a failed ``connect()`` left open (its heartbeat still runs)."""
        ws = getattr(client, "ws", None)
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close(code=4000)  # not 1000: that would end the session

    def _failure_done(self) -> bool:
        return self._failure is not None and self._failure.done()

    def _lost(self, why: str) -> None:
        """The gateway connection was lost: not ready, count it, give up when it repeats."""
        self._ready.clear()
        self._health["connected"] = False
        self._health["last_error"] = why
        self._down_streak += 1
        if self._down_streak >= self.reconnect_attempts and not self._stopping:
            self._give_up(f"{self._down_streak} connections in a row failed; last: {why}")

    def _give_up(self, why: str) -> None:
        self._health["failed"] = True
        if self._failure is not None and not self._failure.done():
            log.critical("Discord gateway given up: %s", why)
            self._failure.set_result(GatewayFailed(why))
            client = self.client
            if client is not None and not client.is_closed():
                # Not one of self._tasks: stop() awaits this same close, never cancels it.
                self._closing = asyncio.get_running_loop().create_task(client.close())

    def _connected(self) -> None:
        """READY or RESUMED: deliveries may go; a reconnection if it was up before."""
        if self._was_up:
            self._health["reconnects"] += 1
        self._was_up = True
        self._down_streak = 0
        self._reached_ready = True
        self._health["connected"] = True
        self._ready.set()

    async def failed(self) -> GatewayFailed:
        """Resolves (never raises) when the adapter gave up on the gateway.

        The app should stop and the process exit non-zero; :func:`bot.cli.main` does.
        """
        if self._failure is None:
            self._failure = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._failure)

    def restore_handle(self, data: Any) -> Handle | None:
        """A reply handle stored by the outbox before a restart (None if unreadable)."""
        try:
            return Handle.from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            # not the data itself: it holds the interaction's token
            log.warning("outbox: unreadable Discord reply handle; answering without it")
            return None

    def health(self) -> dict[str, Any]:
        """For health checks: connected, reconnects, last_error, failed, skipped_payloads."""
        health = dict(self._health)
        latency = self.client.latency if self.client is not None else None
        health["latency"] = latency if latency is not None and math.isfinite(latency) else None
        return health

    async def wait_ready(self) -> None:
        """Return once the gateway is connected (READY or RESUMED) and deliveries can go."""
        await self._ready.wait()

    async def stop(self) -> None:
        """Close the client and wait for its connection to end."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        client, self.client = self.client, None
        self._ready.clear()
        self._health["connected"] = False
        if client is not None:
            await client.close()
        connecting, self._task = self._task, None
        if connecting is not None and not connecting.done():
            try:
                await asyncio.wait_for(connecting, 10.0)
            except (asyncio.CancelledError, TimeoutError, Exception):
                connecting.cancel()

    def _later(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the Platform protocol: questions -----------------------------------------------

    def _guild(self, community: CommunityRef) -> discord.Guild | None:
        if self.client is None or not community.id.isdigit():
            return None
        return self.client.get_guild(int(community.id))

    async def member_roles(
        self, community: CommunityRef, member: MemberRef
    ) -> frozenset[str] | None:
        """Role ids the member holds in the guild (None when the guild is unknown)."""
        guild = self._guild(community)
        if guild is None or not member.id.isdigit():
            return None
        found = guild.get_member(int(member.id))
        if found is None:
            try:
                found = await guild.fetch_member(int(member.id))
            except discord.HTTPException as exc:
                log.info("could not fetch member %s of %s: %s", member.id, guild.id, exc)
                return None
        return frozenset(str(role.id) for role in found.roles)

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """Guild owner -> OWNER; Manage Server or Administrator -> ADMIN."""
        guild = self._guild(community)
        if guild is None or not member.id.isdigit():
            return Privilege.MEMBER
        uid = int(member.id)
        if guild.owner_id == uid:
            return Privilege.OWNER
        found = guild.get_member(uid)
        if found is None:
            try:
                found = await guild.fetch_member(uid)
            except discord.HTTPException as exc:
                log.info("could not fetch member %s of %s: %s", uid, guild.id, exc)
                return Privilege.MEMBER
        permissions = found.guild_permissions
        if permissions.administrator or permissions.manage_guild:
            return Privilege.ADMIN
        return Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Kind, token: str) -> Any:
        """``<@id>``, ``<#id>``, ``<@&id>`` (or a bare id) as a member, channel or role."""
        token = token.strip()
        guild = self._guild(community)
        if kind is Kind.MEMBER:
            found = _USER.match(token)
            uid = found.group(1) if found else token if token.isdigit() else None
            if uid is None:
                return None
            cached = guild.get_member(int(uid)) if guild is not None else None
            return member_ref(cached) if cached is not None else MemberRef(PLATFORM, uid)
        if kind is Kind.CHANNEL:
            found = _CHANNEL.match(token)
            cid = found.group(1) if found else token if token.isdigit() else None
            if cid is None:
                return None
            channel = guild.get_channel_or_thread(int(cid)) if guild is not None else None
            return channel_ref(channel) if channel is not None else ChannelRef(PLATFORM, cid)
        if kind is Kind.ROLE:
            found = _ROLE.match(token)
            rid = found.group(1) if found else token if token.isdigit() else None
            if rid is None:
                return None
            role = guild.get_role(int(rid)) if guild is not None else None
            return RoleRef(PLATFORM, rid, role.name if role is not None else "")
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """The system channel, else the first text channel the bot may write in."""
        guild = self._guild(community)
        if guild is None:
            return None
        if guild.system_channel is not None:
            return channel_ref(guild.system_channel)
        me = guild.me
        for channel in sorted(guild.text_channels, key=lambda c: c.position):
            if me is None or channel.permissions_for(me).send_messages:
                return channel_ref(channel)
        return None

    # -- commands -----------------------------------------------------------------------

    @property
    def application_id(self) -> int | None:
        """The application whose commands are synced."""
        if self.settings.application_id is not None:
            return self.settings.application_id
        return self.client.application_id if self.client is not None else None

    async def sync(self, community: CommunityRef | None) -> bool:
        """Sync one scope's slash commands if their set changed; True when sent."""
        app_id = self.application_id
        if self.app is None or self.client is None or app_id is None:
            return False
        try:
            return await sync_commands(self.app, self.client.http, app_id, community)
        except Exception as exc:
            # Whatever it was (an HTTP error, a body discord.py could not read), it must not
            # escape into discord.py's "Ignoring exception in on_guild_available": the
            # hash is not stored, so the next start or guild event tries again.
            log.warning("could not sync the commands of %s: %s",
                        community.key if community else "the application", describe(exc))
            return False

    async def commands_changed(self, community: CommunityRef) -> None:
        """Plugins were enabled or disabled in a guild: update its commands."""
        if community.platform == PLATFORM:
            await self.sync(community)

    # -- incoming -----------------------------------------------------------------------

    async def _dispatch(self, event: Event) -> None:
        assert self.app is not None
        try:
            await self.app.dispatcher.dispatch(event)
        except Exception:
            log.exception("could not handle Discord event %s", event.id)

    def _t(self, community: CommunityRef, member: MemberRef | None = None) -> Translator:
        assert self.app is not None
        return self.app.translator(PLATFORM, self.app.language_for(community, member), community)

    async def _on_ready(self) -> None:
        self._connected()
        await self.sync(None)

    async def _on_resumed(self) -> None:
        self._connected()

    async def _on_disconnect(self) -> None:
        if not self._stopping:
            self._lost("the gateway connection closed")

    async def _on_guild_available(self, guild: discord.Guild) -> None:
        client = self.client
        session = ""
        if client is not None:
            ws = getattr(client, "ws", None)
            session = str(getattr(ws, "session_id", "") or "")
        community = CommunityRef(PLATFORM, str(guild.id))
        me = guild.me
        missing: tuple[str, ...] = ()
        if me is not None:
            perms = me.guild_permissions
            wanted = ("manage_roles", "send_messages", "embed_links", "attach_files",
                      "manage_events", "create_public_threads", "add_reactions")
            missing = tuple(w for w in wanted if not getattr(perms, w, False))
        await self._dispatch(
            CommunityJoined(
                id=f"dc:guild:{guild.id}:{session}", community=community, name=guild.name,
                missing_rights=missing,
            )
        )
        await self.sync(community)

    def _roles_changed(self, guild_id: int) -> None:
        if self.app is not None:
            self.app.outbox.wake(CommunityRef(PLATFORM, str(guild_id)).key)

    async def _on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        self._roles_changed(after.guild.id)

    async def _on_guild_role_create(self, role: discord.Role) -> None:
        self._roles_changed(role.guild.id)

    async def _on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        self._roles_changed(after.id)

    async def _on_guild_join(self, guild: discord.Guild) -> None:
        await self._on_guild_available(guild)

    async def _on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            return
        joined = int(member.joined_at.timestamp()) if member.joined_at else 0
        await self._dispatch(
            MemberJoined(
                id=f"dc:join:{member.guild.id}:{member.id}:{joined}",
                durable=False,
                community=CommunityRef(PLATFORM, str(member.guild.id)),
                member=member_ref(member), at=member.joined_at,
            )
        )

    async def _on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        user = payload.user
        if user.bot:
            return
        joined_at = getattr(user, "joined_at", None)
        joined = int(joined_at.timestamp()) if joined_at else 0
        await self._dispatch(
            MemberLeft(
                id=f"dc:left:{payload.guild_id}:{user.id}:{joined}",
                durable=False,
                community=CommunityRef(PLATFORM, str(payload.guild_id)), member=member_ref(user),
            )
        )

    async def _on_message(self, message: discord.Message) -> None:
        event = message_posted(message)
        if event is None and message.guild is None:
            event = await self._direct_message(message)
        if event is not None:
            await self._dispatch(event)

    async def _direct_message(self, message: discord.Message) -> MessagePosted | None:
        """A member's DM, for the guild the bot last wrote to them for (else nothing)."""
        author = message.author
        if (self.app is None or author.bot or message.type not in _MEMBER_MESSAGE_TYPES
                or author.id == message._state.self_id):
            return None
        guild_id = await self.app.db.kv_get(KV_DM, f"user:{author.id}")
        if not guild_id:
            return None
        return MessagePosted(
            id=f"dc:msg:{message.id}",
            durable=False,
            community=_community_ref(int(guild_id)),
            member=member_ref(author),
            channel=ChannelRef(PLATFORM, str(message.channel.id), "", True),
            message_id=str(message.id),
            text=message.content,
            at=message.created_at,
        )

    async def _reaction(self, payload: discord.RawReactionActionEvent, added: bool) -> None:
        if payload.guild_id is None:
            return
        client = self.client
        if client is not None and payload.user_id == client._connection.self_id:
            return
        emoji = str(payload.emoji)
        user = payload.member
        member = (
            member_ref(user) if user is not None else MemberRef(PLATFORM, str(payload.user_id))
        )
        author_id = getattr(payload, "message_author_id", None)
        sign = "+" if added else "-"
        cls = ReactionAdded if added else ReactionRemoved
        await self._dispatch(
            cls(
                id=f"dc:react:{payload.message_id}:{payload.user_id}:{emoji}:{sign}",
                durable=False,
                community=CommunityRef(PLATFORM, str(payload.guild_id)), member=member,
                channel=ChannelRef(PLATFORM, str(payload.channel_id)),
                message_id=str(payload.message_id), emoji=emoji,
                author=MemberRef(PLATFORM, str(author_id)) if author_id else None,
            )
        )

    async def _on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, True)

    async def _on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, False)

    async def _poll_vote(self, payload: discord.RawPollVoteActionEvent, added: bool) -> None:
        """A vote added or removed: the member's whole current choice (as Telegram gives it).

        ``poll_id`` is the poll message's id, which :meth:`_poll` returns as
        ``Delivered.message_id``. Discord reports one answer at a time, so the choice is kept
        in memory (after a restart a removal may withdraw the member's other answers). Each
        change gets its own id: choosing A, B, then A again are three events.
        """
        if payload.guild_id is None:
            return
        choices = self._poll_choices
        if len(choices) > POLL_CHOICES_KEPT:
            choices.clear()
        key = (payload.message_id, payload.user_id)
        chosen = choices.setdefault(key, set())
        answer = payload.answer_id - 1
        (chosen.add if added else chosen.discard)(answer)
        options = tuple(sorted(chosen))
        if not chosen:
            choices.pop(key, None)
        sign = "+" if added else "-"
        self._poll_seq += 1
        await self._dispatch(
            PollAnswered(
                id=f"dc:vote:{payload.message_id}:{payload.user_id}:{payload.answer_id}:{sign}:"
                   f"{self._poll_seq}",
                durable=False,
                community=CommunityRef(PLATFORM, str(payload.guild_id)),
                member=MemberRef(PLATFORM, str(payload.user_id)),
                poll_id=str(payload.message_id),
                options=options,
            )
        )

    async def _on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._poll_vote(payload, True)

    async def _on_raw_poll_vote_remove(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._poll_vote(payload, False)

    async def _on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.guild_id is None:
                community = await self._dm_community(interaction)
                if community is None:
                    await self._acknowledge(interaction, ephemeral=True)
                    return  # private chats with the bot are not a community
                await self._component(interaction, community)
                return
            kind = interaction.type
            if kind is discord.InteractionType.autocomplete:
                await self._autocomplete(interaction)
            elif kind is discord.InteractionType.application_command:
                await self._command(interaction)
            elif kind is discord.InteractionType.component:
                await self._component(interaction)
        except Exception:
            log.exception("could not handle interaction %s", interaction.id)

    async def _acknowledge(self, interaction: discord.Interaction[Any], *,
                           ephemeral: bool = False, thinking: bool = False) -> None:
        """Defer at once: Discord wants an answer within 3 seconds."""
        try:
            await interaction.response.defer(ephemeral=ephemeral, thinking=thinking)
        except (discord.HTTPException, discord.InteractionResponded) as exc:
            log.info("could not defer interaction %s: %s", interaction.id, exc)

    def _where(self, interaction: discord.Interaction[Any]) -> tuple[CommunityRef, ChannelRef]:
        """The community and channel of an interaction.

        Some interactions come without a channel (user-installed apps, some contexts):
        they get the member's own private place, so answers go to them privately and
        nothing ever tries to post in a channel called "None".
        """
        community = CommunityRef(PLATFORM, str(interaction.guild_id))
        channel = interaction.channel
        if channel is not None:
            return community, channel_ref(channel)
        if interaction.channel_id is not None:
            return community, ChannelRef(PLATFORM, str(interaction.channel_id))
        return community, ChannelRef(PLATFORM, f"dm:{interaction.user.id}", "", True)

    async def _command(self, interaction: discord.Interaction[Any]) -> None:
        assert self.app is not None
        data: dict[str, Any] = dict(interaction.data or {})
        name = str(data.get("name", ""))
        found = self.app.dispatcher.commands().get(name)
        await self._acknowledge(interaction, ephemeral=found[1].private if found else True,
                                thinking=True)
        community, channel = self._where(interaction)
        await self._dispatch(
            CommandInvoked(
                id=f"dc:ix:{interaction.id}", community=community,
                member=member_ref(interaction.user), channel=channel, name=name,
                options=command_options(data),
                reply_handle=Handle.live(interaction),
                privilege_hint=privilege_hint(interaction), at=interaction.created_at,
            )
        )

    async def _dm_community(self, interaction: discord.Interaction[Any]) -> CommunityRef | None:
        """The guild a button in a DM acts for (the one its message was sent for)."""
        message = interaction.message
        if (self.app is None or message is None
                or interaction.type is not discord.InteractionType.component):
            return None
        guild_id = await self.app.db.kv_get(KV_DM, str(message.id))
        return CommunityRef(PLATFORM, str(guild_id)) if guild_id else None

    async def _component(self, interaction: discord.Interaction[Any],
                         dm_community: CommunityRef | None = None) -> None:
        assert self.app is not None
        await self._acknowledge(interaction)
        data: dict[str, Any] = dict(interaction.data or {})
        try:
            payload = await decode(str(data.get("custom_id", "")), self.app.db)
        except PayloadError as exc:
            log.info("component with unknown payload: %s", exc)
            return
        community, channel = self._where(interaction)
        community = dm_community or community
        message = interaction.message
        await self._dispatch(
            ButtonPressed(
                id=f"dc:ix:{interaction.id}", community=community,
                member=member_ref(interaction.user), channel=channel,
                message_id=str(message.id) if message is not None else "", payload=payload,
                reply_handle=Handle.live(interaction),
                values=tuple(str(v) for v in data.get("values") or ()), at=interaction.created_at,
            )
        )

    async def _autocomplete(self, interaction: discord.Interaction[Any]) -> None:
        assert self.app is not None
        data: dict[str, Any] = dict(interaction.data or {})
        found = self.app.dispatcher.commands().get(str(data.get("name", "")))
        choices: list[discord.app_commands.Choice[Any]] = []
        options = flatten_options(data)
        focused = next((o for o in options if o.get("focused")), None)
        if found is not None and focused is not None:
            plugin, spec = found
            param = next((p for p in spec.params if p.name == focused["name"]), None)
            method = (
                getattr(plugin, param.autocomplete, None)
                if param is not None and param.autocomplete
                else None
            )
            if method is not None:
                community, channel = self._where(interaction)
                ctx = self.app.context_for(plugin, community, channel=channel,
                                           member=member_ref(interaction.user))
                accepted = inspect.signature(method).parameters
                extra = {
                    o["name"]: str(o.get("value", "")) for o in options
                    if o is not focused and o["name"] in accepted
                }
                values = await method(ctx, str(focused.get("value", "")), **extra)
                as_int = focused.get("type") == 4
                for value in list(values)[: limits.AUTOCOMPLETE_CHOICES]:
                    choices.append(discord.app_commands.Choice(
                        name=str(value)[: limits.CHOICE_NAME_CHARS],
                        value=int(value) if as_int else str(value)[: limits.CHOICE_VALUE_CHARS],
                    ))
        try:
            await interaction.response.autocomplete(choices)
        except (discord.HTTPException, discord.InteractionResponded) as exc:
            log.info("could not answer autocomplete %s: %s", interaction.id, exc)

    # -- outgoing: the client and message parts ------------------------------------------

    @property
    def _client(self) -> discord.Client:
        client = self.client
        if client is None or client.is_closed() or not self._ready.is_set():
            raise NotConnected("discord is not connected")
        return client

    async def _encode(self, payload: Payload) -> str:
        assert self.app is not None
        return await shorten(payload.pack(), limits.CUSTOM_ID_CHARS, self.app.db)

    async def _parts(self, content: Content) -> list[dict[str, Any]]:
        """Keyword arguments of each message to send (the last carries embed, files, view)."""
        chunks: list[str] = content_markdown(content)
        last: dict[str, Any] = {}
        if content.card is not None:
            last["embed"] = card_embed(content.card)
        if content.attachments:
            last["files"] = [
                discord.File(io.BytesIO(a.data), filename=a.filename, description=a.description
                             or None)
                for a in content.attachments[: limits.ATTACHMENTS_PER_MESSAGE]
            ]
        view = await view_of(content.buttons, self._encode)
        if view is not None:
            static = StaticView(timeout=None)
            for item in view.children:
                static.add_item(item)
            last["view"] = static
        if not chunks and not last:
            chunks = ["\u200b"]
        mentions = allowed_mentions(content)
        parts = [{"content": c, "allowed_mentions": mentions} for c in chunks]
        if not parts:
            parts = [{"allowed_mentions": mentions}]
        parts[-1].update(last)
        return parts

    # -- the Platform protocol: rate buckets ---------------------------------------------

    def rate_keys(self, action: Action) -> tuple[tuple[str, str], ...]:
        """The per-route buckets (by major parameter) and the global one ``action`` uses.

        An answer to an interaction goes through the interaction's webhook, which Discord
        keeps outside the global limit; a reward without a role makes no call at all.
        """
        everything = (limits.GLOBAL, limits.GLOBAL_KEY)
        community = action.community.id
        if isinstance(action, SendMessage):
            if action.reply_to and action.channel is not None:
                return ((limits.ROUTE_FOLLOWUP, _reply_key(action)),)
            if action.channel is None or not action.channel.id.isdigit():
                return (everything, (limits.ROUTE_MESSAGES, _dm_key(action.member)))
            return (everything, (limits.ROUTE_MESSAGES, action.channel.id))
        if isinstance(action, EditMessage):
            channel = action.channel.id if action.channel is not None else community
            return (everything, (limits.ROUTE_EDIT, channel))
        if isinstance(action, GrantReward):
            role = action.reward.role
            if role is None or not role.id.isdigit():
                return ()
            return (everything, (limits.ROUTE_ROLES, community))
        if isinstance(action, SendPoll):
            where = action.channel or self.default_channel(action.community)
            return (everything, (limits.ROUTE_MESSAGES, where.id if where else community))
        if isinstance(action, CreateThread):
            where = action.channel or self.default_channel(action.community)
            return (everything, (limits.ROUTE_THREADS, where.id if where else community))
        if isinstance(action, ScheduleEvent):
            return (everything, (limits.ROUTE_EVENTS, community))
        return (everything,)  # pins: the global limit only (Discord publishes no other)

    # -- outgoing -----------------------------------------------------------------------

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        """Carry out one action; Discord errors become the core's delivery errors.

        ``progress`` (None: nothing done yet, no nonce) names the parts already delivered,
        which are skipped; each part is recorded in it as soon as Discord accepted it.

        Raises:
            NotConnected: The gateway is not connected (or reconnecting).
            DeliveryError: What Discord's answer means (see
                :func:`bot.adapters.discord_errors.classify`).
        """
        self._client  # NotConnected before anything is tried  # noqa: B018
        current_bucket.set(None)
        private = isinstance(action, SendMessage) and (
            action.private or action.channel is None
        )
        set_where(getattr(getattr(action, "channel", None), "id", None))
        try:
            if isinstance(action, SendMessage):
                return await self._send(action, reply_handle, progress)
            if isinstance(action, EditMessage):
                return await self._edit(action)
            if isinstance(action, PinMessage | UnpinMessage):
                return await self._pin(action)
            if isinstance(action, GrantReward):
                return await self._reward(action)
            if isinstance(action, SendPoll):
                return await self._poll(action, progress)
            if isinstance(action, CreateThread):
                return await self._thread(action, progress)
            if isinstance(action, ScheduleEvent):
                return await self._event(action)
        except DeliveryError:
            raise
        except Exception as exc:
            error = classify(exc, private=private)
            log.info("delivery of %s in %s: %s -> %s", action.kind, action.community.key,
                     describe(exc), type(error).__name__)
            raise error from None
        raise PermanentError(REFUSED, error=action.kind)

    async def _send(
        self, action: SendMessage, handle: Any, progress: Progress | None
    ) -> Delivered:
        parts = await self._parts(action.content)
        if isinstance(handle, Handle) and action.reply_to and not handle.expired:
            try:
                return await self._followup(action, handle, parts, progress)
            except discord.HTTPException as exc:
                if not _interaction_gone(exc):
                    raise
                log.info("interaction %s can no longer be answered (%s)",
                         handle.interaction_id, describe(exc))
        if action.private or action.channel is None or not action.channel.id.isdigit():
            # Private never goes to the channel: by DM, or Undeliverable (the core posts
            # its own separate fallback text, never this one). No channel, or the member's
            # own place (an interaction that came without one), is a DM too.
            return await self._dm(action, parts, progress)
        target = self._client.get_partial_messageable(int(action.channel.id))
        current_bucket.set((limits.ROUTE_MESSAGES, action.channel.id))
        return await self._post(target, parts, progress)

    async def _dm(
        self, action: SendMessage, parts: list[dict[str, Any]], progress: Progress | None
    ) -> Delivered:
        """Send privately to ``action.member``; Undeliverable when that cannot be done."""
        member = action.member
        if member is None or not member.id.isdigit():
            if action.private:
                raise Undeliverable("no member to answer privately")
            raise PermanentError(REFUSED, error="no recipient")
        client = self._client
        current_bucket.set((limits.GLOBAL, limits.GLOBAL_KEY))
        dm = await client.create_dm(discord.Object(int(member.id)))
        current_bucket.set((limits.ROUTE_MESSAGES, _dm_key(member)))
        try:
            delivered = await self._post(dm, parts, progress)
        except discord.HTTPException as exc:
            if exc.code == limits.CANNOT_MESSAGE_USER or exc.status in (403, 404):
                raise Undeliverable(describe(exc)) from None
            raise
        if self.app is not None:
            # DMs carry no guild: remember which one the bot wrote for, so presses on
            # these buttons and the member's answers act there.
            if action.content.buttons and delivered.message_id:
                await self.app.db.kv_set(KV_DM, delivered.message_id, action.community.id)
            await self.app.db.kv_set(KV_DM, f"user:{member.id}", action.community.id)
        return delivered

    async def _post(
        self, target: Any, parts: list[dict[str, Any]], progress: Progress | None,
        first: int = 0,
    ) -> Delivered:
        """Create one message per part (part ``i`` is ``progress`` index ``first + i``).

        Each carries the nonce of its part with ``enforce_nonce`` (discord.py sets it), so
        a send whose answer was lost returns the first message when tried again.
        """
        last: str | None = None
        for offset, part in enumerate(parts):
            index = first + offset
            done = _done(progress, index)
            if done is not None:
                last = done
                continue
            if progress is not None and progress.key:
                part = {**part, "nonce": nonce(progress.key, index)}
            sent = await target.send(**part)
            last = str(sent.id)
            if progress is not None:
                progress.parts[index] = last
        return Delivered(last)

    async def _followup(
        self, action: SendMessage, handle: Handle, parts: list[dict[str, Any]],
        progress: Progress | None,
    ) -> Delivered:
        current_bucket.set((limits.ROUTE_FOLLOWUP, _reply_key(action)))
        webhook = handle.webhook(self._client)
        last: str | None = None
        for index, part in enumerate(parts):
            done = _done(progress, index)
            if done is not None:
                last = done
                continue
            sent = await webhook.send(**part, ephemeral=action.private, wait=True)
            last = str(sent.id)
            if progress is not None:
                progress.parts[index] = last
        return Delivered(last)

    async def _edit(self, action: EditMessage) -> Delivered:
        client = self._client
        channel = action.channel
        if channel is None or not channel.id.isdigit() or not action.message_id.isdigit():
            raise PermanentError(REFUSED, error="no message")
        parts = await self._parts(action.content)
        part = parts[0] if len(parts) == 1 else {**parts[0], **parts[-1]}
        part.pop("files", None)
        message = client.get_partial_messageable(int(channel.id)).get_partial_message(
            int(action.message_id)
        )
        current_bucket.set((limits.ROUTE_EDIT, channel.id))
        await message.edit(
            content=part.get("content"),
            embed=part.get("embed"),
            view=part.get("view"),
            allowed_mentions=part["allowed_mentions"],
        )
        return Delivered(action.message_id)

    async def _pin(self, action: PinMessage | UnpinMessage) -> Delivered:
        """Pin or unpin; without the permission it is declined (dropped, not retried).

        Unpinning a message that is gone is done: nothing is pinned.
        """
        channel = action.channel
        if channel is None or not channel.id.isdigit() or not action.message_id.isdigit():
            raise PermanentError(REFUSED, error="no message")
        message = self._client.get_partial_messageable(int(channel.id)).get_partial_message(
            int(action.message_id)
        )
        try:
            if isinstance(action, PinMessage):
                await message.pin()
            else:
                await message.unpin()
        except discord.Forbidden as exc:
            if exc.code == limits.MISSING_PERMISSIONS:
                raise Declined(PIN_REFUSED, channel=f"<#{channel.id}>") from None
            raise
        except discord.NotFound:
            if isinstance(action, PinMessage):
                raise
            log.info("message %s to unpin in %s is gone", action.message_id, channel.id)
        return Delivered(action.message_id)

    async def _reward(self, action: GrantReward) -> Delivered:
        """Add (or remove) the reward's role; nothing else to do on Discord.

        The plugin that grants a reward announces it, so a badge without a role (or with a
        title, which Discord has no place for) needs no message here.
        """
        client = self._client
        community, member, reward = action.community, action.member, action.reward
        role = reward.role
        if role is None or not role.id.isdigit() or not member.id.isdigit():
            return Delivered(None)
        current_bucket.set((limits.ROUTE_ROLES, community.id))
        try:
            if action.revoke:
                await client.http.remove_role(int(community.id), int(member.id),
                                              int(role.id), reason="Majlis reward")
            else:
                await client.http.add_role(int(community.id), int(member.id),
                                           int(role.id), reason="Majlis reward")
        except discord.HTTPException as exc:
            if exc.code not in (limits.MISSING_PERMISSIONS, limits.MISSING_ACCESS) and (
                exc.status != 403
            ):
                raise
            t = self._t(community, member)
            # An admin can fix this (permission, role order): the outbox reports it once
            # and retries, at once when the guild's roles change.
            raise NeedsAdmin(
                t.plain(ROLE_REFUSED, role=self._role_name(community, role),
                        member=member.display_name)
            ) from None
        return Delivered(None)

    def _role_name(self, community: CommunityRef, role: RoleRef) -> str:
        guild = self._guild(community)
        found = guild.get_role(int(role.id)) if guild is not None else None
        return found.name if found is not None else (role.name or role.id)

    async def _poll(self, action: SendPoll, progress: Progress | None = None) -> Delivered:
        """A native poll, checked against Discord's limits before it is sent."""
        t = self._t(action.community)
        n = len(action.options)
        if not 1 <= n <= limits.POLL_ANSWERS:
            raise PermanentError(t.plain(POLL_ANSWERS, n=limits.POLL_ANSWERS, count=n))
        if len(action.question) > limits.POLL_QUESTION_CHARS:
            raise PermanentError(t.plain(POLL_QUESTION, n=limits.POLL_QUESTION_CHARS))
        for answer in action.options:
            if len(answer) > limits.POLL_ANSWER_CHARS:
                raise PermanentError(t.plain(POLL_ANSWER, n=limits.POLL_ANSWER_CHARS,
                                             answer=answer))
        hours = limits.POLL_MIN_HOURS * 24
        if action.duration is not None:
            hours = max(limits.POLL_MIN_HOURS, -(-int(action.duration.total_seconds()) // 3600))
            if hours > limits.POLL_MAX_HOURS:
                raise PermanentError(t.plain(POLL_DURATION, n=limits.POLL_MAX_HOURS // 24))
        poll = discord.Poll(action.question, timedelta(hours=hours), multiple=action.multiple)
        for answer in action.options:
            poll.add_answer(text=answer)
        channel = action.channel or self.default_channel(action.community)
        if channel is None or not channel.id.isdigit():
            raise PermanentError(REFUSED, error="no channel")
        set_where(channel.id)
        current_bucket.set((limits.ROUTE_MESSAGES, channel.id))
        target = self._client.get_partial_messageable(int(channel.id))
        return await self._post(
            target, [{"poll": poll, "allowed_mentions": discord.AllowedMentions.none()}],
            progress,
        )


    # -- threads and scheduled events -----------------------------------------------------

    async def _origin_message(self, outbox_id: int) -> int:
        """The Discord id of a message the bot sent (by its outbox id)."""
        assert self.app is not None
        found = await self.app.outbox.message_id(outbox_id)
        if found is None or not str(found).isdigit():
            raise TransientError(f"message {outbox_id} not delivered yet")
        return int(found)

    async def _thread(self, action: CreateThread, progress: Progress | None = None) -> Delivered:
        """A thread from one of the bot's messages, or a standalone (forum) thread.

        Part 0 is the thread itself (its id in ``progress``), parts 1... its posts.
        """
        client = self._client
        channel = action.channel or self.default_channel(action.community)
        if channel is None or not channel.id.isdigit():
            raise PermanentError(REFUSED, error="no channel")
        set_where(channel.id)
        name = action.name[: limits.THREAD_NAME_CHARS] or "…"
        parent = client.get_channel(int(channel.id))
        parts = await self._parts(action.content)
        has_post = bool(action.content.text or action.content.card or action.content.attachments
                        or action.content.buttons)
        current_bucket.set((limits.ROUTE_THREADS, channel.id))
        try:
            made = _done(progress, 0)
            if made is not None:
                thread_id = int(made)
                if isinstance(parent, discord.ForumChannel):
                    parts, has_post = parts[1:], bool(parts[1:])
            elif action.from_message is not None:
                origin = await self._origin_message(action.from_message)
                data: Any = await client.http.start_thread_with_message(
                    int(channel.id), origin, name=name,
                    auto_archive_duration=limits.THREAD_ARCHIVE_MINUTES,
                )
                thread_id = int(data["id"])
            elif isinstance(parent, discord.ForumChannel):
                created = await parent.create_thread(
                    name=name, auto_archive_duration=limits.THREAD_ARCHIVE_MINUTES, **parts[0]
                )
                thread_id, parts, has_post = created.thread.id, parts[1:], bool(parts[1:])
            else:
                data = await client.http.start_thread_without_message(
                    int(channel.id), name=name,
                    auto_archive_duration=limits.THREAD_ARCHIVE_MINUTES,
                    type=limits.PUBLIC_THREAD, invitable=True,
                )
                thread_id = int(data["id"])
            if progress is not None:
                progress.parts[0] = str(thread_id)
            if has_post:
                current_bucket.set((limits.ROUTE_MESSAGES, str(thread_id)))
                await self._post(client.get_partial_messageable(thread_id), parts, progress, 1)
        except discord.HTTPException as exc:
            if exc.status == 403 or exc.code in (limits.MISSING_PERMISSIONS,
                                                 limits.MISSING_ACCESS):
                raise NeedsAdmin(THREAD_REFUSED, name=name) from None
            raise
        return Delivered(str(thread_id))

    async def _event_payload(self, action: ScheduleEvent) -> dict[str, Any]:
        """The REST body of a guild scheduled event (voice/stage channel or external)."""
        if action.start is None:
            raise PermanentError(REFUSED, error="no start time")
        start = action.start
        end = action.end
        body: dict[str, Any] = {
            "name": action.name[: limits.EVENT_NAME_CHARS] or "…",
            "description": action.description[: limits.EVENT_DESCRIPTION_CHARS],
            "privacy_level": limits.EVENT_GUILD_ONLY,
            "scheduled_start_time": start.isoformat(),
        }
        channel = action.channel
        if channel is not None and channel.id.isdigit():
            found = self._client.get_channel(int(channel.id))
            stage = isinstance(found, discord.StageChannel)
            body["entity_type"] = limits.EVENT_STAGE if stage else limits.EVENT_VOICE
            body["channel_id"] = channel.id
            body["entity_metadata"] = None
            if end is not None:
                body["scheduled_end_time"] = end.isoformat()
            return body
        if not action.location.strip():
            raise PermanentError(EVENT_PLACE)
        if end is None:
            end = start + timedelta(seconds=limits.EVENT_DEFAULT_SECONDS)
        body["entity_type"] = limits.EVENT_EXTERNAL
        body["channel_id"] = None
        body["entity_metadata"] = {"location": action.location[: limits.EVENT_LOCATION_CHARS]}
        body["scheduled_end_time"] = end.isoformat()
        return body

    async def _event(self, action: ScheduleEvent) -> Delivered:
        """Create, update (same key) or cancel a guild scheduled event."""
        assert self.app is not None
        http = self._client.http
        guild_id = int(action.community.id)
        key = f"{action.community.key}:{action.event_key}"
        known = await self.app.db.kv_get(KV_EVENTS, key)
        current_bucket.set((limits.ROUTE_EVENTS, action.community.id))
        try:
            if action.cancel:
                if known is None:
                    return Delivered(None)
                try:
                    await http.edit_scheduled_event(
                        guild_id, int(known), status=limits.EVENT_CANCELED, reason="Majlis"
                    )
                except discord.NotFound:
                    pass  # already deleted on Discord
                await self.app.db.kv_set(KV_EVENTS, key, None)
                return Delivered(str(known))
            body = await self._event_payload(action)
            if known is not None:
                try:
                    data: Any = await http.edit_scheduled_event(
                        guild_id, int(known), reason="Majlis", **body
                    )
                    return Delivered(str(data["id"]))
                except discord.NotFound:
                    log.info("scheduled event %s is gone; creating it again", known)
            data = await http.create_guild_scheduled_event(guild_id, reason="Majlis", **body)
        except discord.HTTPException as exc:
            if exc.status == 403 or exc.code in (limits.MISSING_PERMISSIONS,
                                                 limits.MISSING_ACCESS):
                raise NeedsAdmin(EVENT_REFUSED, name=action.name) from None
            raise
        await self.app.db.kv_set(KV_EVENTS, key, str(data["id"]))
        return Delivered(str(data["id"]))


def nonce(key: str, index: int) -> str:
    """The create-message nonce of part ``index`` of the action keyed ``key``.

    Part 0 uses the key itself; later parts need their own (Discord would answer part 1
    with part 0's message); a nonce longer than Discord allows becomes a digest.
    """
    value = key if index == 0 else f"{key}.{index}"
    if len(value) > limits.NONCE_CHARS:
        value = hashlib.blake2s(value.encode(), digest_size=12).hexdigest()
    return value


def _done(progress: Progress | None, index: int) -> str | None:
    """The message id of a part already delivered (keys may come back as strings)."""
    if progress is None or not progress.parts:
        return None
    parts: dict[Any, str] = progress.parts
    return parts.get(index) or parts.get(str(index))


def _dm_key(member: MemberRef | None) -> str:
    """The bucket key of a member's DM channel (its id is only known once opened)."""
    return f"dm:{member.id if member is not None else ''}"


def _reply_key(action: SendMessage) -> str:
    """The bucket key of an interaction's webhook (its token is only in the handle)."""
    member = action.member.id if action.member is not None else ""
    channel = action.channel.id if action.channel is not None else ""
    return f"reply:{channel}:{member}"


def _interaction_gone(exc: discord.HTTPException) -> bool:
    """Whether a follow-up failed because the interaction's webhook is gone or expired."""
    return exc.code in limits.EXPIRED_INTERACTION or (
        isinstance(exc, discord.NotFound) and exc.code == 0
    )
