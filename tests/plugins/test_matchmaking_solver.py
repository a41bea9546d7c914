"""The matcher's vectorised pieces: the auction, and local search that leaves no gain behind."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np

from plugins.matchmaking import solver
from plugins.matchmaking.matching import Candidate, Scorer, Weights

TOPICS = ["chess", "poetry", "cooking", "hiking", "films", "python", "music", "history"]


def _community(n: int, seed: int) -> tuple[Scorer, solver.VectorScorer]:
    rng = random.Random(seed)
    members = [
        Candidate(key=f"m{i}", interests=frozenset(rng.sample(TOPICS, rng.randint(1, 4))),
                  availability=(0b111 << rng.randrange(160)) if rng.random() < .5 else 0)
        for i in range(n)]
    sc = Scorer(members, Weights())
    return sc, solver.VectorScorer(sc)


def _all_arcs(n: int, vs: solver.VectorScorer) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    return solver.arc_matrix(n, i, j, vs.scores(i, j), cap=n)


def _moves(n: int, vs: solver.VectorScorer, banned: set[tuple[int, int]]) -> solver.Moves:
    cols, vals = _all_arcs(n, vs)
    for a, b in banned:  # a banned pair is no candidate arc (as the pool filters them)
        for x, y in ((a, b), (b, a)):
            row = cols[x] == y
            cols[x, row], vals[x, row] = x, 0.0
    codes = sorted(x * n + y for a, b in banned for x, y in ((a, b), (b, a)))
    return solver.Moves(vs, cols, vals, np.array(codes, dtype=np.int64))


def _random_pairs(n: int, seed: int, banned: set[tuple[int, int]]) -> np.ndarray:
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    mate = np.full(n, -1, dtype=np.int64)
    for a, b in zip(order[::2], order[1::2], strict=False):
        if (min(a, b), max(a, b)) not in banned:
            mate[a], mate[b] = b, a
    return mate


def _valid(mate: np.ndarray, banned: set[tuple[int, int]]) -> bool:
    """A matching (each mate's mate is the member) with no banned pair."""
    pairs = [(i, int(j)) for i, j in enumerate(mate) if j >= 0]
    return all(mate[j] == i and (min(i, j), max(i, j)) not in banned for i, j in pairs)


def _total(sc: Scorer, mate: np.ndarray) -> float:
    return sum(sc.score(i, int(j)) for i, j in enumerate(mate) if j > i)


def test_the_auction_is_within_n_eps_of_the_best_assignment() -> None:
    """The second path: networkx's exact matching on the bipartite rows x columns graph."""
    n = 40
    sc, vs = _community(n, 1)
    cols, vals = _all_arcs(n, vs)
    eps = 1e-3
    assign = solver.auction(cols, vals, np.zeros(n), 2.0, eps)
    assert sorted(assign.tolist()) == list(range(n))  # every row placed, each column once
    ours = sum(sc.score(i, int(j)) if j != i else 0.0 for i, j in enumerate(assign))
    graph = nx.Graph()
    for i in range(n):
        graph.add_edge(("row", i), ("col", i), weight=0.0)
        for j in range(n):
            if j != i:
                graph.add_edge(("row", i), ("col", j), weight=sc.score(i, j))
    best = sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph))
    assert ours >= best - n * eps


def test_an_auction_for_prices_only_may_leave_a_few_rows_unplaced() -> None:
    n = 200
    _, vs = _community(n, 2)
    cols, vals = _all_arcs(n, vs)
    assign = solver.auction(cols, vals, np.zeros(n), 2.0, 1e-3, complete=False)
    placed = assign[assign >= 0].tolist()
    assert len(placed) == len(set(placed))  # still one row per column
    assert (assign < 0).sum() < solver._ONE_BY_ONE


def test_two_opt_leaves_no_exchange_that_gains_and_makes_no_banned_pair() -> None:
    n = 120
    sc, vs = _community(n, 3)
    banned = {(a, b) for a in range(0, n, 7) for b in range(a + 1, n, 5)}
    mv = _moves(n, vs, banned)
    mate = _random_pairs(n, 3, banned)
    before = _total(sc, mate)
    solver.two_opt(mv, mate, np.arange(n), max_passes=50)
    assert _total(sc, mate) > before
    assert _valid(mate, banned)
    for a in range(n):
        for c in range(n):
            b, d = int(mate[a]), int(mate[c])
            if c in (a, b) or b < 0 or d < 0 or d == b or (min(b, d), max(b, d)) in banned:
                continue
            if (min(a, c), max(a, c)) in banned:
                continue
            gain = sc.score(a, c) + sc.score(b, d) - sc.score(a, b) - sc.score(c, d)
            assert gain <= 1e-6, (a, b, c, d, gain)


def test_three_opt_finds_the_rotation_no_exchange_of_two_pairs_can() -> None:
    # a-b, c-d, e-f share one interest each; a-c, d-e, f-b share two: any exchange of two pairs
    # trades two shared interests for two, only turning all three pairs gains
    likes = {"a": "p x1 x2", "b": "p z1 z2", "c": "q x1 x2", "d": "q y1 y2", "e": "r y1 y2",
             "f": "r z1 z2"}
    members = [Candidate(key=k, interests=frozenset(v.split())) for k, v in likes.items()]
    sc = Scorer(members, Weights())
    vs = solver.VectorScorer(sc)
    mv = _moves(6, vs, set())
    a, b, c, d, e, f = range(6)
    mate = np.array([b, a, d, c, f, e], dtype=np.int64)
    solver.two_opt(mv, mate, np.arange(6), max_passes=10)
    assert mate.tolist() == [b, a, d, c, f, e]
    moved = solver.three_opt(mv, mate, np.arange(6), max_passes=10, width=5)
    assert mate.tolist() == [c, f, a, e, d, b]
    assert sorted(moved.tolist()) == list(range(6))


def test_three_opt_never_lowers_the_total_nor_makes_a_banned_pair() -> None:
    n = 150
    sc, vs = _community(n, 4)
    banned = {(a, b) for a in range(0, n, 3) for b in range(a + 1, n, 4)}
    mv = _moves(n, vs, banned)
    mate = _random_pairs(n, 4, banned)
    solver.two_opt(mv, mate, np.arange(n), max_passes=50)
    before = _total(sc, mate)
    moved = solver.three_opt(mv, mate, np.arange(n), max_passes=50, width=8)
    assert moved.size and _total(sc, mate) > before
    assert _valid(mate, banned)


def test_moves_that_share_a_member_are_never_both_taken_and_the_best_goes_first() -> None:
    who = np.array([[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9], [10, 11, 12, 13]])
    gain = np.array([1.0, 3.0, 2.0, 0.5])
    assert solver._disjoint(who, gain, 14).tolist() == [1, 3]
