"""A local community in the terminal: scriptable, with a movable clock.

Lines (interactive or from a script):

- ``:as NAME`` act as NAME (joins if new) · ``:join NAME …`` (several: a raid) ·
  ``:leave NAME``
- ``:admin NAME`` make NAME an admin · ``:lang CODE`` the acting member's language
- ``:press N`` press button N of the latest bot message with buttons (counted from 1)
- ``:react EMOJI`` react to the latest message · ``:advance DURATION`` (``90m``, ``2d``)
- ``:help`` lists these · ``# comment`` · anything else is a message by the acting member
  (``/command args``)

A directive that cannot be carried out answers with one short line in the acting member's
language. With a database that outlives the session, members, admins, chosen languages and
the clock's lead over real time are kept in ``core_kv``, so the next session continues.
Attachments are written to a folder when one is given, and the transcript names the file.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import select

from bot.core import storage
from bot.core.actions import (
    Action,
    CreateThread,
    EditMessage,
    GrantReward,
    PinMessage,
    ScheduleEvent,
    SendMessage,
    SendPoll,
    UnpinMessage,
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
from bot.core.i18n import N_, Translator
from bot.core.markup import Style, parse
from bot.core.messages import Attachment, Button, Content
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
#: Where the console keeps what must outlive a session (members, admins, the clock's lead).
STATE_NAMESPACE = "console"
#: Characters kept in a saved attachment's file name; others become "_".
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Durations ``:advance`` takes, as examples (a tuple: joined the language's way, "or").
ADVANCE_EXAMPLES = ("90m", "2h", "3d")
#: The directives and what each does, for ``:help`` (core msgids).
DIRECTIVES = (
    (":as NAME", N_("act as this member (who joins if new)")),
    (":join NAME …", N_("these members join the community, one after the other")),
    (":leave NAME", N_("this member leaves the community")),
    (":admin NAME", N_("make this member an admin")),
    (":lang CODE", N_("the acting member's language ({codes})")),
    (":press N", N_("press this button of the latest message with buttons")),
    (":react EMOJI", N_("react to the latest message")),
    (":advance DURATION", N_("move the clock ({examples}); due jobs fire in order")),
    (":help", N_("this list")),
    ("# …", N_("a comment, ignored")),
)


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
            Capability.PIN_MESSAGES,
        }
    )
    rate_profile = UNLIMITED
    limits = DEFAULT_LIMITS

    def __init__(
        self,
        community_name: str = "Majlis playground",
        owner: str = "owner",
        out: TextIO | None = None,
        attachments: Path | None = None,
    ) -> None:
        """A community named ``community_name`` whose owner acts first.

        ``attachments`` is the folder pictures and files are written to (None: not saved).
        """
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
        #: Ids of the bot's messages pinned now (the transcript says "📌 (pinned m3)").
        self.pinned: set[str] = set()
        self.transcript: list[str] = []
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._session = secrets.token_hex(4)
        self.channel = ChannelRef(PLATFORM, GENERAL, "general")
        self.attachments = attachments
        #: Whether a file of an earlier session under the same name is kept (a replayed
        #: script overwrites it instead, so its transcript is the same every time).
        self.keep_earlier = True
        self.languages: dict[str, str] = {}
        #: How far the clock is ahead of real time when it follows real time (None: it
        #: moves only by ``:advance``, as in a replayed script).
        self.lead: timedelta | None = None
        self.real: Callable[[], datetime] = lambda: datetime.now(UTC)
        #: While someone is typing at a prompt: what to draw again after a line the
        #: clock printed by itself (the prompt and what was typed so far).
        self.typing: Callable[[], str] | None = None
        self._interrupted = False
        self._busy = asyncio.Lock()

    # -- the Platform protocol ----------------------------------------------------------

    async def start(self, app: App) -> None:
        """Register the community and its owner; bring back members of earlier sessions."""
        self.app = app
        # before the community opens: its plugins schedule from the restored clock's time,
        # never from a time the last session already fired
        await self._restore()
        await app.dispatcher.dispatch(
            CommunityJoined(id=self._eid(), community=self.community, name=self.community_name)
        )
        self.members[self.owner] = self._ref(self.owner)

    async def stop(self) -> None:
        """Keep the session's state for the next one."""
        if self.app is not None and self.app.started:
            await self._keep()

    # -- what outlives a session ---------------------------------------------------------

    def _ref(self, name: str) -> MemberRef:
        return MemberRef(PLATFORM, name, name, self.languages.get(name))

    async def _restore(self) -> None:
        """Members still in the community, admins, languages, and the clock's lead."""
        assert self.app is not None
        table = storage.members
        async with self.app.db.connect() as conn:
            rows = await conn.execute(
                select(table.c.member).where(
                    table.c.community == self.community.key, table.c.left_at.is_(None)
                )
            )
            names = [r.member for r in rows]
        state = await self.app.db.kv_get(STATE_NAMESPACE, self.community.key) or {}
        self.admins |= set(state.get("admins", ()))
        self.languages.update(state.get("languages", {}))
        for name in names:
            self.members[name] = self._ref(name)
        saved = state.get("clock")
        set_time = getattr(self.app.clock, "set", None)
        if self.lead is None:
            # a replayed script on a database an earlier session used goes on from that
            # session's clock too: its data must not sit in this session's future
            if saved is not None and set_time is not None:
                last = datetime.fromisoformat(saved).astimezone(UTC)
                if last > self.app.clock.now():
                    set_time(last)
            return
        lead = timedelta(seconds=float(state.get("lead", 0)))
        real = self.real()
        target = max(real + max(lead, self.lead), self.app.clock.now())
        if saved is not None:
            # never behind the last session's clock: its data must not sit in the future
            target = max(target, datetime.fromisoformat(saved).astimezone(UTC))
        self.lead = target - real
        if set_time is not None and target > self.app.clock.now():
            # jobs due in between fire at the next catch-up, by their missed-firing rule
            set_time(target)

    async def _keep(self) -> None:
        assert self.app is not None
        state: dict[str, Any] = {
            "admins": sorted(self.admins - {self.owner}),
            "languages": dict(sorted(self.languages.items())),
            "clock": self.app.clock.now().isoformat(),
        }
        if self.lead is not None:
            state["lead"] = self.lead.total_seconds()
        await self.app.db.kv_set(STATE_NAMESPACE, self.community.key, state)

    # -- a clock that follows real time ----------------------------------------------------

    async def follow(self, interval: float = 1.0) -> None:
        """Move the clock with real time (plus the lead ``:advance`` built up), forever."""
        while True:
            await asyncio.sleep(interval)
            await self.catch_up()

    async def catch_up(self) -> None:
        """Bring the clock to real time plus the lead; due jobs fire on the way."""
        assert self.app is not None
        if self.lead is None:
            return
        async with self._busy:
            delta = self.real() + self.lead - self.app.clock.now()
            if delta > timedelta(0):
                await self.app.scheduler.advance(delta)
                await self.app.settle()
            if self._interrupted:
                self._interrupted = False
                if self.typing is not None:
                    print(self.typing(), end="", file=self.out, flush=True)

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
                name = action.member.display_name
                prefix = self._label(N_("(DM to {name})"), name=name) + " "
                viewer: str | None = action.member.id
            elif action.private and action.member is not None:
                name = action.member.display_name
                prefix = self._label(N_("(only {name} sees)"), name=name) + " "
                viewer = action.member.id
            else:
                prefix, viewer = "", None
            self._print(BOT_NAME, prefix + render(content), content, message_id)
            channel = action.channel or ChannelRef(PLATFORM, f"dm:{viewer}", private=True)
            self.posts.append(_Posted(message_id, None, channel, content.all_buttons(), viewer))
        elif isinstance(action, EditMessage):
            self._print(
                BOT_NAME,
                self._label(N_("(edited {id})"), id=action.message_id) + " "
                + render(action.content),
                action.content,
                message_id,
            )
            for post in self.posts:
                if post.id == action.message_id:
                    post.buttons = action.content.all_buttons()
            return Delivered(action.message_id)
        elif isinstance(action, PinMessage | UnpinMessage):
            if isinstance(action, PinMessage):
                self.pinned.add(action.message_id)
                label = self._label(N_("📌 (pinned {id})"), id=action.message_id)
            else:
                self.pinned.discard(action.message_id)
                label = self._label(N_("(unpinned {id})"), id=action.message_id)
            self._line(f"{BOT_NAME}: {label}")
            return Delivered(action.message_id)
        elif isinstance(action, GrantReward):
            badges = self.rewards.setdefault(action.member.id, set())
            label = action.reward.title or action.reward.badge
            if action.revoke:
                badges.discard(label)
                self._line(f"{BOT_NAME}: " + self._label(
                    N_("(badge removed from {name}: {badge})"),
                    name=action.member.display_name, badge=label))
            else:
                badges.add(label)
                self._line(f"{BOT_NAME}: " + self._label(
                    N_("(badge for {name}: {badge})"), name=action.member.display_name,
                    badge=label))
        elif isinstance(action, SendPoll):
            self._line(
                f"{BOT_NAME}: {self._label(N_('(poll)'))} {action.question} "
                + " ".join(f"[{i} {o}]" for i, o in enumerate(action.options, 1))
            )
        elif isinstance(action, CreateThread):
            # no threads here: the first post is printed with the thread's name
            self._print(BOT_NAME, self._label(N_("(thread {name})"), name=action.name) + " "
                        + render(action.content),
                        action.content, message_id)
            channel = ChannelRef(PLATFORM, f"thread:{message_id}", action.name, False,
                                 action.channel.id if action.channel else GENERAL)
            self.posts.append(_Posted(message_id, None, channel, action.content.all_buttons()))
            return Delivered(channel.id)
        elif isinstance(action, ScheduleEvent):
            # no scheduled events here: a line with the event's time (the transcript's clock)
            if action.cancel:
                self._line(f"{BOT_NAME}: " + self._label(N_("(event {name} cancelled)"),
                                                         name=action.name))
            elif action.start is not None and self.app is not None:
                when = action.start.astimezone(self.app.clock.now().tzinfo)
                self._line(f"{BOT_NAME}: " + self._label(
                    N_("(event {name} at {when})"), name=action.name,
                    when=when.strftime("%Y-%m-%d %H:%M")))
        return Delivered(message_id)

    # -- the transcript -----------------------------------------------------------------

    def _time(self) -> str:
        assert self.app is not None
        return self.app.clock.now().strftime("%Y-%m-%d %H:%M")

    def _line(self, text: str) -> None:
        line = f"[{self._time()}] {text}"
        self.transcript.append(line)
        if self.typing is not None and not self._interrupted:
            # the clock spoke while someone types: clear the prompt line, draw it again after
            self._interrupted = True
            print("\r\x1b[K", end="", file=self.out)
        print(line, file=self.out, flush=True)

    def _print(self, speaker: str, text: str, content: Content, message_id: str = "") -> None:
        buttons = content.all_buttons()
        if buttons:
            text += ("\n" if "\n" in text else " ") + " ".join(
                f"[{i} {b.label}]" for i, b in enumerate(buttons, 1)
            )
        for attachment in content.attachments:
            tr = self._screen() if self.app is not None else None
            size = len(attachment.data)
            words = (tr.plain(N_("image")) if attachment.image else tr.plain(N_("file"))) \
                if tr else ("image" if attachment.image else "file")
            amount = str(tr.tn("{n} byte", "{n} bytes", size)) if tr else f"{size} bytes"
            text += " (" + self._label(N_("{kind}: {name}, {size}"), kind=words,
                                       name=attachment.filename, size=amount)
            saved = self._save(attachment, message_id)
            text += f" → {saved})" if saved is not None else ")"
        self._line(f"{speaker}: {text}")

    def _save(self, attachment: Attachment, message_id: str) -> Path | None:
        """Write an attachment to the folder; the same name and bytes give the same file.

        The name starts with the clock's time and the message id, so a replayed script
        writes the same files; another session's file with other bytes is kept unless
        :attr:`keep_earlier` is off.
        """
        if self.attachments is None or self.app is None:
            return None
        self.attachments.mkdir(parents=True, exist_ok=True)
        safe = _UNSAFE.sub("_", attachment.filename).strip("._") or "attachment"
        stem = f"{self.app.clock.now():%Y%m%d-%H%M}-{message_id or 'm'}-{safe}"
        path = self.attachments / stem
        for n in itertools.count(2):
            if not self.keep_earlier or not path.exists() or path.read_bytes() == attachment.data:
                break
            base, dot, ext = stem.rpartition(".")
            path = self.attachments / (f"{base}-{n}.{ext}" if dot else f"{stem}-{n}")
        path.write_bytes(attachment.data)
        return path

    # -- the script ---------------------------------------------------------------------

    def _eid(self) -> str:
        # A run of its own: the playground's database outlives a session, and ids from an
        # earlier session must not look like replays of this one.
        return f"console:{self._session}:{next(self._event_ids)}"

    def member(self, name: str) -> MemberRef:
        """The member called ``name`` (created on first use)."""
        found = self.members.get(name)
        if found is None:
            found = self._ref(name)
            self.members[name] = found
        return found

    async def run_lines(self, lines: Iterable[str]) -> None:
        """Play lines one by one, each settled before the next."""
        for line in lines:
            await self.run_line(line)

    async def run_line(self, raw: str) -> None:
        """Play one line: a directive, a message, or a command."""
        assert self.app is not None
        line = raw.rstrip("\n").strip()
        if not line or line.startswith("#"):
            return
        async with self._busy:
            if self.lead is not None:  # a line typed after a pause happens at its real time
                delta = self.real() + self.lead - self.app.clock.now()
                if delta > timedelta(0):
                    await self.app.scheduler.advance(delta)
            await self._play(line)
            await self.app.settle()

    async def _play(self, line: str) -> None:
        if line.startswith(":"):
            verb, _, rest = line[1:].partition(" ")
            rest = rest.strip()
            handler: Callable[[str], Any] | None = (
                getattr(self, f"_do_{verb}", None) if verb.isidentifier() else None
            )
            if handler is None:
                self._error(
                    self._tr().plain("unknown directive {directive}; {help} lists them",
                                     directive=":" + verb, help=":help")
                )
                return
            await handler(rest)
        else:
            await self._say(line)

    def _tr(self) -> Translator:
        """Core strings in the acting member's language."""
        assert self.app is not None
        member = self.members.get(self.acting) or self._ref(self.acting)
        language = self.app.language_for(self.community, member)
        return self.app.kernel.translator("core", language, self.community)

    def _label(self, message: str, /, **values: Any) -> str:
        """A transcript label ("(DM to sara)") in the playground's language.

        The labels are the console's own screen, so they follow the community's language
        (``MAJLIS_LANGUAGE``), whoever acts; what members read follows the core's rules.
        """
        return self._screen().plain(message, **values) if self.app else message.format(**values)

    def _screen(self) -> Translator:
        """Core strings in the community's language."""
        assert self.app is not None
        language = self.app.language_for(self.community, None)
        return self.app.kernel.translator("core", language, self.community)

    def _error(self, text: str) -> None:
        self._line(f"({text})")

    def _needs_name(self, verb: str, name: str) -> bool:
        """Whether ``name`` is missing or unusable; says so."""
        if name and len(name) <= 32 and " " not in name and not name.startswith(("@", "#")):
            return False
        if not name:
            self._error(self._tr().plain("{directive} needs a name, like {directive} sara",
                                         directive=":" + verb))
        else:
            self._error(
                self._tr().plain(
                    "“{name}” cannot be a name: one word of at most 32 characters, "
                    "without @ or #",
                    name=name[:40],
                )
            )
        return True

    async def _do_help(self, _: str) -> None:
        assert self.app is not None
        tr = self._tr()
        # a tuple is joined the language's way ("ar or en", "ar أو en"), never a Latin comma
        codes = tuple(self.app.kernel.catalogs.languages())
        width = max(len(d) for d, _ in DIRECTIVES)
        self._line(tr.plain("Directives (anything else is a message; {help} lists commands):",
                            help="/help"))
        for directive, meaning in DIRECTIVES:
            text = tr.plain(meaning, codes=codes, examples=ADVANCE_EXAMPLES)
            self._line(f"  {directive.ljust(width)}  {text}")

    async def _ensure_joined(self, name: str) -> MemberRef:
        if name not in self.members:
            member = self.member(name)
            self._line(self._label(N_("→ {name} joined"), name=name))
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
        if self._needs_name("as", name):
            return
        await self._ensure_joined(name)
        self.acting = name

    async def _do_join(self, names: str) -> None:
        """``:join sara`` or ``:join j01 j02 j03``: each joins, in order (a raid in a line)."""
        assert self.app is not None
        wanted = names.split() or [""]
        # every name is checked first: a bad one means nobody joins
        if any(self._needs_name("join", name) for name in wanted):
            return
        for name in wanted:
            await self._join(name)
            await self.app.settle()  # each greeting before the next join, as on a platform

    async def _join(self, name: str) -> None:
        assert self.app is not None
        member = self.member(name)
        self._line(self._label(N_("→ {name} joined"), name=name))
        await self.app.dispatcher.dispatch(
            MemberJoined(
                id=self._eid(), community=self.community, member=member, at=self.app.clock.now()
            )
        )

    async def _do_leave(self, name: str) -> None:
        assert self.app is not None
        if self._needs_name("leave", name):
            return
        if name not in self.members:
            self._error(self._tr().plain("{name} is not a member here", name=name))
            return
        if name == self.owner:
            self._error(self._tr().plain("the owner {name} cannot leave", name=name))
            return
        member = self.members.pop(name)
        if self.acting == name:
            self.acting = self.owner
        self._line(self._label(N_("← {name} left"), name=name))
        await self.app.dispatcher.dispatch(
            MemberLeft(id=self._eid(), community=self.community, member=member)
        )

    async def _do_admin(self, name: str) -> None:
        if self._needs_name("admin", name):
            return
        await self._ensure_joined(name)
        self.admins.add(name)
        self._line(self._label(N_("(now {name} is an admin)"), name=name))
        await self._keep()

    async def _do_lang(self, code: str) -> None:
        assert self.app is not None
        known = self.app.kernel.catalogs.languages()
        if code.lower() not in known:
            tr = self._tr()
            codes = tuple(known)  # "ar or en" / "ar أو en": the language's own list
            self._error(
                tr.plain("“{code}” is not a language here; choose one of: {codes}",
                         code=code[:20], codes=codes)
                if code
                else tr.plain("{directive} needs a language code: {codes}",
                              directive=":lang", codes=codes)
            )
            return
        code = code.lower()
        await self._ensure_joined(self.acting)
        self.languages[self.acting] = code
        self.members[self.acting] = self._ref(self.acting)
        self._line(self._label(N_("({name} uses language {code})"), name=self.acting,
                               code=code))
        await self._keep()

    async def _do_advance(self, text: str) -> None:
        assert self.app is not None
        try:
            delta: timedelta = Duration.parse(text)
        except ValueError:
            self._error(
                self._tr().plain("{directive} needs a duration like {examples}, not “{text}”",
                                 directive=":advance", examples=ADVANCE_EXAMPLES,
                                 text=text[:40])
            )
            return
        self._line(self._label(N_("(time passes: {duration})"), duration=text))
        if self.lead is not None:
            self.lead += delta
        await self.app.scheduler.advance(delta)
        await self._keep()

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
        if post is None:
            self._error(self._tr().plain("there is no message with buttons to press"))
            return
        digits = text.translate(_DIGITS)
        if not digits.isdigit() or not 1 <= int(digits) <= len(post.buttons):
            self._error(
                self._tr().plain("{directive} needs a button number from 1 to {count}",
                                 directive=":press", count=len(post.buttons))
            )
            return
        text = digits
        button = post.buttons[int(text) - 1]
        self._line(self._label(N_("{name} pressed [{button}]"), name=self.acting,
                               button=button.label))
        if button.payload is None:
            self._line(self._label(N_("(opens {url})"), url=button.url))
            return
        try:
            payload = await decode(button.payload.pack(), self.app.db)
        except PayloadError as exc:
            self._line(self._label(N_("(that button no longer works: {error})"), error=exc))
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
        if not emoji:
            self._error(self._tr().plain("{directive} needs an emoji, like {directive} 👍",
                                         directive=":react"))
            return
        if not self.posts:
            self._error(self._tr().plain("there is no message to react to yet"))
            return
        post = self.posts[-1]
        self._line(self._label(N_("{name} reacted {emoji}"), name=self.acting, emoji=emoji))
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
