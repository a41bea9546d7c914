"""A local community in the terminal: scriptable, with a movable clock.

Lines (interactive or from a script):

- ``:as NAME`` act as NAME (joins if new) · ``:join NAME`` · ``:leave NAME``
- ``:admin NAME`` make NAME an admin · ``:lang CODE`` the acting member's language
- ``:press N`` press button N of the latest bot message with buttons (counted from 1)
- ``:react EMOJI`` react to the latest message · ``:advance DURATION`` (``90m``, ``2d``)
- ``# comment`` · anything else is a message by the acting member (``/command args``)
"""

from __future__ import annotations

import itertools
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

from bot.core.actions import (
    Action,
    CreateThread,
    EditMessage,
    GrantReward,
    ScheduleEvent,
    SendMessage,
    SendPoll,
)
from bot.core.capabilities import DEFAULT_LIMITS, Capability
from bot.core.commands import Duration, Kind
from bot.core.events import (
    ButtonPressed,
    CommandInvoked,
    CommunityJoined,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
)
from bot.core.markup import Style, parse
from bot.core.messages import Button, Content
from bot.core.payloads import PayloadError, decode
from bot.core.platform import Delivered, Progress
from bot.core.privilege import Privilege
from bot.core.ratelimit import UNLIMITED
from bot.core.refs import ChannelRef, CommunityRef, MemberRef, RoleRef

if TYPE_CHECKING:
    from bot.app import App

PLATFORM = "console"
GENERAL = "general"
BOT_NAME = "Majlis"


@dataclass(slots=True)
class _Posted:
    id: str
    author: MemberRef | None
    channel: ChannelRef
    buttons: list[Button] = field(default_factory=list)
    viewer: str | None = None


def render(content: Content) -> str:
    """Plain terminal text for content: mentions as @name, links as label <url>."""
    parts: list[str] = []
    for span in parse(content.text):
        if span.style is Style.MENTION:
            parts.append(f"@{span.text}")
        elif span.style is Style.LINK:
            parts.append(f"{span.text} <{span.target}>")
        else:
            parts.append(span.text)
    text = "".join(parts)
    if content.card is not None:
        card = content.card
        lines = [f"┌ {card.title}"]
        if card.description:
            lines.append(f"│ {card.description}")
        lines.extend(f"│ {f.name}: {f.value}" for f in card.fields)
        if card.footer:
            lines.append(f"└ {card.footer}")
        text = "\n".join([text, *lines]) if text else "\n".join(lines)
    return text


