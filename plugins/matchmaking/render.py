"""What members and admins read: texts, buttons and payloads of matchmaking."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot import N_, Button, ButtonStyle, Context, Markup, Payload

from .availability import Window


class Tr(Protocol):
    """A translator (``ctx.i18n``, ``ctx.personal``, ``ctx.for_member(m)``)."""

    @property
    def language(self) -> str:
        """The language code (interests are named in it)."""

    def t(self, message: str, /, **values: Any) -> Markup:
        """A translated message."""

    def tn(self, singular: str, plural: str, n: int, /, **values: Any) -> Markup:
        """A translated message whose form follows ``n``."""

    def plain(self, message: str, /, **values: Any) -> str:
        """A translated label (no markup)."""


class Announce(Payload, prefix="matchmaking.announce"):
    """An admin announces a previewed round."""

    round: int


class Reshuffle(Payload, prefix="matchmaking.reshuffle"):
    """An admin asks for other groups in a previewed round."""

    round: int


class Discard(Payload, prefix="matchmaking.discard"):
    """An admin drops a previewed round."""

    round: int


class CheckIn(Payload, prefix="matchmaking.checkin"):
    """A member answers "did you meet?" ("yes", "not_yet", "no")."""

    round: int
    answer: str


#: Conversation starters; ``{interest}`` is the rarest interest the group shares.
STARTERS_SHARED = (
    N_("How did each of you get into {interest}?"),
    N_("What is the best thing you have found about {interest} lately?"),
    N_("If you had a free afternoon for {interest}, how would you spend it?"),
)
STARTERS_OPEN = (
    N_("What is something you learned this month?"),
    N_("What brought each of you to this community?"),
    N_("What is a small thing that made your week better?"),
)


def names(tr: Tr, people: Sequence[str]) -> Markup:
    """"A", "A and B", "A, B and C" in the reader's language (plain names escaped)."""
    if len(people) == 1:
        return Markup("").join(people)
    if len(people) == 2:
        return tr.t("{a} and {b}", a=people[0], b=people[1])
    return tr.t("{a}, {b} and {c}", a=Markup(tr.plain(", ")).join(people[:-2]), b=people[-2],
                c=people[-1])


def listing(tr: Tr, items: Sequence[str]) -> str:
    """Interests or names separated by the reader's comma ("، " in Arabic)."""
    return tr.plain(", ").join(items)


def starter(tr: Tr, shared: Sequence[str], pick: int) -> Markup:
    """A conversation starter, about the rarest shared interest when there is one."""
    if shared:
        return tr.t(STARTERS_SHARED[pick % len(STARTERS_SHARED)], interest=shared[0])
    return tr.t(STARTERS_OPEN[pick % len(STARTERS_OPEN)])


def introduction(tr: Tr, others: Sequence[str], shared: Sequence[str], pick: int) -> Markup:
    """The introduction one member of a group reads."""
    who = names(tr, others)
    ask = starter(tr, shared, pick)
    if shared:
        return tr.t("🤝 This round you are matched with {who}. You share: {shared}. "
                    "A conversation starter: {starter}",
                    who=who, shared=listing(tr, shared), starter=ask)
    return tr.t("🤝 This round you are matched with {who}. A conversation starter: {starter}",
                who=who, starter=ask)


def group_post(ctx: Context, mentions: Sequence[Markup], shared: Sequence[str],
               pick: int) -> Markup:
    """The introduction posted in the channel, mentioning only the group's members."""
    who = names(ctx.i18n, mentions)
    ask = starter(ctx.i18n, shared, pick)
    if shared:
        return ctx.t("🤝 {who}: you are matched this round. You share: {shared}. "
                     "A conversation starter: {starter}",
                     who=who, shared=listing(ctx.i18n, shared), starter=ask)
    return ctx.t("🤝 {who}: you are matched this round. A conversation starter: {starter}",
                 who=who, starter=ask)


def unreachable(tr: Tr, mention: Markup, others: Sequence[str],
                shared: Sequence[str]) -> Markup:
    """Posted in the channel when a member's introduction could not be sent privately.

    It says what the introduction would have (who, and what they share): opening the private
    chat later brings the next messages (the check-in), not this one.
    """
    if shared:
        return tr.t("{member}, you are matched with {who} this round, and you share: "
                    "{shared}. I could not write to you privately: open a private chat with "
                    "me so that my next messages reach you there.",
                    member=mention, who=names(tr, others), shared=listing(tr, shared))
    return tr.t("{member}, you are matched with {who} this round. I could not write to you "
                "privately: open a private chat with me so that my next messages reach you "
                "there.", member=mention, who=names(tr, others))


