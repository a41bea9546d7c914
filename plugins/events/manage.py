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


def read_moment(ctx: Context, text: str, timezone: str) -> datetime | Markup:
    """One later start for one occurrence (UTC), or the localized refusal; nothing changes."""
    try:
        rec = parse_when(text, now=ctx.now(), timezone=timezone)
    except WhenError as error:
        problem = str(getattr(error.problem, "value", error.problem)).lower()
        if problem == "in_the_past":
            return render.move_error(ctx, ctx.t(
                "“{text}” is in the past; an occurrence can only move to a later time.",
                text=text))
        return render.when_error(ctx, text, problem, created=False)
    if rec.rule is not None:
        return render.move_error(ctx, ctx.t(
            "“{text}” repeats; one occurrence moves to one date and time.", text=text))
    when = rec.first_start.astimezone(UTC)
    if when <= ctx.now():
        return render.move_error(ctx, ctx.t(
            "“{text}” is in the past; an occurrence can only move to a later time.", text=text))
    return when


def occurrence_on(event: Any, day: str, now: datetime,
                  excluded: timeline.Changes | tuple[datetime, ...] = ()) -> datetime | None:
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
        before = await self.lifecycle.changes(event)
        old_occurrence = timeline.current(recurrence(event), ctx.now(), length(event), before)
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
        if start is not None:
            # a moved occurrence the new rule no longer has goes back to the rule's times
            rule = recurrence(fresh)
            await self.store.unmove(event.id, [
                old for old in before.moved
                if timeline.upcoming(rule, old - timedelta(microseconds=1), 1) != [old]])
        excluded = await self.lifecycle.changes(fresh)
        occurrence = timeline.current(recurrence(fresh), ctx.now(), length(fresh), excluded)
        if old_occurrence is not None and old_occurrence != occurrence:
            await self.lifecycle.mirror(ctx.community, event, old_occurrence, cancel=True,
                                        changes=before)
        await self.lifecycle.mirror(ctx.community, fresh, occurrence, changes=excluded)
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
                        changes: dict[str, Any], start: str | None, timezone: str) -> None:
        """Give one occurrence its own title, place, description, start or length.

        A move keeps the occurrence's answers; its reminders, post and scheduled event
        follow, and those who said yes are told. A start in the past or onto another
        occurrence of the series is refused and nothing changes.
        """
        if set(changes) - {"title", "place", "description", "duration"}:
            await ctx.reply(ctx.t("For one occurrence, the title, start, duration, place and "
                                  "description can change; capacity is the series'."),
                            private=True)
            return
        if not changes and start is None:
            await ctx.reply(ctx.t("Nothing to change: give title, start, duration, place or "
                                  "description."), private=True)
            return
        now = ctx.now()
        before = await self.lifecycle.changes(event)
        original = before.original(occurrence)
        timing: dict[str, Any] = {}
        if start is not None or "duration" in changes:
            if occurrence <= now:
                await ctx.reply(ctx.t("{when} has started already; its time can no longer "
                                      "change. Nothing was changed.", when=occurrence),
                                private=True)
                return
            new = occurrence
            if start is not None:
                read = read_moment(ctx, start, timezone)
                if isinstance(read, Markup):
                    await ctx.reply(read, private=True)
                    return
                new = read
            own = (timedelta(seconds=changes["duration"]) if "duration" in changes
                   else before.length(occurrence, length(event)))
            other = timeline.clash(recurrence(event), new, own, length(event),
                                   before.without(original))
            if other is not None:
                await ctx.reply(ctx.t("{title} already takes place on {when}; one occurrence "
                                      "cannot move onto another. Nothing was changed.",
                                      title=event.title, when=other), private=True)
                return
            if start is not None:
                timing["start"] = None if new == original else new
            if "duration" in changes:
                seconds = changes.pop("duration")
                timing["duration"] = None if seconds == event.duration else seconds
        else:
            new = occurrence
        async with self.answers.lock(event.id):  # a tick re-plans under it too
            kept = [] if new == occurrence else await self.answers.effective_at(
                event, occurrence)
            await self.store.move_once(event, original, occurrence, {**changes, **timing},
                                       kept, now)
            fresh = await self.store.event(event.id, ctx.community.key)
            after = await self.lifecycle.changes(fresh)
            # the one scheduled item is replaced: the old reminders are gone with it
            await self.lifecycle.plan(ctx.community, fresh, now, after)
        await self._mirror(ctx, event, fresh, before, after)
        view = await self.lifecycle.view(fresh, new, after)
        seats = await self.answers.seats_at(fresh, new)
        moved_from = occurrence if new != occurrence else None
        told = await self.lifecycle.tell(
            self.lifecycle.shared(ctx.community, fresh), seats.said_yes(),
            lambda tr, m: render.with_mention(m, render.changed_once(
                tr, view, new, moved_from, "duration" in timing)))
        await self.lifecycle.refresh(ctx.community, event.id)
        if moved_from is not None:
            await ctx.reply(ctx.tn("Moved to {when}; I told {n} member who said yes.",
                                   "Moved to {when}; I told {n} members who said yes.",
                                   told, when=new), private=True)
            return
        await ctx.reply(ctx.tn("Changed for {when} only; I told {n} member who said yes.",
                               "Changed for {when} only; I told {n} members who said yes.",
                               told, when=new), private=True)

    async def _mirror(self, ctx: Context, event: Any, fresh: Any, before: timeline.Changes,
                      after: timeline.Changes) -> None:
        """After one occurrence changed: the scheduled event of the one shown follows."""
        now = ctx.now()
        shown = timeline.current(recurrence(event), now, length(event), before)
        current = timeline.current(recurrence(fresh), now, length(fresh), after)
        if shown is not None and (current is None or
                                  before.original(shown) != after.original(current)):
            await self.lifecycle.mirror(ctx.community, event, shown, cancel=True,
                                        changes=before)
        await self.lifecycle.mirror(ctx.community, fresh, current, changes=after)

    async def cancel(self, ctx: Context, event: Any, occurrence: datetime | None,
                     reason: str) -> None:
        """Cancel one occurrence (``occurrence``) or the series (None); tell those going."""
        async with self.lifecycle.moment(event.id):  # not in the middle of its tick
            await self._cancel(ctx, event, occurrence, reason)

    async def _cancel(self, ctx: Context, event: Any, occurrence: datetime | None,
                      reason: str) -> None:
        shared = self.lifecycle.shared(ctx.community, event)
        if occurrence is None:
            shown = timeline.current(recurrence(event), ctx.now(), length(event),
                                     await self.lifecycle.changes(event))
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
                                   await self.lifecycle.changes(fresh))
            await self.lifecycle.mirror(ctx.community, fresh, nxt)
            if nxt is None:  # that was the last one left: nothing upcoming is pinned
                await self.lifecycle.unpin(ctx.community, fresh)
        await self.lifecycle.refresh(ctx.community, event.id)
        await ctx.reply(ctx.tn("Cancelled; I told {n} member who said yes.",
                               "Cancelled; I told {n} members who said yes.", told),
                        private=True)

