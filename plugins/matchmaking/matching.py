"""The matcher: who meets whom this round. Pure (no bot imports), deterministic for a seed.

A pair's score rewards shared interests, each weighted by its rarity in the round
(``1 + ln(N / df)``), plus the overlap of the two availability windows. In *bridge* mode the
score instead rewards a newcomer meeting an established member and members whose main
interests differ, keeping a little weight on shared interests so there is something to talk about.

Hard rules (never broken): a pair in ``blocked`` (recent repeats, do-not-pair lists, admins'
blocks) is never put in the same group.

Algorithm (exact maximum-weight matching, blossom, is O(n³) and far too slow at 10,000):
candidate arcs from an inverted interest index, an auction on the assignment relaxation and
rounding of its cycles (see :mod:`.solver`), then local search from the members rounding placed:
2-opt exchanges between two pairs and 3-opt rotations around three, until nothing gains. An odd
member joins the pair that suits them best (a trio); optional groups of 3–4 merge pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import solver

HOURS_IN_WEEK = 168
_EPS = 1e-9
_CHUNK = 8
#: Up to this many leftovers are re-matched over all their pairs (quadratic, fine at this size).
_DENSE_LEFTOVERS = 600


@dataclass(frozen=True, slots=True)
class Candidate:
    """One member taking part in a round.

    ``availability`` is a bitmask of the hours of the week in UTC (bit h = hour h after Monday
    00:00); 0 means "any time" and neither adds nor removes score. ``group`` is the member's main
    interest (bridge mode mixes groups).
    """

    key: str
    interests: frozenset[str] = frozenset()
    availability: int = 0
    newcomer: bool = False
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Weights:
    """How a pair is scored."""

    mode: str = "interests"  # or "bridge"
    availability: float = 1.0
    bridge_newcomer: float = 2.0
    bridge_group: float = 1.0
    bridge_shared: float = 0.25


@dataclass(frozen=True, slots=True)
class Group:
    """A group that meets: two members, or three or four."""

    members: tuple[str, ...]
    #: Interests at least two of them share, rarest first.
    shared: tuple[str, ...]
    score: float


@dataclass(slots=True)
class Outcome:
    """The groups of a round, who could not be placed, and the pairs-only total score."""

    groups: list[Group] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    pair_score: float = 0.0


def norm(a: str, b: str) -> tuple[str, str]:
    """The order-free key of a pair."""
    return (a, b) if a <= b else (b, a)


class Scorer:
    """Pair scores in index space: interest masks (rarest interest = highest bit) and tables."""

    def __init__(self, members: Sequence[Candidate], weights: Weights) -> None:
        n = len(members)
        df: dict[str, int] = {}
        for m in members:
            for t in m.interests:
                df[t] = df.get(t, 0) + 1
        # Most common first, so the rarest interest gets the highest bit.
        self.order = sorted(df, key=lambda t: (-df[t], t))
        self.bit = {t: i for i, t in enumerate(self.order)}
        self.weight = {t: 1.0 + math.log(n / df[t]) for t in self.order}
        self.masks = [sum(1 << self.bit[t] for t in m.interests) for m in members]
        self._named: dict[int, tuple[str, ...]] = {}
        self.avail = [m.availability for m in members]
        self.avail_n = [a.bit_count() for a in self.avail]
        self.newcomer = [m.newcomer for m in members]
        groups: dict[str | None, int] = {}
        self.group = [groups.setdefault(m.group, len(groups)) if m.group else -1 for m in members]
        self.w = weights
        self.bridge = weights.mode == "bridge"
        self.shared_factor = weights.bridge_shared if self.bridge else 1.0
        self.tables: list[list[float]] = []
        for c in range(0, max(len(self.order), 1), _CHUNK):
            ts = self.order[c:c + _CHUNK]
            table = [0.0] * (1 << len(ts))
            for v in range(1, len(table)):
                low = v & -v
                table[v] = table[v ^ low] + self.weight[ts[low.bit_length() - 1]]
            self.tables.append(table)

    def named(self, mask: int) -> tuple[str, ...]:
        """The interests in ``mask``, rarest first (then by name)."""
        names = self._named.get(mask)
        if names is None:
            found = [t for b, t in enumerate(self.order) if mask >> b & 1]
            names = tuple(sorted(found, key=lambda t: (-self.weight[t], t)))
            self._named[mask] = names
        return names

    def shared_weight(self, mask: int) -> float:
        """The summed rarity weight of the interests in ``mask``."""
        total = 0.0
        for table in self.tables:
            if not mask:
                break
            total += table[mask & 0xFF]
            mask >>= _CHUNK
        return total

    def fast_score(self) -> Callable[[int, int], float]:
        """:meth:`score` as a closure over local lists (local search calls it often).

        The same sums in the same order, so the same floats, without attribute lookups:
        ~300,000 calls at 10,000 members. Bridge mode keeps :meth:`score`.
        """
        masks, avail, avail_n = self.masks, self.avail, self.avail_n
        tables = self.tables
        factor, availability = self.shared_factor, self.w.availability
        if self.bridge or len(tables) > 3:
            return self.score
        t0 = tables[0] if tables else [0.0] * 256
        t1 = tables[1] if len(tables) > 1 else None
        t2 = tables[2] if len(tables) > 2 else None

        def score(i: int, j: int) -> float:
            mask = masks[i] & masks[j]
            total = 0.0
            if mask:
                total += t0[mask & 0xFF]
                mask >>= 8
                if mask and t1 is not None:
                    total += t1[mask & 0xFF]
                    mask >>= 8
                    if mask and t2 is not None:
                        total += t2[mask & 0xFF]
            s = total * factor
            ai, aj = avail[i], avail[j]
            if ai and aj:
                ni, nj = avail_n[i], avail_n[j]
                s += availability * (ai & aj).bit_count() / (ni if ni < nj else nj)
            return s

        return score

    def score(self, i: int, j: int) -> float:
        """The score of putting members ``i`` and ``j`` together."""
        s = self.shared_weight(self.masks[i] & self.masks[j]) * self.shared_factor
        ai, aj = self.avail[i], self.avail[j]
        if ai and aj:
            least = min(self.avail_n[i], self.avail_n[j])
            s += self.w.availability * (ai & aj).bit_count() / least
        if self.bridge:
            if self.newcomer[i] != self.newcomer[j]:
                s += self.w.bridge_newcomer
            gi, gj = self.group[i], self.group[j]
            if gi != gj and gi >= 0 and gj >= 0:
                s += self.w.bridge_group
        return s


def _complete(sc: Scorer, n: int, ban: list[set[int]], mate: list[int]) -> None:
    """Pair the leftovers of the greedy pass: best allowed partner among them, else augment."""
    left = [i for i in range(n) if mate[i] < 0]
    score = sc.fast_score()
    while len(left) >= 2:
        i = left.pop()
        options = [j for j in left if j not in ban[i]]
        if len(options) > 64:
            options = options[:64]
        if options:
            j = max(options, key=lambda j: score(i, j))
            left.remove(j)
            mate[i], mate[j] = j, i
            continue
        # i is blocked with every other leftover: augment through a pair (c, d) -> (i, c), (v, d).
        for v in list(left):
            if _augment(sc, n, ban, mate, i, v):
                left.remove(v)
                break
        # else i stays alone; the others may still pair among themselves


def _augment(sc: Scorer, n: int, ban: list[set[int]], mate: list[int], u: int, v: int) -> bool:
    best: tuple[float, int, int] | None = None
    score = sc.fast_score()
    for c in range(n):
        d = mate[c]
        if d < 0 or c in ban[u] or d in ban[v] or c in (u, v):
            continue
        gain = score(u, c) + score(v, d) - score(c, d)
        if best is None or gain > best[0]:
            best = (gain, c, d)
    if best is None:
        return False
    _, c, d = best
    mate[u], mate[c], mate[v], mate[d] = c, u, d, v
    return True


def _solve(
    sc: Scorer, n: int, ban: list[set[int]], seed: int, top_k: int, window: int, extra: int,
) -> tuple[solver.Moves, list[int], list[int]]:
    """Candidate arcs, the auction in two passes (plain, then re-ranked by price), rounding."""
    rng = np.random.default_rng(seed)
    vs = solver.VectorScorer(sc)
    pi, pj = solver.pool(sc, n, window, extra, rng, vs)
    banned = np.sort(np.array([i * n + j for i, others in enumerate(ban) for j in others],
                              dtype=np.int64))
    if banned.size:
        allowed = ~np.isin(pi * n + pj, banned)
        pi, pj = pi[allowed], pj[allowed]
    ps = vs.scores(pi, pj)
    noise = rng.random(ps.size) * 1e-7  # ties broken at random, not by position
    prices = np.zeros(n)
    codes = np.zeros(0, dtype=np.int64)
    assign = np.arange(n)
    for stage in range(2):
        ti, tj = solver.top_arcs(pi, pj, ps - prices[pj] + noise, top_k)
        codes = solver.unique(np.concatenate((codes, ti * n + tj, tj * n + ti)))
        ai, aj = codes // n, codes % n
        cols, vals = solver.arc_matrix(n, ai, aj, vs.scores(ai, aj), cap=2 * top_k)
        top = vals.max(axis=1)
        eps_final = max(2e-3 * float(top.mean()), 1e-9)
        eps_start = max(float(top.max()) / 4, eps_final) if stage == 0 else 5 * eps_final
        # the first pass is only for prices: it can stop at a coarser ε, and before its tail
        assign = solver.auction(cols, vals, prices, eps_start,
                                eps_final if stage else 5 * eps_final, complete=stage == 1)
    mate = solver.round_cycles(assign, vs)
    back = assign[assign]
    # Members not in a 2-cycle were placed by rounding: local search starts from them.
    unsure = np.flatnonzero(back != np.arange(n)).tolist()
    for _ in range(3):
        # Odd cycles leave one member each; members of same-interest triangles pair up well with
        # each other, so the leftovers get an auction of their own over all their pairs.
        left = np.array([i for i in range(n) if mate[i] < 0], dtype=np.int64)
        if left.size < 2 or left.size > _DENSE_LEFTOVERS:
            break
        li = np.repeat(left, left.size)
        lj = np.tile(left, left.size)
        keep = li != lj
        if banned.size:
            keep &= ~np.isin(li * n + lj, banned)
        li, lj = li[keep], lj[keep]
        if li.size == 0:
            break
        lcols, lvals = solver.arc_matrix(n, li, lj, vs.scores(li, lj), cap=left.size + 1)
        sub = solver.auction(lcols[left], lvals[left], np.zeros(n),
                             max(float(lvals.max()), 1e-9) / 4, eps_final)
        step = np.arange(n)
        step[left] = sub
        paired = solver.round_cycles(step, vs)
        if all(paired[i] < 0 for i in left.tolist()):
            break
        for i in left.tolist():
            if paired[i] >= 0:
                mate[i] = paired[i]
    return solver.Moves(vs, cols, vals, banned), mate, unsure


def match(
    members: Sequence[Candidate],
    blocked: Iterable[tuple[str, str]] = (),
    *,
    weights: Weights | None = None,
    groups_of: int = 2,
    seed: int = 0,
    top_k: int | None = None,
    window: int | None = None,
    extra: int = 4,
    max_passes: int = 20,
) -> Outcome:
    """Split ``members`` into groups for one round.

    Args:
        members: who takes part (distinct keys).
        blocked: pairs that must never share a group (order does not matter).
        weights: how pairs are scored.
        groups_of: 2 for pairs (and one trio when the count is odd); 4 for groups of 3–4.
        seed: the same inputs and seed give the same groups.
        top_k: candidate partners kept per member (default: 30 up to 2,000 members, else 20).
        window: neighbours looked at on each side in each interest list (40, else 20): wider
            lists cost little at community sizes and keep quality when history blocks many.
        extra: random candidates per member (keeps members without shared interests reachable).
        max_passes: upper bound on improvement passes.
    """
    weights = weights or Weights()
    n = len(members)
    index = {m.key: i for i, m in enumerate(members)}
    if len(index) != n:
        raise ValueError("member keys must be distinct")
    ban: list[set[int]] = [set() for _ in range(n)]
    for a, b in blocked:
        i, j = index.get(a), index.get(b)
        if i is not None and j is not None and i != j:
            ban[i].add(j)
            ban[j].add(i)
    if n < 2:
        return Outcome(unmatched=[m.key for m in members])
    small = n <= 2000
    top_k = top_k or (n if n <= 300 else 30 if small else 20)
    window = window or (40 if small else 20)
    sc = Scorer(members, weights)
    mv, mate, unsure = _solve(sc, n, ban, seed, top_k, window, extra)
    _complete(sc, n, ban, mate)
    # Up to 2,000 members a search from everyone is cheap; larger rounds start where rounding
    # acted (at 10,000 everyone adds ~0.08 s of search for 0.01% more score).
    unsure = list(range(n)) if small else unsure + [i for i in range(n) if mate[i] < 0]
    at = np.array(mate, dtype=np.int64)
    work = np.array(sorted(set(unsure)), dtype=np.int64)
    solver.two_opt(mv, at, work, max_passes)
    rotated = solver.three_opt(mv, at, work, max_passes, width=10 if small else 8)
    # the first search settled everyone else: only what the rotations changed is searched
    solver.two_opt(mv, at, work if small else rotated, max_passes)
    mate = at.tolist()
    _complete(sc, n, ban, mate)
    at = np.array(mate, dtype=np.int64)
    firsts = np.flatnonzero(at > np.arange(n))
    pairs = list(zip(firsts.tolist(), at[firsts].tolist(), strict=True))
    pair_w = mv.vs.scores(firsts, at[firsts]).tolist()
    pair_score = sum(pair_w)
    left = [i for i in range(n) if mate[i] < 0]
    groups: list[list[int]] = [list(p) for p in pairs]
    groups, left = _place_leftovers(sc, ban, groups, left)
    if groups_of >= 4:
        groups = _merge_into_fours(sc, ban, groups, mv.cols.tolist())
    out = Outcome(pair_score=pair_score)
    scored = dict(zip(pairs, pair_w, strict=True))
    for g in groups:
        out.groups.append(_describe(sc, members, g, scored))
    out.groups.sort(key=lambda g: g.members)
    out.unmatched = sorted(members[i].key for i in left)
    return out


def _fits(ban: list[set[int]], group: Sequence[int], i: int) -> bool:
    return all(j not in ban[i] for j in group)


def _group_score(sc: Scorer, group: Sequence[int]) -> float:
    return sum(sc.score(a, b) for x, a in enumerate(group) for b in group[x + 1:])


def _place_leftovers(
    sc: Scorer, ban: list[set[int]], groups: list[list[int]], left: list[int],
) -> tuple[list[list[int]], list[int]]:
    """Each leftover joins the pair it suits best (a trio); one trio per pair at most."""
    still: list[int] = []
    for z in left:
        best: tuple[float, int] | None = None
        for gi, g in enumerate(groups):
            if len(g) == 2 and _fits(ban, g, z):
                s = sc.score(z, g[0]) + sc.score(z, g[1])
                if best is None or s > best[0]:
                    best = (s, gi)
        if best is None:
            still.append(z)
        else:
            groups[best[1]].append(z)
    return groups, still


def _merge_into_fours(
    sc: Scorer, ban: list[set[int]], groups: list[list[int]], nbrs: list[list[int]],
) -> list[list[int]]:
    """Merge pairs into groups of four; the count decides how many trios there must be."""
    pairs = [g for g in groups if len(g) == 2]
    fixed = [g for g in groups if len(g) != 2]
    total = sum(len(g) for g in groups)
    # total = 4a + 3b with b smallest: split one pair into two singles when b needs it.
    trios_needed = (-total) % 4 - len(fixed)
    if trios_needed >= 2 and len(pairs) >= 3:
        pairs.sort(key=lambda g: sc.score(g[0], g[1]))
        weakest = pairs[0]
        trial = [list(g) for g in pairs[1:]]
        groups_now, rest = _place_leftovers(sc, ban, trial, weakest)
        if not rest:  # both singles joined a pair; otherwise keep the pairs as they were
            pairs = [g for g in groups_now if len(g) == 2]
            fixed += [g for g in groups_now if len(g) == 3]
    where = {m: k for k, g in enumerate(pairs) for m in g}
    cand: dict[tuple[int, int], float] = {}
    for k, g in enumerate(pairs):
        for m in g:
            for o in nbrs[m]:
                q = where.get(o)
                if q is not None and q != k:
                    key = (k, q) if k < q else (q, k)
                    if key not in cand:
                        a, b = pairs[key[0]], pairs[key[1]]
                        if all(_fits(ban, a, x) for x in b):
                            cand[key] = sum(sc.score(x, y) for x in a for y in b)
    used: set[int] = set()
    merged: list[list[int]] = []
    for (k, q), _ in sorted(cand.items(), key=lambda e: -e[1]):
        if k not in used and q not in used:
            used.update((k, q))
            merged.append(pairs[k] + pairs[q])
    rest_pairs = [pairs[k] for k in range(len(pairs)) if k not in used]
    while len(rest_pairs) >= 2:
        a = rest_pairs.pop()
        mate_k = next((k for k, b in enumerate(rest_pairs)
                       if all(_fits(ban, a, x) for x in b)), None)
        if mate_k is None:
            fixed.append(a)
        else:
            merged.append(a + rest_pairs.pop(mate_k))
    return fixed + merged + rest_pairs


def _describe(
    sc: Scorer, members: Sequence[Candidate], group: list[int],
    scored: dict[tuple[int, int], float],
) -> Group:
    masks = sc.masks
    if len(group) == 2:
        a, b = sorted(group)
        shared = masks[a] & masks[b]
        score = scored.get((a, b))
        if score is None:
            score = sc.score(a, b)
    else:
        shared = 0  # interests at least two of them share
        for x, a in enumerate(group):
            for b in group[x + 1:]:
                shared |= masks[a] & masks[b]
        score = _group_score(sc, group)
    keys = tuple(sorted(members[i].key for i in group))
    return Group(members=keys, shared=sc.named(shared), score=round(score, 6))
