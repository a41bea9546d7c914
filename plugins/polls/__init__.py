"""Polls: members decide with buttons; the result comes as a picture, with who took part.

A poll is a message with one button per option and a "withdraw" button. Votes are rows
with a unique key, written under a per-poll lock, so a repeated press counts once and
concurrent presses never lose a vote. The deadline is a scheduled job (it survives
restarts); closing claims ``closed_at`` with a conditional update, so only one closer
posts the results and emits :class:`bot.PollClosed`.

With ``native=yes`` the platform's own poll is posted instead; it gets a row like any poll
(same deadline, results and rules). Its votes arrive as :class:`bot.PollAnswered`, whose
``poll_id`` is the id the adapter delivered the poll under (``Delivered.message_id``); the
row keeps the outbox id and caches that platform id once delivered. ``options`` of a
PollAnswered is the member's whole current choice (empty: withdrawn).

Templates (``/poll_template``) make a poll at every occurrence of a recurrence rule through
the same code path as ``/poll``; a poll row keeps its (template, occurrence), which is
unique, so an occurrence never makes two polls.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import (
    N_,
    Attachment,
    Button,
    ButtonStyle,
    Capability,
    ChannelRef,
    CommunityRef,
    Context,
    Duration,
    Markup,
    MemberJoined,
    MemberRef,
    MessagePosted,
    Payload,
    Plugin,
    PollAnswered,
    PollClosed,
    Privilege,
    RoleRef,
    command,
    job,
    on,
    on_button,
)
from bot.core.commands import Param
from bot.core.events import internal_id
from bot.core.scheduler import ScheduleError, next_occurrence
from plugins.polls.chart import bar_chart
from plugins.polls.tables import activity, ballots, metadata, polls, reminders, templates

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_QUESTION = 300
MAX_OPTION = 100
MAX_DAYS = 365
WINDOW = timedelta(days=30)
USUAL_VOICES = 0.10
LABEL_LIMIT = 80
MAX_TEMPLATES = 25
TEMPLATE_NAME = re.compile(r"[\w-]{1,32}")
WEEKDAYS = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA",
            "sun": "SU"}
#: Raw RRULEs may repeat at most daily (a poll every hour or minute would flood a channel).
RULE_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_FRIENDLY_RULE = re.compile(
    r"(?P<freq>daily|weekly|monthly)(?::(?P<on>[a-z0-9,]+))?@(?P<hour>\d{1,2}):(?P<minute>\d{2})",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class NativeLimits:
    """What a platform's own polls allow."""

    options: int
    option_length: int
    question_length: int
    days: int | None


NATIVE_LIMITS: dict[str, NativeLimits] = {
    "discord": NativeLimits(options=10, option_length=55, question_length=300, days=32),
    "telegram": NativeLimits(options=12, option_length=100, question_length=300, days=None),
}


class PollsSettings(BaseModel):
    """What admins can change with /config polls."""

    model_config = ConfigDict(extra="forbid")

    members_can_create: bool = Field(
        default=False, description=N_("Let every member create polls, not only admins")
    )
    default_hours: int = Field(
        default=72, ge=1, le=24 * MAX_DAYS,
        description=N_("How long a poll stays open when no duration is given, in hours"),
    )
    remind_before_hours: int = Field(
        default=2, ge=1, le=72,
        description=N_("How many hours before a poll closes to remind members who opted in"),
    )


class Vote(Payload, prefix="polls.vote"):
    """A press on an option's button."""

    poll: int
    option: int


class Withdraw(Payload, prefix="polls.withdraw"):
    """A press on "withdraw my vote"."""

    poll: int


@dataclass(slots=True)
class Tally:
    """Counts of one poll at one moment."""

    counts: list[int]
    voters: int

    def share(self, index: int) -> float:
        """The share of voters who chose option ``index``."""
        return self.counts[index] / self.voters if self.voters else 0.0

    def winners(self) -> list[int]:
        """Indexes of the options with the most votes (none when nobody voted)."""
        top = max(self.counts, default=0)
        return [i for i, c in enumerate(self.counts) if c == top] if top else []


@dataclass(slots=True)
class Outcome:
    """Everything a results message says."""

    tally: Tally
    needed: int
    newcomers: float
    beyond_usual: float
    quorum_met: bool = field(init=False)

    def __post_init__(self) -> None:
        self.quorum_met = self.tally.voters >= self.needed


def split_options(text: str) -> list[str]:
    """Options separated by ``|`` or ``;`` (or Arabic ``؛``), blanks dropped."""
    return [part.strip() for part in re.split(r"[|;؛]", text) if part.strip()]


