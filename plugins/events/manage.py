"""Creating (preview, then confirm), editing and cancelling events.

``/event_create`` stores a *draft* and shows its creator the next three occurrences with
"Post it" / "Discard"; only the creator's confirm makes it live (once: a conditional update),
posts it, mirrors it and plans its first moment. Edits and cancels apply to the whole series
or one occurrence and tell those going what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import ChannelRef, Context, Markup, Privilege
from plugins.events import render, timeline
from plugins.events.lifecycle import Lifecycle, length, recurrence
from plugins.events.phrases import WhenError, parse_when
from plugins.events.recurrence import Recurrence
from plugins.events.rsvp import Answers
from plugins.events.store import EventStore

#: How many occurrences the creator sees before confirming.
PREVIEW = 3


@dataclass(frozen=True, slots=True)
class Draft:
    """What ``/event_create`` was given."""

    title: str
    start: str
    duration: timedelta
    place: str
    capacity: int
    description: str
    channel: ChannelRef | None


def read_start(ctx: Context, text: str, timezone: str) -> Recurrence | Markup:
    """The start as a recurrence, or the localized refusal with examples."""
    try:
        rec = parse_when(text, now=ctx.now(), timezone=timezone)
    except WhenError as error:
        problem = getattr(error.problem, "value", str(error.problem))
        return render.when_error(ctx, text, str(problem).lower())
    if not timeline.upcoming(rec, ctx.now(), 1):
        return render.when_error(ctx, text, "in_the_past" if rec.rule is None else "ended")
    return rec


def occurrence_on(event: Any, day: str, now: datetime,
                  excluded: tuple[datetime, ...] = ()) -> datetime | None:
    """The occurrence on a local date ``YYYY-MM-DD`` ("" or "next": the current one)."""
    if not day.strip() or day.strip().lower() in ("next", "التالي", "القادم"):
        return timeline.current(recurrence(event), now, length(event), excluded)
    try:
        wanted = date.fromisoformat(day.strip().translate(_DIGITS))
    except ValueError:
        return None
    zone = ZoneInfo(event.timezone)
    since = datetime(wanted.year, wanted.month, wanted.day, tzinfo=zone) - timedelta(days=1)
    for occurrence in timeline.upcoming(recurrence(event), since.astimezone(UTC), 3, excluded):
        if occurrence.astimezone(zone).date() == wanted:
            return occurrence
    return None


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


class Manager:
    """The flows behind /event_create, its confirm button, /event_edit and /event_cancel."""

    def __init__(self, store: EventStore, answers: Answers, lifecycle: Lifecycle) -> None:
        """Work through the store, the answers and the lifecycle."""
        self.store = store
        self.answers = answers
        self.lifecycle = lifecycle

    async def may_manage(self, ctx: Context, event: Any) -> bool:
        """The event's creator or a moderator."""
        assert ctx.member is not None
        return event.creator == ctx.member.id or await ctx.privilege() >= Privilege.MOD

    async def create(self, ctx: Context, draft: Draft, timezone: str) -> None:
        """Read the start, store a draft and show the preview with its confirm button."""
        assert ctx.member is not None
        rec = read_start(ctx, draft.start, timezone)
        if isinstance(rec, Markup):
            await ctx.reply(rec, private=True)
            return
        channel = draft.channel or ctx.channel
        event_id = await self.store.add_draft({
            "community": ctx.community.key, "channel": channel.id if channel else None,
            "creator": ctx.member.id, "title": draft.title.strip(),
            "description": draft.description.strip(), "place": draft.place.strip(),
            "capacity": draft.capacity, "first_start": rec.first_start.astimezone(UTC),
            "first_wall": rec.wall.isoformat(), "rule": rec.rule, "timezone": rec.timezone,
            "duration": int(draft.duration.total_seconds()), "created_at": ctx.now(),
        })
        event = await self.store.event(event_id, ctx.community.key)
        speaker = await self.lifecycle.speaker_for(ctx, ctx.member)
        text, buttons = render.preview(speaker, event,
                                       timeline.upcoming(rec, ctx.now(), PREVIEW))
        await ctx.reply(text, buttons=buttons, private=True)

    async def confirm(self, ctx: Context, event_id: int) -> None:
        """Make the draft live, post it, mirror it, plan it (a second press does nothing)."""
        assert ctx.member is not None
        event = await self.store.event(event_id, ctx.community.key)
        if event is None or event.creator != ctx.member.id:
            await ctx.reply(ctx.t("Only the member who created this event can post it."),
                            private=True)
            return
        if await self.store.go_live(event_id, ctx.community.key):
            event = await self.store.event(event_id, ctx.community.key)
            await self.lifecycle.publish(ctx.community, event)
            occurrence = timeline.current(recurrence(event), ctx.now(), length(event))
            await self.lifecycle.mirror(ctx.community, event, occurrence)
            await self.lifecycle.plan(ctx.community, event, ctx.now())
        elif event.status != "live":
            await ctx.reply(ctx.t("This event was discarded or cancelled."), private=True)
            return
        await ctx.reply(ctx.t("Event #{id} is posted.", id=event_id), private=True)

    async def discard(self, ctx: Context, event_id: int) -> None:
        """Drop a draft (its creator only)."""
        assert ctx.member is not None
        event = await self.store.event(event_id, ctx.community.key)
        if event is not None and event.creator == ctx.member.id:
            await self.store.discard(event_id, ctx.community.key)
        await ctx.reply(ctx.t("Nothing was posted."), private=True)

    async def edit(self, ctx: Context, event: Any, changes: dict[str, Any],
                   start: str | None) -> None:
        """Change the whole series; the post, the mirror and the plan follow."""
        old_occurrence = timeline.current(recurrence(event), ctx.now(), length(event),
                                          await self.lifecycle.excluded(event))
        if start is not None:
            rec = read_start(ctx, start, event.timezone)
            if isinstance(rec, Markup):
                await ctx.reply(rec, private=True)
                return
            changes.update(first_start=rec.first_start.astimezone(UTC),
                           first_wall=rec.wall.isoformat(), rule=rec.rule)
        if not changes:
            await ctx.reply(ctx.t("Nothing to change: give title, start, duration, place, "
                                  "capacity or description."), private=True)
            return
        await self.store.change(event.id, changes)
        fresh = await self.store.event(event.id, ctx.community.key)
        excluded = await self.lifecycle.excluded(fresh)
        occurrence = timeline.current(recurrence(fresh), ctx.now(), length(fresh), excluded)
        if old_occurrence is not None and old_occurrence != occurrence:
            await self.lifecycle.mirror(ctx.community, event, old_occurrence, cancel=True)
        await self.lifecycle.mirror(ctx.community, fresh, occurrence)
        await self.lifecycle.plan(ctx.community, fresh, ctx.now())
        if old_occurrence is None and occurrence is not None:
            await self.lifecycle.repin(ctx.community, fresh)  # it had ended: upcoming again
        freed = []
        if occurrence is not None and fresh.capacity != event.capacity:
            freed = await self.answers.capacity_changed(fresh, event.capacity, occurrence)
            await self.lifecycle.tell(self.lifecycle.shared(ctx.community, fresh), freed,
                                      lambda tr, m: render.with_mention(
                                          m, render.promoted(tr, fresh, occurrence)))
        if occurrence is not None and (occurrence != old_occurrence or
                                       fresh.place != event.place):
            # those going plan around when and where: tell them (the promoted know already)
            seats = await self.answers.seats_at(fresh, occurrence)
            told = {a.member for a in freed}
            await self.lifecycle.tell(
                self.lifecycle.shared(ctx.community, fresh),
                [a for a in seats.said_yes() if a.member not in told],
                lambda tr, m: render.with_mention(m, render.moved(tr, fresh, occurrence)))
        await self.lifecycle.refresh(ctx.community, event.id)
        await ctx.reply(ctx.t("Event #{id} is updated.", id=event.id), private=True)

    async def edit_once(self, ctx: Context, event: Any, occurrence: datetime,
                        changes: dict[str, Any], moving: bool) -> None:
        """Give one occurrence its own title, place or description; tell those going."""
        if moving or set(changes) - {"title", "place", "description"}:
            await ctx.reply(ctx.t("For one occurrence, title, place and description can "
                                  "change. To move it, cancel it and create a one-off event."),
                            private=True)
            return
        if not changes:
            await ctx.reply(ctx.t("Nothing to change: give title, place or description."),
                            private=True)
            return
        await self.store.set_override(event.id, occurrence, changes, ctx.now())
        await self.store.change(event.id, {})
        view = await self.lifecycle.view(event, occurrence)
        seats = await self.answers.seats_at(event, occurrence)
        told = await self.lifecycle.tell(
            self.lifecycle.shared(ctx.community, event), seats.said_yes(),
            lambda tr, m: render.with_mention(m, render.changed_once(tr, view, occurrence)))
        await self.lifecycle.mirror(ctx.community, event, occurrence)
        await self.lifecycle.refresh(ctx.community, event.id)
        await ctx.reply(ctx.tn("Changed for {when} only; I told {n} member who said yes.",
                               "Changed for {when} only; I told {n} members who said yes.",
                               told, when=occurrence), private=True)

    async def cancel(self, ctx: Context, event: Any, occurrence: datetime | None,
                     reason: str) -> None:
        """Cancel one occurrence (``occurrence``) or the series (None); tell those going."""
        shared = self.lifecycle.shared(ctx.community, event)
        if occurrence is None:
            shown = timeline.current(recurrence(event), ctx.now(), length(event),
                                     await self.lifecycle.excluded(event))
            if not await self.store.cancel_series(event.id, reason):
                await ctx.reply(ctx.t("Event #{id} is cancelled already.", id=event.id),
                                private=True)
                return
            await self.lifecycle.plugin.unschedule("tick", ctx.community, key=f"event:{event.id}")
            told = 0
            if shown is not None:
                seats = await self.answers.seats_at(event, shown)
                told = await self.lifecycle.tell(shared, seats.said_yes(), lambda tr, m:
                                                 render.cancelled_notice(tr, event, None,
                                                                         reason, m))
                await self.lifecycle.mirror(ctx.community, event, shown, cancel=True)
                # still pinned (an event whose last occurrence ended was unpinned then)
                await self.lifecycle.unpin(ctx.community, event)
        else:
            if not await self.store.cancel_once(event.id, occurrence, reason, ctx.now()):
                await ctx.reply(ctx.t("That occurrence is cancelled already."), private=True)
                return
            seats = await self.answers.seats_at(event, occurrence)
            told = await self.lifecycle.tell(shared, seats.said_yes(), lambda tr, m:
                                             render.cancelled_notice(tr, event, occurrence,
                                                                     reason, m))
            await self.lifecycle.mirror(ctx.community, event, occurrence, cancel=True)
            fresh = await self.store.event(event.id, ctx.community.key)
            await self.lifecycle.plan(ctx.community, fresh, ctx.now())
            nxt = timeline.current(recurrence(fresh), ctx.now(), length(fresh),
                                   await self.lifecycle.excluded(fresh))
            await self.lifecycle.mirror(ctx.community, fresh, nxt)
            if nxt is None:  # that was the last one left: nothing upcoming is pinned
                await self.lifecycle.unpin(ctx.community, fresh)
        await self.lifecycle.refresh(ctx.community, event.id)
        await ctx.reply(ctx.tn("Cancelled; I told {n} member who said yes.",
                               "Cancelled; I told {n} members who said yes.", told),
                        private=True)

