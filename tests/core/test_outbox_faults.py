"""The outbox under the faults real platforms produce.

A fake platform that speaks the whole adapter contract (rate-limit buckets, readiness,
per-part progress, reply handles) misbehaves the way Telegram and Discord do: 429s with a
refused bucket, 500s, "not connected" while it reconnects, a part that fails after an
earlier part went out, a restart with a reply still queued.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.core import outbox as outbox_module
from bot.core import storage
from bot.core.actions import Action, GrantReward, SendMessage
from bot.core.capabilities import Capability
from bot.core.clock import SystemClock
from bot.core.commands import Kind
from bot.core.messages import Attachment, Content, Reward
from bot.core.platform import (
    Delivered,
    NotConnected,
    Progress,
    RetryAfter,
    TransientError,
)
from bot.core.privilege import Privilege
from bot.core.ratelimit import Limit, RateProfile
from bot.core.refs import ChannelRef, CommunityRef, MemberRef
from bot.core.storage import outbox
from tests.conftest import make_settings

COMMUNITY = CommunityRef("fake", "g1")
GROUP = ChannelRef("fake", "g1")
ADMINS = ChannelRef("fake", "admins")
ZORBLAX = MemberRef("fake", "u9", "Zorblax Quux")
SARA = MemberRef("fake", "u1", "Sara")


class Handle:
    """An adapter's reply handle that can be stored as JSON."""

    def __init__(self, chat: str, message: str) -> None:
        self.chat, self.message = chat, message

    def to_json(self) -> dict[str, str]:
        return {"chat": self.chat, "message": self.message}


class Faulty:
    """A platform with Telegram-like buckets that fails on cue.

    ``script[text]`` lists what the next deliveries of that text (part 0) raise; a picture
    part fails with what ``picture_script[text]`` lists. ``parts`` counts each part the
    platform really posted, by progress key and index.
    """

    name = "fake"
    capabilities = frozenset({Capability.DIRECT_MESSAGES})

    def __init__(self, profile: RateProfile | None = None, *, ready: bool = True) -> None:
        self.rate_profile = profile or RateProfile(
            "fake", (Limit("group", 1, 60.0), Limit("chat", 1, 1.0)), 8
        )
        self.script: dict[str, list[Exception]] = {}
        self.picture_script: dict[str, list[Exception]] = {}
        self.posted: list[str] = []
        self.parts: Counter[tuple[str, int]] = Counter()
        self.handles: list[Any] = []
        self.ready = asyncio.Event()
        if ready:
            self.ready.set()
        self.tried = 0
        self.blocked: dict[tuple[str, str], float] = {}
        self.refused = 0

    async def start(self, app: App) -> None: ...

    async def stop(self) -> None: ...

    async def wait_ready(self) -> None:
        await self.ready.wait()

    def rate_keys(self, action: Action) -> tuple[tuple[str, str], ...]:
        if isinstance(action, GrantReward):
            return ()  # only recorded: no API call
        if isinstance(action, SendMessage) and action.channel is None:
            assert action.member is not None
            return (("chat", action.member.id),)
        assert isinstance(action, SendMessage) and action.channel is not None
        return (("group", action.community.id), ("chat", action.channel.id))

    def restore_handle(self, data: dict[str, str]) -> Handle:
        return Handle(data["chat"], data["message"])

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        self.tried += 1
        if not self.ready.is_set():
            raise NotConnected("reconnecting")
        if isinstance(action, GrantReward):
            self.posted.append(f"reward {action.member.id}")
            return Delivered(None)
        assert isinstance(action, SendMessage)
        now = asyncio.get_running_loop().time()
        for bucket in self.rate_keys(action):
            if self.blocked.get(bucket, 0.0) > now:
                self.refused += 1
                raise RetryAfter(self.blocked[bucket] - now, "chat", bucket)
        text = str(action.content.text)
        progress = progress if progress is not None else Progress()
        self.handles.append(reply_handle)
        if 0 not in progress.parts:
            queue = self.script.get(text)
            if queue:
                raise queue.pop(0)
            self.posted.append(text)
            self.parts[(progress.key, 0)] += 1
            progress.parts[0] = f"t{len(self.posted)}"
        for index, _ in enumerate(action.content.attachments, start=1):
            if index in progress.parts:
                continue
            queue = self.picture_script.get(text)
            if queue:
                raise queue.pop(0)
            self.posted.append(f"picture of {text}")
            self.parts[(progress.key, index)] += 1
            progress.parts[index] = f"p{len(self.posted)}"
        return Delivered(progress.parts.get(0))

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        return Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Kind, token: str) -> Any:
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        return ADMINS


