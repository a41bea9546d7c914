"""Matchmaking: the plugin's matcher against networkx's exact blossom, side by side in one run.

Prints, for 20 random 400-member communities (20 interests, 1–6 each with Zipf-like popularity,
half with an availability window), the ratio of our total pair score to the optimum of
``networkx.max_weight_matching`` over all allowed pairs (min / median), the repeats within the
window after 12 earlier rounds (must be 0), the times of both at 400 (blossom needs ~25 s there
and minutes beyond 600 members, as it is O(n³) over ~80,000 edges), and ours at 10,000.

Run: PYTHONPATH=$PWD python benchmarks/matchmaking.py [--draws 20] [--blossom-sizes 600]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import networkx as nx

from plugins.matchmaking.matching import Candidate, Scorer, Weights, match, norm

INTERESTS = [f"interest{k:02d}" for k in range(20)]
POPULARITY = [1 / (k + 1) ** 0.8 for k in range(20)]


def community(n: int, seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    out = []
    for x in range(n):
        chosen: set[str] = set()
        want = rng.randint(1, 6)
        while len(chosen) < want:
            chosen.add(rng.choices(INTERESTS, POPULARITY)[0])
        availability = 0
        if rng.random() < 0.5:  # a few 3-hour windows a week, in UTC hours
            for _ in range(rng.randint(2, 5)):
                availability |= 0b111 << rng.randrange(166)
        out.append(Candidate(key=f"m{x}", interests=frozenset(chosen), availability=availability,
                             newcomer=rng.random() < 0.3, group=min(chosen)))
    return out


def history(members: list[Candidate], rounds: int, seed: int) -> set[tuple[str, str]]:
    """Pairs of ``rounds`` earlier rounds, each matched with the repeat rule in force."""
    blocked: set[tuple[str, str]] = set()
    for r in range(rounds):
        out = match(members, blocked, seed=seed * 100 + r)
        for g in out.groups:
            for x, a in enumerate(g.members):
                for b in g.members[x + 1:]:
                    blocked.add(norm(a, b))
    return blocked


def repeats(groups: list, blocked: set[tuple[str, str]]) -> int:
    return sum(norm(a, b) in blocked for g in groups
               for x, a in enumerate(g.members) for b in g.members[x + 1:])


def optimum(members: list[Candidate], blocked: set[tuple[str, str]]) -> tuple[float, float]:
    """networkx's maximum-weight matching over every allowed pair: (total, seconds)."""
    sc = Scorer(members, Weights())
    graph = nx.Graph()
    n = len(members)
    for i in range(n):
        for j in range(i + 1, n):
            if norm(members[i].key, members[j].key) in blocked:
                continue
            s = sc.score(i, j)
            if s > 0:
                graph.add_edge(i, j, weight=s)
    start = time.perf_counter()
    mate = nx.max_weight_matching(graph)
    took = time.perf_counter() - start
    return sum(graph[i][j]["weight"] for i, j in mate), took


def timed(members: list[Candidate], blocked: set[tuple[str, str]] = frozenset()) -> float:
    start = time.perf_counter()
    match(members, blocked)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--blossom-sizes", type=int, nargs="*", default=[],
                        help="also time both at these sizes (blossom: minutes beyond 600)")
    args = parser.parse_args()
    ratios, reps, ours_t, theirs_t = [], 0, [], []
    for d in range(args.draws):
        members = community(args.size, d)
        blocked = history(members, 12, d)
        start = time.perf_counter()
        out = match(members, blocked, seed=d)
        ours_t.append(time.perf_counter() - start)
        reps += repeats(out.groups, blocked)
        best, took = optimum(members, blocked)
        theirs_t.append(took)
        ratios.append(out.pair_score / best)
        print(f"  draw {d:2d}: ratio {ratios[-1]:.4f}  ours {ours_t[-1]:.2f} s  "
              f"blossom {took:.1f} s", flush=True)
    print(f"quality at {args.size} members, {args.draws} draws, 12 rounds of history: "
          f"ratio to networkx optimum min {min(ratios):.4f} "
          f"median {statistics.median(ratios):.4f}; repeats within the window: {reps}")
    print(f"time at {args.size} (median): ours {statistics.median(ours_t):.2f} s, "
          f"networkx blossom {statistics.median(theirs_t):.1f} s")
    for n in args.blossom_sizes:
        members = community(n, 1000 + n)
        ours = timed(members)
        best, took = optimum(members, set())
        ratio = match(members).pair_score / best
        print(f"time at {n}: ours {ours:.2f} s, networkx blossom {took:.1f} s (ratio {ratio:.4f})",
              flush=True)
    members = community(10_000, 7)
    print(f"time at 10000 members x 20 interests: ours {timed(members):.2f} s "
          f"(blossom not run: it does not finish within a minute)")


if __name__ == "__main__":
    main()
