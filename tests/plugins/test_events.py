"""Events through the test kit: create (preview, confirm), RSVP, waitlist, carry-over, cancel.

The community runs in Europe/Berlin; the clock starts Monday 2026-01-05 09:00 UTC, so
"every thursday 18:00" first happens on Thursday 8 January at 17:00 UTC.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, Table, text

from bot import ButtonPressed, ChannelRef
from bot.core import storage
from bot.core.migrate import CORE_VERSIONS, MigrationSource, upgrade
from bot.core.storage import Database
from bot.testing import FakeCommunity, Sent
from plugins.admin import Admin
from plugins.events import Events
from plugins.events.render import Confirm, Rsvp
from plugins.events.tables import metadata

WEEKLY = '/event_create "Book club" "every thursday 18:00" duration=2h place="Room 4"'
THU_8 = 1767891600  # 2026-01-08 17:00 UTC (18:00 in Berlin)


def club(**kwargs: Any) -> FakeCommunity:
    kwargs.setdefault("timezone", "Europe/Berlin")
    return FakeCommunity([Events, Admin], admins=["amal"], **kwargs)


async def posted(c: FakeCommunity, command: str = WEEKLY) -> None:
    await c.says("amal", command)
    await c.presses("amal", "Post it")
    c.new()


def post_of(c: FakeCommunity) -> Sent:
    """The event post as members see it now: its last version in the transcript.

    The kit records sent messages; edits show in the console's transcript.
    """
    out = c.platform.out.getvalue()  # type: ignore[union-attr]
    chunks = re.split(r"\n?\[\d{4}-\d\d-\d\d \d\d:\d\d\] ", out)
    versions = [re.sub(r"^Majlis: (\(edited m\d+\) )?", "", chunk) for chunk in chunks
                if re.match(r"^Majlis: (\(edited m\d+\) )?📅", chunk)]
    text, _, buttons = versions[-1].partition("\n[1 ")
    return Sent(text=text, to=None, private=False,
                buttons=tuple(re.findall(r"\[?\d+ ([^\]]+)\]", "[1 " + buttons)),
                attachments=())


async def press_again(c: FakeCommunity, name: str, payload: Any, event_id: str) -> None:
    """A platform delivering a press again under a new id (the dispatcher cannot tell)."""
    await c.app.dispatcher.dispatch(ButtonPressed(
        id=event_id, community=c.platform.community, member=c.member(name),
        channel=ChannelRef("console", "general"), message_id="1", payload=payload))
    await c.app.settle()


async def test_the_creator_sees_three_occurrences_then_confirms_once() -> None:
    async with club() as c:
        await c.says("amal", WEEKLY + " capacity=12")
        preview = c.expect("Here is your event. Post it?", to="amal",
                           buttons=["Post it", "Discard"])
        assert "The next 3 times:\n• Thu, January 8, 2026, 18:00 (Berlin)\n" \
               "• Thu, January 15, 2026, 18:00 (Berlin)\n" \
               "• Thu, January 22, 2026, 18:00 (Berlin)" in preview.text
        assert "👥 12 places" in preview.text and "Room 4" in preview.text
        assert not [s for s in c.sent if s.to is None]  # nothing public before the confirm
        await c.presses("amal", "Post it")
        post = c.expect("📅 Book club (event #1)")
        assert post.to is None
        assert "🕒 Thu, January 8, 2026, 18:00 (Berlin) · 2 hours" in post.text
        assert "Places taken: 0 of 12" in post.text
        assert post.buttons == ("Going", "Maybe", "Can't come", "Going, just this one",
                                "Not this one")
        c.expect("Event #1 is posted.", to="amal")
        await press_again(c, "amal", Confirm(1), "again-1")  # a replayed confirm
        assert len([s for s in c.sent if s.text.startswith("📅")]) == 1


async def test_a_90_minute_event_says_1_hour_and_30_minutes_not_2_hours() -> None:
    async with club() as c:
        await c.says("amal", WEEKLY.replace("duration=2h", "duration=90m"))
        preview = c.expect("Here is your event. Post it?", to="amal")
        assert "⏱ 1 hour and 30 minutes" in preview.text
        await c.presses("amal", "Post it")
        post = c.expect("📅 Book club (event #1)")
        assert "🕒 Thu, January 8, 2026, 18:00 (Berlin) · 1 hour and 30 minutes" in post.text


async def test_a_phrase_it_cannot_read_is_refused_with_examples_and_nothing_is_made() -> None:
    async with club() as c:
        await c.says("amal", '/event_create "Book club" "sometime soonish"')
        refusal = c.expect("I could not read “sometime soonish” as a start time.", to="amal")
        assert "every thursday 18:00" in refusal.text and "غدا 6 مساء" in refusal.text
        assert "Nothing was created." in refusal.text
        await c.says("amal", '/event_create "Book club" "2020-01-01 18:00"')
        c.expect("is in the past", to="amal")
        await c.says("amal", "/events")
        c.expect("No events are coming up.", to="amal")
        await c.says("sara", WEEKLY)
        c.expect("Only moderators can create events here.", to="sara")


async def test_past_capacity_going_waits_and_the_first_in_line_is_promoted_and_told() -> None:
    async with club() as c:
        await posted(c, WEEKLY + " capacity=2")
        for name in ("sara", "omar", "lina", "hadi"):
            await c.presses(name, "Going")
        c.expect("You are going to Book club, from Thu, January 8", to="sara")
        c.expect("You are going to Book club, from", to="omar")
        c.expect("Book club is full; you are number 1 on the waitlist", to="lina")
        c.expect("Book club is full; you are number 2 on the waitlist", to="hadi")
        assert "Places taken: 2 of 2 · 2 on the waitlist" in post_of(c).text
        await c.presses("sara", "Can't come")
        c.expect("You can't come to Book club from", to="sara")
        told = c.expect("🎉 A place freed up: you are going to Book club on Thu, January 8",
                        to="lina")
        assert told.is_dm
        assert not [s for s in c.sent if "freed up" in s.text and s.to != "lina"]
        assert "Places taken: 2 of 2 · 1 on the waitlist · 1 can't come" in post_of(c).text


async def test_a_replayed_press_keeps_the_members_place_in_the_queue() -> None:
    async with club() as c:
        await posted(c, WEEKLY + " capacity=1")
        await c.presses("sara", "Going")
        await c.presses("omar", "Going")
        await press_again(c, "sara", Rsvp(1, THU_8, "going", False), "replay-1")
        await press_again(c, "sara", Rsvp(1, THU_8, "going", False), "replay-2")
        assert "Places taken: 1 of 1 · 1 on the waitlist" in post_of(c).text
        await c.presses("omar", "Going")
        c.expect("you are number 1 on the waitlist", to="omar")


async def test_a_series_answer_carries_over_unless_just_this_one() -> None:
    async with club() as c:
        await posted(c)
        await c.presses("sara", "Going")
        await c.presses("omar", "Going")
        await c.presses("omar", "Not this one")
        c.expect("You can't come to Book club on Thu, January 8, 2026, 18:00 (Berlin).",
                 to="omar")
        await c.presses("lina", "Going, just this one")
        await c.says("sara", "/events")
        listing = c.expect("The next", to="sara").text
        # 8 Jan: sara and lina (omar not this one); 15 Jan on: sara and omar carry over
        assert "— Thu, January 8, 2026, 18:00 (Berlin)\n  2 going · 1 can't come" in listing
        assert "— Thu, January 15, 2026, 18:00 (Berlin)\n  2 going\n" in listing
        fired = await c.advance("3d")  # Thursday 09:00 UTC: the 24 h reminder went out
        assert sorted(s.to or "" for s in fired if "Reminder" in s.text) == ["lina", "sara"]
        fired = await c.advance("7d")  # the 15th's reminder: omar is back, lina is not
        assert sorted(s.to or "" for s in fired if "⏰ Reminder" in s.text
                      and "January 15" in s.text) == ["omar", "sara"]


async def test_cancelling_one_occurrence_tells_only_those_going_with_the_reason() -> None:
    async with club() as c:
        await posted(c, WEEKLY + " capacity=1")
        await c.presses("sara", "Going")
        await c.presses("hadi", "Going")  # waitlisted: said yes too
        await c.presses("omar", "Maybe")
        await c.presses("lina", "Can't come")
        c.new()
        await c.says("sara", '/event_cancel 1 reason="the hall is closed"')
        c.expect("Only the event's creator or a moderator can change it.", to="sara")
        await c.says("amal", '/event_cancel 1 reason="the hall is closed"')
        notices = [s for s in c.new() if "is cancelled" in s.text]
        assert sorted(s.to or "" for s in notices) == ["hadi", "sara"]
        assert all(s.is_dm and "Book club on Thu, January 8, 2026, 18:00 (Berlin) is "
                   "cancelled. Reason: the hall is closed" in s.text for s in notices)
        assert "Cancelled; I told 2 members who said yes." in c.sent_to("amal")[-1].text
        assert "🕒 Thu, January 15, 2026" in post_of(c).text
        fired = await c.advance("4d")  # past the 8th: no reminder, no start ping
        assert not [s for s in fired if "Book club" in s.text]
        await c.says("amal", '/event_cancel 1 reason="again"')  # the 15th now, once
        await c.says("amal", '/event_cancel 1 reason="we stop" scope=series')
        assert "❌ Cancelled: we stop" in post_of(c).text
        await c.says("amal", '/event_cancel 1 reason="x" scope=series')
        c.expect("Event #1 is cancelled.", to="amal")


async def test_a_start_ping_with_check_in_and_attendance_by_hand() -> None:
    async with club() as c:
        await posted(c, WEEKLY.replace("every thursday", "tomorrow"))
        await c.presses("sara", "Going")
        await c.presses("omar", "Going")
        await c.presses("lina", "Maybe")
        await c.says("amal", "/event_attendance 1 @omar")
        c.expect("only for an occurrence that has started", to="amal")
        fired = await c.advance("32h")  # Tuesday 17:00 UTC, 18:00 Berlin: it starts
        ping = next(s for s in fired if "starts now" in s.text)
        assert ping.text.startswith("@sara @omar ▶️ Book club starts now.")
        assert ping.buttons == ("Check in",)
        await c.presses("sara", "Check in")
        c.expect("Checked in to Book club. Thanks for coming!", to="sara")
        await c.says("amal", "/event_attendance 1 @lina")
        c.expect("lina is marked present on Tue, January 6, 2026, 18:00 (Berlin).", to="amal")
        await c.says("amal", "/event_attendance 1 @lina")
        c.expect("lina was marked present already.", to="amal")
        await c.says("sara", "/event_attendance 1")
        c.expect("admin", to="sara")
        await c.says("amal", "/event_attendance 1")
        report = c.expect("Attendance for Book club (event #1)").text
        assert ("• Tue, January 6, 2026, 18:00 (Berlin): 2 came; 1 of 2 who said going (50%)"
                in report)
        assert "• sara: 1 of 1 (100%)" in report
        assert "• omar: 0 of 1 (0%)" in report
        assert "• lina: 1 of 0 (—)" in report
        await c.advance("3h")  # it ended
        await c.presses("omar", "Check in")
        c.expect("Check-in is open only while the event runs.", to="omar")
        assert "This event is over." in post_of(c).text


async def test_edits_move_the_series_and_a_larger_capacity_promotes() -> None:
    async with club() as c:
        await posted(c, WEEKLY + " capacity=1")
        await c.presses("sara", "Going")
        await c.presses("omar", "Going")
        c.new()
        await c.says("amal", '/event_edit 1 start="every friday 19:00" capacity=2')
        c.expect("A place freed up: you are going to Book club on Fri, January 9, 2026, "
                 "19:00 (Berlin).", to="omar")
        c.expect("✏️ Book club has changed: next on Fri, January 9, 2026, 19:00 (Berlin). "
                 "📍 Room 4", to="sara")
        assert not [s for s in c.sent if "has changed" in s.text and s.to == "omar"]
        c.expect("Event #1 is updated.", to="amal")
        assert "🕒 Fri, January 9, 2026, 19:00 (Berlin)" in post_of(c).text
        assert "Places taken: 2 of 2" in post_of(c).text
        await c.says("amal", '/event_edit 1 start="every blursday"')
        c.expect("I could not read “every blursday” as a start time.", to="amal")
        assert "🕒 Fri, January 9, 2026, 19:00 (Berlin)" in post_of(c).text


async def test_events_are_listed_in_the_members_timezone() -> None:
    async with club() as c:
        await posted(c)
        await c.says("sara", "/event_timezone Asia/Riyad")
        c.expect("“Asia/Riyad” is not a timezone I know. Try: Asia/Riyadh", to="sara")
        await c.says("sara", "/event_timezone asia/riyadh")
        c.expect("Event times are shown to you in Asia/Riyadh now.", to="sara")
        await c.says("sara", "/events")
        c.expect("• #1 Book club — Thu, January 8, 2026, 20:00 (Riyadh)", to="sara")
        await c.presses("sara", "Going")
        c.expect("from Thu, January 8, 2026, 20:00 (Riyadh) on", to="sara")
        assert "18:00 (Berlin)" in post_of(c).text  # the post speaks for the community


async def test_export_and_forget_cover_answers_attendance_and_timezone() -> None:
    async with club() as c:
        await posted(c, WEEKLY.replace("every thursday", "tomorrow"))
        await c.presses("sara", "Going")
        await c.says("sara", "/event_timezone Asia/Riyadh")
        await c.advance("32h")
        await c.presses("sara", "Check in")
        plugin = c.app.plugins["events"]
        sara = c.member("sara")
        data = await plugin.export(sara)
        assert [a["answer"] for a in data["series_answers"]] == ["going"]
        assert [a["how"] for a in data["attendance"]] == ["checkin"]
        assert data["timezones"][0]["timezone"] == "Asia/Riyadh"
        await plugin.forget(sara)
        empty = await plugin.export(sara)
        assert not any(empty.values())
        assert (await plugin.export(c.member("amal")))["events_created"][0]["title"] == \
            "Book club"


async def test_one_occurrence_gets_its_own_place_and_those_going_are_told() -> None:
    async with club() as c:
        await posted(c)
        await c.presses("sara", "Going")
        await c.presses("omar", "Maybe")
        c.new()
        await c.says("amal", '/event_edit 1 place="Garden café" date=2026-01-15')
        told = c.expect("✏️ Book club on Thu, January 15, 2026, 18:00 (Berlin) is different "
                        "this time:\n📍 Garden café", to="sara")
        assert told.is_dm and not [s for s in c.sent if "different" in s.text and s.to == "omar"]
        c.expect("Changed for Thu, January 15, 2026, 18:00 (Berlin) only; I told 1 member who "
                 "said yes.", to="amal")
        assert "📍 Room 4" in post_of(c).text  # the 8th keeps its place
        await c.says("amal", "/event_edit 1 capacity=3 date=2026-01-15")
        c.expect("For one occurrence, the title, start, duration, place and description can "
                 "change; capacity is the series'.", to="amal")
        fired = await c.advance("10d")  # the 15th's reminders name its own place
        assert any("January 15" in s.text and "Garden café" in s.text for s in fired
                   if "⏰ Reminder" in s.text)
        assert any("January 8" in s.text and "Room 4" in s.text for s in fired
                   if "⏰ Reminder" in s.text)


async def test_a_later_series_answer_does_not_rewrite_who_was_going_to_a_past_evening() -> None:
    async with club() as c:
        await posted(c)
        await c.presses("sara", "Going")
        await c.advance("3d8h")  # Thursday 17:00 UTC: the 8th starts
        await c.presses("sara", "Check in")
        await c.advance("3h")  # it ended; the post shows the 15th (pressed on that post)
        await press_again(c, "sara", Rsvp(1, THU_8 + 7 * 86400, "no", False), "p-15")
        c.expect("You can't come to Book club from Thu, January 15", to="sara")
        await c.says("amal", "/event_attendance 1")
        report = c.expect("Attendance for Book club").text
        assert "• Thu, January 8, 2026, 18:00 (Berlin): 1 came; 1 of 1 who said going (100%)" \
            in report
        assert "• sara: 1 of 1 (100%)" in report


async def test_a_series_first_set_in_a_dst_gap_keeps_its_local_time_after_the_change() -> None:
    """02:30 does not exist in Berlin on 29 March 2026 (it happens at 03:30); the nights after
    it is 02:30 again, as the creator wrote: the stored series keeps the wall-clock time."""
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)  # Saturday, the day before the change
    async with club(start=start) as c:
        await posted(c, '/event_create "Night watch" "every day 02:30" duration=1h')
        await c.says("sara", "/events")
        c.expect("• #1 Night watch — Sun, March 29, 2026, 03:30 (Berlin)", to="sara")
        await c.advance("24h")  # past the first occurrence (01:30 UTC on the 29th)
        await c.says("sara", "/events")
        c.expect("• #1 Night watch — Mon, March 30, 2026, 02:30 (Berlin)", to="sara")


async def test_the_post_is_pinned_while_upcoming_and_again_when_moved_after_its_end() -> None:
    async with club() as c:
        await posted(c, '/event_create "Quiz" "2026-01-07 18:00" duration=1h')
        out = c.platform.out  # the console's transcript
        assert "📌 (pinned m" in out.getvalue()  # type: ignore[union-attr]
        assert len(c.platform.pinned) == 1
        await c.advance("3d")  # Thursday: Wednesday 18:00-19:00 in Berlin has ended
        assert "(unpinned m" in out.getvalue()  # type: ignore[union-attr]
        assert c.platform.pinned == set()
        await c.says("amal", '/event_edit 1 start="2026-01-10 18:00"')
        c.expect("Event #1 is updated.", to="amal")
        assert len(c.platform.pinned) == 1  # upcoming again: pinned again
        await c.says("amal", '/event_cancel 1 reason="nobody can"')
        assert c.platform.pinned == set()


def transcript(c: FakeCommunity, text: str) -> list[str]:
    """The transcript's lines with ``text``, each headed by the time it was shown."""
    out = c.platform.out.getvalue()  # type: ignore[union-attr]
    return [line for line in out.splitlines() if text in line]


