"""Every query of the events plugin (the only SQL besides ``tables.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from bot import MemberRef

from .tables import attendance, cancelled, events, overrides, rsvps, series_rsvps, zones


def _own_values(row: Any) -> dict[str, Any]:
    """An overridden occurrence's own values (only those set)."""
    return {k: getattr(row, k) for k in ("title", "place", "description", "start", "duration")
            if getattr(row, k) is not None}


@dataclass(frozen=True)
class Moment:
    """An event as one of its moments reads it (see :meth:`EventStore.moment`)."""

    event: Any
    cancelled: tuple[datetime, ...]
    overrides: dict[datetime, dict[str, Any]]
    series: list[Any]
    once: list[Any]


class EventStore:
    """Reads and writes the events_* tables."""

    def __init__(self, db: Any) -> None:
        """Work on the plugin's database.

        Members' timezones are read once per community and kept in memory (every reminder
        needs them); ``set_zone`` and ``forget`` keep that copy current.
        """
        self.db = db
        self._zones: dict[str, dict[str, str]] = {}
        #: Timezones chosen or erased so far (counted once written): a copy read while one
        #: was written may lack it, and is not kept.
        self._zone_writes = 0

    # -- events ---------------------------------------------------------------------------

    async def add_draft(self, values: dict[str, Any]) -> int:
        """Store an event the creator has not confirmed yet; its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(events.insert().values(status="draft", **values))
            return int(result.inserted_primary_key[0])

    async def go_live(self, event: int, community: str) -> bool:
        """Draft to live, once (a second confirm changes nothing)."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                update(events).where(events.c.id == event, events.c.community == community,
                                     events.c.status == "draft").values(status="live"))
            return bool(done.rowcount)

    async def discard(self, event: int, community: str) -> bool:
        """Drop a draft (a confirmed event is not touched)."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                delete(events).where(events.c.id == event, events.c.community == community,
                                     events.c.status == "draft"))
            return bool(done.rowcount)

    async def event(self, event: int, community: str) -> Any:
        """One event of a community, or None."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(events).where(
                events.c.id == event, events.c.community == community))).first()

    async def moment(self, event: int, community: str) -> Moment | None:
        """What an event's moment (a reminder, its start, its end) reads, on one connection.

        The event, its cancelled occurrences, its occurrences' own values and its answers
        (as :meth:`cancelled`, :meth:`overrides` and :meth:`answers` give them); None when
        the event is not live (or not there).
        """
        async with self.db.connect() as conn:
            row = (await conn.execute(select(events).where(
                events.c.id == event, events.c.community == community))).first()
            if row is None or row.status != "live":
                return None
            gone = sorted(r.occurrence for r in await conn.execute(
                select(cancelled.c.occurrence).where(cancelled.c.event == event)))
            own = {r.occurrence: _own_values(r) for r in await conn.execute(
                select(overrides).where(overrides.c.event == event))}
            series = list(await conn.execute(select(series_rsvps).where(
                series_rsvps.c.event == event)))
            once = list(await conn.execute(select(rsvps).where(rsvps.c.event == event)))
        return Moment(row, tuple(gone), own, series, once)

    async def live(self, community: str) -> list[Any]:
        """The community's live events."""
        async with self.db.connect() as conn:
            return list(await conn.execute(select(events).where(
                events.c.community == community, events.c.status == "live"
            ).order_by(events.c.id)))

    async def set_message(self, event: int, message: int) -> None:
        """Remember the outbox id of the event's post."""
        async with self.db.begin() as conn:
            await conn.execute(update(events).where(events.c.id == event).values(message=message))

    async def change(self, event: int, values: dict[str, Any]) -> None:
        """Edit a live event (its calendar sequence goes up)."""
        async with self.db.begin() as conn:
            await conn.execute(update(events).where(events.c.id == event).values(
                sequence=events.c.sequence + 1, **values))

    async def cancel_series(self, event: int, reason: str) -> bool:
        """Live to cancelled, once."""
        async with self.db.begin() as conn:
            done = await conn.execute(update(events).where(
                events.c.id == event, events.c.status == "live").values(
                status="cancelled", reason=reason, sequence=events.c.sequence + 1))
            return bool(done.rowcount)

    async def cancel_once(self, event: int, occurrence: datetime, reason: str,
                          now: datetime) -> bool:
        """Cancel one occurrence; False when it was cancelled already."""
        async with self.db.begin() as conn:
            done = await conn.execute(self.db.insert(cancelled).values(
                event=event, occurrence=occurrence, reason=reason, at=now
            ).on_conflict_do_nothing())
            if done.rowcount:
                await conn.execute(update(events).where(events.c.id == event).values(
                    sequence=events.c.sequence + 1))
            return bool(done.rowcount)

    async def cancelled(self, event_ids: Sequence[int]) -> dict[int, tuple[datetime, ...]]:
        """The cancelled occurrences of each event."""
        out: dict[int, list[datetime]] = {e: [] for e in event_ids}
        if not event_ids:
            return {}
        async with self.db.connect() as conn:
            for row in await conn.execute(select(cancelled.c.event, cancelled.c.occurrence).where(
                    cancelled.c.event.in_(list(event_ids)))):
                out[row.event].append(row.occurrence)
        return {e: tuple(sorted(v)) for e, v in out.items()}

    async def set_override(self, event: int, occurrence: datetime, values: dict[str, Any],
                           now: datetime) -> None:
        """Give one occurrence its own title, place or description (merged with earlier)."""
        await self.db.upsert(overrides, [{"event": event, "occurrence": occurrence,
                                          "at": now, **values}],
                             ["event", "occurrence"], replace=[*values, "at"])

    async def move_once(self, event: Any, original: datetime, shown: datetime,
                        values: dict[str, Any], answers: Sequence[Any], now: datetime) -> None:
        """Give one occurrence its own start or length (and texts), in one transaction.

        ``original`` is the start the rule gives it, ``shown`` the start it had until now;
        ``values`` may hold ``start`` (None: back at ``original``) and ``duration``. The
        ``answers`` that counted for it become its own at the new start, so they stay.
        """
        new = (values.get("start") or original) if "start" in values else shown
        async with self.db.begin() as conn:
            found = (await conn.execute(select(overrides.c.event).where(
                overrides.c.event == event.id, overrides.c.occurrence == original))).first()
            if found is None:
                await conn.execute(overrides.insert().values(
                    event=event.id, occurrence=original, at=now, **values))
            else:
                await conn.execute(update(overrides).where(
                    overrides.c.event == event.id, overrides.c.occurrence == original
                ).values(at=now, **values))
            if new != shown:
                await conn.execute(delete(rsvps).where(
                    rsvps.c.event == event.id, rsvps.c.occurrence.in_([shown, new])))
                if answers:
                    await conn.execute(rsvps.insert(), [
                        {"event": event.id, "occurrence": new, "member": a.member,
                         "community": event.community, "name": a.name, "status": a.status,
                         "at": a.at} for a in answers])
            await conn.execute(update(events).where(events.c.id == event.id).values(
                sequence=events.c.sequence + 1))

    async def overrides(self, event: int) -> dict[datetime, dict[str, Any]]:
        """Each overridden occurrence's own values (only those set), by its rule start."""
        return (await self.overrides_of([event])).get(event, {})

    async def overrides_of(self, event_ids: Sequence[int]
                           ) -> dict[int, dict[datetime, dict[str, Any]]]:
        """The overridden occurrences of each event, as ``overrides`` gives them."""
        out: dict[int, dict[datetime, dict[str, Any]]] = {}
        if not event_ids:
            return out
        async with self.db.connect() as conn:
            for r in await conn.execute(select(overrides).where(
                    overrides.c.event.in_(list(event_ids)))):
                out.setdefault(r.event, {})[r.occurrence] = _own_values(r)
        return out

    async def unmove(self, event: int, originals: Sequence[datetime]) -> None:
        """Put these occurrences back at their rule starts and lengths (a series re-timed)."""
        if not originals:
            return
        async with self.db.begin() as conn:
            await conn.execute(update(overrides).where(
                overrides.c.event == event, overrides.c.occurrence.in_(list(originals))
            ).values(start=None, duration=None))

    # -- answers --------------------------------------------------------------------------

    async def answers(self, event: int) -> tuple[list[Any], list[Any]]:
        """The event's series answers and its answers for single occurrences."""
        async with self.db.connect() as conn:
            series = list(await conn.execute(select(series_rsvps).where(
                series_rsvps.c.event == event)))
            once = list(await conn.execute(select(rsvps).where(rsvps.c.event == event)))
            return series, once

    @staticmethod
    async def _queue_time(conn: Any, event: int, now: datetime) -> datetime:
        """When an answer joins the queue: now, but after every answer before it.

        Two presses in the same instant (a test's clock, or one database tick) still queue
        in the order they were recorded.
        """
        latest = [v for v in [
            (await conn.execute(select(func.max(series_rsvps.c.at)).where(
                series_rsvps.c.event == event))).scalar(),
            (await conn.execute(select(func.max(rsvps.c.at)).where(
                rsvps.c.event == event))).scalar()] if v is not None]
        if latest and max(latest) >= now:
            return max(latest) + timedelta(microseconds=1)
        return now

    async def answer_series(self, event: Any, since: datetime, member: MemberRef, status: str,
                            now: datetime) -> None:
        """A series answer from ``since`` on; it replaces the member's single answers there.

        Saying the same again keeps the member's place in the queue (``at`` stays).
        """
        async with self.db.begin() as conn:
            old = (await conn.execute(select(series_rsvps).where(
                series_rsvps.c.event == event.id, series_rsvps.c.member == member.id))).first()
            await conn.execute(delete(rsvps).where(
                rsvps.c.event == event.id, rsvps.c.member == member.id,
                rsvps.c.occurrence >= since))
            now = await self._queue_time(conn, event.id, now)
            if old is None:
                await conn.execute(series_rsvps.insert().values(
                    event=event.id, member=member.id, community=event.community,
                    name=member.name, status=status, since=since, at=now))
            elif old.status != status or old.since > since:
                keep = old.status == status
                await conn.execute(update(series_rsvps).where(
                    series_rsvps.c.event == event.id, series_rsvps.c.member == member.id
                ).values(status=status, since=min(since, old.since) if keep else since,
                         at=old.at if keep else now, name=member.name))

    async def answer_once(self, event: Any, occurrence: datetime, member: MemberRef,
                          status: str, now: datetime) -> None:
        """An answer for one occurrence only (the same answer again keeps its place)."""
        async with self.db.begin() as conn:
            old = (await conn.execute(select(rsvps).where(
                rsvps.c.event == event.id, rsvps.c.occurrence == occurrence,
                rsvps.c.member == member.id))).first()
            now = await self._queue_time(conn, event.id, now)
            if old is None:
                await conn.execute(rsvps.insert().values(
                    event=event.id, occurrence=occurrence, member=member.id,
                    community=event.community, name=member.name, status=status, at=now))
            elif old.status != status:
                await conn.execute(update(rsvps).where(
                    rsvps.c.event == event.id, rsvps.c.occurrence == occurrence,
                    rsvps.c.member == member.id).values(status=status, at=now))

    async def keep_answers(self, event: Any, occurrence: datetime, answers: Any) -> None:
        """Store answers as this occurrence's own (those it has already are kept)."""
        await self.db.insert_ignore(rsvps, [
            {"event": event.id, "occurrence": occurrence, "member": a.member,
             "community": event.community, "name": a.name, "status": a.status, "at": a.at}
            for a in answers])

    # -- attendance -----------------------------------------------------------------------

    async def attend(self, event: Any, occurrence: datetime, member: MemberRef, how: str,
                     now: datetime) -> bool:
        """Record that a member came; False when it was recorded already."""
        async with self.db.begin() as conn:
            done = await conn.execute(self.db.insert(attendance).values(
                event=event.id, occurrence=occurrence, member=member.id,
                community=event.community, name=member.name, how=how, at=now
            ).on_conflict_do_nothing())
            return bool(done.rowcount)

    async def attended(self, event: int) -> list[Any]:
        """Every attendance row of an event."""
        async with self.db.connect() as conn:
            return list(await conn.execute(select(attendance).where(attendance.c.event == event)))

    # -- members' timezones ---------------------------------------------------------------

    async def zone(self, community: str, member: str) -> str | None:
        """The timezone a member chose for event times here, if any."""
        known = self._zones.get(community)
        if known is None:
            writes = self._zone_writes
            async with self.db.connect() as conn:
                known = {r.member: r.timezone for r in await conn.execute(
                    select(zones.c.member, zones.c.timezone).where(
                        zones.c.community == community))}
            if writes == self._zone_writes:  # else the next look reads them again
                self._zones.setdefault(community, known)
        return known.get(member)

    async def set_zone(self, community: str, member: str, timezone: str | None) -> None:
        """Choose (or with None, drop) a member's timezone for event times."""
        async with self.db.begin() as conn:
            await conn.execute(delete(zones).where(zones.c.community == community,
                                                   zones.c.member == member))
            if timezone:
                await conn.execute(zones.insert().values(community=community, member=member,
                                                         timezone=timezone))
        self._zone_writes += 1
        known = self._zones.get(community)
        if known is not None:
            if timezone:
                known[member] = timezone
            else:
                known.pop(member, None)

    # -- privacy --------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """A member's answers, attendance, chosen timezones and the events they created."""
        prefix = member.platform + ":"

        def iso(when: datetime | None) -> str | None:
            return when.isoformat() if when else None

        async with self.db.connect() as conn:
            series = await conn.execute(select(series_rsvps).where(
                series_rsvps.c.member == member.id, series_rsvps.c.community.startswith(prefix)))
            once = await conn.execute(select(rsvps).where(
                rsvps.c.member == member.id, rsvps.c.community.startswith(prefix)))
            came = await conn.execute(select(attendance).where(
                attendance.c.member == member.id, attendance.c.community.startswith(prefix)))
            chosen = await conn.execute(select(zones).where(
                zones.c.member == member.id, zones.c.community.startswith(prefix)))
            made = await conn.execute(select(events.c.id, events.c.community, events.c.title)
                                      .where(events.c.creator == member.id,
                                             events.c.community.startswith(prefix)))
            return {
                "series_answers": [{"community": r.community, "event": r.event,
                                    "answer": r.status, "from": iso(r.since),
                                    "at": iso(r.at)} for r in series],
                "answers": [{"community": r.community, "event": r.event,
                             "occurrence": iso(r.occurrence), "answer": r.status,
                             "at": iso(r.at)} for r in once],
                "attendance": [{"community": r.community, "event": r.event,
                                "occurrence": iso(r.occurrence), "how": r.how,
                                "at": iso(r.at)} for r in came],
                "timezones": [{"community": r.community, "timezone": r.timezone}
                              for r in chosen],
                "events_created": [{"community": r.community, "event": r.id, "title": r.title}
                                   for r in made],
            }

    async def forget(self, member: MemberRef) -> None:
        """Erase a member's answers, attendance and timezone; their events stay unsigned."""
        prefix = member.platform + ":"
        async with self.db.begin() as conn:
            for table in (series_rsvps, rsvps, attendance, zones):
                await conn.execute(delete(table).where(
                    table.c.member == member.id, table.c.community.startswith(prefix)))
            await conn.execute(update(events).where(
                events.c.creator == member.id, events.c.community.startswith(prefix)
            ).values(creator=None))
        self._zone_writes += 1
        for community, known in self._zones.items():
            if community.startswith(prefix):
                known.pop(member.id, None)

    async def count(self) -> int:
        """How many events are stored (all communities)."""
        async with self.db.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())
