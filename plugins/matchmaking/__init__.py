"""Matchmaking: introduce members who share interests, round after round.

Members opt in (/match_join); interests come from onboarding (``InterestsChosen``) or
/interests. A round (on the schedule set with /match_schedule, or /match_round with a preview
for admins) matches everyone with ``matching.match`` and introduces each group privately;
a check-in asks whether they met. Modules: ``matching`` (the pure matcher), ``rounds`` (a
round's life), ``store``/``tables`` (data), ``render`` (texts), ``settings``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
import zlib
from datetime import timedelta
from typing import Annotated, Any, Literal

from bot import (
    N_,
    Button,
    Context,
    Duration,
    InterestsChosen,
    InterestsNamed,
    Markup,
    MemberRef,
    Param,
    Plugin,
    Privilege,
    command,
    find_timezone,
    job,
    on,
    on_button,
)

from . import availability, render, rounds
from .availability import Window
from .render import Announce, CheckIn, Discard, Reshuffle
from .settings import MatchmakingSettings
from .store import MatchStore
from .tables import metadata

__all__ = ["Matchmaking", "MatchmakingSettings"]

MAX_PAUSE = timedelta(weeks=52)
MAX_INTERESTS = 20
INTEREST = re.compile(r"^[\w][\w .+#&'-]{0,39}$")
DAYS = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA",
        "sun": "SU"}
EVERY = {"1w": 1, "2w": 2, "4w": 4}
_COMMAS = str.maketrans({"،": ",", "؛": ","})
_NO_COMMAS = str.maketrans({",": " ", "،": " ", "؛": " "})  # interests are stored comma-joined


def _manual_origin(ctx: Context) -> str:
    """The origin of an admin's /match_round: the platform's id of that command.

    An interaction or an update delivered twice drafts one round; without an id, each call
    is its own.
    """
    event_id = ctx.event.id if ctx.event is not None else ""
    if not event_id:
        return f"manual:{uuid.uuid4().hex}"
    if len(event_id) > 57:  # the origin column holds 64
        event_id = hashlib.blake2b(event_id.encode(), digest_size=16).hexdigest()
    return f"manual:{event_id}"


def _label(text: str) -> str:
    """An interest label as stored: no commas, single spaces, at most 40 characters."""
    return " ".join(text.translate(_NO_COMMAS).split())[:40].strip()


def _names(event: InterestsChosen | InterestsNamed) -> dict[str, dict[str, str]] | None:
    """Interest id -> language ("" the community's label) -> name, from an interests event.

    None when the event does not name its interests by id (no labels beside them).
    """
    ids = event.interests
    if not (ids and len(event.labels) == len(ids)
            and all(i.isalnum() and len(i) <= 16 for i in ids)):
        return None

    def tidy(label: str) -> str:  # a name is shown, never stored comma-joined: commas stay
        return " ".join(label.split())[:40].strip()

    named: dict[str, dict[str, str]] = {}
    for n, interest in enumerate(ids):
        names = {"": tidy(event.labels[n]) or interest}
        for language, labels in event.translations:
            if n < len(labels) and tidy(labels[n]):
                names[language[:16]] = tidy(labels[n])
        named[interest] = names
    return named


class Matchmaking(Plugin):
    """Pairs members by shared interests (or bridges groups), introduces them, checks in."""

    name = "matchmaking"
    description = N_("Introduce members who share interests, round after round")
    settings = MatchmakingSettings
    tables = metadata
    stores = N_(
        "Whether you take part, your interests, your availability window, whom you asked not "
        "to be paired with, and the groups you were in with your check-in answers.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up the store."""
        super().__init__(*args, **kwargs)
        self.store = MatchStore(self)

    # -- taking part ----------------------------------------------------------------------

    @command("match_join", help=N_("Take part in matchmaking rounds"))
    async def join(self, ctx: Context) -> None:
        """Opt in (or come back from a pause)."""
        assert ctx.member is not None
        await self.store.join(ctx.community.key, ctx.member)
        me = await self.store.member(ctx.community.key, ctx.member.id)
        await ctx.reply(render.joined(ctx, await self._shown(ctx, me.interests if me else ())),
                        private=True)

    @command("match_leave", help=N_("Stop taking part in matchmaking rounds"))
    async def leave(self, ctx: Context) -> None:
        """Opt out; history stays so repeats are still avoided if they come back."""
        assert ctx.member is not None
        done = await self.store.set_active(ctx.community.key, ctx.member.id, False)
        await ctx.reply(render.left(ctx) if done else render.not_joined(ctx), private=True)

    @command("match_pause", help=N_("Skip matchmaking rounds for a while, e.g. /match_pause 2w"))
    async def pause(
        self, ctx: Context,
        length: Annotated[Duration, Param(help=N_("How long, like 1w, 2w or 30d"))],
    ) -> None:
        """Pause until a date; the member is skipped until then."""
        assert ctx.member is not None
        if length <= timedelta(0) or length > MAX_PAUSE:
            await ctx.reply(render.bad_pause(ctx), private=True)
            return
        until = ctx.now() + length
        done = await self.store.set_active(ctx.community.key, ctx.member.id, True, until)
        await ctx.reply(render.paused(ctx, until) if done else render.not_joined(ctx),
                        private=True)

    @command("interests", help=N_("Show or set your interests, e.g. /interests chess, cooking"))
    async def interests(
        self, ctx: Context,
        chosen: Annotated[str | None, Param(help=N_("Interests separated by commas"),
                                            max_length=800)] = None,
    ) -> None:
        """Show the member's interests, or replace them."""
        assert ctx.member is not None
        if chosen is None:
            me = await self.store.member(ctx.community.key, ctx.member.id)
            await ctx.reply(render.your_interests(
                ctx, await self._shown(ctx, me.interests if me else ())), private=True)
            return
        items = [i.strip().lower() for i in chosen.translate(_COMMAS).split(",") if i.strip()]
        bad = [i for i in items if not INTEREST.match(i)]
        if bad or not items or len(items) > MAX_INTERESTS:
            await ctx.reply(render.bad_interests(ctx, bad[0] if bad else "", MAX_INTERESTS),
                            private=True)
            return
        # A word that names one of the community's interests (in any language) is that
        # interest: "/interests board games" meets a pick of "Board games" or "ألعاب لوحية".
        names = await self.store.names(ctx.community.key)
        unique = tuple(dict.fromkeys(names.token(i) for i in items))
        await self.store.set_interests(ctx.community.key, ctx.member, unique)
        await ctx.reply(render.your_interests(ctx, names.shown(unique, ctx.i18n.language)),
                        private=True)

    async def _shown(self, ctx: Context, interests: tuple[str, ...]) -> tuple[str, ...]:
        """Stored interests as the reader of ``ctx`` names them."""
        names = await self.store.names(ctx.community.key)
        return names.shown(interests, ctx.i18n.language)

    @on(InterestsChosen)
    async def chosen(self, event: InterestsChosen, ctx: Context) -> None:
        """Onboarding's choice becomes the member's interests (a replay writes the same).

        They are kept by id (``#2``), so members who read different languages match on the
        same interest, and its names (the label, and each language's) are kept to show it
        in each reader's language. An event without labels names its interests in words.
        """
        community = event.community.key
        named = _names(event)
        if named is not None:
            await self.store.set_names(community, named)
            await self.store.set_interests(community, event.member, tuple(
                f"#{i}" for i in list(named)[:MAX_INTERESTS]))
            return
        words = [label for label in map(_label, event.interests) if label]
        if words:
            await self.store.set_interests(community, event.member,
                                           tuple(dict.fromkeys(words[:MAX_INTERESTS])))

    @on(InterestsNamed)
    async def renamed(self, event: InterestsNamed, ctx: Context) -> None:
        """An admin changed the community's interests: show them by their new names."""
        named = _names(event)
        if named:
            await self.store.set_names(event.community.key, named)

    @command("match_available",
             help=N_("When you are free each week, in your timezone, e.g. /match_available "
                     "sat-wed 18-22 Asia/Riyadh, or off"))
    async def available(
        self, ctx: Context,
        window: Annotated[str, Param(help=N_("The window: days if you like, HH-HH and a "
                                             "timezone, or off"), max_length=80)],
    ) -> None:
        """Set or clear the availability window."""
        assert ctx.member is not None
        words = window.split()
        zone: str | None = ""
        chosen: Window | None = None
        if not (words and words[0].lower() in ("off", "any", "إيقاف")):
            read = availability.parse(words)
            zone = None if read is None else (
                find_timezone(read[1]) if read[1] else ctx.i18n.timezone)
            if read is None or zone is None:
                await ctx.reply(render.bad_window(ctx), private=True)
                return
            chosen = read[0]
        done = await self.store.set_window(ctx.community.key, ctx.member.id,
                                           chosen.stored() if chosen else "", zone or "")
        await ctx.reply(render.window_set(ctx, chosen, zone or "") if done
                        else render.not_joined(ctx), private=True)

    @command("match_avoid", help=N_("Never be paired with this member"))
    async def avoid(
        self, ctx: Context, member: Annotated[MemberRef, Param(help=N_("The member"))],
    ) -> None:
        """Add to the member's do-not-pair list (private: the other is not told)."""
        assert ctx.member is not None
        if member.id == ctx.member.id:
            await ctx.reply(render.not_yourself(ctx), private=True)
            return
        await self.store.add_avoid(ctx.community.key, ctx.member.id, member.id, False)
        await ctx.reply(render.avoided(ctx, member.display_name), private=True, about=[member])

    # -- admins ---------------------------------------------------------------------------

    @command("match_block", help=N_("Never pair these two members"), privilege=Privilege.ADMIN)
    async def block(
        self, ctx: Context,
        first: Annotated[MemberRef, Param(help=N_("A member"))],
        second: Annotated[MemberRef, Param(help=N_("Another member"))],
    ) -> None:
        """An admin's block between two members."""
        if first.id == second.id:
            await ctx.reply(render.not_yourself(ctx), private=True)
            return
        await self.store.add_avoid(ctx.community.key, first.id, second.id, True)
        await ctx.reply(render.blocked(ctx, first.display_name, second.display_name),
                        private=True, about=[first, second])

    @command("match_round", help=N_("Draft a matchmaking round now and preview it"),
             privilege=Privilege.ADMIN)
    async def match_round(self, ctx: Context) -> None:
        """Draft a round and show the admin its groups before anyone is told."""
        assert ctx.member is not None
        community = ctx.community.key
        origin = _manual_origin(ctx)
        if await self.store.round_by_origin(community, origin) is not None:
            return  # the same command delivered again: its draft and preview exist already
        seed = int(ctx.now().timestamp())
        async with self.store.drafting(community):
            planned = await rounds.plan(self.store, ctx, seed)
            if not planned.outcome.groups:
                await ctx.reply(render.too_few(ctx), private=True)
                return
            # The draft and its preview commit together: a replay finds both, or neither.
            async with ctx.transaction():
                planned.rid = await self.store.create_round(community, origin, seed,
                                                            planned.placed, "draft")
                if planned.rid is not None:
                    await self._preview(ctx, planned)

    async def _preview(self, ctx: Context, draft: rounds.Draft) -> None:
        if draft.rid is None or not draft.outcome.groups:
            await ctx.reply(render.too_few(ctx), private=True)
            return
        text, buttons = await self._preview_of(ctx, draft, draft.rid)
        await ctx.reply(text, buttons=buttons, private=True, about=rounds.named(draft))

    async def _preview_of(self, ctx: Context, draft: rounds.Draft,
                          rid: int) -> tuple[Markup, list[Button]]:
        names = await self.store.names(ctx.community.key)
        lines = [([draft.names.get(m, m) for m in g.members],
                  names.shown(g.shared, ctx.i18n.language))
                 for g in draft.outcome.groups]
        unplaced = [draft.names.get(m, m) for m in draft.outcome.unmatched]
        return render.preview(ctx, rid, lines, unplaced, draft.repeats_avoided)

    @on_button(Announce, Reshuffle, Discard)
    async def decide(self, payload: Announce | Reshuffle | Discard, ctx: Context) -> None:
        """An admin's decision on a preview (checked again at the press)."""
        if await ctx.privilege() < Privilege.ADMIN:
            await ctx.reply(render.admins_only(ctx), private=True)
            return
        community = ctx.community.key
        if isinstance(payload, Announce):
            done = await rounds.announce(self, self.store, ctx, payload.round)
            await ctx.reply(render.announce_done(ctx) if done else render.already(ctx),
                            private=True)
        elif isinstance(payload, Discard):
            done = await self.store.set_status(payload.round, community, "draft", "discarded")
            await ctx.reply(render.discarded(ctx) if done else render.already(ctx),
                            private=True)
        else:
            seed = int(ctx.now().timestamp()) + payload.round
            draft = await rounds.reshuffle(self.store, ctx, payload.round, seed)
            if draft.rid is None:
                await ctx.reply(render.already(ctx), private=True)
            else:
                await self._preview(ctx, draft)

    @command("match_schedule",
             help=N_("Schedule rounds, e.g. /match_schedule 2w mon 18 (or off)"),
             privilege=Privilege.ADMIN)
    async def match_schedule(
        self, ctx: Context,
        every: Annotated[Literal["off", "1w", "2w", "4w"], Param(help=N_("How often"))],
        day: Annotated[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                       Param(help=N_("Weekday"))] = "mon",
        hour: Annotated[int, Param(help=N_("Hour in the community's timezone"), min=0,
                                   max=23)] = 18,
    ) -> None:
        """Rounds on a rule in the community's timezone (durable in the core scheduler)."""
        if every == "off":
            await self.unschedule("round", ctx.community, key="rounds")
            await ctx.reply(render.schedule_off(ctx), private=True)
            return
        rule = (f"FREQ=WEEKLY;INTERVAL={EVERY[every]};BYDAY={DAYS[day]};BYHOUR={hour};"
                "BYMINUTE=0;BYSECOND=0")
        await self.schedule("round", ctx.community, rule=rule, key="rounds")
        runs = await self.next_runs("round", ctx.community)
        config: MatchmakingSettings = await ctx.settings()
        await ctx.reply(render.scheduled(ctx, EVERY[every], runs.get("rounds"),
                                         config.preview_scheduled), private=True)

    @command("match_stats", help=N_("Meet-rate per round and members to look after"),
             privilege=Privilege.ADMIN)
    async def match_stats(self, ctx: Context) -> None:
        """Meet-rate of recent rounds, never-matched and never-meeting members."""
        rows, never, skipping = await rounds.report(ctx, self.store)
        await ctx.reply(render.stats(ctx, rows, never, skipping), private=True)

    # -- jobs and the check-in ------------------------------------------------------------

    @job("round")
    async def scheduled_round(self, ctx: Context, data: dict[str, Any]) -> None:
        """One round per occurrence, shown to admins first like /match_round.

        The preview goes to the admin channel, unless ``preview_scheduled`` is off (then the
        round is announced at once). A replay finds the round: no second preview, and an
        announcement at most once.
        """
        config: MatchmakingSettings = await ctx.settings()
        community = ctx.community
        origin = f"auto:{data.get('_occurrence', '')}"
        async with self.store.drafting(community.key):  # not beside an announcement
            rid = await self.store.round_by_origin(community.key, origin)
            if rid is None:
                rid = await self._scheduled_draft(ctx, config, origin)
        if rid is not None and not config.preview_scheduled:
            await rounds.announce(self, self.store, ctx, rid)  # once: a draft's status

    async def _scheduled_draft(self, ctx: Context, config: MatchmakingSettings,
                               origin: str) -> int | None:
        """Match and store a scheduled round's draft (previewed to admins if they want)."""
        community = ctx.community
        seed = zlib.crc32(origin.encode()) & 0xFFFF
        planned = await rounds.plan(self.store, ctx, seed)
        if not planned.outcome.groups:
            return None
        if not config.preview_scheduled:
            return await self.store.create_round(community.key, origin, seed, planned.placed,
                                                 "draft")
        admins = self.context(community, channel=self.kernel.admin_channel(community))
        async with admins.transaction():  # the draft and its preview, or neither
            rid = await self.store.create_round(community.key, origin, seed, planned.placed,
                                                "draft")
            if rid is not None:
                text, buttons = await self._preview_of(admins, planned, rid)
                await admins.send(render.scheduled_preview(admins, text), buttons=buttons,
                                  about=rounds.named(planned))
        return None  # admins announce it from the preview

    @job("checkin")
    async def checkin(self, ctx: Context, data: dict[str, Any]) -> None:
        """Ask every placed member whether they met; the reminder follows this late.

        Counted from when the check-in really went out: after an outage that covered both
        times, members get the check-in, and the reminder ``reminder_after`` later, not both
        at once.
        """
        rid = int(data["round"])
        if not await rounds.ask(ctx, self.store, rid, reminder=False):
            return
        config: MatchmakingSettings = await ctx.settings()
        await self.schedule("remind", ctx.community, at=ctx.now() + config.reminder_after,
                            key=f"remind:{rid}", data={"round": rid})

    @job("remind")
    async def remind(self, ctx: Context, data: dict[str, Any]) -> None:
        """Remind those who have not answered."""
        await rounds.ask(ctx, self.store, int(data["round"]), reminder=True)

    @on_button(CheckIn)
    async def checked_in(self, payload: CheckIn, ctx: Context) -> None:
        """Record the answer (a second press just changes it)."""
        assert ctx.member is not None
        if payload.answer not in ("yes", "not_yet", "no"):
            return
        done = await rounds.answer(ctx, self.store, payload.round, ctx.member, payload.answer)
        await ctx.reply(render.answered(ctx, payload.answer) if done
                        else render.not_in_round(ctx), private=True)

    # -- privacy --------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The member's profile, do-not-pair list and groups."""
        return await self.store.export(member)

    async def forget(self, member: MemberRef) -> None:
        """Erase the member's profile, lists and groups (no pair of theirs is left)."""
        await self.store.forget(member)
