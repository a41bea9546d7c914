"""How the admin plugin shows what it quotes back: settings as typed, input cut short."""

from __future__ import annotations

import difflib
import enum
import functools
from typing import Any
from zoneinfo import available_timezones

#: The most characters of a person's own input a reply quotes back.
QUOTE_LIMIT = 80
#: Timezones named in errors as examples of the form ``Region/City``.
TIMEZONE_EXAMPLES = ("Asia/Riyadh", "Europe/Berlin")


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as text, cut to ``limit`` characters (with "…")."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def typed(value: Any) -> str:
    """A structured value as admins type it: ``a=1, b=2`` and ``x, y`` (never a repr)."""
    if isinstance(value, dict):
        return ", ".join(f"{typed(k)}={typed(v)}" for k, v in value.items())
    if isinstance(value, set | frozenset):
        return ", ".join(sorted(typed(v) for v in value))
    if isinstance(value, list | tuple):
        return ", ".join(typed(v) for v in value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


@functools.cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def find_zone(name: str) -> str | None:
    """The IANA zone ``name`` stands for (any letter case), or None; never raises.

    Only names in the timezone database count: ``ZoneInfo`` alone raises OSError for a
    region folder such as ``Asia`` or a name longer than a file name may be.
    """
    text = name.strip()
    if not text or len(text.encode("utf-8")) > 255:
        return None
    return _zones().get(text.lower())


def zone_suggestions(name: str, count: int = 3) -> list[str]:
    """Zones close to a mistyped ``name`` (``Asia`` -> zones in Asia), best first."""
    text = name.strip().lower()[:64]
    if not text:
        return []
    zones = _zones()
    region = [zones[z] for z in sorted(zones) if z.startswith(text.rstrip("/") + "/")]
    if region:
        preferred = [z for z in TIMEZONE_EXAMPLES if z in region]
        return (preferred + [z for z in region if z not in preferred])[:count]
    return [zones[z] for z in difflib.get_close_matches(text, list(zones), n=count, cutoff=0.75)]
