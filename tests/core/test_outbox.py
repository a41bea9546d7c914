"""The outbox: rate limits, retry-after, retries, failures, the pause, and restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.app import App
from bot.core.actions import Action, SendMessage
from bot.core.capabilities import Capability
from bot.core.clock import SystemClock
from bot.core.commands import Kind
from bot.core.messages import Content
from bot.core.platform import (
    Delivered,
    PermanentError,
    RetryAfter,
    TransientError,
    Undeliverable,
)
from bot.core.privilege import Privilege
from bot.core.ratelimit import Limit, RateProfile
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from tests.conftest import make_settings

COMMUNITY = CommunityRef("fake", "g1")
CHANNEL = ChannelRef("fake", "c1")


class FakePlatform:
    """Records deliveries; scripted failures by message text."""

    name = "fake"
    capabilities = frozenset({Capability.DIRECT_MESSAGES})

    def __init__(self, profile: RateProfile | None = None) -> None:
        self.rate_profile = profile or RateProfile("fake", (), 4)
        self.delivered: list[str] = []
        self.failures: dict[str, list[Exception]] = {}

    async def start(self, app: App) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, action: Action, reply_handle: Any = None) -> Delivered:
        assert isinstance(action, SendMessage)
        text = str(action.content.text)
        queue = self.failures.get(text)
        if queue:
            raise queue.pop(0)
        self.delivered.append(text)
        return Delivered(f"id{len(self.delivered)}")

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        return Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Kind, token: str) -> Any:
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        return CHANNEL


async def started(platform: FakePlatform, url: str = "sqlite+aiosqlite://") -> App:
    app = App(make_settings(database_url=url), clock=SystemClock(), platforms=[platform],
              plugins=[])
    await app.start()
    await app.register_community(COMMUNITY)
    return app


def message(text: str, channel: ChannelRef = CHANNEL) -> SendMessage:
    return SendMessage(community=COMMUNITY, channel=channel, content=Content.of(text))


async def test_order_kept_and_retry_after_honoured() -> None:
    platform = FakePlatform()
    platform.failures["m1"] = [RetryAfter(0.2), RetryAfter(0.1)]
    app = await started(platform)
    for i in range(5):
        await app.outbox.submit(message(f"m{i}"))
    await app.outbox.idle(10)
    assert platform.delivered == ["m0", "m1", "m2", "m3", "m4"]
    assert app.outbox.stats["retry_after"] == 2
    await app.stop()


async def test_transient_failures_retry_permanent_ones_are_reported() -> None:
    platform = FakePlatform()
    platform.failures["flaky"] = [TransientError("502")]
    platform.failures["doomed"] = [PermanentError("Missing permission")]
    app = await started(platform)
    app.outbox_backoff = 0
    await app.outbox.submit(message("doomed"))
    await app.outbox.submit(message("flaky", ChannelRef("fake", "c2")))
    await app.outbox.idle(10)
    assert "flaky" in platform.delivered
    report = [t for t in platform.delivered if t.startswith("⚠")]
    assert report and "Missing permission" in report[0]
    counts = await app.db.outbox_counts()
    assert counts.get("failed") == 1
    await app.stop()


async def test_undeliverable_dm_runs_the_fallback_in_the_channel() -> None:
    platform = FakePlatform()
    platform.failures["secret"] = [Undeliverable("dm closed")]
    app = await started(platform)
    member = MemberRef("fake", "u1", "Sara")
    await app.outbox.submit(
        SendMessage(community=COMMUNITY, member=member, content=Content.of("secret"),
                    fallback=Content.of("open your DMs"), fallback_channel=CHANNEL)
    )
    await app.outbox.idle(10)
    assert platform.delivered == ["open your DMs"]
    assert (await app.db.outbox_counts()).get("undeliverable") == 1
    await app.stop()


async def test_pause_holds_automated_posts_but_not_replies() -> None:
    platform = FakePlatform()
    app = await started(platform)
    await app.outbox.pause(COMMUNITY.key)
    await app.outbox.submit(message("scheduled post"))
    await app.outbox.submit(message("answer to a command"), direct=True)
    await app.outbox.idle(10)
    assert platform.delivered == ["answer to a command"]
    assert await app.outbox.resume(COMMUNITY.key) == 1
    await app.outbox.idle(10)
    assert platform.delivered == ["answer to a command", "scheduled post"]
    await app.stop()


async def test_undelivered_actions_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    platform = FakePlatform()
    platform.failures["later"] = [RetryAfter(30)]
    app = await started(platform, url)
    await app.outbox.submit(message("later"))
    await asyncio.sleep(0.1)
    await app.stop()
    assert platform.delivered == []

    again = FakePlatform()
    app2 = await started(again, url)
    await app2.outbox.idle(10)
    assert again.delivered == ["later"]
    await app2.stop()


async def test_rate_limits_hold_sends_back() -> None:
    """12 sends under a 10-per-0.5s global limit cannot all go in the first window."""
    profile = RateProfile("tight", (Limit("global", 10, 0.5), Limit("channel", 3, 0.5)), 4)
    platform = FakePlatform(profile)
    app = await started(platform)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for i in range(12):
        await app.outbox.submit(message(f"x{i}", ChannelRef("fake", f"c{i % 4}")))
    await app.outbox.idle(10)
    assert sorted(platform.delivered) == sorted(f"x{i}" for i in range(12))
    assert loop.time() - began >= 0.5
    await app.stop()


async def test_needs_admin_is_reported_once_kept_and_retried_when_woken() -> None:
    from bot.core.platform import NeedsAdmin

    platform = FakePlatform()
    platform.failures["promote"] = [NeedsAdmin("Role too high"), NeedsAdmin("Role too high")]
    app = await started(platform)
    await app.outbox.submit(message("promote"))
    for _ in range(100):
        if any(t.startswith("⚠") for t in platform.delivered):
            break
        await asyncio.sleep(0.01)
    assert [t for t in platform.delivered if t.startswith("⚠")] != []
    assert "promote" not in platform.delivered
    assert app.outbox.wake(COMMUNITY.key) == 1  # the admin fixed something: try again now
    await asyncio.sleep(0.1)
    assert app.outbox.wake(COMMUNITY.key) == 1  # refused again: still kept, not reported again
    await app.outbox.idle(10)
    assert "promote" in platform.delivered
    assert len([t for t in platform.delivered if t.startswith("⚠")]) == 1
    await app.stop()


# -- issue 14: answers to commands and buttons go ahead of background work -----------------

async def test_a_direct_reply_goes_ahead_of_background_posts_in_its_channel() -> None:
    """Five posts wait on the channel's window; the answer to a command overtakes them."""
    profile = RateProfile("tight", (Limit("channel", 1, 0.1),), 4)
    platform = FakePlatform(profile)
    app = await started(platform)
    # one transaction: all seven are queued at once, however slow this machine is (one by
    # one, a pause over 0.1 s let a second level-up through before the answer was stored)
    async with app.db.transaction():
        for i in range(5):
            await app.outbox.submit(message(f"level-up {i}"))
        await app.outbox.submit(message("answer to /help"), direct=True)
        await app.outbox.submit(message("second answer"), direct=True)
    await app.outbox.idle(10)
    assert platform.delivered == [
        "level-up 0", "answer to /help", "second answer",
        "level-up 1", "level-up 2", "level-up 3", "level-up 4",
    ]
    await app.stop()


