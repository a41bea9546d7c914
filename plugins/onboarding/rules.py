"""The onboarding rules as pure logic: greeting templates, the steps, the raid window.

Nothing here waits or touches the database, so each rule is testable on its own.
"""

from __future__ import annotations

import string
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import Markup, escape

if TYPE_CHECKING:
    from plugins.onboarding.settings import OnboardingSettings

#: The placeholders an admin's greeting template may use.
PLACEHOLDERS = ("name", "community", "member_count", "rules_link")
#: The steps admins switch on and off (``/onboarding_setup step NAME on|off``).
STEPS = ("rules", "interests", "intro")


def template_problem(template: str) -> str | None:
    """The first placeholder of ``template`` that is not allowed, or None when it is fine.

    Returns ``"{"`` for a template whose braces do not parse.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return "{"
    for _text, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in PLACEHOLDERS or spec or conversion:
            return field_name or "{}"
    return None


def render_template(template: str, values: dict[str, str]) -> Markup:
    """Fill an admin's template: its text is escaped like user text, and so are the values.

    The same as ``str.format_map`` on escaped text with escaped values, without letting
    escaping touch the placeholder names. The template must pass :func:`template_problem`.
    """
    parts: list[str] = []
    for text, field_name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(escape(text))
        if field_name is not None:
            parts.append(escape(values.get(field_name, "")))
    return Markup("".join(parts))


def interactive_steps(config: OnboardingSettings) -> list[str]:
    """The steps a member has to press through: switched on and not empty."""
    steps = []
    if config.step_rules and config.rules_text:
        steps.append("rules")
    if config.step_interests and config.interests:
        steps.append("interests")
    return steps


class RaidGuard:
    """Counts joins per community in a sliding window; a burst starts batching greetings."""

    def __init__(self) -> None:
        """Start with no joins seen."""
        self._joins: dict[str, deque[datetime]] = {}
        self._alerted: dict[str, datetime] = {}
        self._batch_due: set[str] = set()

    def join(self, community: str, now: datetime, config: OnboardingSettings) -> bool:
        """Note a join; True when the joins in the window exceed the threshold."""
        window = self._joins.setdefault(community, deque())
        window.append(now)
        horizon = now - timedelta(seconds=config.raid_seconds)
        while window and window[0] <= horizon:
            window.popleft()
        return len(window) > config.raid_joins

    def should_alert(self, community: str, now: datetime, config: OnboardingSettings) -> bool:
        """True once per raid window: moderators hear about a raid once, not per join."""
        alerted = self._alerted.get(community)
        if alerted is None or now - alerted > timedelta(seconds=config.raid_seconds):
            self._alerted[community] = now
            return True
        return False

    def batch_needed(self, community: str) -> bool:
        """True when no batched greeting is scheduled yet (and note that one now is)."""
        if community in self._batch_due:
            return False
        self._batch_due.add(community)
        return True

    def batch_done(self, community: str) -> None:
        """The batched greeting went out; the next raid schedules a new one."""
        self._batch_due.discard(community)
