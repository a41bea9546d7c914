"""The "you said, we did" digest: what happened in a period, written for members.

Sections follow public-sector practice: We asked (polls), You said (suggestions raised), We
did (decisions, with poll outcomes), Declined and why, What's next (the roadmap), and who
took part (members, first-timers, poll voters).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import Button, ButtonStyle, CommunityRef, Context, Markup

from .lifecycle import Status
from .render import ApproveDigest, excerpt, status
from .settings import FeedbackSettings
from .store import Counts, FeedbackStore

if TYPE_CHECKING:
    from . import Feedback

#: When each digest goes out (the community's time).
RULES = {
    "weekly": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    "monthly": "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
}
LENGTH = {"weekly": timedelta(days=7), "monthly": timedelta(days=31)}

#: Statuses reported under "We did".
DID = (Status.UNDER_REVIEW, Status.PLANNED, Status.IN_PROGRESS, Status.DONE, Status.DUPLICATE)


@dataclass(slots=True)
class Period:
    """What the store found for a period, ready to be written."""

    start: datetime
    end: datetime
    raised: list[Any] = field(default_factory=list)
    changed: list[Any] = field(default_factory=list)
    polls: list[Any] = field(default_factory=list)
    members: set[str] = field(default_factory=set)
    first: set[str] = field(default_factory=set)
    upcoming: list[Any] = field(default_factory=list)
    counts: dict[int, Counts] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Nothing was raised, decided or polled."""
        return not (self.raised or self.changed or self.polls)

    @property
    def poll_votes(self) -> int:
        """Votes in the polls that closed in the period."""
        return sum(int(p.voters) for p in self.polls if self.start <= p.closed_at < self.end)


def compose(tr: Any, period: Period) -> Markup:
    """The digest in ``tr``'s language (the community's)."""
    start, end = tr.date(period.start), tr.date(period.end)
    if period.empty:
        return tr.t("📰 Nothing to report from {start} to {end}: no suggestions, decisions or "
                    "polls.", start=start, end=end)
    out = [tr.t("📰 **You said, we did** — {start} to {end}", start=start, end=end)]
    out += _asked(tr, period) + _said(tr, period) + _did(tr, period)
    out += _declined(tr, period) + _next(tr, period) + _took_part(tr, period)
    return Markup("\n").join(out)


def _asked(tr: Any, period: Period) -> list[Markup]:
    if not period.polls:
        return []
    lines = [Markup(""), tr.t("**We asked**")]
    for poll in period.polls:
        result = (tr.t("winner: {winner}", winner=" / ".join(poll.winners)) if poll.winners
                  else tr.t("no votes"))
        lines.append(tr.t("• Poll #{n} “{question}”: {voters}; {result}.", n=poll.poll,
                          question=poll.question, result=result,
                          voters=tr.tn("{n} voter", "{n} voters", poll.voters)))
        lines.append(tr.t("  We did: {outcome}", outcome=poll.outcome) if poll.outcome
                     else tr.t("  We did: not decided yet."))
    return lines


def _said(tr: Any, period: Period) -> list[Markup]:
    if not period.raised:
        return []
    lines = [Markup(""), tr.t("**You said**"),
             tr.tn("{n} new suggestion:", "{n} new suggestions:", len(period.raised))]
    for row in period.raised:
        counts = period.counts.get(row.id, Counts())
        lines.append(tr.t("• #{n} {text} (👍 {up} · 👎 {down})", n=row.id,
                          text=excerpt(row.text), up=counts.up, down=counts.down))
    return lines


def _latest(period: Period, wanted: Sequence[Status]) -> list[Any]:
    """The last change of each suggestion in the period, if it is one of ``wanted``."""
    last: dict[int, Any] = {}
    for change in period.changed:
        last[change.suggestion] = change
    return [c for c in last.values() if Status(c.new) in wanted]


def _did(tr: Any, period: Period) -> list[Markup]:
    done = _latest(period, DID)
    if not done:
        return []
    lines = [Markup(""), tr.t("**We did**")]
    for change in done:
        if change.new == Status.DUPLICATE:
            lines.append(tr.t("• #{n} {text}: merged into #{of}.", n=change.suggestion,
                              text=excerpt(change.text), of=change.duplicate_of))
            continue
        line = tr.t("• #{n} {text}: {status}.", n=change.suggestion, text=excerpt(change.text),
                    status=status(tr, change.new))
        if change.reason:
            line += tr.t(" Why: {reason}", reason=change.reason)
        lines.append(line)
    return lines


def _declined(tr: Any, period: Period) -> list[Markup]:
    declined = _latest(period, (Status.DECLINED,))
    if not declined:
        return []
    lines = [Markup(""), tr.t("**Declined, and why**")]
    lines.extend(tr.t("• #{n} {text}: {reason}", n=c.suggestion, text=excerpt(c.text),
                      reason=c.reason or "") for c in declined)
    return lines


