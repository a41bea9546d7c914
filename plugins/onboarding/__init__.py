"""The onboarding plugin: greet every newcomer, walk them in, show admins where people drop off.

A join is greeted (in the member's language, from a template admins edit) and the flow is
sent privately: accept the rules → pick interests → an optional introduction prompt →
done. Each step can be switched off; ``/onboarding`` resumes. Interests are kept by
stable id and announced to other plugins with :class:`bot.InterestsChosen`. Newcomers
graduate after N messages and D days; a member who finished but never posted is nudged
once; a first message is thanked. A burst of joins (raid guard) is greeted in one batch.
"""

from __future__ import annotations

import asyncio
import string
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import (
    N_,
    Attachment,
    Button,
    ButtonStyle,
    Capability,
    Context,
    InterestsChosen,
    Markup,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MessagePosted,
    Misfire,
    Payload,
    Plugin,
    Privilege,
    Reward,
    RoleRef,
    command,
    escape,
    job,
    on,
    on_button,
)
from bot.core.commands import Param
from bot.core.events import internal_id
from bot.core.refs import ChannelRef, CommunityRef
from plugins.onboarding.chart import funnel_png
from plugins.onboarding.tables import interests as interests_table
from plugins.onboarding.tables import members, metadata

PLACEHOLDERS = ("name", "community", "member_count", "rules_link")
MAX_INTERESTS = 20
MAX_INTRO = 2000  # the intro column's size
STEPS = ("rules", "interests", "intro")


def template_problem(template: str) -> str | None:
    """The first placeholder of ``template`` that is not allowed, or None when it is fine.

    Returns ``"{"`` for a template whose braces do not parse.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return "{"
    for _text, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in PLACEHOLDERS or spec or conversion:
            return field_name or "{}"
    return None


def render_template(template: str, values: dict[str, str]) -> Markup:
    """Fill an admin's template: its text is escaped like user text, and so are the values.

    The same as ``str.format_map`` on escaped text with escaped values, without letting
    escaping touch the placeholder names. The template must pass :func:`template_problem`.
    """
    parts: list[str] = []
    for text, field_name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(escape(text))
        if field_name is not None:
            parts.append(escape(values.get(field_name, "")))
    return Markup("".join(parts))


class Interest(BaseModel):
    """One interest members can pick; ``id`` never changes, ``label`` may."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1)
    label: str = Field(min_length=1, max_length=40)
    role: str | None = Field(default=None, max_length=100)


class OnboardingSettings(BaseModel):
    """What admins change with /onboarding_setup (or /config onboarding)."""

    model_config = ConfigDict(extra="forbid")

    greet: bool = Field(default=True, description=N_("Greet members when they join"))
    greet_in: Literal["channel", "dm"] = Field(
        default="channel", description=N_("Where the greeting goes: channel or dm")
    )
    greeting_channel: str | None = Field(
        default=None, max_length=100,
        description=N_("Channel for greetings (empty: the community's default channel)"),
    )
    template: str = Field(
        default="", max_length=1000,
        description=N_("Greeting template with {name}, {community}, {member_count}, "
                       "{rules_link} (empty: the built-in greeting)"),
    )
    rules_text: str = Field(default="", max_length=2000, description=N_("The rules to accept"))
    rules_link: str = Field(default="", max_length=300, description=N_("A link to the rules"))
    interests: list[Interest] = Field(
        default_factory=list, max_length=MAX_INTERESTS,
        description=N_("Interests members can pick"),
    )
    step_rules: bool = Field(default=True, description=N_("Ask members to accept the rules"))
    step_interests: bool = Field(default=True, description=N_("Ask members to pick interests"))
    step_intro: bool = Field(
        default=True, description=N_("Invite members to introduce themselves")
    )
    starter_role: str | None = Field(
        default=None, max_length=100, description=N_("Role granted when onboarding is finished")
    )
    newcomer_role: str | None = Field(
        default=None, max_length=100, description=N_("Role newcomers hold until they graduate")
    )
    graduate_messages: int = Field(
        default=5, ge=0, le=1000, description=N_("Messages a newcomer posts to graduate")
    )
    graduate_days: int = Field(
        default=7, ge=0, le=365, description=N_("Days a newcomer waits to graduate")
    )
    nudge_hours: int = Field(
        default=24, ge=0, le=720,
        description=N_("Hours after finishing before a silent member is nudged (0: never)"),
    )
    next_step: str = Field(
        default="", max_length=300,
        description=N_("What the thank-you for a first message suggests doing next"),
    )
    raid_joins: int = Field(
        default=10, ge=2, le=1000,
        description=N_("Joins within the raid window that start batching"),
    )
    raid_seconds: int = Field(
        default=60, ge=10, le=3600, description=N_("The raid window, in seconds")
    )
    alert_channel: str | None = Field(
        default=None, max_length=100,
        description=N_("Channel where moderators are alerted (empty: the admin channel)"),
    )
    intro_channel: str | None = Field(
        default=None, max_length=100,
        description=N_("Channel where introductions are posted (empty: the default channel)"),
    )
    intro_max_length: int = Field(
        default=500, ge=20, le=MAX_INTRO,
        description=N_("The longest introduction, in characters"),
    )

    @field_validator("template")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        problem = template_problem(value)
        if problem is not None:
            raise ValueError(
                f"unknown placeholder {{{problem}}}; valid: "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            )
        return value

    @field_validator("interests")
    @classmethod
    def _unique_ids(cls, value: list[Interest]) -> list[Interest]:
        ids = [i.id for i in value]
        if len(ids) != len(set(ids)):
            raise ValueError("interest ids must be unique")
        return value


