"""What members read: the event post and its buttons, previews, reminders, lists, reports."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import Button, ButtonStyle, Context, Markup, MemberRef, Payload
from plugins.events.rsvp import Seats

#: What a member may answer (stored as these words).
GOING, MAYBE, NO = "going", "maybe", "no"


class Rsvp(Payload, prefix="events.rsvp"):
    """A press on going / maybe / can't; ``once``: only for this occurrence."""

    event: int
    at: int  # the occurrence, a UTC timestamp
    choice: str
    once: bool


class CheckIn(Payload, prefix="events.checkin"):
    """A press on "I'm here" while an occurrence runs."""

    event: int
    at: int


class Confirm(Payload, prefix="events.confirm"):
    """The creator confirms the previewed event: it is posted."""

    event: int


class Discard(Payload, prefix="events.discard"):
    """The creator drops the previewed event."""

    event: int


class Speaker(Protocol):
    """A translator (``ctx.i18n``, ``ctx.for_member(...)``): strings and dates."""

    timezone: str

    def t(self, message: str, /, **values: Any) -> Markup:
        """A translated template, values filled (and escaped)."""

    def tn(self, singular: str, plural: str, n: int, /, **values: Any) -> Markup:
        """The plural form for ``n``."""

    def plain(self, message: str, /, **values: Any) -> str:
        """A translation without markup (button labels)."""

    def datetime(self, when: datetime, fmt: str | None = None) -> str:
        """A moment in ``timezone``."""

    def duration(self, delta: timedelta) -> str:
        """A duration in words."""

    def percent(self, fraction: float) -> str:
        """A fraction as a percentage."""


def in_zone(speaker: Speaker, zone: str | None) -> Speaker:
    """The same translator showing dates in ``zone`` (a member's own timezone)."""
    if not zone or zone == speaker.timezone:
        return speaker
    other = copy.copy(speaker)
    other.timezone = zone
    return other


def stamp(when: datetime) -> int:
    """An occurrence as the whole-second timestamp buttons carry."""
    return int(when.timestamp())


def counts(tr: Speaker, seats: Seats, capacity: int) -> Markup:
    """"3 going (of 10) · 2 waiting · 1 maybe · 4 can't"."""
    going = len(seats.going)
    parts = [tr.tn("{n} going", "{n} going", going) if not capacity
             # English names the places once, as "of 5 places" would have to agree with 5
             # and the form follows n (the Arabic forms read by it: "حُجز مكانان من 5")
             else tr.tn("Places taken: {n} of {capacity}", "Places taken: {n} of {capacity}",
                        going, capacity=capacity)]
    if seats.waitlist:
        parts.append(tr.tn("{n} on the waitlist", "{n} on the waitlist", len(seats.waitlist)))
    if seats.maybe:
        parts.append(tr.tn("{n} maybe", "{n} maybe", len(seats.maybe)))
    if seats.no:
        parts.append(tr.tn("{n} can't come", "{n} can't come", len(seats.no)))
    return Markup(" · ").join(parts)


def header(tr: Speaker, event: Any) -> Markup:
    """"📅 **Title** (event #3)"."""
    return tr.t("📅 **{title}** (event #{id})", title=event.title, id=event.id)


def details(tr: Speaker, event: Any, occurrence: datetime | None) -> list[Markup]:
    """When, how long, where and what, one line each."""
    lines: list[Markup] = []
    if occurrence is not None:
        lines.append(tr.t("🕒 {when} · {length}", when=occurrence,
                          length=timedelta(seconds=event.duration)))
    if event.rule:
        lines.append(tr.t("🔁 Repeats; an answer counts for the next times too, unless you "
                          "pick “just this one”."))
    if event.place:
        lines.append(tr.t("📍 {place}", place=event.place))
    if event.description:
        lines.append(Markup("{}").format(event.description))
    return lines