class SlowPlatform(FakePlatform):
    """One delivery at a time, each taking a while (every slot is taken).

    The first one waits for ``opened``: the test's submits all come while it is in flight,
    however long a submit takes (a PostgreSQL commit is slower than SQLite's in memory).
    """

    def __init__(self, profile: RateProfile | None = None) -> None:
        super().__init__(profile)
        self.opened = asyncio.Event()

    async def deliver(self, action: Action, reply_handle: Any = None) -> Delivered:
        await self.opened.wait()
        await asyncio.sleep(0.02)
        return await super().deliver(action, reply_handle)


async def test_a_direct_reply_takes_the_next_free_delivery_slot() -> None:
    platform = SlowPlatform(RateProfile("one", (), 1))
    app = await started(platform)
    for i in range(5):
        await app.outbox.submit(message(f"post {i}", ChannelRef("fake", f"c{i}")))
    await app.outbox.submit(message("vote counted", ChannelRef("fake", "c9")), direct=True)
    platform.opened.set()
    await app.outbox.idle(10)
    assert platform.delivered[:2] == ["post 0", "vote counted"]
    assert sorted(platform.delivered) == sorted([*(f"post {i}" for i in range(5)),
                                                 "vote counted"])
    await app.stop()


async def test_one_members_failing_answer_does_not_hold_up_anothers() -> None:
    platform = FakePlatform()
    platform.failures["answer to sara"] = [TransientError("502")]
    app = await started(platform)
    app.outbox.backoff_base = 0.2
    sara, bob = MemberRef("fake", "u1", "Sara"), MemberRef("fake", "u2", "Bob")
    for member in (sara, bob):
        await app.outbox.submit(SendMessage(
            community=COMMUNITY, channel=CHANNEL, member=member, reply_to="event",
            content=Content.of(f"answer to {member.name.lower()}")), direct=True)
    await app.outbox.idle(10)
    assert platform.delivered == ["answer to bob", "answer to sara"]
    await app.stop()


