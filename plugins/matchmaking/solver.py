"""The fast core of the matcher (numpy): candidate arcs, an auction, and rounding to pairs.

Maximum-weight matching is relaxed to an assignment problem (each member "points at" one other,
or at themselves for "unmatched"); its optimum is at least twice the best matching and is found by
Bertsekas' auction with ε-scaling, vectorised over all unassigned members at once (Jacobi bids).
The assignment is a permutation: its 2-cycles are pairs, its longer cycles are cut into the best
alternating pairs by a small dynamic programme. Arcs come from an inverted interest index (lists
sorted so that neighbours share the rarest interests) and are re-ranked once by the auction's
prices, so each member is offered the partners they can actually get, not only the most popular.
"""

from __future__ import annotations

from collections.abc import Callable
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
        self.tables = np.zeros((chunks, 256))
        for c, table in enumerate(sc.tables):
            self.tables[c, :len(table)] = table
        self.avail = np.array(
            [[(a >> (64 * w)) & _MASK64 for w in range(_WORDS)] for a in sc.avail],
            dtype=np.uint64,
        ).reshape(n, _WORDS)
        self.avail_n = np.array(sc.avail_n, dtype=np.float64)
        self.newcomer = np.array(sc.newcomer, dtype=bool)
        self.group = np.array(sc.group, dtype=np.int64)
        self.sc = sc

    def scores(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Scores of the pairs ``(i[k], j[k])``."""
        sc = self.sc
        s = np.zeros(i.shape[0])
        for c in range(self.m8.shape[1]):
            s += self.tables[c][self.m8[i, c] & self.m8[j, c]]
        s *= sc.shared_factor
        if sc.w.availability:
            both = (self.avail_n[i] > 0) & (self.avail_n[j] > 0)
            if both.any():
                ii, jj = i[both], j[both]
                common = np.bitwise_count(self.avail[ii] & self.avail[jj]).sum(axis=1)
                least = np.minimum(self.avail_n[ii], self.avail_n[jj])
                s[both] += sc.w.availability * common / least
        if sc.bridge:
            s += sc.w.bridge_newcomer * (self.newcomer[i] != self.newcomer[j])
            gi, gj = self.group[i], self.group[j]
            s += sc.w.bridge_group * ((gi != gj) & (gi >= 0) & (gj >= 0))
        return s


def pool(
    sc: Scorer, n: int, window: int, extra: int, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs ``(i, j)``: neighbours in each interest list, plus random members."""
    masks = sc.masks
    order = sorted(range(n), key=lambda i: masks[i], reverse=True)
    lists: list[list[int]] = [[] for _ in sc.order]
    occ_i: list[int] = []
    occ_t: list[int] = []
    occ_p: list[int] = []
    for i in order:
        m = masks[i]
        while m:
            low = m & -m
            t = low.bit_length() - 1
            occ_i.append(i)
            occ_t.append(t)
            occ_p.append(len(lists[t]))
            lists[t].append(i)
            m ^= low
    parts_i: list[np.ndarray] = []
    parts_j: list[np.ndarray] = []
    if occ_i:
        flat = np.array([i for lst in lists for i in lst], dtype=np.int64)
        lengths = np.array([len(lst) for lst in lists], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        t_arr = np.array(occ_t, dtype=np.int64)
        length = lengths[t_arr]
        span = 2 * window + 1
        start = np.clip(np.array(occ_p) - window, 0, np.maximum(length - span, 0))
        idx = start[:, None] + np.arange(span)[None, :]
        valid = idx < length[:, None]
        js = flat[offsets[t_arr][:, None] + np.minimum(idx, length[:, None] - 1)]
        parts_i.append(np.broadcast_to(np.array(occ_i)[:, None], js.shape)[valid])
        parts_j.append(js[valid])
    everyone = np.arange(n, dtype=np.int64)
    parts_i.append(np.repeat(everyone, extra))
    parts_j.append(rng.integers(0, n, size=n * extra))
    if sc.bridge:
        # Bridge mode wants members of the other kind (newcomer / established) within reach.
        status = np.array(sc.newcomer, dtype=bool)
        for kind in (True, False):
            mine, theirs = np.flatnonzero(status == kind), np.flatnonzero(status != kind)
            if mine.size and theirs.size:
                parts_i.append(np.repeat(mine, span_of(window)))
                picks = rng.integers(0, theirs.size, size=mine.size * span_of(window))
                parts_j.append(theirs[picks])
    src = np.concatenate(parts_i)
    dst = np.concatenate(parts_j)
    keep = src != dst
    codes = unique(src[keep] * n + dst[keep])
    return codes // n, codes % n


def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort is faster than ``np.unique``'s hashing here)."""
    s = np.sort(a)
    return s[np.concatenate(([True], s[1:] != s[:-1]))] if s.size else s


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
) -> np.ndarray:
    """A maximum-weight assignment of rows to columns (within ``n·eps_final`` of the optimum)."""
    n = cols.shape[0]
    eps = eps_start
    while True:
        owner = np.full(prices.size, -1, dtype=np.int64)
        assign = np.full(n, -1, dtype=np.int64)
        todo = np.arange(n, dtype=np.int64)
        while todo.size:
            if todo.size < _ONE_BY_ONE:
                _bid_one_by_one(cols, vals, prices, owner, assign, todo.tolist(), eps)
                break
            value = vals[todo] - prices[cols[todo]]
            rows = np.arange(todo.size)
            best = np.argmax(value, axis=1)
            v1 = value[rows, best]
            value[rows, best] = -np.inf
            v2 = value.max(axis=1) if value.shape[1] > 1 else v1 - eps
            v2 = np.where(np.isfinite(v2), v2, v1 - eps)
            obj = cols[todo, best]
            bid = prices[obj] + (v1 - v2) + eps
            order = np.lexsort((bid, obj))
            sorted_obj = obj[order]
            last = np.concatenate((sorted_obj[1:] != sorted_obj[:-1], [True]))
            win = order[last]
            won, bidder = obj[win], todo[win]
            previous = owner[won]
            assign[previous[previous >= 0]] = -1
            owner[won] = bidder
            assign[bidder] = won
            prices[won] = bid[win]
            todo = np.flatnonzero(assign < 0)
        if eps <= eps_final:
            return assign
        eps = max(eps / 5.0, eps_final)


#: Below this many bidders the round of bids is made one bidder at a time: the last few
#: bidders of a price war otherwise take thousands of rounds of whole-array operations
#: (10,000 members: ~11,000 rounds of under 8 bidders, most of the auction's time).
_ONE_BY_ONE = 8


def _bid_one_by_one(
    cols: np.ndarray, vals: np.ndarray, prices: np.ndarray, owner: np.ndarray,
    assign: np.ndarray, todo: list[int], eps: float,
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
        prices[obj] += v1 - v2 + eps


def round_cycles(assign: np.ndarray, weight: Callable[[int, int], float]) -> list[int]:
    """Turn an assignment into a matching: ``mate[i]`` or -1."""
    n = assign.shape[0]
    mate = [-1] * n
    seen = [False] * n
    nxt = assign.tolist()
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
        ws = [weight(cycle[x], cycle[(x + 1) % len(cycle)]) for x in range(len(cycle))]
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
