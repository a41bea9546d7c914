"""What the bot can do outward: the outbox stores these and adapters carry them out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, ClassVar

from bot.core.markup import Markup
from bot.core.messages import Content, Reward
from bot.core.refs import ChannelRef, CommunityRef, MemberRef, RoleRef

_kinds: dict[str, type[Action]] = {}
#: A member mention in markup, ``[name](member:ID)`` (see :func:`bot.core.markup.mention`).
_MENTION = re.compile(r"\]\(member:([^)\s]+)\)")
#: Where the fallback of a group of DMs mentions the members it could not reach: the outbox
#: puts their mentions there. Escaped user text never holds an unescaped ``[``, so no
#: member can write it.
FALLBACK_MENTIONS = Markup("[](mentions:)")


@dataclass(frozen=True, kw_only=True)
class Action:
    """Something to do on a platform, in a community.

    ``subjects`` are the ids of the members the action is about (who acted, who is
    mentioned or named, who receives it): the outbox indexes them so erasing a member
    finds exactly the stored actions that name them, even by display name only.
    """

    kind: ClassVar[str] = ""
    community: CommunityRef
    subjects: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _kinds[cls.kind] = cls

    @property
    def recipient(self) -> MemberRef | None:
        """The member this action is addressed to privately, if any."""
        return None

    @property
    def channel_key(self) -> str:
        """Actions with the same key are delivered in order (one channel, one member)."""
        return f"community:{self.community.id}"

    def members_named(self) -> frozenset[str]:
        """Every member id the action names: its subjects, recipient and mentions."""
        named = set(self.subjects)
        recipient = self.recipient
        if recipient is not None:
            named.add(recipient.id)
        for name in ("member", "content", "fallback"):
            value = getattr(self, name, None)
            if isinstance(value, MemberRef):
                named.add(value.id)
            elif isinstance(value, Content):
                named.update(value.mention_ids)
                named.update(_MENTION.findall(str(value.text)))
        return frozenset(named)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form for the outbox table."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in self.__dataclass_fields__:
            out[name] = _dump(getattr(self, name))
        return out

    @staticmethod
    def from_json(data: dict[str, Any]) -> Action:
        """Inverse of :meth:`to_json`."""
        cls = _kinds[data["kind"]]
        hints = {f.name: f.type for f in cls.__dataclass_fields__.values()}
        kwargs = {k: _load(hints[k], v) for k, v in data.items() if k != "kind" and k in hints}
        return cls(**kwargs)


def _dump(value: Any) -> Any:
    if isinstance(value, Content):
        return {"__content__": value.to_json()}
    if isinstance(value, CommunityRef | ChannelRef | MemberRef | RoleRef):
        return {
            "__ref__": type(value).__name__,
            **{f.name: getattr(value, f.name) for f in fields(value) if f.init},
        }
    if isinstance(value, Reward):
        return {"__reward__": {s: _dump(getattr(value, s)) for s in value.__slots__}}
    if isinstance(value, timedelta):
        return {"__seconds__": value.total_seconds()}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    return value


_REFS = {c.__name__: c for c in (CommunityRef, ChannelRef, MemberRef, RoleRef)}


def _load(_hint: Any, value: Any) -> Any:
    if isinstance(value, dict):
        if "__content__" in value:
            return Content.from_json(value["__content__"])
        if "__ref__" in value:
            cls = _REFS[value["__ref__"]]
            return cls(**{k: v for k, v in value.items() if k != "__ref__"})
        if "__reward__" in value:
            return Reward(**{k: _load(None, v) for k, v in value["__reward__"].items()})
        if "__seconds__" in value:
            return timedelta(seconds=value["__seconds__"])
        if "__datetime__" in value:
            return datetime.fromisoformat(value["__datetime__"])
    if isinstance(value, list):
        return tuple(_load(None, v) for v in value)
    return value


@dataclass(frozen=True, kw_only=True)
class SendMessage(Action):
    """Post ``content`` in a channel, or privately to ``member``.

    ``reply_to`` answers an event: the platform id of the message answered when the core
    knows it (else ``"event"``), stored with the action so a reply queued at shutdown
    still answers that message after a restart. The event's reply handle itself is kept
    in memory by the outbox, and its JSON form (``to_json``) is stored when it has one.
    ``private`` asks for an answer only the member sees where the platform can.
    ``fallback`` is posted in ``fallback_channel`` when a private message cannot be
    delivered (DMs closed, bot not started). DMs about one thing share a
    ``fallback_group``: once every one of them is done, the outbox posts their common
    ``fallback`` once, with :data:`FALLBACK_MENTIONS` replaced by mentions of exactly the
    members none reached (no post when all were delivered). ``keep``: the sender will
    edit, pin or unpin this post for longer than the outbox keeps finished actions (an
    event's post, edited for as long as the event runs), so its row is not pruned.
    ``unreached``: this post stands in for private messages that could not be delivered
    (set by the outbox on every fallback it posts), so an adapter whose members open the
    private chat through a link (Telegram's deep links) adds that link to it.
    """

    kind: ClassVar[str] = "send"
    channel: ChannelRef | None = None
    member: MemberRef | None = None
    content: Content = field(default_factory=Content)
    reply_to: str | None = None
    private: bool = False
    fallback: Content | None = None
    fallback_channel: ChannelRef | None = None
    fallback_group: str | None = None
    keep: bool = False
    unreached: bool = False

    @property
    def recipient(self) -> MemberRef | None:
        """The member addressed privately."""
        return self.member if self.channel is None else None

    @property
    def channel_key(self) -> str:
        """The ordering key: one channel or one member.

        A private reply is seen by its member only: it keeps order with the member's other
        private replies in that channel, never waits behind the channel's posts nor the
        member's direct messages (a button's answer held by a group's 20-a-minute window,
        or by a queue of DMs, would come too late to be the answer).
        """
        if self.private and self.member is not None:
            where = self.channel.id if self.channel is not None else ""
            return f"private:{where}:{self.member.id}"
        if self.channel is not None:
            return f"channel:{self.channel.id}"
        if self.member is not None:
            return f"member:{self.member.id}"
        return f"community:{self.community.id}"


@dataclass(frozen=True, kw_only=True)
class _OnMessage(Action):
    """An action on a message the bot sent, found by its outbox id (``original``).

    The outbox fills in ``message_id``, the platform's id, before the adapter sees it. In
    the channel's ordering stream, so it never overtakes the post it is about.
    """

    channel: ChannelRef | None = None
    original: int = 0
    message_id: str = ""

    @property
    def channel_key(self) -> str:
        """The ordering key: the channel of the message."""
        return f"channel:{self.channel.id}" if self.channel else f"community:{self.community.id}"


@dataclass(frozen=True, kw_only=True)
class EditMessage(_OnMessage):
    """Replace the content of a message the bot sent (found by its outbox id)."""

    kind: ClassVar[str] = "edit"
    content: Content = field(default_factory=Content)


@dataclass(frozen=True, kw_only=True)
class PinMessage(_OnMessage):
    """Pin a message the bot sent, quietly (members get no notification of it)."""

    kind: ClassVar[str] = "pin"


@dataclass(frozen=True, kw_only=True)
class UnpinMessage(_OnMessage):
    """Unpin a message the bot pinned; done already if it is gone or not pinned."""

    kind: ClassVar[str] = "unpin"


@dataclass(frozen=True, kw_only=True)
class GrantReward(Action):
    """Give (or take back, ``revoke``) a reward: a role, or the platform's fallback."""

    kind: ClassVar[str] = "reward"
    member: MemberRef
    reward: Reward
    revoke: bool = False
    channel: ChannelRef | None = None

    @property
    def recipient(self) -> MemberRef | None:
        """The member addressed privately."""
        return self.member

    @property
    def channel_key(self) -> str:
        """The ordering key: one channel or one member."""
        return f"member:{self.member.id}"


@dataclass(frozen=True, kw_only=True)
class SendPoll(Action):
    """Post a native platform poll."""

    kind: ClassVar[str] = "poll"
    channel: ChannelRef | None = None
    question: str = ""
    options: tuple[str, ...] = ()
    duration: timedelta | None = None
    multiple: bool = False
    anonymous: bool = True

    @property
    def channel_key(self) -> str:
        """The ordering key: one channel or one member."""
        return f"channel:{self.channel.id}" if self.channel else f"community:{self.community.id}"


@dataclass(frozen=True, kw_only=True)
class CreateThread(Action):
    """Open a thread named ``name`` in ``channel`` and post ``content`` as its first message.

    ``from_message`` is the outbox id of a message the bot sent: the thread starts from
    it where the platform can. The delivered id is the new thread's channel id, or, on
    platforms without threads, the id of the message posted instead (see
    :meth:`bot.core.context.Context.create_thread`).
    """

    kind: ClassVar[str] = "thread"
    channel: ChannelRef | None = None
    name: str = ""
    content: Content = field(default_factory=Content)
    from_message: int | None = None

    @property
    def channel_key(self) -> str:
        """The ordering key: the parent channel (after the message it may start from)."""
        return f"channel:{self.channel.id}" if self.channel else f"community:{self.community.id}"


@dataclass(frozen=True, kw_only=True)
class ScheduleEvent(Action):
    """Create, update or cancel (``cancel``) a scheduled community event.

    ``event_key`` is chosen by the plugin: the same key updates (or cancels) the event made
    before, the adapter keeps the platform's event id. ``start`` and ``end`` are aware
    datetimes. ``channel`` is a voice or stage channel to hold the event in (else it
    happens at ``location``). ``post_channel`` is where platforms without scheduled events
    post the announcement instead.
    """

    kind: ClassVar[str] = "event"
    name: str = ""
    description: str = ""
    start: datetime | None = None
    end: datetime | None = None
    location: str = ""
    channel: ChannelRef | None = None
    event_key: str = ""
    cancel: bool = False
    post_channel: ChannelRef | None = None

    @property
    def channel_key(self) -> str:
        """The ordering key: one event (its updates go out in order)."""
        return f"event:{self.community.id}:{self.event_key}"
