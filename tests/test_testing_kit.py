"""The test kit reads like a conversation and says what was sent when an expectation fails."""

from __future__ import annotations

import pytest

from bot.testing import FakeCommunity
from plugins.example import Example


async def test_a_conversation_with_buttons_language_and_time() -> None:
    async with FakeCommunity([Example], language="ar") as club:
        await club.joins("sara")
        club.expect("sara", buttons=["لوّح بالمقابل"])
        await club.presses("sara", "لوّح بالمقابل")
        club.expect("لوّحت مرة واحدة.")
        await club.set_language("sara", "en")
        await club.says("sara", "/remind 2h call the venue")
        club.expect("I will remind you", to=None)
        assert await club.advance("1h") == []
        fired = await club.advance("1h")
        # The job runs later, without the member's client: the community's language speaks.
        assert [s.text for s in fired] == ["⏰ @sara، طلبت مني أن أذكّرك: call the venue"]


async def test_expect_fails_with_what_was_sent() -> None:
    async with FakeCommunity([Example]) as club:
        await club.joins("sara")
        with pytest.raises(AssertionError, match="Welcome, sara"):
            club.expect("Goodbye")
        with pytest.raises(AssertionError, match="no button 'Nope'"):
            await club.presses("sara", "Nope")
        club.new()
        club.expect_nothing()


async def test_admins_are_admins_and_members_are_refused() -> None:
    async with FakeCommunity([Example], admins=["amal"]) as club:
        await club.says("amal", "/pause")
        club.expect("Paused.")
        await club.says("sara", "/resume")
        club.expect("Sorry, /resume is only for admins.", to="sara")
        assert club.sent_to("sara")[-1].private