async def test_one_occurrence_moves_with_its_answers_reminders_and_post() -> None:
    async with club() as c:
        await posted(c)
        await c.presses("sara", "Going")
        await c.presses("hadi", "Can't come")
        await press_again(c, "lina", Rsvp(1, THU_8 + 7 * 86400, "going", True), "p-15")
        c.new()
        await c.says("amal", '/event_edit 1 start="2026-01-16 19:30" duration=3h '
                             "date=2026-01-15")
        told = c.expect("✏️ Book club on Thu, January 15, 2026, 18:00 (Berlin) moves to Fri, "
                        "January 16, 2026, 19:30 (Berlin), this time only:\n⏱ 3 hours\n"
                        "📍 Room 4", to="sara")
        assert told.is_dm
        c.expect("moves to Fri, January 16, 2026, 19:30 (Berlin)", to="lina")
        assert not [s for s in c.sent if s.to == "hadi" and "✏️" in s.text]  # "can't" is not told
        c.expect("Moved to Fri, January 16, 2026, 19:30 (Berlin); I told 2 members who said "
                 "yes.", to="amal")
        await c.says("omar", "/events")
        listed = c.expect("The next", to="omar").text
        assert "January 15" not in listed
        assert ("• #1 Book club — Fri, January 16, 2026, 19:30 (Berlin)\n"
                "  2 going · 1 can't come\n"
                "• #1 Book club — Thu, January 22, 2026, 18:00 (Berlin)\n"
                "  1 going · 1 can't come") in listed  # lina said "just this one"
        await c.advance("4d")  # Friday 9th: the 8th is over, the post shows the 16th
        post = post_of(c).text
        assert "🕒 Fri, January 16, 2026, 19:30 (Berlin) · 3 hours" in post
        assert "2 going · 1 can't come" in post
        await c.advance("8d")  # past the 16th
        reminded = transcript(c, "⏰ Reminder: Book club starts")
        assert not [line for line in reminded if "January 15" in line]
        assert sorted(line for line in reminded if "January 16" in line) == [
            f"[2026-01-15 18:30] Majlis: (DM to {who}) ⏰ Reminder: Book club starts Fri, "
            "January 16, 2026, 19:30 (Berlin). 📍 Room 4" for who in ("lina", "sara")] + [
            f"[2026-01-16 17:30] Majlis: (DM to {who}) ⏰ Reminder: Book club starts Fri, "
            "January 16, 2026, 19:30 (Berlin). 📍 Room 4" for who in ("lina", "sara")]
        assert not transcript(c, "[2026-01-14 17:00]")  # nothing at the old 24 h mark
        assert transcript(c, "[2026-01-16 18:30] Majlis: @sara @lina ▶️ Book club starts now.")


