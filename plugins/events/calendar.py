"""Calendar files: one event's, or every live event of the community (``ics.py`` writes them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot import Context
from plugins.events.ics import CalendarEntry, calendar_file
from plugins.events.lifecycle import length, recurrence
from plugins.events.store import EventStore

_LINK = re.compile(r"https?://\S+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def uid(event: Any) -> str:
    """A stable UID, so a calendar updates the event instead of adding it again."""
    return f"event-{event.id}.{_UNSAFE.sub('-', event.community)}@majlis"


async def build(store: EventStore, ctx: Context, rows: Sequence[Any],
                *, single: bool) -> tuple[bytes, str]:
    """The file's bytes and name."""
    cancelled = await store.cancelled([r.id for r in rows])
    entries = []
    for row in rows:
        link = _LINK.search(row.place or "")
        entries.append(CalendarEntry(
            uid=uid(row), title=row.title, description=row.description or "",
            location=row.place or "", url=link.group(0) if link else None,
            recurrence=recurrence(row), duration=length(row),
            cancelled=cancelled.get(row.id, ()), sequence=int(row.sequence)))
    name = rows[0].title if single else ctx.i18n.plain("Community events")
    filename = f"event-{rows[0].id}.ics" if single else "events.ics"
    return calendar_file(entries, name=name, now=ctx.now()), filename
