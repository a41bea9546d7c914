"""The test kit for plugin authors: a fake community that reads like a conversation.

::

    async with FakeCommunity([Greet], admins=["amal"], language="ar") as club:
        await club.joins("sara")
        club.expect("Welcome, sara", buttons=["Wave back"])
        await club.presses("sara", "Wave back")
        await club.says("amal", "/config greet greet no")
        await club.advance("2d")
        assert club.sent_to("sara") == []

It runs the real app on the console platform with an in-memory database and a manual
clock, so handlers, commands, buttons, jobs and the outbox behave as in production.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from bot.adapters.console import Console, render
from bot.app import App
from bot.core.actions import Action, SendMessage
from bot.core.clock import ManualClock
from bot.core.commands import Duration
from bot.core.platform import Delivered, Progress, Undeliverable
from bot.core.plugin import Plugin
from bot.core.refs import MemberRef
from bot.settings import Settings

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Sent:
    """One message the bot sent: its plain text, who it was for, and its buttons.

    ``mentions`` are the ids of the members it may ping (the platform pings no one else).
    """

    text: str
    to: str | None
    private: bool
    buttons: tuple[str, ...]
    attachments: tuple[str, ...]
    data: tuple[bytes, ...] = ()
    mentions: tuple[str, ...] = ()

    @property
    def is_dm(self) -> bool:
        """Sent as a direct message (not in a channel)."""
        return self.to is not None and not self.private


class _Recorder(Console):
    """The console platform, also keeping what was sent as :class:`Sent` records."""

    def __init__(self, owner: str) -> None:
        super().__init__(owner=owner, out=io.StringIO())
        self.sent: list[Sent] = []
        #: Members who closed their DMs (or never started the bot): a DM to them is
        #: refused as the platforms refuse it.
        self.closed_dms: set[str] = set()

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        if (
            isinstance(action, SendMessage)
            and action.channel is None
            and action.member is not None
            and action.member.id in self.closed_dms
        ):
            raise Undeliverable(f"{action.member.id} does not accept direct messages")
        # recorded once delivered: a delivery that failed and is retried was sent once
        delivered = await super().deliver(action, reply_handle)
        if isinstance(action, SendMessage):
            content = action.content
            to = None
            private = False
            if action.channel is None and action.member is not None:
                to = action.member.id
            elif action.private and action.member is not None:
                to, private = action.member.id, True
            self.sent.append(Sent(
                text=render(content),
                to=to,
                private=private,
                buttons=tuple(b.label for b in content.all_buttons()),
                attachments=tuple(a.filename for a in content.attachments),
                data=tuple(a.data for a in content.attachments),
                mentions=content.mention_ids,
            ))
        return delivered


class FakeCommunity:
    """A community with members, admins, a language and a manual clock.

    Args:
        plugins: The plugin classes to run (the framework's own commands are always there).
        admins: Member names who are admins; ``owner`` (the default owner) is the owner.
        language: The community's default language.
        start: The manual clock's start time (UTC).
        settings: Further process settings (``Settings`` fields).
    """

    def __init__(
        self,
        plugins: Sequence[type[Plugin]],
        *,
        admins: Sequence[str] = (),
        language: str = "en",
        owner: str = "owner",
        start: datetime = START,
        database_url: str = "sqlite+aiosqlite://",
        **settings: Any,
    ) -> None:
        """Prepare the community; it starts with ``await`` :meth:`start` or ``async with``."""
        self.clock = ManualClock(start)
        self.platform = _Recorder(owner)
        self.platform.admins.update(admins)
        # The plugins under test run: the playground's disabled_by_default does not apply.
        values: dict[str, Any] = {
            "database_url": database_url, "language": language, "disabled_by_default": [],
        }
        values.update(settings)
        self.app = App(
            Settings(_env_file=None, **values),  # type: ignore[call-arg]
            clock=self.clock,
            platforms=[self.platform],
            plugins=list(plugins),
        )
        self._read = 0

    async def start(self) -> FakeCommunity:
        """Start the app (migrations, plugins, the community's record)."""
        await self.app.start()
        await self.app.settle()
        return self

    async def stop(self) -> None:
        """Stop the app and close the database."""
        if self.app.started:
            await self.app.stop()

    async def __aenter__(self) -> FakeCommunity:
        return await self.start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- what happens ---------------------------------------------------------------------

    def member(self, name: str) -> MemberRef:
        """The member called ``name`` (created on first use)."""
        return self.platform.member(name)

    async def _play(self, *lines: str) -> list[Sent]:
        start = len(self.platform.sent)
        await self.platform.run_lines(lines)
        return self.platform.sent[start:]

    async def joins(self, name: str) -> list[Sent]:
        """``name`` joins the community; returns what the bot sent."""
        return await self._play(f":join {name}")

    async def leaves(self, name: str) -> list[Sent]:
        """``name`` leaves the community."""
        return await self._play(f":leave {name}")

    async def says(self, name: str, text: str) -> list[Sent]:
        """``name`` posts ``text`` (a ``/command`` is a command); returns what the bot sent."""
        return await self._play(f":as {name}", text)

    async def presses(self, name: str, button: str | int) -> list[Sent]:
        """``name`` presses a button of the latest message they can see, by label or number."""
        await self._play(f":as {name}")
        index = button
        if isinstance(button, str):
            post = next(
                (p for p in reversed(self.platform.posts)
                 if p.buttons and (p.viewer is None or p.viewer == name)),
                None,
            )
            labels = [b.label for b in post.buttons] if post else []
            if button not in labels:
                raise AssertionError(f"no button {button!r} for {name}; buttons: {labels}")
            index = labels.index(button) + 1
        return await self._play(f":press {index}")

    async def make_admin(self, name: str) -> None:
        """Give ``name`` admin rights."""
        await self._play(f":admin {name}")

    def closes_dms(self, *names: str) -> None:
        """These members accept no DM from the bot (blocked it, or never started it)."""
        self.platform.closed_dms.update(names)

    async def set_language(self, name: str, code: str) -> None:
        """``name``'s client reports language ``code`` (as Telegram does)."""
        await self._play(f":as {name}", f":lang {code}")

    async def advance(self, by: str | timedelta) -> list[Sent]:
        """Move the clock (``"2d"`` or a timedelta); due jobs fire in order."""
        delta = Duration.parse(by) if isinstance(by, str) else by
        start = len(self.platform.sent)
        await self.app.scheduler.advance(delta)
        await self.app.settle()
        return self.platform.sent[start:]

    # -- what the bot sent ----------------------------------------------------------------

    @property
    def sent(self) -> list[Sent]:
        """Everything the bot sent since the start."""
        return list(self.platform.sent)

    def new(self) -> list[Sent]:
        """What the bot sent since the last call of :meth:`new` or :meth:`expect`."""
        found = self.platform.sent[self._read:]
        self._read = len(self.platform.sent)
        return found

    def sent_to(self, name: str) -> list[Sent]:
        """Messages addressed only to ``name`` (DMs and private replies)."""
        return [s for s in self.platform.sent if s.to == name]

    def expect(
        self,
        contains: str,
        *,
        to: str | None = None,
        buttons: Sequence[str] | None = None,
        attachments: Sequence[str] | None = None,
    ) -> Sent:
        """The first unread message containing ``contains``; fails with what was sent instead.

        ``to`` requires it to be addressed to that member; ``buttons`` and ``attachments``
        require exactly those labels and file names. Messages up to it count as read.
        """
        unread = self.platform.sent[self._read:]
        for offset, sent in enumerate(unread):
            if contains not in sent.text:
                continue
            if to is not None and sent.to != to:
                continue
            if buttons is not None and list(sent.buttons) != list(buttons):
                continue
            if attachments is not None and list(sent.attachments) != list(attachments):
                continue
            self._read += offset + 1
            return sent
        shown = "\n".join(f"  to={s.to} {s.text!r} {list(s.buttons)}" for s in unread) or "  —"
        raise AssertionError(
            f"the bot sent nothing containing {contains!r}"
            f"{f' to {to}' if to else ''}{f' with buttons {buttons}' if buttons else ''}; "
            f"it sent:\n{shown}"
        )

    def expect_nothing(self) -> None:
        """Fail if the bot sent anything unread."""
        unread = self.new()
        if unread:
            raise AssertionError(f"expected silence; the bot sent {[s.text for s in unread]}")
