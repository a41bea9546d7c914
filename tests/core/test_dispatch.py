"""The dispatcher drops replays (also after a restart) and isolates plugins."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest

from bot import Context, ContributionMade, MessagePosted, Plugin, on
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from tests.conftest import WorldFactory

SEEN: list[str] = []
COMMUNITY = CommunityRef("console", "local")


class Counter(Plugin):
    name = "counter"

    @on(MessagePosted)
    async def count(self, event: MessagePosted, ctx: Context) -> None:
        SEEN.append(event.text)


class Broken(Plugin):
    name = "broken"

    @on(MessagePosted)
    async def explode(self, event: MessagePosted, ctx: Context) -> None:
        raise RuntimeError("boom")


class Slow(Plugin):
    name = "slow"

    @on(MessagePosted)
    async def wait(self, event: MessagePosted, ctx: Context) -> None:
        await asyncio.sleep(3600)


def posted(event_id: str, text: str) -> MessagePosted:
    return MessagePosted(
        id=event_id, community=COMMUNITY, member=MemberRef("console", "sara", "sara"),
        channel=ChannelRef("console", "general"), message_id=event_id, text=text,
    )


async def test_replays_are_dropped_even_after_a_restart(world_factory: WorldFactory,
                                                        tmp_path: Path) -> None:
    SEEN.clear()
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    world = await world_factory([Counter], database_url=url)
    assert await world.app.dispatcher.dispatch(posted("e1", "hello"))
    assert not await world.app.dispatcher.dispatch(posted("e1", "hello"))
    await world.app.stop()
    again = await world_factory([Counter], database_url=url)
    assert not await again.app.dispatcher.dispatch(posted("e1", "hello"))
    assert await again.app.dispatcher.dispatch(posted("e2", "again"))
    assert SEEN == ["hello", "again"]


async def test_a_failing_or_slow_plugin_harms_no_other(world_factory: WorldFactory) -> None:
    SEEN.clear()
    world = await world_factory([Slow, Broken, Counter])
    dispatcher = world.app.dispatcher
    await asyncio.wait_for(dispatcher.dispatch(posted("x1", "one")), 1)
    await asyncio.wait_for(dispatcher.dispatch(posted("x2", "two")), 1)
    assert SEEN == ["one", "two"]
    assert dispatcher.error_count("broken") == 2
    assert dispatcher.error_count("counter") == 0
    await dispatcher.flush()
    assert (await world.app.db.error_counts())["broken"] == 2
    for task in list(dispatcher._tasks):
        task.cancel()


async def test_help_lists_only_what_the_member_may_use(world_factory: WorldFactory) -> None:
    world = await world_factory([])
    owner = world.bot_lines(await world.play("/help"))
    member = world.bot_lines(await world.play(":as sara", "/help"))
    assert any("/pause" in line for line in owner)
    assert not any("/pause" in line for line in member)
    refused = world.bot_lines(await world.play("/pause"))
    assert refused == ["Majlis: (only sara sees) Sorry, /pause is only for admins."]


# -- wave-1 correctness: handlers run in their own task ----------------------------------

class Writer(Plugin):
    """Writes one row per message with a read-modify-write, as a careless plugin would."""

    name = "writer"

    @on(MessagePosted)
    async def write(self, event: MessagePosted, ctx: Context) -> None:
        async with self.db.begin() as conn:
            found = await self.db.kv_get("writer", "count") or 0
            await asyncio.sleep(0)  # another handler may run here: the lock must hold
            await self.db.kv_set("writer", "count", found + 1)
            del conn


class SharedWait(Plugin):
    """Two handlers awaiting the same future (a shared cache load)."""

    name = "sharedwait"
    future: asyncio.Future[None] | None = None
    woke = 0

    @on(MessagePosted)
    async def first(self, event: MessagePosted, ctx: Context) -> None:
        await self._wait()

    @on(MessagePosted)
    async def second(self, event: MessagePosted, ctx: Context) -> None:
        await self._wait()

    async def _wait(self) -> None:
        if SharedWait.future is None:
            SharedWait.future = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_later(0.01, SharedWait.future.set_result, None)
        await SharedWait.future
        SharedWait.woke += 1


class TimesOut(Plugin):
    """A handler whose own timeout fires: it must cancel the handler, not the caller."""

    name = "timesout"

    @on(MessagePosted)
    async def wait(self, event: MessagePosted, ctx: Context) -> None:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)


# SQLite's one writer serializes a plugin's begin() block; PostgreSQL does not
@pytest.mark.sqlite_only
async def test_writes_of_concurrent_handlers_are_not_lost_in_memory(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Writer])
    for i in range(300):
        await world.app.dispatcher.dispatch(posted(f"w{i}", "hello"))
    await world.app.settle()
    assert await world.app.db.kv_get("writer", "count") == 300
    assert world.app.dispatcher.error_count() == 0


async def test_two_handlers_may_await_the_same_future(world_factory: WorldFactory) -> None:
    SharedWait.future, SharedWait.woke = None, 0
    world = await world_factory([SharedWait])
    await world.app.dispatcher.dispatch(posted("s1", "hello"))
    await world.app.settle()
    assert SharedWait.woke == 2
    assert world.app.dispatcher.error_count("sharedwait") == 0


async def test_a_handlers_timeout_does_not_cancel_the_gateway(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([TimesOut])

    async def gateway() -> str:
        world.app.dispatcher.submit(posted("t1", "hello"))
        await asyncio.sleep(0.05)
        return "still reading frames"

    assert await asyncio.create_task(gateway()) == "still reading frames"
    await world.app.settle()
    assert world.app.dispatcher.error_count("timesout") == 1


# -- names, failures ------------------------------------------------------------------------

async def test_the_community_name_is_not_taken_from_a_command(
    world_factory: WorldFactory,
) -> None:
    from bot import CommandInvoked, CommunityJoined

    world = await world_factory([])
    stranger = CommunityRef("console", "elsewhere")
    await world.app.dispatcher.dispatch(CommandInvoked(
        id="c1", community=stranger, member=MemberRef("console", "bob", "bob"),
        channel=ChannelRef("console", "general"), name="help", text=""))
    await world.app.settle()
    assert world.app.community_info(stranger)["name"] != "help"
    await world.app.dispatcher.dispatch(CommunityJoined(id="j1", community=stranger,
                                                        name="Book Club"))
    assert world.app.community_info(stranger)["name"] == "Book Club"


class Fails(Plugin):
    name = "fails"

    @on(MessagePosted)
    def explode(self, event: MessagePosted, ctx: Context) -> None:
        raise RuntimeError("boom")

    from bot import N_, command

    @command("fail", help=N_("Fail"))
    async def fail(self, ctx: Context) -> None:
        raise RuntimeError("boom")


async def test_a_failing_plugin_is_reported_to_admins_hourly_and_the_member_answered(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Fails])
    out = world.bot_lines(await world.play(":as sara", "hello", "again", "/fail"))
    notices = [line for line in out if "The plugin fails failed" in line]
    assert len(notices) == 1  # once an hour per plugin, however often it fails
    assert "Majlis: (only sara sees) Something went wrong on my side; the admins have been " \
        "told. Please try again later." in out
    assert world.app.dispatcher.error_count("fails") == 3
    out = world.bot_lines(await world.play(":advance 61m", "hello"))
    assert sum("The plugin fails failed" in line for line in out) == 1


# -- issue 14: commands and buttons go ahead of background work ----------------------------

HANDLED: list[str] = []


class Busy(Plugin):
    """Counts messages per member; /where says how far the queue had got."""

    name = "busy"
    from bot import N_, command

    @on(MessagePosted)
    def count(self, event: MessagePosted, ctx: Context) -> None:
        HANDLED.append(event.member.id)

    @command("where", help=N_("Where the queue is"))
    async def where(self, ctx: Context) -> None:
        assert ctx.member is not None
        HANDLED.append(f"/where after {len(HANDLED)}, own {HANDLED.count(ctx.member.id)}")


async def test_a_command_goes_ahead_of_2000_queued_messages_but_after_its_members_own(
    world_factory: WorldFactory,
) -> None:
    from bot import CommandInvoked

    HANDLED.clear()
    world = await world_factory([Busy])
    elsewhere = CommunityRef("console", "elsewhere")  # not open yet: everything waits
    channel = ChannelRef("console", "general")
    bob, lina = MemberRef("console", "bob", "bob"), MemberRef("console", "lina", "lina")
    for i in range(2000):
        member = lina if i in (10, 1500) else bob
        world.app.dispatcher.submit(MessagePosted(
            id=f"q{i}", community=elsewhere, member=member, channel=channel,
            message_id=f"q{i}", text="hello"))
    world.app.dispatcher.submit(CommandInvoked(
        id="cmd", community=elsewhere, member=lina, channel=channel, name="where"))
    await world.app.settle()
    assert len(HANDLED) == 2001
    answer = next(line for line in HANDLED if line.startswith("/where"))
    # both of lina's messages (one queued 1,500th) came first; bob's were not all waited for
    after = int(answer.split()[2].rstrip(","))
    assert answer.endswith("own 2")
    assert after < 2000
    assert HANDLED.index(answer) < 2000


async def test_messages_queued_for_an_opening_community_keep_their_order(
    world_factory: WorldFactory,
) -> None:
    HANDLED.clear()
    world = await world_factory([Busy])
    elsewhere = CommunityRef("console", "elsewhere")
    channel = ChannelRef("console", "general")
    for i in range(1000):
        world.app.dispatcher.submit(MessagePosted(
            id=f"o{i}", community=elsewhere, member=MemberRef("console", f"m{i}", f"m{i}"),
            channel=channel, message_id=f"o{i}", text="hello"))
    await asyncio.sleep(0)
    for i in range(1000, 1500):  # arriving while the first ones are being handled
        world.app.dispatcher.submit(MessagePosted(
            id=f"o{i}", community=elsewhere, member=MemberRef("console", f"m{i}", f"m{i}"),
            channel=channel, message_id=f"o{i}", text="hello"))
    await world.app.settle()
    assert [f"m{i}" for i in range(1500)] == HANDLED


WROTE: list[str] = []


class Writes(Plugin):
    """/note writes a row, as an answer to a member; background writers queue meanwhile."""

    name = "writes"
    from bot import N_, command

    @command("note", help=N_("Write a note"))
    async def note(self, ctx: Context) -> None:
        async with self.db.begin():
            WROTE.append("answer")


# the order of SQLite's write lock (PostgreSQL has no such lock)
@pytest.mark.sqlite_only
async def test_a_commands_write_goes_ahead_of_queued_background_writes(
    world_factory: WorldFactory,
) -> None:
    from bot import CommandInvoked

    WROTE.clear()
    world = await world_factory([Writes])
    db = world.app.db
    release = asyncio.Event()

    async def holder() -> None:
        async with db.begin():
            await release.wait()

    async def background(i: int) -> None:
        async with db.begin():
            WROTE.append(f"background {i}")

    tasks = [asyncio.create_task(holder())]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(background(i)) for i in range(50)]
    await asyncio.sleep(0)
    await world.app.dispatcher.dispatch(CommandInvoked(
        id="n1", community=COMMUNITY, member=MemberRef("console", "sara", "sara"),
        channel=ChannelRef("console", "general"), name="note"))
    for _ in range(20):
        await asyncio.sleep(0)  # the command reaches its write and queues for it
    release.set()
    await asyncio.gather(*tasks)
    await world.app.settle()
    assert WROTE[0] == "answer"
    assert WROTE[1:] == [f"background {i}" for i in range(50)]


# SQLite's write lock (PostgreSQL has no such lock)
@pytest.mark.sqlite_only
async def test_a_cancelled_answer_waiting_for_the_write_lock_leaves_it_to_the_others(
    world_factory: WorldFactory,
) -> None:
    from bot.core.storage import ANSWERING

    world = await world_factory([])
    db = world.app.db
    release = asyncio.Event()
    order: list[str] = []

    async def holder() -> None:
        async with db.begin():
            await release.wait()

    async def writer(name: str, answering: bool) -> None:
        ANSWERING.set(answering)
        async with db.begin():
            order.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    answer = asyncio.create_task(writer("answer", True))
    later = asyncio.create_task(writer("background", False))
    await asyncio.sleep(0)
    answer.cancel()
    release.set()
    await asyncio.wait_for(asyncio.gather(first, later), 1)
    assert order == ["background"]
    assert answer.cancelled()
    async with db.begin():  # and the lock is free again
        order.append("after")
    assert order == ["background", "after"]


class Loads(Plugin):
    name = "loads"
    collecting: list[bool] = []

    async def open(self, community: CommunityRef) -> None:
        Loads.collecting.append(gc.isenabled())


async def test_the_cyclic_collector_pauses_while_a_community_loads(
        world_factory: WorldFactory) -> None:
    Loads.collecting.clear()
    world = await world_factory([Loads])
    other = CommunityRef("console", "elsewhere")
    assert gc.isenabled()
    await world.app.dispatcher.open(other)
    assert Loads.collecting[-1] is False  # the load ran without the collector
    assert gc.isenabled()  # and it is back once the community is open


async def test_a_plugin_switched_off_or_on_gets_the_next_message_accordingly(
        world_factory: WorldFactory) -> None:
    # the dispatcher keeps each community's enabled routes: a switch must reach them at once
    SEEN.clear()
    world = await world_factory([Counter])
    dispatcher, switches = world.app.dispatcher, world.app.kernel.switches
    await dispatcher.dispatch(posted("s1", "before"))
    await switches.set(COMMUNITY, "counter", False)
    await dispatcher.dispatch(posted("s2", "while off"))
    await switches.set(COMMUNITY, "counter", True)
    await dispatcher.dispatch(posted("s3", "on again"))
    switches.invalidate()  # choices forgotten: the plugin's default (on) holds
    await dispatcher.dispatch(posted("s4", "default"))
    assert SEEN == ["before", "on again", "default"]


def test_a_handlers_context_is_the_one_the_constructor_builds() -> None:
    from bot.core.context import Context
    from bot.core.privilege import Privilege

    event = posted("c1", "hi")
    kernel: Any = object()
    plugin: Any = Counter
    fast = Context.of_event(kernel, plugin, event, event.channel, event.member, "handle",
                            Privilege.MOD)
    slow = Context(kernel, plugin, event.community, channel=event.channel, member=event.member,
                   event=event, reply_handle="handle", privilege=Privilege.MOD)
    for name in Context.__slots__:  # every slot set, and set alike
        assert getattr(fast, name) == getattr(slow, name), name


# -- issue 15: what one event sets off reaches members in the order it was caused ----------

class Announces(Plugin):
    """Its hot-path handler spawns an announcement whose database write takes a while."""

    name = "announces"

    @on(MessagePosted)
    def posted(self, event: MessagePosted, ctx: Context) -> None:
        ctx.spawn(self._announce(ctx, event.member))

    async def _announce(self, ctx: Context, member: MemberRef) -> None:
        await asyncio.sleep(0.05)  # a slow write (a file database under load)
        await ctx.send(f"🏅 {member.display_name} earned a badge")


class Greets(Plugin):
    """Handles the same message after ``Announces`` and answers at once."""

    name = "greets"

    @on(MessagePosted)
    async def greet(self, event: MessagePosted, ctx: Context) -> None:
        await ctx.reply(f"Thanks for your first message, {event.member.display_name}")


class Emits(Plugin):
    """Reports a contribution, then thanks the member after a slow write."""

    name = "emits"

    @on(MessagePosted)
    async def posted(self, event: MessagePosted, ctx: Context) -> None:
        from bot import internal_id

        await ctx.emit(ContributionMade(id=internal_id("emits.helped"), community=ctx.community,
                                        member=event.member, kind="helped"))
        await asyncio.sleep(0.05)
        await ctx.send(f"{event.member.display_name} helped")


class Rewards(Plugin):
    """Answers the reported contribution at once."""

    name = "rewards_follow"

    @on(ContributionMade)
    async def contributed(self, event: ContributionMade, ctx: Context) -> None:
        await ctx.send(f"🏅 {event.member.display_name} earned the helper badge")


async def test_sibling_handlers_post_in_the_order_they_were_called(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Announces, Greets])
    out = world.bot_lines(await world.play(":as sara", "hello"))
    assert out == ["Majlis: 🏅 sara earned a badge",
                   "Majlis: Thanks for your first message, sara"]


async def test_a_follow_up_events_posts_come_after_those_of_the_handler_that_emitted_it(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Emits, Rewards])
    out = world.bot_lines(await world.play(":as sara", "hello", "again"))
    assert out == ["Majlis: sara helped", "Majlis: 🏅 sara earned the helper badge"] * 2


async def test_a_slow_handler_holds_a_later_ones_posts_only_briefly(
    world_factory: WorldFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.core import causal

    monkeypatch.setattr(causal, "CAUSAL_WAIT", 0.05)
    world = await world_factory([Slow, Greets])
    start = len(world.console.transcript)
    await world.app.dispatcher.dispatch(posted("h1", "hello"))
    await asyncio.sleep(0.3)  # Slow sleeps for an hour; Greets goes ahead after 0.05 s
    await world.app.outbox.idle(5)
    out = world.bot_lines(world.console.transcript[start:])
    assert out == ["Majlis: Thanks for your first message, sara"]
    for task in list(world.app.dispatcher._tasks):
        task.cancel()


class WritesLater(Plugin):
    """Takes a moment, then posts from a transaction."""

    name = "writes_later"

    @on(MessagePosted)
    async def first(self, event: MessagePosted, ctx: Context) -> None:
        await asyncio.sleep(0.01)
        async with ctx.transaction():
            await ctx.send("first")


class WritesNow(Plugin):
    """Posts from a transaction at once, holding the write lock the other one waits for."""

    name = "writes_now"

    @on(MessagePosted)
    async def second(self, event: MessagePosted, ctx: Context) -> None:
        async with ctx.transaction():
            await ctx.send("second")


async def test_a_post_from_a_transaction_does_not_wait_for_an_earlier_task(
    world_factory: WorldFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.core import causal

    # the earlier task waits for the write lock the later one holds: waiting for its
    # turn there would stall both until CAUSAL_WAIT (and still not keep the order)
    waited: list[float] = []
    real = causal.wait_turn

    async def timed() -> None:
        waited.append(0.0)
        await real()

    monkeypatch.setattr("bot.core.outbox.wait_turn", timed)
    world = await world_factory([WritesLater, WritesNow])
    out = world.bot_lines(await world.play(":as sara", "hello"))
    assert sorted(out) == ["Majlis: first", "Majlis: second"]
    assert waited == []
