"""What the example plugin says: message texts and buttons, in the context's language.

Strings go through ``ctx.t``/``ctx.tn``/``ctx.i18n.plain`` here, so the catalogs
(``locales/{en,ar}/LC_MESSAGES/example.po``) find them; user text is escaped by ``t``.
"""

from __future__ import annotations

from datetime import datetime

from bot import Button, ButtonStyle, Context, Markup, MemberRef, Payload


class Wave(Payload, prefix="example.wave"):
    """The "wave back" button under a greeting; its meaning survives restarts."""

    member: str


def greeting(ctx: Context, member: MemberRef) -> tuple[Markup, list[Button]]:
    """The welcome for a newcomer and its "Wave back" button."""
    button = Button(ctx.i18n.plain("Wave back"), Wave(member.id), style=ButtonStyle.PRIMARY)
    return ctx.t("Welcome, {name}! 👋", name=member.display_name), [button]


def waved(ctx: Context, count: int) -> Markup:
    """How often the member has waved."""
    return ctx.tn("You have waved {n} time.", "You have waved {n} times.", count)


def too_far(ctx: Context, days: int) -> Markup:
    """A reminder beyond the allowed number of days."""
    return ctx.tn(
        "Reminders can be at most {n} day away.", "Reminders can be at most {n} days away.", days
    )


def will_remind(ctx: Context, due: datetime) -> Markup:
    """The confirmation of a reminder."""
    return ctx.t("I will remind you at {when}.", when=due)


def reminder(ctx: Context, member: MemberRef, text: str) -> Markup:
    """The reminder itself, mentioning the member who asked."""
    return ctx.t(
        "⏰ {member}, you asked me to remind you: {text}", member=ctx.mention(member), text=text
    )


def milestone(ctx: Context, member: MemberRef, count: int) -> Markup:
    """A public cheer when a member's message count reaches a milestone."""
    return ctx.tn(
        "🎉 {member} has now posted {n} message here.",
        "🎉 {member} has now posted {n} messages here.",
        count,
        member=member.display_name,
    )