def announced(ctx: Context, number: int, groups: int, trios: int, unplaced: int) -> Markup:
    """The channel's note that a round started (community language)."""
    text = ctx.tn("Round {round} of matchmaking: {n} group was introduced privately.",
                  "Round {round} of matchmaking: {n} groups were introduced privately.",
                  groups, round=number)
    if trios:
        text = Markup(str(text) + " " + str(ctx.tn(
            "{n} of them is a trio.", "{n} of them are trios.", trios)))
    if unplaced:
        text = Markup(str(text) + " " + str(ctx.tn(
            "{n} member could not be placed this time.",
            "{n} members could not be placed this time.", unplaced)))
    return text


def preview(ctx: Context, rid: int, lines: list[tuple[list[str], tuple[str, ...]]],
            unplaced: list[str], repeats_avoided: int) -> tuple[Markup, list[Button]]:
    """The admin's private preview of a drafted round, with its buttons."""
    parts = [str(ctx.tn("Preview: {n} group.", "Preview: {n} groups.", len(lines)))]
    for people, shared in lines:
        who = names(ctx.i18n, people)
        if shared:
            parts.append(str(ctx.t("• {who} — shared: {shared}", who=who,
                                   shared=listing(ctx.i18n, shared))))
        else:
            parts.append(str(ctx.t("• {who} — no shared interest", who=who)))
    if unplaced:
        parts.append(str(ctx.t("Not placed: {who}", who=names(ctx.i18n, unplaced))))
    parts.append(str(ctx.tn("{n} recent pair was kept apart.",
                            "{n} recent pairs were kept apart.", repeats_avoided)))
    buttons = [
        Button(ctx.i18n.plain("Announce"), Announce(rid), style=ButtonStyle.PRIMARY),
        Button(ctx.i18n.plain("Reshuffle"), Reshuffle(rid)),
        Button(ctx.i18n.plain("Discard"), Discard(rid), style=ButtonStyle.DANGER),
    ]
    return Markup("\n".join(parts)), buttons


def scheduled_preview(ctx: Context, preview: Markup) -> Markup:
    """A scheduled round's preview, posted for the admins."""
    return ctx.t("🗓 A scheduled round is ready. Nobody is told until an admin presses "
                 "Announce.") + Markup("\n") + preview


def checkin(tr: Tr, rid: int, others: Sequence[str]) -> tuple[Markup, list[Button]]:
    """The mid-round question, with its three answers."""
    text = tr.t("Did you meet {who} this round?", who=names(tr, others))
    buttons = [
        Button(tr.plain("Yes, we met"), CheckIn(rid, "yes"), style=ButtonStyle.SUCCESS),
        Button(tr.plain("Not yet"), CheckIn(rid, "not_yet")),
        Button(tr.plain("No"), CheckIn(rid, "no")),
    ]
    return text, buttons


def reminder(tr: Tr, rid: int, others: Sequence[str]) -> tuple[Markup, list[Button]]:
    """The reminder to a member who has not answered the check-in."""
    text, buttons = checkin(tr, rid, others)
    return tr.t("A reminder: {question}", question=text), buttons


def answered(ctx: Context, answer: str) -> Markup:
    """The answer to a check-in press."""
    if answer == "yes":
        return ctx.t("Wonderful, thanks for telling me!")
    if answer == "not_yet":
        return ctx.t("No rush: there is still time this round.")
    return ctx.t("Thanks for letting me know.")


def stats(ctx: Context, rows: list[tuple[int, int, int]], never: list[str],
          skipping: list[str]) -> Markup:
    """Meet-rate per round and the members admins may want to look after."""
    if not rows:
        return ctx.t("No round has been announced yet.")
    parts = []
    for number, total, met in rows:
        rate = ctx.i18n.percent(met / total) if total else ctx.i18n.percent(0)
        parts.append(str(ctx.tn("Round {round}: {met} of {n} group met ({rate}).",
                                "Round {round}: {met} of {n} groups met ({rate}).",
                                total, round=number, met=ctx.i18n.number(met), rate=rate)))
    if never:
        parts.append(str(ctx.t("Never matched yet: {who}", who=listing(ctx.i18n, never))))
    if skipping:
        parts.append(str(ctx.t("Did not meet in any round so far: {who}",
                               who=listing(ctx.i18n, skipping))))
    return Markup("\n".join(parts))


def when(ctx: Context, at: datetime) -> str:
    """A moment in the reader's language and the community's timezone."""
    return str(ctx.i18n.datetime(at))


# -- answers to commands ---------------------------------------------------------------------

