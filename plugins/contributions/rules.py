"""What counts and what it earns: XP for messages, reactions and kudos (pure, no I/O).

Everything here works on the in-memory state of one community (:class:`CommunityState`,
loaded by ``store.load`` when the community opens) and never waits, so the message handler
can call it inline. The callers write what changed through batched writers.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot import N_, MemberRef
from plugins.contributions import levels

#: Badge ids and their display names (msgids).
BADGES: dict[str, str] = {
    "first_message": N_("First words"),
    "streak_7": N_("7-day streak"),
    "helper": N_("Helper"),
    "event_regular": N_("Event regular"),
    "idea_adopted": N_("Idea adopted"),
    "active": N_("Active member"),
}
#: Consecutive days of activity for the streak badge.
STREAK_DAYS = 7
#: Message ids remembered per community to count a replayed message once.
SEEN_MESSAGES = 20_000
#: (message, reactor) pairs remembered per community for the reaction cap.
SEEN_REACTIONS = 20_000
#: Days of the ledger kept in memory per day, for week and month leaderboards.
RECENT_DAYS = 31
#: Texts a member posted recently that earn no XP again (anti-farming, issue 15).
RECENT_TEXTS = 8


#: Badge sets shared by the members holding the same badges (there are few combinations):
#: one frozenset per combination, not a set per member (100k members, 21 MB less).
_BADGE_SETS: dict[frozenset[str], frozenset[str]] = {}


def badge_set(badges: Iterable[str]) -> frozenset[str]:
    """The shared frozenset holding exactly ``badges``."""
    key = frozenset(badges)
    return _BADGE_SETS.setdefault(key, key)


@dataclass(slots=True)
class MemberState:
    """What the hot path knows about one member in one community.

    Kept small, since every member of an opened community has one: ``badges`` is a shared
    frozenset (:func:`badge_set`), ``earned`` a list only once the member earned XP here.
    """

    name: str = ""
    total: int = 0
    level: int = 0
    next_at: int = 0
    last_xp: float = float("-inf")
    last_hash: int = 0
    last_day: int = 0
    streak: int = 0
    badges: frozenset[str] = frozenset()
    #: Hashes of the texts that earned XP lately; repeating one earns nothing.
    earned: list[int] | tuple[()] = ()


@dataclass(slots=True)
class ReactionGrant:
    """Reaction XP granted to ``author`` for one member's reactions on one message."""

    author: str
    amount: int
    emojis: set[str] = field(default_factory=set)


@dataclass(slots=True)
class CommunityState:
    """One community's contributions, in memory while the bot runs.

    ``days`` holds the recent ledger (day -> member -> XP) so week and month leaderboards
    are sums over a few dicts; ``totals`` of all time are the members' ``total``.
    ``kudos_given`` counts kudos per (giver, day) and ``kudos_pairs`` per
    (giver, receiver, day) for the daily caps; ``tallies`` counts reported contributions
    and kudos received per (member, kind).
    """

    key: str
    curve: str = "quadratic"
    members: dict[str, MemberState] = field(default_factory=dict)
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    reactions: OrderedDict[tuple[str, str], ReactionGrant] = field(default_factory=OrderedDict)
    reaction_counts: dict[str, int] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    days: dict[str, dict[str, int]] = field(default_factory=dict)
    kudos_given: dict[tuple[str, str], int] = field(default_factory=dict)
    kudos_pairs: dict[tuple[str, str, str], int] = field(default_factory=dict)
    tallies: dict[tuple[str, str], int] = field(default_factory=dict)


# -- levels ------------------------------------------------------------------------------


def relevel(curve: str, member: MemberState) -> None:
    """Recompute a member's level and the XP of the next one."""
    member.level = levels.level_for(curve, member.total)
    member.next_at = levels.threshold(curve, member.level + 1)


def check_curve(state: CommunityState, curve: str) -> None:
    """Follow a change of the level curve (levels are recomputed, XP stays)."""
    if state.curve != curve:
        state.curve = curve
        for member in state.members.values():
            relevel(curve, member)


