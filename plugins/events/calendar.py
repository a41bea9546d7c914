"""Calendar files: one event's, or every live event of the community (``ics.py`` writes them)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot import Context
from plugins.events.ics import CalendarEntry, Texts, calendar_file
from plugins.events.lifecycle import Lifecycle, length, recurrence
from plugins.events.timeline import Changes

_LINK = re.compile(r"https?://\S+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def uid(event: Any) -> str:
    """A stable UID, so a calendar updates the event instead of adding it again."""
    return f"event-{event.id}.{_UNSAFE.sub('-', event.community)}@majlis"


def entry_of(row: Any, changes: Changes,
             own: Mapping[datetime, Mapping[str, Any]] | None = None) -> CalendarEntry:
    """One event as a calendar entry: an edited occurrence overrides its rule start.

    ``own`` holds each edited occurrence's own values by its rule start (as
    ``EventStore.overrides`` gives them): its title, place and description go with it. A
    cancelled occurrence (moved or edited first) is only an EXDATE of its rule start.
    """
    cancelled = {changes.original(c) for c in changes.excluded}
    moved = tuple(sorted((old, new) for old, new in changes.moved.items()
                         if old not in cancelled))
    series = _texts(row.title, row.description, row.place)
    texts = sorted(
        ((changes.moved.get(old, old), _texts(values.get("title", series.title),
                                              values.get("description", series.description),
                                              values.get("place", series.location)))
         for old, values in (own or {}).items()
         if old not in cancelled and {"title", "place", "description"} & set(values)),
        key=lambda pair: pair[0])
    return CalendarEntry(
        uid=uid(row), title=series.title, description=series.description,
        location=series.location, url=series.url,
        recurrence=recurrence(row), duration=length(row), cancelled=tuple(sorted(cancelled)),
        sequence=int(row.sequence), moved=moved,
        lengths=tuple(sorted((at, d) for at, d in changes.lengths.items()
                             if changes.original(at) not in cancelled)),
        texts=tuple(texts))


def _texts(title: str, description: str | None, place: str | None) -> Texts:
    link = _LINK.search(place or "")
    return Texts(title, description or "", place or "", link.group(0) if link else None)


async def build(lifecycle: Lifecycle, ctx: Context, rows: Sequence[Any],
                *, single: bool) -> tuple[bytes, str]:
    """The file's bytes and name."""
    ids = [r.id for r in rows]
    changes = await lifecycle.changes_of(ids)
    own = await lifecycle.store.overrides_of(ids)
    entries = [entry_of(row, changes[row.id], own.get(row.id)) for row in rows]
    name = rows[0].title if single else ctx.i18n.plain("Community events")
    filename = f"event-{rows[0].id}.ics" if single else "events.ics"
    return calendar_file(entries, name=name, now=ctx.now()), filename