def to_rrule(text: str) -> str | None:
    """The RRULE for a template's rule, or None when it is not one of the accepted forms.

    Accepted: ``weekly:mon@09:00`` (several days as ``mon,thu``), ``daily@18:30``,
    ``monthly:1@09:00`` (days 1-31, several as ``1,15``) and raw RRULE text starting with
    ``FREQ=`` (or ``RRULE:``) that repeats daily or less often. Whether the rule ever fires
    is checked by the caller.
    """
    text = text.strip()
    if text.upper().startswith(("FREQ=", "RRULE:")):
        body = text.upper().removeprefix("RRULE:")
        parts = dict(part.partition("=")[::2] for part in body.split(";") if part)
        if parts.get("FREQ") not in RULE_FREQUENCIES:
            return None
        # Unset minutes and seconds would be taken from the moment the template was made.
        if "BYHOUR" in parts and "BYMINUTE" not in parts:
            body += ";BYMINUTE=0"
        return body if "BYSECOND" in parts else body + ";BYSECOND=0"
    match = _FRIENDLY_RULE.fullmatch(text)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        return None
    at = f"BYHOUR={hour};BYMINUTE={minute};BYSECOND=0"
    freq, on = match["freq"].lower(), (match["on"] or "").lower()
    items = [item for item in on.split(",") if item]
    if freq == "daily":
        return None if items else f"FREQ=DAILY;{at}"
    if not items:
        return None
    if freq == "weekly":
        if any(item not in WEEKDAYS for item in items):
            return None
        return f"FREQ=WEEKLY;BYDAY={','.join(dict.fromkeys(WEEKDAYS[i] for i in items))};{at}"
    if any(not item.isdigit() or not 1 <= int(item) <= 31 for item in items):
        return None
    return f"FREQ=MONTHLY;BYMONTHDAY={','.join(dict.fromkeys(str(int(i)) for i in items))};{at}"