class Start(Payload, prefix="onboarding.start"):
    """Open (or resume) the flow for whoever presses."""


class Accept(Payload, prefix="onboarding.accept"):
    """Accept the rules."""


class Toggle(Payload, prefix="onboarding.toggle"):
    """Pick or unpick one interest (by its stable id)."""

    interest: int


class Done(Payload, prefix="onboarding.done"):
    """Finish picking interests."""


class SkipIntro(Payload, prefix="onboarding.skip_intro"):
    """Skip the introduction step."""


SetupAction = Literal[
    "show", "rules", "rules_link", "interest_add", "interest_remove", "interest_rename",
    "interest_role", "starter_role", "newcomer_role", "step", "greeting", "preview", "set",
]


class Onboarding(Plugin):
    """Greets, walks newcomers in, graduates them, and reports the funnel."""

    name = "onboarding"
    description = N_("Welcome newcomers: greeting, rules, interests, starter role, funnel")
    settings = OnboardingSettings
    tables = metadata
    wants: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.ROLES, Capability.DIRECT_MESSAGES, Capability.IMAGES}
    )
    stores = N_(
        "When you joined and left, your onboarding progress, the interests you picked, "
        "when you posted your first two messages, whether you are still a newcomer, and the "
        "introduction you posted."
    )

    def __init__(self, app: Any) -> None:
        """Start with empty in-memory state (the database is the source of truth)."""
        super().__init__(app)
        self._settled: set[tuple[str, str]] = set()
        self._joins: dict[str, deque[datetime]] = {}
        self._raid_alerted: dict[str, datetime] = {}
        self._batch_due: set[str] = set()
        self._daily: set[str] = set()
        self._lock = asyncio.Lock()

    # -- database access ---------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction; the plugin's own database work is serialized (see README)."""
        async with self._lock, self.db.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A read, serialized with the plugin's writes."""
        async with self._lock, self.db.connect() as conn:
            yield conn

    # -- joins and leaves ----------------------------------------------------------------

    @on(MemberJoined)
    async def joined(self, event: MemberJoined, ctx: Context) -> None:
        """Record the join (idempotently), then greet now or in the raid batch."""
        member = event.member
        if member.is_bot:
            return
        config: OnboardingSettings = await ctx.settings()
        community = ctx.community.key
        now = event.at or ctx.now()
        raid = self._count_join(community, now, config)
        outcome = await self._record_join(community, member, now, greeted=not raid)
        if outcome == "duplicate":
            return
        self._settled.discard((community, member.id))
        await self._ensure_daily(ctx.community)
        if outcome == "new":
            await ctx.grant(member, self._newcomer_reward(ctx, config))
        if raid:
            await self._raid(ctx, config, now)
            return
        if config.greet:
            await self._greet(ctx, config, member, back=outcome == "back")
        await self._continue(ctx, config, member, quiet=outcome == "back", joining=True)

    @on(MemberLeft)
    async def left(self, event: MemberLeft, ctx: Context) -> None:
        """Remember the leave; choices stay for a welcome back."""
        async with self._write() as conn:
            await conn.execute(
                update(members)
                .where(members.c.community == ctx.community.key,
                       members.c.member == event.member.id)
                .values(left_at=event.at or ctx.now())
            )

    def _count_join(self, community: str, now: datetime, config: OnboardingSettings) -> bool:
        """Note a join; True when the joins in the window exceed the threshold."""
        window = self._joins.setdefault(community, deque())
        window.append(now)
        horizon = now - timedelta(seconds=config.raid_seconds)
        while window and window[0] <= horizon:
            window.popleft()
        return len(window) > config.raid_joins

    async def _record_join(
        self, community: str, member: MemberRef, now: datetime, *, greeted: bool
    ) -> str:
        """Insert or update the member's row: "new", "back", or "duplicate" (still here)."""
        async with self._write() as conn:
            row = (
                await conn.execute(
                    select(members.c.left_at).where(
                        members.c.community == community, members.c.member == member.id
                    )
                )
            ).first()
            if row is None:
                await conn.execute(
                    insert(members).values(
                        community=community, member=member.id, name=member.name,
                        first_joined_at=now, joined_at=now, joined_count=1, greeted=greeted,
                        messages=0, newcomer=True, nudged=False,
                    )
                )
                return "new"
            if row.left_at is None:
                return "duplicate"
            await conn.execute(
                update(members)
                .where(members.c.community == community, members.c.member == member.id)
                .values(joined_at=now, left_at=None, joined_count=members.c.joined_count + 1,
                        name=member.name, greeted=greeted)
            )
            return "back"

    # -- greeting ------------------------------------------------------------------------

    async def _greet(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef, *, back: bool
    ) -> None:
        ctx = self.context(ctx.community, member=member)  # the newcomer's language
        if back:
            text = ctx.t("Welcome back, {name}! Your earlier choices are kept.",
                         name=member.display_name)
        else:
            text = await self._greeting_text(ctx, config, member)
        if config.greet_in == "dm":
            await ctx.dm(member, text)
        else:
            await ctx.send(text, channel=self._channel(ctx, config.greeting_channel))

    async def _greeting_text(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef
    ) -> Markup:
        values = {
            "name": member.display_name,
            "community": str(self.app.community_info(ctx.community).get("name") or ""),
            "member_count": ctx.i18n.number(await self._member_count(ctx.community.key)),
            "rules_link": config.rules_link,
        }
        if config.template:
            return render_template(config.template, values)
        return ctx.t("Welcome to {community}, {name}! 👋", name=values["name"],
                     community=values["community"])

    async def _member_count(self, community: str) -> int:
        async with self._read() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count()).select_from(members).where(
                            members.c.community == community, members.c.left_at.is_(None)
                        )
                    )
                ).scalar_one()
            )

    def _channel(self, ctx: Context, channel_id: str | None) -> ChannelRef | None:
        if not channel_id:
            return None
        return ChannelRef(ctx.community.platform, channel_id, channel_id)

    # -- raid guard ----------------------------------------------------------------------

    async def _raid(self, ctx: Context, config: OnboardingSettings, now: datetime) -> None:
        community = ctx.community.key
        alerted = self._raid_alerted.get(community)
        if alerted is None or now - alerted > timedelta(seconds=config.raid_seconds):
            self._raid_alerted[community] = now
            admin = self.context(ctx.community)
            info = self.app.community_info(ctx.community)
            channel = self._channel(admin, config.alert_channel or info.get("admin_channel"))
            await admin.send(
                admin.tn(
                    "🚨 Moderators: more than {n} member joined within {seconds} seconds. "
                    "I am greeting newcomers in batches; please keep an eye on the community.",
                    "🚨 Moderators: more than {n} members joined within {seconds} seconds. "
                    "I am greeting newcomers in batches; please keep an eye on the community.",
                    config.raid_joins, seconds=config.raid_seconds,
                ),
                channel=channel,
            )
        if community not in self._batch_due:
            self._batch_due.add(community)
            await self.schedule(
                "greet_batch", ctx.community, at=now + timedelta(seconds=config.raid_seconds),
                key="batch",
            )

    @job("greet_batch", misfire=Misfire.RUN_LATE)
    async def greet_batch(self, ctx: Context, data: dict[str, Any]) -> None:
        """Greet every member still waiting from a raid, in one message."""
        community = ctx.community.key
        self._batch_due.discard(community)
        async with self._write() as conn:
            waiting = (
                await conn.execute(
                    select(members.c.member, members.c.name)
                    .where(members.c.community == community, members.c.greeted.is_(False),
                           members.c.left_at.is_(None))
                    .order_by(members.c.joined_at, members.c.member)
                )
            ).all()
            if not waiting:
                return
            await conn.execute(
                update(members)
                .where(members.c.community == community,
                       members.c.member.in_([w.member for w in waiting]))
                .values(greeted=True)
            )
        config: OnboardingSettings = await self.config(ctx.community)  # type: ignore[assignment]
        names = ", ".join(w.name or w.member for w in waiting)
        buttons = []
        if self._interactive_steps(config):
            buttons = [Button(ctx.i18n.plain("Get started"), Start(), style=ButtonStyle.PRIMARY)]
        await ctx.send(
            ctx.tn("Welcome to our {n} new member: {names}! Press the button to get started.",
                   "Welcome to our {n} new members: {names}! Press the button to get started.",
                   len(waiting), names=names)
            if buttons else
            ctx.tn("Welcome to our {n} new member: {names}!",
                   "Welcome to our {n} new members: {names}!", len(waiting), names=names),
            channel=self._channel(ctx, config.greeting_channel),
            buttons=buttons,
        )

    # -- the flow ------------------------------------------------------------------------

    def _interactive_steps(self, config: OnboardingSettings) -> list[str]:
        steps = []
        if config.step_rules and config.rules_text:
            steps.append("rules")
        if config.step_interests and config.interests:
            steps.append("interests")
        return steps

    async def _row(self, community: str, member: str) -> Any:
        async with self._read() as conn:
            return (
                await conn.execute(
                    select(members).where(
                        members.c.community == community, members.c.member == member
                    )
                )
            ).first()

    async def _ensure_row(self, ctx: Context, member: MemberRef) -> Any:
        """The member's row, created for members who joined before the plugin."""
        row = await self._row(ctx.community.key, member.id)
        if row is None:
            await self._record_join(ctx.community.key, member, ctx.now(), greeted=True)
            row = await self._row(ctx.community.key, member.id)
        return row

    async def _continue(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef, *, quiet: bool = False,
        joining: bool = False,
    ) -> None:
        """Send the member's next step privately; finish when nothing is left.

        ``joining``: called for a join, not for something the member did (see _complete).
        """
        ctx = self.context(ctx.community, member=member)
        row = await self._ensure_row(ctx, member)
        now = ctx.now()
        steps = self._interactive_steps(config)
        if row.accepted_at is None and "rules" not in steps:
            await self._stamp(ctx, member, accepted_at=now)
        elif row.accepted_at is None:
            await ctx.dm(
                member,
                ctx.t("📜 **Our rules**\n{rules}\n\nPlease accept them to continue.",
                      rules=config.rules_text),
                buttons=[Button(ctx.i18n.plain("I accept the rules"), Accept(),
                                style=ButtonStyle.PRIMARY)],
            )
            return
        if row.interests_at is None and "interests" not in steps:
            await self._stamp(ctx, member, interests_at=now)
        elif row.interests_at is None:
            await self._picker(ctx, config, member, new=True)
            return
        if row.completed_at is None:
            await self._complete(ctx, config, member, prompt=not joining)
        elif not quiet and config.step_intro and row.intro_at is None:
            await self._ask_intro(ctx, config, member)
        elif not quiet:
            await ctx.dm(member, ctx.t("You have finished onboarding. Press the button to "
                                       "change your interests.")
                         if "interests" in steps else ctx.t("You have finished onboarding."),
                         buttons=[Button(ctx.i18n.plain("Change interests"), Toggle(0))]
                         if "interests" in steps else ())

    async def _stamp(self, ctx: Context, member: MemberRef, **values: Any) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(members)
                .where(members.c.community == ctx.community.key, members.c.member == member.id)
                .values(**values)
            )

    async def _chosen(self, community: str, member: str) -> set[int]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(interests_table.c.interest).where(
                    interests_table.c.community == community, interests_table.c.member == member
                )
            )
            return {r.interest for r in rows}

    async def _picker(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef, *, new: bool
    ) -> None:
        chosen = await self._chosen(ctx.community.key, member.id)
        buttons = [
            [Button(("✅ " if i.id in chosen else "") + i.label, Toggle(i.id),
                    style=ButtonStyle.SUCCESS if i.id in chosen else ButtonStyle.SECONDARY)]
            for i in config.interests
        ]
        buttons.append([Button(ctx.i18n.plain("Done"), Done(), style=ButtonStyle.PRIMARY)])
        text = ctx.t("🎯 What are you interested in? Pick as many as you like, then press Done.")
        row = await self._row(ctx.community.key, member.id)
        if not new and row is not None and row.picker is not None:
            await ctx.edit(row.picker, text, buttons=buttons)
            return
        outbox_id = await ctx.dm(member, text, buttons=buttons)
        await self._stamp(ctx, member, picker=outbox_id)

    async def _complete(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef, *, prompt: bool
    ) -> None:
        """Finish the flow and invite an introduction.

        ``prompt``: the member is taking part (pressed, or used /onboarding), so the prompt
        with its Skip button goes out and their next private message answers it. A flow
        finished by the join alone only mentions /intro: nothing waits for an answer.
        """
        now = ctx.now()
        async with self._write() as conn:
            changed = await conn.execute(
                update(members)
                .where(members.c.community == ctx.community.key, members.c.member == member.id,
                       members.c.completed_at.is_(None))
                .values(completed_at=now)
            )
        if not changed.rowcount:
            return
        if config.starter_role is not None:
            await ctx.grant(member, Reward(
                badge=ctx.i18n.plain("member"),
                role=RoleRef(ctx.community.platform, config.starter_role, config.starter_role),
            ))
        text = ctx.t("🎉 You are all set! Welcome aboard.")
        row = await self._row(ctx.community.key, member.id)
        if config.step_intro and row is not None and row.intro_at is None and prompt:
            await self._ask_intro(ctx, config, member, lead=text)
        elif config.step_intro and row is not None and row.intro is None:
            await ctx.dm(member, text + Markup("\n") + ctx.t(
                "✍️ When you are ready, introduce yourself to the community: send /intro "
                "followed by a few words about you (at most {limit} characters).",
                limit=ctx.i18n.number(config.intro_max_length)))
        else:
            await ctx.dm(member, text)
        if config.nudge_hours and row is not None and row.first_message_at is None:
            await self.schedule(
                "nudge", ctx.community, at=now + timedelta(hours=config.nudge_hours),
                key=f"nudge:{member.id}",
                data={"member": member.id, "name": member.name}, member=member,
            )

    @command("onboarding", help=N_("Start or resume your onboarding"), private=True)
    async def onboarding(self, ctx: Context) -> None:
        """Send the member's current step."""
        assert ctx.member is not None
        config: OnboardingSettings = await ctx.settings()
        await self._continue(ctx, config, ctx.member)

    @on_button(Start)
    async def start(self, payload: Start, ctx: Context) -> None:
        """Open the flow for the member who pressed."""
        assert ctx.member is not None
        config: OnboardingSettings = await ctx.settings()
        await self._continue(ctx, config, ctx.member)

    @on_button(Accept)
    async def accept(self, payload: Accept, ctx: Context) -> None:
        """Record the acceptance (once) and move on."""
        assert ctx.member is not None
        row = await self._ensure_row(ctx, ctx.member)
        if row.accepted_at is None:
            await self._stamp(ctx, ctx.member, accepted_at=ctx.now())
            await ctx.reply(ctx.t("✅ Thank you for accepting the rules."))
        config: OnboardingSettings = await ctx.settings()
        await self._continue(ctx, config, ctx.member, quiet=True)

    @on_button(Toggle)
    async def toggle(self, payload: Toggle, ctx: Context) -> None:
        """Pick or unpick an interest and redraw the picker (0 reopens the picker)."""
        assert ctx.member is not None
        member = ctx.member
        config: OnboardingSettings = await ctx.settings()
        await self._ensure_row(ctx, member)
        if payload.interest == 0:
            await self._picker(ctx, config, member, new=True)
            return
        if payload.interest not in {i.id for i in config.interests}:
            await ctx.reply(ctx.t("That interest no longer exists; here is the current list."))
            await self._picker(ctx, config, member, new=True)
            return
        key = dict(community=ctx.community.key, member=member.id)
        async with self._write() as conn:
            removed = await conn.execute(
                delete(interests_table).where(
                    interests_table.c.community == key["community"],
                    interests_table.c.member == key["member"],
                    interests_table.c.interest == payload.interest,
                )
            )
            if not removed.rowcount:
                await conn.execute(insert(interests_table).values(**key,
                                                                  interest=payload.interest))
        await self._picker(ctx, config, member, new=False)

    @on_button(Done)
    async def done(self, payload: Done, ctx: Context) -> None:
        """Keep the choice, tell other plugins, grant mapped roles, and move on."""
        assert ctx.member is not None
        member = ctx.member
        config: OnboardingSettings = await ctx.settings()
        row = await self._ensure_row(ctx, member)
        chosen = await self._chosen(ctx.community.key, member.id)
        picked = [i for i in config.interests if i.id in chosen]
        if row.interests_at is None:
            await self._stamp(ctx, member, interests_at=ctx.now())
        for interest in config.interests:
            if interest.role and (interest.id in chosen or row.interests_at is not None):
                await ctx.grant(
                    member,
                    Reward(badge=interest.label,
                           role=RoleRef(ctx.community.platform, interest.role, interest.role)),
                    revoke=interest.id not in chosen,
                )
        await ctx.emit(InterestsChosen(
            id=internal_id("onboarding.interests"), community=ctx.community, member=member,
            interests=tuple(str(i.id) for i in picked),
        ))
        await ctx.reply(
            ctx.t("Saved your interests: {interests}.",
                  interests=", ".join(i.label for i in picked))
            if picked else ctx.t("Saved: no interests for now. Use /onboarding to pick later.")
        )
        await self._continue(ctx, config, member, quiet=True)

    # -- the introduction ----------------------------------------------------------------

    async def _ask_intro(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef,
        *, lead: Markup | None = None,
    ) -> None:
        """Invite the member to introduce themselves (their next private message answers)."""
        text = ctx.t(
            "✍️ Introduce yourself to the community: who you are and what brings you here. "
            "Reply to me in our private chat, or send /intro followed by your text (at most "
            "{limit} characters), and I will post it for everyone.",
            limit=ctx.i18n.number(config.intro_max_length),
        )
        if lead is not None:
            text = lead + Markup("\n") + text
        await self._stamp(ctx, member, intro_asked_at=ctx.now())
        await ctx.dm(member, text, buttons=[
            Button(ctx.i18n.plain("Skip"), SkipIntro(), style=ButtonStyle.SECONDARY)])

    async def _intro_row(
        self, community: CommunityRef, member: MemberRef, *, pending: bool, private: bool
    ) -> Any:
        """The member's row the introduction belongs to, or None.

        Its own row in ``community`` when there is one; from a private chat that is a
        community of its own (Telegram), the row on the same platform whose prompt went out
        last. ``pending``: only rows still waiting for the answer to a prompt.
        """
        conditions = [members.c.member == member.id, members.c.left_at.is_(None),
                      members.c.intro.is_(None)]
        if pending:
            conditions += [members.c.intro_asked_at.is_not(None), members.c.intro_at.is_(None)]
        async with self._read() as conn:
            own = (await conn.execute(
                select(members).where(members.c.community == community.key, *conditions)
            )).first()
            if own is not None or not private:
                return own
            return (await conn.execute(
                select(members)
                .where(members.c.community.startswith(community.platform + ":"), *conditions)
                .order_by(members.c.intro_asked_at.desc().nulls_last(),
                          members.c.joined_at.desc())
                .limit(1)
            )).first()

    async def _private_message(self, event: MessagePosted, ctx: Context) -> None:
        """A private message answers a pending introduction prompt; anything else is ignored."""
        row = await self._intro_row(ctx.community, event.member, pending=True, private=True)
        if row is None:
            return
        mine = self.context(CommunityRef.from_key(row.community), member=event.member)
        answer = await self._take_intro(mine, event.member, event.text.strip())
        await mine.dm(event.member, answer)

    async def _take_intro(self, mine: Context, member: MemberRef, text: str) -> Markup:
        """Check, store and post an introduction, closing the step (once); the answer."""
        community = mine.community
        config: OnboardingSettings = await self.config(community)  # type: ignore[assignment]
        limit = config.intro_max_length
        if not config.step_intro:
            return mine.t("Introductions are switched off in this community.")
        if not text:
            return mine.t("Write a few words after /intro, e.g. /intro Hello, I am Sara and I "
                          "love hiking.")
        if len(text) > limit:
            return mine.t("Your introduction has {length} characters; at most {limit} are "
                          "allowed. Please shorten it and send it again.",
                          length=mine.i18n.number(len(text)), limit=mine.i18n.number(limit))
        now = self.clock.now()
        async with self._write() as conn:
            changed = await conn.execute(
                update(members)
                .where(members.c.community == community.key, members.c.member == member.id,
                       members.c.intro.is_(None))
                .values(intro=text, intro_at=func.coalesce(members.c.intro_at, now))
            )
        if not changed.rowcount:
            return mine.t("You have already introduced yourself. Thank you!")
        public = self.context(community)  # the community's language, its default channel
        await public.send(public.t("Please welcome {name}: {text}", name=public.mention(member),
                                   text=text),
                          channel=self._channel(public, config.intro_channel), mentions=[member])
        return mine.t("🙌 Thank you! I posted your introduction.")

    @command("intro", help=N_("Introduce yourself to the community"))
    async def intro(
        self,
        ctx: Context,
        text: Annotated[str, Param(help=N_("A few words about you"), max_length=MAX_INTRO)] = "",
    ) -> None:
        """Post the member's introduction (anywhere, also in a private chat with the bot)."""
        assert ctx.member is not None
        member = ctx.member
        private = ctx.channel is not None and ctx.channel.private
        row = await self._intro_row(ctx.community, member, pending=False, private=private)
        if row is None and not private:
            await self._ensure_row(ctx, member)  # joined before the plugin
            row = await self._intro_row(ctx.community, member, pending=False, private=False)
        if row is None:
            await ctx.reply(ctx.t("You have already introduced yourself. Thank you!"),
                            private=True)
            return
        mine = self.context(CommunityRef.from_key(row.community), member=member)
        await ctx.reply(await self._take_intro(mine, member, text.strip()), private=True)

    @on_button(SkipIntro)
    async def skip_intro(self, payload: SkipIntro, ctx: Context) -> None:
        """Close the introduction step without posting (``/intro`` still works later)."""
        assert ctx.member is not None
        async with self._write() as conn:
            changed = await conn.execute(
                update(members)
                .where(members.c.community == ctx.community.key,
                       members.c.member == ctx.member.id, members.c.intro_at.is_(None))
                .values(intro_at=ctx.now())
            )
        if changed.rowcount:
            await ctx.reply(ctx.t("No problem. If you change your mind, send /intro followed "
                                  "by a few words about yourself."))

    # -- messages: thanks, nudge, graduation ----------------------------------------------

    @on(MessagePosted)
    async def posted(self, event: MessagePosted, ctx: Context) -> None:
        """Count a newcomer's first messages (members past that cost no database access)."""
        if event.channel.private:
            if not event.member.is_bot and event.text.strip():
                await self._private_message(event, ctx)
            return
        key = (ctx.community.key, event.member.id)
        if key in self._settled or event.member.is_bot:
            return
        row = await self._row(*key)
        if row is None or (row.messages >= 2 and not row.newcomer):
            self._settled.add(key)
            return
        now = event.at or ctx.now()
        values: dict[str, Any] = {"messages": row.messages + 1}
        if row.first_message_at is None:
            values["first_message_at"] = now
        elif row.second_message_at is None:
            values["second_message_at"] = now
        async with self._write() as conn:
            await conn.execute(
                update(members)
                .where(members.c.community == key[0], members.c.member == key[1],
                       members.c.messages == row.messages)
                .values(**values)
            )
        config: OnboardingSettings = await ctx.settings()
        if row.first_message_at is None:
            await self.unschedule("nudge", ctx.community, f"nudge:{event.member.id}")
            hint = (escape(config.next_step) if config.next_step
                    else ctx.t("try /help to see what you can do here"))
            await ctx.reply(ctx.t("🙌 Thanks for your first message, {name}! Next: {hint}",
                                  name=event.member.display_name, hint=hint), private=False)
        if row.newcomer and row.messages + 1 >= config.graduate_messages and (
            now - row.joined_at >= timedelta(days=config.graduate_days)
        ):
            await self._graduate(ctx.community, config, event.member)

    def _newcomer_reward(self, ctx: Context, config: OnboardingSettings) -> Reward:
        role = None
        if config.newcomer_role is not None:
            role = RoleRef(ctx.community.platform, config.newcomer_role, config.newcomer_role)
        return Reward(badge=ctx.i18n.plain("newcomer"), role=role)

    async def _graduate(
        self, community: CommunityRef, config: OnboardingSettings, member: MemberRef
    ) -> None:
        async with self._write() as conn:
            changed = await conn.execute(
                update(members)
                .where(members.c.community == community.key, members.c.member == member.id,
                       members.c.newcomer.is_(True))
                .values(newcomer=False, graduated_at=self.clock.now())
            )
        if not changed.rowcount:
            return
        ctx = self.context(community, member=member)
        await ctx.grant(member, self._newcomer_reward(ctx, config), revoke=True)
        await ctx.dm(member, ctx.t("🌱 You are no longer a newcomer. Thank you for being part "
                                   "of the community!"))

    async def _ensure_daily(self, community: CommunityRef) -> None:
        if community.key in self._daily:
            return
        self._daily.add(community.key)
        await self.schedule("graduate", community, rule="FREQ=DAILY;BYHOUR=0;BYMINUTE=5",
                            timezone="UTC", key="daily")

    @job("graduate", misfire=Misfire.RUN_LATE)
    async def graduate_daily(self, ctx: Context, data: dict[str, Any]) -> None:
        """Graduate every newcomer who meets the conditions."""
        config: OnboardingSettings = await self.config(ctx.community)  # type: ignore[assignment]
        cutoff = self.clock.now() - timedelta(days=config.graduate_days)
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    select(members.c.member, members.c.name).where(
                        members.c.community == ctx.community.key,
                        members.c.newcomer.is_(True), members.c.left_at.is_(None),
                        members.c.messages >= config.graduate_messages,
                        members.c.joined_at <= cutoff,
                    ).order_by(members.c.member)
                )
            ).all()
        for r in rows:
            await self._graduate(ctx.community, config,
                                 MemberRef(ctx.community.platform, r.member, r.name))

    @job("nudge", misfire=Misfire.RUN_LATE)
    async def nudge(self, ctx: Context, data: dict[str, Any]) -> None:
        """Nudge a member who finished onboarding but has not posted (at most once)."""
        member = MemberRef(ctx.community.platform, data["member"], data.get("name", ""))
        async with self._write() as conn:
            changed = await conn.execute(
                update(members)
                .where(members.c.community == ctx.community.key, members.c.member == member.id,
                       members.c.nudged.is_(False), members.c.first_message_at.is_(None),
                       members.c.intro.is_(None), members.c.left_at.is_(None))
                .values(nudged=True)
            )
        if not changed.rowcount:
            return
        ctx = self.context(ctx.community, member=member)
        await ctx.dm(member, ctx.t("👋 Hi {name}! We would love to hear from you: say hello "
                                   "in the community whenever you like.",
                                   name=member.display_name))

    # -- admin: setup --------------------------------------------------------------------

    @command("onboarding_setup", help=N_("Set up onboarding: rules, interests, roles, steps, "
                                        "greeting"), privilege=Privilege.ADMIN, private=True)
    async def setup_command(
        self,
        ctx: Context,
        action: Annotated[SetupAction, Param(help=N_("What to change"))] = "show",
        value: Annotated[str, Param(help=N_("The new value"), max_length=2000)] = "",
    ) -> None:
        """Change one part of the setup; a refused value changes nothing."""
        config: OnboardingSettings = await ctx.settings()
        value = value.strip()
        handler = getattr(self, f"_setup_{action}")
        await handler(ctx, config, value)

    async def _save(self, ctx: Context, key: str, value: Any) -> bool:
        from bot.app import SettingError

        try:
            await self.app.set_setting(self, ctx.community, key, value, translator=ctx.i18n)
        except SettingError as exc:
            await ctx.reply(exc.message)
            return False
        return True

    async def _setup_show(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        on_off = {True: ctx.i18n.plain("on"), False: ctx.i18n.plain("off")}
        interests = ", ".join(
            f"{i.id}: {i.label}" + (f" → {i.role}" if i.role else "") for i in config.interests
        ) or ctx.i18n.plain("none")
        none = ctx.i18n.plain("none")
        await ctx.reply(ctx.t(
            "**Onboarding setup**\nSteps: rules {rules}, interests {interests_on}, "
            "introduction {intro}\nInterests: {interests}\nStarter role: {starter}\n"
            "Newcomer role: {newcomer}\nGraduation: {messages} messages and {days} days\n"
            "Raid guard: more than {joins} joins in {seconds} seconds",
            rules=on_off[config.step_rules], interests_on=on_off[config.step_interests],
            intro=on_off[config.step_intro], interests=interests,
            starter=config.starter_role or none, newcomer=config.newcomer_role or none,
            messages=config.graduate_messages, days=config.graduate_days,
            joins=config.raid_joins, seconds=config.raid_seconds,
        ))

    async def _setup_rules(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        if await self._save(ctx, "rules_text", value or None):
            await ctx.reply(ctx.t("Rules saved."))

    async def _setup_rules_link(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        if await self._save(ctx, "rules_link", value or None):
            await ctx.reply(ctx.t("Rules link saved."))

    def _dump(self, items: list[Interest]) -> list[dict[str, Any]]:
        return [i.model_dump() for i in items]

    async def _setup_interest_add(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        if not value:
            await ctx.reply(ctx.t("Give the interest's name, e.g. /onboarding_setup "
                                  "interest_add Books"))
            return
        new_id = max((i.id for i in config.interests), default=0) + 1
        items = [*self._dump(config.interests), {"id": new_id, "label": value}]
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("Added interest {id}: {label}.", id=str(new_id), label=value))

    def _find(self, config: OnboardingSettings, token: str) -> Interest | None:
        token = token.strip()
        return next((i for i in config.interests
                     if str(i.id) == token or i.label.casefold() == token.casefold()), None)

    async def _unknown_interest(
        self, ctx: Context, config: OnboardingSettings, token: str
    ) -> None:
        known = ", ".join(f"{i.id}: {i.label}" for i in config.interests) or ctx.i18n.plain("none")
        await ctx.reply(ctx.t("There is no interest “{token}”. Interests: {known}.",
                              token=token, known=known))

    async def _setup_interest_remove(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        found = self._find(config, value)
        if found is None:
            await self._unknown_interest(ctx, config, value)
            return
        items = [i for i in self._dump(config.interests) if i["id"] != found.id]
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("Removed interest {label}.", label=found.label))

    async def _setup_interest_rename(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        token, _, label = value.partition(" ")
        found = self._find(config, token)
        if found is None or not label.strip():
            if found is None:
                await self._unknown_interest(ctx, config, token)
            else:
                await ctx.reply(ctx.t("Give the id and the new name, e.g. /onboarding_setup "
                                      "interest_rename 1 Reading"))
            return
        items = [dict(i, label=label.strip()) if i["id"] == found.id else i
                 for i in self._dump(config.interests)]
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("Renamed {old} to {new}; members keep their choice.",
                                  old=found.label, new=label.strip()))

    async def _setup_interest_role(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        token, _, role = value.partition(" ")
        found = self._find(config, token)
        if found is None:
            await self._unknown_interest(ctx, config, token)
            return
        role = role.strip().lstrip("@")
        items = [dict(i, role=role or None) if i["id"] == found.id else i
                 for i in self._dump(config.interests)]
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("{label} now grants the role {role}.", label=found.label,
                                  role=role) if role else
                            ctx.t("{label} grants no role now.", label=found.label))

    async def _setup_starter_role(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        role = value.lstrip("@") or None
        if await self._save(ctx, "starter_role", role):
            await ctx.reply(ctx.t("Starter role: {role}.", role=role or ctx.i18n.plain("none")))

    async def _setup_newcomer_role(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        role = value.lstrip("@") or None
        if await self._save(ctx, "newcomer_role", role):
            await ctx.reply(ctx.t("Newcomer role: {role}.", role=role or ctx.i18n.plain("none")))

    async def _setup_step(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        step, _, state = value.partition(" ")
        state = state.strip().lower()
        if step not in STEPS or state not in ("on", "off"):
            await ctx.reply(ctx.t("Use /onboarding_setup step <step> on|off, where step is one "
                                  "of: {steps}.", steps=", ".join(STEPS)))
            return
        if await self._save(ctx, f"step_{step}", state == "on"):
            shown = {"on": ctx.i18n.plain("on"), "off": ctx.i18n.plain("off")}[state]
            await ctx.reply(ctx.t("Step {step} is now {state}.", step=step, state=shown))

    async def _setup_greeting(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        problem = template_problem(value)
        if problem is not None:
            await ctx.reply(ctx.t(
                "The greeting was not saved: “{problem}” is not a placeholder I know. "
                "Valid placeholders: {valid}.",
                problem="{" + problem + "}" if problem != "{" else problem,
                valid=", ".join("{" + p + "}" for p in PLACEHOLDERS),
            ))
            return
        if await self._save(ctx, "template", value or None):
            await ctx.reply(ctx.t("Greeting saved. Use /onboarding_setup preview to see it."))

    async def _setup_preview(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        assert ctx.member is not None
        text = await self._greeting_text(ctx, config, ctx.member)
        await ctx.reply(ctx.t("Preview (only you see this):") + Markup("\n") + text, private=True)

    async def _setup_set(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        key, _, raw = value.partition(" ")
        if await self._save(ctx, key, raw.strip() or None):
            await ctx.reply(ctx.t("Saved {key}.", key=key))

    # -- admin: funnel -------------------------------------------------------------------

    @command("onboarding_funnel", help=N_("Where newcomers drop off: joined → rules → "
                                         "interests → first and second message"),
             privilege=Privilege.ADMIN)
    async def funnel(
        self,
        ctx: Context,
        days: Annotated[int, Param(help=N_("How many days back"), min=1, max=365)] = 30,
    ) -> None:
        """Counts and percentages per stage for members who joined in the period."""
        since = ctx.now() - timedelta(days=days)
        config: OnboardingSettings = await ctx.settings()
        columns = [members.c.accepted_at, members.c.interests_at,
                   members.c.first_message_at, members.c.second_message_at]
        if config.step_intro:  # a switched-off step is not shown
            columns.insert(2, members.c.intro)
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(func.count(), *(func.count(c) for c in columns)).where(
                        and_(members.c.community == ctx.community.key,
                             members.c.joined_at >= since)
                    )
                )
            ).one()
        counts = [int(v) for v in row]
        labels = [ctx.i18n.plain("Joined"), ctx.i18n.plain("Accepted the rules"),
                  ctx.i18n.plain("Picked interests"), ctx.i18n.plain("First message"),
                  ctx.i18n.plain("Second message")]
        if config.step_intro:
            labels.insert(3, ctx.i18n.plain("Introduced themselves"))
        total = counts[0]
        shown = [
            f"{ctx.i18n.number(c)} · {ctx.i18n.percent(c / total if total else 0)}"
            for c in counts
        ]
        lines = [ctx.tn("**Onboarding funnel, last {n} day**",
                        "**Onboarding funnel, last {n} days**", days)]
        lines += [Markup("{label}: {value}").format(label=label, value=value)
                  for label, value in zip(labels, shown, strict=True)]
        attachments = []
        if ctx.has(Capability.IMAGES):
            png = funnel_png(ctx.i18n.plain("Onboarding funnel"), labels, counts, shown,
                             rtl=ctx.i18n.rtl)
            attachments.append(Attachment("onboarding-funnel.png", png, image=True,
                                          description=ctx.i18n.plain("Onboarding funnel")))
        await ctx.reply(Markup("\n").join(lines), attachments=attachments)

    # -- privacy -------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The member's onboarding rows and chosen interest ids."""
        prefix = member.platform + ":"
        async with self._read() as conn:
            rows = (await conn.execute(
                select(members).where(members.c.member == member.id,
                                      members.c.community.startswith(prefix))
            )).all()
            chosen = (await conn.execute(
                select(interests_table).where(interests_table.c.member == member.id,
                                              interests_table.c.community.startswith(prefix))
            )).all()
        out = []
        for r in rows:
            data = {k: (v.isoformat() if isinstance(v, datetime) else v)
                    for k, v in r._mapping.items() if k not in ("member", "picker")}
            data["interests"] = [c.interest for c in chosen if c.community == r.community]
            out.append(data)
        return {"communities": out}

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's rows and choices."""
        prefix = member.platform + ":"
        async with self._write() as conn:
            for table in (members, interests_table):
                await conn.execute(delete(table).where(
                    table.c.member == member.id, table.c.community.startswith(prefix)))
        self._settled = {k for k in self._settled if k[1] != member.id}

