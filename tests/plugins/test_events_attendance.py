"""Attendance rewarded: a check-in or an admin's mark earns contributions XP, once."""

from __future__ import annotations

from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.contributions import Contributions
from plugins.events import Events
from plugins.events.render import CheckIn
from tests.plugins.test_events import press_again

TUESDAY_18 = 1767718800  # 2026-01-06 17:00 UTC, 18:00 in Berlin


async def test_a_check_in_earns_event_attended_xp_once() -> None:
    async with FakeCommunity([Events, Contributions, Admin], admins=["amal"],
                             timezone="Europe/Berlin") as c:
        await c.says("amal", '/event_create "Quiz" "tomorrow 18:00" duration=2h')
        await c.presses("amal", "Post it")
        await c.presses("sara", "Going")
        await c.says("sara", "/rank")
        before = c.expect("sara", to=None).text
        await c.advance("32h")
        await c.presses("sara", "Check in")
        c.expect("Checked in to Quiz.", to="sara")
        await press_again(c, "sara", CheckIn(1, TUESDAY_18), "again-1")  # a replay
        await c.presses("sara", "Check in")  # and a second press
        await c.joins("omar")
        await c.says("amal", "/event_attendance 1 @omar")
        c.expect("omar is marked present on Tue, January 6, 2026, 18:00 (Berlin).", to="amal")
        await c.says("sara", "/rank")
        after = c.expect("sara", to=None).text
        await c.says("omar", "/rank")
        omar = c.expect("omar", to=None).text
    assert "0 XP" in before
    assert "20 XP" in after  # the weight of event_attended, counted once
    assert "20 XP" in omar
