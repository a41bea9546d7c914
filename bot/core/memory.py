"""Hand freed memory back to the system (glibc only; a no-op elsewhere).

CPython returns freed objects to its own pools and to malloc, but glibc keeps the freed
pages of its heap and of each thread's arena. The bot's big allocations come in bursts (a
community's state loaded when it opens, a batch flushed each second), so without this the
resident size keeps the high-water mark of every burst.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

#: glibc's ``mallopt`` parameter for the number of arenas.
_M_ARENA_MAX = -8
#: Arenas for the whole process: the event loop and SQLite's connection threads share
#: them (one per thread, the default, left each thread's high-water mark resident).
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _libc()


def limit_arenas(arenas: int = ARENAS) -> None:
    """Cap malloc's arenas (call before threads start; later threads share them)."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_ARENA_MAX, arenas)


def trim() -> None:
    """Return the free pages at the top of every arena to the system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