async def started(platform: Faulty, url: str = "sqlite+aiosqlite://") -> App:
    app = App(make_settings(database_url=url), clock=SystemClock(), platforms=[platform],
              plugins=[])
    await app.start()
    await app.register_community(COMMUNITY)
    return app


def post(text: str, channel: ChannelRef = GROUP, **kwargs: Any) -> SendMessage:
    return SendMessage(community=COMMUNITY, channel=channel, content=Content.of(text), **kwargs)


def dm(member: MemberRef, text: str, **kwargs: Any) -> SendMessage:
    return SendMessage(community=COMMUNITY, member=member, content=Content.of(text), **kwargs)


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the outbox work until ``condition`` holds (fails the test after ``seconds``)."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox never got there")


# -- 1. buckets ------------------------------------------------------------------------


async def test_private_chats_and_rewards_do_not_wait_for_the_group_window() -> None:
    """Telegram: 20/min counts only messages *to the group*; DMs and rewards go at once."""
    platform = Faulty()
    app = await started(platform)
    await app.outbox.submit(post("first group post"))
    await app.outbox.submit(post("second group post"))  # the group's window is full now
    await app.outbox.submit(dm(SARA, "your introduction"))
    await app.outbox.submit(dm(ZORBLAX, "welcome in private"))
    await app.outbox.submit(
        GrantReward(community=COMMUNITY, member=SARA, reward=Reward("helper"))
    )
    await until(lambda: len(platform.posted) >= 4)
    assert set(platform.posted) == {
        "first group post", "your introduction", "welcome in private", "reward u1",
    }  # fmt: skip
    assert app.outbox.queued() == 1  # the second group post waits for its window, kept
    await app.stop()


async def test_a_refused_bucket_blocks_that_bucket_only_and_is_not_hammered() -> None:
    profile = RateProfile("fake", (Limit("group", 100, 60.0), Limit("chat", 100, 1.0)), 8)
    platform = Faulty(profile)
    loop = asyncio.get_running_loop()
    platform.blocked[("group", "g1")] = loop.time() + 30  # the platform says: group, wait 30 s
    app = await started(platform)
    topic = ChannelRef("fake", "g1:7")  # a forum topic: another chat key, the same group
    await app.outbox.submit(post("in the group"))
    await until(lambda: app.outbox.stats["retry_after"] == 1)
    await app.outbox.submit(post("in a topic", topic))
    await app.outbox.submit(dm(SARA, "in private"))
    await until(lambda: "in private" in platform.posted)
    await asyncio.sleep(0.2)
    assert platform.posted == ["in private"]
    assert platform.refused == 1  # the topic's post waited for the refused group bucket
    assert app.outbox.stats["retry_after"] == 1
    await app.stop()


# -- 2. restarts and readiness ----------------------------------------------------------


async def test_nothing_is_tried_before_the_platform_is_ready() -> None:
    platform = Faulty(ready=False)
    app = await started(platform)
    await app.outbox.submit(post("queued at start"))
    await asyncio.sleep(0.2)
    assert platform.tried == 0
    platform.ready.set()
    await app.outbox.idle(10)
    assert platform.posted == ["queued at start"]
    await app.stop()


async def test_not_connected_is_no_attempt_and_never_fails_the_action() -> None:
    """Twenty reconnects in a row: the message still goes out, with 0 attempts spent."""
    profile = RateProfile("fake", (), 8)
    platform = Faulty(profile)
    app = await started(platform)
    app.outbox.not_connected_pause = 0.0
    drops = 20

    async def flap() -> None:
        nonlocal drops
        while drops:
            platform.ready.clear()
            await asyncio.sleep(0.005)
            platform.ready.set()
            await asyncio.sleep(0)
            drops -= 1

    original = platform.deliver

    async def flaky(action: Action, reply_handle: Any = None,
                    progress: Progress | None = None) -> Delivered:
        if drops:
            raise NotConnected("gateway down")
        return await original(action, reply_handle, progress)

    platform.deliver = flaky  # type: ignore[method-assign]
    task = asyncio.ensure_future(flap())
    await app.outbox.submit(post("reminder"))
    await task
    await app.outbox.idle(10)
    assert platform.posted == ["reminder"]
    assert await app.db.outbox_counts() == {"sent": 1}
    async with app.db.connect() as conn:
        attempts = (await conn.execute(select(storage.outbox.c.attempts))).scalar()
    assert attempts == 0
    await app.stop()


