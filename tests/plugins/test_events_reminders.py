"""Reminders and the start ping: to those going only, once, also across restarts.

The clock starts Monday 2026-01-05 09:00 UTC; "tomorrow 18:00" in Europe/Berlin is Tuesday
17:00 UTC, so the 24 h reminder is due Monday 17:00 UTC and the 1 h one Tuesday 16:00 UTC.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot import Capability
from bot.testing import START, FakeCommunity, Sent
from plugins.admin import Admin
from plugins.events import Events

TOMORROW = '/event_create "Quiz night" "tomorrow 18:00" duration=2h place="The Nook"'


def club(**kwargs: object) -> FakeCommunity:
    kwargs.setdefault("timezone", "Europe/Berlin")
    c = FakeCommunity([Events, Admin], admins=["amal"], **kwargs)  # type: ignore[arg-type]
    for name in ("sara", "omar", "lina", "hadi"):  # known to the console after a restart
        c.member(name)
    return c


async def set_up(c: FakeCommunity, command: str = TOMORROW) -> None:
    await c.says("amal", command)
    await c.presses("amal", "Post it")
    await c.presses("sara", "Going")
    await c.presses("omar", "Going")
    await c.presses("lina", "Maybe")
    await c.presses("hadi", "Can't come")
    c.new()


def reminders(sent: list[Sent]) -> list[tuple[str | None, str]]:
    return [(s.to, s.text) for s in sent if "⏰ Reminder" in s.text]


def shown(c: FakeCommunity, text: str) -> list[str]:
    """Transcript lines with ``text``: what members saw (the kit's record of a delivery
    retried during start-up, before the console is attached, holds it twice)."""
    out = c.platform.out.getvalue()  # type: ignore[union-attr]
    return [line for line in out.splitlines() if text in line]


async def test_24h_and_1h_reminders_go_to_those_going_by_dm_then_a_start_ping() -> None:
    async with club() as c:
        await set_up(c)
        assert reminders(await c.advance("7h59m")) == []
        fired = await c.advance("1m")  # Monday 17:00 UTC: 24 h before
        assert sorted(reminders(fired)) == [
            ("omar", "⏰ Reminder: Quiz night starts Tue, January 6, 2026, 18:00 (Berlin). "
                     "📍 The Nook"),
            ("sara", "⏰ Reminder: Quiz night starts Tue, January 6, 2026, 18:00 (Berlin). "
                     "📍 The Nook")]
        assert all(s.is_dm for s in fired if "Reminder" in s.text)
        fired = await c.advance("23h")  # Tuesday 16:00 UTC: 1 h before
        assert sorted(to or "" for to, _ in reminders(fired)) == ["omar", "sara"]
        fired = await c.advance("1h")
        (ping,) = [s for s in fired if "starts now" in s.text]
        assert ping.to is None and ping.text.startswith("@sara @omar ▶️ Quiz night starts now.")
        assert "@lina" not in ping.text and "@hadi" not in ping.text
        assert reminders(await c.advance("7d")) == []


async def test_without_dms_one_channel_message_mentions_only_those_going() -> None:
    c = club()
    c.platform.capabilities = c.platform.capabilities - {Capability.DIRECT_MESSAGES}
    async with c:
        await set_up(c)
        fired = await c.advance("8h")
        (only,) = reminders(fired)
        assert only == (None, "@sara @omar ⏰ Reminder: Quiz night starts Tue, January 6, 2026, "
                              "18:00 (Berlin). 📍 The Nook")


async def test_reminder_times_are_a_community_setting() -> None:
    async with club() as c:
        await c.says("amal", "/config events reminders 3h")
        await set_up(c)
        assert reminders(await c.advance("28h")) == []  # 24 h and 1 h are off
        fired = await c.advance("1h")  # Tuesday 14:00 UTC: 3 h before
        assert sorted(to or "" for to, _ in reminders(fired)) == ["omar", "sara"]
        await c.says("amal", "/config events reminders 0m")
        c.expect("reminders", to="amal")


async def test_a_restart_neither_repeats_nor_loses_a_reminder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    async with club(database_url=url) as c:
        await set_up(c)
        fired = await c.advance("8h")  # the 24 h reminder went out, then the bot stops
        assert len(reminders(fired)) == 2
    async with club(database_url=url, start=START + timedelta(hours=8, minutes=5)) as c:
        assert reminders(c.sent) == []  # not sent again at start-up
        fired = await c.advance("23h")
        assert sorted(to or "" for to, _ in reminders(fired)) == ["omar", "sara"]  # the 1 h
        assert len([s for s in c.sent if "starts now" in s.text]) == 0
        fired = await c.advance("1h")
        assert len([s for s in fired if "starts now" in s.text]) == 1


async def test_a_reminder_missed_while_down_is_sent_late_only_before_the_start(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'late.db'}"
    async with club(database_url=url) as c:
        await set_up(c)
    # down from Monday 09:00 to Monday 20:00 UTC: the 24 h reminder (17:00) is late
    async with club(database_url=url, start=START + timedelta(hours=11)) as c:
        assert sorted(line.split(")")[0] for line in shown(c, "⏰ Reminder")) == [
            "[2026-01-05 20:00] Majlis: (DM to omar", "[2026-01-05 20:00] Majlis: (DM to sara"]
    # down again until Tuesday 16:30 UTC: both reminders passed; only the 1 h one comes
    url2 = f"sqlite+aiosqlite:///{tmp_path / 'late2.db'}"
    async with club(database_url=url2) as c:
        await set_up(c)
    async with club(database_url=url2, start=START + timedelta(hours=31, minutes=30)) as c:
        await c.advance("1s")  # the alarm set at start-up for what became due meanwhile
        assert len(shown(c, "⏰ Reminder")) == 2
        assert shown(c, "starts now") == []
    # down until after the start (Tuesday 17:30 UTC): no reminder, a late start ping
    url3 = f"sqlite+aiosqlite:///{tmp_path / 'late3.db'}"
    async with club(database_url=url3) as c:
        await set_up(c)
    async with club(database_url=url3, start=START + timedelta(hours=32, minutes=30)) as c:
        await c.advance("1s")
        assert shown(c, "⏰ Reminder") == []
        assert len(shown(c, "starts now")) == 1
    # down until after the end: nothing at all
    url4 = f"sqlite+aiosqlite:///{tmp_path / 'late4.db'}"
    async with club(database_url=url4) as c:
        await set_up(c)
    async with club(database_url=url4, start=START + timedelta(days=2)) as c:
        await c.advance("1s")
        assert shown(c, "⏰ Reminder") == [] and shown(c, "starts now") == []


# -- issues 16, 18: members whose DMs are closed share one post --------------------------


async def five_going(c: FakeCommunity, command: str = TOMORROW, post: str = "Post it",
                     going: str = "Going") -> None:
    await c.says("amal", command)
    await c.presses("amal", post)
    for name in ("sara", "omar", "lina", "hadi", "noor"):
        await c.presses(name, going)
    c.new()


async def test_three_of_five_with_closed_dms_are_reminded_in_one_post() -> None:
    async with club() as c:
        await five_going(c)
        c.closes_dms("sara", "lina", "noor")
        fired = await c.advance("8h")  # the 24 h reminder
        assert sorted(s.to for s in fired if s.is_dm) == ["hadi", "omar"]
        (post,) = [s for s in fired if s.to is None]
        assert sorted(post.mentions) == ["lina", "noor", "sara"]
        assert post.text == ("@sara @lina @noor ⏰ Reminder: Quiz night starts Tue, January 6, "
                             "2026, 18:00 (Berlin). 📍 The Nook")
        # the 1 h reminder: one post again, not one per member
        fired = await c.advance("23h")
        assert len([s for s in fired if s.to is None and "Reminder" in s.text]) == 1


async def test_when_every_reminder_is_delivered_nothing_is_posted_in_the_channel() -> None:
    async with club() as c:
        await five_going(c)
        fired = await c.advance("8h")
        assert len([s for s in fired if s.is_dm]) == 5
        assert [s for s in fired if s.to is None] == []


async def test_arabic_community_one_post_in_arabic_for_the_closed_dms() -> None:
    async with club(language="ar") as c:
        await five_going(c, '/event_create "حلقة القراءة" "tomorrow 18:00" place="المكتبة"',
                         "انشرها", "سأحضر")
        c.closes_dms("sara", "omar", "lina", "hadi", "noor")
        fired = await c.advance("8h")
        (post,) = [s for s in fired if s.to is None]
        assert sorted(post.mentions) == ["hadi", "lina", "noor", "omar", "sara"]
        assert post.text.startswith(
            "@sara @omar @lina @hadi @noor ⏰ تذكير: تبدأ حلقة القراءة يوم")


async def test_a_reminder_reads_its_event_and_answers_at_once() -> None:
    """A burst of reminders is many of these jobs: each reads the event, its changed
    occurrences and its answers in one go (one connection, each table once)."""
    async with club() as c:
        await set_up(c)
        await c.advance("7h59m")
        reads: list[tuple[Any, str]] = []  # (the connection, kept: its id is not reused)

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            found = re.search(r"\bFROM\s+(events_\w+)", statement)
            if statement.lstrip().startswith("SELECT") and found:
                reads.append((conn, found.group(1)))

        engine = c.app.kernel.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            fired = await c.advance("1m")  # the 24 h reminder
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert sorted(to or "" for to, _ in reminders(fired)) == ["omar", "sara"]
        assert sorted(table for _, table in reads) == [
            "events_cancelled", "events_events", "events_overrides", "events_rsvps",
            "events_series_rsvps"]
        assert len({id(conn) for conn, _ in reads}) == 1