# -- issue 16: pins refer to a message the outbox sent; a declined pin is dropped quietly ---


class PinningPlatform(FakePlatform):
    """Also pins: records ``pin:<platform id>``; declines pins of ids in ``no_rights``."""

    def __init__(self) -> None:
        super().__init__()
        self.no_rights: set[str] = set()

    async def deliver(self, action: Action, reply_handle: Any = None) -> Delivered:
        from bot.core.actions import PinMessage, UnpinMessage
        from bot.core.platform import Declined

        if isinstance(action, PinMessage | UnpinMessage):
            if action.message_id in self.no_rights:
                raise Declined("I may not pin here")
            self.delivered.append(f"{action.kind}:{action.message_id}")
            return Delivered(action.message_id)
        return await super().deliver(action, reply_handle)


async def test_a_pin_finds_its_post_and_a_declined_one_is_dropped_without_a_report() -> None:
    from bot.core.actions import PinMessage, UnpinMessage

    platform = PinningPlatform()
    platform.failures["doomed"] = [PermanentError("Missing permission")]
    app = await started(platform)
    post = await app.outbox.submit(message("post"))
    await app.outbox.submit(PinMessage(community=COMMUNITY, channel=CHANNEL, original=post))
    await app.outbox.submit(UnpinMessage(community=COMMUNITY, channel=CHANNEL, original=post))
    await app.outbox.idle(10)
    assert platform.delivered == ["post", "pin:id1", "unpin:id1"]

    second = await app.outbox.submit(message("second"))
    platform.no_rights.add(str(await app.outbox.delivered(second, 10)))  # not here
    await app.outbox.submit(PinMessage(community=COMMUNITY, channel=CHANNEL, original=second))
    await app.outbox.submit(message("after"))
    await app.outbox.idle(10)
    assert platform.delivered[3:] == ["second", "after"]  # the pin is dropped, not waited on
    assert app.outbox.stats["declined"] == 1
    assert not [t for t in platform.delivered if t.startswith("⚠")]  # nobody is told

    doomed = await app.outbox.submit(message("doomed"))
    await app.outbox.submit(PinMessage(community=COMMUNITY, channel=CHANNEL, original=doomed))
    await app.outbox.idle(10)
    reports = [t for t in platform.delivered if t.startswith("⚠")]
    assert len(reports) == 2 and "The message to pin was never delivered." in reports[1]
    await app.stop()