def add_badge(member: MemberState, badge: str) -> None:
    """Mark a badge as held."""
    member.badges = badge_set((*member.badges, badge))


def member_of(state: CommunityState, ref: MemberRef) -> tuple[MemberState, bool]:
    """The member's state (created at level 0) and whether their name changed."""
    found = state.members.get(ref.id)
    if found is None:
        found = state.members[ref.id] = MemberState()
        found.next_at = levels.threshold(state.curve, 1)
    if ref.name and found.name != ref.name:
        found.name = ref.name
        return found, True
    return found, False


def add_xp(state: CommunityState, member_id: str, member: MemberState, amount: int,
           day: str) -> int | None:
    """Add XP in memory (total and the day's ledger); the new level if one was crossed."""
    ledger = state.days.get(day)
    if ledger is None:
        ledger = state.days[day] = {}
    ledger[member_id] = ledger.get(member_id, 0) + amount
    member.total += amount
    if member.total >= member.next_at:
        old = member.level
        relevel(state.curve, member)
        return member.level if member.level > old else None
    if amount < 0:
        relevel(state.curve, member)
    return None


def level_of_reward(reward: str) -> int:
    """The level in a ``level:N`` reward key (0 when it is not one)."""
    kind, _, text = reward.partition(":")
    return int(text) if kind == "level" and text.isdigit() else 0


# -- messages ----------------------------------------------------------------------------


def first_time(state: CommunityState, message_id: str) -> bool:
    """Whether a message id is new (a replayed message counts once)."""
    seen = state.seen
    if message_id in seen:
        return False
    seen[message_id] = None
    if len(seen) > SEEN_MESSAGES:
        seen.popitem(last=False)
    return True


def count_day(member: MemberState, ordinal: int) -> None:
    """Extend or restart the member's streak of active days."""
    if member.last_day != ordinal:
        member.streak = member.streak + 1 if member.last_day == ordinal - 1 else 1
        member.last_day = ordinal


def message_xp(member: MemberState, text: str, now: float, *, earns: bool, xp: int,
               multiplier: float, min_length: int, cooldown: int) -> int:
    """XP one message earns, and the member's cooldown and anti-farming memory updated.

    A message earns when it is long enough, the cooldown has passed, and its text is
    neither the member's previous message nor one of their recent earning texts (so
    alternating two texts, or waiting out the cooldown, does not farm). An empty text
    (the platform hid it from us) is never a repeat. ``earns`` is False in channels
    excluded from XP.
    """
    digest = hash(text.casefold())
    amount = 0
    if (
        earns
        and len(text) >= min_length
        and (not text or (digest != member.last_hash and digest not in member.earned))
        and now - member.last_xp >= cooldown
    ):
        amount = int(xp * multiplier)
        member.last_xp = now
        if text:
            earned = member.earned
            if not isinstance(earned, list):
                earned = member.earned = []
            earned.append(digest)
            if len(earned) > RECENT_TEXTS:
                del earned[0]
    member.last_hash = digest
    return amount


def thanked(text: str, mentions: Sequence[MemberRef], author: MemberRef,
            phrases: Iterable[str]) -> list[MemberRef]:
    """The members a message thanks: those it mentions, when it holds a thanks phrase."""
    if not mentions:
        return []
    folded = text.casefold()
    if not any(p and p.casefold() in folded for p in phrases):
        return []
    out: list[MemberRef] = []
    done: set[str] = set()
    for target in mentions:
        if target.id in done or target.id == author.id or target.is_bot:
            continue
        done.add(target.id)
        out.append(target)
    return out


# -- kudos -------------------------------------------------------------------------------


def kudos_refusal(state: CommunityState, giver: str, receiver: str, day: str, *,
                  daily_cap: int, pair_cap: int) -> str | None:
    """Why kudos cannot be given now (``"daily"`` or ``"pair"``), or None."""
    if state.kudos_given.get((giver, day), 0) >= daily_cap:
        return "daily"
    if state.kudos_pairs.get((giver, receiver, day), 0) >= pair_cap:
        return "pair"
    return None