# -- 3. retry accounting ------------------------------------------------------------------


async def test_429s_spend_no_attempts_and_500s_get_a_time_budget_not_8_tries() -> None:
    platform = Faulty(RateProfile("fake", (), 8))
    platform.script["busy"] = [RetryAfter(0.001) for _ in range(25)] + [TransientError("500")]
    platform.script["flaky"] = [TransientError("502") for _ in range(10)]
    app = await started(platform)
    app.outbox.backoff_base = 0.001
    await app.outbox.submit(post("busy"))
    await app.outbox.submit(post("flaky", ChannelRef("fake", "c2")))
    await app.outbox.idle(20)
    assert sorted(platform.posted) == ["busy", "flaky"]
    assert (await app.db.outbox_counts()) == {"sent": 2}
    await app.stop()


async def test_what_the_budget_finally_drops_is_reported_to_admins(caplog: Any) -> None:
    platform = Faulty(RateProfile("fake", (), 8))
    platform.script["doomed"] = [TransientError("503") for _ in range(10_000)]
    app = await started(platform)
    app.outbox.backoff_base = 0.001
    app.outbox.retry_budget = 0.3
    await app.outbox.submit(post("doomed"))
    await until(lambda: any(t.startswith("⚠") for t in platform.posted))
    report = next(t for t in platform.posted if t.startswith("⚠"))
    assert "503" in report
    assert "failed for good" in caplog.text
    assert (await app.db.outbox_counts()).get("failed") == 1
    await app.stop()


# -- 4. each part once ------------------------------------------------------------------


def with_picture(text: str) -> SendMessage:
    picture = Attachment("rank.png", b"\x89PNG", image=True)
    return SendMessage(
        community=COMMUNITY, channel=GROUP, content=Content.of(text, attachments=[picture])
    )


async def test_a_429_on_the_picture_does_not_repost_the_text() -> None:
    platform = Faulty(RateProfile("fake", (), 8))
    platform.picture_script["your rank"] = [RetryAfter(0.001) for _ in range(11)]
    app = await started(platform)
    action_id = await app.outbox.submit(with_picture("your rank"))
    await app.outbox.idle(10)
    assert platform.posted == ["your rank", "picture of your rank"]
    assert platform.parts == {(f"mj{action_id}", 0): 1, (f"mj{action_id}", 1): 1}
    await app.stop()


async def test_parts_delivered_before_a_restart_are_not_sent_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    platform = Faulty(RateProfile("fake", (), 8))
    platform.picture_script["your rank"] = [TransientError("500")]
    app = await started(platform, url)
    app.outbox.backoff_base = 30.0  # the retry would come after the restart
    await app.outbox.submit(with_picture("your rank"))
    await until(lambda: platform.posted == ["your rank"])
    await asyncio.sleep(0.1)
    await app.stop()

    again = Faulty(RateProfile("fake", (), 8))
    app2 = await started(again, url)
    await app2.outbox.idle(10)
    assert again.posted == ["picture of your rank"]
    await app2.stop()


# -- 5. a reply keeps what it answers across a restart ----------------------------------


