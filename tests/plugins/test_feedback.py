"""Feedback: posting, voting, the lifecycle's transitions, notices told once in each
member's language, duplicate merges, the review queue, anonymity and bad input."""

from __future__ import annotations

from dataclasses import dataclass

from bot import Context, ContributionMade, MemberRef, Plugin, on
from bot.testing import FakeCommunity, Sent
from plugins.admin import Admin
from plugins.feedback import Feedback

UP, DOWN, FOLLOW = "👍 Vote up", "👎 Vote down", "🔔 Follow"


def notices(club: FakeCommunity, name: str, number: int) -> list[Sent]:
    """The status notices ``name`` received about suggestion #number."""
    return [s for s in club.sent_to(name)
            if s.text.startswith("🔔") and (f"#{number} " in s.text or f"رقم {number} " in s.text)]


async def test_a_suggestion_is_posted_with_vote_and_follow_buttons() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("sara", "/suggest Add a channel for board games")
        post = club.expect("💡 Suggestion #1: Add a channel for board games",
                           buttons=[UP, DOWN, FOLLOW])
        assert "By sara · status: new" in post.text and post.to is None
        assert "Comments: reply to this message." in post.text  # the console has no threads
        club.expect("Your suggestion #1 is posted.", to="sara")
        await club.presses("omar", UP)
        club.expect("Your 👍 for #1 is counted.", to="omar")
        await club.presses("omar", UP)
        club.expect("You already gave #1 a 👍.", to="omar")
        await club.presses("omar", DOWN)
        club.expect("You changed your vote on #1 to 👎.", to="omar")
        await club.presses("lina", FOLLOW)
        club.expect("You follow #1: I will tell you when its status changes.", to="lina")
        await club.presses("lina", FOLLOW)
        club.expect("You follow #1 already.", to="lina")
        await club.says("lina", "/unfollow 1")
        club.expect("You no longer follow #1.", to="lina")
        await club.says("lina", "/unfollow 1")
        club.expect("You were not following #1.", to="lina")


async def test_transitions_follow_the_lifecycle_and_refusals_change_nothing() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("sara", "/suggest A monthly quiz night")
        await club.says("amal", "/suggestion_status 1 planned")
        club.expect("Suggestion #1 is new; from there it can become: under_review (under "
                    "review), needs_info (needs more information), declined (declined), "
                    "duplicate (duplicate).", to="amal")
        await club.says("amal", "/suggestion_status 1 declined")
        club.expect("Declining needs a reason members can read", to="amal")
        await club.says("amal", "/suggestion_status 1 launched")
        club.expect("“launched”", to="amal")  # the parser names the allowed statuses
        await club.says("amal", "/suggestion_status 7 planned")
        club.expect("There is no suggestion #7 here.", to="amal")
        await club.says("sara", "/suggestion_status 1 done")
        assert not [s for s in club.new() if "is now" in s.text]  # members may not
        for step in ("needs_info", "under_review", "planned", "in_progress", "done"):
            await club.says("amal", f"/suggestion_status 1 {step} step {step}")
        await club.says("amal", "/suggestion_status 1 in_progress")
        club.expect("Suggestion #1 is done, which is final; nothing changed.", to="amal")
        await club.says("amal", "/suggestion_status 1 done")
        club.expect("Suggestion #1 is done already; nothing changed.", to="amal")
        club.new()
        await club.says("amal", "/suggestion_history 1")
        history = club.expect("Suggestion #1 by sara", to="amal").text
        assert [line.split(", by ")[0].split(": ", 1)[1] for line in history.splitlines()[1:]] \
            == ["new → needs more information", "needs more information → under review",
                "under review → planned", "planned → in progress", "in progress → done"]
        assert history.count("by amal. Why: step ") == 5
        # sara was told of each of the five changes exactly once
        assert len(notices(club, "sara", 1)) == 5


