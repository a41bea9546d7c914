"""The flows commands and buttons share: posting, refreshing and changing suggestions.

A change is audited and told once to each person concerned, in their language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import (
    Capability,
    ChannelRef,
    CommunityRef,
    Context,
    ContributionMade,
    Markup,
    MemberRef,
    internal_id,
)

from . import render
from .lifecycle import ADOPTED, Status
from .store import FeedbackStore

if TYPE_CHECKING:
    from . import Feedback


class Flows:
    """Posting, refreshing and changing suggestions for the plugin."""

    def __init__(self, plugin: Feedback, store: FeedbackStore) -> None:
        """Work through the plugin's services."""
        self.plugin = plugin
        self.store = store

    def shared(self, community: CommunityRef, row: Any) -> Context:
        """A context in the community's language, in the suggestion's channel."""
        channel = ChannelRef(community.platform, row.channel) if row.channel else None
        return self.plugin.context(community, channel=channel)

    async def post(self, community: CommunityRef, number: int) -> None:
        """Post a suggestion publicly with its buttons, and open its comment thread."""
        row = await self.store.suggestion(number, community.key)
        shared = self.shared(community, row)
        threads = shared.has(Capability.THREADS)
        text, buttons = render.post(shared.i18n, row, (await self.store.counts([number]))[
            number], threads)
        about = [row.author] if row.author and not row.anonymous else []
        async with shared.transaction():
            message = await shared.send(text, buttons=buttons, about=about)
            await self.store.set_message(number, row.channel, message)
        if threads:
            await shared.create_thread(render.thread_name(row), render.thread_intro(
                shared.i18n, row), from_message=message)

    async def refresh(self, community: CommunityRef, number: int) -> None:
        """Edit the public post to the suggestion's current counts and status."""
        row = await self.store.suggestion(number, community.key)
        if row is None or row.message is None:
            return
        shared = self.shared(community, row)
        text, buttons = render.post(shared.i18n, row, (await self.store.counts([number]))[
            number], shared.has(Capability.THREADS))
        await shared.edit(row.message, text, buttons=buttons, channel=shared.channel)

    async def change(self, ctx: Context, row: Any, new: Status, reason: str,
                     into: int | None = None, *, answer: bool = False
                     ) -> tuple[int, bool] | None:
        """Move a suggestion to ``new``: audit, tell everyone concerned once.

        Returns how many were told and whether it was adopted just now (report it with
        :meth:`adopted`); None when it moved meanwhile (a replayed command changes nothing).
        """
        assert ctx.member is not None
        community = ctx.community
        shared = self.shared(community, row)
        async with ctx.transaction():
            audience = [m for m in await self.store.audience(row) if m != ctx.member.id]
            if not await self.store.change(row, new, reason, ctx.member.id, ctx.member.name,
                                           ctx.now(), into=into):
                return None
            await self.tell(shared, audience, row, new, reason, into, answer=answer)
            adopted = (new in ADOPTED and row.author is not None
                       and await self.store.adopt(row.id, ctx.now()))
        await self.refresh(community, row.id)
        if into is not None:
            await self.refresh(community, into)
        return len(audience), bool(adopted)

    async def answer(self, ctx: Context, row: Any, text: str) -> None:
        """The author answers a moderator's question: back to review, moderators told."""
        assert ctx.member is not None
        if row.author != ctx.member.id:
            await ctx.reply(ctx.t("Only the author of suggestion #{n} can answer for it.",
                                  n=row.id), private=True)
            return
        if row.status != Status.NEEDS_INFO:
            await ctx.reply(ctx.t("Suggestion #{n} is {status}: no question waits for your "
                                  "answer.", n=row.id,
                                  status=render.status(ctx.i18n, row.status)), private=True)
            return
        moderators = self.plugin.context(ctx.community, channel=self.plugin.kernel.admin_channel(
            ctx.community))
        async with ctx.transaction():  # the answer, its audit and the moderators' notice
            if await self.change(ctx, row, Status.UNDER_REVIEW, text, answer=True) is None:
                await ctx.reply(ctx.t("Suggestion #{n} changed meanwhile; nothing was "
                                      "recorded.", n=row.id), private=True)
                return
            await moderators.send(render.answered(moderators.i18n, row, text))
        await ctx.reply(ctx.t("Thank you: the moderators have your answer, and suggestion "
                              "#{n} is under review again.", n=row.id), private=True)

    async def adopted(self, ctx: Context, row: Any) -> None:
        """Report the author's contribution (contributions rewards it)."""
        await ctx.emit(ContributionMade(
            id=internal_id("feedback.adopted"), community=ctx.community, at=ctx.now(),
            member=MemberRef(ctx.community.platform, row.author, row.author_name or ""),
            kind="suggestion_adopted", ref=f"suggestion:{row.id}"))

    async def tell(self, shared: Context, ids: list[str], row: Any, new: Status, reason: str,
                   into: int | None, *, answer: bool = False) -> None:
        """Each person once, in their language: a DM; one note mentions those it misses."""
        known = await self.store.people(shared.community.key, ids)
        platform = shared.community.platform
        members = [MemberRef(platform, i, known[i].name or "" if i in known else "",
                             language=known[i].language if i in known else None) for i in ids]
        if not members:
            return
        if not shared.has(Capability.DIRECT_MESSAGES):
            text = Markup(" ").join(shared.mention(m) for m in members) + Markup(" ") + \
                render.notice(shared.i18n, row, new, reason, into, answer=answer)
            await shared.send(text, mentions=members)
            return
        texts = [render.notice(shared.for_member(m), row, new, reason, into, answer=answer)
                 for m in members]
        # in the community's language: the post is for everyone it mentions
        note = render.notice(shared.i18n, row, new, reason, into, answer=answer)
        await shared.dm_many(members, texts, fallback=lambda mentions: mentions + Markup(" ")
                             + note)

    async def tell_voters(self, ctx: Context, outcome: Any, text: str) -> int:
        """Tell a poll's voters what came of it (each in their language); how many."""
        community = ctx.community
        shared = self.plugin.context(community)
        ids = list(outcome.voter_ids or [])
        if not ids:
            # an anonymous poll names no voter: the outcome is posted for everyone
            await shared.send(render.outcome_notice(shared.i18n, outcome.poll,
                                                    outcome.question, text))
            return int(outcome.voters)
        known = await self.store.people(community.key, ids)
        members = []
        for member_id in ids:
            person = known.get(member_id)
            members.append(MemberRef(community.platform, member_id, person.name or "" if person
                                     else "", language=person.language if person else None))
        notices = [render.outcome_notice(shared.for_member(m), outcome.poll, outcome.question,
                                         text) for m in members]
        # the voters no DM reaches: one note in the community's language mentions them all
        note = render.outcome_notice(shared.i18n, outcome.poll, outcome.question, text)
        await shared.dm_many(members, notices,
                             fallback=lambda mentions: mentions + Markup(" ") + note)
        return len(ids)