def post(
    tr: Speaker, event: Any, occurrence: datetime | None, seats: Seats | None, running: bool
) -> tuple[Markup, list[list[Button]]]:
    """The event's post: what, when, live counts and the RSVP (and check-in) buttons."""
    parts = [header(tr, event)]
    if event.status == "cancelled":
        parts.append(tr.t("❌ Cancelled: {reason}", reason=event.reason or "—"))
        return Markup("\n").join(parts), []
    if occurrence is None or seats is None:
        parts.append(tr.t("This event is over."))
        return Markup("\n").join(parts), []
    if running:
        parts.append(tr.t("▶️ Happening now."))
    parts.extend(details(tr, event, occurrence))
    parts.append(counts(tr, seats, event.capacity))
    at = stamp(occurrence)
    rows = [[
        Button(tr.plain("Going"), Rsvp(event.id, at, GOING, False), style=ButtonStyle.SUCCESS),
        Button(tr.plain("Maybe"), Rsvp(event.id, at, MAYBE, False)),
        Button(tr.plain("Can't come"), Rsvp(event.id, at, NO, False), style=ButtonStyle.DANGER),
    ]]
    if event.rule:
        rows.append([Button(tr.plain("Going, just this one"), Rsvp(event.id, at, GOING, True)),
                     Button(tr.plain("Not this one"), Rsvp(event.id, at, NO, True))])
    if running:
        rows.append([Button(tr.plain("Check in"), CheckIn(event.id, at),
                            style=ButtonStyle.PRIMARY)])
    return Markup("\n").join(parts), rows


def preview(
    tr: Speaker, event: Any, upcoming: Sequence[datetime]
) -> tuple[Markup, list[Button]]:
    """What the creator confirms: the event and its next (up to three) occurrences."""
    parts = [tr.t("Here is your event. Post it?"), header(tr, event)]
    parts.extend(details(tr, event, None))
    parts.append(tr.t("⏱ {length}", length=timedelta(seconds=event.duration)))
    if event.capacity:
        parts.append(tr.tn("👥 {n} place", "👥 {n} places", event.capacity))
    parts.append(tr.tn("The next time:", "The next {n} times:", len(upcoming)))
    parts.extend(Markup("• {}").format(tr.datetime(when)) for when in upcoming)
    buttons = [Button(tr.plain("Post it"), Confirm(event.id), style=ButtonStyle.SUCCESS),
               Button(tr.plain("Discard"), Discard(event.id), style=ButtonStyle.DANGER)]
    return Markup("\n").join(parts), buttons


#: Starts the phrase reader takes, shown when it cannot read one (typed as they are, so
#: not translated: each language gets phrases in its own words).
WHEN_EXAMPLES = {
    "en": ("2026-03-05 18:00", "tomorrow 18:00", "next friday 7pm", "every thursday 18:00",
           "every 2 weeks on monday 19:30", "first sunday of the month 10:00",
           "غدا 6 مساء"),
    "ar": ("2026-03-05 18:00", "غدا 6 مساء", "الجمعة القادمة 19:00",
           "كل خميس الساعة 6 مساء", "كل أسبوعين يوم الاثنين 19:30",
           "أول أحد من الشهر 10:00"),
}