async def test_everyone_concerned_is_told_once_in_their_own_language() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.set_language("omar", "ar")
        await club.says("sara", "/suggest Open a help desk on Fridays")
        await club.presses("omar", UP)
        await club.presses("omar", FOLLOW)      # voted and follows: told once
        await club.presses("lina", DOWN)
        await club.presses("amal", UP)          # the moderator who acts is not told
        club.new()
        await club.says("amal", "/suggestion_status 1 under_review we are asking the team")
        club.expect("Suggestion #1 is now under review; I told 3 members.", to="amal")
        (to_sara,) = notices(club, "sara", 1)
        assert to_sara.is_dm and to_sara.text == (
            "🔔 Suggestion #1 “Open a help desk on Fridays” is now under review.\n"
            "Why: we are asking the team")
        (to_omar,) = notices(club, "omar", 1)
        assert to_omar.is_dm and to_omar.text == (
            "🔔 أصبحت حالة الاقتراح رقم 1 «Open a help desk on Fridays»: قيد الدراسة.\n"
            "السبب: we are asking the team")
        assert len(notices(club, "lina", 1)) == 1 and notices(club, "amal", 1) == []
        # a command delivered again finds the change made and tells nobody twice
        await club.says("amal", "/suggestion_status 1 under_review we are asking the team")
        club.expect("Suggestion #1 is under review already; nothing changed.", to="amal")
        assert [len(notices(club, n, 1)) for n in ("sara", "omar", "lina")] == [1, 1, 1]


async def test_a_duplicate_hands_over_votes_and_followers_without_double_counting() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("sara", "/suggest Weekly coding challenge")
        votes_1 = {"lina": 1, "nour": -1}
        followers_1 = {"lina"}
        for name, value in votes_1.items():
            await club.presses(name, UP if value > 0 else DOWN)
        for name in followers_1:
            await club.presses(name, FOLLOW)
        await club.says("omar", "/suggest A contest every week, about code")
        if club.new()[-1].buttons:  # offered #1 first: omar posts his anyway
            await club.presses("omar", "Post mine anyway")
        votes_2 = {"lina": 1, "kamal": 1}
        followers_2 = {"kamal", "zaid"}
        for name, value in votes_2.items():
            await club.presses(name, UP if value > 0 else DOWN)
        for name in followers_2:
            await club.presses(name, FOLLOW)
        await club.says("amal", "/suggestion_duplicate 2 2")
        club.expect("A suggestion cannot duplicate itself", to="amal")
        await club.says("amal", "/suggestion_duplicate 2 9")
        club.expect("There is no suggestion #9 here.", to="amal")
        await club.says("amal", "/suggestion_duplicate 2 1")
        told = {"omar"} | set(votes_2) | followers_2
        club.expect(f"Suggestion #2 is now duplicate; I told {len(told)} members.", to="amal")
        (moved,) = notices(club, "kamal", 2)
        assert "It duplicates #1: your vote and follow moved there." in moved.text
        # #1 now counts each member once: lina voted on both
        merged = {**votes_2, **votes_1}
        up = sum(1 for v in merged.values() if v > 0)
        await club.says("amal", "/suggestion_status 1 under_review")
        await club.says("amal", "/suggestion_status 1 planned")
        await club.says("amal", "/roadmap")
        club.expect(f"• #1 Weekly coding challenge (👍 {up})")
        concerned = {"sara"} | set(merged) | followers_1 | followers_2 | {"omar"}
        for name in sorted(concerned):
            assert len(notices(club, name, 1)) == 2, name  # under review, planned
        await club.says("amal", "/suggestion_status 2 planned")
        club.expect("Suggestion #2 is duplicate, which is final; nothing changed.", to="amal")


async def test_similar_open_suggestions_are_offered_across_arabic_spellings() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"], language="ar") as club:
        await club.says("sara", "/suggest إضافة قناة للألعاب الجماعية")
        await club.says("omar", "/suggest اضافه قناه للالعاب الجماعيه")
        offer = club.expect("هناك اقتراحات مفتوحة تشبه اقتراحك:", to="omar")
        assert "• رقم 1: إضافة قناة للألعاب الجماعية" in offer.text
        assert offer.buttons == ("👍 رقم 1", "انشر اقتراحي على أي حال")
        await club.presses("omar", "👍 رقم 1")
        club.expect("احتُسب 👍 منك للاقتراح رقم 1.", to="omar")
        await club.says("lina", "/suggest مُسابقةٌ شهريّة للأعضــاء")
        club.expect("نُشر اقتراحك رقم 3.", to="lina")  # nothing like it: posted at once
        await club.says("zaid", "/suggest مسابقه شهريه للاعضاء")
        assert "• رقم 3" in club.expect("تشبه اقتراحك", to="zaid").text
        await club.presses("zaid", "انشر اقتراحي على أي حال")
        club.expect("💡 الاقتراح رقم 4: مسابقه شهريه للاعضاء")
        club.expect("نُشر اقتراحك رقم 4.", to="zaid")


