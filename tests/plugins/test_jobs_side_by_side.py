"""Jobs of different items run side by side on the real clock (up to 8 at once): what one
plugin's jobs share in memory, or with its commands and buttons, stays right.

Each test holds one side at an await point (patched to wait, at most half a second, for
the other side) while the other runs: due jobs fire through a scheduler that runs them side
by side as the real clock does, beside a command, a press or the per-second flush.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.actions import GrantReward
from bot.core.scheduler import Scheduler
from bot.testing import START, FakeCommunity
from plugins.admin import Admin
from plugins.contributions import Contributions
from plugins.events import Events
from plugins.feedback import Feedback
from plugins.matchmaking import Matchmaking
from plugins.onboarding import Onboarding
from plugins.polls import Polls


async def fire_side_by_side(world: Any, by: timedelta) -> int:
    """Move the clock and fire what is due as the real clock does: up to 8 jobs at once."""
    app = world.app
    world.clock.set(world.clock.now() + by)
    scheduler = Scheduler(app.db, world.clock, app.kernel.fire, app.kernel.misfire_of,
                          in_flight=8)
    fired = await scheduler.run_due()
    await app.settle()
    return fired


async def test_the_digest_job_and_digest_now_at_once_post_the_period_once() -> None:
    """The weekly digest fires while an admin sends /digest_now: both read where the last
    digest ended before either stored its own, so both posted the same week's news."""
    async with FakeCommunity([Feedback, Admin], admins=["amal"]) as club:
        await club.advance("1h")
        await club.says("sara", "/suggest Add a channel for board games")
        first = START + timedelta(days=7)  # the first weekly digest
        await club.advance(first - timedelta(seconds=1) - club.clock.now())
        store = club.app.plugins["feedback"].store
        period, reading = store.period, 0
        both_read = asyncio.Event()

        async def slow_period(*args: Any) -> Any:
            nonlocal reading
            reading += 1
            if reading == 2:
                both_read.set()
            try:  # the other digest gets its turn while this one reads the week
                await asyncio.wait_for(both_read.wait(), 0.5)
            except TimeoutError:
                pass
            return await period(*args)

        store.period = slow_period
        club.new()
        await asyncio.gather(fire_side_by_side(club, timedelta(seconds=2)),
                             club.says("amal", "/digest_now"))
        await club.app.settle()
        digests = [s.text for s in club.new() if s.text.startswith("📰")]
        assert len(digests) == 1, digests
        assert "1 new suggestion:" in digests[0]


async def test_a_vote_refreshing_the_poll_as_it_closes_leaves_it_closed() -> None:
    """A vote's refresh of the poll message reads the counts while the deadline job closes
    the poll: its edit (open counts, vote buttons) came after the closing edit, so the
    closed poll showed its buttons again."""
    async with FakeCommunity([Polls], admins=["amal"]) as club:
        await club.says("amal", '/poll "Which day?" "Sat | Sun" duration=1h')
        message = next(p for p in club.platform.posts if p.buttons)  # the poll
        plugin = club.app.plugins["polls"]
        tally, counting, closed = plugin.store.tally, asyncio.Event(), asyncio.Event()
        close = plugin.lifecycle.close

        async def slow_tally(row: Any) -> Any:
            counting.set()
            try:  # the deadline comes while the vote's refresh counts
                await asyncio.wait_for(closed.wait(), 0.5)
            except TimeoutError:
                pass
            return await tally(row)

        async def closing(community: Any, poll_id: int) -> bool:
            try:
                return await close(community, poll_id)
            finally:
                closed.set()

        plugin.store.tally = slow_tally
        plugin.lifecycle.close = closing
        voting = asyncio.create_task(club.presses("sara", "Sat"))
        await asyncio.wait_for(counting.wait(), 5)
        assert await fire_side_by_side(club, timedelta(hours=1)) == 1
        await voting
        await club.app.settle()
        assert [b.label for b in message.buttons] == []  # nobody can vote in a closed poll
        last_edit = [line for line in club.platform.transcript
                     if f"(edited {message.id})" in line][-1]
        assert "— closed." in last_edit


