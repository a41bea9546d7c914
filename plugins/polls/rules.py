"""The rules of a poll, without a database: what is accepted, who counts, what the outcome is.

Everything here is pure (a translator at most), so it is unit-testable on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import Context, Markup, NativePollLimits, ScheduleError, next_occurrence
from plugins.polls.activity import Columns, Seen

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_QUESTION = 300
MAX_OPTION = 100
MAX_DAYS = 365
#: "Active" and "newcomer" both look back this far.
WINDOW = timedelta(days=30)
#: The share of members (by message count) who are the community's usual voices.
USUAL_VOICES = 0.10
MAX_TEMPLATES = 25
TEMPLATE_NAME = re.compile(r"[\w-]{1,32}")
WEEKDAYS = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA",
            "sun": "SU"}
#: Raw RRULEs may repeat at most daily (a poll every hour or minute would flood a channel).
RULE_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
#: Arabic-Indic (and Persian) digits read as the Latin ones wherever a member types a number.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_FRIENDLY_RULE = re.compile(
    r"(?P<freq>daily|weekly|monthly)(?::(?P<on>[a-z0-9,]+))?@(?P<hour>\d{1,2}):(?P<minute>\d{2})",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Tally:
    """Counts of one poll at one moment."""

    counts: list[int]
    voters: int

    def share(self, index: int) -> float:
        """The share of voters who chose option ``index``."""
        return self.counts[index] / self.voters if self.voters else 0.0

    def winners(self) -> list[int]:
        """Indexes of the options with the most votes (none when nobody voted)."""
        top = max(self.counts, default=0)
        return [i for i, c in enumerate(self.counts) if c == top] if top else []


@dataclass(slots=True)
class Outcome:
    """Everything a results message says."""

    tally: Tally
    needed: int
    newcomers: float
    beyond_usual: float
    quorum_met: bool = field(init=False)

    def __post_init__(self) -> None:
        self.quorum_met = self.tally.voters >= self.needed


def split_options(text: str) -> list[str]:
    """Options separated by ``|`` or ``;`` (or Arabic ``؛``), blanks dropped."""
    return [part.strip() for part in re.split(r"[|;؛]", text) if part.strip()]


def voter_key(salt: str | None, member: str) -> str:
    """The id a ballot is stored under: the member id, or its HMAC in an anonymous poll."""
    if salt is None:
        return member
    return hmac.new(bytes.fromhex(salt), member.encode(), hashlib.sha256).hexdigest()


# -- quorum and reach ---------------------------------------------------------------------


def active_members(members: Mapping[str, Seen], now: datetime) -> int:
    """Members who posted within the window."""
    since = now - WINDOW
    if isinstance(members, Columns):
        return members.posted_since(since)
    return sum(1 for m in members.values() if m.last_seen is not None and m.last_seen >= since)


def quorum_needed(quorum: int, quorum_percent: int, active: int) -> int:
    """The fewest voters: the larger of the fixed quorum and the share of active members."""
    return max(quorum, math.ceil(quorum_percent * active / 100))


def usual_voices(members: Mapping[str, Seen]) -> set[str]:
    """The most active 10% of members by message count (at least one), ties included.

    Tied members share a rank: whoever posted as much as the last of the top 10% is a usual
    voice too, so the figure never depends on member ids or names.
    """
    pairs = (members.message_counts() if isinstance(members, Columns)
             else [(member, seen.messages) for member, seen in members.items()])
    counts = sorted((n for _, n in pairs if n > 0), reverse=True)
    if not counts:
        return set()
    top = max(1, int(len(members) * USUAL_VOICES))
    least = counts[min(top, len(counts)) - 1]
    return {member for member, n in pairs if n >= least}


def outcome(
    tally: Tally, keys: set[str], salt: str | None, members: Mapping[str, Seen], now: datetime,
    quorum: int, quorum_percent: int,
) -> Outcome:
    """Quorum and reach of a tally; anonymous voters are matched in memory only.

    ``keys`` are the ballots' voter keys (member ids, or their HMAC under ``salt``).
    """
    since = now - WINDOW
    needed = quorum_needed(quorum, quorum_percent, active_members(members, now))
    usual = usual_voices(members)
    voters: Iterable[str]
    if salt is None:  # public: look the voters up instead of hashing every member
        voters = (k for k in keys if k in members)
    else:
        voters = (m for m in members if voter_key(salt, m) in keys)
    newcomers = beyond = known = 0
    joined_since = (members.joined_since(since) if isinstance(members, Columns)
                    else lambda m: (j := members[m].joined_at) is not None and j >= since)
    for member in voters:
        known += 1
        newcomers += joined_since(member)
        beyond += member not in usual
    beyond += tally.voters - known  # voters we never saw post are not usual voices
    n = tally.voters
    return Outcome(tally, needed, newcomers / n if n else 0.0, beyond / n if n else 0.0)


# -- what a new poll may be ---------------------------------------------------------------


def check_poll(
    ctx: Context, question: str, choices: list[str], deadline: datetime, multiple: int
) -> Markup | None:
    """What is wrong with a poll's question, options, deadline or ``multiple`` (None: ok)."""
    if not question:
        return ctx.t("The poll needs a question.")
    if len(question) > MAX_QUESTION:
        return ctx.t("The question can be at most {max} characters long; yours has {n}.",
                     max=MAX_QUESTION, n=len(question))
    if not MIN_OPTIONS <= len(choices) <= MAX_OPTIONS:
        return ctx.t(
            "A poll needs {min} to {max} options, separated by | or ;. You gave {n}.",
            min=MIN_OPTIONS, max=MAX_OPTIONS, n=len(choices),
        )
    seen: set[str] = set()
    for choice in choices:
        if len(choice) > MAX_OPTION:
            return ctx.t("Each option can be at most {max} characters long; “{option}” "
                         "has {n}.", max=MAX_OPTION, option=choice, n=len(choice))
        if choice.casefold() in seen:
            return ctx.t("“{option}” appears twice; every option must be different.",
                         option=choice)
        seen.add(choice.casefold())
    now = ctx.now()
    if deadline <= now:
        return ctx.t("The poll must close in the future; {when} has passed.", when=deadline)
    if deadline - now > timedelta(days=MAX_DAYS):
        return ctx.tn("A poll can stay open at most {n} day.",
                      "A poll can stay open at most {n} days.", MAX_DAYS)
    if multiple > len(choices):
        return ctx.t("“multiple” can be at most the number of options: {n}.",
                     n=len(choices))
    return None