def joined(ctx: Context, interests: Sequence[str]) -> Markup:
    """The answer to /match_join."""
    if interests:
        return ctx.t("You are in! Next round I will look for people who share: {interests}.",
                     interests=listing(ctx.i18n, interests))
    return ctx.t("You are in! Tell me what you like with /interests, e.g. /interests chess, "
                 "cooking.")


def left(ctx: Context) -> Markup:
    """The answer to /match_leave."""
    return ctx.t("You left matchmaking. Come back any time with /match_join.")


def not_joined(ctx: Context) -> Markup:
    """Refusal: the member has not opted in."""
    return ctx.t("You have not joined matchmaking yet: use /match_join first.")


def bad_pause(ctx: Context) -> Markup:
    """Refusal: the pause is out of bounds."""
    return ctx.t("A pause lasts from one hour up to 52 weeks, like 2w or 30d.")


def paused(ctx: Context, until: datetime) -> Markup:
    """The answer to /match_pause."""
    return ctx.t("Paused: you will not be matched until {date}.", date=ctx.i18n.date(until))


def your_interests(ctx: Context, interests: Sequence[str]) -> Markup:
    """The member's interests (the answer to /interests)."""
    if not interests:
        return ctx.t("You have no interests yet. Set them with /interests chess, cooking.")
    return ctx.t("Your interests: {interests}.", interests=listing(ctx.i18n, interests))


def bad_interests(ctx: Context, bad: str, limit: int) -> Markup:
    """Refusal: an interest /interests cannot take, or too many."""
    if bad:
        return ctx.t("“{bad}” is not an interest I can use: up to 40 letters, digits or "
                     "spaces, separated by commas.", bad=bad)
    return ctx.tn("Give between one and {n} interest, separated by commas.",
                  "Give between one and {n} interests, separated by commas.", limit)


def bad_window(ctx: Context) -> Markup:
    """Refusal: an availability window that does not parse."""
    return ctx.t("Write the window as two hours and a timezone, like 18-22 Asia/Riyadh; days "
                 "may come first, like sat-wed 18-22 or fri,sat 10-14. Or off.")


def window_set(ctx: Context, window: Window | None, zone: str) -> Markup:
    """The answer to /match_available: the window read back, days named in the language."""
    if window is None:
        return ctx.t("Any time suits you now.")
    if not window.days:
        return ctx.t("I will prefer partners free during {hours} ({zone}).",
                     hours=window.hours, zone=zone)
    days = ctx.i18n.all_of([ctx.i18n.weekday(d) for d in window.days])
    return ctx.t("I will prefer partners free on {days}, during {hours} ({zone}).",
                 days=days, hours=window.hours, zone=zone)


def not_yourself(ctx: Context) -> Markup:
    """Refusal: the same member twice."""
    return ctx.t("Name two different members.")


def avoided(ctx: Context, name: str) -> Markup:
    """The answer to /match_avoid."""
    return ctx.t("You will never be paired with {name}. They are not told.", name=name)


def blocked(ctx: Context, first: str, second: str) -> Markup:
    """The answer to /match_block."""
    return ctx.t("{first} and {second} will never be paired.", first=first, second=second)


def too_few(ctx: Context) -> Markup:
    """Nobody (or one member) takes part: no round."""
    return ctx.t("No group can be made now: too few members take part, or every possible "
                 "pair met recently or is blocked.")


def admins_only(ctx: Context) -> Markup:
    """Refusal: a non-admin pressed a preview's button."""
    return ctx.t("Only admins can decide on a round.")


def announce_done(ctx: Context) -> Markup:
    """The admin's confirmation that a round was announced."""
    return ctx.t("Announced: every group has its introduction.")


def already(ctx: Context) -> Markup:
    """A second press on a decided preview."""
    return ctx.t("This round was already decided.")


def discarded(ctx: Context) -> Markup:
    """The admin's confirmation that a draft was dropped."""
    return ctx.t("Discarded: nobody was told.")


def schedule_off(ctx: Context) -> Markup:
    """The answer to /match_schedule off."""
    return ctx.t("Scheduled rounds are off. /match_round still works.")


def scheduled(ctx: Context, weeks: int, nxt: datetime | None, preview: bool) -> Markup:
    """The answer to /match_schedule, with the next round's time."""
    text = ctx.tn("A round every week.", "A round every {n} weeks.", weeks)
    if nxt is not None:
        text = text + " " + ctx.t("Next: {when}.", when=ctx.i18n.datetime(nxt))
    if preview:
        text = text + " " + ctx.t("Each round waits for an admin to press Announce on its "
                                  "preview.")
    return text


def not_in_round(ctx: Context) -> Markup:
    """Refusal: a check-in of a round the member was not in."""
    return ctx.t("You were not in that round.")
