"""Feedback's export and forget: a member's suggestions, votes and follows; a forgotten
author's suggestion stays, by "a member", with its decisions."""

from __future__ import annotations

from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.feedback import Feedback
from plugins.polls import Polls


async def test_export_then_forget_keeps_the_record_of_decisions() -> None:
    async with FakeCommunity([Feedback, Polls, Admin], admins=["amal"]) as club:
        await club.says("sara", "/suggest Add a channel for board games")
        await club.presses("sara", "🔔 Follow")
        await club.says("omar", "/suggest_anonymous Publish the meeting notes")
        await club.presses("sara", "👍 Vote up")
        await club.says("amal", "/suggestion_status 1 under_review asking around")
        await club.says("amal", '/poll "Which day?" "Sat | Sun" duration=1h')
        await club.presses("sara", "Sat")
        await club.presses("omar", "Sun")
        await club.advance("1h")

        data = (await club.app.export_member(club.member("sara")))["feedback"]
        assert [s["text"] for s in data["suggestions"]] == ["Add a channel for board games"]
        assert [(v["suggestion"], v["value"]) for v in data["votes"]] == [(2, 1)]
        assert [f["suggestion"] for f in data["follows"]] == [1]
        assert data["status_changes_made"] == []
        admin = (await club.app.export_member(club.member("amal")))["feedback"]
        assert [(c["suggestion"], c["status"]) for c in admin["status_changes_made"]] == [
            (1, "under_review")]

        await club.says("sara", "/forget_me")
        await club.presses("sara", "Yes, erase my data")
        club.new()
        data = (await club.app.export_member(club.member("sara")))["feedback"]
        assert data == {"suggestions": [], "votes": [], "follows": [],
                        "status_changes_made": [], "profile": []}
        await club.says("amal", "/suggestion_history 1")
        history = club.expect("Suggestion #1 by a member (forgotten)", to="amal").text
        assert "under review, by amal. Why: asking around" in history and "sara" not in history
        await club.says("amal", "/suggestion_status 1 planned")
        club.expect("Suggestion #1 is now planned; I told 0 members.", to="amal")
        # the poll's outcome reaches the voters still known, not the forgotten one
        await club.says("amal", "/poll_outcome 1 We meet on Sundays")
        assert [s.to for s in club.new() if s.is_dm] == ["omar"]
