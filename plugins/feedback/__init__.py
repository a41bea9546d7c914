"""Feedback: suggestions, their lifecycle, poll outcomes and the "you said, we did" digest.

Read top-down: the Plugin class here (settings, commands, buttons, handlers, jobs, each
thin), then ``flow.py`` (posting, refreshing, changing a suggestion and telling people),
``lifecycle.py`` (the statuses and allowed transitions, pure), ``similar.py`` (spelling-
tolerant matching, pure), ``digest.py`` (the periodic report), ``render.py`` (what members
read), ``store.py`` (every query), ``tables.py`` and ``migrations/``.

There is no message handler: nothing of this plugin runs on the message hot path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from bot import (
    N_,
    Capability,
    CommunityRef,
    Context,
    Markup,
    MemberRef,
    Misfire,
    Param,
    Plugin,
    PollClosed,
    Privilege,
    command,
    escape,
    job,
    on,
    on_button,
)

from . import render
from .digest import LENGTH, DigestDesk
from .flow import Flows
from .lifecycle import OPEN, ROADMAP, Status, next_steps, refusal
from .render import Approve, ApproveDigest, Down, Follow, PostAnyway, Up
from .settings import MAX_TEXT, MIN_TEXT, FeedbackSettings
from .similar import normalize, similar
from .store import FeedbackStore
from .tables import metadata

__all__ = ["Feedback", "FeedbackSettings"]

Settable = Literal["under_review", "planned", "in_progress", "done", "declined", "needs_info"]
Text = Annotated[str, Param(help=N_("What you suggest"), max_length=MAX_TEXT)]
Number = Annotated[int, Param(help=N_("The suggestion's number"), min=1)]


class Feedback(Plugin):
    """Suggestions, their lifecycle, poll outcomes and the periodic digest."""

    name = "feedback"
    description = N_("Suggestions with votes and a status members follow; poll outcomes; "
                     "a “you said, we did” digest")
    settings = FeedbackSettings
    tables = metadata
    needs = frozenset({Capability.BUTTONS})
    wants = frozenset({Capability.DIRECT_MESSAGES, Capability.THREADS, Capability.EPHEMERAL})
    stores = N_(
        "Your suggestions (also anonymous ones: moderators see who wrote them), your votes "
        "and follows, status changes you made, your name and language for telling you about "
        "changes, and when you first took part. Forgetting you keeps your suggestions as "
        "“a member”'s."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Bind to the kernel."""
        super().__init__(*args, **kwargs)
        self.store = FeedbackStore(self)
        self.flows = Flows(self, self.store)
        self.desk = DigestDesk(self, self.store)

    async def open(self, community: CommunityRef) -> None:
        """Keep the digest scheduled as the setting says."""
        config: FeedbackSettings = await self.config(community)  # type: ignore[assignment]
        await self.desk.plan(community, config.digest)

    async def _touch(self, ctx: Context) -> None:
        assert ctx.member is not None
        await self.store.touch(ctx.community.key, ctx.member.id, ctx.member.name,
                               ctx.member.language, ctx.now())

    async def _find(self, ctx: Context, number: int) -> Any:
        row = await self.store.suggestion(number, ctx.community.key)
        if row is None or row.status == Status.DRAFT:
            await ctx.reply(ctx.t("There is no suggestion #{n} here.", n=number), private=True)
            return None
        return row

    # -- suggesting -------------------------------------------------------------------------

    @command("suggest", help=N_("Suggest something; similar open ideas are offered first"))
    async def suggest(self, ctx: Context, text: Text) -> None:
        """A suggestion under the member's name."""
        await self._suggest(ctx, text, anonymous=False)

    @command("suggest_anonymous", help=N_("Suggest something without your name (moderators "
                                          "still see it)"))
    async def suggest_anonymous(self, ctx: Context, text: Text) -> None:
        """A suggestion members see as by "a member"."""
        await self._suggest(ctx, text, anonymous=True)

    async def _suggest(self, ctx: Context, text: str, *, anonymous: bool) -> None:
        """Offer similar open suggestions first, else post (or queue for review)."""
        assert ctx.member is not None
        config: FeedbackSettings = await ctx.settings()
        text = " ".join(text.split())
        if len(text) < MIN_TEXT:
            await ctx.reply(ctx.t("A suggestion needs at least {min} characters, up to {max}: "
                                  "say what you would like to change.", min=MIN_TEXT,
                                  max=MAX_TEXT), private=True)
            return
        if anonymous and not config.anonymous_allowed:
            await ctx.reply(ctx.t("Anonymous suggestions are off here; post it with your "
                                  "name with /suggest."), private=True)
            return
        await self._touch(ctx)
        norm = normalize(text)
        matches = similar(norm, await self.store.open_ones(ctx.community.key))
        channel = (ctx.channel if ctx.channel and not ctx.channel.private
                   else self.kernel.default_channel(ctx.community))
        now = ctx.now()
        number = await self.store.create({
            "community": ctx.community.key, "author": ctx.member.id,
            "author_name": ctx.member.display_name, "anonymous": anonymous, "text": text,
            "norm": norm, "status": Status.DRAFT.value, "channel": channel.id if channel
            else None, "created_at": now, "updated_at": now})
        if matches:
            counts = await self.store.counts([m.id for m in matches])
            offer, buttons = render.similar_offer(ctx.i18n, number, matches, counts)
            await ctx.reply(offer, buttons=buttons, private=True)
            return
        await self._release(ctx, number, config)

    async def _release(self, ctx: Context, number: int, config: FeedbackSettings) -> None:
        """A draft goes to the review queue, or out."""
        if config.review:
            if await self.store.hold_for_review(number, ctx.now()):
                row = await self.store.suggestion(number, ctx.community.key)
                admins = self.context(ctx.community,
                                      channel=self.kernel.admin_channel(ctx.community))
                text, buttons = render.review_item(admins.i18n, row)
                await admins.send(text, buttons=buttons)
            await ctx.reply(ctx.t("Your suggestion #{n} waits for a moderator's review; I "
                                  "will tell you when it is posted.", n=number), private=True)
            return
        if await self.store.publish(number, Status.DRAFT, ctx.now()):
            await self.flows.post(ctx.community, number)
        await ctx.reply(ctx.t("Your suggestion #{n} is posted. I will tell you when its "
                              "status changes.", n=number), private=True)

    @on_button(PostAnyway)
    async def post_anyway(self, payload: PostAnyway, ctx: Context) -> None:
        """The author posts their draft although similar suggestions are open."""
        assert ctx.member is not None
        row = await self.store.suggestion(payload.suggestion, ctx.community.key)
        if row is None or row.author != ctx.member.id:
            return
        if row.status != Status.DRAFT:
            await ctx.reply(ctx.t("Suggestion #{n} is sent already.", n=row.id), private=True)
            return
        await self._release(ctx, row.id, await ctx.settings())

    @on_button(Approve)
    async def approve(self, payload: Approve, ctx: Context) -> None:
        """A moderator posts a suggestion from the review queue (once)."""
        if await ctx.privilege() < Privilege.MOD:
            await ctx.reply(ctx.t("Only moderators can approve suggestions."), private=True)
            return
        assert ctx.member is not None
        row = await self.store.suggestion(payload.suggestion, ctx.community.key)
        if row is None or not await self.store.publish(
                row.id, Status.REVIEW, ctx.now(), actor=(ctx.member.id, ctx.member.name)):
            await ctx.reply(ctx.t("Suggestion #{n} is not waiting for review.",
                                  n=payload.suggestion), private=True)
            return
        await self.flows.post(ctx.community, row.id)
        await ctx.reply(ctx.t("Suggestion #{n} is posted.", n=row.id), private=True)
        if row.author:
            author = await self.store.people(ctx.community.key, [row.author])
            person = author.get(row.author)
            member = MemberRef(ctx.community.platform, row.author, row.author_name or "",
                               language=person.language if person else None)
            await ctx.dm(member, ctx.for_member(member).t(
                "Your suggestion #{n} is approved and posted.", n=row.id))

    # -- votes and follows ------------------------------------------------------------------

    @on_button(Up, Down)
    async def vote(self, payload: Up | Down, ctx: Context) -> None:
        """A 👍 or 👎: counted once per member (a second press changes nothing)."""
        assert ctx.member is not None
        row = await self._find(ctx, payload.suggestion)
        if row is None:
            return
        if row.status not in OPEN:
            await ctx.reply(ctx.t("Suggestion #{n} is {status}; voting on it is closed.",
                                  n=row.id, status=render.status(ctx.i18n, row.status)),
                            private=True)
            return
        await self._touch(ctx)
        value = 1 if isinstance(payload, Up) else -1
        result = await self.store.vote(row.id, ctx.member.id, value, ctx.now())
        await ctx.reply(render.vote_reply(ctx.i18n, row.id, value, result), private=True)
        if result != "same":
            await self.flows.refresh(ctx.community, row.id)

    @on_button(Follow)
    async def follow(self, payload: Follow, ctx: Context) -> None:
        """Follow a suggestion: told of each status change."""
        assert ctx.member is not None
        row = await self._find(ctx, payload.suggestion)
        if row is None:
            return
        await self._touch(ctx)
        if await self.store.follow(row.id, ctx.member.id, ctx.now()):
            await ctx.reply(ctx.t("You follow #{n}: I will tell you when its status changes. "
                                  "/unfollow {n} stops it.", n=row.id), private=True)
            await self.flows.refresh(ctx.community, row.id)
        else:
            await ctx.reply(ctx.t("You follow #{n} already.", n=row.id), private=True)

    @command("unfollow", help=N_("Stop following a suggestion"), private=True)
    async def unfollow(self, ctx: Context, number: Number) -> None:
        """Stop being told about a suggestion."""
        assert ctx.member is not None
        row = await self._find(ctx, number)
        if row is None:
            return
        if await self.store.unfollow(row.id, ctx.member.id):
            await ctx.reply(ctx.t("You no longer follow #{n}.", n=row.id))
            await self.flows.refresh(ctx.community, row.id)
        else:
            await ctx.reply(ctx.t("You were not following #{n}.", n=row.id))

    # -- the lifecycle ----------------------------------------------------------------------

    @command("suggestion_status", help=N_("Move a suggestion to its next status (declining "
                                          "needs a reason)"),
             privilege=Privilege.MOD)
    async def set_status(self, ctx: Context, number: Number, status: Annotated[
            Settable, Param(help=N_("The new status"))], reason: Annotated[
            str, Param(help=N_("Why (required when declining)"), max_length=MAX_TEXT)] = ""
    ) -> None:
        """Change a suggestion's status, if the lifecycle allows it."""
        row = await self._find(ctx, number)
        if row is not None:
            await self._change(ctx, row, Status(status), " ".join(reason.split()))

    @command("suggestion_answer", help=N_("Answer the question asked about your suggestion"),
             private=True)
    async def answer(self, ctx: Context, number: Number, text: Annotated[
            str, Param(help=N_("Your answer"), max_length=MAX_TEXT)]) -> None:
        """The author's answer when a suggestion needs more information."""
        row = await self._find(ctx, number)
        if row is not None:
            await self.flows.answer(ctx, row, " ".join(text.split()))

    @command("suggestion_duplicate", help=N_("Mark a suggestion a duplicate of another; its "
                                             "votes and followers move there"),
             privilege=Privilege.MOD)
    async def duplicate(self, ctx: Context, number: Number, of: Annotated[
            int, Param(help=N_("The suggestion it duplicates"), min=1)]) -> None:
        """Merge a suggestion into an open one."""
        row = await self._find(ctx, number)
        if row is None:
            return
        if of == number:
            await ctx.reply(ctx.t("A suggestion cannot duplicate itself; name another one."),
                            private=True)
            return
        target = await self._find(ctx, of)
        if target is None:
            return
        if target.status not in OPEN:
            await ctx.reply(ctx.t("Suggestion #{n} is {status}; a duplicate must point at an "
                                  "open suggestion.", n=of,
                                  status=render.status(ctx.i18n, target.status)), private=True)
            return
        await self._change(ctx, row, Status.DUPLICATE, "", into=of)

    async def _change(self, ctx: Context, row: Any, new: Status, reason: str,
                      into: int | None = None) -> None:
        why = refusal(Status(row.status), new, reason)
        if why is not None:
            await ctx.reply(render.refusal(ctx.i18n, row, why, next_steps(Status(row.status))),
                            private=True)
            return
        done = await self.flows.change(ctx, row, new, reason, into)
        if done is None:
            await ctx.reply(ctx.t("Suggestion #{n} changed meanwhile; look again with "
                                  "/suggestion_history {n}.", n=row.id), private=True)
            return
        told, adopted = done
        await ctx.reply(ctx.tn("Suggestion #{id} is now {status}; I told {n} member.",
                               "Suggestion #{id} is now {status}; I told {n} members.", told,
                               id=row.id, status=render.status(ctx.i18n, new)), private=True)
        if adopted:  # after the answer, so whatever contributions posts comes after it
            await self.flows.adopted(ctx, row)

    @command("suggestion_history", help=N_("The audit of a suggestion: author and every change"),
             privilege=Privilege.MOD, private=True)
    async def history(self, ctx: Context, number: Number) -> None:
        """Who wrote it (also when anonymous), who changed it, when and why."""
        row = await self._find(ctx, number)
        if row is not None:
            await ctx.reply(render.history(ctx.i18n, row, await self.store.history(row.id)))

    @command("roadmap", help=N_("What is planned and in progress"))
    async def roadmap(self, ctx: Context) -> None:
        """The suggestions planned and in progress."""
        groups = [(s, await self.store.roadmap(ctx.community.key, [s])) for s in ROADMAP]
        counts = await self.store.counts([r.id for _, rows in groups for r in rows])
        await ctx.reply(render.roadmap(ctx.i18n, groups, counts))

    # -- poll outcomes ----------------------------------------------------------------------

    @on(PollClosed)
    async def poll_closed(self, event: PollClosed, ctx: Context) -> None:
        """Remember the poll and ask the admins what was done with it (once)."""
        admins = self.context(event.community, channel=self.kernel.admin_channel(
            event.community))
        async with admins.transaction():
            if await self.store.poll_closed({
                "community": event.community.key, "poll": event.poll_id,
                "question": event.question, "winners": list(event.winners),
                "voters": event.voters, "voter_ids": list(event.voter_ids),
                "closed_at": event.at or ctx.now()}):
                await admins.send(render.poll_question(admins.i18n, event.poll_id,
                                                       event.question, event.voters,
                                                       list(event.winners)))

    @command("poll_outcome", help=N_("Record what was done with a closed poll and tell its "
                                     "voters"), privilege=Privilege.ADMIN)
    async def poll_outcome(self, ctx: Context, poll: Annotated[
            int, Param(help=N_("The poll's number"), min=1)], text: Annotated[
            str, Param(help=N_("What was decided"), max_length=MAX_TEXT)]) -> None:
        """Record the decision, tell the voters; it goes into the digest."""
        assert ctx.member is not None
        row = await self.store.outcome(ctx.community.key, poll)
        if row is None:
            await ctx.reply(ctx.t("There is no closed poll #{n} here; an outcome can be "
                                  "recorded once a poll has closed.", n=poll), private=True)
            return
        text = " ".join(text.split())
        if len(text) < MIN_TEXT:
            await ctx.reply(ctx.t("Say what was decided in at least {min} characters, up to "
                                  "{max}.", min=MIN_TEXT, max=MAX_TEXT), private=True)
            return
        async with ctx.transaction():
            if not await self.store.decide(ctx.community.key, poll, text, ctx.member.id,
                                           ctx.now()):
                await ctx.reply(ctx.t("This outcome of poll #{n} is recorded already.", n=poll),
                                private=True)
                return
            told = await self.flows.tell_voters(ctx, row, text)
        await ctx.reply(ctx.tn("The outcome of poll #{poll} is recorded; I told its {n} voter.",
                               "The outcome of poll #{poll} is recorded; I told its {n} "
                               "voters.", told, poll=poll), private=True)

    # -- the digest -------------------------------------------------------------------------

    @job("digest", misfire=Misfire.RUN_LATE)
    async def digest_due(self, ctx: Context, data: dict[str, Any]) -> None:
        """The period's digest: posted, waiting as a draft, one line, or skipped."""
        config: FeedbackSettings = await ctx.settings()
        if config.digest != data.get("period"):
            # the setting changed: the first digest still starts where this one would have
            await self.desk.plan(ctx.community, config.digest, data.get("since"))
            return
        end = datetime.fromisoformat(str(data.get("_occurrence") or ctx.now().isoformat()))
        since = datetime.fromisoformat(str(data["since"])) if data.get("since") else None
        await self.desk.write(ctx, config, end, since or end - LENGTH[config.digest])

    @command("digest_now", help=N_("Write the digest of the time since the last one now"),
             privilege=Privilege.ADMIN, private=True)
    async def digest_now(self, ctx: Context) -> None:
        """Make the digest now (posted, or a draft when approval is required)."""
        config: FeedbackSettings = await ctx.settings()
        length = LENGTH.get(config.digest, LENGTH["weekly"])
        done = await self.desk.write(ctx, config, ctx.now(), ctx.now() - length)
        await ctx.reply({
            "posted": ctx.t("The digest is posted."),
            "draft": ctx.t("The digest draft waits for approval in the admins' channel."),
            "skipped": ctx.t("Nothing happened since the last digest, so none is posted."),
        }.get(done, ctx.t("There is a digest up to now already.")))

    @command("digest_edit", help=N_("Replace the text of the digest draft"),
             privilege=Privilege.ADMIN, private=True)
    async def digest_edit(self, ctx: Context, text: Annotated[
            str, Param(help=N_("The digest's new text"), max_length=4000)]) -> None:
        """Admins edit the draft before approving it."""
        assert ctx.member is not None
        row = await self.store.draft(ctx.community.key)
        if row is None or not text.strip():
            await ctx.reply(ctx.t("There is no digest draft waiting; it is written when the "
                                  "period ends (or with /digest_now)."))
            return
        new = str(escape(text.strip()))
        await self.store.edit_draft(row.id, new, ctx.member.id)
        await self.desk.show_draft(ctx, row.id, new)

    @on_button(ApproveDigest)
    async def digest_approve(self, payload: ApproveDigest, ctx: Context) -> None:
        """An admin approves the draft: it is posted for members (once)."""
        if await ctx.privilege() < Privilege.ADMIN:
            await ctx.reply(ctx.t("Only admins can approve the digest."), private=True)
            return
        row = await self.store.approve(payload.digest, ctx.now())
        if row is None:
            await ctx.reply(ctx.t("This digest is posted already."), private=True)
            return
        channel = self.kernel.default_channel(ctx.community)
        await self.context(ctx.community, channel=channel).send(Markup(row.text))
        await ctx.reply(ctx.t("The digest is posted."), private=True)

    # -- privacy ----------------------------------------------------------------------------

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """Suggestions, votes, follows, changes made and the profile kept for notices."""
        return await self.store.export(member.id, member.platform)

    async def forget(self, member: MemberRef) -> None:
        """Erase the member; their suggestions stay, by "a member"."""
        await self.store.forget(member.id, member.platform)