def when_error(ctx: Context, text: str, problem: str, *, created: bool = True) -> Markup:
    """A start the phrase reader could not use: what was wrong and examples that work."""
    reasons = {
        "in_the_past": ctx.t("“{text}” is in the past; an event starts later than now.",
                             text=text),
        "ended": ctx.t("“{text}” never happens again after now.", text=text),
        "bad_time": ctx.t("“{text}” has a time of day that does not exist.", text=text),
        "bad_date": ctx.t("“{text}” has a date that does not exist.", text=text),
        "ambiguous": ctx.t("“{text}” can be read more than one way (say am or pm, and write "
                           "dates as 2026-03-05).", text=text),
        "no_time": ctx.t("“{text}” has no time of day; add one, like 18:00.", text=text),
        "no_day": ctx.t("“{text}” repeats but does not say on which day.", text=text),
    }
    first = reasons.get(problem) or ctx.t(
        "I could not read “{text}” as a start time.", text=text)
    language = "ar" if ctx.language.startswith("ar") else "en"
    examples = ctx.t(", ").join(Markup("`{}`").format(e) for e in WHEN_EXAMPLES[language])
    if not created:
        return Markup("\n").join([first, ctx.t(
            "Write a date and time (in the community's timezone) or a phrase, for example: "
            "{examples}. Nothing was changed.", examples=examples)])
    return Markup("\n").join([first, ctx.t(
        "Write a date and time (in the community's timezone) or a phrase, for example: "
        "{examples}. Nothing was created.", examples=examples)])


#: One-off starts, shown when one occurrence cannot move where it was asked to.
MOVE_EXAMPLES = {
    "en": ("2026-03-05 19:00", "tomorrow 18:00", "next friday 7pm"),
    "ar": ("2026-03-05 19:00", "غدا 6 مساء", "الجمعة القادمة 19:00"),
}


def move_error(ctx: Context, reason: Markup) -> Markup:
    """A new start one occurrence cannot take: why, and one-off starts that work."""
    language = "ar" if ctx.language.startswith("ar") else "en"
    examples = ctx.t(", ").join(Markup("`{}`").format(e) for e in MOVE_EXAMPLES[language])
    return Markup("\n").join([reason, ctx.t(
        "Write one later date and time (in the community's timezone), for example: "
        "{examples}. Nothing was changed.", examples=examples)])


def answered(tr: Speaker, event: Any, occurrence: datetime, choice: str, once: bool,
             seats: Seats, member: str) -> Markup:
    """The private answer to an RSVP press: what was recorded and, if full, the queue."""
    when = occurrence
    if choice == GOING:
        position = seats.position(member)
        if position:
            return tr.t("{title} is full; you are number {n} on the waitlist for {when}. "
                        "I will tell you if a place frees up.",
                        title=event.title, n=position, when=when)
        text = (tr.t("You are going to {title} on {when}.", title=event.title, when=when)
                if once or not event.rule else
                tr.t("You are going to {title}, from {when} on, until you change your answer.",
                     title=event.title, when=when))
    elif choice == MAYBE:
        text = (tr.t("Maybe, for {title} on {when}.", title=event.title, when=when)
                if once or not event.rule else
                tr.t("Maybe, for {title} from {when} on.", title=event.title, when=when))
    else:
        text = (tr.t("You can't come to {title} on {when}.", title=event.title, when=when)
                if once or not event.rule else
                tr.t("You can't come to {title} from {when} on.", title=event.title, when=when))
    return text


def promoted(tr: Speaker, event: Any, occurrence: datetime) -> Markup:
    """To a member moved off the waitlist."""
    return tr.t("🎉 A place freed up: you are going to {title} on {when}.",
                title=event.title, when=occurrence)


def reminder(tr: Speaker, event: Any, occurrence: datetime, mention: Markup | None) -> Markup:
    """Before the start, to those going."""
    who = mention if mention is not None else Markup("")
    text = tr.t("⏰ Reminder: {title} starts {when}.", title=event.title, when=occurrence)
    place = tr.t(" 📍 {place}", place=event.place) if event.place else Markup("")
    return Markup("{}{}{}").format(who + (" " if mention is not None else ""), text, place)


def starting(tr: Speaker, event: Any, mentions: Markup | None) -> Markup:
    """The start ping (with the check-in button under it)."""
    text = tr.t("▶️ {title} starts now. Press “Check in” when you are there.",
                title=event.title)
    if mentions is None:
        return text
    return Markup("{} {}").format(mentions, text)


def check_in_button(tr: Speaker, event: int, occurrence: datetime) -> list[Button]:
    """The button that records attendance while an occurrence runs."""
    return [Button(tr.plain("Check in"), CheckIn(event, stamp(occurrence)),
                   style=ButtonStyle.PRIMARY)]


