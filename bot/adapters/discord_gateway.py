"""MESSAGE_CREATE straight from the gateway payload to the core event.

Every message in every guild passes here, so guild messages skip discord.py's
``discord.Message`` model (member, user and channel objects the core never reads) and
become a :class:`MessagePosted` from the payload dict; what the core needs is all in it.
Direct messages and the bot's own messages still take discord.py's path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.core.events import MessagePosted, message_posted
from bot.core.refs import ChannelRef, CommunityRef, MemberRef

PLATFORM = "discord"
#: Message types members write (DEFAULT, REPLY); system messages (joins, boosts, pins)
#: are not contributions.
MEMBER_MESSAGE_TYPES = frozenset({0, 19})
_CACHE_SIZE = 10_000

ThreadParent = Callable[[int, int], "int | None"]


class RefCache:
    """Community and channel references, built once per id (bounded)."""

    __slots__ = ("channels", "communities")

    def __init__(self) -> None:
        """Start empty."""
        self.communities: dict[str, CommunityRef] = {}
        self.channels: dict[str, ChannelRef] = {}

    def community(self, guild_id: str) -> CommunityRef:
        """The reference of a guild."""
        found = self.communities.get(guild_id)
        if found is None:
            found = _keep(self.communities, guild_id, CommunityRef(PLATFORM, guild_id))
        return found

    def channel(self, channel_id: str, parent: int | None) -> ChannelRef:
        """The reference of a channel, or of a thread naming its parent."""
        found = self.channels.get(channel_id)
        if found is None:
            found = self.remember(
                ChannelRef(PLATFORM, channel_id, "", False, str(parent) if parent else None)
            )
        return found

    def remember(self, channel: ChannelRef) -> ChannelRef:
        """Keep a channel reference built elsewhere (from discord.py's channel object)."""
        return _keep(self.channels, channel.id, channel)


def _keep(cache: dict[str, Any], key: str, value: Any) -> Any:
    if len(cache) > _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _member(user: Mapping[str, Any], member: Mapping[str, Any] | None) -> MemberRef:
    name = (member.get("nick") if member else None) or user.get("global_name") or user.get(
        "username", ""
    )
    # Interned: plugins key per-member state by this id, and a fresh string per message
    # would be kept once more by every table a member first enters (~50 B a member each).
    member_id = sys.intern(user["id"])
    return MemberRef(PLATFORM, member_id, name, None, bool(user.get("bot", False)))


def message_posted_from_payload(
    data: Mapping[str, Any],
    self_id: int | None,
    refs: RefCache,
    thread_parent: ThreadParent | None = None,
) -> MessagePosted | None:
    """A guild MESSAGE_CREATE payload as the core's event; None when it is not one.

    Args:
        data: The gateway event's ``d`` object.
        self_id: The bot's user id (its own messages are not events).
        refs: Where references are reused.
        thread_parent: ``(guild_id, channel_id) -> parent id`` when the channel is a thread.
    """
    guild_id = data.get("guild_id")
    if guild_id is None or data.get("type", 0) not in MEMBER_MESSAGE_TYPES:
        return None
    author = data["author"]
    if self_id is not None and author["id"] == str(self_id):
        return None
    channel_id = data["channel_id"]
    channel = refs.channels.get(channel_id)
    if channel is None:
        parent = thread_parent(int(guild_id), int(channel_id)) if thread_parent else None
        channel = refs.channel(channel_id, parent)
    reply_to = reply_member = None
    reference = data.get("message_reference")
    if reference is not None:
        reply_to = reference.get("message_id")
        replied = data.get("referenced_message")
        if replied:
            reply_member = _member(replied["author"], None)
    mentions = data.get("mentions")
    message_id = data["id"]
    return message_posted(
        "dc:msg:" + message_id,
        refs.community(guild_id),
        datetime.fromisoformat(data["timestamp"]),
        False,  # a new gateway session replays nothing
        _member(author, data.get("member")),
        channel,
        message_id,
        data.get("content", ""),
        reply_to,
        reply_member,
        channel if channel.parent is not None else None,
        tuple(_member(u, u.get("member")) for u in mentions) if mentions else (),
    )
