"""The "you said, we did" digest: what happened in a period, written for members.

Sections follow public-sector practice: We asked (polls), You said (suggestions raised), We
did (decisions, with poll outcomes), Declined and why, What's next (the roadmap), and who
took part (members, first-timers, poll voters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import Markup

from .lifecycle import Status
from .render import excerpt, status
from .store import Counts, FeedbackStore

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


def write(tr: Any, period: Period) -> Markup:
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
