"""A round's life: draft (matcher), preview, announce (introductions), check-in, reminders."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import Capability, Context, ContributionMade, MemberRef, Plugin, internal_id

from . import availability, render
from .settings import MatchmakingSettings
from .store import MatchStore, Names, Placed

if TYPE_CHECKING:
    from .matching import Outcome


@dataclass(slots=True)
class Draft:
    """A matched round (``rid`` None: not stored, or one of that origin existed already)."""

    rid: int | None
    outcome: Outcome
    names: dict[str, str]
    repeats_avoided: int
    #: The groups as stored: (number, [(member, name)], shared interests).
    placed: list[tuple[int, list[tuple[str, str]], tuple[str, ...]]]


def _group(outcome: Outcome, names: dict[str, str]) -> list[tuple[int, list[tuple[str, str]],
                                                              tuple[str, ...]]]:
    return [(no, [(m, names.get(m, m)) for m in g.members], g.shared)
            for no, g in enumerate(outcome.groups, start=1)]


async def reshuffle(store: MatchStore, ctx: Context, rid: int, seed: int) -> Draft:
    """Match again and replace a draft's groups (``rid`` None: it is no longer a draft)."""
    async with store.drafting(ctx.community.key):
        planned = await plan(store, ctx, seed)
        if await store.replace_groups(rid, ctx.community.key, seed, planned.placed):
            planned.rid = rid
    return planned


async def plan(store: MatchStore, ctx: Context, seed: int) -> Draft:
    """Match the community's participants now (nothing stored: ``rid`` is None)."""
    from .matching import Candidate, Weights, match  # numpy: loaded only when a round runs

    config: MatchmakingSettings = await ctx.settings()
    community = ctx.community.key
    now = ctx.now()
    people = await store.participants(community, now)
    counts = await store.times_matched(community)
    recent = await store.recent_pairs(community, config.repeat_window)
    blocked = set(recent)
    for a, b in await store.avoided(community):
        blocked.add((a, b) if a <= b else (b, a))
    # Interests match without case ("Board games" picked in onboarding, "board games" typed);
    # a shared one is named as most members spell it (the first such member by id on a tie).
    spellings: Counter[tuple[str, str]] = Counter()
    candidates = []
    for m in sorted(people, key=lambda m: m.id):
        keys = [i.casefold() for i in m.interests]
        spellings.update(zip(keys, m.interests, strict=True))
        candidates.append(Candidate(
            key=m.id, interests=frozenset(keys),
            availability=availability.mask(m.window, m.timezone, now),
            newcomer=counts.get(m.id, 0) < config.newcomer_rounds,
            group=keys[0] if keys else None))
    present = {m.id for m in people}
    avoided_now = sum(1 for a, b in recent if a in present and b in present)
    outcome = await asyncio.to_thread(
        match, candidates, blocked, weights=Weights(mode=config.mode),
        groups_of=4 if config.groups == "small_groups" else 2, seed=seed)
    label: dict[str, str] = {}
    for (key, shown), _ in spellings.most_common():  # stable: ties keep first-seen order
        label.setdefault(key, shown)
    outcome.groups = [replace(g, shared=tuple(label.get(k, k) for k in g.shared))
                      for g in outcome.groups]
    names = {m.id: m.name or m.id for m in people}
    return Draft(None, outcome, names, avoided_now, _group(outcome, names))


async def announce(plugin: Plugin, store: MatchStore, ctx: Context, rid: int) -> bool:
    """Introduce every group of a draft and start its check-in; False if already announced."""
    if (ctx.channel is None or ctx.channel.private
            or ctx.channel == plugin.kernel.admin_channel(ctx.community)):
        # Pressed in a private chat or the admin channel (or a job): the summary and any
        # fallback belong in the community's channel, never with the admins alone.
        ctx = plugin.context(ctx.community)
    async with store.drafting(ctx.community.key):
        return await _announce(plugin, store, ctx, rid)


async def _announce(plugin: Plugin, store: MatchStore, ctx: Context, rid: int) -> bool:
    config: MatchmakingSettings = await ctx.settings()
    community = ctx.community
    placed = await store.placed(rid)
    if not placed:
        return False  # an empty draft (stored before rounds without groups were skipped)
    by_group: dict[int, list[Placed]] = {}
    for p in placed:
        by_group.setdefault(p.group_no, []).append(p)
    number = await store.round_number(rid, community.key) + 1
    names = await store.names(community.key)
    async with ctx.transaction():
        if not await store.set_status(rid, community.key, "draft", "announced"):
            return False
        await store.supersede_drafts(community.key, rid)
        for no, people in sorted(by_group.items()):
            await _introduce(ctx, people, names, rid * 31 + no)
        trios = sum(1 for people in by_group.values() if len(people) == 3)
        unplaced = len(await store.participants(community.key, ctx.now())) - len(placed)
        await ctx.send(render.announced(ctx, number, len(by_group), trios, max(unplaced, 0)))
    # the reminder is scheduled by the check-in once it went out (see Matchmaking.checkin)
    await plugin.schedule("checkin", community, at=ctx.now() + config.checkin_after,
                          key=f"checkin:{rid}", data={"round": rid})
    return True