async def test_a_move_onto_another_occurrence_or_into_the_past_changes_nothing() -> None:
    async with club() as c:
        await posted(c)
        await c.presses("sara", "Going")
        c.new()
        await c.says("amal", '/event_edit 1 start="2026-01-22 19:00" date=2026-01-15')
        c.expect("Book club already takes place on Thu, January 22, 2026, 18:00 (Berlin); one "
                 "occurrence cannot move onto another. Nothing was changed.", to="amal")
        await c.says("amal", '/event_edit 1 start="2026-01-22 16:30" duration=2h '
                             "date=2026-01-15")  # would run into the 22nd's start
        c.expect("already takes place on Thu, January 22, 2026, 18:00 (Berlin)", to="amal")
        await c.says("amal", '/event_edit 1 start="2026-01-02 18:00" date=2026-01-15')
        refusal = c.expect("“2026-01-02 18:00” is in the past; an occurrence can only move to "
                           "a later time.", to="amal")
        assert "Nothing was changed." in refusal.text and "2026-03-05 19:00" in refusal.text
        await c.says("amal", '/event_edit 1 start="every friday 19:00" date=2026-01-15')
        c.expect("“every friday 19:00” repeats; one occurrence moves to one date and time.",
                 to="amal")
        await c.says("amal", '/event_edit 1 start="someday" date=2026-01-15')
        c.expect("I could not read “someday” as a start time.", to="amal")
        assert not [s for s in c.sent if s.to == "sara" and "✏️" in s.text]  # nobody was told
        await c.says("sara", "/events")
        listed = c.expect("The next", to="sara").text
        assert "• #1 Book club — Thu, January 15, 2026, 18:00 (Berlin)" in listed
        await c.advance("3d8h")  # the 8th started: its time can no longer change
        await c.says("amal", '/event_edit 1 start="2026-01-09 18:00" date=2026-01-08')
        c.expect("Thu, January 8, 2026, 18:00 (Berlin) has started already; its time can no "
                 "longer change. Nothing was changed.", to="amal")


