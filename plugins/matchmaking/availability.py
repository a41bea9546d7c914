"""A member's availability window: days of the week (if any) and hours, in their timezone.

Members type ``18-22 Asia/Riyadh`` (every day), ``sat-wed 18-22`` or ``fri,sat 10-14``
(days in English or Arabic: ``الجمعة،السبت``, ``السبت-الأربعاء``). It is stored as
``"HH-HH"`` or ``"<ISO weekdays> HH-HH"`` (``"56 10-14"``: Friday and Saturday) and matched
as a bitmask of the week's hours in UTC. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HOURS = re.compile(r"^([01]?\d|2[0-3])-([01]?\d|2[0-4])$")
HOURS_IN_WEEK = 168

#: Day names as members type them, to ISO weekdays (Monday 1 … Sunday 7).
_NAMES = {
    **{name: day for day, names in enumerate((
        ("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "wednesday"),
        ("thu", "thur", "thurs", "thursday"), ("fri", "friday"), ("sat", "saturday"),
        ("sun", "sunday")), start=1) for name in names},
    **{name: day for day, names in enumerate((
        ("الاثنين", "الإثنين", "اثنين"), ("الثلاثاء", "ثلاثاء"),
        ("الأربعاء", "الاربعاء", "أربعاء"), ("الخميس", "خميس"), ("الجمعة", "جمعة"),
        ("السبت", "سبت"), ("الأحد", "الاحد", "أحد")),
        start=1) for name in names},
}


@dataclass(frozen=True, slots=True)
class Window:
    """Hours ``HH-HH`` on ``days`` (ISO weekdays, sorted; empty: every day)."""

    hours: str
    days: tuple[int, ...] = ()

    def stored(self) -> str:
        """How the window is kept in the members table."""
        return f"{''.join(map(str, self.days))} {self.hours}" if self.days else self.hours


def parse_days(text: str) -> tuple[int, ...] | None:
    """``sat-wed`` (a range, wrapping the week), ``fri,sat`` or one day; None if unreadable."""
    days: set[int] = set()
    for part in re.split(r"[,،]", text.lower()):
        ends = part.strip().split("-")
        if len(ends) > 2 or not all(end.strip() in _NAMES for end in ends):
            return None
        first, last = _NAMES[ends[0].strip()], _NAMES[ends[-1].strip()]
        days.update((first - 1 + i) % 7 + 1 for i in range((last - first) % 7 + 1))
    return tuple(sorted(days)) if days and len(days) < 7 else () if days else None


def parse(words: list[str]) -> tuple[Window, str | None] | None:
    """``[days] HH-HH [timezone]`` as typed: the window and the timezone word, or None."""
    days: tuple[int, ...] = ()
    if words and not HOURS.match(words[0]):
        found = parse_days(words[0])
        if found is None:
            return None
        days, words = found, words[1:]
    if not words or len(words) > 2 or not HOURS.match(words[0]):
        return None
    return Window(words[0], days), words[1] if len(words) == 2 else None


def read(stored: str) -> Window | None:
    """The window kept as :meth:`Window.stored` wrote it; None: any time."""
    days, _, hours = (stored or "").rpartition(" ")
    if not HOURS.match(hours):
        return None
    return Window(hours, tuple(int(d) for d in days if d.isdigit()))


def mask(stored: str, timezone: str, now: datetime) -> int:
    """A stored window as the hours of the week in UTC (bit h: hour h after Monday 00:00).

    0 means any time. The timezone's offset at ``now`` is used for the whole week.
    """
    window = read(stored)
    if window is None:
        return 0
    found = HOURS.match(window.hours)
    assert found is not None
    start, end = int(found.group(1)), int(found.group(2))
    try:
        offset = now.astimezone(ZoneInfo(timezone or "UTC")).utcoffset() or timedelta(0)
    except (KeyError, ValueError):
        offset = timedelta(0)
    shift = round(offset.total_seconds() / 3600)
    length = (end - start) % 24 or 24
    bits = 0
    for day in window.days or range(1, 8):
        for hour in range(start, start + length):
            bits |= 1 << (((day - 1) * 24 + hour - shift) % HOURS_IN_WEEK)
    return bits