async def test_decay_waits_for_the_xp_another_flush_is_writing(world_factory: Any) -> None:
    """The daily job flushes XP before it decays, so a member back a moment ago is active.

    Another flush (the per-second one, or another community's daily job at the same hour)
    had taken the batch and was still writing it: the job's flush found nothing, returned,
    and the member who had just come back lost a share of their XP.
    """
    world = await world_factory([Contributions, Admin])
    await world.play("/config contributions decay_after_days 3",
                     "/config contributions decay_percent 10",
                     ":as sara", "hello to everyone", ":as owner", "/award @sara 185 founder")
    contributions = world.app.plugins["contributions"]
    community = world.console.community
    await world.play(":advance 2d")
    due = (await contributions.next_runs("active", community))["active"]
    await world.app.scheduler.advance(due - timedelta(seconds=1) - world.clock.now())
    await world.play(":as sara", "I am back, did I miss anything?")  # 15 XP, in memory

    writer, writing, decayed = contributions.xp._writer, asyncio.Event(), asyncio.Event()
    decay = contributions.store.decay

    async def slow_write(batch: Any) -> None:
        writing.set()
        try:  # the daily job runs while this batch is being written
            await asyncio.wait_for(decayed.wait(), 0.5)
        except TimeoutError:
            pass
        await writer(batch)

    async def decaying(*args: Any) -> dict[str, int]:
        try:
            return await decay(*args)
        finally:
            decayed.set()

    contributions.xp._writer = slow_write  # the accumulator's writer (bound at start)
    contributions.store.decay = decaying
    beat = asyncio.create_task(world.app.kernel.counters.flush())
    await asyncio.wait_for(writing.wait(), 5)
    assert await fire_side_by_side(world, timedelta(seconds=2)) == 1
    await beat
    lines = world.bot_lines(await world.play(":as sara", "/rank"))
    assert any("215 XP" in line for line in lines), lines


async def test_a_nudge_waits_for_the_progress_another_flush_is_writing(
    world_factory: Any,
) -> None:
    """The nudge flushes the message counts first: a member who posted as it fired is not
    nudged. The per-second flush had taken that count and was still writing it: the
    nudge's flush found nothing, and the member who had just posted was nudged."""
    world = await world_factory([Onboarding])
    await world.play("/onboarding_setup set nudge_hours 12", ":as sara")
    onboarding = world.app.plugins["onboarding"]
    community = world.console.community
    world.clock.set(world.clock.now() + timedelta(hours=12))
    # sara's first message, counted in memory as her nudge fires (its unscheduling and
    # thanks come after, in their own task)
    config = await onboarding.config(community)
    onboarding.progress.posted(community.key, "sara", world.clock.now(), config)

    write, writing, looked = onboarding.store.write_progress, asyncio.Event(), asyncio.Event()
    nudge_once = onboarding.store.nudge_once

    async def slow_write(batch: Any) -> None:
        writing.set()
        try:  # the nudge runs while this batch is being written
            await asyncio.wait_for(looked.wait(), 0.5)
        except TimeoutError:
            pass
        await write(batch)

    async def looking(*args: Any) -> bool:
        try:
            return await nudge_once(*args)
        finally:
            looked.set()

    onboarding.store.write_progress = slow_write
    onboarding.store.nudge_once = looking
    beat = asyncio.create_task(world.app.kernel.counters.flush())
    await asyncio.wait_for(writing.wait(), 5)
    assert await fire_side_by_side(world, timedelta(0)) == 1
    await beat
    assert not any("would love to hear" in line for line in world.console.transcript)