async def test_the_review_queue_holds_a_suggestion_until_a_moderator_approves() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("amal", "/config feedback review yes")
        club.new()
        await club.says("sara", "/suggest Longer voice chat hours")
        item = club.expect("📝 Suggestion #1 waits for review: Longer voice chat hours",
                           buttons=["Approve"])
        club.expect("Your suggestion #1 waits for a moderator's review", to="sara")
        assert "By sara." in item.text
        assert not [s for s in club.sent if s.text.startswith("💡")]  # not posted yet
        await club.presses("omar", "Approve")
        club.expect("Only moderators can approve suggestions.", to="omar")
        await club.presses("amal", "Approve")
        club.expect("💡 Suggestion #1: Longer voice chat hours", buttons=[UP, DOWN, FOLLOW])
        club.expect("Your suggestion #1 is approved and posted.", to="sara")
        await club.says("amal", "/suggestion_history 1")
        assert ": waiting for review → new, by amal" in club.expect("Suggestion #1 by sara",
                                                                   to="amal").text
        await club.says("sara", "/suggest Shorter voice chat hours")
        await club.presses("sara", "Post mine anyway")
        club.new()
        await club.says("amal", "/suggestion_status 2 declined not this season")
        club.expect("Suggestion #2 is now declined; I told 1 member.", to="amal")
        (told,) = notices(club, "sara", 2)
        assert "Why: not this season" in told.text


async def test_anonymous_to_members_never_to_the_moderators_audit() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("sara", "/suggest_anonymous Rotate the moderators monthly")
        post = club.expect("💡 Suggestion #1: Rotate the moderators monthly")
        assert "By a member" in post.text and "sara" not in post.text
        await club.says("omar", "/suggestion_history 1")
        assert "sara" not in " ".join(s.text for s in club.new())
        await club.says("amal", "/suggestion_history 1")
        club.expect("Suggestion #1 by sara (anonymous to members)", to="amal")
        await club.says("amal", "/config feedback anonymous_allowed no")
        club.new()
        await club.says("lina", "/suggest_anonymous Another secret idea")
        club.expect("Anonymous suggestions are off here", to="lina")
        assert not [s for s in club.new() if s.text.startswith("💡")]


async def test_bad_input_is_refused_and_changes_nothing() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"], language="ar") as club:
        await club.says("sara", "/suggest hi")
        club.expect("يجب ألا يقل عدد أحرف الاقتراح عن 5 ولا يزيد على 500", to="sara")
        await club.says("sara", "/suggest " + "x" * 501)
        refusal = club.new()
        assert refusal and refusal[0].to == "sara" and "500" in refusal[0].text
        await club.says("sara", "/roadmap")
        club.expect("لا شيء مخطط له أو قيد التنفيذ بعد.")
        await club.says("amal", "/suggestion_status 3 planned")
        club.expect("لا يوجد هنا اقتراح رقم 3.", to="amal")
        assert not [s for s in club.sent if s.text.startswith("💡")]


@dataclass
class Reported:
    """What a spy plugin saw."""

    events: list[ContributionMade]


SEEN = Reported([])


class Spy(Plugin):
    """Records the contributions other plugins report."""

    name = "spy"

    @on(ContributionMade)
    async def seen(self, event: ContributionMade, ctx: Context) -> None:
        SEEN.events.append(event)


async def test_adoption_is_reported_once_when_planned_then_done() -> None:
    SEEN.events.clear()
    async with FakeCommunity([Feedback, Admin, Spy], admins=["amal"]) as club:
        await club.says("sara", "/suggest Publish the meeting notes")
        for step in ("under_review", "planned", "in_progress", "done"):
            await club.says("amal", f"/suggestion_status 1 {step}")
        await club.says("sara", "/suggest_anonymous Weekly office hours for newcomers")
        await club.says("amal", "/suggestion_status 2 under_review")
        assert [e.ref for e in SEEN.events] == ["suggestion:1"]  # #2 is not adopted yet
        await club.says("amal", "/suggestion_status 2 planned")
    sara = MemberRef("console", club.member("sara").id)
    assert [(e.member, e.kind, e.ref) for e in SEEN.events] == [
        (sara, "suggestion_adopted", "suggestion:1"),
        (sara, "suggestion_adopted", "suggestion:2"),  # anonymous: still the author's credit
    ]


async def test_contributions_rewards_an_adopted_suggestion() -> None:
    from plugins.contributions import Contributions

    async with FakeCommunity([Feedback, Admin, Contributions], admins=["amal"]) as club:
        await club.says("sara", "/suggest Publish the meeting notes")
        await club.says("amal", "/suggestion_status 1 under_review")
        await club.says("amal", "/suggestion_status 1 planned")
        await club.app.settle()
        badges = await club.app.member_badges(club.platform.community, club.member("sara"))
        assert "idea_adopted" in badges