def named(draft: Draft) -> list[str]:
    """The members a draft's preview names (so erasing one erases the preview too)."""
    return [m for g in draft.outcome.groups for m in g.members] + list(draft.outcome.unmatched)


def _ref(ctx: Context, p: Placed) -> MemberRef:
    return MemberRef(ctx.community.platform, p.member, p.name, language=p.language or None)


async def _introduce(ctx: Context, people: list[Placed], names: Names, pick: int) -> None:
    """Introduce a group: each member privately, in their own language.

    The shared interests are named in the reader's language too. Without private messages,
    one group post (the community's language) mentions (and pings) only its members.
    """
    shared = people[0].shared if people else ()
    refs = [_ref(ctx, p) for p in people]
    if not ctx.has(Capability.DIRECT_MESSAGES):
        await ctx.send(render.group_post(ctx, [ctx.mention(r) for r in refs],
                                         names.shown(shared, ctx.i18n.language), pick),
                       mentions=refs)
        return
    for p, ref in zip(people, refs, strict=True):
        tr = ctx.for_member(ref)
        others = [o.name or o.member for o in people if o.member != p.member]
        words = names.shown(shared, tr.language)
        await ctx.dm(ref, render.introduction(tr, others, words, pick),
                     fallback=render.unreachable(tr, ctx.mention(ref), others, words),
                     about=[o.member for o in people])


async def ask(ctx: Context, store: MatchStore, rid: int, reminder: bool) -> int:
    """Send the check-in (or the reminder to those who did not answer); how many were asked."""
    if await store.round_status(rid, ctx.community.key) != "announced":
        return 0
    placed = await store.placed(rid)
    asked = 0
    for p in placed:
        if p.answer == "yes" or p.answer == "no" or (reminder and p.answer is not None):
            continue
        ref = _ref(ctx, p)
        tr = ctx.for_member(ref)
        group = [o for o in placed if o.group_no == p.group_no and o.member != p.member]
        others = [o.name or o.member for o in group]
        text, buttons = (render.reminder if reminder else render.checkin)(tr, rid, others)
        await ctx.dm(ref, text, buttons=buttons, about=[o.member for o in group])
        asked += 1
    return asked


async def answer(ctx: Context, store: MatchStore, rid: int, member: MemberRef,
                 value: str) -> bool:
    """Record an answer; when two of a group said yes, report met_peer once for each."""
    if not await store.answer(rid, member.id, value):
        return False
    if value != "yes":
        return True
    placed = await store.placed(rid)
    mine = next(p for p in placed if p.member == member.id)
    met = [p for p in placed if p.group_no == mine.group_no and p.answer == "yes"]
    if len(met) < 2:
        return True
    for p in met:
        if await store.mark_credited(rid, p.member):
            await ctx.emit(ContributionMade(
                id=internal_id(f"matchmaking.met:{rid}:{p.member}"), community=ctx.community,
                member=_ref(ctx, p), kind="met_peer", ref=f"round:{rid}"))
    return True


async def report(ctx: Context, store: MatchStore, limit: int = 10) -> tuple[
        list[tuple[int, int, int]], list[str], list[str]]:
    """Meet-rate of the last rounds, members never matched, members who never met."""
    community = ctx.community.key
    ids = sorted(await store.announced_rounds(community, limit))
    rows: list[tuple[int, int, int]] = []
    answers: dict[str, list[str | None]] = {}
    for rid in ids:
        placed = await store.placed(rid)
        by_group: dict[int, int] = {}
        for p in placed:
            by_group.setdefault(p.group_no, 0)
            if p.answer == "yes":
                by_group[p.group_no] += 1
            answers.setdefault(p.member, []).append(p.answer)
        rows.append((await store.round_number(rid, community), len(by_group),
                     sum(1 for yes in by_group.values() if yes >= 2)))
    counts = await store.times_matched(community)
    active = await store.active_members(community)
    never = sorted(m.name or m.id for m in active if not counts.get(m.id)) if ids else []
    names = {m.id: m.name or m.id for m in active}
    skipping = sorted(names[m] for m, a in answers.items()
                      if m in names and len(a) >= 2 and "yes" not in a)
    return rows, never, skipping
