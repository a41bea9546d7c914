"""What members read: the suggestion post and its buttons, answers, notices, the roadmap.

Functions take a translator (``ctx.i18n``, ``ctx.personal`` or ``ctx.for_member(m)``), so the
same text goes out in whichever language its reader has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import N_, Button, ButtonStyle, Markup, Payload, escape

from .lifecycle import Status
from .store import Counts

#: Longest excerpt of a suggestion inside another message.
EXCERPT = 80


class Up(Payload, prefix="feedback.up"):
    """A 👍 on a suggestion."""

    suggestion: int


class Down(Payload, prefix="feedback.down"):
    """A 👎 on a suggestion."""

    suggestion: int


class Follow(Payload, prefix="feedback.follow"):
    """Follow a suggestion (be told when its status changes)."""

    suggestion: int


class PostAnyway(Payload, prefix="feedback.post"):
    """Post a suggestion although similar ones are open."""

    suggestion: int


class Approve(Payload, prefix="feedback.approve"):
    """A moderator lets a suggestion out of the review queue."""

    suggestion: int


class ApproveDigest(Payload, prefix="feedback.digest"):
    """An admin approves the digest draft."""

    digest: int


STATUS = {
    Status.DRAFT: N_("draft"),
    Status.REVIEW: N_("waiting for review"),
    Status.NEW: N_("new"),
    Status.UNDER_REVIEW: N_("under review"),
    Status.PLANNED: N_("planned"),
    Status.IN_PROGRESS: N_("in progress"),
    Status.DONE: N_("done"),
    Status.DECLINED: N_("declined"),
    Status.DUPLICATE: N_("duplicate"),
    Status.NEEDS_INFO: N_("needs more information"),
}


def status(tr: Any, value: str) -> str:
    """A status as members read it."""
    return str(tr.plain(STATUS[Status(value)]))


def excerpt(text: str) -> str:
    """The start of a suggestion, cut at a word."""
    if len(text) <= EXCERPT:
        return text
    return text[:EXCERPT].rsplit(" ", 1)[0] + "…"


def author(tr: Any, row: Any) -> Markup:
    """Who suggested it, as members see it (never the name of an anonymous author)."""
    if row.anonymous or not row.author_name:
        return tr.t("a member")
    return escape(row.author_name)


def post(tr: Any, row: Any, counts: Counts, threads: bool) -> tuple[Markup, list[Button]]:
    """The public suggestion with its counts and buttons (no buttons once it is closed)."""
    parts = [
        tr.t("💡 **Suggestion #{n}**: {text}", n=row.id, text=row.text),
        tr.t("By {who} · status: {status}", who=author(tr, row), status=status(tr, row.status)),
        tr.t("👍 {up} · 👎 {down} · {followers}", up=counts.up, down=counts.down,
             followers=tr.tn("{n} follower", "{n} followers", counts.followers)),
    ]
    if row.status == Status.DUPLICATE and row.duplicate_of:
        parts.append(tr.t("Duplicate of #{of}: its votes and followers moved there.",
                          of=row.duplicate_of))
    elif row.reason:
        parts.append(tr.t("Why: {reason}", reason=row.reason))
    closed = row.status in (Status.DONE, Status.DECLINED, Status.DUPLICATE)
    if not closed:
        parts.append(tr.t("Comments: in the thread of this suggestion.") if threads
                     else tr.t("Comments: reply to this message."))
    buttons = [] if closed else [
        Button(tr.plain("👍 Vote up"), Up(row.id), style=ButtonStyle.SUCCESS),
        Button(tr.plain("👎 Vote down"), Down(row.id), style=ButtonStyle.DANGER),
        Button(tr.plain("🔔 Follow"), Follow(row.id)),
    ]
    return Markup("\n").join(parts), buttons


def thread_name(row: Any) -> str:
    """The comment thread's name."""
    return f"#{row.id} {excerpt(row.text)}"[:90]


def thread_intro(tr: Any, row: Any) -> Markup:
    """The first post of the comment thread."""
    return tr.t("Comments on suggestion #{n} go here.", n=row.id)


def similar_offer(tr: Any, number: int, matches: Sequence[Any],
                  counts: dict[int, Counts]) -> tuple[Markup, list[Button]]:
    """Open suggestions like the new one: vote on one of them instead?"""
    lines = [tr.t("There are open suggestions like yours:")]
    buttons = []
    for match in matches:
        lines.append(tr.t("• #{n} {text} (👍 {up})", n=match.id, text=excerpt(match.text),
                          up=counts.get(match.id, Counts()).up))
        buttons.append(Button(tr.plain("👍 #{n}", n=match.id), Up(match.id)))
    lines.append(tr.t("Vote on one of them instead? Or post yours anyway."))
    buttons.append(Button(tr.plain("Post mine anyway"), PostAnyway(number),
                          style=ButtonStyle.PRIMARY))
    return Markup("\n").join(lines), buttons


def review_item(tr: Any, row: Any) -> tuple[Markup, list[Button]]:
    """The review queue's message for moderators (they see the author, anonymous or not)."""
    who = tr.t("{name} (anonymous to members)", name=row.author_name or "?") if row.anonymous \
        else escape(row.author_name or "?")
    text = tr.t("📝 Suggestion #{n} waits for review: {text}\nBy {who}. Approve it, or "
                "decline it with /suggestion_status {n} `declined` REASON.",
                n=row.id, text=row.text, who=who)
    return text, [Button(tr.plain("Approve"), Approve(row.id), style=ButtonStyle.SUCCESS)]


