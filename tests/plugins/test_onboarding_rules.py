"""Onboarding's pure rules: message progress in memory and the raid window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plugins.onboarding.progress import Progress, ProgressBook, Step
from plugins.onboarding.rules import RaidGuard, interactive_steps
from plugins.onboarding.settings import OnboardingSettings

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CONFIG = OnboardingSettings(graduate_messages=3, graduate_days=2)


def test_first_message_then_graduation_once_then_nothing_to_count() -> None:
    book = ProgressBook()
    book.track("c", "sara", Progress(joined_at=T0))
    assert book.posted("c", "sara", T0, CONFIG) == Step.FIRST
    assert book.posted("c", "sara", T0, CONFIG) == Step.NOTHING  # second: counted only
    later = T0 + timedelta(days=2)
    assert book.posted("c", "sara", later, CONFIG) == Step.GRADUATE
    assert book.get("c", "sara") is None  # settled: two messages and graduated
    assert book.posted("c", "sara", later, CONFIG) == Step.NOTHING
    written = book.take_dirty()
    progress = written[("c", "sara")]
    assert (progress.messages, progress.first_message_at, progress.second_message_at) == (
        3, T0, T0)
    assert book.take_dirty() == {}


def test_unknown_members_cost_nothing_and_a_failed_write_is_kept() -> None:
    book = ProgressBook()
    assert book.posted("c", "old-timer", T0, CONFIG) == Step.NOTHING
    assert book.take_dirty() == {}
    book.track("c", "omar", Progress(joined_at=T0))
    book.posted("c", "omar", T0, CONFIG)
    batch = book.take_dirty()
    book.posted("c", "omar", T0, CONFIG)
    book.put_back(batch)  # the write failed: nothing is lost
    assert book.take_dirty()[("c", "omar")].messages == 2


def test_rejoin_keeps_counts_not_yet_written() -> None:
    book = ProgressBook()
    book.track("c", "lina", Progress(joined_at=T0))
    book.posted("c", "lina", T0, CONFIG)
    stale = Progress(joined_at=T0 + timedelta(hours=1))  # read from a row not yet flushed
    book.track("c", "lina", stale)
    held = book.get("c", "lina")
    assert held is not None and held.messages == 1 and held.joined_at == stale.joined_at


def test_forget_drops_the_member_on_one_platform_only() -> None:
    book = ProgressBook()
    book.track("console:a", "x", Progress(joined_at=T0))
    book.track("telegram:1", "x", Progress(joined_at=T0))
    book.posted("console:a", "x", T0, CONFIG)
    book.forget("x", "console:")
    assert book.get("console:a", "x") is None and book.get("telegram:1", "x") is not None
    assert book.take_dirty() == {}


def test_raid_window_alerts_once_and_schedules_one_batch() -> None:
    guard = RaidGuard()
    config = OnboardingSettings(raid_joins=2, raid_seconds=60)
    assert [guard.join("c", T0, config) for _ in range(3)] == [False, False, True]
    assert guard.should_alert("c", T0, config) and not guard.should_alert("c", T0, config)
    assert guard.batch_needed("c") and not guard.batch_needed("c")
    guard.batch_done("c")
    assert guard.batch_needed("c")
    assert not guard.join("c", T0 + timedelta(seconds=61), config)  # the window moved on


def test_only_steps_with_something_to_press_are_interactive() -> None:
    assert interactive_steps(OnboardingSettings()) == []
    assert interactive_steps(OnboardingSettings(rules_text="Be kind.")) == ["rules"]
    assert interactive_steps(OnboardingSettings(rules_text="Be kind.", step_rules=False)) == []
