"""Polls: members decide with buttons; the result comes as a picture, with who took part.

Read top-down: the Plugin class here (settings, commands, handlers, jobs, each thin), then
``rules.py`` (what is accepted, quorum and reach, pure), ``activity.py`` (who is active, in
memory), ``store.py`` (every query), ``render.py`` (what members read), ``chart.py`` (the
picture), ``tables.py`` and ``migrations/``.

A poll is a message with one button per option and a "withdraw" button. Votes are rows with
a unique key, written under a per-poll lock, so a repeated press counts once and concurrent
presses never lose a vote. The deadline is a scheduled job (it survives restarts); closing
claims ``closed_at`` with a conditional update, so only one closer posts the results and
emits :class:`bot.PollClosed`.

With ``native=yes`` the platform's own poll is posted instead, when ``ctx.limits.native_poll``
allows this poll (else it is refused up front, with what to do); it gets a row like any
poll. Its votes arrive as :class:`bot.PollAnswered`, whose ``poll_id`` is the id the adapter
delivered the poll under; the row keeps the outbox id and caches that platform id.

Templates (``/poll_template``) make a poll at every occurrence of a recurrence rule through
the same code path as ``/poll``; a poll row keeps its (template, occurrence), which is
unique, so an occurrence never makes two polls.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from bot import (
    N_,
    Capability,
    ChannelRef,
    CommunityRef,
    Context,
    ContributionMade,
    Duration,
    MemberJoined,
    MemberRef,
    MessagePosted,
    Param,
    Plugin,
    PollAnswered,
    Privilege,
    RoleRef,
    command,
    internal_id,
    job,
    on,
    on_button,
)
from plugins.polls import render
from plugins.polls.activity import ActivityBook, Key
from plugins.polls.lifecycle import Lifecycle, NewPoll
from plugins.polls.render import Vote, Withdraw
from plugins.polls.rules import (
    MAX_OPTIONS,
    MAX_QUESTION,
    MAX_TEMPLATES,
    check_template,
    split_options,
    to_rrule,
    voter_key,
)
from plugins.polls.settings import PollsSettings
from plugins.polls.store import PollStore
from plugins.polls.tables import metadata

__all__ = ["Polls", "PollsSettings", "Vote", "Withdraw", "split_options", "to_rrule",
           "voter_key"]


class Polls(Plugin):
    """Button polls with deadlines, quorum, reach and a results chart."""

    name = "polls"
    description = N_("Polls with buttons, deadlines, quorum, a results chart and reach")
    settings = PollsSettings
    tables = metadata
    wants = frozenset({Capability.NATIVE_POLLS, Capability.DIRECT_MESSAGES, Capability.EPHEMERAL})
    stores = N_(
        "Your votes in public polls; for anonymous polls only a keyed fingerprint that lets "
        "you change your vote until the poll closes; when you joined, when you last posted "
        "and how many messages you posted (for poll reach); whether you want poll reminders; "
        "who created each poll template (the templates belong to the community)."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Bind to the kernel; activity lives in memory and is written in batches."""
        super().__init__(*args, **kwargs)
        self.store = PollStore(self.db)
        self.activity = ActivityBook()
        self._changed = self.accumulator(self._write_activity)
        self.lifecycle = Lifecycle(self, self.store, self.activity)
        #: Per native poll: its answers are handled in the order they came (each replaces
        #: the member's whole choice, so an older one applied last would undo a newer one).
        self._answering: dict[str, asyncio.Lock] = {}
        #: Per template, held by its job from reading it to making its poll, and by its
        #: deletion: a poll is never made from a template its creator was told is gone.
        self._templates: dict[int, asyncio.Lock] = {}

    async def open(self, community: CommunityRef) -> None:
        """Load the community's activity once; handlers then count in memory."""
        if not self.activity.is_loaded(community.key):
            async with aclosing(self.store.activity(community.key)) as chunks:
                await self.activity.load_chunks(community.key, chunks)

    async def _write_activity(self, batch: dict[Key, int]) -> None:
        await self.store.write_activity(self.activity.rows(batch))

    async def teardown(self) -> None:
        """Write what is counted in memory."""
        await self._changed.flush()

    # -- activity (for quorum and reach): the hot path, in memory --------------------------

    @on(MessagePosted)
    def seen(self, event: MessagePosted, ctx: Context) -> None:
        """Count the message (private messages to the bot are not community activity)."""
        if event.member.is_bot or event.channel.private:
            return
        key = event.community.key
        self.activity.posted(key, event.member.id, event.at or ctx.now())
        self._changed.add((key, event.member.id))

    @on(MemberJoined)
    def joined(self, event: MemberJoined, ctx: Context) -> None:
        """Remember when the member first joined (newcomers are counted in reach)."""
        key = event.community.key
        self.activity.joined(key, event.member.id, event.at or ctx.now())
        self._changed.add((key, event.member.id), 0)

    # -- creating -------------------------------------------------------------------------

    @command("poll", help=N_('Create a poll: /poll "Question?" "Option A | Option B" duration=3d'))
    async def create(
        self,
        ctx: Context,
        question: Annotated[str, Param(help=N_("The question"), max_length=MAX_QUESTION)],
        options: Annotated[str, Param(help=N_("The options, separated by | or ;"))],
        duration: Annotated[
            Duration | None, Param(help=N_("How long it stays open, like 2h or 3d"))
        ] = None,
        until: Annotated[
            datetime | None, Param(help=N_("When it closes, like 2026-12-01 18:00"))
        ] = None,
        multiple: Annotated[
            int, Param(help=N_("How many options a member may choose"), min=1, max=MAX_OPTIONS)
        ] = 1,
        anonymous: Annotated[bool, Param(help=N_("Hide who chose what, from everyone"))] = False,
        hidden: Annotated[bool, Param(help=N_("Hide the counts until the poll closes"))] = False,
        quorum: Annotated[
            int, Param(help=N_("The fewest voters for the result to count"), min=0, max=1_000_000)
        ] = 0,
        quorum_percent: Annotated[
            int, Param(help=N_("The share of active members who must vote, in %"), min=0, max=100)
        ] = 0,
        native: Annotated[bool, Param(help=N_("Use the platform's own poll"))] = False,
        eligible: Annotated[
            Literal["all", "before_open"], Param(help=N_("Who may vote"))
        ] = "all",
        role: Annotated[
            RoleRef | None, Param(help=N_("Only members with this role may vote"))
        ] = None,
        badge: Annotated[
            str | None, Param(help=N_("Only members with this badge may vote"), max_length=100)
        ] = None,
    ) -> None:
        """Validate, post the poll message with buttons, and schedule its closing."""
        assert ctx.member is not None
        config: PollsSettings = await ctx.settings()
        if not await self._may_create(ctx, config):
            await ctx.reply(ctx.t("Only admins can create polls here."), private=True)
            return
        deadline = until if until is not None else ctx.now() + (
            duration if duration is not None else timedelta(hours=config.default_hours)
        )
        await self.lifecycle.open(ctx, config, NewPoll(
            creator=ctx.member.id, question=question, choices=split_options(options),
            deadline=deadline, multiple=multiple, anonymous=anonymous, hidden=hidden,
            quorum=quorum, quorum_percent=quorum_percent, native=native,
            eligible="role" if role else "badge" if badge else eligible,
            eligible_ref=role.id if role else badge.strip() if badge else None,
        ))

    async def _may_create(self, ctx: Context, config: PollsSettings) -> bool:
        """Whether the member may create polls (and poll templates) here."""
        return config.members_can_create or await ctx.privilege() >= Privilege.MOD

    # -- voting ---------------------------------------------------------------------------

    async def _open_poll(self, ctx: Context, poll_id: int) -> Any:
        row = await self.store.poll(poll_id, ctx.community.key)
        if row is None:
            await ctx.reply(ctx.t("There is no poll #{id} here.", id=poll_id), private=True)
            return None
        if row.closed_at is not None:
            await ctx.reply(ctx.t("Poll #{id} is closed.", id=poll_id), private=True)
            return None
        return row

    @on_button(Vote)
    async def vote(self, payload: Vote, ctx: Context) -> None:
        """Record a choice (once), confirm it privately, and refresh the counts."""
        assert ctx.member is not None
        row = await self._open_poll(ctx, payload.poll)
        if row is None or not 0 <= payload.option < len(row.options):
            return
        if not await self._eligible(ctx, row, ctx.member):
            await ctx.reply(render.who_may_vote(ctx, row), private=True)
            return
        result = await self.store.vote(row, voter_key(row.salt, ctx.member.id), payload.option,
                                       ctx.now())
        await ctx.reply(render.vote_reply(ctx, row, payload.option, result), private=True)
        if result in ("changed", "counted", "unpicked"):
            await self.lifecycle.refresh(ctx.community, row.id)
        if result == "counted":
            await self._voted(ctx, row, ctx.member)

    @on_button(Withdraw)
    async def withdraw(self, payload: Withdraw, ctx: Context) -> None:
        """Take the member's vote back while the poll is open."""
        assert ctx.member is not None
        row = await self._open_poll(ctx, payload.poll)
        if row is None:
            return
        if not await self.store.withdraw(row.id, voter_key(row.salt, ctx.member.id)):
            await ctx.reply(ctx.t("You have not voted in this poll."), private=True)
            return
        await ctx.reply(ctx.t("Your vote is withdrawn."), private=True)
        await self.lifecycle.refresh(ctx.community, row.id)

    @on(PollAnswered)
    async def answered(self, event: PollAnswered, ctx: Context) -> None:
        """A vote in a native poll: the member's whole choice replaces their ballots.

        Taken in arrival order before anything waits: with several database connections
        (PostgreSQL) a later answer's read could otherwise finish first.
        """
        lock = self._answering.setdefault(event.poll_id, asyncio.Lock())
        async with lock:
            row = await self.store.native_poll(ctx.community.key, event.poll_id,
                                               self.kernel.outbox.message_id)
            if row is None or row.closed_at is not None:
                self._answering.pop(event.poll_id, None)  # not ours, or over: no more order
                return
            if not await self._eligible(ctx, row, event.member):
                return
            chosen = sorted({i for i in event.options if 0 <= i < len(row.options)})
            await self.store.replace_choice(row.id, voter_key(row.salt, event.member.id),
                                            chosen[: row.max_choices], event.at or ctx.now())
        if chosen:
            await self._voted(ctx, row, event.member)

    async def _voted(self, ctx: Context, row: Any, member: MemberRef) -> None:
        """Report a member's first vote in a poll as a contribution, once per poll.

        Withdrawing and voting again, or changing one's choice, earns nothing more.
        """
        if await self.store.credit(row.id, voter_key(row.salt, member.id)):
            await self.emit(ContributionMade(
                id=internal_id("polls.voted"), community=ctx.community, at=ctx.now(),
                member=member, kind="poll_voted", ref=f"poll:{row.id}"))

    async def _eligible(self, ctx: Context, row: Any, member: MemberRef) -> bool:
        """Whether the poll's eligibility rule lets ``member`` vote."""
        if row.eligible == "before_open":
            await self.lifecycle.members(ctx.community)
            return self.activity.joined_before(ctx.community.key, member.id, row.opened_at)
        if row.eligible == "role":
            return row.eligible_ref in await self.kernel.member_roles(ctx.community, member)
        if row.eligible == "badge":
            return row.eligible_ref in await self.kernel.member_badges(ctx.community, member)
        return True

    # -- closing --------------------------------------------------------------------------

    @job("close")
    async def deadline_reached(self, ctx: Context, data: dict[str, Any]) -> None:
        """The deadline: close the poll (a no-op if it was closed already)."""
        await self.close(ctx.community, int(data["poll"]))

    async def close(self, community: CommunityRef, poll_id: int) -> bool:
        """Close a poll exactly once (results, chart, PollClosed); False if it was closed."""
        return await self.lifecycle.close(community, poll_id)

    @command("poll_close", help=N_("Close a poll now (its creator or an admin)"))
    async def close_command(
        self, ctx: Context, poll: Annotated[int, Param(help=N_("The poll's number"), min=1)]
    ) -> None:
        """Close a poll before its deadline."""
        assert ctx.member is not None
        row = await self._open_poll(ctx, poll)
        if row is None:
            return
        if row.creator != ctx.member.id and await ctx.privilege() < Privilege.ADMIN:
            await ctx.reply(ctx.t("Only the poll's creator or an admin can close it."),
                            private=True)
            return
        if not await self.close(ctx.community, poll):
            await ctx.reply(ctx.t("Poll #{id} is closed.", id=poll), private=True)

    @command("poll_results", help=N_("Show a poll's results (interim while it is open)"))
    async def results_command(
        self, ctx: Context, poll: Annotated[int, Param(help=N_("The poll's number"), min=1)]
    ) -> None:
        """Show results; hidden polls show interim results to admins only, privately."""
        row = await self.store.poll(poll, ctx.community.key)
        if row is None:
            await ctx.reply(ctx.t("There is no poll #{id} here.", id=poll), private=True)
            return
        is_open = row.closed_at is None
        if is_open and row.hidden and await ctx.privilege() < Privilege.ADMIN:
            await ctx.reply(ctx.t("Results are hidden until the poll closes."), private=True)
            return
        result = await self.lifecycle.outcome_now(ctx.community, row, ctx.now())
        await ctx.reply(render.results(ctx, row, result, final=not is_open),
                        private=is_open and row.hidden)

    # -- reminders -------------------------------------------------------------------------

    @command("poll_remind", help=N_("Turn reminders about polls you have not voted in on or off"))
    async def remind_command(
        self, ctx: Context, state: Annotated[bool, Param(help=N_("on or off"))]
    ) -> None:
        """Opt in or out of reminders before polls close."""
        assert ctx.member is not None
        changed = await self.store.set_reminder(ctx.community.key, ctx.member.id,
                                                ctx.member.name, state)
        if not changed:
            await ctx.reply(
                ctx.t("Your poll reminders are already on.") if state
                else ctx.t("Your poll reminders are already off."),
                private=True,
            )
            return
        await ctx.reply(
            ctx.t("I will remind you before polls close when you have not voted.") if state
            else ctx.t("I will not remind you about polls."),
            private=True,
        )

    @job("remind")
    async def remind(self, ctx: Context, data: dict[str, Any]) -> None:
        """Message members who opted in and have not voted yet, each in their language."""
        row = await self.store.poll(int(data["poll"]), ctx.community.key)
        # run late (after an outage, beside the closing), "closes at" would be past already
        if row is None or row.closed_at is not None or row.deadline <= ctx.now():
            return
        keys = await self.store.voter_keys(row.id)
        for member_id, name in await self.store.reminded(ctx.community.key):
            if voter_key(row.salt, member_id) in keys:
                continue
            member = MemberRef(ctx.community.platform, member_id, name)
            await ctx.dm(member, render.reminder(ctx.for_member(member), row))

    # -- templates (recurring polls) ------------------------------------------------------

    @command("poll_template",
             help=N_('Repeat a poll: /poll_template lunch weekly:mon@09:00 "Where?" "A | B"'))
    async def template_command(
        self,
        ctx: Context,
        name: Annotated[str, Param(help=N_("A short name for the template"), max_length=32)],
        rule: Annotated[str, Param(help=N_(
            "When: weekly:mon@09:00, daily@18:30, monthly:1@09:00 or an RRULE"))],
        question: Annotated[str, Param(help=N_("The question"), max_length=MAX_QUESTION)],
        options: Annotated[str, Param(help=N_("The options, separated by | or ;"))],
        duration: Annotated[
            Duration | None, Param(help=N_("How long each poll stays open, like 2h or 3d"))
        ] = None,
        anonymous: Annotated[bool, Param(help=N_("Hide who chose what, from everyone"))] = False,
        hidden: Annotated[bool, Param(help=N_("Hide the counts until the poll closes"))] = False,
        multiple: Annotated[
            int, Param(help=N_("How many options a member may choose"), min=1, max=MAX_OPTIONS)
        ] = 1,
        quorum: Annotated[
            int, Param(help=N_("The fewest voters for the result to count"), min=0, max=1_000_000)
        ] = 0,
    ) -> None:
        """Store a template and schedule a poll from it at every occurrence of its rule."""
        assert ctx.member is not None
        config: PollsSettings = await ctx.settings()
        if not await self._may_create(ctx, config):
            await ctx.reply(ctx.t("Only admins can create polls here."), private=True)
            return
        name = name.strip().casefold()
        length = duration if duration is not None else timedelta(hours=config.default_hours)
        timezone = self.kernel.communities.timezone(ctx.community)
        error, rrule, upcoming = check_template(ctx, name, rule, question.strip(),
                                                split_options(options), length, multiple,
                                                timezone)
        if error is not None or rrule is None:
            await ctx.reply(error or "", private=True)
            return
        channel = ctx.channel or self.kernel.default_channel(ctx.community) or ChannelRef(
            ctx.community.platform, "")
        made = await self.store.add_template({
            "community": ctx.community.key, "name": name, "channel": channel.id,
            "creator": ctx.member.id, "rule": rule.strip(), "rrule": rrule,
            "question": question.strip(), "options": split_options(options),
            "duration": None if duration is None else int(duration.total_seconds()),
            "max_choices": multiple, "anonymous": anonymous, "hidden": hidden, "quorum": quorum,
            "created_at": ctx.now(),
        }, MAX_TEMPLATES)
        if made == "taken":
            await ctx.reply(ctx.t("There is a template named “{name}” already; delete it "
                                  "first with /poll_template_delete {name}.", name=name),
                            private=True)
            return
        if made == "full":
            await ctx.reply(ctx.tn("A community can have at most {n} poll template.",
                                   "A community can have at most {n} poll templates.",
                                   MAX_TEMPLATES), private=True)
            return
        await self.schedule("template", ctx.community, rule=rrule, key=f"template:{made}",
                            data={"template": made})
        await ctx.reply(ctx.t("Template “{name}” is saved: the next poll is posted here {when}.",
                              name=name, when=upcoming))

    @job("template")
    async def template_due(self, ctx: Context, data: dict[str, Any]) -> None:
        """An occurrence of a template's rule: make its poll (once per occurrence)."""
        template_id = int(data["template"])
        async with self._templates.setdefault(template_id, asyncio.Lock()):
            await self._template_poll(ctx, template_id, data)

    async def _template_poll(self, ctx: Context, template_id: int,
                             data: dict[str, Any]) -> None:
        row = await self.store.template(template_id, ctx.community.key)
        if row is None:
            await self.unschedule("template", ctx.community, f"template:{template_id}")
            return
        config: PollsSettings = await ctx.settings()
        channel = ChannelRef(ctx.community.platform, row.channel) if row.channel else None
        shared = self.context(ctx.community, channel=channel)
        length = (timedelta(seconds=row.duration) if row.duration is not None
                  else timedelta(hours=config.default_hours))
        await self.lifecycle.open(shared, config, NewPoll(
            creator=row.creator, question=row.question, choices=list(row.options),
            deadline=shared.now() + length, multiple=row.max_choices, anonymous=row.anonymous,
            hidden=row.hidden, quorum=row.quorum, template=row.id,
            occurrence=str(data.get("_occurrence") or shared.now().isoformat()),
        ))

    @command("poll_templates", help=N_("List the recurring poll templates and their next run"))
    async def templates_command(self, ctx: Context) -> None:
        """List the community's templates with the time of their next poll."""
        rows = await self.store.templates(ctx.community.key)
        if not rows:
            await ctx.reply(ctx.t("There are no poll templates here. Create one with "
                                  "/poll_template."))
            return
        upcoming = {key.removeprefix("template:"): when
                    for key, when in (await self.next_runs("template", ctx.community)).items()}
        await ctx.reply(render.template_list(ctx, rows, upcoming))

    @command("poll_template_delete", help=N_("Stop a recurring poll and delete its template"))
    async def template_delete_command(
        self, ctx: Context,
        name: Annotated[str, Param(help=N_("The template's name"), max_length=32)],
    ) -> None:
        """Unschedule and delete a template (its creator or a moderator)."""
        assert ctx.member is not None
        name = name.strip().casefold()
        row = await self.store.template_named(ctx.community.key, name)
        if row is None:
            await ctx.reply(ctx.t("There is no poll template named “{name}” here. "
                                  "/poll_templates lists them.", name=name), private=True)
            return
        if row.creator != ctx.member.id and await ctx.privilege() < Privilege.MOD:
            await ctx.reply(ctx.t("Only the template's creator or a moderator can delete it."),
                            private=True)
            return
        async with self._templates.setdefault(row.id, asyncio.Lock()):
            await self.unschedule("template", ctx.community, f"template:{row.id}")
            await self.store.delete_template(row.id)
        self._templates.pop(row.id, None)
        await ctx.reply(ctx.t("Template “{name}” is deleted; no more polls will be made "
                              "from it.", name=name))

    # -- privacy ---------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Public votes, activity, reminder choice, polls and templates created."""
        await self._changed.flush()
        return await self.store.export(member.id, member.platform)

    async def forget(self, member: MemberRef) -> None:
        """Erase the member; their anonymous ballots stay counted under a random key."""
        await self._changed.flush()
        self.activity.forget(member.id, member.platform)
        await self.store.forget(member.id, member.platform)
