"""The ``tick`` job: an event's next moment came (a reminder, the start or the end).

The next moment is scheduled before anything is sent, so a crash while sending loses at
most that message and the chain goes on; the scheduler fires each stored moment once, also
across a restart. Late firings (the bot was down) follow one rule each:

- a reminder is sent late only if the occurrence has not started, and only the latest one
  that is due (nobody gets "in 24 hours" and "in 1 hour" back to back);
- the start ping is sent late only while the occurrence still runs;
- the end always refreshes the post (it now shows the next occurrence).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import CommunityRef, Context, MemberRef
from plugins.events import render, rsvp, timeline
from plugins.events.lifecycle import Lifecycle, changes_from, length, recurrence

if TYPE_CHECKING:
    from plugins.events.rsvp import Answers
    from plugins.events.store import EventStore, Moment


class Reminders:
    """Acts on an event's moments."""

    def __init__(self, store: EventStore, answers: Answers, lifecycle: Lifecycle) -> None:
        """Read events and answers, post through the lifecycle."""
        self.store = store
        self.answers = answers
        self.lifecycle = lifecycle

    async def tick(self, ctx: Context, data: dict[str, Any]) -> list[str]:
        """Plan the next step, then act on this one's moments; what was done (for logs)."""
        async with self.lifecycle.moment(int(data["event"])):
            return await self._tick(ctx, data)

    async def _tick(self, ctx: Context, data: dict[str, Any]) -> list[str]:
        community = ctx.community
        step = timeline.Step.from_data(data)
        now = ctx.now()
        config = await self.lifecycle.settings(community)
        event_id = int(data["event"])
        # not between a move's write and its plan; all it reads is read at once (one
        # connection), the answers a reminder goes to included
        async with self.answers.lock(event_id):
            read = await self.store.moment(event_id, community.key)
            if read is None:
                return ["gone"]
            event = read.event
            changes = changes_from(read.cancelled, read.overrides)
            # after an outage, moments too old to act on are not walked through one by one
            lookback = (max(config.reminders, default=timedelta(0))
                        + changes.longest(length(event)))
            upcoming = await self.lifecycle.plan(community, event,
                                                 max(step.at, now - lookback), changes)
        return [await self._act(ctx, read, moment, upcoming, changes)
                for moment in step.moments]

    async def _act(self, ctx: Context, read: Moment, moment: timeline.Moment,
                   upcoming: timeline.Step | None, changes: timeline.Changes) -> str:
        event = read.event
        community = ctx.community
        now = ctx.now()
        if moment.occurrence in changes.excluded:
            return "cancelled"
        if moment.occurrence in changes.moved:  # planned before the occurrence moved
            return "moved"
        if moment.kind == timeline.REMIND:
            later_due = upcoming is not None and upcoming.at <= now and any(
                m.kind == timeline.REMIND and m.occurrence == moment.occurrence
                for m in upcoming.moments)
            if now >= moment.occurrence or later_due:
                return "skipped"
            return await self._remind(ctx, read, moment.occurrence, changes)
        if moment.kind == timeline.START:
            await self.answers.freeze(event, moment.occurrence)
            await self.lifecycle.refresh(community, event.id)
            if now >= moment.occurrence + changes.length(moment.occurrence, length(event)):
                return "skipped"
            if (await self.lifecycle.settings(community)).start_ping:
                return await self._ping(community, event, moment.occurrence, changes)
            return "started"
        await self.lifecycle.refresh(community, event.id)
        nxt = timeline.current(recurrence(event), now, length(event), changes)
        await self.lifecycle.mirror(community, event, nxt, changes=changes)
        if nxt is None:  # the last occurrence ended: nothing upcoming to keep pinned
            await self.lifecycle.unpin(community, event)
            return "ended, unpinned"
        return "ended"

    async def _remind(self, ctx: Context, read: Moment, occurrence: datetime,
                      changes: timeline.Changes) -> str:
        """Tell those going (as the tick read the answers, under the event's lock)."""
        seats = rsvp.seats(rsvp.effective(read.series, read.once, occurrence),
                           read.event.capacity)
        event = await self.lifecycle.view(read.event, occurrence, changes, read.overrides)
        shared = self.lifecycle.shared(ctx.community, event)
        told = await self.lifecycle.tell(
            shared, seats.going,
            lambda tr, mention: render.reminder(tr, event, occurrence, mention))
        return f"reminded {told}"

    async def _ping(self, community: CommunityRef, event: Any, occurrence: datetime,
                    changes: timeline.Changes) -> str:
        seats = await self.answers.seats_at(event, occurrence)
        event = await self.lifecycle.view(event, occurrence, changes)
        shared = self.lifecycle.shared(community, event)
        refs = [MemberRef(community.platform, a.member, a.name or a.member)
                for a in seats.going]
        text = render.starting(shared.i18n, event,
                               render.mentions(shared, refs) if refs else None)
        await shared.send(text, buttons=render.check_in_button(shared.i18n, event.id,
                                                               occurrence), mentions=refs)
        return "pinged"