async def test_a_reply_queued_at_shutdown_still_answers_its_message(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    platform = Faulty(RateProfile("fake", (), 8))
    platform.script["pong"] = [RetryAfter(60)]
    app = await started(platform, url)
    await app.outbox.submit(
        post("pong", reply_to="m41"), direct=True, reply_handle=Handle("g1", "m41")
    )
    await until(lambda: app.outbox.stats["retry_after"] == 1)
    await app.stop()

    again = Faulty(RateProfile("fake", (), 8))
    app2 = await started(again, url)
    await app2.outbox.idle(10)
    assert again.posted == ["pong"]
    (handle,) = again.handles
    assert isinstance(handle, Handle) and (handle.chat, handle.message) == ("g1", "m41")
    # once answered, the stored handle (on Discord: the interaction's token) is gone
    async with app2.db.connect() as conn:
        assert (await conn.execute(select(outbox.c.reply))).scalars().all() == [None]
    await app2.stop()


# -- 6. erasing a member finds what names them, by index --------------------------------


async def test_forget_redacts_rows_that_name_the_member_only_by_display_name() -> None:
    platform = Faulty(RateProfile("fake", (), 8))
    app = await started(platform)
    await app.outbox.submit(post("💛 Zorblax Quux thanked Sara", subjects=(ZORBLAX.id, SARA.id)))
    await app.outbox.submit(post("Zorblax Quux received 250 points", subjects=(ZORBLAX.id,)))
    await app.outbox.submit(dm(ZORBLAX, "Welcome, Zorblax Quux!"))
    await app.outbox.submit(post("Sara opened a poll", subjects=(SARA.id,)))
    await app.outbox.idle(10)
    await app.forget_member(ZORBLAX)

    left = []
    async with app.db.connect() as conn:
        for table in (storage.outbox, storage.outbox_subjects):
            for row in await conn.execute(select(table)):
                text = str(tuple(row))
                if "Zorblax" in text or "'u9'" in text:
                    left.append(f"{table.name}: {text}")
        texts = [r.action.get("content", {}).get("__content__", {}).get("text")
                 for r in await conn.execute(select(storage.outbox))]
    assert left == []
    assert "Sara opened a poll" in texts  # what did not name them is kept whole
    await app.stop()


async def test_context_names_the_acting_and_mentioned_members() -> None:
    from bot.core.context import Context
    from bot.core.events import MessagePosted

    platform = Faulty(RateProfile("fake", (), 8))
    app = await started(platform)
    event = MessagePosted(
        id="e1", community=COMMUNITY, member=ZORBLAX, channel=GROUP, message_id="m5",
        text="thanks @Sara", mentions=(SARA,),
    )  # fmt: skip
    ctx = Context(app, None, COMMUNITY, channel=GROUP, member=ZORBLAX, event=event)
    await ctx.send("Zorblax Quux thanked Sara")
    await app.outbox.idle(10)
    async with app.db.connect() as conn:
        named = {r.member for r in await conn.execute(select(storage.outbox_subjects))}
    assert named == {"u9", "u1"}
    await app.stop()


# -- 7. the hot path keeps nothing forever -------------------------------------------


async def test_sent_rows_are_pruned_after_a_week_and_pending_ones_kept() -> None:
    from datetime import timedelta

    platform = Faulty(RateProfile("fake", (), 8))
    app = await started(platform)
    old = await app.outbox.submit(post("last month"))
    await app.outbox.idle(10)
    platform.script["stuck"] = [RetryAfter(60)]
    await app.outbox.submit(post("stuck", ChannelRef("fake", "c9")))
    await until(lambda: app.outbox.stats["retry_after"] == 1)
    month_ago = app.clock.now() - timedelta(days=30)
    await app.db.outbox_update([old], created_at=month_ago)
    assert await app.outbox.prune() == 1
    assert await app.db.outbox_counts() == {"pending": 1}
    await app.stop()


async def test_a_kept_post_outlives_the_week_and_no_outbox_id_is_given_twice() -> None:
    from datetime import timedelta

    platform = Faulty(RateProfile("fake", (), 8))
    app = await started(platform)
    kept = await app.outbox.submit(post("an event's post", keep=True))
    passing = [await app.outbox.submit(post(f"note {i}")) for i in range(3)]
    await app.outbox.idle(10)
    await app.db.outbox_update([kept, *passing], created_at=app.clock.now() - timedelta(days=30))
    assert await app.outbox.prune() == 2  # the newest row stays, however old
    assert await app.db.outbox_state(kept) == ("sent", await app.outbox.message_id(kept))
    newer = await app.outbox.submit(post("after the prune"))
    assert newer > passing[-1]  # SQLite would have given a pruned id again
    await app.stop()


async def test_message_ids_in_memory_stay_bounded_and_old_ones_are_still_found() -> None:
    platform = Faulty(RateProfile("fake", (), 64))
    app = await started(platform)
    outbox_module.MESSAGE_IDS_KEPT, kept = 10, outbox_module.MESSAGE_IDS_KEPT
    try:
        first = await app.outbox.submit(post("m0", ChannelRef("fake", "c0")))
        for i in range(1, 30):
            await app.outbox.submit(post(f"m{i}", ChannelRef("fake", f"c{i}")))
        await app.outbox.idle(10)
        assert len(app.outbox._message_ids) <= 10
        assert await app.outbox.delivered(first, timeout=1) is not None
    finally:
        outbox_module.MESSAGE_IDS_KEPT = kept
    await app.stop()
