"""The onboarding plugin: greet every newcomer, walk them in, show admins where people drop off.

A join is greeted publicly in the community's language (from a template admins edit) and
the flow is sent privately, in the member's language: accept the rules → pick interests →
an optional introduction prompt → done. Each step can be switched off; ``/onboarding``
resumes. Interests are kept by stable id and announced to other plugins with
:class:`bot.InterestsChosen`. Newcomers graduate after N messages and D days; a member who
finished but never posted is nudged once; a first message is thanked. A burst of joins
(raid guard) is greeted in one batch.

Reading order: this class (what the plugin answers to), then ``welcome.py`` (joins and
greetings), ``flow.py`` (the private steps), ``admin.py`` (setup and funnel),
``progress.py`` (message counts in memory), ``store.py`` (every query), ``render.py``
(every text), ``rules.py`` and ``settings.py``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from bot import (
    N_,
    Capability,
    ChannelRef,
    CommunityRef,
    Context,
    InterestsNamed,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MessagePosted,
    Misfire,
    Param,
    Plugin,
    Privilege,
    command,
    internal_id,
    job,
    on,
    on_button,
)
from plugins.onboarding.admin import Admin
from plugins.onboarding.flow import Flow
from plugins.onboarding.payloads import Accept, Done, SkipIntro, Start, Toggle
from plugins.onboarding.progress import ProgressBook
from plugins.onboarding.rules import render_template, template_problem
from plugins.onboarding.settings import MAX_INTRO, Interest, OnboardingSettings
from plugins.onboarding.store import Store
from plugins.onboarding.tables import metadata
from plugins.onboarding.welcome import Welcome

__all__ = ["Interest", "Onboarding", "OnboardingSettings", "render_template",
           "template_problem"]

SetupAction = Literal[
    "show", "rules", "rules_link", "interest_add", "interest_remove", "interest_rename",
    "interest_label", "interest_role", "starter_role", "newcomer_role", "step", "greeting",
    "preview", "set",
]
#: What Discord's list of choices calls each action (members still type the action).
SETUP_LABELS = (
    ("show", N_("Show the setup")), ("rules", N_("Set the rules")),
    ("rules_link", N_("Set the rules link")), ("interest_add", N_("Add an interest")),
    ("interest_remove", N_("Remove an interest")), ("interest_rename", N_("Rename an interest")),
    ("interest_label", N_("Name an interest in a language")),
    ("interest_role", N_("Give an interest a role")), ("starter_role", N_("Set the starter role")),
    ("newcomer_role", N_("Set the newcomer role")), ("step", N_("Turn a step on or off")),
    ("greeting", N_("Set the greeting")), ("preview", N_("Preview the greeting")),
    ("set", N_("Change a setting")),
)


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
        """Wire the parts; progress lives in memory and is written in batches."""
        super().__init__(app)
        self.store = Store(self.db)
        self.progress = ProgressBook()
        self.welcome = Welcome(self)
        self.flow = Flow(self)
        self.admin = Admin(self)
        self._daily: set[str] = set()
        #: Held while progress is written: a flush called meanwhile (a job's, before it
        #: reads the rows) waits for that write, or it would read the rows without it.
        self._flushing = asyncio.Lock()
        self.kernel.counters.also_flush(self.flush_progress)

    # -- life cycle ---------------------------------------------------------------------

    async def open(self, community: CommunityRef) -> None:
        """Load the members still in progress, so messages are counted without waiting."""
        self.progress.load(community.key, await self.store.load_progress(community.key))

    async def settings_changed(
        self, community: CommunityRef, keys: frozenset[str], channel: ChannelRef | None
    ) -> None:
        """New interests (from /onboarding_setup or /config) are named to other plugins.

        Plugins that keep interests by id (matchmaking) show the new names at once.
        """
        if "interests" not in keys:
            return
        config = await self.config(community)
        assert isinstance(config, OnboardingSettings)
        await self.emit(InterestsNamed(id=internal_id("onboarding.interests_named"),
                                       community=community, **Interest.named(config.interests)))

    async def flush_progress(self) -> None:
        """Write the message progress counted since the last flush (one transaction)."""
        async with self._flushing:
            batch = self.progress.take_dirty()
            if not batch:
                return
            try:
                await self.store.write_progress(batch)
            except Exception:
                self.progress.put_back(batch)
                raise

    async def teardown(self) -> None:
        """Write what is still in memory."""
        await self.flush_progress()

    async def ensure_daily(self, community: CommunityRef) -> None:
        """Schedule the daily graduation check of a community (once per process)."""
        if community.key in self._daily:
            return
        self._daily.add(community.key)
        await self.schedule("graduate", community, rule="FREQ=DAILY;BYHOUR=0;BYMINUTE=5",
                            timezone="UTC", key="daily")

    # -- joins, leaves, messages ----------------------------------------------------------

    @on(MemberJoined)
    async def joined(self, event: MemberJoined, ctx: Context) -> None:
        """Record the join, greet, and send the first step privately."""
        await self.welcome.joined(event, ctx)

    @on(MemberLeft)
    async def left(self, event: MemberLeft, ctx: Context) -> None:
        """Remember the leave; choices stay for a welcome back."""
        await self.welcome.left(ctx, event.member, event.at or ctx.now())

    @on(MessagePosted)
    def posted(self, event: MessagePosted, ctx: Context) -> None:
        """Count a newcomer's messages in memory; thank, graduate or answer only when due.

        The hot path: no database, no waiting. A private message may answer an
        introduction prompt (rare: that runs as its own task).
        """
        member = event.member
        if member.is_bot:
            return
        if event.channel.private:
            if event.text.strip():
                ctx.spawn(self.flow.private_message(event, ctx))
            return
        key = ctx.community.key
        if self.progress.get(key, member.id) is None:
            return  # settled (nearly everyone): not even the settings are read
        config: OnboardingSettings = ctx.config
        step = self.progress.posted(key, member.id, event.at or ctx.now(), config)
        if step:  # rare: a first message or a graduation
            ctx.spawn(self.flow.after_message(event, ctx, config, step))

    # -- the member's flow ----------------------------------------------------------------

    @command("onboarding", help=N_("Start or resume your onboarding"), private=True)
    async def onboarding(self, ctx: Context) -> None:
        """Send the member's current step."""
        assert ctx.member is not None
        await self.flow.proceed(ctx, await ctx.settings(), ctx.member)

    @on_button(Start)
    async def start(self, payload: Start, ctx: Context) -> None:
        """Open the flow for the member who pressed."""
        assert ctx.member is not None
        await self.flow.proceed(ctx, await ctx.settings(), ctx.member)

    @on_button(Accept)
    async def accept(self, payload: Accept, ctx: Context) -> None:
        """Record the acceptance (once) and move on."""
        assert ctx.member is not None
        await self.flow.accept(ctx, ctx.member)

    @on_button(Toggle)
    async def toggle(self, payload: Toggle, ctx: Context) -> None:
        """Pick or unpick an interest and redraw the picker (0 reopens the picker)."""
        assert ctx.member is not None
        await self.flow.toggle(ctx, ctx.member, payload.interest)

    @on_button(Done)
    async def done(self, payload: Done, ctx: Context) -> None:
        """Keep the choice, tell other plugins, grant mapped roles, and move on."""
        assert ctx.member is not None
        await self.flow.done(ctx, ctx.member)

    @command("intro", help=N_("Introduce yourself to the community"))
    async def intro(
        self,
        ctx: Context,
        text: Annotated[str, Param(help=N_("A few words about you"), max_length=MAX_INTRO)] = "",
    ) -> None:
        """Post the member's introduction (anywhere, also in a private chat with the bot)."""
        assert ctx.member is not None
        await self.flow.intro_command(ctx, ctx.member, text)

    @on_button(SkipIntro)
    async def skip_intro(self, payload: SkipIntro, ctx: Context) -> None:
        """Close the introduction step without posting (``/intro`` still works later)."""
        assert ctx.member is not None
        await self.flow.skip_intro(ctx, ctx.member)

    # -- jobs -----------------------------------------------------------------------------

    @job("greet_batch", misfire=Misfire.RUN_LATE)
    async def greet_batch(self, ctx: Context, data: dict[str, Any]) -> None:
        """Greet every member still waiting from a raid, in one message."""
        await self.welcome.greet_batch(ctx)

    @job("graduate", misfire=Misfire.RUN_LATE)
    async def graduate_daily(self, ctx: Context, data: dict[str, Any]) -> None:
        """Graduate every newcomer who meets the conditions."""
        config: OnboardingSettings = await self.config(ctx.community)  # type: ignore[assignment]
        await self.flush_progress()  # the counts in memory decide, not a stale row
        cutoff = self.clock.now() - timedelta(days=config.graduate_days)
        for row in await self.store.due_newcomers(ctx.community.key, config.graduate_messages,
                                                  cutoff):
            await self.flow.graduate(ctx.community, config,
                                     MemberRef(ctx.community.platform, row.member, row.name))

    @job("nudge", misfire=Misfire.RUN_LATE)
    async def nudge(self, ctx: Context, data: dict[str, Any]) -> None:
        """Nudge a member who finished onboarding but has not posted (at most once)."""
        await self.flow.nudge(
            ctx, MemberRef(ctx.community.platform, data["member"], data.get("name", "")))

    # -- admins ---------------------------------------------------------------------------

    @command("onboarding_setup", help=N_("Set up onboarding: rules, interests, roles, steps, "
                                        "greeting"), privilege=Privilege.ADMIN, private=True)
    async def setup_command(
        self,
        ctx: Context,
        action: Annotated[SetupAction, Param(help=N_("What to change"),
                                             labels=SETUP_LABELS)] = "show",
        value: Annotated[str, Param(help=N_("The new value"), max_length=2000)] = "",
    ) -> None:
        """Change one part of the setup; a refused value changes nothing."""
        await self.admin.setup(ctx, action, value)

    @command("onboarding_funnel", help=N_("Where newcomers drop off: joined → rules → "
                                         "interests → first and second message"),
             privilege=Privilege.ADMIN)
    async def funnel(
        self,
        ctx: Context,
        days: Annotated[int, Param(help=N_("How many days back"), min=1, max=365)] = 30,
    ) -> None:
        """Counts and percentages per stage for members who joined in the period."""
        await self.admin.funnel(ctx, days)

    # -- privacy --------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The member's onboarding rows and chosen interest ids."""
        await self.flush_progress()
        return await self.store.export(member)

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's rows and choices, and what memory holds about them."""
        self.progress.forget(member.id, member.platform + ":")
        await self.store.forget(member)

