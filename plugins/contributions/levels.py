"""Level curves: how much XP each level costs.

``quadratic`` is MEE6's curve: going from level ``n`` to ``n + 1`` costs ``5n² + 50n + 100``
XP. ``linear`` costs ``100 + 50n`` and ``flat`` costs 100 XP per level.
"""

from __future__ import annotations

import functools
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


@functools.cache
def threshold(curve: str, level: int) -> int:
    """Total XP at which ``level`` is reached (level 0 at 0 XP).

    Cached: every member's next threshold is one of a few shared ints, not one each.
    """
    cost = STEPS[curve]
    return sum(cost(n) for n in range(level))


def level_for(curve: str, xp: int) -> int:
    """The level a total of ``xp`` gives."""
    cost = STEPS[curve]
    level = 0
    remaining = xp
    while level < MAX_LEVEL:
        need = cost(level)
        if remaining < need:
            break
        remaining -= need
        level += 1
    return level


def progress(curve: str, xp: int) -> tuple[int, int, int]:
    """``(level, xp into this level, xp this level costs)`` for a total."""
    level = level_for(curve, xp)
    return level, xp - threshold(curve, level), step(curve, level)
