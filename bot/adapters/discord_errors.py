"""Discord's failures as the core's delivery errors, decided by Discord's JSON error codes.

The HTTP status alone misleads: Discord answers a missing permission with 403 *or* 400
(code 50013 on a message with an embed the bot may not send), and a vanished channel,
message or webhook are all 404s that mean different things. The JSON ``code`` decides;
the status is the fallback for codes this module does not know.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping

import aiohttp
import discord

from bot.adapters import discord_limits as limits
from bot.core.i18n import N_
from bot.core.platform import (
    DeliveryError,
    NeedsAdmin,
    PermanentError,
    RetryAfter,
    TransientError,
    Undeliverable,
)

log = logging.getLogger(__name__)

# Reasons for the admins' failure report (msgids of the ``discord`` domain).
REFUSED = N_("Discord did not accept the request: {error}")
MISSING_PERMISSION = N_(
    "Discord refused because I am missing a permission in {channel}. Give my role the "
    "View Channel, Send Messages, Embed Links and Attach Files permissions there."
)
MISSING_ACCESS = N_(
    "Discord refused because I cannot see {channel}. Give my role the View Channel "
    "permission there."
)
GONE = N_("Discord no longer knows the channel, message or member this was for: {error}")

#: Codes an admin can fix (permissions, channel access): reported once, retried later.
ADMIN_CODES = frozenset({limits.MISSING_PERMISSIONS, limits.MISSING_ACCESS})
#: Codes saying the target is gone: retrying will never work.
GONE_CODES = frozenset({
    limits.UNKNOWN_CHANNEL, limits.UNKNOWN_GUILD, limits.UNKNOWN_MEMBER,
    limits.UNKNOWN_MESSAGE, limits.UNKNOWN_ROLE, limits.UNKNOWN_USER,
    limits.UNKNOWN_SCHEDULED_EVENT,
})  # fmt: skip

#: The (limit name, key) of the REST call in progress in this delivery (one task each),
#: so a 429 names the bucket it refused.
current_bucket: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "discord_bucket", default=None
)


def _headers(exc: discord.HTTPException) -> Mapping[str, str]:
    return getattr(exc.response, "headers", None) or {}


def rate_limited(exc: discord.HTTPException) -> RetryAfter:
    """A 429 discord.py handed up, as RetryAfter naming the scope and the refused bucket.

    discord.py retries a 429 itself (five times, sleeping the body's ``retry_after`` after
    each one, the last included) before it raises: the wait is over by then, and telling
    the outbox to wait ``Retry-After`` again would wait twice. So the wait asked for is 0;
    the scope and bucket still tell the outbox which limit was hit.
    """
    headers = _headers(exc)
    is_global = str(headers.get("X-RateLimit-Global", "")).lower() == "true" or (
        headers.get("X-RateLimit-Scope") == "global"
    )
    if is_global:
        return RetryAfter(0.0, "global", (limits.GLOBAL, limits.GLOBAL_KEY))
    return RetryAfter(0.0, "channel", current_bucket.get())


def classify(exc: BaseException, *, private: bool = False) -> DeliveryError:
    """The delivery error for a failure of one of the adapter's REST calls.

    Args:
        exc: What discord.py (or aiohttp) raised.
        private: The action was private: a member who cannot be reached is Undeliverable
            (and never turned into a public post).
    """
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return RetryAfter(exc.retry_after, "channel", current_bucket.get())
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code
        error = exc.text or str(status)
        if status == 429:
            return rate_limited(exc)
        if code == limits.CANNOT_MESSAGE_USER:
            return Undeliverable(error)
        if code in ADMIN_CODES:
            reason = MISSING_ACCESS if code == limits.MISSING_ACCESS else MISSING_PERMISSION
            return NeedsAdmin(reason, channel=_where())
        if private and code in (limits.UNKNOWN_USER, limits.UNKNOWN_MEMBER):
            return Undeliverable(error)
        if code in GONE_CODES:
            return PermanentError(GONE, error=error)
        if status >= 500 or code == limits.RESOURCE_OVERLOADED:
            return TransientError(f"discord {status} ({code}): {error}")
        if status == 403:
            # A 403 without a known code is still about permissions.
            return NeedsAdmin(MISSING_PERMISSION, channel=_where())
        return PermanentError(REFUSED, error=error)
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return TransientError(repr(exc))
    # discord.py failed to read a response (a malformed body) or a bug: the request may
    # have gone through. Retrying is safe for messages (the nonce makes Discord return the
    # first message) and for idempotent calls (edits, roles).
    return TransientError(f"unexpected {exc!r}")


_WHERE: contextvars.ContextVar[str] = contextvars.ContextVar("discord_where", default="")


def set_where(channel_id: str | None) -> None:
    """Name the channel the current delivery writes to, for permission reports."""
    _WHERE.set(f"<#{channel_id}>" if channel_id and channel_id.isdigit() else "")


def _where() -> str:
    return _WHERE.get() or "…"


def describe(exc: BaseException) -> str:
    """A log-safe one-line description (no tokens: discord.py's texts carry none)."""
    if isinstance(exc, discord.HTTPException):
        return f"{type(exc).__name__} {exc.status} code {exc.code}: {exc.text}"
    return repr(exc)