def vote_reply(tr: Any, number: int, value: int, result: str) -> Markup:
    """The private answer to a vote press."""
    if result == "counted":
        return (tr.t("Your 👍 for #{n} is counted.", n=number) if value > 0
                else tr.t("Your 👎 for #{n} is counted.", n=number))
    if result == "changed":
        return (tr.t("You changed your vote on #{n} to 👍.", n=number) if value > 0
                else tr.t("You changed your vote on #{n} to 👎.", n=number))
    return (tr.t("You already gave #{n} a 👍.", n=number) if value > 0
            else tr.t("You already gave #{n} a 👎.", n=number))


def refusal(tr: Any, row: Any, why: str, steps: Sequence[Status]) -> Markup:
    """Why a status change is refused, and what is allowed instead."""
    now = status(tr, row.status)
    comma = tr.plain(", ")
    if why == "same":
        return tr.t("Suggestion #{n} is {status} already; nothing changed.", n=row.id,
                    status=now)
    if why == "final":
        return tr.t("Suggestion #{n} is {status}, which is final; nothing changed.",
                    n=row.id, status=now)
    if why == "reason":
        return tr.t("Declining needs a reason members can read: /suggestion_status {n} "
                    "`declined` REASON", n=row.id)
    return tr.t("Suggestion #{n} is {status}; from there it can become: {choices}.",
                n=row.id, status=now, choices=Markup(comma).join(
                    Markup("`{}` ({})").format(s.value, status(tr, s)) for s in steps))


def notice(tr: Any, row: Any, new: Status, reason: str, into: int | None, *,
           answer: bool = False) -> Markup:
    """What the author, voters and followers are told about a change.

    ``answer``: the reason is the author's answer to a moderator's question.
    """
    parts = [tr.t("🔔 Suggestion #{n} “{text}” is now **{status}**.", n=row.id,
                  text=excerpt(row.text), status=status(tr, new))]
    if into is not None:
        parts.append(tr.t("It duplicates #{of}: your vote and follow moved there.", of=into))
    if reason and answer:
        parts.append(tr.t("The author answered: {answer}", answer=reason))
    elif reason:
        parts.append(tr.t("Why: {reason}", reason=reason))
    if new == Status.NEEDS_INFO:
        parts.append(tr.t("Its author can answer with /suggestion_answer {n} and the answer.",
                          n=row.id))
    return Markup("\n").join(parts)


def answered(tr: Any, row: Any, answer: str) -> Markup:
    """Telling the moderators that the author answered their question."""
    return Markup("\n").join([
        tr.t("💬 The author of suggestion #{n} “{text}” answered: {answer}", n=row.id,
             text=excerpt(row.text), answer=answer),
        tr.t("It is under review again: /suggestion_status {n} moves it on.", n=row.id)])


def roadmap(tr: Any, groups: Sequence[tuple[Status, Sequence[Any]]],
            counts: dict[int, Counts]) -> Markup:
    """What is in progress and planned."""
    if not any(rows for _, rows in groups):
        return tr.t("Nothing is planned or in progress yet. Suggest something with /suggest.")
    lines = [tr.t("🗺 **Roadmap**")]
    for state, rows in groups:
        if not rows:
            continue
        lines.append(tr.t("In progress:") if state == Status.IN_PROGRESS else tr.t("Planned:"))
        lines.extend(tr.t("• #{n} {text} (👍 {up})", n=r.id, text=excerpt(r.text),
                          up=counts.get(r.id, Counts()).up) for r in rows)
    return Markup("\n").join(lines)


def history(tr: Any, row: Any, changes: Sequence[Any]) -> Markup:
    """The audit of a suggestion for moderators: the real author, every change."""
    who = row.author_name or tr.plain("a member (forgotten)")
    head = (tr.t("Suggestion #{n} by {who} (anonymous to members), {date}: {text}", n=row.id,
                 who=who, date=tr.date(row.created_at), text=row.text) if row.anonymous
            else tr.t("Suggestion #{n} by {who}, {date}: {text}", n=row.id, who=who,
                      date=tr.date(row.created_at), text=row.text))
    lines = [head]
    if not changes:
        lines.append(tr.t("No status changes yet."))
    for change in changes:
        line = tr.t("• {when}: {old} → {new}, by {who}", when=tr.datetime(change.at),
                    old=status(tr, change.old), new=status(tr, change.new),
                    who=change.actor_name or tr.plain("a member (forgotten)"))
        if change.duplicate_of:
            line += tr.t(" (duplicate of #{of})", of=change.duplicate_of)
        if change.reason:
            line += tr.t(". Why: {reason}", reason=change.reason)
        lines.append(line)
    return Markup("\n").join(lines)


def poll_question(tr: Any, poll: int, question: str, voters: int,
                  winners: Sequence[str]) -> Markup:
    """Asking admins what was done with a closed poll."""
    result = (tr.t("winner: {winner}", winner=" / ".join(winners)) if winners
              else tr.t("no votes"))
    return tr.t("🗳 Poll #{n} “{question}” closed ({voters}; {result}). What was done with "
                "it? Tell the voters with /poll_outcome {n} WHAT WAS DECIDED",
                n=poll, question=question, result=result,
                voters=tr.tn("{n} voter", "{n} voters", voters))


def outcome_notice(tr: Any, poll: int, question: str, outcome: str) -> Markup:
    """What voters are told when an admin records a poll's outcome."""
    return tr.t("🗳 What came of poll #{n} “{question}”: {outcome}", n=poll,
                question=question, outcome=outcome)
