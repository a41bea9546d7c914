"""The fast core of the matcher (numpy): candidate arcs, an auction, rounding, local search.

Maximum-weight matching is relaxed to an assignment problem (each member "points at" one other,
or at themselves for "unmatched"); its optimum is at least twice the best matching and is found by
Bertsekas' auction with ε-scaling, vectorised over all unassigned members at once (Jacobi bids).
The assignment is a permutation: its 2-cycles are pairs, its longer cycles are cut into the best
alternating pairs by a small dynamic programme. Arcs come from an inverted interest index (lists
sorted so that neighbours share the rarest interests) and are re-ranked once by the auction's
prices, so each member is offered the partners they can actually get, not only the most popular.
Local search (2-opt, 3-opt) scores all candidate moves of a pass at once and applies the best
ones that touch disjoint members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from plugins.matchmaking.matching import Scorer

_WORDS = 3  # 168 hours of availability fit in three 64-bit words
_MASK64 = (1 << 64) - 1


class VectorScorer:
    """The same score as :class:`Scorer`, for arrays of index pairs."""

    def __init__(self, sc: Scorer) -> None:
        n = len(sc.masks)
        chunks = max(len(sc.tables), 1)
        self.m8 = np.zeros((n, chunks), dtype=np.int64)
        for c in range(chunks):
            self.m8[:, c] = [(m >> (8 * c)) & 0xFF for m in sc.masks]
        #: the whole mask in one word when it fits (one gather per side instead of one a byte)
        self.m64: np.ndarray | None = None
        if chunks <= 8:
            self.m64 = np.zeros(n, dtype=np.uint64)
            for c in range(chunks):
                self.m64 |= self.m8[:, c].astype(np.uint64) << np.uint64(8 * c)
        self.tables = np.zeros((chunks, 256))
        for c, table in enumerate(sc.tables):
            self.tables[c, :len(table)] = table
        words = [[(a >> (64 * w)) & _MASK64 for a in sc.avail] for w in range(_WORDS)]
        self.avail = [np.array(word, dtype=np.uint64) for word in words]
        self.avail_n = np.array(sc.avail_n, dtype=np.float64)
        self.has_avail = self.avail_n > 0
        self.newcomer = np.array(sc.newcomer, dtype=bool)
        self.group = np.array(sc.group, dtype=np.int64)
        self.sc = sc

    def shared(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The summed rarity weight of the interests ``i[k]`` and ``j[k]`` share."""
        if self.m64 is None:
            s = np.zeros(i.shape[0])
            for c in range(self.m8.shape[1]):
                s += self.tables[c][self.m8[i, c] & self.m8[j, c]]
            return s
        both = self.m64[i] & self.m64[j]
        s = self.tables[0][both & np.uint64(0xFF)]  # the same sums, chunk by chunk, in order
        for c in range(1, self.tables.shape[0]):
            s += self.tables[c][(both >> np.uint64(8 * c)) & np.uint64(0xFF)]
        return s

    def scores(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Scores of the pairs ``(i[k], j[k])``."""
        sc = self.sc
        s = self.shared(i, j)
        s *= sc.shared_factor
        if sc.w.availability:
            both = self.has_avail[i] & self.has_avail[j]
            if both.any():
                ii, jj = i[both], j[both]
                common = np.bitwise_count(self.avail[0][ii] & self.avail[0][jj])
                for w in range(1, _WORDS):
                    common += np.bitwise_count(self.avail[w][ii] & self.avail[w][jj])
                least = np.minimum(self.avail_n[ii], self.avail_n[jj])
                s[both] += sc.w.availability * common / least
        if sc.bridge:
            s += sc.w.bridge_newcomer * (self.newcomer[i] != self.newcomer[j])
            gi, gj = self.group[i], self.group[j]
            s += sc.w.bridge_group * ((gi != gj) & (gi >= 0) & (gj >= 0))
        return s


def pool(
    sc: Scorer, n: int, window: int, extra: int, rng: np.random.Generator,
    vs: VectorScorer | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs ``(i, j)``: neighbours in each interest list, plus random members."""
    if vs is None:
        vs = VectorScorer(sc)
    m8 = vs.m8[:n]
    # by mask, highest first (the rarest interests lead), ties in index order
    order = np.lexsort([-m8[:, c] for c in range(m8.shape[1])])
    topics = len(sc.order)
    bits = (m8[order][:, np.arange(topics) // 8] >> (np.arange(topics) % 8)) & 1
    # (t, q): member order[q] has interest t; t by t, each interest's list in that order
    occ_t, q = np.nonzero(bits.T.astype(bool))
    # pairs are gathered as codes i·n + j: a few big arrays, not a dozen
    parts: list[np.ndarray] = []
    if occ_t.size:
        flat = order[q]
        lengths = np.bincount(occ_t, minlength=topics)
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        begin, length = offsets[occ_t], lengths[occ_t]
        span = 2 * window + 1
        # the span positions around each occurrence, shifted to stay within its list
        start = begin + np.clip(np.arange(occ_t.size) - begin - window, 0,
                                np.maximum(length - span, 0))
        end = (begin + length)[:, None]
        at = start[:, None] + np.arange(span)
        keep = at < end
        np.minimum(at, end - 1, out=at)
        js = flat[at]
        js += (flat * n)[:, None]
        parts.append(js[keep])
    everyone = np.arange(n, dtype=np.int64)
    parts.append(np.repeat(everyone * n, extra) + rng.integers(0, n, size=n * extra))
    if sc.bridge:
        # Bridge mode wants members of the other kind (newcomer / established) within reach.
        status = np.array(sc.newcomer, dtype=bool)
        for kind in (True, False):
            mine, theirs = np.flatnonzero(status == kind), np.flatnonzero(status != kind)
            if mine.size and theirs.size:
                picks = rng.integers(0, theirs.size, size=mine.size * span_of(window))
                parts.append(np.repeat(mine * n, span_of(window)) + theirs[picks])
    codes = unique(np.concatenate(parts))
    codes = codes[codes % (n + 1) != 0]  # i·n + i: a member with themself
    return codes // n, codes % n


def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort is faster than ``np.unique``'s hashing here)."""
    s = np.sort(a)
    if s.size < 2:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _by_row_then_desc(rows: np.ndarray, key: np.ndarray) -> np.ndarray:
    """An order by row, then by ``key`` descending (one float sort instead of a lexsort)."""
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = float(key.min()), float(key.max())
    scaled = (key - low) / (high - low) * 0.5 if high > low else np.zeros(key.size)
    return np.argsort(rows + (0.5 - scaled), kind="stable")


def span_of(window: int) -> int:
    """How many bridge candidates a member gets for a given interest window."""
    return 2 * window + 1


def top_arcs(
    i: np.ndarray, j: np.ndarray, key: np.ndarray, k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best ``j`` per ``i`` by ``key``."""
    if i.size == 0:
        return i, j
    order = _by_row_then_desc(i, key)
    i_s, j_s = i[order], j[order]
    first = np.concatenate(([True], i_s[1:] != i_s[:-1]))
    starts = np.flatnonzero(first)
    group_start = starts[np.cumsum(first) - 1]
    rank = np.arange(i_s.size) - group_start
    keep = rank < k
    return i_s[keep], j_s[keep]


def arc_matrix(
    n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray, cap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Arcs as padded rows (column 0 is the member themself: "unmatched", worth 0)."""
    order = _by_row_then_desc(i, w)
    i_s, j_s, w_s = i[order], j[order], w[order]
    first = np.concatenate(([True], i_s[1:] != i_s[:-1])) if i_s.size else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    group_start = starts[np.cumsum(first) - 1] if i_s.size else starts
    rank = np.arange(i_s.size) - group_start
    keep = rank < cap - 1
    i_s, j_s, w_s, rank = i_s[keep], j_s[keep], w_s[keep], rank[keep]
    width = int(rank.max()) + 2 if rank.size else 1
    cols = np.tile(np.arange(n, dtype=np.int64)[:, None], (1, width))
    vals = np.zeros((n, width))
    cols[i_s, rank + 1] = j_s
    vals[i_s, rank + 1] = w_s
    return cols, vals


def auction(
    cols: np.ndarray, vals: np.ndarray, prices: np.ndarray, eps_start: float, eps_final: float,
    *, complete: bool = True,
) -> np.ndarray:
    """A maximum-weight assignment of rows to columns (within ``n·eps_final`` of the optimum).

    Each ε phase keeps the rows whose object is still within the new ε of their best (the
    auction's invariant holds for them), so only the others bid again. A phase before the last
    ends when under ``_ONE_BY_ONE`` rows are left (they bid in the next one): its long tail of
    single bids would only refine prices the next phase refines anyway. With ``complete``
    false the last phase ends so too (only the prices are wanted; unplaced rows get -1).
    The rows of a round are gathered into buffers made once: a fresh array of that size per
    round costs more in page faults than the arithmetic.
    """
    n, width = cols.shape
    eps = eps_start
    owner = np.full(prices.size, -1, dtype=np.int64)
    assign = np.full(n, -1, dtype=np.int64)
    gets = np.zeros(n)  # the arc's weight of each row's object
    todo = np.arange(n, dtype=np.int64)
    rows_all = np.arange(n)
    col_buf = np.empty((n, width), dtype=cols.dtype)
    val_buf = np.empty((n, width))
    price_buf = np.empty((n, width))
    while True:
        while todo.size:
            m = todo.size
            if m < _ONE_BY_ONE:
                if complete and eps <= eps_final:
                    _bid_one_by_one(cols, vals, prices, owner, assign, gets, todo.tolist(), eps)
                break
            ct = np.take(cols, todo, axis=0, out=col_buf[:m])
            value = np.take(vals, todo, axis=0, out=val_buf[:m])
            value -= np.take(prices, ct, out=price_buf[:m])
            rows = rows_all[:m]
            best = np.argmax(value, axis=1)
            v1 = value[rows, best]
            if width > 1:
                value[rows, best] = -np.inf
                v2 = value.max(axis=1)
            else:
                v2 = v1 - eps
            obj = ct[rows, best]
            bid = prices[obj] + (v1 - v2) + eps
            order = np.lexsort((bid, obj))
            sorted_obj = obj[order]
            last = np.concatenate((sorted_obj[1:] != sorted_obj[:-1], [True]))
            win = order[last]
            won, bidder = obj[win], todo[win]
            previous = owner[won]
            outbid = previous[previous >= 0]
            assign[outbid] = -1
            owner[won] = bidder
            assign[bidder] = won
            gets[bidder] = vals[bidder, best[win]]
            prices[won] = bid[win]
            lost = np.ones(m, dtype=bool)
            lost[win] = False
            todo = np.concatenate((todo[lost], outbid))
        if eps <= eps_final:
            return assign
        eps = max(eps / 5.0, eps_final)
        value = np.take(prices, cols, out=price_buf)
        np.subtract(vals, value, out=value)
        placed = assign >= 0
        slack = value.max(axis=1) - (gets - prices[assign])
        todo = np.flatnonzero(~placed | (slack > eps))
        drop = assign[todo]
        owner[drop[drop >= 0]] = -1
        assign[todo] = -1


#: Below this many bidders the round of bids is made one bidder at a time: the last few
#: bidders of a price war otherwise take thousands of rounds of whole-array operations
#: (10,000 members: ~11,000 rounds of under 8 bidders, most of the auction's time).
_ONE_BY_ONE = 8


def _bid_one_by_one(
    cols: np.ndarray, vals: np.ndarray, prices: np.ndarray, owner: np.ndarray,
    assign: np.ndarray, gets: np.ndarray, todo: list[int], eps: float,
) -> None:
    """Finish an auction round Gauss–Seidel style: each bid at once, outbid rows rejoin."""
    width = cols.shape[1]
    while todo:
        row = todo.pop()
        objects = cols[row]
        value = vals[row] - prices[objects]
        best = int(value.argmax())
        v1 = float(value[best])
        if width > 1:
            value[best] = -np.inf
            v2 = float(value.max())
            if not np.isfinite(v2):
                v2 = v1 - eps
        else:
            v2 = v1 - eps
        obj = int(objects[best])
        previous = int(owner[obj])
        if previous >= 0:
            assign[previous] = -1
            todo.append(previous)
        owner[obj] = row
        assign[row] = obj
        gets[row] = vals[row, best]
        prices[obj] += v1 - v2 + eps


def round_cycles(assign: np.ndarray, vs: VectorScorer) -> list[int]:
    """Turn an assignment into a matching: ``mate[i]`` or -1."""
    n = assign.shape[0]
    mate = [-1] * n
    seen = [False] * n
    nxt = assign.tolist()
    weight = vs.scores(np.arange(n), assign).tolist()  # of each arc v -> nxt[v]
    for s in range(n):
        if seen[s]:
            continue
        cycle = []
        v = s
        while not seen[v]:
            seen[v] = True
            cycle.append(v)
            v = nxt[v]
        if len(cycle) < 2:
            continue
        ws = [weight[v] for v in cycle]
        for a, b in _best_on_cycle(cycle, ws):
            mate[a], mate[b] = b, a
    return mate


def _best_on_path(ws: list[float]) -> tuple[float, list[int]]:
    """Best set of non-adjacent edges on a path (edge x joins vertices x and x+1)."""
    take: list[float] = [0.0] * (len(ws) + 1)
    for x, w in enumerate(ws):
        take[x + 1] = max(take[x], (take[x - 1] if x >= 1 else 0.0) + w)
    chosen: list[int] = []
    x = len(ws)
    while x > 0:
        if take[x] == take[x - 1]:
            x -= 1
        else:
            chosen.append(x - 1)
            x -= 2
    return take[-1], chosen


def _best_on_cycle(cycle: list[int], ws: list[float]) -> list[tuple[int, int]]:
    length = len(cycle)
    if length == 2:
        return [(cycle[0], cycle[1])]
    open_total, open_edges = _best_on_path(ws[:-1])
    closed_total, closed_edges = _best_on_path(ws[1:-2])
    closed_total += ws[-1]
    if closed_total > open_total:
        edges = [x + 1 for x in closed_edges] + [length - 1]
    else:
        edges = open_edges
    return [(cycle[x], cycle[(x + 1) % length]) for x in edges]


# --- local search, vectorised --------------------------------------------------------------
#
# Each pass scores every candidate move of the members in ``work`` at once, then applies the
# best ones that touch disjoint members (greedy by gain). Members whose move lost to a better
# one that touched them, and members whose pair changed, are searched in the next pass.

_GAIN_EPS = 1e-9


class Moves:
    """What the local searches share: arcs (rows best first), scores, bans, bounds."""

    def __init__(
        self, vs: VectorScorer, cols: np.ndarray, vals: np.ndarray, banned: np.ndarray,
    ) -> None:
        self.vs = vs
        self.n = cols.shape[0]
        self.cols = cols[:, 1:]
        self.vals = vals[:, 1:]
        self.real = self.cols != np.arange(self.n)[:, None]  # padding repeats the member
        self.banned = banned  # sorted codes i * n + j, both orders
        sc = vs.sc
        extra = sc.w.availability
        if sc.bridge:
            extra += sc.w.bridge_newcomer + sc.w.bridge_group
        everyone = np.arange(self.n)
        shared = vs.shared(everyone, everyone)
        #: the most any pair with member i can score (prunes moves that cannot gain)
        self.bound = shared * sc.shared_factor + extra + _GAIN_EPS
        self.top = float(self.vals[:, 0].max()) if self.vals.size else 0.0

    def is_banned(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether each pair ``(i[k], j[k])`` may never share a group."""
        if self.banned.size == 0:
            return np.zeros(i.shape, dtype=bool)
        q = i * self.n + j
        at = np.minimum(np.searchsorted(self.banned, q), self.banned.size - 1)
        return self.banned[at] == q

    def pair_weights(self, mate: np.ndarray) -> np.ndarray:
        """Each member's pair score under ``mate`` (0 when unmatched)."""
        pw = np.zeros(self.n)
        on = np.flatnonzero(mate >= 0)
        pw[on] = self.vs.scores(on, mate[on])
        return pw


def _disjoint(who: np.ndarray, gain: np.ndarray, n: int) -> np.ndarray:
    """Indices of moves, best gain first, none touching a member an earlier one touched."""
    order = np.argsort(-gain, kind="stable")
    used = bytearray(n)
    keep: list[int] = []
    for k, row in zip(order.tolist(), who[order].tolist(), strict=True):
        if any(used[x] for x in row):
            continue
        for x in row:
            used[x] = 1
        keep.append(k)
    return np.array(keep, dtype=np.int64)


def two_opt(mv: Moves, mate: np.ndarray, work: np.ndarray, max_passes: int) -> np.ndarray:
    """Exchange partners between two pairs (or with a leftover) while the total grows.

    Returns the members whose partner changed.
    """
    n = mv.n
    pw = mv.pair_weights(mate)
    bound = mv.bound
    moved = np.zeros(n, dtype=bool)
    everyone, full = work, True
    for _ in range(max_passes):
        if work.size == 0:
            break
        real = mv.real[work]
        a = np.broadcast_to(work[:, None], real.shape)[real]
        c = mv.cols[work][real]
        w_ac = mv.vals[work][real]
        b, d = mate[a], mate[c]
        ok = c != b
        # a bound on what b can get decides which arcs can gain at all
        ok &= (b < 0) | (w_ac - pw[a] + bound[np.maximum(b, 0)] > _GAIN_EPS)
        a, b, c, d, w_ac = a[ok], b[ok], c[ok], d[ok], w_ac[ok]
        gain = np.full(a.size, -np.inf)
        single_a, single_c = b < 0, d < 0
        both = single_a & single_c
        gain[both] = w_ac[both] + _GAIN_EPS * 2  # two leftovers always pair up
        only_a = single_a & ~single_c
        gain[only_a] = w_ac[only_a] - pw[c[only_a]]
        only_c = single_c & ~single_a
        gain[only_c] = w_ac[only_c] - pw[a[only_c]]
        swap = ~single_a & ~single_c & (d != b)
        bb, dd = b[swap], d[swap]
        base = w_ac[swap] - pw[a[swap]] - pw[c[swap]]
        hope = base + np.minimum(bound[bb], bound[dd]) > _GAIN_EPS
        hope[hope] = ~mv.is_banned(bb[hope], dd[hope])
        g = np.full(bb.size, -np.inf)
        g[hope] = base[hope] + mv.vs.scores(bb[hope], dd[hope])
        gain[swap] = g
        good = gain > _GAIN_EPS
        if not good.any():
            if full:
                break
            # a move elsewhere may have opened one here: everyone is searched once more
            work, full = everyone, True
            continue
        a, b, c, d, w_ac, gain = a[good], b[good], c[good], d[good], w_ac[good], gain[good]
        # leftovers stand in as the member themself (no one else to block)
        who = np.stack((a, np.where(b >= 0, b, a), c, np.where(d >= 0, d, c)), axis=1)
        take = _disjoint(who, gain, n)
        a, b, c, d, w_ac = a[take], b[take], c[take], d[take], w_ac[take]
        mate[a], mate[c] = c, a
        pw[a] = w_ac
        pw[c] = w_ac
        has_b, has_d = b >= 0, d >= 0
        bd = has_b & has_d
        mate[b[bd]], mate[d[bd]] = d[bd], b[bd]
        w_bd = mv.vs.scores(b[bd], d[bd])
        pw[b[bd]] = w_bd
        pw[d[bd]] = w_bd
        lone_b = has_b & ~has_d
        mate[b[lone_b]] = -1
        pw[b[lone_b]] = 0.0
        lone_d = has_d & ~has_b
        mate[d[lone_d]] = -1
        pw[d[lone_d]] = 0.0
        changed = np.zeros(n, dtype=bool)
        changed[who[take].ravel()] = True
        moved |= changed
        # who lost a move to a better one is searched again, with who changed
        changed[who[:, 0]] = True
        work, full = np.flatnonzero(changed), False
    return np.flatnonzero(moved)


def three_opt(
    mv: Moves, mate: np.ndarray, work: np.ndarray, max_passes: int, width: int,
) -> np.ndarray:
    """Rotate partners around three pairs (an alternating 6-cycle) while the total grows.

    Pairs (a, b), (c, d), (e, f) become (a, c), (d, e), (f, b): the first two are arcs among
    each member's ``width`` best, so only (f, b) is scored afresh. Returns who changed.
    """
    n = mv.n
    pw = mv.pair_weights(mate)
    bound, top = mv.bound, mv.top
    cols, vals, real_w = mv.cols[:, :width], mv.vals[:, :width], mv.real[:, :width]
    first = np.full(n, -np.inf)  # each member's best arc
    if mv.cols.shape[1]:
        first = np.where(mv.real[:, 0], mv.vals[:, 0], -np.inf)
    moved = np.zeros(n, dtype=bool)
    for _ in range(max_passes):
        work = work[mate[work] >= 0]
        if work.size == 0:
            break
        real = real_w[work]
        a = np.broadcast_to(work[:, None], real.shape)[real]
        c, w_ac = cols[work][real], vals[work][real]
        b, d = mate[a], mate[c]
        ok = (w_ac - pw[a] + top + bound[b] > _GAIN_EPS) & (d >= 0) & (c != b) & (d != a)
        a, b, c, d, w_ac = a[ok], b[ok], c[ok], d[ok], w_ac[ok]
        base = w_ac - pw[a] - pw[c]
        ok = base + first[d] + bound[b] > _GAIN_EPS
        a, b, c, d, w_ac, base = a[ok], b[ok], c[ok], d[ok], w_ac[ok], base[ok]
        real = real_w[d]
        k = np.broadcast_to(np.arange(d.size)[:, None], real.shape)[real]
        e, w_de = cols[d][real], vals[d][real]
        a, b, c, d, w_ac, base = a[k], b[k], c[k], d[k], w_ac[k], base[k]
        f = mate[e]
        ok = (base + w_de + bound[b] > _GAIN_EPS) & (f >= 0)
        ok &= (e != a) & (e != b) & (e != c) & (f != a) & (f != b)
        ok &= base + w_de - pw[e] + np.minimum(bound[np.maximum(f, 0)], bound[b]) > _GAIN_EPS
        a, b, c, d, e, f = a[ok], b[ok], c[ok], d[ok], e[ok], f[ok]
        w_ac, w_de, base = w_ac[ok], w_de[ok], base[ok]
        ok = ~mv.is_banned(f, b)
        a, b, c, d, e, f = a[ok], b[ok], c[ok], d[ok], e[ok], f[ok]
        w_ac, w_de, base = w_ac[ok], w_de[ok], base[ok]
        w_fb = mv.vs.scores(f, b)
        gain = base + w_de - pw[e] + w_fb
        good = gain > _GAIN_EPS
        if not good.any():
            break
        who = np.stack((a, b, c, d, e, f), axis=1)[good]
        w3 = np.stack((w_ac, w_de, w_fb), axis=1)[good]
        take = _disjoint(who, gain[good], n)
        a, b, c, d, e, f = who[take].T
        w_ac, w_de, w_fb = w3[take].T
        mate[a], mate[c], mate[d], mate[e], mate[f], mate[b] = c, a, e, d, b, f
        pw[a], pw[c], pw[d], pw[e], pw[f], pw[b] = w_ac, w_ac, w_de, w_de, w_fb, w_fb
        changed = np.zeros(n, dtype=bool)
        changed[who[take].ravel()] = True
        moved |= changed
        changed[who[:, 0]] = True
        work = np.flatnonzero(changed)
    return np.flatnonzero(moved)