async def test_a_moved_occurrence_can_move_again_or_be_cancelled() -> None:
    async with club() as c:
        await posted(c)
        await c.presses("sara", "Going")
        await c.says("amal", '/event_edit 1 start="2026-01-16 19:30" date=2026-01-15')
        await c.says("amal", '/event_edit 1 start="2026-01-17 11:00" date=2026-01-16')
        c.expect("✏️ Book club on Fri, January 16, 2026, 19:30 (Berlin) moves to Sat, January "
                 "17, 2026, 11:00 (Berlin), this time only:", to="sara")
        await c.says("amal", '/event_cancel 1 reason="the hall is closed" date=2026-01-17')
        c.expect("❌ Book club on Sat, January 17, 2026, 11:00 (Berlin) is cancelled.", to="sara")
        await c.says("sara", "/events")
        listed = c.expect("The next", to="sara").text
        assert "January 15" not in listed and "January 16" not in listed
        assert "January 17" not in listed
        fired = await c.advance("14d")
        assert not [s for s in fired if "⏰" in s.text and "January 1" in s.text
                    and "January 8" not in s.text and "January 2" not in s.text]


async def test_a_database_from_before_moves_is_upgraded_and_keeps_its_overrides(
        tmp_path: Path) -> None:
    """A database at the overrides revision (no start/duration columns) with one override."""
    older = tmp_path / "older"
    older.mkdir()
    for name in ("d96b225f1373_events_tables.py",
                 "571a4bdfb94d_events_one_occurrence_overrides.py"):
        shutil.copy(Events.migrations_path() / name, older / name)
    before = MetaData()
    for table in metadata.tables.values():
        if table.name != "events_overrides":
            table.to_metadata(before)
    Table("events_overrides", before, *(Column(c.name, c.type, primary_key=c.primary_key,
                                               nullable=c.nullable)
                                        for c in metadata.tables["events_overrides"].columns
                                        if c.name not in ("start", "duration")))
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    db = Database(url)
    await upgrade(db.engine, [MigrationSource("core", CORE_VERSIONS, storage.metadata),
                              MigrationSource("events", older, before)])
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO events_overrides (event, occurrence, place, at) "
            "VALUES (1, '2026-01-15 17:00:00.000000', 'Garden café', '2026-01-05 09:00:00')"))
    await db.close()
    async with club(database_url=url) as c:
        await posted(c)
        await c.presses("sara", "Going")
        c.new()
        await c.says("amal", '/event_edit 1 start="2026-01-16 19:30" date=2026-01-15')
        c.expect("✏️ Book club on Thu, January 15, 2026, 18:00 (Berlin) moves to Fri, January "
                 "16, 2026, 19:30 (Berlin), this time only:\n⏱ 2 hours\n📍 Garden café",
                 to="sara")


async def test_a_post_older_than_the_outbox_week_is_still_edited_and_unpinned() -> None:
    # the outbox lets finished actions go after 7 days; the event's post must stay reachable
    async with club() as c:
        await posted(c, '/event_create "Quiz" "2026-01-20 18:00" duration=1h capacity=5')
        assert len(c.platform.pinned) == 1
        await c.advance("9d")  # 11 January: the post is 9 days old
        await c.app.outbox.prune()
        c.app.outbox._message_ids.clear()  # as after a restart: only the database knows
        await c.presses("sara", "Going")
        assert "Places taken: 1 of 5" in post_of(c).text  # the edit reached the 9-day-old post
        await c.advance("10d")  # past the 20th, 19:00 Berlin: the event ended
        assert c.platform.pinned == set()
        assert not [s for s in c.sent if "older than" in s.text]  # no admin told of a loss