def check_native(
    ctx: Context, limits: NativePollLimits, question: str, choices: list[str],
    duration: timedelta, anonymous: bool,
) -> Markup | None:
    """Why the platform's own poll cannot be this poll (None: it can).

    Refused up front, so a poll is never confirmed and then refused at delivery.
    """
    if (
        len(choices) > limits.max_options
        or any(len(c) > limits.max_option_length for c in choices)
        or len(question) > limits.max_question_length
    ):
        return ctx.t(
            "Native polls here allow at most {options} options of up to {length} "
            "characters and a question of up to {question} characters. Leave out "
            "native=yes to use buttons instead.",
            options=limits.max_options, length=limits.max_option_length,
            question=limits.max_question_length,
        )
    if limits.max_duration is not None and duration > limits.max_duration:
        example = f"{max(1, int(limits.max_duration.total_seconds() // 60))}m"
        return ctx.t(
            "A native poll here can stay open at most {limit}, and this one would stay open "
            "{duration}. Give a shorter duration (like duration={example}), or leave out "
            "native=yes to use buttons, which can stay open longer.",
            limit=limits.max_duration, duration=duration,
            example=example,
        )
    if anonymous and not limits.anonymous_votes_visible:
        # Making it public instead would show everyone's choices against the creator's wish.
        return ctx.t(
            "The bot cannot see the votes of an anonymous native poll here, so it could not "
            "count them. Leave out anonymous=yes for a public native poll, or leave out "
            "native=yes for an anonymous poll with buttons."
        )
    return None


