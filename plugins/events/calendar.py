"""Calendar files: one event's, or every live event of the community (``ics.py`` writes them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot import Context
from plugins.events.ics import CalendarEntry, calendar_file
from plugins.events.lifecycle import Lifecycle, length, recurrence
from plugins.events.timeline import Changes

_LINK = re.compile(r"https?://\S+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def uid(event: Any) -> str:
    """A stable UID, so a calendar updates the event instead of adding it again."""
    return f"event-{event.id}.{_UNSAFE.sub('-', event.community)}@majlis"


def entry_of(row: Any, changes: Changes) -> CalendarEntry:
    """One event as a calendar entry: a moved occurrence overrides its rule start.

    A moved occurrence that was then cancelled is an EXDATE of its rule start.
    """
    link = _LINK.search(row.place or "")
    cancelled = {changes.original(c) for c in changes.excluded}
    moved = tuple(sorted((old, new) for old, new in changes.moved.items()
                         if old not in cancelled))
    return CalendarEntry(
        uid=uid(row), title=row.title, description=row.description or "",
        location=row.place or "", url=link.group(0) if link else None,
        recurrence=recurrence(row), duration=length(row), cancelled=tuple(sorted(cancelled)),
        sequence=int(row.sequence), moved=moved,
        lengths=tuple(sorted(changes.lengths.items())))


async def build(lifecycle: Lifecycle, ctx: Context, rows: Sequence[Any],
                *, single: bool) -> tuple[bytes, str]:
    """The file's bytes and name."""
    changes = await lifecycle.changes_of([r.id for r in rows])
    entries = [entry_of(row, changes[row.id]) for row in rows]
    name = rows[0].title if single else ctx.i18n.plain("Community events")
    filename = f"event-{rows[0].id}.ics" if single else "events.ics"
    return calendar_file(entries, name=name, now=ctx.now()), filename
