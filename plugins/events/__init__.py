"""Events: recurring community events with RSVP, reminders, attendance and calendars.

Read top-down: the Plugin class here (commands, buttons, the one job, each thin), then
``manage.py`` (create with a preview and a confirm, edit, cancel), ``rsvp.py`` (who is going:
series answers, "just this one", capacity, the waitlist), ``reminders.py`` (the ``tick`` job:
reminders, the start ping, the end), ``timeline.py`` (an event's moments, pure),
``lifecycle.py`` (the post, the platform's scheduled event, planning, telling members),
``attendance.py``, ``render.py`` (every text), ``store.py``, ``tables.py``. The phrase
reader (``phrases.py``), recurrence (``recurrence.py``) and ``.ics`` files (``ics.py``) are
pure.

The scheduler keeps one item per live event: its next moment. No message handler: nothing
here runs on the message hot path.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from bot import (
    N_,
    Attachment,
    Capability,
    ChannelRef,
    Context,
    Duration,
    MemberRef,
    Misfire,
    Param,
    Plugin,
    Privilege,
    command,
    find_timezone,
    job,
    on_button,
    timezone_suggestions,
)
from plugins.events import attendance, calendar, render, timeline
from plugins.events.lifecycle import Lifecycle, length, recurrence
from plugins.events.manage import Draft, Manager, occurrence_on
from plugins.events.reminders import Reminders
from plugins.events.render import CheckIn, Confirm, Discard, Rsvp
from plugins.events.rsvp import Answers
from plugins.events.settings import EventsSettings
from plugins.events.store import EventStore
from plugins.events.tables import metadata

__all__ = ["Events", "EventsSettings"]

ONE_HOUR = Duration(hours=1)
MAX_TITLE = 200
MAX_PLACE = 300
MAX_DESCRIPTION = 1500
#: How far ahead /events looks, and how many occurrences it lists.
LIST_AHEAD = timedelta(days=31)
LIST_COUNT = 10


class Events(Plugin):
    """Events with RSVP buttons, a waitlist, reminders, check-in and calendar files."""

    name = "events"
    description = N_("Recurring events with RSVP, reminders, attendance and calendar files")
    settings = EventsSettings
    tables = metadata
    needs = frozenset({Capability.BUTTONS})
    wants = frozenset({Capability.DIRECT_MESSAGES, Capability.SCHEDULED_EVENTS,
                       Capability.PIN_MESSAGES})
    stores = N_(
        "Your answers to events (going, maybe, can't; for a series or one time), when you "
        "checked in, the timezone you chose for event times, and the events you created."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Bind the store and the flows to the kernel."""
        super().__init__(*args, **kwargs)
        self.store = EventStore(self.db)
        self.answers = Answers(self.store)
        self.lifecycle = Lifecycle(self, self.store, self.answers)
        self.manager = Manager(self.store, self.answers, self.lifecycle)
        self.reminders = Reminders(self.store, self.answers, self.lifecycle)

    async def _event(self, ctx: Context, event_id: int, *, manage: bool = False) -> Any:
        """A live event of this community, or None after telling the member why."""
        event = await self.store.event(event_id, ctx.community.key)
        if event is None or event.status == "draft":
            await ctx.reply(ctx.t("There is no event #{id} here. /events lists them.",
                                  id=event_id), private=True)
            return None
        if event.status != "live":
            await ctx.reply(ctx.t("Event #{id} is cancelled.", id=event_id), private=True)
            return None
        if manage and not await self.manager.may_manage(ctx, event):
            await ctx.reply(ctx.t("Only the event's creator or a moderator can change it."),
                            private=True)
            return None
        return event

    # -- creating, editing, cancelling ----------------------------------------------------

    @command("event_create", help=N_(
        'Create an event: /event_create "Title" "every thursday 18:00" duration=2h'))
    async def create(
        self,
        ctx: Context,
        title: Annotated[str, Param(help=N_("What the event is called"), max_length=MAX_TITLE)],
        start: Annotated[str, Param(help=N_(
            "When: 2026-03-05 18:00, tomorrow 18:00, every thursday 18:00, غدا 6 مساء"),
            max_length=120)],
        duration: Annotated[Duration, Param(help=N_("How long, like 90m or 2h"))] = ONE_HOUR,
        place: Annotated[str, Param(help=N_("Where: a room, a link or a channel"),
                                    max_length=MAX_PLACE)] = "",
        capacity: Annotated[int, Param(help=N_("Places (0: no limit)"), min=0,
                                       max=100_000)] = 0,
        description: Annotated[str, Param(help=N_("What it is about"),
                                          max_length=MAX_DESCRIPTION)] = "",
        channel: Annotated[ChannelRef | None, Param(help=N_("Where to post it"))] = None,
    ) -> None:
        """Read the start, then show the creator a preview to confirm."""
        config: EventsSettings = await ctx.settings()
        if not config.members_can_create and await ctx.privilege() < Privilege.MOD:
            await ctx.reply(ctx.t("Only moderators can create events here."), private=True)
            return
        if not timedelta(minutes=5) <= duration <= timedelta(days=14):
            await ctx.reply(ctx.t("An event lasts between 5 minutes and 14 days."),
                            private=True)
            return
        timezone = await self.kernel.timezone_of(ctx.community)
        await self.manager.create(ctx, Draft(title, start, duration, place, capacity,
                                             description, channel or config.channel), timezone)

    @on_button(Confirm)
    async def confirm(self, payload: Confirm, ctx: Context) -> None:
        """The creator posts the previewed event."""
        await self.manager.confirm(ctx, payload.event)

    @on_button(Discard)
    async def discard(self, payload: Discard, ctx: Context) -> None:
        """The creator drops the previewed event."""
        await self.manager.discard(ctx, payload.event)

    @command("event_edit", help=N_("Change an event: /event_edit 3 start=\"every friday 19:00\""))
    async def edit(
        self,
        ctx: Context,
        event: Annotated[int, Param(help=N_("The event's number"), min=1)],
        title: Annotated[str | None, Param(help=N_("A new title"), max_length=MAX_TITLE)] = None,
        start: Annotated[str | None, Param(help=N_("A new start or rule"), max_length=120)] = None,
        duration: Annotated[Duration | None, Param(help=N_("A new length"))] = None,
        place: Annotated[str | None, Param(help=N_("A new place"), max_length=MAX_PLACE)] = None,
        capacity: Annotated[int | None, Param(help=N_("Places (0: no limit)"), min=0,
                                              max=100_000)] = None,
        description: Annotated[str | None, Param(help=N_("A new description"),
                                                 max_length=MAX_DESCRIPTION)] = None,
        date: Annotated[str, Param(help=N_("Only this occurrence, like 2026-03-05 (default: "
                                             "the whole series)"), max_length=20)] = "",
    ) -> None:
        """Change the whole series, or one occurrence (its texts, start and length)."""
        row = await self._event(ctx, event, manage=True)
        if row is None:
            return
        changes: dict[str, Any] = {k: v.strip() for k, v in (
            ("title", title), ("place", place), ("description", description)) if v is not None}
        if capacity is not None:
            changes["capacity"] = capacity
        if duration is not None:
            if not timedelta(minutes=5) <= duration <= timedelta(days=14):
                await ctx.reply(ctx.t("An event lasts between 5 minutes and 14 days."),
                                private=True)
                return
            changes["duration"] = int(duration.total_seconds())
        if date.strip():
            occurrence = occurrence_on(row, date, ctx.now(), await self.lifecycle.changes(row))
            if occurrence is None:
                await ctx.reply(ctx.t("Event #{id} has no occurrence on “{date}”. Give a date "
                                      "like 2026-03-05, or leave it out for the next one.",
                                      id=event, date=date), private=True)
                return
            timezone = await self.kernel.timezone_of(ctx.community)
            await self.manager.edit_once(ctx, row, occurrence, changes, start, timezone)
            return
        await self.manager.edit(ctx, row, changes, start)

    @command("event_cancel", help=N_(
        "Cancel an event: /event_cancel 3 reason=\"the hall is closed\" (scope=series for all)"))
    async def cancel(
        self,
        ctx: Context,
        event: Annotated[int, Param(help=N_("The event's number"), min=1)],
        reason: Annotated[str, Param(help=N_("Why (told to those going)"), max_length=500)],
        scope: Annotated[Literal["one", "series"], Param(help=N_(
            "one: a single occurrence; series: all of them"))] = "one",
        date: Annotated[str, Param(help=N_("Which occurrence, like 2026-03-05 (default: the "
                                             "next)"), max_length=20)] = "",
    ) -> None:
        """Cancel one occurrence or the series, telling those who said yes why."""
        row = await self._event(ctx, event, manage=True)
        if row is None:
            return
        occurrence = None
        if scope == "one" and row.rule:
            occurrence = occurrence_on(row, date, ctx.now(), await self.lifecycle.changes(row))
            if occurrence is None:
                await ctx.reply(ctx.t("Event #{id} has no occurrence on “{date}”. Give a date "
                                      "like 2026-03-05, or leave it out for the next one.",
                                      id=event, date=date), private=True)
                return
        await self.manager.cancel(ctx, row, occurrence, reason.strip())

    # -- answering and attending ----------------------------------------------------------

    @on_button(Rsvp)
    async def rsvp(self, payload: Rsvp, ctx: Context) -> None:
        """Going / maybe / can't, for the series or just this one; promote from the queue."""
        assert ctx.member is not None
        event = await self._event(ctx, payload.event)
        if event is None or payload.choice not in (render.GOING, render.MAYBE, render.NO):
            return
        occurrence = timeline.from_stamp(payload.at)
        changes = await self.lifecycle.changes(event)
        if occurrence in changes.moved:  # a press on a post from before the move
            await ctx.reply(ctx.t("That time has moved to {when}; the post shows it now.",
                                  when=changes.moved[occurrence]), private=True)
            await self.lifecycle.refresh(ctx.community, event.id)
            return
        if (occurrence in changes.excluded
                or occurrence + changes.length(occurrence, length(event)) <= ctx.now()):
            await ctx.reply(ctx.t("That time is over or cancelled; the post shows the next "
                                  "one."), private=True)
            await self.lifecycle.refresh(ctx.community, event.id)
            return
        seats, freed = await self.answers.record(event, occurrence, ctx.member, payload.choice,
                                                 payload.once, ctx.now())
        speaker = await self.lifecycle.speaker_for(ctx, ctx.member)
        await ctx.reply(render.answered(speaker, event, occurrence, payload.choice,
                                        payload.once, seats, ctx.member.id), private=True)
        shared = self.lifecycle.shared(ctx.community, event)
        await self.lifecycle.tell(shared, freed, lambda tr, m: render.with_mention(
            m, render.promoted(tr, event, occurrence)))
        await self.lifecycle.refresh(ctx.community, event.id)

    @on_button(CheckIn)
    async def check_in(self, payload: CheckIn, ctx: Context) -> None:
        """Record attendance while the occurrence runs."""
        assert ctx.member is not None
        event = await self._event(ctx, payload.event)
        if event is None:
            return
        occurrence = timeline.from_stamp(payload.at)
        changes = await self.lifecycle.changes(event)
        if not attendance.running(event, occurrence, ctx.now(), changes):
            await ctx.reply(ctx.t("Check-in is open only while the event runs."), private=True)
            return
        await attendance.record(ctx, self.store, event, occurrence, ctx.member, "checkin")
        await ctx.reply(ctx.t("Checked in to {title}. Thanks for coming!", title=event.title),
                        private=True)

    @command("event_attendance", privilege=Privilege.ADMIN, help=N_(
        "Attendance of an event, or mark a member: /event_attendance 3 @sara"))
    async def attendance_command(
        self,
        ctx: Context,
        event: Annotated[int, Param(help=N_("The event's number"), min=1)],
        member: Annotated[MemberRef | None, Param(help=N_("Mark this member as present"))] = None,
        date: Annotated[str, Param(help=N_("Which occurrence, like 2026-03-05 (default: the "
                                             "latest started)"), max_length=20)] = "",
    ) -> None:
        """Show attendance rates, or mark a member present at a started occurrence."""
        row = await self._event(ctx, event)
        if row is None:
            return
        changes = await self.lifecycle.changes(row)
        if member is None:
            await ctx.reply(await attendance.report(ctx, self.store, self.answers, row,
                                                    changes))
            return
        started = attendance.started(row, ctx.now(), changes)
        occurrence = started[0] if started and not date.strip() else (
            occurrence_on(row, date, ctx.now(), changes) if date.strip() else None)
        if occurrence is None or occurrence > ctx.now():
            await ctx.reply(ctx.t("Attendance can be marked only for an occurrence that has "
                                  "started."), private=True)
            return
        new = await attendance.record(ctx, self.store, row, occurrence, member, "admin")
        name = member.display_name
        await ctx.reply(ctx.t("{name} is marked present on {when}.", name=name, when=occurrence)
                        if new else ctx.t("{name} was marked present already.", name=name),
                        private=True)

    # -- reading ---------------------------------------------------------------------------

    @command("events", help=N_("The upcoming events, in your language and timezone"))
    async def list_events(self, ctx: Context) -> None:
        """The next occurrences of every live event, soonest first."""
        assert ctx.member is not None
        now = ctx.now()
        rows = await self.store.live(ctx.community.key)
        changes = await self.lifecycle.changes_of([r.id for r in rows])
        found = []
        for row in rows:
            own = changes[row.id]
            for when in timeline.upcoming(recurrence(row), now - own.longest(length(row)),
                                          LIST_COUNT, own):
                if when - now <= LIST_AHEAD and when + own.length(when, length(row)) > now:
                    found.append((when, row))
        found.sort(key=lambda item: (item[0], item[1].id))
        items = []
        for when, row in found[:LIST_COUNT]:
            items.append((row, when, await self.answers.seats_at(row, when)))
        speaker = await self.lifecycle.speaker_for(ctx, ctx.member)
        await ctx.reply(render.upcoming_list(speaker, items), private=True)

    @command("event_ics", help=N_("A calendar file: one event's, or the whole community's"))
    async def ics(
        self, ctx: Context,
        event: Annotated[int | None, Param(help=N_("The event's number (none: all)"),
                                           min=1)] = None,
    ) -> None:
        """Send an .ics file to add to a calendar."""
        if event is not None:
            row = await self._event(ctx, event)
            if row is None:
                return
            rows = [row]
        else:
            rows = await self.store.live(ctx.community.key)
        data, filename = await calendar.build(self.lifecycle, ctx, rows,
                                              single=event is not None)
        text = (ctx.t("The calendar file for {title}.", title=rows[0].title) if event
                else ctx.tn("The community calendar: {n} event.",
                            "The community calendar: {n} events.", len(rows)))
        await ctx.reply(text, attachments=[Attachment(filename, data)], private=True)

    @command("event_timezone", help=N_("Show event times in your timezone, like Europe/Berlin"))
    async def timezone(
        self, ctx: Context,
        zone: Annotated[str, Param(help=N_("An IANA timezone, or “reset”"), max_length=64)],
    ) -> None:
        """Choose the timezone event times are shown to you in."""
        assert ctx.member is not None
        if zone.strip().lower() in ("reset", "none", "-"):
            await self.store.set_zone(ctx.community.key, ctx.member.id, None)
            await ctx.reply(ctx.t("Event times are shown in the community's timezone again."),
                            private=True)
            return
        found = find_timezone(zone.strip())
        if found is None:
            hints = ", ".join(timezone_suggestions(zone.strip())) or "Europe/Berlin, Asia/Riyadh"
            await ctx.reply(ctx.t("“{zone}” is not a timezone I know. Try: {hints}.",
                                  zone=zone, hints=hints), private=True)
            return
        await self.store.set_zone(ctx.community.key, ctx.member.id, found)
        await ctx.reply(ctx.t("Event times are shown to you in {zone} now.", zone=found),
                        private=True)

    # -- the job ---------------------------------------------------------------------------

    @job("tick", misfire=Misfire.RUN_LATE)
    async def tick(self, ctx: Context, data: dict[str, Any]) -> None:
        """An event's next moment: a reminder, its start or its end."""
        done = await self.reminders.tick(ctx, data)
        self.log.debug("event %s at %s: %s", data.get("event"), data.get("at"), done)

    # -- privacy ---------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Answers, attendance, chosen timezones and events created."""
        return await self.store.export(member)

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's answers, attendance and timezone; unsign their events."""
        await self.store.forget(member)