def _next(tr: Any, period: Period) -> list[Markup]:
    lines = [Markup(""), tr.t("**What's next**")]
    if not period.upcoming:
        return [*lines, tr.t("Nothing is planned yet.")]
    lines.extend(tr.t("• #{n} {text}: {status}", n=r.id, text=excerpt(r.text),
                      status=status(tr, r.status)) for r in period.upcoming)
    return lines


def _took_part(tr: Any, period: Period) -> list[Markup]:
    members, first = len(period.members), len(period.first & period.members)
    line = tr.tn("{n} member took part", "{n} members took part", members)
    if members:
        line += Markup(" ") + tr.tn("({n} of them for the first time).",
                                    "({n} of them for the first time).", first)
    else:
        line += Markup(".")
    lines = [Markup(""), tr.t("**Taking part**"), line]
    if period.polls:
        lines.append(tr.tn("{n} vote in the polls that closed.",
                           "{n} votes in the polls that closed.", period.poll_votes))
    return lines


async def gather(store: FeedbackStore, community: str, start: datetime,
                 end: datetime) -> Period:
    """Read what happened in [start, end) and what is next."""
    found = await store.period(community, start, end)
    period = Period(start, end, **found)
    period.upcoming = await store.roadmap(community, (Status.IN_PROGRESS, Status.PLANNED))
    period.counts = await store.counts([r.id for r in period.raised])
    return period


class DigestDesk:
    """Schedules, writes, stores and posts (or drafts) the plugin's digests."""

    def __init__(self, plugin: Feedback, store: FeedbackStore) -> None:
        """Work through the plugin's scheduler and contexts."""
        self.plugin = plugin
        self.store = store
        #: Held per community from reading where the last digest ended to storing this one:
        #: the period's job and /digest_now (run side by side) would both report the period.
        self._writing: dict[str, asyncio.Lock] = {}

    async def plan(self, community: CommunityRef, period: str,
                   since: str | None = None) -> None:
        """Keep one digest item scheduled, of the period the setting names (or none)."""
        runs = await self.plugin.next_runs("digest", community)
        for other in RULES:
            if other != period and other in runs:
                await self.plugin.unschedule("digest", community, other)
        if period in RULES and period not in runs:
            now = self.plugin.clock.now()
            # a day's grace: a digest right after installing would report nothing
            await self.plugin.schedule("digest", community, rule=RULES[period], key=period,
                                       at=now + timedelta(days=1),
                                       data={"period": period,
                                             "since": since or now.isoformat()})

    async def write(self, ctx: Context, config: FeedbackSettings, end: datetime,
                    fallback_start: datetime) -> str:
        """Write and store the digest ending at ``end``: "posted", "draft", "skipped", "".

        "" when this period has its digest already (a job that ran twice, or a digest up
        to a later time was written meanwhile).
        """
        community = ctx.community
        async with self._writing.setdefault(community.key, asyncio.Lock()):
            return await self._write(ctx, config, end, fallback_start)

    async def _write(self, ctx: Context, config: FeedbackSettings, end: datetime,
                     fallback_start: datetime) -> str:
        community = ctx.community
        start = await self.store.last_digest_end(community.key) or fallback_start
        if start >= end:
            return ""  # /digest_now reported up to a later time already
        period = await gather(self.store, community.key, start, end)
        shared = self.plugin.context(community)
        text = compose(shared.i18n, period)
        if period.empty and config.quiet_digest == "skip":
            made = await self.store.add_digest(community.key, start, end, "skipped", text,
                                               ctx.now())
            return "skipped" if made else ""
        if config.digest_approval:
            admins = self.plugin.context(
                community, channel=self.plugin.kernel.admin_channel(community))
            async with admins.transaction():
                made = await self.store.add_digest(community.key, start, end, "draft", text,
                                                   ctx.now())
                if made:
                    await self.show_draft(admins, made, text)
            return "draft" if made else ""
        async with shared.transaction():
            made = await self.store.add_digest(community.key, start, end, "posted", text,
                                               ctx.now())
            if made:
                await shared.send(text)
        return "posted" if made else ""

    async def show_draft(self, ctx: Context, digest_id: int, text: str) -> None:
        """Show admins the draft with its approval button."""
        head = ctx.t("📝 Digest draft, waiting for an admin's approval (members do not see "
                     "it yet). Replace its text with /digest_edit TEXT.")
        await ctx.send(head + Markup("\n\n") + Markup(text), buttons=[Button(
            ctx.i18n.plain("Approve and post"), ApproveDigest(digest_id),
            style=ButtonStyle.SUCCESS)])
