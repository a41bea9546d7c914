"""The example plugin: the template maintainers copy (``python run.py new-plugin NAME``).

It greets newcomers with a button, counts waves and messages, cheers at message
milestones and sets reminders with a scheduled job. This module is the table of contents:
the Plugin class with its settings, commands, handlers and jobs, each thin and delegating to
``settings.py`` (the model), ``store.py`` (queries and the batched writer), ``render.py``
(texts and buttons) and ``tables.py`` (tables; revisions in ``migrations/``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from bot import (
    N_,
    CommunityRef,
    Context,
    Duration,
    MemberJoined,
    MemberRef,
    MessagePosted,
    Param,
    Plugin,
    command,
    job,
    on,
    on_button,
)

from . import render
from .render import Wave
from .settings import ExampleSettings
from .store import ExampleStore, PostKey
from .tables import metadata

__all__ = ["Example", "ExampleSettings", "Wave"]


class Example(Plugin):
    """Greets, counts waves and messages, cheers at milestones, sets reminders."""

    name = "example"
    description = N_("A small plugin to copy: greetings, a button, a reminder job")
    settings = ExampleSettings
    tables = metadata
    stores = N_(
        "How many times you waved and how many messages you posted, and reminders you "
        "asked for until they are sent."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up the store, the in-memory counts and their batched writer."""
        super().__init__(*args, **kwargs)
        self.store = ExampleStore(self)
        # Messages per member, per community key: loaded by open(), kept current in memory.
        self.counts: dict[str, dict[str, int]] = {}
        # What is not stored yet; flushed in one transaction at least every second.
        self.posted = self.accumulator(self.store.add_posts)

    # -- life cycle ---------------------------------------------------------------------

    async def open(self, community: CommunityRef) -> None:
        """Load the community's message counts before its first event reaches a handler."""
        self.counts[community.key] = await self.store.post_counts(community.key)

    async def teardown(self) -> None:
        """Write the counts still in memory (at shutdown and before a reload)."""
        await self.posted.flush()

    # -- handlers -----------------------------------------------------------------------

    @on(MessagePosted)
    def count_message(self, event: MessagePosted, ctx: Context) -> None:
        """Count a message in memory; on the hot path, so no database and no waiting."""
        counts = self.counts.setdefault(event.community.key, {})
        total = counts.get(event.member.id, 0) + 1
        counts[event.member.id] = total
        key: PostKey = (event.community.key, event.member.id)
        self.posted.add(key)
        every: int = ctx.config.milestone
        if every and total % every == 0:
            # The rare follow-up that must wait runs as its own task.
            ctx.spawn(ctx.send(render.milestone(ctx, event.member, total)))

    @on(MemberJoined)
    async def greet(self, event: MemberJoined, ctx: Context) -> None:
        """Welcome a newcomer with a button (in the community's language)."""
        config: ExampleSettings = ctx.config
        if not config.greet:
            return
        text, buttons = render.greeting(ctx, event.member)
        await ctx.send(text, buttons=buttons)

    @on_button(Wave)
    async def wave(self, payload: Wave, ctx: Context) -> None:
        """Count the wave and answer the member who pressed."""
        assert ctx.member is not None
        count = await self.store.add_wave(ctx.community.key, ctx.member.id)
        await ctx.reply(render.waved(ctx, count), private=False)

    # -- commands and jobs --------------------------------------------------------------

    @command("remind", help=N_("Remind me of something later, e.g. /remind 2h call Sara"))
    async def remind(
        self,
        ctx: Context,
        after: Annotated[Duration, Param(help=N_("When, like 90m, 2h or 3d"))],
        text: Annotated[str, Param(help=N_("What to remind you of"), max_length=500)],
    ) -> None:
        """Schedule a reminder job for the member."""
        assert ctx.member is not None
        config: ExampleSettings = ctx.config
        if after > timedelta(days=config.max_reminder_days):
            await ctx.reply(render.too_far(ctx, config.max_reminder_days), private=True)
            return
        due = ctx.now() + after
        # No key: every /remind is its own item, so two asked for in the same second both
        # fire (a key built from member and time would make the second replace the first).
        await self.schedule(
            "remind",
            ctx.community,
            at=due,
            data={
                "member": ctx.member.id,
                "name": ctx.member.name,
                "text": text,
                "channel": ctx.channel.id if ctx.channel else None,
            },
            member=ctx.member,
        )
        await ctx.reply(render.will_remind(ctx, due))

    @job("remind")
    async def send_reminder(self, ctx: Context, data: dict[str, Any]) -> None:
        """Post the reminder, mentioning only the member who asked."""
        member = MemberRef(ctx.community.platform, data["member"], data.get("name", ""))
        # A job posts for the community, so it speaks the community's language.
        ctx = self.context(ctx.community, member=member)
        await ctx.send(render.reminder(ctx, member, data["text"]), mentions=[member])

    # -- privacy ------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The member's wave and message counts (the last second's counts included)."""
        await self.posted.flush()
        return await self.store.export(member)

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's counts (their reminders go with the core's schedule)."""
        # Flush first, so no count of theirs still in memory is written after the delete.
        await self.posted.flush()
        await self.store.forget(member)
        for community, counts in self.counts.items():
            if community.startswith(member.platform + ":"):
                counts.pop(member.id, None)
