"""What members read: the poll message and its buttons, results, and answers to a press."""

from __future__ import annotations

from typing import Any

from bot import Attachment, Button, ButtonStyle, Context, Markup, Payload
from plugins.polls.chart import bar_chart
from plugins.polls.rules import Outcome, Tally, short_label
from plugins.polls.store import VoteResult

#: Longest button label (a platform cuts longer ones badly).
LABEL_LIMIT = 80


class Vote(Payload, prefix="polls.vote"):
    """A press on an option's button."""

    poll: int
    option: int


class Withdraw(Payload, prefix="polls.withdraw"):
    """A press on "withdraw my vote"."""

    poll: int


def lines(ctx: Context, row: Any, tally: Tally) -> list[Markup]:
    """One line per option: votes and share."""
    return [
        ctx.t("{index}. {option} — {votes} ({percent})", index=i + 1, option=option,
              votes=ctx.tn("{n} vote", "{n} votes", tally.counts[i]),
              percent=ctx.i18n.percent(tally.share(i)))
        for i, option in enumerate(row.options)
    ]


def who_may_vote(ctx: Context, row: Any) -> Markup:
    """The poll's eligibility rule, as a sentence."""
    if row.eligible == "role":
        return ctx.t("Only members with the role {role} can vote.",
                     role=Markup("`{}`").format(row.eligible_ref))
    if row.eligible == "badge":
        return ctx.t("Only members with the badge “{badge}” can vote.",
                     badge=row.eligible_ref)
    return ctx.t("Only members who joined before the poll opened can vote.")


def poll_message(
    ctx: Context, row: Any, tally: Tally, needed: int = 0
) -> tuple[Markup, list[Button]]:
    """The open poll: how to vote, live counts (unless hidden), quorum, deadline, buttons.

    ``needed`` is the quorum as it stands (0: none).
    """
    parts = [ctx.t("📊 **{question}** (poll #{id})", question=row.question, id=row.id)]
    modes = [
        ctx.t("Single choice.") if row.max_choices == 1 else ctx.tn(
            "Choose up to {n} option.", "Choose up to {n} options.", row.max_choices),
        ctx.t("Anonymous: nobody, admins included, can see who chose what.")
        if row.anonymous else ctx.t("Public: choices are stored with the voter's name."),
    ]
    if row.eligible != "all":
        modes.append(who_may_vote(ctx, row))
    parts.append(Markup(" ").join(modes))
    if row.hidden:
        parts.append(ctx.t("Results are hidden until the poll closes."))
    else:
        parts.extend(lines(ctx, row, tally))
    parts.append(ctx.tn("{n} member has voted.", "{n} members have voted.", tally.voters))
    if needed:
        parts.append(ctx.tn("Quorum: {n} member must vote for the result to count.",
                            "Quorum: {n} members must vote for the result to count.", needed))
    parts.append(ctx.t("Closes {when}.", when=row.deadline))
    buttons = [
        Button(short_label(option, LABEL_LIMIT), Vote(row.id, i), style=ButtonStyle.PRIMARY)
        for i, option in enumerate(row.options)
    ]
    buttons.append(Button(ctx.i18n.plain("Withdraw my vote"), Withdraw(row.id),
                          style=ButtonStyle.SECONDARY))
    return Markup("\n").join(parts), buttons


def closed_message(ctx: Context, row: Any, tally: Tally) -> Markup:
    """What the poll message becomes once closed: the final counts and winner, no buttons."""
    head = ctx.t("📊 **{question}** (poll #{id}) — closed.", question=row.question, id=row.id)
    # with no voters the verdict ("No votes were cast.") says it once
    voted = [ctx.tn("{n} member voted.", "{n} members voted.", tally.voters)] \
        if tally.voters else []
    return Markup("\n").join([head, *lines(ctx, row, tally), *voted, verdict(ctx, row, tally)])


def verdict(ctx: Context, row: Any, tally: Tally) -> Markup:
    """The winner, the tie, or that nobody voted."""
    winners = tally.winners()
    if not winners:
        return ctx.t("No votes were cast.")
    if len(winners) == 1:
        return ctx.t("Winner: **{option}**.", option=row.options[winners[0]])
    quoted = [ctx.i18n.plain("“{option}”", option=row.options[i]) for i in winners]
    return ctx.t("Tie between {options}.", options=ctx.i18n.plain(", ").join(quoted))


def results(ctx: Context, row: Any, outcome: Outcome, *, final: bool) -> Markup:
    """Counts, winner or tie, quorum and reach."""
    tally = outcome.tally
    if final:
        head = ctx.t("🗳 Poll #{id} is closed: **{question}**", id=row.id, question=row.question)
    else:
        head = ctx.t("🗳 Interim results of poll #{id}: **{question}**", id=row.id,
                     question=row.question)
    parts = [head, *lines(ctx, row, tally)]
    if tally.voters:  # else the verdict says that nobody voted
        parts.append(ctx.tn("{n} member voted.", "{n} members voted.", tally.voters))
    parts.append(verdict(ctx, row, tally))
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


def chart(ctx: Context, row: Any, tally: Tally) -> Attachment:
    """The results picture: votes and share per option, the total and the winner under it."""
    png = bar_chart(row.question, row.options, tally.counts, rtl=ctx.i18n.rtl,
                    highlight=tally.winners(), values=chart_values(ctx.i18n, tally),
                    caption=chart_caption(ctx.i18n, row, tally))
    return Attachment(f"poll-{row.id}.png", png, image=True)


def chart_values(tr: Any, tally: Tally) -> list[str]:
    """``3 votes · 60%`` per option, in the reader's words (the share is of the voters)."""
    return [f"{tr.tn('{n} vote', '{n} votes', count)} · {tr.percent(tally.share(i))}"
            for i, count in enumerate(tally.counts)]


def chart_caption(tr: Any, row: Any, tally: Tally) -> str:
    """The line under the bars: how many voted, and the winner or the tie (plain text)."""
    parts = [str(tr.tn("{n} member voted.", "{n} members voted.", tally.voters))]
    winners = tally.winners()
    if len(winners) == 1:
        parts.append(tr.plain("Winner: {option}", option=row.options[winners[0]]))
    elif winners:
        quoted = [tr.plain("“{option}”", option=row.options[i]) for i in winners]
        parts.append(tr.plain("Tie between {options}.", options=tr.plain(", ").join(quoted)))
    return " ".join(parts)


def vote_reply(ctx: Context, row: Any, option: int, result: VoteResult) -> Markup:
    """The private answer to a press on an option."""
    name = row.options[option]
    if result == "already":
        return ctx.t("You already chose “{option}”.", option=name)
    if result == "full":
        return ctx.tn(
            "You can choose at most {n} option. Withdraw your vote to choose again.",
            "You can choose at most {n} options. Withdraw your vote to choose again.",
            row.max_choices,
        )
    if result == "changed":
        return ctx.t("You changed your vote to “{option}”.", option=name)
    if result == "unpicked":
        return ctx.t("You took back your vote for “{option}”.", option=name)
    return ctx.t("Your vote for “{option}” is counted.", option=name)


def reminder(ctx: Any, row: Any) -> Markup:
    """The DM to a member who asked to be reminded (``ctx``: a context or a translator)."""
    return ctx.t("Poll #{id} “{question}” closes {when} and you have not voted yet.",
                 id=row.id, question=row.question, when=row.deadline)


def template_list(ctx: Context, rows: list[Any], upcoming: dict[str, Any]) -> Markup:
    """The community's templates with the time of their next poll."""
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
    return Markup("\n").join(parts)