def voter_key(salt: str | None, member: str) -> str:
    """The id a ballot is stored under: the member id, or its HMAC in an anonymous poll."""
    if salt is None:
        return member
    return hmac.new(bytes.fromhex(salt), member.encode(), hashlib.sha256).hexdigest()


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
        """Bind to the app; one lock per poll serialises its ballots."""
        super().__init__(*args, **kwargs)
        self._locks: dict[int, asyncio.Lock] = {}
        self._refreshing: set[int] = set()
        self._stale: set[int] = set()

    def _lock(self, poll_id: int) -> asyncio.Lock:
        lock = self._locks.get(poll_id)
        if lock is None:
            lock = self._locks[poll_id] = asyncio.Lock()
        return lock

    def _insert(self, table: Any) -> Any:
        return sqlite_insert(table) if self.db.is_sqlite else pg_insert(table)

    # -- activity (for quorum and reach) -------------------------------------------------

    @on(MessagePosted)
    async def seen(self, event: MessagePosted, ctx: Context) -> None:
        """Count the message and remember when the member was last active (one statement).

        Private messages to the bot do not count as activity in the community.
        """
        if event.member.is_bot or event.channel.private:
            return
        now = event.at or ctx.now()
        stmt = self._insert(activity).values(
            community=event.community.key, member=event.member.id, last_seen=now, messages=1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[activity.c.community, activity.c.member],
            set_={"last_seen": now, "messages": activity.c.messages + 1},
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)

    @on(MemberJoined)
    async def joined(self, event: MemberJoined, ctx: Context) -> None:
        """Remember when the member first joined (newcomers are counted in reach)."""
        now = event.at or ctx.now()
        stmt = self._insert(activity).values(
            community=event.community.key, member=event.member.id, joined_at=now, messages=0
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[activity.c.community, activity.c.member],
            set_={"joined_at": func.coalesce(activity.c.joined_at, now)},
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)

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
        now = ctx.now()
        deadline = until if until is not None else now + (
            duration if duration is not None else timedelta(hours=config.default_hours)
        )
        await self._open(
            ctx, config, creator=ctx.member.id, question=question, choices=split_options(options),
            deadline=deadline, multiple=multiple, anonymous=anonymous, hidden=hidden,
            quorum=quorum, quorum_percent=quorum_percent, native=native,
            eligible="role" if role else "badge" if badge else eligible,
            eligible_ref=role.id if role else badge.strip() if badge else None,
        )

    async def _may_create(self, ctx: Context, config: PollsSettings) -> bool:
        """Whether the member may create polls (and poll templates) here."""
        return config.members_can_create or await ctx.privilege() >= Privilege.MOD

    async def _open(
        self,
        ctx: Context,
        config: PollsSettings,
        *,
        creator: str | None,
        question: str,
        choices: list[str],
        deadline: datetime,
        multiple: int = 1,
        anonymous: bool = False,
        hidden: bool = False,
        quorum: int = 0,
        quorum_percent: int = 0,
        native: bool = False,
        eligible: str = "all",
        eligible_ref: str | None = None,
        template: int | None = None,
        occurrence: str | None = None,
    ) -> int | None:
        """Validate, store and post a poll and schedule its closing; returns its id.

        A poll made by a template for an occurrence is made once: a second call for the
        same (template, occurrence) returns None and posts nothing.
        """
        question = question.strip()
        now = ctx.now()
        error = self._validate(ctx, question, choices, deadline, multiple)
        if error is not None:
            await ctx.reply(error, private=True)
            return None
        use_native = native and ctx.has(Capability.NATIVE_POLLS)
        if use_native:
            refused = self._native_refusal(ctx, question, choices, deadline)
            if refused is not None:
                await ctx.reply(refused, private=True)
                return None
        elif native:
            await ctx.reply(
                ctx.t("This platform has no native polls, so I made a poll with buttons."),
                private=True,
            )
        values = {
            "community": ctx.community.key,
            "channel": (ctx.channel or self.app.default_channel(ctx.community) or ChannelRef(
                ctx.community.platform, "")).id,
            "creator": creator,
            "question": question,
            "options": choices,
            "max_choices": multiple,
            "anonymous": anonymous,
            "hidden": hidden,
            "quorum": quorum,
            "quorum_percent": quorum_percent,
            "eligible": eligible,
            "eligible_ref": eligible_ref,
            "salt": secrets.token_hex(32) if anonymous else None,
            "opened_at": now,
            "deadline": deadline,
            "native_id": "" if use_native else None,
            "template": template,
            "occurrence": occurrence,
        }
        async with self.db.begin() as conn:
            if template is not None:
                inserted = await conn.execute(
                    self._insert(polls).values(**values).on_conflict_do_nothing(
                        index_elements=[polls.c.template, polls.c.occurrence])
                )
                if not inserted.rowcount:
                    return None  # this occurrence made its poll already
                poll_id = (await conn.execute(select(polls.c.id).where(
                    polls.c.template == template, polls.c.occurrence == occurrence))).scalar_one()
            else:
                inserted = await conn.execute(polls.insert().values(**values))
                poll_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        row = await self._poll(poll_id)
        assert row is not None
        shared = self._shared(ctx.community, row)
        if use_native:
            outbox_id = await shared.native_poll(question, choices, duration=deadline - now,
                                                 multiple=multiple > 1, anonymous=anonymous)
        else:
            text, buttons = await self._render(shared, row)
            outbox_id = await shared.send(text, buttons=buttons)
        async with self.db.begin() as conn:
            await conn.execute(
                update(polls).where(polls.c.id == poll_id).values(message=outbox_id)
            )
        if use_native:
            await ctx.reply(ctx.t("Your native poll is posted."), private=True)
        await self.schedule("close", ctx.community, at=deadline, key=str(poll_id),
                            data={"poll": poll_id})
        remind_at = deadline - timedelta(hours=config.remind_before_hours)
        if remind_at > now:
            await self.schedule("remind", ctx.community, at=remind_at, key=str(poll_id),
                                data={"poll": poll_id})
        return poll_id

    def _validate(
        self, ctx: Context, question: str, choices: list[str], deadline: datetime, multiple: int
    ) -> Markup | None:
        if not question:
            return ctx.t("The poll needs a question.")
        if len(question) > MAX_QUESTION:
            return ctx.t("The question can be at most {max} characters long; yours has {n}.",
                         max=MAX_QUESTION, n=len(question))
        if not MIN_OPTIONS <= len(choices) <= MAX_OPTIONS:
            return ctx.t(
                "A poll needs {min} to {max} options, separated by | or ;. You gave {n}.",
                min=MIN_OPTIONS, max=MAX_OPTIONS, n=len(choices),
            )
        seen: set[str] = set()
        for choice in choices:
            if len(choice) > MAX_OPTION:
                return ctx.t("Each option can be at most {max} characters long; “{option}” "
                             "has {n}.", max=MAX_OPTION, option=choice, n=len(choice))
            if choice.casefold() in seen:
                return ctx.t("“{option}” appears twice; every option must be different.",
                             option=choice)
            seen.add(choice.casefold())
        now = ctx.now()
        if deadline <= now:
            return ctx.t("The poll must close in the future; {when} has passed.", when=deadline)
        if deadline - now > timedelta(days=MAX_DAYS):
            return ctx.tn("A poll can stay open at most {n} day.",
                          "A poll can stay open at most {n} days.", MAX_DAYS)
        if multiple > len(choices):
            return ctx.t("“multiple” can be at most the number of options: {n}.",
                         n=len(choices))
        return None

    def _native_refusal(
        self, ctx: Context, question: str, choices: list[str], deadline: datetime
    ) -> Markup | None:
        limits = NATIVE_LIMITS.get(ctx.community.platform)
        if limits is None:
            return None
        too_long = limits.days is not None and deadline - ctx.now() > timedelta(days=limits.days)
        if (
            len(choices) > limits.options
            or any(len(c) > limits.option_length for c in choices)
            or len(question) > limits.question_length
            or too_long
        ):
            return ctx.t(
                "Native polls here allow at most {options} options of up to {length} "
                "characters and a question of up to {question} characters{days}. Leave out "
                "native=yes to use buttons instead.",
                options=limits.options, length=limits.option_length,
                question=limits.question_length,
                days=ctx.tn(", lasting at most {n} day", ", lasting at most {n} days",
                            limits.days) if limits.days else "",
            )
        return None

    # -- the poll message -------------------------------------------------------------------

    async def _poll(self, poll_id: int, community: CommunityRef | None = None) -> Any:
        query = select(polls).where(polls.c.id == poll_id)
        if community is not None:
            query = query.where(polls.c.community == community.key)
        async with self.db.connect() as conn:
            return (await conn.execute(query)).first()

    def _shared(self, community: CommunityRef, row: Any) -> Context:
        """A context in the community's language for messages everyone reads."""
        channel = ChannelRef(community.platform, row.channel) if row.channel else None
        return self.context(community, channel=channel)

    async def _tally(self, conn: AsyncConnection, row: Any) -> Tally:
        counts = [0] * len(row.options)
        result = await conn.execute(
            select(ballots.c.option, func.count()).where(ballots.c.poll == row.id)
            .group_by(ballots.c.option)
        )
        for option, count in result:
            if 0 <= option < len(counts):
                counts[option] = int(count)
        voters = (await conn.execute(
            select(func.count(func.distinct(ballots.c.voter))).where(ballots.c.poll == row.id)
        )).scalar_one()
        return Tally(counts, int(voters))

    def _lines(self, ctx: Context, row: Any, tally: Tally) -> list[Markup]:
        return [
            ctx.t("{index}. {option} — {votes} ({percent})", index=i + 1, option=option,
                  votes=ctx.tn("{n} vote", "{n} votes", tally.counts[i]),
                  percent=ctx.i18n.percent(tally.share(i)))
            for i, option in enumerate(row.options)
        ]

    async def _render(self, ctx: Context, row: Any) -> tuple[Markup, list[Button]]:
        async with self.db.connect() as conn:
            tally = await self._tally(conn, row)
        parts = [ctx.t("📊 **{question}** (poll #{id})", question=row.question, id=row.id)]
        modes = [
            ctx.t("Single choice.") if row.max_choices == 1 else ctx.tn(
                "Choose up to {n} option.", "Choose up to {n} options.", row.max_choices),
            ctx.t("Anonymous: nobody, admins included, can see who chose what.")
            if row.anonymous else ctx.t("Public: choices are stored with the voter's name."),
        ]
        if row.eligible != "all":
            modes.append(self._who_may_vote(ctx, row))
        parts.append(Markup(" ").join(modes))
        if row.hidden:
            parts.append(ctx.t("Results are hidden until the poll closes."))
        else:
            parts.extend(self._lines(ctx, row, tally))
        parts.append(ctx.tn("{n} member has voted.", "{n} members have voted.", tally.voters))
        parts.append(ctx.t("Closes {when}.", when=row.deadline))
        buttons = [
            Button(option if len(option) <= LABEL_LIMIT else option[: LABEL_LIMIT - 1] + "…",
                   Vote(row.id, i), style=ButtonStyle.PRIMARY)
            for i, option in enumerate(row.options)
        ]
        buttons.append(Button(ctx.i18n.plain("Withdraw my vote"), Withdraw(row.id),
                              style=ButtonStyle.SECONDARY))
        return Markup("\n").join(parts), buttons

    async def _refresh(self, community: CommunityRef, poll_id: int) -> None:
        """Edit the poll message to the current counts; a burst of votes gives few edits."""
        self._stale.add(poll_id)
        if poll_id in self._refreshing:
            return  # the running refresh sees the mark and edits once more
        self._refreshing.add(poll_id)
        try:
            while poll_id in self._stale:
                self._stale.discard(poll_id)
                await self._edit_poll(community, poll_id)
        finally:
            self._refreshing.discard(poll_id)

    async def _edit_poll(self, community: CommunityRef, poll_id: int) -> None:
        row = await self._poll(poll_id)
        if (row is None or row.message is None or row.closed_at is not None
                or row.native_id is not None):
            return
        shared = self._shared(community, row)
        text, buttons = await self._render(shared, row)
        await shared.edit(row.message, text, buttons=buttons, channel=shared.channel)

    # -- voting ---------------------------------------------------------------------------

    async def _open_poll(self, ctx: Context, poll_id: int) -> Any:
        row = await self._poll(poll_id, ctx.community)
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
            await ctx.reply(self._who_may_vote(ctx, row), private=True)
            return
        option = row.options[payload.option]
        key = voter_key(row.salt, ctx.member.id)
        now = ctx.now()
        # Every transaction starts with a write, so SQLite never has to upgrade a read
        # snapshot (which fails under concurrent writers); the lock orders one poll's votes.
        async with self._lock(row.id), self.db.begin() as conn:
            dropped = 0
            if row.max_choices == 1:
                dropped = (await conn.execute(
                    delete(ballots).where(ballots.c.poll == row.id, ballots.c.voter == key,
                                          ballots.c.option != payload.option)
                )).rowcount
            added = (await conn.execute(
                self._insert(ballots).values(poll=row.id, voter=key, option=payload.option,
                                             at=now).on_conflict_do_nothing()
            )).rowcount
            outcome = "changed" if dropped else "counted" if added else "already"
            if added and row.max_choices > 1:
                mine = (await conn.execute(
                    select(func.count()).where(ballots.c.poll == row.id, ballots.c.voter == key)
                )).scalar_one()
                if mine > row.max_choices:
                    await conn.execute(delete(ballots).where(
                        ballots.c.poll == row.id, ballots.c.voter == key,
                        ballots.c.option == payload.option))
                    outcome = "full"
        if outcome == "already":
            text = ctx.t("You already chose “{option}”.", option=option)
        elif outcome == "full":
            text = ctx.tn(
                "You can choose at most {n} option. Withdraw your vote to choose again.",
                "You can choose at most {n} options. Withdraw your vote to choose again.",
                row.max_choices,
            )
        elif outcome == "changed":
            text = ctx.t("You changed your vote to “{option}”.", option=option)
        else:
            text = ctx.t("Your vote for “{option}” is counted.", option=option)
        await ctx.reply(text, private=True)
        if outcome in ("changed", "counted"):
            await self._refresh(ctx.community, row.id)

    @on_button(Withdraw)
    async def withdraw(self, payload: Withdraw, ctx: Context) -> None:
        """Take the member's vote back while the poll is open."""
        assert ctx.member is not None
        row = await self._open_poll(ctx, payload.poll)
        if row is None:
            return
        key = voter_key(row.salt, ctx.member.id)
        async with self._lock(row.id), self.db.begin() as conn:
            gone = (await conn.execute(
                delete(ballots).where(ballots.c.poll == row.id, ballots.c.voter == key)
            )).rowcount
        if not gone:
            await ctx.reply(ctx.t("You have not voted in this poll."), private=True)
            return
        await ctx.reply(ctx.t("Your vote is withdrawn."), private=True)
        await self._refresh(ctx.community, row.id)

    @on(PollAnswered)
    async def answered(self, event: PollAnswered, ctx: Context) -> None:
        """A vote in a native poll: the member's whole choice replaces their ballots."""
        row = await self._native_poll(ctx.community, event.poll_id)
        if row is None or row.closed_at is not None:
            return
        if not await self._eligible(ctx, row, event.member):
            return
        chosen = sorted({i for i in event.options if 0 <= i < len(row.options)})
        chosen = chosen[: row.max_choices]
        key = voter_key(row.salt, event.member.id)
        now = event.at or ctx.now()
        async with self._lock(row.id), self.db.begin() as conn:
            await conn.execute(delete(ballots).where(
                ballots.c.poll == row.id, ballots.c.voter == key,
                ballots.c.option.not_in(chosen)))
            for option in chosen:
                await conn.execute(
                    self._insert(ballots).values(poll=row.id, voter=key, option=option, at=now)
                    .on_conflict_do_nothing()
                )

    async def _native_poll(self, community: CommunityRef, platform_id: str) -> Any:
        """The native poll a platform poll id belongs to (cached once delivered)."""
        query = select(polls).where(polls.c.community == community.key)
        async with self.db.connect() as conn:
            found = (await conn.execute(query.where(polls.c.native_id == platform_id))).first()
            if found is not None or not platform_id:
                return found
            pending = (await conn.execute(query.where(
                polls.c.native_id == "", polls.c.closed_at.is_(None),
                polls.c.message.is_not(None)))).all()
        for row in pending:
            delivered = await self.app.outbox.message_id(row.message)
            if delivered is None:
                continue
            async with self.db.begin() as conn:
                await conn.execute(update(polls).where(polls.c.id == row.id)
                                   .values(native_id=delivered))
            if delivered == platform_id:
                return await self._poll(row.id)
        return None

    async def _eligible(self, ctx: Context, row: Any, member: MemberRef) -> bool:
        """Whether the poll's eligibility rule lets ``member`` vote."""
        if row.eligible == "before_open":
            return await self._joined_before(ctx, row, member)
        if row.eligible == "role":
            return row.eligible_ref in await self.app.member_roles(ctx.community, member)
        if row.eligible == "badge":
            return row.eligible_ref in await self.app.member_badges(ctx.community, member)
        return True

    @staticmethod
    def _who_may_vote(ctx: Context, row: Any) -> Markup:
        if row.eligible == "role":
            return ctx.t("Only members with the role {role} can vote.",
                         role=Markup("`{}`").format(row.eligible_ref))
        if row.eligible == "badge":
            return ctx.t("Only members with the badge “{badge}” can vote.",
                         badge=row.eligible_ref)
        return ctx.t("Only members who joined before the poll opened can vote.")

    async def _joined_before(self, ctx: Context, row: Any, member: MemberRef) -> bool:
        async with self.db.connect() as conn:
            joined = (await conn.execute(
                select(activity.c.joined_at).where(activity.c.community == ctx.community.key,
                                                   activity.c.member == member.id)
            )).scalar_one_or_none()
        return joined is None or joined < row.opened_at

    # -- closing --------------------------------------------------------------------------

    @job("close")
    async def deadline_reached(self, ctx: Context, data: dict[str, Any]) -> None:
        """The deadline: close the poll (a no-op if it was closed already)."""
        await self.close(ctx.community, int(data["poll"]))

    async def close(self, community: CommunityRef, poll_id: int) -> bool:
        """Close a poll exactly once: post results and a chart, emit PollClosed.

        Returns False when the poll was closed already (or does not exist).
        """
        now = self.clock.now()
        async with self.db.begin() as conn:
            claimed = (await conn.execute(
                update(polls).where(polls.c.id == poll_id, polls.c.community == community.key,
                                    polls.c.closed_at.is_(None)).values(closed_at=now)
            )).rowcount
            if not claimed:
                return False
            row = (await conn.execute(select(polls).where(polls.c.id == poll_id))).one()
            outcome = await self._outcome(conn, community, row, now)
            # Without the salt no anonymous ballot can be tied to anyone any more.
            await conn.execute(update(polls).where(polls.c.id == poll_id).values(salt=None))
        await self.unschedule("close", community, str(poll_id))
        await self.unschedule("remind", community, str(poll_id))
        shared = self._shared(community, row)
        text = self._results_text(shared, row, outcome, final=True)
        tally = outcome.tally
        chart = bar_chart(row.question, row.options, tally.counts, rtl=shared.i18n.rtl,
                          highlight=tally.winners())
        if row.message is not None and row.native_id is None:
            await shared.edit(row.message, shared.t("📊 **{question}** (poll #{id}) — closed.",
                                                    question=row.question, id=row.id),
                              channel=shared.channel)
        await shared.send(text, attachments=[Attachment(f"poll-{row.id}.png", chart, image=True)])
        winners = tally.winners()
        await self.emit(PollClosed(
            id=internal_id("polls.closed"), community=community, at=now, poll_id=row.id,
            question=row.question,
            options=tuple((o, tally.counts[i]) for i, o in enumerate(row.options)),
            winners=tuple(row.options[i] for i in winners), tie=len(winners) > 1,
            quorum_met=outcome.quorum_met, voters=tally.voters,
            newcomer_share=outcome.newcomers, beyond_usual_share=outcome.beyond_usual,
        ))
        self._locks.pop(poll_id, None)
        return True

    async def _outcome(
        self, conn: AsyncConnection, community: CommunityRef, row: Any, now: datetime
    ) -> Outcome:
        """Counts, quorum and reach; anonymous voters are matched in memory only."""
        tally = await self._tally(conn, row)
        keys = {v for (v,) in await conn.execute(
            select(ballots.c.voter).where(ballots.c.poll == row.id).distinct())}
        members = (await conn.execute(
            select(activity.c.member, activity.c.joined_at, activity.c.last_seen,
                   activity.c.messages).where(activity.c.community == community.key)
        )).all()
        since = now - WINDOW
        active = sum(1 for m in members if m.last_seen is not None and m.last_seen >= since)
        needed = max(row.quorum, math.ceil(row.quorum_percent * active / 100))
        ranked = sorted((m for m in members if m.messages > 0),
                        key=lambda m: (-m.messages, m.member))
        usual = {m.member for m in ranked[: max(1, int(len(members) * USUAL_VOICES))]}
        newcomers = beyond = 0
        known = 0
        for m in members:
            if voter_key(row.salt, m.member) not in keys:
                continue
            known += 1
            newcomers += m.joined_at is not None and m.joined_at >= since
            beyond += m.member not in usual
        beyond += tally.voters - known  # voters we never saw post are not usual voices
        voters = tally.voters
        return Outcome(tally, needed, newcomers / voters if voters else 0.0,
                       beyond / voters if voters else 0.0)

    def _results_text(self, ctx: Context, row: Any, outcome: Outcome, *, final: bool) -> Markup:
        tally = outcome.tally
        if final:
            head = ctx.t("🗳 Poll #{id} is closed: **{question}**", id=row.id,
                         question=row.question)
        else:
            head = ctx.t("🗳 Interim results of poll #{id}: **{question}**", id=row.id,
                         question=row.question)
        parts = [head, *self._lines(ctx, row, tally)]
        parts.append(ctx.tn("{n} member voted.", "{n} members voted.", tally.voters))
        winners = tally.winners()
        if not winners:
            parts.append(ctx.t("No votes were cast."))
        elif len(winners) == 1:
            parts.append(ctx.t("Winner: **{option}**.", option=row.options[winners[0]]))
        else:
            quoted = [ctx.i18n.plain("“{option}”", option=row.options[i]) for i in winners]
            parts.append(ctx.t("Tie between {options}.",
                               options=ctx.i18n.plain(", ").join(quoted)))
        if outcome.needed:
            parts.append(
                ctx.tn("Quorum met: {voters} voted, {n} needed.",
                       "Quorum met: {voters} voted, {n} needed.", outcome.needed,
                       voters=tally.voters)
                if outcome.quorum_met else
                ctx.tn("Quorum not met: {voters} voted, {n} needed; the result is not binding.",
                       "Quorum not met: {voters} voted, {n} needed; the result is not binding.",
                       outcome.needed, voters=tally.voters)
            )
        if tally.voters:
            parts.append(ctx.t(
                "Reach: {newcomers} of voters joined in the last 30 days; {beyond} are not "
                "among the most active 10% of members.",
                newcomers=ctx.i18n.percent(outcome.newcomers),
                beyond=ctx.i18n.percent(outcome.beyond_usual),
            ))
        return Markup("\n").join(parts)

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
        row = await self._poll(poll, ctx.community)
        if row is None:
            await ctx.reply(ctx.t("There is no poll #{id} here.", id=poll), private=True)
            return
        is_open = row.closed_at is None
        private = False
        if is_open and row.hidden:
            if await ctx.privilege() < Privilege.ADMIN:
                await ctx.reply(ctx.t("Results are hidden until the poll closes."),
                                private=True)
                return
            private = True
        async with self.db.connect() as conn:
            outcome = await self._outcome(conn, ctx.community, row, row.closed_at or ctx.now())
        await ctx.reply(self._results_text(ctx, row, outcome, final=not is_open),
                        private=private)

    # -- reminders -------------------------------------------------------------------------

    @command("poll_remind", help=N_("Turn reminders about polls you have not voted in on or off"))
    async def remind_command(
        self, ctx: Context, state: Annotated[bool, Param(help=N_("on or off"))]
    ) -> None:
        """Opt in or out of reminders before polls close."""
        assert ctx.member is not None
        async with self.db.begin() as conn:
            await conn.execute(delete(reminders).where(
                reminders.c.community == ctx.community.key, reminders.c.member == ctx.member.id))
            if state:
                await conn.execute(reminders.insert().values(
                    community=ctx.community.key, member=ctx.member.id, name=ctx.member.name))
        await ctx.reply(
            ctx.t("I will remind you before polls close when you have not voted.") if state
            else ctx.t("I will not remind you about polls."),
            private=True,
        )

    @job("remind")
    async def remind(self, ctx: Context, data: dict[str, Any]) -> None:
        """Message members who opted in and have not voted yet."""
        row = await self._poll(int(data["poll"]), ctx.community)
        if row is None or row.closed_at is not None:
            return
        async with self.db.connect() as conn:
            keys = {v for (v,) in await conn.execute(
                select(ballots.c.voter).where(ballots.c.poll == row.id).distinct())}
            wanted = (await conn.execute(
                select(reminders.c.member, reminders.c.name)
                .where(reminders.c.community == ctx.community.key)
                .order_by(reminders.c.member)
            )).all()
        for member_id, name in wanted:
            if voter_key(row.salt, member_id) in keys:
                continue
            member = MemberRef(ctx.community.platform, member_id, name)
            personal = self.context(ctx.community, member=member)
            await personal.dm(member, personal.t(
                "Poll #{id} “{question}” closes {when} and you have not voted yet.",
                id=row.id, question=row.question, when=row.deadline))

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
        if not TEMPLATE_NAME.fullmatch(name):
            await ctx.reply(ctx.t(
                "A template name is one word of up to {max} letters, digits, - or _, "
                "like “lunch”.", max=32), private=True)
            return
        now = ctx.now()
        timezone = await self.app.timezone_of(ctx.community)
        rrule = to_rrule(rule)
        upcoming: datetime | None = None
        if rrule is not None:
            try:
                # as the scheduler reckons the first run (now itself counts)
                upcoming = next_occurrence(rrule, timezone, now, now - timedelta(microseconds=1))
            except (ScheduleError, ValueError, TypeError, KeyError):
                rrule = None
        if rrule is None:
            await ctx.reply(ctx.t(
                "“{rule}” is not a schedule I understand. Use weekly:mon@09:00 (several days "
                "as mon,thu), daily@18:30, monthly:1@09:00 (day 1 to 31), or an RRULE such "
                "as FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0 that repeats at most daily. "
                "Times are in the community's timezone ({timezone}).",
                rule=rule, timezone=timezone), private=True)
            return
        if upcoming is None:
            await ctx.reply(ctx.t("“{rule}” never happens again, so no poll would be made.",
                                  rule=rule), private=True)
            return
        choices = split_options(options)
        length = duration if duration is not None else timedelta(hours=config.default_hours)
        error = self._validate(ctx, question.strip(), choices, now + length, multiple)
        if error is not None:
            await ctx.reply(error, private=True)
            return
        async with self.db.begin() as conn:
            count = (await conn.execute(select(func.count()).where(
                templates.c.community == ctx.community.key))).scalar_one()
            taken = (await conn.execute(select(templates.c.id).where(
                templates.c.community == ctx.community.key, templates.c.name == name))).first()
            if taken is None and count < MAX_TEMPLATES:
                inserted = await conn.execute(templates.insert().values(
                    community=ctx.community.key, name=name,
                    channel=(ctx.channel or self.app.default_channel(ctx.community)
                             or ChannelRef(ctx.community.platform, "")).id,
                    creator=ctx.member.id, rule=rule.strip(), rrule=rrule,
                    question=question.strip(), options=choices,
                    duration=None if duration is None else int(duration.total_seconds()),
                    max_choices=multiple, anonymous=anonymous, hidden=hidden, quorum=quorum,
                    created_at=now,
                ))
                template_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        if taken is not None:
            await ctx.reply(ctx.t("There is a template named “{name}” already; delete it "
                                  "first with /poll_template_delete {name}.", name=name),
                            private=True)
            return
        if count >= MAX_TEMPLATES:
            await ctx.reply(ctx.tn("A community can have at most {n} poll template.",
                                   "A community can have at most {n} poll templates.",
                                   MAX_TEMPLATES), private=True)
            return
        await self.schedule("template", ctx.community, rule=rrule, key=f"template:{template_id}",
                            data={"template": template_id})
        await ctx.reply(ctx.t("Template “{name}” is saved: the next poll is posted here {when}.",
                              name=name, when=upcoming))

    @job("template")
    async def template_due(self, ctx: Context, data: dict[str, Any]) -> None:
        """An occurrence of a template's rule: make its poll (once per occurrence)."""
        template_id = int(data["template"])
        async with self.db.connect() as conn:
            row = (await conn.execute(select(templates).where(
                templates.c.id == template_id, templates.c.community == ctx.community.key)
            )).first()
        if row is None:
            await self.unschedule("template", ctx.community, f"template:{template_id}")
            return
        config: PollsSettings = await ctx.settings()
        channel = ChannelRef(ctx.community.platform, row.channel) if row.channel else None
        shared = self.context(ctx.community, channel=channel)
        length = (timedelta(seconds=row.duration) if row.duration is not None
                  else timedelta(hours=config.default_hours))
        await self._open(
            shared, config, creator=row.creator, question=row.question,
            choices=list(row.options), deadline=shared.now() + length,
            multiple=row.max_choices, anonymous=row.anonymous, hidden=row.hidden,
            quorum=row.quorum, template=row.id,
            occurrence=str(data.get("_occurrence") or shared.now().isoformat()),
        )

    @command("poll_templates", help=N_("List the recurring poll templates and their next run"))
    async def templates_command(self, ctx: Context) -> None:
        """List the community's templates with the time of their next poll."""
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(templates).where(
                templates.c.community == ctx.community.key).order_by(templates.c.name))).all()
        if not rows:
            await ctx.reply(ctx.t("There are no poll templates here. Create one with "
                                  "/poll_template."))
            return
        upcoming = {key.removeprefix("template:"): when
                    for key, when in (await self.next_runs("template", ctx.community)).items()}
        parts = [ctx.tn("{n} poll template:", "{n} poll templates:", len(rows))]
        for row in rows:
            when = upcoming.get(str(row.id))
            parts.append(
                ctx.t("• **{name}** ({rule}): “{question}” — next {when}", name=row.name,
                      rule=row.rule, question=row.question, when=when)
                if when is not None else
                ctx.t("• **{name}** ({rule}): “{question}” — no further runs", name=row.name,
                      rule=row.rule, question=row.question)
            )
        await ctx.reply(Markup("\n").join(parts))

    @command("poll_template_delete", help=N_("Stop a recurring poll and delete its template"))
    async def template_delete_command(
        self, ctx: Context,
        name: Annotated[str, Param(help=N_("The template's name"), max_length=32)],
    ) -> None:
        """Unschedule and delete a template (its creator or a moderator)."""
        assert ctx.member is not None
        name = name.strip().casefold()
        async with self.db.connect() as conn:
            row = (await conn.execute(select(templates).where(
                templates.c.community == ctx.community.key, templates.c.name == name))).first()
        if row is None:
            await ctx.reply(ctx.t("There is no poll template named “{name}” here. "
                                  "/poll_templates lists them.", name=name), private=True)
            return
        if row.creator != ctx.member.id and await ctx.privilege() < Privilege.MOD:
            await ctx.reply(ctx.t("Only the template's creator or a moderator can delete it."),
                            private=True)
            return
        await self.unschedule("template", ctx.community, f"template:{row.id}")
        async with self.db.begin() as conn:
            await conn.execute(delete(templates).where(templates.c.id == row.id))
        await ctx.reply(ctx.t("Template “{name}” is deleted; no more polls will be made "
                              "from it.", name=name))

    # -- privacy ---------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Public votes, activity, reminder choice, polls and templates created.

        Anonymous votes are never exported.
        """
        prefix = member.platform + ":"
        async with self.db.connect() as conn:
            votes = (await conn.execute(
                select(polls.c.id, polls.c.question, polls.c.options, ballots.c.option)
                .join(ballots, ballots.c.poll == polls.c.id)
                .where(ballots.c.voter == member.id, polls.c.anonymous.is_(False),
                       polls.c.community.startswith(prefix))
            )).all()
            seen = (await conn.execute(
                select(activity).where(activity.c.member == member.id,
                                       activity.c.community.startswith(prefix))
            )).all()
            reminded = (await conn.execute(
                select(reminders.c.community).where(reminders.c.member == member.id,
                                                    reminders.c.community.startswith(prefix))
            )).all()
            created = (await conn.execute(
                select(polls.c.id, polls.c.question).where(polls.c.creator == member.id,
                                                           polls.c.community.startswith(prefix))
            )).all()
            made = (await conn.execute(
                select(templates.c.community, templates.c.name, templates.c.question)
                .where(templates.c.creator == member.id,
                       templates.c.community.startswith(prefix))
            )).all()
        return {
            "votes": [{"poll": v.id, "question": v.question, "option": v.options[v.option]}
                      for v in votes],
            "activity": [{"community": a.community, "messages": a.messages,
                          "joined_at": a.joined_at.isoformat() if a.joined_at else None,
                          "last_seen": a.last_seen.isoformat() if a.last_seen else None}
                         for a in seen],
            "reminders": [r.community for r in reminded],
            "created": [{"poll": c.id, "question": c.question} for c in created],
            "templates": [{"community": t.community, "template": t.name, "question": t.question}
                          for t in made],
        }

    async def forget(self, member: MemberRef) -> None:
        """Erase the member; their anonymous ballots stay counted under a random key."""
        prefix = member.platform + ":"
        async with self.db.begin() as conn:
            mine = (await conn.execute(
                select(polls.c.id, polls.c.salt, polls.c.anonymous)
                .where(polls.c.community.startswith(prefix))
            )).all()
            for poll_id, salt, anonymous in mine:
                if not anonymous:
                    await conn.execute(delete(ballots).where(ballots.c.poll == poll_id,
                                                             ballots.c.voter == member.id))
                elif salt is not None:
                    await conn.execute(
                        update(ballots)
                        .where(ballots.c.poll == poll_id,
                               ballots.c.voter == voter_key(salt, member.id))
                        .values(voter=secrets.token_hex(32))
                    )
            await conn.execute(update(polls).where(polls.c.creator == member.id,
                                                   polls.c.community.startswith(prefix))
                               .values(creator=None))
            # Templates belong to the community: they stay, without their creator.
            await conn.execute(update(templates).where(templates.c.creator == member.id,
                                                       templates.c.community.startswith(prefix))
                               .values(creator=None))
            for table in (activity, reminders):
                await conn.execute(delete(table).where(table.c.member == member.id,
                                                       table.c.community.startswith(prefix)))
