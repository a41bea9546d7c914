"""DMs about one thing share ONE fallback post for the members none reached (issues 16, 18)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.app import App
from bot.core.actions import Action, SendMessage
from bot.core.markup import Markup, parse
from bot.core.platform import Delivered, Undeliverable
from bot.core.refs import MemberRef
from tests.core.test_outbox import CHANNEL, COMMUNITY, FakePlatform, started

PEOPLE = [MemberRef("fake", f"u{i}", name) for i, name in
          enumerate(["Sara", "Omar", "Lina", "Yusuf", "Huda"], start=1)]


class ClosedDMs(FakePlatform):
    """DMs to members in ``closed`` are refused as the platforms do (blocked, not started)."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: set[str] = set()
        self.posts: list[SendMessage] = []  # channel posts
        self.dms: list[tuple[str, str]] = []  # (member id, text) delivered privately

    async def deliver(self, action: Action, reply_handle: Any = None) -> Delivered:
        assert isinstance(action, SendMessage)
        if action.channel is None and action.member is not None:
            if action.member.id in self.closed:
                raise Undeliverable("Forbidden: bot was blocked by the user")
            self.dms.append((action.member.id, str(action.content.text)))
        else:
            self.posts.append(action)
        return await super().deliver(action, reply_handle)


def pinged(post: SendMessage) -> list[str]:
    """Who a post mentions in its text; the platform lets it ping only ``mention_ids``."""
    return [s.target for s in parse(post.content.text) if s.style.value == "mention"]


def plain(post: SendMessage) -> str:
    return "".join(s.text for s in parse(post.content.text))


async def remind(app: App, members: list[MemberRef] = PEOPLE) -> list[int]:
    ctx = app.kernel.context_for(None, COMMUNITY, channel=CHANNEL)
    return await ctx.dm_many(
        members,
        [f"your seat code is {m.name}-42" for m in members],  # private: for the DM only
        fallback=lambda mentions: Markup("{m}: the *book club* starts in 1 hour.").format(
            m=mentions),
    )


async def test_three_of_five_closed_dms_get_one_post_mentioning_exactly_them() -> None:
    platform = ClosedDMs()
    platform.closed = {"u1", "u3", "u5"}
    app = await started(platform)
    await remind(app)
    await app.outbox.idle(10)
    assert sorted(m for m, _ in platform.dms) == ["u2", "u4"]
    assert len(platform.posts) == 1
    post = platform.posts[0]
    assert post.channel == CHANNEL
    assert pinged(post) == ["u1", "u3", "u5"]
    assert sorted(post.content.mention_ids) == ["u1", "u3", "u5"]
    assert plain(post) == "Sara Lina Huda: the *book club* starts in 1 hour."
    # what the DMs said privately never reaches the channel
    assert "seat code" not in str(post.content.text)
    assert (await app.db.outbox_counts()).get("undeliverable") == 3
    await app.stop()


async def test_when_every_dm_is_delivered_nothing_is_posted() -> None:
    platform = ClosedDMs()
    app = await started(platform)
    await remind(app)
    await app.outbox.idle(10)
    assert len(platform.dms) == 5
    assert platform.posts == []
    await app.stop()


async def test_names_are_escaped_and_only_the_unreached_are_pinged() -> None:
    platform = ClosedDMs()
    sneaky = MemberRef("fake", "u9", "](member:u2) @everyone **x**")
    platform.closed = {"u9"}
    app = await started(platform)
    await remind(app, [PEOPLE[1], sneaky])
    await app.outbox.idle(10)
    (post,) = platform.posts
    assert pinged(post) == ["u9"]
    assert post.content.mention_ids == ("u9",)
    await app.stop()


async def test_a_restart_between_the_last_failure_and_the_post_posts_it_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    platform = ClosedDMs()
    platform.closed = {"u1", "u2", "u3", "u4", "u5"}
    app = await started(platform, url)

    async def crash(group: str, community: str) -> None:
        raise asyncio.CancelledError  # the process dies right after storing the last failure

    app.outbox._group_done = crash
    await remind(app)
    await app.outbox.idle(10)
    assert (await app.db.outbox_counts()).get("undeliverable") == 5
    await app.stop()
    assert platform.posts == []

    for _ in range(2):  # started twice more: the post is made once
        again = ClosedDMs()
        app = await started(again, url)
        await app.outbox.idle(10)
        await app.stop()
        if _ == 0:
            (post,) = again.posts
            assert pinged(post) == ["u1", "u2", "u3", "u4", "u5"]
        else:
            assert again.posts == []


async def test_a_single_failed_dm_outside_a_group_still_gets_its_own_fallback() -> None:
    platform = ClosedDMs()
    platform.closed = {"u1"}
    app = await started(platform)
    ctx = app.kernel.context_for(None, COMMUNITY, channel=CHANNEL)
    await ctx.dm(PEOPLE[0], "hi", fallback="[Sara] please open your DMs")
    await app.outbox.idle(10)
    (post,) = platform.posts
    assert plain(post) == "[Sara] please open your DMs"
    await app.stop()


async def test_the_default_note_speaks_the_communitys_language() -> None:
    platform = ClosedDMs()
    platform.closed = {"u1", "u2"}
    app = await started(platform)
    await app.communities.update(COMMUNITY, language="ar")
    ctx = app.kernel.context_for(None, COMMUNITY, channel=CHANNEL)
    await ctx.dm_many(PEOPLE[:3], "secret")
    await app.outbox.idle(10)
    (post,) = platform.posts
    assert pinged(post) == ["u1", "u2"]
    assert plain(post).startswith("Sara Omar: ")
    assert "محادثة خاصة" in plain(post)
    await app.stop()


async def test_a_groups_claim_is_pruned_with_the_last_of_its_rows() -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from bot.core.storage import outbox_groups

    platform = ClosedDMs()
    platform.closed = {"u1"}
    app = await started(platform)
    await remind(app, PEOPLE[:2])
    await app.outbox.idle(10)
    assert len(platform.posts) == 1

    async def claims() -> int:
        async with app.db.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox_groups)))
                       .scalar_one())

    assert await claims() == 1
    await app.db.outbox_prune(app.clock.now() + timedelta(seconds=1),
                              ["sent", "failed", "undeliverable"])
    assert await claims() == 0
    await app.stop()
