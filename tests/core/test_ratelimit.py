"""Rate-limit buckets: each (limit, key) pair has its own window; 429s block one bucket."""

from __future__ import annotations

import itertools

import pytest

from bot.core.ratelimit import GLOBAL, Limit, RateLimiter, RateProfile, legacy_keys

TELEGRAM = RateProfile(
    "t", (Limit("global", 30, 1.0), Limit("group", 20, 60.0), Limit("chat", 1, 1.0)), margin=0
)
GROUP_POST = (GLOBAL, ("group", "g1"), ("chat", "g1"))
DM = (GLOBAL, ("chat", "u1"))


def test_a_full_group_window_holds_group_posts_and_not_private_chats() -> None:
    limiter = RateLimiter(TELEGRAM)
    for i in range(20):
        limiter.record(GROUP_POST, i * 1.5)  # 20 posts in 30 s: the group's minute is full
    wait, why = limiter.wait(GROUP_POST, 30.0)
    assert why == ("group", "g1") and wait == pytest.approx(30.0)
    assert limiter.wait(DM, 30.0) == (0.0, None)


def test_an_action_without_buckets_is_never_held_not_even_by_a_global_429() -> None:
    limiter = RateLimiter(TELEGRAM)
    limiter.block(GLOBAL, 100.0)
    assert limiter.wait((), 1.0) == (0.0, None)
    assert limiter.wait(DM, 1.0) == (pytest.approx(99.0), GLOBAL)


def test_a_refused_bucket_blocks_only_itself() -> None:
    limiter = RateLimiter(TELEGRAM)
    limiter.block(("group", "g1"), 10.0)
    assert limiter.wait(GROUP_POST, 0.0)[1] == ("group", "g1")
    assert limiter.wait((GLOBAL, ("group", "g2"), ("chat", "g2")), 0.0) == (0.0, None)
    assert limiter.free(("group", "g1"), 5.0) == 0
    assert limiter.free(("group", "g1"), 10.0) == 20


def test_idle_keys_are_forgotten_so_many_private_chats_cost_no_memory() -> None:
    limiter = RateLimiter(TELEGRAM)
    for i in range(1000):
        limiter.record((("chat", f"u{i}"),), 0.0)
    assert len(limiter.windows["chat"]) == 1000
    for i in range(1000):
        limiter.wait((("chat", f"u{i}"),), 5.0)
    assert len(limiter.windows["chat"]) == 0


def test_platforms_without_rate_keys_keep_one_window_per_channel_and_community() -> None:
    profile = RateProfile("old", (Limit("global", 30, 1.0), Limit("group", 20, 60.0),
                                  Limit("channel", 1, 1.0)))
    assert legacy_keys(profile, "channel:c1", "g1") == (
        GLOBAL, ("group", "g1"), ("channel", "channel:c1"),
    )  # fmt: skip


def test_a_paced_window_spreads_its_sends_without_lowering_its_rate() -> None:
    limiter = RateLimiter(RateProfile("p", (Limit("global", 10, 1.0, paced=True),), margin=0))
    sent, now = [], 0.0
    while len(sent) < 30:
        wait, _ = limiter.wait((GLOBAL,), now)
        if wait == 0:
            limiter.record((GLOBAL,), now)
            sent.append(now)
        now = round(now + 0.01, 2)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.05 - 1e-9  # never a burst: a slot at a time
    # the full rate: each one-second window still gets all of its 10 sends
    assert [sum(1 for t in sent if k <= t < k + 1) for k in range(3)] == [10, 10, 10]


def test_used_tells_how_full_a_streams_own_window_is() -> None:
    limiter = RateLimiter(RateProfile("d", (Limit("global", 50, 1.0), Limit("route", 5, 5.0))))
    dm = (GLOBAL, ("route", "dm:1"))
    for i in range(4):
        limiter.record(dm, i * 0.1)
    assert limiter.used(dm, 1.0) == 4  # the global bucket does not count
    assert limiter.used((GLOBAL, ("route", "dm:2")), 1.0) == 0
    assert limiter.used(dm, 6.0) == 0


def test_a_send_outside_the_global_limit_waits_only_for_a_global_retry_after() -> None:
    limiter = RateLimiter(RateProfile("d", (Limit("global", 2, 1.0), Limit("hook", 5, 2.0)),
                                      margin=0))
    limiter.record((GLOBAL,), 0.0)
    limiter.record((GLOBAL,), 0.0)  # the global window is full
    answer = (("hook", "interaction"),)
    assert limiter.wait(answer, 0.5) == (0.0, None)
    assert limiter.wait((GLOBAL,), 0.5)[1] == GLOBAL
    limiter.block(GLOBAL, 3.0)
    assert limiter.wait(answer, 0.5) == (pytest.approx(2.5), GLOBAL)
