"""The example plugin: the template maintainers copy (``python run.py new-plugin NAME``).

It greets newcomers with a button, counts waves in its own table, and sets reminders
with a scheduled job — every part a real plugin has, in one small file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot import (
    N_,
    Button,
    ButtonStyle,
    Context,
    Duration,
    MemberJoined,
    MemberRef,
    Payload,
    Plugin,
    command,
    job,
    on,
    on_button,
)
from bot.core.commands import Param
from plugins.example.tables import metadata, waves


class ExampleSettings(BaseModel):
    """What admins can change with /config example."""

    model_config = ConfigDict(extra="forbid")

    greet: bool = Field(default=True, description=N_("Greet members when they join"))
    max_reminder_days: int = Field(
        default=30, ge=1, le=365, description=N_("The longest reminder a member may set, in days")
    )


class Wave(Payload, prefix="example.wave"):
    """The "wave back" button under a greeting."""

    member: str


class Example(Plugin):
    """Greets, counts waves, sets reminders."""

    name = "example"
    description = N_("A small plugin to copy: greetings, a button, a reminder job")
    settings = ExampleSettings
    tables = metadata
    stores = N_("How many times you waved, and reminders you asked for until they are sent.")

    @on(MemberJoined)
    async def greet(self, event: MemberJoined, ctx: Context) -> None:
        """Welcome a newcomer with a button."""
        config: ExampleSettings = await ctx.settings()
        if not config.greet:
            return
        await ctx.send(
            ctx.t("Welcome, {name}! 👋", name=event.member.display_name),
            buttons=[
                Button(
                    ctx.i18n.plain("Wave back"), Wave(event.member.id), style=ButtonStyle.PRIMARY
                )
            ],
        )

    @on_button(Wave)
    async def wave(self, payload: Wave, ctx: Context) -> None:
        """Count the wave and answer the member who pressed."""
        assert ctx.member is not None
        count = await self._add_wave(ctx.community.key, ctx.member.id)
        await ctx.reply(
            ctx.tn("You have waved {n} time.", "You have waved {n} times.", count),
            private=False,
        )

    async def _add_wave(self, community: str, member: str) -> int:
        async with self.db.begin() as conn:
            changed = await conn.execute(
                update(waves)
                .where(waves.c.community == community, waves.c.member == member)
                .values(count=waves.c.count + 1)
            )
            if not changed.rowcount:
                await conn.execute(
                    sqlite_insert(waves).values(community=community, member=member, count=1)
                    if self.db.is_sqlite
                    else waves.insert().values(community=community, member=member, count=1)
                )
            count = (
                await conn.execute(
                    select(waves.c.count).where(
                        waves.c.community == community, waves.c.member == member
                    )
                )
            ).scalar_one()
        return int(count)

    @command("remind", help=N_("Remind me of something later, e.g. /remind 2h call Sara"))
    async def remind(
        self,
        ctx: Context,
        after: Annotated[Duration, Param(help=N_("When, like 90m, 2h or 3d"))],
        text: Annotated[str, Param(help=N_("What to remind you of"), max_length=500)],
    ) -> None:
        """Schedule a reminder job for the member."""
        assert ctx.member is not None
        config: ExampleSettings = await ctx.settings()
        if after > timedelta(days=config.max_reminder_days):
            await ctx.reply(
                ctx.tn(
                    "Reminders can be at most {n} day away.",
                    "Reminders can be at most {n} days away.",
                    config.max_reminder_days,
                ),
                private=True,
            )
            return
        due = ctx.now() + after
        await self.schedule(
            "remind",
            ctx.community,
            at=due,
            key=f"{ctx.member.id}:{int(due.timestamp())}",
            data={
                "member": ctx.member.id,
                "name": ctx.member.name,
                "text": text,
                "channel": ctx.channel.id if ctx.channel else None,
            },
            member=ctx.member,
        )
        await ctx.reply(ctx.t("I will remind you at {when}.", when=due))

    @job("remind")
    async def send_reminder(self, ctx: Context, data: dict[str, Any]) -> None:
        """Post the reminder, mentioning only the member who asked."""
        member = MemberRef(ctx.community.platform, data["member"], data.get("name", ""))
        ctx = self.context(ctx.community, member=member)  # the member's own language
        await ctx.send(
            ctx.t(
                "⏰ {member}, you asked me to remind you: {text}",
                member=ctx.mention(member),
                text=data["text"],
            ),
            mentions=[member],
        )

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The member's wave counts."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(waves.c.community, waves.c.count).where(waves.c.member == member.id)
            )
            return {
                "waves": [
                    {"community": r.community, "count": r.count}
                    for r in rows
                    if r.community.startswith(member.platform + ":")
                ]
            }

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's wave counts (their reminders go with the core's schedule)."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(waves).where(
                    waves.c.member == member.id,
                    waves.c.community.startswith(member.platform + ":"),
                )
            )
