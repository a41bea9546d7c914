"""Sliding-window rate limits, described per platform as data."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` sends per ``seconds`` within one ``scope``.

    Scopes: ``global`` (the whole bot), ``channel`` (one channel or private chat),
    ``group`` (one community, for Telegram's per-group limit).
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


class SlidingWindow:
    """Remembers send times per key and says when the next send may go."""

    __slots__ = ("_sent", "limit")

    def __init__(self, limit: Limit) -> None:
        """Track one limit."""
        self.limit = limit
        self._sent: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds until a send under ``key`` is allowed (0 when allowed now)."""
        sent = self._sent.get(key)
        if not sent:
            return 0.0
        horizon = now - self.limit.seconds
        while sent and sent[0] <= horizon:
            sent.popleft()
        if len(sent) < self.limit.count:
            return 0.0
        return sent[0] + self.limit.seconds - now

    def record(self, key: str, now: float) -> None:
        """Count a send."""
        self._sent.setdefault(key, deque()).append(now)

    def unrecord(self, key: str, at: float) -> None:
        """Take back a send the platform refused (it did not count there either)."""
        sent = self._sent.get(key)
        if sent is not None and at in sent:
            sent.remove(at)


class RateLimiter:
    """All windows of one profile, plus waits the platform imposed."""

    def __init__(self, profile: RateProfile) -> None:
        """Build a window per limit."""
        self.profile = profile
        self.windows = [
            SlidingWindow(Limit(limit.scope, limit.count, limit.seconds + profile.margin))
            for limit in profile.limits
        ]
        self._blocked: dict[str, float] = {}

    @staticmethod
    def _key(scope: str, channel: str, group: str) -> str:
        if scope == "global":
            return "*"
        return group if scope == "group" else channel

    def wait(self, channel: str, group: str, now: float) -> float:
        """Seconds before a send to ``channel`` in ``group`` is allowed."""
        longest = max(self._blocked.get("*", 0.0), self._blocked.get(channel, 0.0)) - now
        for w in self.windows:
            longest = max(longest, w.wait(self._key(w.limit.scope, channel, group), now))
        return max(longest, 0.0)

    def record(self, channel: str, group: str, now: float) -> None:
        """Count a send in every window."""
        for w in self.windows:
            w.record(self._key(w.limit.scope, channel, group), now)

    def unrecord(self, channel: str, group: str, at: float) -> None:
        """Take back a send recorded at ``at`` that the platform refused."""
        for w in self.windows:
            w.unrecord(self._key(w.limit.scope, channel, group), at)

    def block(self, scope: str, channel: str, until: float) -> None:
        """Honour a platform's "retry after" for the whole bot or one channel."""
        key = "*" if scope == "global" else channel
        self._blocked[key] = max(self._blocked.get(key, 0.0), until)