async def test_counts_in_arabic_take_each_plural_form() -> None:
    async with FakeCommunity([Feedback], language="ar") as club:
        tr = club.app.translator("feedback", "ar", club.platform.community)
        told = [str(tr.tn("Suggestion #{id} is now {status}; I told {n} member.",
                          "Suggestion #{id} is now {status}; I told {n} members.", n, id=1,
                          status="مخطط له")) for n in (0, 1, 2, 3, 11, 100)]
        assert [t.split("؛ ")[1] for t in told] == [
            "ولم يكن هناك من أبلغه.", "وأبلغت عضوًا واحدًا.", "وأبلغت عضوين.",
            "وأبلغت 3 أعضاء.", "وأبلغت 11 عضوًا.", "وأبلغت 100 عضو."]
        followers = [str(tr.tn("{n} follower", "{n} followers", n)) for n in (0, 1, 2, 5, 12,
                                                                             101)]
        assert followers == ["لا متابعين", "متابع واحد", "متابعان", "5 متابعين",
                             "12 متابعًا", "101 متابع"]


async def test_member_text_is_shown_as_typed_never_as_markup() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.says("sara", "/suggest **Free** [prizes](http://example.com) @everyone")
        post = club.expect("💡 Suggestion #1:")
        assert "**Free** [prizes](http://example.com) @everyone" in post.text


async def test_the_author_answers_a_question_and_the_suggestion_goes_back_to_review() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.set_language("sara", "ar")
        await club.says("sara", "/suggest A monthly quiz night")
        await club.presses("omar", FOLLOW)
        await club.says("amal", "/suggestion_status 1 needs_info which weekday suits you")
        (asked,) = notices(club, "sara", 1)
        assert "‎/suggestion_answer 1" in asked.text  # she is told how to answer
        club.new()
        await club.says("omar", "/suggestion_answer 1 Fridays")
        club.expect("Only the author of suggestion #1 can answer for it.", to="omar")
        await club.says("sara", "/suggestion_answer 1   Thursdays,  after   work ")
        # her thanks and the moderators' notice go to different places, in either order
        told = club.new()
        assert [s.text for s in told if s.to == "sara"] == [
            "شكرًا لك: وصلت إجابتك إلى المشرفين، وعاد الاقتراح رقم 1 قيد الدراسة."]
        assert [s.text for s in told if s.to is None and s.text.startswith("💬")] == [
            "💬 The author of suggestion #1 “A monthly quiz night” answered: "
            "Thursdays, after work\nIt is under review again: /suggestion_status 1 moves it on."]
        assert [s.text for s in notices(club, "omar", 1)][-1].splitlines() == [
            "🔔 Suggestion #1 “A monthly quiz night” is now under review.",
            "The author answered: Thursdays, after work"]
        club.new()
        await club.says("sara", "/suggestion_answer 1 Thursdays")  # answered already
        club.expect("حالة الاقتراح رقم 1: قيد الدراسة؛ لا سؤال ينتظر إجابتك.", to="sara")
        assert not [s for s in club.new() if s.text.startswith(("💬", "🔔"))]
        await club.says("amal", "/suggestion_history 1")
        history = club.expect("Suggestion #1 by sara", to="amal").text
        assert history.splitlines()[-1].split(": ", 1)[1] == (
            "needs more information → under review, by sara. Why: Thursdays, after work")


async def test_those_with_closed_dms_are_told_in_one_post_mentioning_only_them() -> None:
    async with FakeCommunity([Feedback, Admin], admins=["amal"], language="ar") as club:
        await club.set_language("lina", "en")
        await club.says("sara", "/suggest Open a help desk on Fridays")
        for name in ("omar", "lina", "hadi", "noor"):
            await club.presses(name, "👍 أؤيد")
        club.closes_dms("sara", "lina", "noor")
        club.new()
        await club.says("amal", "/suggestion_status 1 under_review نسأل الفريق")
        told = club.new()
        assert sorted(s.to for s in told if s.is_dm) == ["hadi", "omar"]
        (post,) = [s for s in told if s.to is None and "🔔" in s.text]
        assert sorted(post.mentions) == ["lina", "noor", "sara"]
        # in the community's language, with no more than the notice itself
        assert post.text == ("@lina @noor @sara 🔔 أصبحت حالة الاقتراح رقم 1 «Open a help desk "
                             "on Fridays»: قيد الدراسة.\nالسبب: نسأل الفريق")
