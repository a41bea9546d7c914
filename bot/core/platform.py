"""What the core asks of a platform adapter, and what an adapter may answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.actions import Action
from bot.core.capabilities import Capability, Limits
from bot.core.commands import Kind
from bot.core.privilege import Privilege
from bot.core.ratelimit import RateProfile
from bot.core.refs import ChannelRef, CommunityRef, MemberRef


class DeliveryError(Exception):
    """Base of what ``Platform.deliver`` raises."""


class RetryAfter(DeliveryError):
    """The platform said to wait ``seconds`` (scope "global" stops every send).

    ``bucket`` names the rate-limit bucket the platform refused, as one of the
    ``(limit name, key)`` pairs :meth:`Platform.rate_keys` returns, when the adapter knows
    it. Waiting never counts as a failed attempt.
    """

    def __init__(
        self, seconds: float, scope: str = "channel", bucket: tuple[str, str] | None = None
    ) -> None:
        """Remember how long and for what."""
        super().__init__(f"retry after {seconds}s ({scope})")
        self.seconds = seconds
        self.scope = scope
        self.bucket = bucket


class NotConnected(DeliveryError):
    """The adapter is not connected yet (or reconnecting): not an attempt, wait and retry."""


class TransientError(DeliveryError):
    """A failure worth retrying with backoff (network, 5xx)."""


class PermanentError(DeliveryError):
    """A failure retrying will not fix (missing permission, unknown channel).

    ``reason`` is a msgid for the admins' report, ``values`` fill it.
    """

    def __init__(self, reason: str, **values: Any) -> None:
        """Keep the msgid and its values."""
        super().__init__(reason.format(**values) if values else reason)
        self.reason = reason
        self.values = values


class NeedsAdmin(PermanentError):
    """A failure an admin can fix (a missing permission, the bot's role too low).

    The outbox reports it once, keeps the action, retries it every hour for a few days,
    and at once when the platform says the community's roles or permissions changed.
    """


class Declined(PermanentError):
    """The platform refused an optional action for want of a right (a pin, in one chat).

    Retrying will not help, and telling the admins each time would be noise (the setup
    note names the rights the bot wants): the outbox logs it and drops the action, reporting
    nothing, and the actions after it go on.
    """


class Undeliverable(DeliveryError):
    """A private message the member cannot receive (DMs closed, bot not started)."""


@dataclass(slots=True)
class Progress:
    """How far a multi-part action got, kept by the outbox across retries and restarts.

    Attributes:
        key: Stable for the action (``mj<outbox id>``); Discord sends it as the message
            ``nonce`` with ``enforce_nonce`` so an ambiguous failure is not posted twice.
        parts: Index of each part already delivered -> the platform's message id. An
            adapter skips those parts and records each one as soon as it succeeds.
    """

    key: str = ""
    parts: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a delivery produced: the platform's id of the message sent, if any."""

    message_id: str | None = None


class Platform(Protocol):
    """An adapter as the core sees it."""

    name: str
    capabilities: frozenset[Capability]
    rate_profile: RateProfile
    limits: Limits

    async def start(self, app: Any) -> None:
        """Connect and start translating events into ``app.dispatcher``."""

    async def stop(self) -> None:
        """Disconnect."""

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        """Carry out one action, or raise a :class:`DeliveryError`.

        A private action (``SendMessage.private``, ephemeral replies, callback answers)
        is never posted publicly, whatever fails: it is delivered privately or raises
        :class:`Undeliverable`.
        """
        ...

    def rate_keys(self, action: Action) -> tuple[tuple[str, str], ...]:
        """The ``(limit name, bucket key)`` pairs ``action`` counts against.

        Names are those of the profile's :class:`~bot.core.ratelimit.Limit` s; ``()`` for
        an action that makes no rate-limited call (a reward only recorded).
        """
        ...

    async def wait_ready(self) -> None:
        """Return once the adapter is connected and can deliver."""
        ...

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """The member's privilege as the platform sees it (not counting Majlis roles)."""
        ...

    async def resolve(self, community: CommunityRef, kind: Kind, token: str) -> Any:
        """A member, channel or role for a text argument, or None."""
        ...

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """Where automated posts go when a plugin names no channel."""
        ...
