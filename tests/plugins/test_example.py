"""The example plugin: reminders that cannot collide, a hot path that does not touch storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot import ChannelRef, MessagePosted
from bot.adapters.console import PLATFORM
from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.example import Example

REMINDED = "⏰ @sara, you asked me to remind you: "


def reminders(sent: list[Any]) -> list[str]:
    return sorted(s.text.removeprefix(REMINDED) for s in sent if s.text.startswith(REMINDED))


async def test_two_reminders_in_the_same_second_both_fire_once() -> None:
    async with FakeCommunity([Example]) as club:
        await club.says("sara", "/remind 2h call the venue")
        await club.says("sara", "/remind 2h book the room")
        club.expect("I will remind you at")
        club.expect("I will remind you at")
        # main kept one: the second /remind replaced the first under "member:timestamp"
        assert reminders(await club.advance("2h")) == ["book the room", "call the venue"]
        assert reminders(await club.advance("3d")) == []


async def test_both_reminders_fire_once_across_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with FakeCommunity([Example], database_url=url) as club:
        await club.says("sara", "/remind 2h call the venue")
        await club.says("sara", "/remind 2h book the room")
        assert len([s for s in club.sent if "I will remind you at" in s.text]) == 2
    # The app stopped; a new process starts on the same file before the reminders are due.
    async with FakeCommunity([Example], database_url=url) as club:
        assert reminders(club.sent) == []
        assert reminders(await club.advance("2h")) == ["book the room", "call the venue"]
        assert reminders(await club.advance("1d")) == []
    # And once more: what fired is recorded, so nothing fires again.
    async with FakeCommunity([Example], database_url=url) as club:
        assert reminders(await club.advance("2d")) == []


class Commits:
    """Counts committed transactions on the app's engine while attached."""

    def __init__(self, club: FakeCommunity) -> None:
        self.engine = club.app.db.engine.sync_engine
        self.count = 0

    def _committed(self, conn: Any) -> None:
        self.count += 1

    def __enter__(self) -> Commits:
        event.listen(self.engine, "commit", self._committed)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "commit", self._committed)


async def test_a_thousand_messages_commit_a_handful_of_times_and_are_all_counted() -> None:
    names = [f"m{i}" for i in range(20)]
    async with FakeCommunity([Example]) as club:
        for name in names:  # known members: they posted once
            await club.says(name, "hello")
        await club.app.counters.flush()
        community = club.platform.community
        channel = ChannelRef(PLATFORM, "general")
        with Commits(club) as commits:
            for i in range(1000):
                await club.app.dispatcher.dispatch(MessagePosted(
                    id=f"load:{i}", community=community,
                    member=club.platform.members[names[i % 20]], channel=channel,
                    message_id=f"load:{i}", text="lorem ipsum", durable=False,
                    at=club.clock.now(),
                ))
            await club.app.settle()
            during = commits.count
        assert during <= 5, f"{during} commits for 1,000 messages"
        exported = await club.app.plugins["example"].export(club.member("m3"))
        assert [e["count"] for e in exported["messages"]] == [51]


async def test_a_milestone_is_cheered_once_in_the_communitys_language(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    async with FakeCommunity([Example, Admin], database_url=url) as club:
        await club.says("owner", "/config example milestone 3")
        club.expect("milestone")
        for _ in range(2):
            await club.says("sara", "hi")
    # The count survives a restart: open() loads it before the next message is counted.
    async with FakeCommunity([Example, Admin], database_url=url) as club:
        await club.says("owner", "/language ar")
        await club.set_language("sara", "en")
        club.new()
        await club.says("sara", "hi")
        club.expect("🎉 3 رسائل هنا حتى الآن من sara.")
        for _ in range(2):
            await club.says("sara", "hi")
        club.expect_nothing()


async def test_forget_me_erases_counts_still_in_memory() -> None:
    async with FakeCommunity([Example]) as club:
        await club.says("sara", "hi")
        plugin = club.app.plugins["example"]
        await plugin.forget(club.member("sara"))
        await club.app.counters.flush()
        assert await plugin.export(club.member("sara")) == {"waves": [], "messages": []}
