"""An event's life: posted, kept current, mirrored as a scheduled event, its moments planned.

``__init__.py`` calls these from commands, buttons and the ``tick`` job. Messages everyone
reads speak the community's language; what goes to one member speaks theirs, with dates in
the timezone they chose (``/event_timezone``), else the community's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from bot import Capability, ChannelRef, CommunityRef, Context, Markup, MemberRef
from plugins.events import render, timeline
from plugins.events.recurrence import Recurrence, zone_of
from plugins.events.render import Speaker
from plugins.events.rsvp import Answer, Answers
from plugins.events.settings import EventsSettings
from plugins.events.store import EventStore

if TYPE_CHECKING:
    from plugins.events import Events


def recurrence(event: Any) -> Recurrence:
    """The stored event's first start and rule, in its timezone.

    Built from the nominal local start, not the instant: a series first set at 02:30 on a
    spring-forward night (happening at 03:30) stays at 02:30 on the nights after.
    """
    if event.rule is None:  # a one-off is its instant (a fall-back fold's second 02:30)
        return Recurrence(event.first_start.astimezone(zone_of(event.timezone)), None,
                          event.timezone)
    return Recurrence.from_wall(datetime.fromisoformat(event.first_wall), event.rule,
                                event.timezone)


def changes_from(cancelled: Sequence[datetime],
                 own: dict[datetime, dict[str, Any]]) -> timeline.Changes:
    """What an event's single occurrences changed (as :meth:`Lifecycle.changes` gives it).

    Built from its cancelled occurrences and its occurrences' own values, as read.
    """
    moved = {old: v["start"] for old, v in own.items() if "start" in v}
    return timeline.Changes(
        tuple(cancelled), moved,
        {moved.get(old, old): timedelta(seconds=v["duration"])
         for old, v in own.items() if "duration" in v})


def length(event: Any) -> timedelta:
    """How long each occurrence lasts."""
    return timedelta(seconds=int(event.duration))


class Lifecycle:
    """Posts, refreshes, mirrors and plans events for the plugin."""

    def __init__(self, plugin: Events, store: EventStore, answers: Answers) -> None:
        """Work through the plugin's services (contexts, scheduler)."""
        self.plugin = plugin
        self.store = store
        self.answers = answers
        #: Per event, held from reading it to submitting the edit of its post: refreshes
        #: edit in the order they read (a job's, a press's, a cancellation's side by side),
        #: so the post never goes back to an older state.
        self._refreshing: dict[int, asyncio.Lock] = {}
        self._moments: dict[int, asyncio.Lock] = {}

    def moment(self, event_id: int) -> asyncio.Lock:
        """Held by an event's tick (its reminder, start or end) and by a cancellation.

        A tick that read the event live acts before the cancellation is told, never after
        it: nobody hears "cancelled", then "starts now".
        """
        return self._moments.setdefault(event_id, asyncio.Lock())

    async def changes(self, event: Any) -> timeline.Changes:
        """What the event's single occurrences changed: cancelled, moved, own lengths."""
        return (await self.changes_of([event.id]))[event.id]

    async def changes_of(self, event_ids: Sequence[int]) -> dict[int, timeline.Changes]:
        """``changes`` of several events (two reads)."""
        cancelled = await self.store.cancelled(event_ids)
        own = await self.store.overrides_of(event_ids)
        return {event_id: changes_from(cancelled.get(event_id, ()), own.get(event_id, {}))
                for event_id in event_ids}

    async def view(self, event: Any, occurrence: datetime | None,
                   changes: timeline.Changes | None = None,
                   overrides: dict[datetime, dict[str, Any]] | None = None) -> Any:
        """The event as one occurrence has it (its own title, place, description, length).

        ``overrides`` are the event's occurrences' own values when already read.
        """
        if occurrence is None:
            return event
        if changes is None:
            changes = await self.changes(event)
        if overrides is None:
            overrides = await self.store.overrides(event.id)
        own = overrides.get(changes.original(occurrence))
        if not own:
            return event
        texts = {k: v for k, v in own.items() if k != "start"}
        return SimpleNamespace(**{**dict(event._mapping), **texts})

    def shared(self, community: CommunityRef, event: Any) -> Context:
        """A context in the event's channel, speaking the community's language."""
        channel = ChannelRef(community.platform, event.channel) if event.channel else None
        return self.plugin.context(community, channel=channel)

    async def speaker_for(self, ctx: Context, member: MemberRef) -> Speaker:
        """A member's own language, with dates in their chosen timezone."""
        zone = await self.store.zone(ctx.community.key, member.id)
        return render.in_zone(ctx.for_member(member), zone)

    async def settings(self, community: CommunityRef) -> EventsSettings:
        """The community's events settings."""
        config = await self.plugin.config(community)
        assert isinstance(config, EventsSettings)
        return config

    # -- the post -------------------------------------------------------------------------

    async def content(self, ctx: Context, event: Any) -> tuple[Markup, list[list[Any]]]:
        """The post as it should read now."""
        now = ctx.now()
        occurrence = None
        seats = None
        running = False
        if event.status == "live":
            changes = await self.changes(event)
            occurrence = timeline.current(recurrence(event), now, length(event), changes)
            if occurrence is not None:
                seats = await self.answers.seats_at(event, occurrence)
                running = occurrence <= now
            return render.post(ctx.i18n, await self.view(event, occurrence, changes),
                               occurrence, seats, running)
        return render.post(ctx.i18n, event, occurrence, seats, running)

    async def publish(self, community: CommunityRef, event: Any) -> None:
        """Post the event with its buttons (once: the post's id is kept)."""
        shared = self.shared(community, event)
        text, buttons = await self.content(shared, event)
        async with shared.transaction():
            fresh = await self.store.event(event.id, community.key)
            if fresh is None or fresh.message is not None:
                return
            # edited and unpinned for as long as the event runs (months, for a series)
            message = await shared.send(text, buttons=buttons, keep=True)
            await self.store.set_message(event.id, message)
            await self.pin(shared, message)

    async def refresh(self, community: CommunityRef, event_id: int) -> None:
        """Edit the post so counts, the occurrence shown and the buttons are current."""
        async with self._refreshing.setdefault(event_id, asyncio.Lock()):
            event = await self.store.event(event_id, community.key)
            if event is None or event.message is None:
                return
            shared = self.shared(community, event)
            text, buttons = await self.content(shared, event)
            await shared.edit(event.message, text, buttons=buttons)

    # -- pinned while upcoming -------------------------------------------------------------

    async def pin(self, shared: Context, message: int) -> None:
        """Pin the post while the event is upcoming, where the platform pins.

        Where the bot lacks the right in this chat the pin is dropped (logged) and the
        event goes on unpinned.
        """
        if shared.has(Capability.PIN_MESSAGES):
            await shared.pin(message)

    async def repin(self, community: CommunityRef, event: Any) -> None:
        """Pin the post again: an event that had ended has an occurrence ahead again."""
        if event.message is not None:
            await self.pin(self.shared(community, event), event.message)

    async def unpin(self, community: CommunityRef, event: Any) -> None:
        """Unpin the post: the last occurrence ended, or the event is cancelled."""
        shared = self.shared(community, event)
        if event.message is not None and shared.has(Capability.PIN_MESSAGES):
            await shared.unpin(event.message)

    # -- the platform's own scheduled event -----------------------------------------------

    async def mirror(self, community: CommunityRef, event: Any, occurrence: datetime | None,
                     *, cancel: bool = False, changes: timeline.Changes | None = None) -> None:
        """Create, update or cancel the scheduled event of one occurrence (where there are).

        It is keyed by the start the rule gives the occurrence, so a moved occurrence's
        scheduled event is moved, not made again.
        """
        shared = self.shared(community, event)
        if occurrence is None or not shared.has(Capability.SCHEDULED_EVENTS):
            return
        if changes is None:
            changes = await self.changes(event)
        event = await self.view(event, occurrence, changes)
        key = f"event:{event.id}:{render.stamp(changes.original(occurrence))}"
        await shared.scheduled_event(
            key, event.title, occurrence,
            end=occurrence + length(event), description=event.description or "",
            location=event.place or event.title, cancel=cancel)

    # -- planning -------------------------------------------------------------------------

    async def plan(self, community: CommunityRef, event: Any, after: datetime,
                   excluded: timeline.Changes | None = None) -> timeline.Step | None:
        """Schedule the event's next step strictly after ``after`` (replacing the stored one).

        Strictly after: an instant already fired must never be scheduled again (the
        scheduler fires an item once per instant).
        """
        config = await self.settings(community)
        if excluded is None:
            excluded = await self.changes(event)
        step = timeline.next_step(recurrence(event), after, length(event), config.reminders,
                                  excluded)
        if step is None:
            await self.plugin.unschedule("tick", community, key=f"event:{event.id}")
            return None
        await self.plugin.schedule("tick", community, at=step.at, key=f"event:{event.id}",
                                   data=step.data(event.id))
        return step

    # -- telling members ------------------------------------------------------------------

    async def tell(
        self, ctx: Context, members: Sequence[Answer],
        build: Callable[[Speaker, Markup | None], Markup], buttons: Sequence[Any] = (),
    ) -> int:
        """Tell exactly these members: a DM each where the platform allows, else one post.

        ``build(speaker, mention)`` writes the text; ``mention`` is None in a DM. The
        members no DM reaches are mentioned together in one post in the channel.
        """
        refs = [MemberRef(ctx.community.platform, a.member, a.name or a.member) for a in members]
        if not refs:
            return 0
        if ctx.has(Capability.DIRECT_MESSAGES):
            texts = [build(await self.speaker_for(ctx, member), None) for member in refs]
            # those the bot cannot reach privately are mentioned in the channel instead, all
            # in one post with the same words (not the core's generic "open your DMs" note)
            await ctx.dm_many(refs, texts, buttons=list(buttons),
                              fallback=lambda mentions: build(ctx.i18n, mentions))
            return len(refs)
        await ctx.send(build(ctx.i18n, render.mentions(ctx, refs)), mentions=refs,
                       buttons=list(buttons))
        return len(refs)


def utc(when: datetime) -> datetime:
    """An aware time in UTC (what is stored and what buttons carry)."""
    return when.astimezone(UTC)
