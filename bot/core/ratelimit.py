"""Sliding-window rate limits per bucket, described per platform as data.

A *bucket* is a ``(limit name, key)`` pair: ``("chat", "42")`` is Telegram's one-per-second
window of chat 42, ``("global", "*")`` the whole bot. The adapter says which buckets an
action counts against (:meth:`bot.core.platform.Platform.rate_keys`); platforms that do not
say get :func:`legacy_keys`, every limit keyed by channel or community as before.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

#: One rate-limit bucket: the :attr:`Limit.scope` it belongs to and the key within it.
Bucket = tuple[str, str]
#: The bucket a platform's "retry after" with scope "global" blocks: every send.
GLOBAL: Bucket = ("global", "*")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` sends per ``seconds`` within one bucket of ``scope``.

    ``scope`` is a free name the adapter's ``rate_keys`` uses (``global``, ``chat``,
    ``group``, ``route:POST /channels/{id}/messages``...). Platforms without ``rate_keys``
    key ``global`` as the whole bot, ``group`` by community and any other by channel.
    """

    scope: str
    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class RateProfile:
    """A platform's limits; ``concurrency`` bounds sends in flight."""

    name: str
    limits: tuple[Limit, ...] = ()
    concurrency: int = 8
    #: Seconds added to every window: requests reach the platform with some jitter, and a
    #: send that lands a hair early costs a 429 and a retry-after wait.
    margin: float = 0.02


UNLIMITED = RateProfile("unlimited", (), 64)


def legacy_keys(profile: RateProfile, channel: str, group: str) -> tuple[Bucket, ...]:
    """The buckets of a platform without ``rate_keys``: every limit, as before buckets."""
    out = []
    for limit in profile.limits:
        if limit.scope == "global":
            out.append(GLOBAL)
        elif limit.scope == "group":
            out.append((limit.scope, group))
        else:
            out.append((limit.scope, channel))
    return tuple(out)


class SlidingWindow:
    """Remembers send times per key and says when the next send may go."""

    __slots__ = ("_sent", "limit")

    def __init__(self, limit: Limit) -> None:
        """Track one limit."""
        self.limit = limit
        self._sent: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        sent = self._sent.get(key)
        if sent is None:
            return None
        horizon = now - self.limit.seconds
        while sent and sent[0] <= horizon:
            sent.popleft()
        if not sent:
            # forget idle keys: a bot that wrote to 100k private chats keeps no 100k deques
            del self._sent[key]
            return None
        return sent

    def wait(self, key: str, now: float) -> float:
        """Seconds until a send under ``key`` is allowed (0 when allowed now)."""
        sent = self._recent(key, now)
        if sent is None or len(sent) < self.limit.count:
            return 0.0
        return sent[-self.limit.count] + self.limit.seconds - now

    def free(self, key: str, now: float) -> int:
        """How many sends under ``key`` the window allows right now."""
        sent = self._recent(key, now)
        return self.limit.count - (len(sent) if sent is not None else 0)

    def record(self, key: str, now: float) -> None:
        """Count a send."""
        self._sent.setdefault(key, deque()).append(now)

    def unrecord(self, key: str, at: float) -> None:
        """Take back a send the platform refused (it did not count there either)."""
        sent = self._sent.get(key)
        if sent is not None and at in sent:
            sent.remove(at)

    def __len__(self) -> int:
        """Keys currently tracked."""
        return len(self._sent)


class RateLimiter:
    """All windows of one profile by limit name, plus waits the platform imposed."""

    def __init__(self, profile: RateProfile) -> None:
        """Build a window per limit."""
        self.profile = profile
        self.windows = {
            lim.scope: SlidingWindow(Limit(lim.scope, lim.count, lim.seconds + profile.margin))
            for lim in profile.limits
        }
        self._blocked: dict[Bucket, float] = {}

    def bucket_wait(self, bucket: Bucket, now: float) -> float:
        """Seconds before ``bucket`` (alone) allows a send."""
        wait = self._blocked.get(bucket, 0.0) - now
        if wait <= 0 and bucket in self._blocked:
            del self._blocked[bucket]
        window = self.windows.get(bucket[0])
        if window is not None:
            wait = max(wait, window.wait(bucket[1], now))
        return max(wait, 0.0)

    def wait(self, buckets: tuple[Bucket, ...], now: float) -> tuple[float, Bucket | None]:
        """Seconds before a send counting against ``buckets`` may go, and the bucket why.

        An action with no buckets makes no rate-limited call: it is never held, not even
        by a global "retry after".
        """
        if not buckets:
            return 0.0, None
        longest, why = self.bucket_wait(GLOBAL, now), GLOBAL
        for bucket in buckets:
            if bucket == GLOBAL:
                continue
            wait = self.bucket_wait(bucket, now)
            if wait > longest:
                longest, why = wait, bucket
        return (longest, why) if longest > 0 else (0.0, None)

    def free(self, bucket: Bucket, now: float) -> int:
        """How many sends ``bucket`` allows right now (0 while blocked)."""
        if self._blocked.get(bucket, 0.0) > now:
            return 0
        window = self.windows.get(bucket[0])
        return window.free(bucket[1], now) if window is not None else 1 << 30

    def record(self, buckets: tuple[Bucket, ...], now: float) -> None:
        """Count a send in every window it falls in."""
        for scope, key in buckets:
            window = self.windows.get(scope)
            if window is not None:
                window.record(key, now)

    def unrecord(self, buckets: tuple[Bucket, ...], at: float) -> None:
        """Take back a send recorded at ``at`` that the platform refused."""
        for scope, key in buckets:
            window = self.windows.get(scope)
            if window is not None:
                window.unrecord(key, at)

    def block(self, bucket: Bucket, until: float) -> None:
        """Honour a platform's "retry after" for one bucket (:data:`GLOBAL`: every send)."""
        self._blocked[bucket] = max(self._blocked.get(bucket, 0.0), until)
