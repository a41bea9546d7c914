"""What a handler holds: where it is, who asked, in which language, and how to answer."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from bot.core.actions import (
    FALLBACK_MENTIONS,
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
from bot.core.causal import wait_turn
from bot.core.events import ButtonPressed, CommandInvoked, Event
from bot.core.i18n import Translator
from bot.core.markup import Markup, mention, to_markup
from bot.core.messages import Attachment, Button, Card, Content, Reward, rows
from bot.core.privilege import Privilege
from bot.core.refs import ChannelRef, CommunityRef, MemberRef

log = logging.getLogger(__name__)

_new = object.__new__

#: Events whose context answers the member who caused them, in their language.
_ANSWERED = (CommandInvoked, ButtonPressed)

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from bot.core.kernel import Kernel
    from bot.core.plugin import Plugin


class Context:
    """A handler's view of the world for one event, command, button or job.

    Attributes:
        community: Where it happens.
        channel: The channel of the event (None for jobs and member events).
        member: Who acted (None for jobs).
        event: The event being handled, if any.
        language: The language this context speaks. Answers to a member's own command
            or button, and anything in a private chat, speak the member's language (their
            choice, the platform's hint, then the community's); what the bot posts on its
            own in a channel (a greeting, a kudos note, a level-up) speaks the community's,
            whoever caused it. :attr:`personal` always speaks the acting member's.
    """

    __slots__ = (
        "_language",
        "_personal",
        "_privilege",
        "_settings",
        "_translator",
        "app",
        "channel",
        "community",
        "event",
        "member",
        "plugin",
        "private_default",
        "reply_handle",
    )

    def __init__(
        self,
        app: Kernel,
        plugin: Plugin | None,
        community: CommunityRef,
        *,
        channel: ChannelRef | None = None,
        member: MemberRef | None = None,
        event: Event | None = None,
        reply_handle: Any = None,
        privilege: Privilege | None = None,
    ) -> None:
        """Bind a handler to the kernel for one piece of work."""
        self.app = app
        self.plugin = plugin
        self.community = community
        self.channel = channel
        self.member = member
        self.event = event
        self.reply_handle = reply_handle
        self._language: str | None = None
        self._translator: Translator | None = None
        self._personal: Translator | None = None
        self._privilege = privilege
        self._settings: BaseModel | None = None
        self.private_default = False

    @classmethod
    def of_event(
        cls,
        app: Kernel,
        plugin: Plugin | None,
        event: Event,
        channel: ChannelRef | None,
        member: MemberRef | None,
        reply_handle: Any,
        privilege: Privilege | None,
    ) -> Context:
        """The same as the constructor for an event's handler, at half the cost.

        Every message builds one context per plugin that handles it; the keyword
        arguments of ``__init__`` were most of that. Keep both in step.
        """
        ctx = _new(cls)
        ctx.app = app
        ctx.plugin = plugin
        ctx.community = event.community
        ctx.channel = channel
        ctx.member = member
        ctx.event = event
        ctx.reply_handle = reply_handle
        ctx._language = None
        ctx._translator = None
        ctx._personal = None
        ctx._privilege = privilege
        ctx._settings = None
        ctx.private_default = False
        return ctx

    # -- language -----------------------------------------------------------------------

    @property
    def kernel(self) -> Kernel:
        """The services behind this context."""
        return self.app

    @property
    def answering(self) -> bool:
        """Whether this context answers the member rather than posts for the community.

        True for their command or button and in a private chat.
        """
        return (
            self.private_default
            or type(self.event) in _ANSWERED
            or bool(self.channel and self.channel.private)
        )

    @property
    def language(self) -> str:
        """The language this context speaks (resolved on first use)."""
        if self._language is None:
            communities = self.app.communities
            if self.answering:
                self._language = communities.member_language(self.community, self.member)
            else:
                self._language = communities.community_language(self.community)
        return self._language

    @property
    def i18n(self) -> Translator:
        """Strings, numbers and dates in this context's language and timezone."""
        if self._translator is None:
            domain = self.plugin.name if self.plugin is not None else "core"
            self._translator = self.app.translator(domain, self.language, self.community)
        return self._translator

    @property
    def personal(self) -> Translator:
        """Strings in the acting member's own language, for what only they read (a DM)."""
        if self._personal is None:
            domain = self.plugin.name if self.plugin is not None else "core"
            language = self.app.communities.member_language(self.community, self.member)
            self._personal = self.app.translator(domain, language, self.community)
        return self._personal

    def for_member(self, member: MemberRef) -> Translator:
        """Strings in ``member``'s own language (a DM to someone other than the actor)."""
        domain = self.plugin.name if self.plugin is not None else "core"
        language = self.app.communities.member_language(self.community, member)
        return self.app.translator(domain, language, self.community)

    @property
    def limits(self) -> Any:
        """The platform's declared limits (``ctx.limits.native_poll.max_options``)."""
        return self.app.limits_of(self.community)

    @property
    def config(self) -> Any:
        """The plugin's settings here, without waiting (loaded when the community opened)."""
        if self._settings is None:
            if self.plugin is None:
                raise RuntimeError("core context has no plugin settings")
            self._settings = self.app.plugin_settings.get(
                self.plugin, self.community, self.channel
            )
        return self._settings

    def spawn(self, work: Any) -> None:
        """Run async work (a coroutine) from a synchronous handler, isolated like one."""
        if self.plugin is None:
            raise RuntimeError("core context cannot spawn plugin work")
        event = self.event or Event(id="", community=self.community)
        self.app.dispatcher.run(self.plugin, event, work)

    def t(self, message: str, /, **values: Any) -> Markup:
        """Translate a message; ``{placeholders}`` are filled and user text escaped."""
        return self.i18n.t(message, **values)

    def tn(self, singular: str, plural: str, n: int, /, **values: Any) -> Markup:
        """Translate with the plural form for ``n`` (``{n}`` is filled too)."""
        return self.i18n.tn(singular, plural, n, **values)

    def mention(self, member: MemberRef) -> Markup:
        """Markup that mentions ``member`` (and only pings them)."""
        return mention(member.id, member.display_name)

    # -- who is asking ------------------------------------------------------------------

    async def privilege(self) -> Privilege:
        """The acting member's privilege (checked with the platform, cached per context)."""
        if self._privilege is None:
            if self.member is None:
                self._privilege = Privilege.OWNER
            else:
                self._privilege = await self.app.privilege_of(self.community, self.member)
        return self._privilege

    async def settings(self) -> Any:
        """The plugin's settings here (channel-scoped values win)."""
        if self._settings is None:
            if self.plugin is None:
                raise RuntimeError("core context has no plugin settings")
            self._settings = await self.app.plugin_settings.read(
                self.plugin, self.community, self.channel
            )
        return self._settings

    # -- answering ----------------------------------------------------------------------

    def _subjects(self, *members: MemberRef | str | None) -> tuple[str, ...]:
        """Ids of the members an action is about: who acted, whom the event names, ``members``.

        Stored with the action so erasing a member finds it even where the text names
        them only by display name.
        """
        ids = dict.fromkeys(
            m if isinstance(m, str) else m.id for m in (self.member, *members) if m is not None
        )
        event = self.event
        if event is not None:
            for name in ("member", "reply_to_member", "author"):
                value = getattr(event, name, None)
                if isinstance(value, MemberRef):
                    ids[value.id] = None
            for value in getattr(event, "mentions", ()):
                if isinstance(value, MemberRef):
                    ids[value.id] = None
        return tuple(ids)

    def _reply_target(self) -> str | None:
        """What a reply answers, stored with it: the event's message id when it has one."""
        if self.reply_handle is None:
            return None
        message_id = getattr(self.event, "message_id", None)
        return str(message_id) if message_id else "event"

    def _content(
        self,
        text: str,
        buttons: Sequence[Button] | Sequence[Sequence[Button]],
        card: Card | None,
        attachments: Sequence[Attachment],
        mentions: Sequence[MemberRef] = (),
    ) -> Content:
        return Content(
            to_markup(text), rows(buttons), card, tuple(attachments), tuple(m.id for m in mentions)
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """Write the plugin's rows and queue messages as one, all or nothing.

        Inside the block, the plugin's own ``self.db.begin()``/``connect()`` and every
        ``send``/``dm``/``reply`` share one database transaction; the messages go out
        only after it committed, so a crash or an error never leaves a mark without its
        message (or a message without its mark)::

            async with ctx.transaction():
                if await self.store.mark_greeted(ctx.community.key, member.id):
                    await ctx.send(ctx.t("Welcome, {name}!", name=member.display_name))

        Yields the connection, for plugins that write with it directly.
        """
        async with self.app.db.transaction() as conn:
            yield conn

    async def reply(
        self,
        text: str = "",
        *,
        buttons: Sequence[Button] | Sequence[Sequence[Button]] = (),
        card: Card | None = None,
        attachments: Sequence[Attachment] = (),
        private: bool | None = None,
        about: Sequence[MemberRef | str] = (),
    ) -> int:
        """Answer the member's command or button (goes out even while paused).

        ``private`` answers so only the member sees it where the platform can
        (ephemeral on Discord); by default the command's declaration decides. ``about``
        names other members the text names (as :meth:`send`), so erasing one of them
        erases this reply's text too.
        """
        if private is None:
            private = self.private_default
        return await self.app.outbox.submit(
            SendMessage(
                community=self.community,
                channel=self.channel,
                content=self._content(text, buttons, card, attachments),
                reply_to=self._reply_target(),
                private=private,
                member=self.member,
                subjects=self._subjects(*about),
            ),
            direct=True,
            reply_handle=self.reply_handle,
        )

    async def send(
        self,
        text: str = "",
        *,
        channel: ChannelRef | None = None,
        buttons: Sequence[Button] | Sequence[Sequence[Button]] = (),
        card: Card | None = None,
        attachments: Sequence[Attachment] = (),
        mentions: Sequence[MemberRef] = (),
        about: Sequence[MemberRef | str] = (),
        keep: bool = False,
    ) -> int:
        """Post in a channel (held while the community is paused); returns the outbox id.

        Without ``channel``: the event's channel, else the community's default channel.
        ``mentions`` lists the only members this message may ping. ``about`` names (by
        reference or id) other members the text names without mentioning them, so
        erasing one of them erases this post's text too. ``keep=True`` for a post that
        :meth:`edit`, :meth:`pin` or :meth:`unpin` will reach after more than a week:
        the outbox keeps what it needs for that instead of letting it go after 7 days.
        """
        return await self.app.outbox.submit(
            SendMessage(
                community=self.community,
                channel=channel or self.channel or self.app.default_channel(self.community),
                content=self._content(text, buttons, card, attachments, mentions),
                subjects=self._subjects(*mentions, *about),
                keep=keep,
            )
        )

    async def dm(
        self,
        member: MemberRef,
        text: str = "",
        *,
        buttons: Sequence[Button] | Sequence[Sequence[Button]] = (),
        card: Card | None = None,
        attachments: Sequence[Attachment] = (),
        fallback: str | None = None,
        direct: bool = False,
        about: Sequence[MemberRef | str] = (),
    ) -> int:
        """Message a member privately.

        If they cannot receive it, ``fallback`` is posted in the channel mentioning only
        them (default: a note asking them to open their DMs). ``about`` names other
        members the text names (as :meth:`send`): erasing one of them erases it too.
        """
        fallback_text = (
            fallback
            if fallback is not None
            else self.app.translator(
                "core", self.app.language_for(self.community, member), self.community
            ).t(
                "{member}, I could not reach you privately. Open a private chat with me "
                "(or allow direct messages from members of this community) and try again.",
                member=self.mention(member),
            )
        )
        return await self.app.outbox.submit(
            SendMessage(
                community=self.community,
                member=member,
                content=self._content(text, buttons, card, attachments),
                fallback=self._content(fallback_text, buttons, None, (), (member,)),
                fallback_channel=self.channel or self.app.default_channel(self.community),
                subjects=self._subjects(member, *about),
            ),
            direct=direct,
        )

    async def dm_many(
        self,
        members: Sequence[MemberRef],
        text: str | Sequence[str] = "",
        *,
        buttons: Sequence[Button] | Sequence[Sequence[Button]] = (),
        card: Card | None = None,
        attachments: Sequence[Attachment] = (),
        fallback: Callable[[Markup], str] | None = None,
        about: Sequence[MemberRef | str] = (),
    ) -> list[int]:
        """Message several members privately about one thing; one post for those it misses.

        ``text`` is the same for all, or one per member (each in their own language).
        Once every DM is done, the members none reached (DMs closed, bot not started) are
        mentioned together in ONE post in the channel, and only they are pinged; nothing
        is posted when all were delivered. ``fallback(mentions)`` writes that post, in
        the community's language (``mentions`` is the markup of their mentions; default:
        a note asking them to open their DMs); it carries ``buttons`` but not what the
        DMs said. ``about`` names other members the texts name (as :meth:`send`).
        Returns the DMs' outbox ids.
        """
        texts = [text] * len(members) if isinstance(text, str) else list(text)
        if len(texts) != len(members):
            raise ValueError("dm_many: one text for all members, or one per member")
        if not members:
            return []
        if fallback is None:
            note = self.app.translator(
                "core", self.app.communities.community_language(self.community), self.community
            ).t(
                "{members}: private messages from me could not reach you. Please open a "
                "private chat with me, or allow direct messages from members of this "
                "community.",
                members=FALLBACK_MENTIONS,
            )
        else:
            note = to_markup(fallback(FALLBACK_MENTIONS))
        if FALLBACK_MENTIONS not in note:
            note = FALLBACK_MENTIONS + Markup(" ") + note
        post = self._content(note, buttons, None, ())
        channel = self.channel or self.app.default_channel(self.community)
        group = uuid.uuid4().hex
        actions = [
            SendMessage(
                community=self.community,
                member=member,
                content=self._content(body, buttons, card, attachments),
                fallback=post,
                fallback_channel=channel,
                fallback_group=group,
                subjects=self._subjects(member, *about),
            )
            for member, body in zip(members, texts, strict=True)
        ]
        outbox, db = self.app.outbox, self.app.db
        if len(actions) == 1:
            return [await outbox.submit(actions[0])]
        if not db.in_transaction():
            await wait_turn()  # inside the transaction below submit would not wait its turn
        # one transaction: no DM of the group is delivered before all are stored, so the
        # group is done only when every one of them is
        async with db.transaction():
            return [await outbox.submit(action) for action in actions]

    async def edit(
        self,
        original: int,
        text: str = "",
        *,
        buttons: Sequence[Button] | Sequence[Sequence[Button]] = (),
        card: Card | None = None,
        channel: ChannelRef | None = None,
    ) -> int:
        """Replace the content of a message the bot sent (``original`` is its outbox id)."""
        return await self.app.outbox.submit(
            EditMessage(
                community=self.community,
                channel=channel or self.channel,
                original=original,
                content=self._content(text, buttons, card, ()),
                subjects=self._subjects(),
            )
        )

    async def pin(self, original: int, *, channel: ChannelRef | None = None) -> int | None:
        """Pin a message the bot sent (``original``: its outbox id), quietly; the outbox id.

        ``channel`` is where that message was posted (default: as :meth:`send` chooses).
        Where ``Capability.PIN_MESSAGES`` is missing nothing is done (None). Where the bot
        lacks the right to pin in that chat, the pin is logged and dropped: nothing else
        waits for it, and it is not retried.
        """
        return await self._pin(PinMessage, original, channel)

    async def unpin(self, original: int, *, channel: ChannelRef | None = None) -> int | None:
        """Unpin a message the bot pinned (see :meth:`pin`); the outbox id, or None."""
        return await self._pin(UnpinMessage, original, channel)

    async def _pin(
        self, kind: type[PinMessage | UnpinMessage], original: int, channel: ChannelRef | None
    ) -> int | None:
        if not self.has(Capability.PIN_MESSAGES):
            log.debug("no pins on %s: %s of %s skipped", self.community.platform, kind.kind,
                      original)
            return None
        return await self.app.outbox.submit(
            kind(
                community=self.community,
                channel=channel or self.channel or self.app.default_channel(self.community),
                original=original,
                subjects=self._subjects(),
            )
        )

    async def grant(self, member: MemberRef, reward: Reward, *, revoke: bool = False) -> int:
        """Give a reward: a role where the platform has roles, else its fallback.

        The core remembers who holds which badge (and role), on every platform, so other
        plugins can ask (``App.member_badges``) — e.g. poll eligibility.
        """
        await self.app.record_reward(self.community, member, reward, revoke=revoke)
        return await self.app.outbox.submit(
            GrantReward(
                community=self.community,
                member=member,
                reward=reward,
                revoke=revoke,
                channel=self.channel,
                subjects=self._subjects(member),
            )
        )

    async def native_poll(
        self,
        question: str,
        options: Sequence[str],
        *,
        duration: timedelta | None = None,
        multiple: bool = False,
        anonymous: bool = True,
        channel: ChannelRef | None = None,
    ) -> int:
        """Post the platform's own poll (check ``Capability.NATIVE_POLLS`` first)."""
        return await self.app.outbox.submit(
            SendPoll(
                community=self.community,
                channel=channel or self.channel or self.app.default_channel(self.community),
                question=question,
                options=tuple(options),
                duration=duration,
                multiple=multiple,
                anonymous=anonymous,
                subjects=self._subjects(),
            )
        )

    async def create_thread(
        self,
        name: str,
        text: str = "",
        *,
        channel: ChannelRef | None = None,
        from_message: int | None = None,
        buttons: Sequence[Button] | Sequence[Sequence[Button]] = (),
        card: Card | None = None,
    ) -> int:
        """Open a thread called ``name`` with ``text`` as its first post; the outbox id.

        ``from_message`` (an outbox id of a message the bot sent in ``channel``) starts the
        thread from that message where the platform can. Without ``channel``: the event's
        channel, else the community's default channel. The delivered id
        (``app.outbox.delivered(id)``) is the new thread's channel id.

        Fallbacks where ``Capability.THREADS`` is missing: the first post goes out as an
        ordinary message headed by the thread's name (Telegram groups that are not forums,
        the console), and the delivered id is that message's id. In a Telegram forum the
        thread is a new forum topic.

        Raises:
            ValueError: ``name`` is empty.
        """
        if not name.strip():
            raise ValueError("a thread needs a name")
        if not self.has(Capability.THREADS):
            log.debug("no threads on %s: the first post goes out as a message",
                      self.community.platform)
        return await self.app.outbox.submit(
            CreateThread(
                community=self.community,
                channel=channel or self.channel or self.app.default_channel(self.community),
                name=name.strip(),
                content=self._content(text, buttons, card, ()),
                from_message=from_message,
                subjects=self._subjects(),
            )
        )

    async def scheduled_event(
        self,
        key: str,
        name: str,
        start: datetime,
        *,
        end: datetime | None = None,
        description: str = "",
        location: str = "",
        cancel: bool = False,
        channel: ChannelRef | None = None,
    ) -> int:
        """Create, update (same ``key``) or cancel a scheduled event; the outbox id.

        ``key`` is the plugin's own name for the event (e.g. ``"meetup:42"``): calling
        again with the same key moves or renames the event, ``cancel=True`` cancels it.
        ``start``/``end`` must be timezone-aware; ``channel`` is a voice or stage channel
        to hold the event in, otherwise it happens at ``location``.

        Fallbacks where ``Capability.SCHEDULED_EVENTS`` is missing (Telegram, the console):
        the event is announced as a message with its name, date and time in the
        community's timezone, place and description, posted in the event's channel or the
        community's default channel; an update edits that announcement where the platform
        can, a cancel says it is cancelled.

        Raises:
            ValueError: a naive ``start``/``end``, ``end`` not after ``start``, no name or key.
        """
        if not key or not name.strip():
            raise ValueError("an event needs a key and a name")
        if start.tzinfo is None or (end is not None and end.tzinfo is None):
            raise ValueError("event times must be timezone-aware")
        if end is not None and end <= start:
            raise ValueError("an event must end after it starts")
        post_channel = None
        if not self.has(Capability.SCHEDULED_EVENTS):
            post_channel = self.channel or self.app.default_channel(self.community)
        return await self.app.outbox.submit(
            ScheduleEvent(
                community=self.community,
                name=name.strip(),
                description=description,
                start=start,
                end=end,
                location=location,
                channel=channel,
                event_key=key,
                cancel=cancel,
                post_channel=post_channel,
                subjects=self._subjects(),
            )
        )

    async def emit(self, event: Event) -> None:
        """Send an event to every plugin."""
        await self.app.dispatcher.dispatch(event)

    def has(self, capability: Any) -> bool:
        """Whether this community's platform offers a capability."""
        return self.app.has_capability(self.community, capability)

    def now(self) -> Any:
        """The app clock's time (UTC)."""
        return self.app.clock.now()
