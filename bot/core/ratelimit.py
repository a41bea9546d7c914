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

    ``paced`` spreads a bucket's sends: two are at least ``seconds / count / 2`` apart.
    A window that fills in one burst frees in one burst, and every stream waiting behind
    it gets one slot of it, however long its queue: a busy chat with room in its own
    window then sends once per global window instead of using its own. Spread, the global
    window frees a slot at a time, and the stream that needs it most (see the outbox)
    takes it. Half the mean gap keeps bursts short without lowering the rate.
    """

    scope: str
    count: int
    seconds: float
    paced: bool = False

    @property
    def spacing(self) -> float:
        """Seconds between two sends of one key (0 when not paced)."""
        return self.seconds / self.count / 2 if self.paced and self.count > 0 else 0.0


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
        if sent is None:
            return 0.0
        paced = sent[-1] + self.limit.spacing - now
        if len(sent) < self.limit.count:
            return max(paced, 0.0)
        return max(sent[-self.limit.count] + self.limit.seconds - now, paced)

    def free(self, key: str, now: float) -> int:
        """How many sends under ``key`` the window allows right now (0 while pacing)."""
        sent = self._recent(key, now)
        if sent is not None and sent[-1] + self.limit.spacing > now:
            return 0
        return self.limit.count - (len(sent) if sent is not None else 0)

    def used(self, key: str, now: float) -> int:
        """How many sends under ``key`` the window holds right now."""
        sent = self._recent(key, now)
        return len(sent) if sent is not None else 0

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
            lim.scope: SlidingWindow(
                Limit(lim.scope, lim.count, lim.seconds + profile.margin, lim.paced)
            )
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
        by a global "retry after". One whose buckets leave out the global one is held by a
        global "retry after" but not by the global window.
        """
        if not buckets:
            return 0.0, None
        if GLOBAL in buckets:
            longest = self.bucket_wait(GLOBAL, now)
        else:
            # outside the global limit (an interaction response): only a global "retry
            # after" holds it, never the global window it does not count against
            longest = max(self._blocked.get(GLOBAL, 0.0) - now, 0.0)
        why: Bucket | None = GLOBAL
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

    def used(self, buckets: tuple[Bucket, ...], now: float) -> int:
        """The most sends any of ``buckets`` (but the global one) holds in its window now.

        A stream that keeps its own window full is bound by it, not by the global limit:
        the outbox lets it go first at the global bucket, so it keeps its own pace.
        """
        most = 0
        for scope, key in buckets:
            window = self.windows.get(scope)
            if window is not None and (scope, key) != GLOBAL:
                most = max(most, window.used(key, now))
        return most

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
