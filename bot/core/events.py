"""The event vocabulary plugins receive.

Adapters translate native platform events into these. Every event carries ``id``,
the platform's own identity for it (gateway sequence material, Telegram ``update_id``,
message ids), which the dispatcher uses to drop replays. Plugins define their own
events by subclassing :class:`Event` and emit them to each other through the context.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.refs import ChannelRef, CommunityRef, MemberRef

_internal_ids = itertools.count(1)


def internal_id(kind: str) -> str:
    """An id for an event that did not come from a platform (never de-duplicated)."""
    return f"internal:{kind}:{next(_internal_ids)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened in a community.

    Attributes:
        id: Platform identity of the event, used to drop replays. Empty for internal events.
        community: Where it happened.
        at: When the platform says it happened, if it says.
        durable: Whether the platform may deliver it again after a restart (Telegram
            redelivers unacknowledged updates; a new Discord gateway session replays
            nothing). Only durable ids are stored; all are remembered in memory.
    """

    id: str
    community: CommunityRef
    at: datetime | None = None
    durable: bool = True

    @property
    def deduplicate(self) -> bool:
        """Whether the dispatcher should drop a second delivery of this id."""
        return bool(self.id) and not self.id.startswith("internal:")


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityJoined(Event):
    """The bot was added to a community or saw it at start-up."""

    name: str = ""
    added_by: MemberRef | None = None
    missing_rights: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    """A member joined the community."""

    member: MemberRef


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Event):
    """A member left or was removed."""

    member: MemberRef


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePosted(Event):
    """A member posted a message.

    ``text`` is empty where the platform withholds message content.
    """

    member: MemberRef
    channel: ChannelRef
    message_id: str
    text: str = ""
    reply_to: str | None = None
    reply_to_member: MemberRef | None = None
    thread: ChannelRef | None = None
    mentions: tuple[MemberRef, ...] = ()


def _setter(cls: type[Any], name: str) -> Any:
    """The slot's own setter: it writes past a frozen dataclass's ``__setattr__``."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name].__set__
    raise AttributeError(name)


_new = object.__new__
(_id, _community, _at, _durable, _member, _channel, _message_id, _text, _reply_to,
 _reply_to_member, _thread, _mentions) = (_setter(MessagePosted, name) for name in (
    "id", "community", "at", "durable", "member", "channel", "message_id", "text",
    "reply_to", "reply_to_member", "thread", "mentions"))


def message_posted(
    id: str,
    community: CommunityRef,
    at: datetime | None,
    durable: bool,
    member: MemberRef,
    channel: ChannelRef,
    message_id: str,
    text: str,
    reply_to: str | None,
    reply_to_member: MemberRef | None,
    thread: ChannelRef | None,
    mentions: tuple[MemberRef, ...],
) -> MessagePosted:
    """``MessagePosted(...)`` with every field given, for adapters' hot path.

    Equal to the constructor's event; it sets the slots directly, where the frozen
    dataclass's ``__init__`` goes through ``object.__setattr__`` per field (a third of
    turning a gateway payload into an event).
    """
    event = _new(MessagePosted)
    _id(event, id)
    _community(event, community)
    _at(event, at)
    _durable(event, durable)
    _member(event, member)
    _channel(event, channel)
    _message_id(event, message_id)
    _text(event, text)
    _reply_to(event, reply_to)
    _reply_to_member(event, reply_to_member)
    _thread(event, thread)
    _mentions(event, mentions)
    return event


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(Event):
    """A member edited a message."""

    member: MemberRef
    channel: ChannelRef
    message_id: str
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDeleted(Event):
    """A message was deleted."""

    channel: ChannelRef
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(Event):
    """A member reacted to a message; ``author`` wrote the message, if known."""

    member: MemberRef
    channel: ChannelRef
    message_id: str
    emoji: str
    author: MemberRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionRemoved(Event):
    """A member took a reaction back."""

    member: MemberRef
    channel: ChannelRef
    message_id: str
    emoji: str
    author: MemberRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPressed(Event):
    """A member pressed a button (or opened a deep link) carrying ``payload``.

    ``payload`` is the decoded :class:`bot.core.payloads.Payload`; ``reply_handle`` is the
    adapter's opaque handle for answering this press (an interaction, a callback query).
    """

    member: MemberRef
    channel: ChannelRef
    message_id: str
    payload: Any
    reply_handle: Any = field(default=None, compare=False)
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """A member invoked a command.

    Text platforms fill ``text`` with the raw arguments; platforms with typed options
    (Discord) fill ``options`` with values already converted to core types.
    """

    member: MemberRef
    channel: ChannelRef
    name: str
    text: str = ""
    options: Mapping[str, Any] | None = None
    reply_handle: Any = field(default=None, compare=False)
    privilege_hint: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PollAnswered(Event):
    """A member answered a native platform poll (empty ``options`` = vote withdrawn)."""

    member: MemberRef
    poll_id: str
    options: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ContributionMade(Event):
    """A plugin reports that a member contributed (the contributions plugin rewards it).

    ``kind`` names the contribution and is also its weight key (``poll_voted``,
    ``event_attended``, ``suggestion_adopted``); ``ref`` says what it was about.
    """

    member: MemberRef
    kind: str
    ref: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PollClosed(Event):
    """A poll closed (emitted by the polls plugin for others, e.g. a digest).

    Attributes:
        poll_id: The poll's number in its community.
        question: The question asked.
        options: Each option's text and vote count, in the order asked.
        winners: The options with the most votes (several on a tie, none without votes).
        tie: Whether more than one option shares the most votes.
        quorum_met: Whether enough members voted for the result to count.
        voters: How many members voted.
        newcomer_share: Share of voters who joined within 30 days (0..1).
        beyond_usual_share: Share of voters not among the most active 10% (0..1).
        voter_ids: The voters' member ids, for a poll that was not anonymous (empty for
            an anonymous one: its ballots never name anyone), so a plugin can tell them
            what came of it.
    """

    poll_id: int
    question: str
    options: tuple[tuple[str, int], ...] = ()
    winners: tuple[str, ...] = ()
    tie: bool = False
    quorum_met: bool = True
    voters: int = 0
    newcomer_share: float = 0.0
    beyond_usual_share: float = 0.0
    voter_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InterestsChosen(Event):
    """A member chose their interests during onboarding (stable interest ids).

    Emitted by the onboarding plugin so others (e.g. matchmaking) can use them.
    ``labels`` are the same interests as the community names them (in the same order), for
    plugins that show them to people: an id like ``"2"`` means nothing to a reader.
    ``translations`` holds, per language code, the labels in that language (same order;
    ``""`` where an interest has none there, so a reader of it sees the label).
    """

    member: MemberRef
    interests: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    translations: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InterestsNamed(Event):
    """The community's interests as they are named now, after an admin changed them.

    Emitted by the onboarding plugin (an interest added, renamed, named in a language), so a
    plugin that keeps interests by id shows the new names without waiting for members to
    pick again. Every current interest, shaped like :class:`InterestsChosen`'s fields.
    """

    interests: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    translations: tuple[tuple[str, tuple[str, ...]], ...] = ()

