"""A suggestion's statuses and the transitions between them (pure rules, no I/O).

new → under_review → planned → in_progress → done is the road; declined (a reason is
required), duplicate (of another open suggestion) and needs_info branch off it. needs_info
goes back to review once the author answers. done, declined and duplicate are final.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a suggestion stands. ``draft`` and ``review`` come before it is posted."""

    DRAFT = "draft"
    REVIEW = "review"
    NEW = "new"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"
    DUPLICATE = "duplicate"
    NEEDS_INFO = "needs_info"


S = Status
ALLOWED: dict[Status, tuple[Status, ...]] = {
    S.REVIEW: (S.DECLINED,),  # approving it (posting) is its own step
    S.NEW: (S.UNDER_REVIEW, S.NEEDS_INFO, S.DECLINED, S.DUPLICATE),
    S.UNDER_REVIEW: (S.PLANNED, S.NEEDS_INFO, S.DECLINED, S.DUPLICATE),
    S.NEEDS_INFO: (S.UNDER_REVIEW, S.DECLINED, S.DUPLICATE),
    S.PLANNED: (S.IN_PROGRESS, S.DECLINED),
    S.IN_PROGRESS: (S.DONE, S.PLANNED, S.DECLINED),
    S.DONE: (),
    S.DECLINED: (),
    S.DUPLICATE: (),
}

#: Statuses a moderator may set with /suggestion_status (duplicate has its own command).
SETTABLE = (S.UNDER_REVIEW, S.PLANNED, S.IN_PROGRESS, S.DONE, S.DECLINED, S.NEEDS_INFO)
#: Still open: similar ones are offered for these, and a duplicate must point at one.
OPEN = frozenset({S.NEW, S.UNDER_REVIEW, S.PLANNED, S.IN_PROGRESS, S.NEEDS_INFO})
#: Adopted: the author's contribution is reported (once) when a suggestion gets here.
ADOPTED = frozenset({S.PLANNED, S.DONE})
#: Shown by /roadmap, in this order.
ROADMAP = (S.IN_PROGRESS, S.PLANNED)


def refusal(old: Status, new: Status, reason: str) -> str | None:
    """Why ``old → new`` is refused ("same", "final", "not_allowed", "reason"), or None."""
    if old == new:
        return "same"
    if old not in ALLOWED:
        return "not_allowed"
    if not ALLOWED[old]:
        return "final"
    if new not in ALLOWED[old]:
        return "not_allowed"
    if new == S.DECLINED and not reason.strip():
        return "reason"
    return None


def next_steps(old: Status) -> tuple[Status, ...]:
    """Where a suggestion in ``old`` may go."""
    return ALLOWED.get(old, ())
