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
#: They are remembered by 60 bits of their hash (an int of 32 bytes instead of the id's
#: string and an ordered dict's entry: ~2 MiB less per busy community). In memory only,
#: so the process's own ``hash()`` does.
_ID_BITS = (1 << 60) - 1
#: (message, reactor) pairs remembered per community for the reaction cap.
SEEN_REACTIONS = 20_000
#: Days of the ledger kept in memory per day, for week and month leaderboards.
RECENT_DAYS = 31
#: Texts a member posted recently that earn no XP again (anti-farming, issue 15).
RECENT_TEXTS = 8
#: Bits of a text's fingerprint (a hash's low bits, never 0). A member's recent earning
#: texts are one int of RECENT_TEXTS such slots, newest at the bottom: 296 bits, 64 bytes
#: (an array of 64-bit hashes took 144). Two texts share a fingerprint once in 2**37.
_PRINT_BITS = 37
_PRINT = (1 << _PRINT_BITS) - 1
_PRINTS = (1 << (_PRINT_BITS * RECENT_TEXTS)) - 1
#: The lowest and the highest bit of every slot: ``(x - _LOW) & ~x & _HIGH`` is not 0
#: exactly when a slot of ``x`` is 0 (the borrow test for a zero field).
_LOW = sum(1 << (_PRINT_BITS * slot) for slot in range(RECENT_TEXTS))
_HIGH = _LOW << (_PRINT_BITS - 1)
#: Leaderboard windows (sums since a day) kept up to date per community: a week, a month
#: and the spotlight's eight days.
WINDOWS = 3


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
    frozenset (:func:`badge_set`), ``earned`` one int of fingerprints (:data:`_PRINT_BITS`;
    64 bytes, where an array of hashes took 144 and a list of int objects ~380: with tens
    of thousands of members becoming active in a run, that was most of the memory's climb).
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
    #: Fingerprints of the texts that earned XP lately; repeating one earns nothing.
    earned: int = 0


@dataclass(slots=True)
class ReactionGrant:
    """Reaction XP granted to ``author`` for one member's reactions on one message."""

    author: str
    amount: int
    emojis: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Board:
    """A maintained ranking: XP per member and the best few, kept as XP is added.

    ``sums`` is a window's XP per member (None for all time, whose scores are the members'
    ``total``). ``best`` is the top ``size`` (opt-outs and members without XP left out,
    ties by member id) or None until a leaderboard asks; ``ids`` are its members.
    """

    sums: dict[str, int] | None = None
    best: list[tuple[str, int]] | None = None
    size: int = 0
    ids: set[str] = field(default_factory=set)
    #: The least score that can enter ``best`` (unreachable while there is no list), so
    #: the hot path skips almost every gain with one comparison.
    floor: float = float("inf")

    def drop(self) -> None:
        """Forget the best list (computed again when next read)."""
        self.best, self.ids, self.floor = None, set(), float("inf")

    def settle(self) -> None:
        """Note the least score that can enter the best list as it is now."""
        best = self.best
        assert best is not None
        if len(best) < self.size:
            self.floor = 1  # not full: anyone with XP enters
        else:
            self.floor = best[-1][1] if best else float("inf")


@dataclass(slots=True)
class CommunityState:
    """One community's contributions, in memory while the bot runs.

    ``days`` holds the recent ledger (day -> member -> XP); ``windows`` the sums of the
    days since a day (week and month leaderboards), kept as XP is added and moved along
    when the day rolls over; ``ranking`` the all-time board over the members' ``total``.
    ``kudos_given`` counts kudos per (giver, day) and ``kudos_pairs`` per
    (giver, receiver, day) for the daily caps; ``tallies`` counts reported contributions
    and kudos received per (member, kind).
    """

    key: str
    curve: str = "quadratic"
    members: dict[str, MemberState] = field(default_factory=dict)
    #: Hashes of the recent message ids (:func:`first_time`); ``seen_order`` holds them in
    #: the order they came, once full the oldest at ``seen_at``, the next to go.
    seen: set[int] = field(default_factory=set)
    seen_order: list[int] = field(default_factory=list)
    seen_at: int = 0
    reactions: OrderedDict[tuple[str, str], ReactionGrant] = field(default_factory=OrderedDict)
    reaction_counts: dict[str, int] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    days: dict[str, dict[str, int]] = field(default_factory=dict)
    kudos_given: dict[tuple[str, str], int] = field(default_factory=dict)
    kudos_pairs: dict[tuple[str, str, str], int] = field(default_factory=dict)
    tallies: dict[tuple[str, str], int] = field(default_factory=dict)
    windows: dict[str, Board] = field(default_factory=dict)
    ranking: Board = field(default_factory=Board)


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
    if amount:
        board = state.ranking
        score = member.total
        if member_id in board.ids or (amount > 0 and score >= board.floor):
            _moved(state, board, member_id, score, amount)
        for since, board in state.windows.items():
            if day >= since:
                sums = board.sums
                assert sums is not None
                score = sums[member_id] = sums.get(member_id, 0) + amount
                if member_id in board.ids or (amount > 0 and score >= board.floor):
                    _moved(state, board, member_id, score, amount)
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
    key = hash(message_id) & _ID_BITS
    seen = state.seen
    if key in seen:
        return False
    seen.add(key)
    order = state.seen_order
    if len(order) < SEEN_MESSAGES:
        order.append(key)
    else:  # the oldest leaves
        at = state.seen_at
        seen.discard(order[at])
        order[at] = key
        state.seen_at = at + 1 if at + 1 < SEEN_MESSAGES else 0
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
    digest = (hash(text.casefold()) & _PRINT) or 1
    amount = 0
    if (
        earns
        and len(text) >= min_length
        and now - member.last_xp >= cooldown
        and (not text or (digest != member.last_hash and not _holds(member.earned, digest)))
    ):
        amount = int(xp * multiplier)
        member.last_xp = now
        if text:  # the oldest leaves at the top
            member.earned = ((member.earned << _PRINT_BITS) | digest) & _PRINTS
    member.last_hash = digest
    return amount


def _holds(prints: int, digest: int) -> bool:
    """Whether a slot of ``prints`` holds ``digest`` (empty slots are 0, never a digest)."""
    diff = prints ^ (digest * _LOW)  # 0 in the slots that hold it
    return bool((diff - _LOW) & ~diff & _HIGH)


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


def _order(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _moved(state: CommunityState, board: Board, member_id: str, score: int,
           amount: int) -> None:
    """Keep a board's best list right after a member's score moved by ``amount``.

    A gain can only lift that member into the list or up it; a loss of someone listed
    may let anyone in, so the list is dropped and computed again when next read.
    """
    best = board.best
    if best is None:
        return
    if amount < 0:
        if member_id in board.ids:
            board.drop()
        return
    if member_id in board.ids:
        for i, (listed, _) in enumerate(best):
            if listed == member_id:
                best[i] = (member_id, score)
                break
        best.sort(key=_order)
        board.settle()
        return
    if score <= 0 or member_id in state.opted_out:
        return
    if len(best) >= board.size and _order((member_id, score)) > _order(best[-1]):
        return
    best.append((member_id, score))
    best.sort(key=_order)
    if len(best) > board.size:
        board.ids.discard(best.pop()[0])
    board.ids.add(member_id)
    board.settle()


def _window(state: CommunityState, since: str) -> Board:
    """The board of the days since ``since``, built or moved along from one kept.

    When the day rolls over, the window of yesterday's period is moved forward by taking
    the day that left it out of its sums (cheaper than summing the period again).
    """
    windows = state.windows
    board = windows.pop(since, None)
    if board is None:
        older = [s for s in windows if s < since]
        base = max(older) if older else None
        leaving = [d for d in state.days if base is not None and base <= d < since]
        staying = sum(len(state.days[d]) for d in state.days if d >= since)
        if base is not None and sum(len(state.days[d]) for d in leaving) < staying:
            board = windows.pop(base)
            sums = board.sums
            assert sums is not None
            for day in leaving:
                for member_id, xp in state.days[day].items():
                    left = sums.get(member_id, 0) - xp
                    if left:
                        sums[member_id] = left
                    else:
                        sums.pop(member_id, None)
            board.drop()
        else:
            sums = {}
            for day, ledger in state.days.items():
                if day >= since:
                    for member_id, xp in ledger.items():
                        sums[member_id] = sums.get(member_id, 0) + xp
            board = Board(sums)
        if len(windows) >= WINDOWS:
            del windows[next(iter(windows))]  # the least recently read
    windows[since] = board
    return board


def open_windows(state: CommunityState, today: int, periods: Sequence[int]) -> None:
    """Build the windows of leaderboards of ``periods`` days ending ``today``, in one pass.

    Done when the community opens, so no leaderboard read sums the ledger; later days
    move these windows along (:func:`_window`).
    """
    boards = [(date.fromordinal(today - n + 1).isoformat(), Board({}))
              for n in sorted(periods, reverse=True)][:WINDOWS]
    for day, ledger in state.days.items():
        for since, board in boards:
            if day >= since:
                sums = board.sums
                assert sums is not None
                for member_id, xp in ledger.items():
                    had = sums.get(member_id)
                    # a first day's sum is the ledger's own int (not a copy per window)
                    sums[member_id] = xp if had is None else had + xp
    for since, board in boards:
        state.windows[since] = board


def top(state: CommunityState, since: str | None, limit: int) -> list[tuple[str, int]]:
    """The ``limit`` members with most XP (since a day, or of all time), opt-outs left out.

    Reads the maintained boards (no query over the ledger, no sum over days): all-time
    totals, or the sums of the window since that day. Ties are ordered by member id.
    """
    board = state.ranking if since is None else _window(state, since)
    if board.best is None or board.size < limit:
        hidden = state.opted_out
        scores: Iterable[tuple[str, int]]
        if board.sums is None:
            scores = ((m, s.total) for m, s in state.members.items()
                      if s.total > 0 and m not in hidden)
        else:
            scores = ((m, x) for m, x in board.sums.items() if x > 0 and m not in hidden)
        board.best = heapq.nsmallest(limit, scores, key=_order)
        board.size = limit
        board.ids = {m for m, _ in board.best}
        board.settle()
    return board.best[:limit]


def set_opt_out(state: CommunityState, member_id: str, hidden: bool) -> None:
    """Hide a member from leaderboards (or show them again); the best lists follow."""
    if hidden:
        state.opted_out.add(member_id)
        _forget_best(state, member_id)
    else:
        state.opted_out.discard(member_id)
        _forget_best(state)  # they may belong on any board again


def forget_member(state: CommunityState, member_id: str) -> None:
    """Drop a member from the in-memory state: XP, ledgers, windows, tallies, rankings."""
    state.members.pop(member_id, None)
    state.opted_out.discard(member_id)
    for ledger in state.days.values():
        ledger.pop(member_id, None)
    for board in state.windows.values():
        assert board.sums is not None
        board.sums.pop(member_id, None)
    for tally in [t for t in state.tallies if t[0] == member_id]:
        del state.tallies[tally]
    _forget_best(state, member_id)


def _forget_best(state: CommunityState, member_id: str | None = None) -> None:
    """Drop the best lists (only those listing ``member_id``, when given)."""
    for board in (state.ranking, *state.windows.values()):
        if member_id is None or member_id in board.ids:
            board.drop()
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
    gone = [d for d in state.days if d < oldest]
    for day in gone:
        del state.days[day]
    if gone:  # a window reaching further back summed days no longer kept
        for since in [s for s in state.windows if s <= max(gone)]:
            del state.windows[since]
