"""The digest and poll outcomes: contents with numbers counted independently, approval
drafts, quiet periods, the period setting, and a restart that neither loses nor repeats."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.testing import START, FakeCommunity
from plugins.admin import Admin
from plugins.feedback import Feedback
from plugins.polls import Polls

UP, DOWN = "👍 Vote up", "👎 Vote down"
#: The first digest: the Monday after the plugin started (START is a Monday, 09:00).
FIRST = START + timedelta(days=7)


async def until(club: FakeCommunity, when: object) -> list:
    """Advance the clock to ``when``."""
    return await club.advance(when - club.clock.now())  # type: ignore[operator]


async def test_a_week_of_feedback_becomes_the_digest_and_poll_voters_hear_the_outcome() -> None:
    async with FakeCommunity([Feedback, Polls, Admin], admins=["amal"]) as club:
        await club.set_language("lina", "ar")
        await club.says("sara", "/suggest Add a channel for board games")
        votes_1 = {"lina": UP, "omar": UP}
        for name, button in votes_1.items():
            await club.presses(name, button)
        await club.says("omar", "/suggest Move meetups to the evening")
        votes_2 = {"nour": DOWN}
        for name, button in votes_2.items():
            await club.presses(name, button)
        await club.says("amal", "/suggestion_status 1 under_review")
        await club.says("amal", "/suggestion_status 1 planned next month")
        await club.says("amal", "/suggestion_status 2 declined most of us work evenings")
        await club.says("amal", '/poll "Which day?" "Sat | Sun" duration=1d')
        ballots = {"sara": "Sat", "omar": "Sat", "lina": "Sun"}
        for name, option in ballots.items():
            await club.presses(name, option)
        club.new()
        await club.advance("1d")
        club.expect("🗳 Poll #1 “Which day?” closed (3 voters; winner: Sat). What was done "
                    "with it? Tell the voters with /poll_outcome 1")
        await club.says("sara", "/poll_outcome 1 Meetups move to Saturday")
        assert not [s for s in club.new() if "recorded" in s.text]  # admins only
        await club.says("amal", "/poll_outcome 4 Meetups move to Saturday")
        club.expect("There is no closed poll #4 here", to="amal")
        await club.says("amal", "/poll_outcome 1 Meetups move to Saturday")
        told = {s.to: s.text for s in club.new() if s.is_dm}
        assert told == {
            "sara": "🗳 What came of poll #1 “Which day?”: Meetups move to Saturday",
            "omar": "🗳 What came of poll #1 “Which day?”: Meetups move to Saturday",
            "lina": "🗳 ما نتج عن الاستطلاع رقم 1 «Which day?»: Meetups move to Saturday",
        }
        await club.says("amal", "/poll_outcome 1 Meetups move to Saturday")
        club.expect("This outcome of poll #1 is recorded already.", to="amal")
        assert not [s for s in club.new() if s.is_dm]  # nobody is told twice

        fired = await until(club, FIRST)
        (digest,) = [s for s in fired if s.text.startswith("📰")]
        members = set(votes_1) | set(votes_2) | {"sara", "omar"}
        assert digest.to is None and digest.text.splitlines() == [
            "📰 You said, we did — Jan 5, 2026 to Jan 12, 2026",
            "",
            "We asked",
            f"• Poll #1 “Which day?”: {len(ballots)} voters; winner: Sat.",
            "  We did: Meetups move to Saturday",
            "",
            "You said",
            "2 new suggestions:",
            f"• #1 Add a channel for board games (👍 {len(votes_1)} · 👎 0)",
            "• #2 Move meetups to the evening (👍 0 · 👎 1)",
            "",
            "We did",
            "• #1 Add a channel for board games: planned. Why: next month",
            "",
            "Declined, and why",
            "• #2 Move meetups to the evening: most of us work evenings",
            "",
            "What's next",
            "• #1 Add a channel for board games: planned",
            "",
            "Taking part",
            f"{len(members)} members took part ({len(members)} of them for the first time).",
            f"{len(ballots)} votes in the polls that closed.",
        ]

        # the second week: one returning member and one newcomer
        await club.says("amal", "/roadmap")
        await club.presses("nour", UP)  # the roadmap has no buttons: the latest post is #2's
        club.new()
        await club.says("kamal", "/suggest A quiet room for studying")
        fired = await until(club, FIRST + timedelta(days=7))
        (second,) = [s for s in fired if s.text.startswith("📰")]
        assert "📰 You said, we did — Jan 12, 2026 to Jan 19, 2026" in second.text
        assert "2 members took part (1 of them for the first time)." in second.text
        assert "We asked" not in second.text  # no poll closed this week


async def test_the_digest_waits_for_approval_and_admins_can_edit_it() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("amal", "/config feedback digest_approval yes")
        await club.says("sara", "/suggest Add a channel for board games")
        club.new()
        fired = await until(club, FIRST)
        assert not [s for s in fired if s.text.startswith("📰")]  # members see nothing yet
        draft = club.expect("📝 Digest draft, waiting for an admin's approval",
                            buttons=["Approve and post"])
        assert "• #1 Add a channel for board games (👍 0 · 👎 0)" in draft.text
        await club.says("amal", "/digest_edit This week: one idea, a board games channel.")
        club.expect("This week: one idea, a board games channel.", buttons=["Approve and post"])
        await club.presses("sara", "Approve and post")
        club.expect("Only admins can approve the digest.", to="sara")
        await club.presses("amal", "Approve and post")
        posted = club.expect("This week: one idea, a board games channel.")
        assert posted.to is None and posted.buttons == ()
        club.expect("The digest is posted.", to="amal")
        await club.says("amal", "/digest_edit too late")
        club.expect("There is no digest draft waiting", to="amal")


async def test_a_quiet_week_is_one_line_or_nothing() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"], language="ar") as club:
        fired = await until(club, FIRST)
        assert [s.text for s in fired] == [
            "📰 لا جديد من 05\u200f/01\u200f/2026 إلى 12\u200f/01\u200f/2026: لا اقتراحات "
            "ولا قرارات ولا استطلاعات."]
        await club.says("amal", "/config feedback quiet_digest skip")
        club.new()
        assert await until(club, FIRST + timedelta(days=7)) == []


async def test_a_monthly_digest_covers_the_month() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("amal", "/config feedback digest monthly")
        await club.says("sara", "/suggest Add a channel for board games")
        club.new()
        fired = await until(club, FIRST)  # the weekly alarm moves itself to monthly
        assert not [s for s in fired if s.text.startswith("📰")]
        fired = await until(club, START.replace(month=2, day=1))
        (digest,) = [s for s in fired if s.text.startswith("📰")]
        assert digest.text.startswith("📰 You said, we did — Jan 5, 2026 to Feb 1, 2026")
        assert "1 new suggestion:" in digest.text


async def test_a_digest_missed_while_down_comes_once_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with FakeCommunity([Feedback, Admin], admins=["amal"], database_url=url) as club:
        await club.says("sara", "/suggest Add a channel for board games")
    later = FIRST + timedelta(hours=5)
    async with FakeCommunity([Feedback, Admin], admins=["amal"], database_url=url,
                             start=later) as club:
        await club.advance("1m")
        digests = [s for s in club.sent if s.text.startswith("📰")]
        assert len(digests) == 1 and "1 new suggestion:" in digests[0].text
        await club.says("amal", "/digest_now")
        club.expect("📰 Nothing to report from Jan 12, 2026 to Jan 12, 2026")
    async with FakeCommunity([Feedback, Admin], admins=["amal"], database_url=url,
                             start=later + timedelta(hours=1)) as club:
        await club.advance("1h")
        assert not [s for s in club.sent if s.text.startswith("📰")]


async def test_an_anonymous_polls_outcome_is_posted_for_everyone_naming_no_voter() -> None:
    async with FakeCommunity([Feedback, Polls, Admin], admins=["amal"]) as club:
        await club.says("amal", '/poll "Secret ballot?" "Yes | No" duration=1h anonymous=yes')
        for name in ("sara", "omar"):
            await club.presses(name, "Yes")
        await club.advance("1h")
        club.new()
        await club.says("amal", "/poll_outcome 1 We go ahead")
        sent = club.new()
        assert [(s.to, s.text) for s in sent if "What came of" in s.text] == [
            (None, "🗳 What came of poll #1 “Secret ballot?”: We go ahead")]
        assert not [s for s in sent if s.is_dm]
        club.new()
        await club.says("amal", "/poll_outcome 1 We go ahead, from March")  # a correction
        assert "We go ahead, from March" in club.expect("What came of poll #1").text


async def test_replays_of_poll_closed_and_of_the_digest_job_change_nothing() -> None:
    from bot import PollClosed, internal_id

    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        community = club.platform.community
        for _ in range(2):  # delivered twice, under two ids: the handler itself must cope
            await club.app.dispatcher.dispatch(PollClosed(
                id=internal_id("test.closed"), community=community, at=club.clock.now(),
                poll_id=7, question="Which day?", winners=("Sat",), voters=2,
                voter_ids=("sara", "omar")))
        await club.app.settle()
        asked = [s for s in club.new() if "/poll_outcome 7" in s.text]
        assert len(asked) == 1
        await club.says("sara", "/suggest Add a channel for board games")
        plugin = club.app.plugins["feedback"]
        assert isinstance(plugin, Feedback)
        ctx = plugin.context(community)
        data = {"period": "weekly", "since": START.isoformat(),
                "_occurrence": FIRST.isoformat()}
        club.new()
        await plugin.digest_due(ctx, data)
        await plugin.digest_due(ctx, data)  # the same occurrence again
        await club.app.settle()
        assert len([s for s in club.new() if s.text.startswith("📰")]) == 1


async def test_first_timers_are_counted_by_their_first_contribution_not_a_draft() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("sara", "/suggest Add a channel for board games")
        # kamal's idea is like #1: he is offered #1 instead and posts nothing this week
        await club.says("kamal", "/suggest Add channels for board games!")
        offer = [s for s in club.new() if s.to == "kamal"]
        assert any("instead" in s.text for s in offer)
        (first,) = [s for s in await until(club, FIRST) if s.text.startswith("📰")]
        assert "1 member took part (1 of them for the first time)." in first.text

        await club.presses("kamal", "👍 #1")  # the week after, he votes for #1: his first time
        await club.says("nour", "/suggest Publish the meeting notes")
        (second,) = [s for s in await until(club, FIRST + timedelta(days=7))
                     if s.text.startswith("📰")]
        assert "2 members took part (2 of them for the first time)." in second.text


async def test_voters_whose_dms_are_closed_hear_the_outcome_in_one_post() -> None:
    async with FakeCommunity([Feedback, Polls, Admin], admins=["amal"]) as club:
        await club.says("amal", '/poll "Which day?" "Sat | Sun" duration=1d')
        ballots = {"sara": "Sat", "omar": "Sat", "lina": "Sun", "hadi": "Sun", "noor": "Sat"}
        for name, option in ballots.items():
            await club.presses(name, option)
        await club.advance("1d")
        club.closes_dms("omar", "hadi", "noor")
        club.new()
        await club.says("amal", "/poll_outcome 1 Meetups move to Saturday")
        told = club.new()
        assert sorted(s.to for s in told if s.is_dm) == ["lina", "sara"]
        (post,) = [s for s in told if s.to is None and "🗳" in s.text]
        assert sorted(post.mentions) == ["hadi", "noor", "omar"]
        assert post.text == ("@hadi @noor @omar 🗳 What came of poll #1 “Which day?”: Meetups "
                             "move to Saturday")
