"""Level curves: how much XP each level costs.

``quadratic`` is MEE6's curve: going from level ``n`` to ``n + 1`` costs ``5n² + 50n + 100``
XP. ``linear`` costs ``100 + 50n`` and ``flat`` costs 100 XP per level.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Literal

Curve = Literal["quadratic", "linear", "flat"]

#: XP it costs to go from level ``n`` to ``n + 1``, per curve.
STEPS: dict[str, Callable[[int], int]] = {
    "quadratic": lambda n: 5 * n * n + 50 * n + 100,
    "linear": lambda n: 100 + 50 * n,
    "flat": lambda n: 100,
}

#: Levels beyond this are not reached (keeps the loop bounded for absurd XP totals).
MAX_LEVEL = 1000


def step(curve: str, level: int) -> int:
    """XP needed to go from ``level`` to ``level + 1``."""
    return STEPS[curve](level)


def _table(curve: str) -> list[int]:
    """The total XP of every level from 0 to ``MAX_LEVEL + 1``, computed once per curve.

    Levels are looked up for every member when a community opens and at every level-up,
    so a sum over the levels each time would cost ~100k × dozens of steps at start-up.
    """
    table = _TABLES.get(curve)
    if table is None:
        cost = STEPS[curve]
        table = [0]
        for n in range(MAX_LEVEL + 1):
            table.append(table[-1] + cost(n))
        _TABLES[curve] = table
    return table


_TABLES: dict[str, list[int]] = {}


def threshold(curve: str, level: int) -> int:
    """Total XP at which ``level`` is reached (level 0 at 0 XP)."""
    table = _table(curve)
    if 0 <= level < len(table):
        return table[level]
    cost = STEPS[curve]
    return sum(cost(n) for n in range(level))


def level_for(curve: str, xp: int) -> int:
    """The level a total of ``xp`` gives (at most ``MAX_LEVEL``)."""
    table = _table(curve)
    return max(0, min(bisect_right(table, xp) - 1, MAX_LEVEL))


def progress(curve: str, xp: int) -> tuple[int, int, int]:
    """``(level, xp into this level, xp this level costs)`` for a total."""
    level = level_for(curve, xp)
    return level, xp - threshold(curve, level), step(curve, level)