# -- recurring polls ------------------------------------------------------------------------


def to_rrule(text: str) -> str | None:
    """The RRULE for a template's rule, or None when it is not one of the accepted forms.

    Accepted: ``weekly:mon@09:00`` (several days as ``mon,thu``), ``daily@18:30``,
    ``monthly:1@09:00`` (days 1-31, several as ``1,15``) and raw RRULE text starting with
    ``FREQ=`` (or ``RRULE:``) that repeats daily or less often. Whether the rule ever fires
    is checked by :func:`first_run`.
    """
    text = text.strip().translate(_DIGITS)
    if text.upper().startswith(("FREQ=", "RRULE:")):
        body = text.upper().removeprefix("RRULE:")
        parts = dict(part.partition("=")[::2] for part in body.split(";") if part)
        if parts.get("FREQ") not in RULE_FREQUENCIES:
            return None
        # Unset minutes and seconds would be taken from the moment the template was made.
        if "BYHOUR" in parts and "BYMINUTE" not in parts:
            body += ";BYMINUTE=0"
        return body if "BYSECOND" in parts else body + ";BYSECOND=0"
    match = _FRIENDLY_RULE.fullmatch(text)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        return None
    at = f"BYHOUR={hour};BYMINUTE={minute};BYSECOND=0"
    freq, on = match["freq"].lower(), (match["on"] or "").lower()
    items = [item for item in on.split(",") if item]
    if freq == "daily":
        return None if items else f"FREQ=DAILY;{at}"
    if not items:
        return None
    if freq == "weekly":
        if any(item not in WEEKDAYS for item in items):
            return None
        return f"FREQ=WEEKLY;BYDAY={','.join(dict.fromkeys(WEEKDAYS[i] for i in items))};{at}"
    if any(not item.isdigit() or not 1 <= int(item) <= 31 for item in items):
        return None
    return f"FREQ=MONTHLY;BYMONTHDAY={','.join(dict.fromkeys(str(int(i)) for i in items))};{at}"


def first_run(rule: str, timezone: str, now: datetime) -> tuple[str | None, datetime | None]:
    """The RRULE of a typed rule (None: not understood) and its first run (None: never)."""
    rrule = to_rrule(rule)
    if rrule is None:
        return None, None
    try:
        # as the scheduler reckons the first run (now itself counts)
        return rrule, next_occurrence(rrule, timezone, now, now - timedelta(microseconds=1))
    except (ScheduleError, ValueError, TypeError, KeyError):
        return None, None


def check_template(
    ctx: Context, name: str, rule: str, question: str, choices: list[str], length: timedelta,
    multiple: int, timezone: str,
) -> tuple[Markup | None, str | None, datetime | None]:
    """What is wrong with a new template (None: nothing), its RRULE and first run."""
    if not TEMPLATE_NAME.fullmatch(name):
        return ctx.t("A template name is one word of up to {max} letters, digits, - or _, "
                     "like “lunch”.", max=32), None, None
    now = ctx.now()
    rrule, upcoming = first_run(rule, timezone, now)
    if rrule is None:
        return ctx.t(
            "“{rule}” is not a schedule I understand. Use weekly:mon@09:00 (several days "
            "as mon,thu), daily@18:30, monthly:1@09:00 (day 1 to 31), or an RRULE such "
            "as FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0 that repeats at most daily. "
            "Times are in the community's timezone ({timezone}).",
            rule=rule, timezone=ctx.i18n.zone_name()), None, None
    if upcoming is None:
        return ctx.t("“{rule}” never happens again, so no poll would be made.",
                     rule=rule), None, None
    return check_poll(ctx, question, choices, now + length, multiple), rrule, upcoming


def short_label(option: str, limit: int) -> str:
    """A button label of at most ``limit`` characters."""
    return option if len(option) <= limit else option[: limit - 1] + "…"

