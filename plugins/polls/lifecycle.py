"""A poll's life: open it (checked, stored, posted, scheduled), keep its message current, close it.

The commands and jobs in ``__init__.py`` share these flows: ``/poll`` and a template's
occurrence open a poll the same way; the deadline job and ``/poll_close`` close it the same
way (exactly once).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import Capability, ChannelRef, CommunityRef, Context, PollClosed, internal_id
from plugins.polls import render
from plugins.polls.activity import ActivityBook
from plugins.polls.rules import (
    Outcome,
    Seen,
    active_members,
    check_native,
    check_poll,
    outcome,
    quorum_needed,
)
from plugins.polls.settings import PollsSettings
from plugins.polls.store import PollStore

if TYPE_CHECKING:
    from plugins.polls import Polls


@dataclass(frozen=True, slots=True)
class NewPoll:
    """What a poll is made of, from ``/poll`` or a template."""

    creator: str | None
    question: str
    choices: list[str]
    deadline: datetime
    multiple: int = 1
    anonymous: bool = False
    hidden: bool = False
    quorum: int = 0
    quorum_percent: int = 0
    native: bool = False
    eligible: str = "all"
    eligible_ref: str | None = None
    template: int | None = None
    occurrence: str | None = None


class Lifecycle:
    """Opens, refreshes and closes polls for the plugin."""

    def __init__(self, plugin: Polls, store: PollStore, activity: ActivityBook) -> None:
        """Work through the plugin's services (scheduler, outbox contexts, events)."""
        self.plugin = plugin
        self.store = store
        self.activity = activity
        self._refreshing: set[int] = set()
        self._stale: set[int] = set()
        #: Per poll, held from reading its row to submitting an edit of its message: a
        #: refresh that read it open edits before the closing edit, never after it.
        self._editing: dict[int, asyncio.Lock] = {}

    def _edit_lock(self, poll_id: int) -> asyncio.Lock:
        return self._editing.setdefault(poll_id, asyncio.Lock())

    async def members(self, community: CommunityRef) -> Mapping[str, Seen]:
        """The community's activity (loaded already, except for work outside any event)."""
        await self.plugin.open(community)
        return self.activity.members(community.key)

    async def needed(self, community: CommunityRef, row: Any, now: datetime) -> int:
        """The poll's quorum as it stands (a share of active members moves with them)."""
        if not row.quorum_percent:
            return int(row.quorum)
        active = active_members(await self.members(community), now)
        return quorum_needed(row.quorum, row.quorum_percent, active)

    def shared(self, community: CommunityRef, row: Any) -> Context:
        """A context in the community's language for messages everyone reads."""
        channel = ChannelRef(community.platform, row.channel) if row.channel else None
        return self.plugin.context(community, channel=channel)

    # -- opening ----------------------------------------------------------------------------

    async def open(self, ctx: Context, config: PollsSettings, new: NewPoll) -> int | None:
        """Check, store and post a poll and schedule its closing; returns its id.

        A poll made by a template for an occurrence is made once: a second call for the
        same (template, occurrence) returns None and posts nothing.
        """
        question = new.question.strip()
        now = ctx.now()
        error = check_poll(ctx, question, new.choices, new.deadline, new.multiple)
        use_native = new.native and ctx.has(Capability.NATIVE_POLLS)
        limits = ctx.limits.native_poll
        if error is None and use_native and limits is not None:
            error = check_native(ctx, limits, question, new.choices, new.deadline - now,
                                 new.anonymous)
        if error is not None:
            await ctx.reply(error, private=True)
            return None
        if new.native and not use_native:
            await ctx.reply(
                ctx.t("This platform has no native polls, so I made a poll with buttons."),
                private=True,
            )
        channel = ctx.channel or self.plugin.kernel.default_channel(ctx.community)
        poll_id = await self.store.create({
            "community": ctx.community.key, "channel": channel.id if channel else "",
            "creator": new.creator, "question": question, "options": new.choices,
            "max_choices": new.multiple, "anonymous": new.anonymous, "hidden": new.hidden,
            "quorum": new.quorum, "quorum_percent": new.quorum_percent,
            "eligible": new.eligible, "eligible_ref": new.eligible_ref,
            "salt": secrets.token_hex(32) if new.anonymous else None, "opened_at": now,
            "deadline": new.deadline, "native_id": "" if use_native else None,
            "template": new.template, "occurrence": new.occurrence,
        })
        if poll_id is None:
            return None  # this occurrence made its poll already
        row = await self.store.poll(poll_id)
        shared = self.shared(ctx.community, row)
        if use_native:
            outbox_id = await shared.native_poll(
                question, new.choices, duration=new.deadline - now, multiple=new.multiple > 1,
                anonymous=new.anonymous)
        else:
            text, buttons = render.poll_message(shared, row, await self.store.tally(row),
                                                await self.needed(ctx.community, row, now))
            outbox_id = await shared.send(text, buttons=buttons)
        await self.store.set_message(poll_id, outbox_id)
        if use_native:
            await ctx.reply(ctx.t("Your native poll is posted."), private=True)
        data = {"poll": poll_id}
        await self.plugin.schedule("close", ctx.community, at=new.deadline, key=str(poll_id),
                                   data=data)
        remind_at = new.deadline - timedelta(hours=config.remind_before_hours)
        if remind_at > now:
            await self.plugin.schedule("remind", ctx.community, at=remind_at, key=str(poll_id),
                                       data=data)
        return poll_id

    # -- the poll message -------------------------------------------------------------------

    async def refresh(self, community: CommunityRef, poll_id: int) -> None:
        """Edit the poll message to the current counts; a burst of votes gives few edits."""
        self._stale.add(poll_id)
        if poll_id in self._refreshing:
            return  # the running refresh sees the mark and edits once more
        self._refreshing.add(poll_id)
        try:
            while poll_id in self._stale:
                self._stale.discard(poll_id)
                async with self._edit_lock(poll_id):
                    row = await self.store.poll(poll_id)
                    if (row is None or row.message is None or row.closed_at is not None
                            or row.native_id is not None):
                        return
                    shared = self.shared(community, row)
                    text, buttons = render.poll_message(
                        shared, row, await self.store.tally(row),
                        await self.needed(community, row, shared.now()))
                    await shared.edit(row.message, text, buttons=buttons,
                                      channel=shared.channel)
        finally:
            self._refreshing.discard(poll_id)

    # -- results and closing ----------------------------------------------------------------

    async def outcome_now(self, community: CommunityRef, row: Any, now: datetime) -> Outcome:
        """Counts, quorum and reach of a poll as they stand."""
        members = await self.members(community)
        return outcome(await self.store.tally(row), await self.store.voter_keys(row.id),
                       row.salt, members, row.closed_at or now, row.quorum, row.quorum_percent)

    async def close(self, community: CommunityRef, poll_id: int) -> bool:
        """Close a poll exactly once: post results and a chart, emit PollClosed.

        Returns False when the poll was closed already (or does not exist).
        """
        plugin = self.plugin
        now = plugin.clock.now()
        members = await self.members(community)
        async with self._edit_lock(poll_id):
            claimed = await self.store.claim_close(poll_id, community.key, now)
            if claimed is None:
                return False
            row, tally, keys = claimed
            shared = self.shared(community, row)
            if row.message is not None and row.native_id is None:
                await shared.edit(row.message, render.closed_message(shared, row, tally),
                                  channel=shared.channel)
        self._editing.pop(poll_id, None)  # a refresh waiting on it finds the poll closed
        result = outcome(tally, keys, row.salt, members, now, row.quorum, row.quorum_percent)
        await plugin.unschedule("close", community, str(poll_id))
        await plugin.unschedule("remind", community, str(poll_id))
        # a chart of nothing but empty bars tells nobody anything
        pictures = [render.chart(shared, row, tally)] if tally.voters else []
        await shared.send(render.results(shared, row, result, final=True), attachments=pictures)
        winners = tally.winners()
        await plugin.emit(PollClosed(
            id=internal_id("polls.closed"), community=community, at=now, poll_id=row.id,
            question=row.question,
            options=tuple((o, tally.counts[i]) for i, o in enumerate(row.options)),
            winners=tuple(row.options[i] for i in winners), tie=len(winners) > 1,
            quorum_met=result.quorum_met, voters=tally.voters,
            newcomer_share=result.newcomers, beyond_usual_share=result.beyond_usual,
            voter_ids=() if row.anonymous else tuple(sorted(keys)),
        ))
        self.store.release(poll_id)
        return True