class Console:
    """The console platform: one community, members by name, a transcript on a stream."""

    name = PLATFORM
    capabilities = frozenset(
        {
            Capability.BUTTONS,
            Capability.DIRECT_MESSAGES,
            Capability.EPHEMERAL,
            Capability.MESSAGE_TEXT,
            Capability.REACTIONS,
            Capability.EDIT_MESSAGES,
            Capability.IMAGES,
            Capability.MEMBER_EVENTS,
        }
    )
    rate_profile = UNLIMITED
    limits = DEFAULT_LIMITS

    def __init__(
        self,
        community_name: str = "Majlis playground",
        owner: str = "owner",
        out: TextIO | None = None,
    ) -> None:
        """A community named ``community_name`` whose owner acts first."""
        self.community = CommunityRef(PLATFORM, "local")
        self.community_name = community_name
        self.owner = owner
        self.out = out or sys.stdout
        self.app: App | None = None
        self.members: dict[str, MemberRef] = {}
        self.admins: set[str] = {owner}
        self.acting = owner
        self.posts: list[_Posted] = []
        self.rewards: dict[str, set[str]] = {}
        self.transcript: list[str] = []
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._session = secrets.token_hex(4)
        self.channel = ChannelRef(PLATFORM, GENERAL, "general")

    # -- the Platform protocol ----------------------------------------------------------

    async def start(self, app: App) -> None:
        """Register the community and its owner."""
        self.app = app
        await app.dispatcher.dispatch(
            CommunityJoined(id=self._eid(), community=self.community, name=self.community_name)
        )
        self.members[self.owner] = MemberRef(PLATFORM, self.owner, self.owner)

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def privilege_of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """The owner is owner; ``:admin`` makes admins; everyone else is a member."""
        if member.id == self.owner:
            return Privilege.OWNER
        return Privilege.ADMIN if member.id in self.admins else Privilege.MEMBER

    async def resolve(self, community: CommunityRef, kind: Kind, token: str) -> Any:
        """Members by ``@name`` or name; channels by ``#name``; roles by name."""
        name = token.lstrip("@#")
        if kind is Kind.MEMBER:
            return self.members.get(name)
        if kind is Kind.CHANNEL:
            return ChannelRef(PLATFORM, name, name)
        if kind is Kind.ROLE:
            return RoleRef(PLATFORM, name, name)
        return None

    def default_channel(self, community: CommunityRef) -> ChannelRef | None:
        """Everything automated goes to #general."""
        return self.channel

    def rate_keys(self, action: Action) -> tuple[tuple[str, str], ...]:
        """Nothing here is rate-limited."""
        return ()

    async def wait_ready(self) -> None:
        """Always ready."""

    async def deliver(
        self, action: Action, reply_handle: Any = None, progress: Progress | None = None
    ) -> Delivered:
        """Print what the bot does."""
        message_id = f"m{next(self._ids)}"
        if isinstance(action, SendMessage):
            content = action.content
            if action.channel is None and action.member is not None:
                prefix = f"(DM to {action.member.display_name}) "
                viewer: str | None = action.member.id
            elif action.private and action.member is not None:
                prefix = f"(only {action.member.display_name} sees) "
                viewer = action.member.id
            else:
                prefix, viewer = "", None
            self._print(BOT_NAME, prefix + render(content), content)
            channel = action.channel or ChannelRef(PLATFORM, f"dm:{viewer}", private=True)
            self.posts.append(_Posted(message_id, None, channel, content.all_buttons(), viewer))
        elif isinstance(action, EditMessage):
            self._print(
                BOT_NAME, f"(edited {action.message_id}) " + render(action.content), action.content
            )
            for post in self.posts:
                if post.id == action.message_id:
                    post.buttons = action.content.all_buttons()
            return Delivered(action.message_id)
        elif isinstance(action, GrantReward):
            badges = self.rewards.setdefault(action.member.id, set())
            label = action.reward.title or action.reward.badge
            if action.revoke:
                badges.discard(label)
                self._line(
                    f"{BOT_NAME}: (badge removed from {action.member.display_name}: {label})"
                )
            else:
                badges.add(label)
                self._line(f"{BOT_NAME}: (badge for {action.member.display_name}: {label})")
        elif isinstance(action, SendPoll):
            self._line(
                f"{BOT_NAME}: (poll) {action.question} "
                + " ".join(f"[{i} {o}]" for i, o in enumerate(action.options, 1))
            )
        elif isinstance(action, CreateThread):
            # no threads here: the first post is printed with the thread's name
            self._print(BOT_NAME, f"(thread {action.name}) " + render(action.content),
                        action.content)
            channel = ChannelRef(PLATFORM, f"thread:{message_id}", action.name, False,
                                 action.channel.id if action.channel else GENERAL)
            self.posts.append(_Posted(message_id, None, channel, action.content.all_buttons()))
            return Delivered(channel.id)
        elif isinstance(action, ScheduleEvent):
            # no scheduled events here: a line with the event's time (the transcript's clock)
            if action.cancel:
                self._line(f"{BOT_NAME}: (event {action.name} cancelled)")
            elif action.start is not None and self.app is not None:
                when = action.start.astimezone(self.app.clock.now().tzinfo)
                self._line(f"{BOT_NAME}: (event {action.name} at "
                           f"{when.strftime('%Y-%m-%d %H:%M')})")
        return Delivered(message_id)

    # -- the transcript -----------------------------------------------------------------

    def _time(self) -> str:
        assert self.app is not None
        return self.app.clock.now().strftime("%Y-%m-%d %H:%M")

    def _line(self, text: str) -> None:
        line = f"[{self._time()}] {text}"
        self.transcript.append(line)
        print(line, file=self.out, flush=True)

    def _print(self, speaker: str, text: str, content: Content) -> None:
        buttons = content.all_buttons()
        if buttons:
            text += ("\n" if "\n" in text else " ") + " ".join(
                f"[{i} {b.label}]" for i, b in enumerate(buttons, 1)
            )
        for attachment in content.attachments:
            kind = "image" if attachment.image else "file"
            text += f" ({kind}: {attachment.filename}, {len(attachment.data)} bytes)"
        self._line(f"{speaker}: {text}")

    # -- the script ---------------------------------------------------------------------

    def _eid(self) -> str:
        # A run of its own: the playground's database outlives a session, and ids from an
        # earlier session must not look like replays of this one.
        return f"console:{self._session}:{next(self._event_ids)}"

    def member(self, name: str) -> MemberRef:
        """The member called ``name`` (created on first use)."""
        found = self.members.get(name)
        if found is None:
            found = MemberRef(PLATFORM, name, name)
            self.members[name] = found
        return found

    async def run_lines(self, lines: Iterable[str]) -> None:
        """Play lines one by one, each settled before the next."""
        for line in lines:
            await self.run_line(line)

    async def run_line(self, raw: str) -> None:
        """Play one line: a directive, a message, or a command."""
        assert self.app is not None
        app = self.app
        line = raw.rstrip("\n").strip()
        if not line or line.startswith("#"):
            return
        if line.startswith(":"):
            verb, _, rest = line[1:].partition(" ")
            rest = rest.strip()
            handler: Callable[[str], Any] | None = getattr(self, f"_do_{verb}", None)
            if handler is None:
                self._line(f"(unknown directive :{verb}; see the console help in the README)")
                return
            await handler(rest)
        else:
            await self._say(line)
        await app.settle()

    async def _ensure_joined(self, name: str) -> MemberRef:
        if name not in self.members:
            member = self.member(name)
            self._line(f"→ {name} joined")
            assert self.app is not None
            await self.app.dispatcher.dispatch(
                MemberJoined(
                    id=self._eid(),
                    community=self.community,
                    member=member,
                    at=self.app.clock.now(),
                )
            )
            return member
        return self.members[name]

    async def _do_as(self, name: str) -> None:
        await self._ensure_joined(name)
        self.acting = name

    async def _do_join(self, name: str) -> None:
        assert self.app is not None
        member = self.member(name)
        self._line(f"→ {name} joined")
        await self.app.dispatcher.dispatch(
            MemberJoined(
                id=self._eid(), community=self.community, member=member, at=self.app.clock.now()
            )
        )

    async def _do_leave(self, name: str) -> None:
        assert self.app is not None
        member = self.members.pop(name, None) or MemberRef(PLATFORM, name, name)
        self._line(f"← {name} left")
        await self.app.dispatcher.dispatch(
            MemberLeft(id=self._eid(), community=self.community, member=member)
        )

    async def _do_admin(self, name: str) -> None:
        await self._ensure_joined(name)
        self.admins.add(name)
        self._line(f"(now {name} is an admin)")

    async def _do_lang(self, code: str) -> None:
        current = self.member(self.acting)
        self.members[self.acting] = MemberRef(PLATFORM, current.id, current.name, code or None)
        self._line(f"({self.acting} uses language {code})")

    async def _do_advance(self, text: str) -> None:
        assert self.app is not None
        try:
            delta: timedelta = Duration.parse(text)
        except ValueError:
            self._line(f"(:advance needs a duration like 90m, 2h or 3d, not {text!r})")
            return
        self._line(f"(time passes: {text})")
        await self.app.scheduler.advance(delta)

    async def _do_press(self, text: str) -> None:
        assert self.app is not None
        actor = self.member(self.acting)
        post = next(
            (
                p
                for p in reversed(self.posts)
                if p.buttons and (p.viewer is None or p.viewer == actor.id)
            ),
            None,
        )
        if post is None or not text.isdigit() or not 1 <= int(text) <= len(post.buttons):
            count = len(post.buttons) if post else 0
            self._line(f"(:press needs a button number from 1 to {count})")
            return
        button = post.buttons[int(text) - 1]
        self._line(f"{self.acting} pressed [{button.label}]")
        if button.payload is None:
            self._line(f"(opens {button.url})")
            return
        try:
            payload = await decode(button.payload.pack(), self.app.db)
        except PayloadError as exc:
            self._line(f"(that button no longer works: {exc})")
            return
        await self.app.dispatcher.dispatch(
            ButtonPressed(
                id=self._eid(),
                community=self.community,
                member=actor,
                channel=post.channel,
                message_id=post.id,
                payload=payload,
                reply_handle=None,
            )
        )

    async def _do_react(self, emoji: str) -> None:
        assert self.app is not None
        if not self.posts:
            self._line("(:react needs a message to react to)")
            return
        post = self.posts[-1]
        self._line(f"{self.acting} reacted {emoji}")
        await self.app.dispatcher.dispatch(
            ReactionAdded(
                id=self._eid(),
                community=self.community,
                member=self.member(self.acting),
                channel=post.channel,
                message_id=post.id,
                emoji=emoji,
                author=post.author,
            )
        )

    async def _say(self, text: str) -> None:
        assert self.app is not None
        member = await self._ensure_joined(self.acting)
        member = self.members[self.acting]
        message_id = f"m{next(self._ids)}"
        self._line(f"{member.display_name}: {text}")
        self.posts.append(_Posted(message_id, member, self.channel))
        if text.startswith("/") and len(text) > 1:
            name, _, args = text[1:].partition(" ")
            await self.app.dispatcher.dispatch(
                CommandInvoked(
                    id=self._eid(),
                    community=self.community,
                    member=member,
                    channel=self.channel,
                    name=name.lower(),
                    text=args,
                )
            )
            return
        mentions = tuple(
            self.members[word[1:]]
            for word in text.split()
            if word.startswith("@") and word[1:] in self.members
        )
        await self.app.dispatcher.dispatch(
            MessagePosted(
                id=self._eid(),
                community=self.community,
                member=member,
                channel=self.channel,
                message_id=message_id,
                text=text,
                mentions=mentions,
                at=self.app.clock.now(),
            )
        )