def count_kudos(state: CommunityState, giver: str, receiver: str, day: str) -> int:
    """Count given kudos toward the caps; the receiver's karma afterwards."""
    state.kudos_given[(giver, day)] = state.kudos_given.get((giver, day), 0) + 1
    pair = (giver, receiver, day)
    state.kudos_pairs[pair] = state.kudos_pairs.get(pair, 0) + 1
    return tally(state, receiver, "kudos")


def tally(state: CommunityState, member: str, kind: str, by: int = 1) -> int:
    """Add to a member's count of a kind of contribution; the new count."""
    key = (member, kind)
    count = state.tallies[key] = state.tallies.get(key, 0) + by
    return count


# -- reactions ---------------------------------------------------------------------------


def reaction_added(state: CommunityState, message_id: str, reactor: str, author: str,
                   emoji: str, *, cap: int, xp: int) -> bool:
    """Record a reaction; True when it earns the author ``xp`` (one per reactor, capped)."""
    pair = (message_id, reactor)
    granted = state.reactions.get(pair)
    if granted is not None:
        granted.emojis.add(emoji)
        return False
    count = state.reaction_counts.get(message_id, 0)
    if count >= cap:
        return False
    state.reactions[pair] = ReactionGrant(author, xp, {emoji})
    if len(state.reactions) > SEEN_REACTIONS:
        old, _ = state.reactions.popitem(last=False)
        state.reaction_counts.pop(old[0], None)
    state.reaction_counts[message_id] = count + 1
    return True


def reaction_removed(state: CommunityState, message_id: str, reactor: str,
                     emoji: str) -> tuple[str, int] | None:
    """Forget a reaction; ``(author, XP to take back)`` when it was the reactor's last."""
    pair = (message_id, reactor)
    granted = state.reactions.get(pair)
    if granted is None:
        return None
    granted.emojis.discard(emoji)
    if granted.emojis:
        return None
    del state.reactions[pair]
    count = state.reaction_counts.get(message_id, 0)
    if count > 1:
        state.reaction_counts[message_id] = count - 1
    else:
        state.reaction_counts.pop(message_id, None)
    member = state.members.get(granted.author)
    amount = min(granted.amount, max(member.total, 0)) if member is not None else 0
    if amount <= 0:
        return None
    return granted.author, amount


# -- rankings ----------------------------------------------------------------------------


def top(state: CommunityState, since: str | None, limit: int) -> list[tuple[str, int]]:
    """The ``limit`` members with most XP (since a day, or of all time), opt-outs left out.

    Reads the in-memory aggregates (no query over the ledger): all-time totals, or the
    sum of the recent days' ledgers. Ties are ordered by member id.
    """
    hidden = state.opted_out
    if since is None:
        scores: Iterable[tuple[str, int]] = (
            (m, s.total) for m, s in state.members.items() if s.total > 0 and m not in hidden)
    else:
        sums: dict[str, int] = {}
        for day, ledger in state.days.items():
            if day >= since:
                for member, xp in ledger.items():
                    sums[member] = sums.get(member, 0) + xp
        scores = ((m, x) for m, x in sums.items() if x > 0 and m not in hidden)
    return heapq.nsmallest(limit, scores, key=lambda item: (-item[1], item[0]))


def places(scores: Sequence[tuple[str, int]]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) for scores sorted best first: ties share a place."""
    out: list[int] = []
    for i, (_, xp) in enumerate(scores):
        out.append(out[-1] if i and xp == scores[i - 1][1] else i + 1)
    return out


def rank_of(state: CommunityState, total: int) -> int:
    """The place a total holds among the community's members (ties share it)."""
    return 1 + sum(1 for m in state.members.values() if m.total > total)


def prune_days(state: CommunityState, today: int) -> None:
    """Drop day ledgers older than the longest period a leaderboard reads."""
    oldest = date.fromordinal(today - RECENT_DAYS).isoformat()
    for day in [d for d in state.days if d < oldest]:
        del state.days[day]