async def test_an_event_edited_as_it_starts_keeps_the_edit_on_its_post() -> None:
    """The start's refresh of the event post read the event while an admin changed its
    place: its edit (the old place) came after the change's, so the post showed the old
    place until something refreshed it again."""
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin") as c:
        await c.says("amal", '/event_create "Book club" "every thursday 18:00" duration=2h '
                             'place="Room 4"')
        await c.presses("amal", "Post it")
        message = next(p for p in c.platform.posts if "Going" in [b.label for b in p.buttons])
        start = datetime(2026, 1, 8, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
        await c.advance(start - timedelta(minutes=1) - c.clock.now())
        events = c.app.plugins["events"]
        content, reading, edited = events.lifecycle.content, asyncio.Event(), asyncio.Event()

        async def slow_content(ctx: Any, event: Any) -> Any:
            if not reading.is_set():  # the start's refresh: the admin edits meanwhile
                reading.set()
                try:
                    await asyncio.wait_for(edited.wait(), 0.5)
                except TimeoutError:
                    pass
            return await content(ctx, event)

        events.lifecycle.content = slow_content
        starting = asyncio.create_task(fire_side_by_side(c, timedelta(minutes=1)))
        await asyncio.wait_for(reading.wait(), 5)
        await c.says("amal", '/event_edit 1 place="Room 9"')
        edited.set()
        assert await starting == 1
        await c.app.settle()
        last_edit = [line for line in c.platform.transcript
                     if f"(edited {message.id})" in line][-1]
        assert "Room 9" in last_edit, last_edit


async def test_rewards_retry_beside_a_decay_does_not_give_back_a_lost_role(
    world_factory: Any,
) -> None:
    """/rewards_retry read the recorded roles, then the daily decay dropped the member a
    level and revoked its role, then the retry granted it again: a level 0 member kept
    the level 1 role (and no record of it was left to take it back)."""
    world = await world_factory([Contributions, Admin])
    await world.play("/config contributions decay_after_days 1",
                     "/config contributions decay_percent 50",
                     "/config contributions role_rewards level:1=vip",
                     ":as sara", "hello to everyone", ":as owner", "/award @sara 185 founding",
                     ":advance 1d")
    assert "Level 1" in world.console.rewards["sara"]
    contributions = world.app.plugins["contributions"]
    store = contributions.store
    all_rewards, take_rewards = store.all_rewards, store.take_rewards
    read, taken = asyncio.Event(), asyncio.Event()

    async def slow_all_rewards(community: str) -> Any:
        rows = await all_rewards(community)
        read.set()
        try:  # the decay takes the role back while the retry is about to grant it
            await asyncio.wait_for(taken.wait(), 0.5)
        except TimeoutError:
            pass
        return rows

    async def taking(*args: Any, **kwargs: Any) -> Any:
        try:
            return await take_rewards(*args, **kwargs)
        finally:
            taken.set()

    store.all_rewards, store.take_rewards = slow_all_rewards, taking
    roles: list[tuple[str, bool]] = []
    deliver = world.console.deliver

    async def recording(action: Any, reply_handle: Any = None, progress: Any = None) -> Any:
        if isinstance(action, GrantReward) and action.reward.role is not None:
            roles.append((action.reward.role.id, action.revoke))
        return await deliver(action, reply_handle, progress)

    world.console.deliver = recording
    due = (await contributions.next_runs("active", world.console.community))["active"]
    retrying = asyncio.create_task(world.play(":as owner", "/rewards_retry"))
    await asyncio.wait_for(read.wait(), 5)
    assert await fire_side_by_side(world, due - world.clock.now()) == 1
    await retrying
    await world.app.settle()
    lines = world.bot_lines(await world.play(":as sara", "/rank"))
    assert any("sara: level 0, 50 XP" in line for line in lines), lines
    # the role itself: the retry grants it by its reward key, not by the level's title
    assert [revoke for role, revoke in roles if role == "vip"][-1:] == [True], roles


async def test_a_scheduled_round_beside_an_announcement_repeats_no_pair() -> None:
    """The scheduled round read the recent pairs while an admin announced a preview: its
    draft, stored after that announcement had retired the other drafts, paired the same
    members again, and announcing it introduced them to each other a second time."""
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        for name in ("sara", "omar"):
            await club.says(name, "/match_join")
            await club.says(name, "/interests chess")
        await club.says("amal", "/match_round")
        club.expect("Preview:", to="amal", buttons=["Announce", "Reshuffle", "Discard"])
        await club.says("amal", "/match_schedule 1w mon 18")
        matchmaking = club.app.plugins["matchmaking"]
        store = matchmaking.store
        recent_pairs, supersede = store.recent_pairs, store.supersede_drafts
        read, announced = asyncio.Event(), asyncio.Event()

        async def slow_recent_pairs(*args: Any) -> Any:
            pairs = await recent_pairs(*args)
            if not read.is_set():  # the scheduled round's: the admin announces meanwhile
                read.set()
                try:
                    await asyncio.wait_for(announced.wait(), 0.5)
                except TimeoutError:
                    pass
            return pairs

        async def superseding(*args: Any) -> Any:
            try:
                return await supersede(*args)
            finally:
                announced.set()

        store.recent_pairs, store.supersede_drafts = slow_recent_pairs, superseding
        due = (await matchmaking.next_runs("round", club.platform.community))["rounds"]
        club.new()
        scheduled = asyncio.create_task(fire_side_by_side(club, due - club.clock.now()))
        await asyncio.wait_for(read.wait(), 5)
        await club.presses("amal", "Announce")  # the /match_round preview
        assert await scheduled == 1
        await club.presses("amal", "Announce")  # the scheduled round's preview, if any
        await club.app.settle()
        intros = [s for s in club.sent_to("sara") if "This round you are matched" in s.text]
        assert len(intros) == 1, [s.text for s in intros]


async def test_an_event_cancelled_as_it_starts_pings_nobody_after_the_cancellation() -> None:
    """The start's tick had read the event live when an admin cancelled the series: those
    going were told it is cancelled, then pinged that it starts now, to check in."""
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin") as c:
        await c.says("amal", '/event_create "Book club" "every thursday 18:00" duration=2h')
        await c.presses("amal", "Post it")
        await c.presses("sara", "Going")
        start = datetime(2026, 1, 8, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
        await c.advance(start - timedelta(minutes=1) - c.clock.now())
        events = c.app.plugins["events"]
        freeze, starting, cancelled = events.answers.freeze, asyncio.Event(), asyncio.Event()

        async def slow_freeze(*args: Any) -> None:
            starting.set()
            try:  # the admin cancels while the start is under way
                await asyncio.wait_for(cancelled.wait(), 0.5)
            except TimeoutError:
                pass
            await freeze(*args)

        events.answers.freeze = slow_freeze
        c.new()
        ticking = asyncio.create_task(fire_side_by_side(c, timedelta(minutes=1)))
        await asyncio.wait_for(starting.wait(), 5)
        await c.says("amal", '/event_cancel 1 reason="the hall is closed" scope=series')
        cancelled.set()
        assert await ticking == 1
        await c.app.settle()
        told = [s.text for s in c.new() if "Book club" in s.text]
        notice = next(i for i, text in enumerate(told) if "is cancelled" in text)
        assert not any("starts now" in text for text in told[notice:]), told


async def test_a_template_deleted_as_its_poll_is_due_makes_no_poll_after_the_delete() -> None:
    """The template's job had read the template when its creator deleted it: they were
    told no more polls would be made from it, and then its poll was posted."""
    async with FakeCommunity([Polls], admins=["amal"]) as club:
        await club.says("amal", '/poll_template lunch weekly:tue@12:00 "Where for lunch?" '
                                '"Cafe | Park" duration=1d')
        polls = club.app.plugins["polls"]
        due = (await polls.next_runs("template", club.platform.community))["template:1"]
        await club.advance(due - timedelta(seconds=1) - club.clock.now())
        open_poll, opening, deleted = polls.lifecycle.open, asyncio.Event(), asyncio.Event()

        async def slow_open(*args: Any) -> Any:
            opening.set()
            try:  # the creator deletes the template while its poll is being made
                await asyncio.wait_for(deleted.wait(), 0.5)
            except TimeoutError:
                pass
            return await open_poll(*args)

        polls.lifecycle.open = slow_open
        club.new()
        making = asyncio.create_task(fire_side_by_side(club, timedelta(seconds=1)))
        await asyncio.wait_for(opening.wait(), 5)
        await club.says("amal", "/poll_template_delete lunch")
        deleted.set()
        assert await making == 1
        await club.app.settle()
        said = [s.text for s in club.new()]
        gone = next(i for i, text in enumerate(said) if "is deleted" in text)
        assert not any("Where for lunch?" in text for text in said[gone:]), said


async def test_a_timezone_chosen_while_the_zones_are_first_read_is_kept(tmp_path: Any) -> None:
    """The first reminder after a start reads the community's chosen timezones into memory;
    a member choosing theirs meanwhile was written to the database but not to that copy,
    which was then kept without it: their times showed in the community's timezone."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin",
                             database_url=url) as c:
        await c.says("amal", '/event_create "Book club" "every thursday 18:00" duration=2h')
        await c.presses("amal", "Post it")
    async with FakeCommunity([Events, Admin], admins=["amal"], timezone="Europe/Berlin",
                             database_url=url) as c:  # started again: nothing read yet
        store = c.app.plugins["events"].store
        db, reading, chosen = store.db, asyncio.Event(), asyncio.Event()

        class FirstReadSlow:
            """The store's database, its first read followed by a wait."""

            def __getattr__(self, name: str) -> Any:
                return getattr(db, name)

            @contextlib.asynccontextmanager
            async def connect(self) -> Any:
                async with db.connect() as conn:
                    yield conn
                if not reading.is_set():
                    reading.set()
                    try:  # sara chooses her timezone while these rows are on their way
                        await asyncio.wait_for(chosen.wait(), 0.5)
                    except TimeoutError:
                        pass

        store.db = FirstReadSlow()
        community = c.platform.community.key
        looking = asyncio.create_task(store.zone(community, "omar"))  # a reminder's look
        await asyncio.wait_for(reading.wait(), 5)
        await c.says("sara", "/event_timezone Asia/Tokyo")
        chosen.set()
        await looking
        store.db = db
        await c.says("sara", "/events")
        c.expect("• #1 Book club — Fri, January 9, 2026, 02:00 (Tokyo)", to="sara")


async def test_kudos_being_written_as_a_member_is_forgotten_are_erased(
    world_factory: Any,
) -> None:
    """Erasing a member flushes what is queued, then deletes their rows. The per-second
    flush had taken the queued kudos and was still writing them: the erasure's flush found
    nothing, deleted, and then the kudos about the member were written after it."""
    world = await world_factory([Contributions, Admin])
    await world.play(":as omar", "hello there", ":as sara", "/kudos @omar thanks for the help")
    contributions = world.app.plugins["contributions"]
    store = contributions.store
    db, writing, erased = store.db, asyncio.Event(), asyncio.Event()
    forget = store.forget

    class FirstWriteSlow:
        """The store's database, its first write waiting until the member is erased."""

        def __getattr__(self, name: str) -> Any:
            return getattr(db, name)

        @contextlib.asynccontextmanager
        async def begin(self) -> Any:
            if not writing.is_set():
                writing.set()
                try:
                    await asyncio.wait_for(erased.wait(), 0.5)
                except TimeoutError:
                    pass
            async with db.begin() as conn:
                yield conn

    async def forgetting(member: Any) -> None:
        try:
            await forget(member)
        finally:
            erased.set()

    store.db, store.forget = FirstWriteSlow(), forgetting
    beat = asyncio.create_task(store.flush_rows())  # the per-second flush of kudos rows
    await asyncio.wait_for(writing.wait(), 5)
    omar = world.console.members["omar"]
    await world.app.forget_member(omar)
    await beat
    store.db = db
    exported = await world.app.export_member(omar)
    assert exported["contributions"]["kudos"] == [], exported["contributions"]["kudos"]


async def test_a_reminder_caught_up_with_the_closing_is_not_sent() -> None:
    """Back after an outage, a poll's reminder and its closing are both due and run side by
    side: the member was told the poll "closes" at a time already past, next to its
    results."""
    async with FakeCommunity([Polls], admins=["amal"]) as club:
        await club.says("sara", "/poll_remind on")
        await club.says("amal", '/poll "Which day?" "Sat | Sun" duration=3h')
        club.new()
        assert await fire_side_by_side(club, timedelta(hours=4)) == 2  # remind and close
        said = [s.text for s in club.new()]
        assert any("is closed" in text for text in said), said
        assert not any("you have not voted yet" in text for text in said), said