def cancelled_notice(tr: Speaker, event: Any, occurrence: datetime | None, reason: str,
                     mention: Markup | None) -> Markup:
    """To those going: an occurrence (or the whole series) is cancelled, and why."""
    if occurrence is not None:
        text = tr.t("❌ {title} on {when} is cancelled. Reason: {reason}",
                    title=event.title, when=occurrence, reason=reason)
    else:
        text = tr.t("❌ {title} is cancelled. Reason: {reason}", title=event.title,
                    reason=reason)
    return text if mention is None else Markup("{} {}").format(mention, text)


def changed_once(tr: Speaker, event: Any, occurrence: datetime,
                 moved_from: datetime | None = None, new_length: bool = False) -> Markup:
    """To those going: one occurrence is different (moved; title, place, length as now)."""
    if moved_from is not None:
        parts = [tr.t("✏️ {title} on {old} moves to {when}, this time only:",
                      title=event.title, old=moved_from, when=occurrence)]
    else:
        parts = [tr.t("✏️ {title} on {when} is different this time:", title=event.title,
                      when=occurrence)]
    if new_length or moved_from is not None:
        parts.append(tr.t("⏱ {length}", length=timedelta(seconds=event.duration)))
    if event.place:
        parts.append(tr.t("📍 {place}", place=event.place))
    if event.description:
        parts.append(Markup("{}").format(event.description))
    return Markup("\n").join(parts)


def moved(tr: Speaker, event: Any, occurrence: datetime) -> Markup:
    """To those going: the series moved or changed place."""
    text = tr.t("✏️ {title} has changed: next on {when}.", title=event.title, when=occurrence)
    return text + tr.t(" 📍 {place}", place=event.place) if event.place else text


def mentions(ctx: Context, members: Sequence[MemberRef]) -> Markup:
    """Mentions of exactly these members."""
    return Markup(" ").join(ctx.mention(m) for m in members)


def upcoming_list(tr: Speaker, items: Sequence[tuple[Any, datetime, Seats]]) -> Markup:
    """``/events``: the next occurrences, soonest first."""
    if not items:
        return tr.t("No events are coming up. Create one with /event_create.")
    lines = [tr.tn("The next event:", "The next {n} events:", len(items))]
    for event, when, seats in items:
        lines.append(tr.t("• #{id} **{title}** — {when}", id=event.id, title=event.title,
                          when=when))
        lines.append(Markup("  ") + counts(tr, seats, event.capacity))
    return Markup("\n").join(lines)


def attendance_report(
    tr: Speaker, event: Any, per_occurrence: Sequence[tuple[datetime, int, int, int]],
    per_member: Sequence[tuple[str, int, int]],
) -> Markup:
    """Attendance per occurrence (who came, how many of those going) and per member."""
    lines = [tr.t("Attendance for {title} (event #{id})", title=event.title, id=event.id)]
    if not per_occurrence:
        lines.append(tr.t("No occurrence has started yet."))
        return Markup("\n").join(lines)
    for when, came, kept, going in per_occurrence:
        lines.append(tr.t("• {when}: {came} came; {kept} of {going} who said going ({rate})",
                          when=when, came=came, kept=kept, going=going,
                          rate=tr.percent(kept / going) if going else "—"))
    if per_member:
        lines.append(tr.t("By member (came, of the times they said going):"))
        for name, came, going in per_member:
            lines.append(tr.t("• {name}: {came} of {going} ({rate})", name=name, came=came,
                              going=going, rate=tr.percent(came / going) if going else "—"))
    return Markup("\n").join(lines)


def with_mention(mention: Markup | None, text: Markup) -> Markup:
    """``text`` headed by a mention when it goes to a channel (None: a DM)."""
    return text if mention is None else Markup("{} {}").format(mention, text)
