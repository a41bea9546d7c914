"""Polls' activity columns: what is loaded and counted reads back exactly, as a dict would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from plugins.polls.activity import ActivityBook, Columns, Seen
from plugins.polls.rules import Tally, active_members, outcome, usual_voices, voter_key

NOW = datetime(2026, 3, 2, 12, 0, 0, 123_457, tzinfo=UTC)
KEY = "console:local"


def sample(n: int = 300, seed: int = 5) -> dict[str, Seen]:
    """Members with microsecond times, some never joined or never posted."""
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        joined = None if i % 7 == 0 else NOW - timedelta(microseconds=rng.randrange(10**14))
        last = None if i % 5 == 0 else NOW - timedelta(microseconds=rng.randrange(10**14))
        out[f"m{i}"] = Seen(joined, last, rng.randrange(0, 40) if last else 0)
    return out


def test_columns_read_back_what_was_loaded() -> None:
    members = sample()
    columns = Columns((m, s.joined_at, s.last_seen, s.messages) for m, s in members.items())
    assert len(columns) == len(members)
    assert dict(columns.items()) == members
    assert columns["m3"].joined_at == members["m3"].joined_at  # to the microsecond
    assert columns["m0"].joined_at is None and columns["m5"].last_seen is None


def test_quorum_and_reach_agree_with_a_plain_dict() -> None:
    members = sample(2_000)
    columns = Columns((m, s.joined_at, s.last_seen, s.messages) for m, s in members.items())
    assert active_members(columns, NOW) == active_members(members, NOW)
    assert usual_voices(columns) == usual_voices(members)
    salt = "cd" * 32
    voters = [f"m{i}" for i in range(0, 2_000, 3)]
    for key_salt, keys in ((None, set(voters)), (salt, {voter_key(salt, v) for v in voters})):
        tally = Tally([len(voters), 0], len(voters) + 4)  # four voters never seen posting
        assert outcome(tally, keys, key_salt, columns, NOW, 3, 20) == outcome(
            tally, keys, key_salt, members, NOW, 3, 20)


def test_counting_keeps_the_first_join_and_the_latest_post() -> None:
    book = ActivityBook()
    book.load(KEY, [("sara", NOW - timedelta(days=3), None, 0)])
    book.posted(KEY, "sara", NOW)
    book.posted(KEY, "sara", NOW - timedelta(hours=1))  # a late event never moves it back
    book.joined(KEY, "sara", NOW)  # not her first join
    book.posted(KEY, "omar", NOW)  # never seen: counted from here
    seen = book.members(KEY)
    assert seen["sara"] == Seen(NOW - timedelta(days=3), NOW, 2)
    assert seen["omar"] == Seen(None, NOW, 1)
    assert book.joined_before(KEY, "omar", NOW)  # never seen joining
    assert not book.joined_before(KEY, "sara", NOW - timedelta(days=4))
    assert book.rows({(KEY, "sara"): 2}) == [{
        "community": KEY, "member": "sara", "messages": 2,
        "joined_at": NOW - timedelta(days=3), "last_seen": NOW}]


def test_a_forgotten_member_leaves_nothing_behind_for_the_next() -> None:
    book = ActivityBook()
    book.load(KEY, [("sara", NOW, NOW, 9)])
    book.forget("sara", "console")
    assert "sara" not in book.members(KEY) and book.rows({(KEY, "sara"): 1}) == []
    book.posted(KEY, "lina", NOW)  # takes sara's slot
    assert book.members(KEY)["lina"] == Seen(None, NOW, 1)
    assert len(book.members(KEY)) == 1
