"""The private flow: rules → interests → an introduction → done, and what messages mean.

Everything here is read by one member only, so it speaks that member's language
(``ctx.for_member(member)``), whoever's context started it; what is posted for the
community (the introduction, the thank-you for a first message) speaks the community's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot import (
    CommunityRef,
    Context,
    InterestsChosen,
    Markup,
    MemberRef,
    MessagePosted,
    Reward,
    RoleRef,
    internal_id,
)
from plugins.onboarding import render
from plugins.onboarding.progress import Step
from plugins.onboarding.rules import interactive_steps
from plugins.onboarding.settings import Interest, OnboardingSettings
from plugins.onboarding.welcome import channel_ref, newcomer_reward

if TYPE_CHECKING:
    from plugins.onboarding import Onboarding
    from plugins.onboarding.render import Words


class Flow:
    """Walks one member through the steps, privately, and closes them once each."""

    def __init__(self, plugin: Onboarding) -> None:
        """Work for ``plugin``, with its store and in-memory progress."""
        self.plugin = plugin
        self.store = plugin.store

    def _private(self, ctx: Context, member: MemberRef) -> tuple[Context, Words]:
        """A context for messages to ``member`` alone, and words in their language."""
        mine = self.plugin.context(ctx.community, member=member)
        return mine, mine.for_member(member)

    async def ensure_row(self, ctx: Context, member: MemberRef) -> Any:
        """The member's row, created for members who joined before the plugin."""
        row = await self.store.row(ctx.community.key, member.id)
        if row is None:
            _outcome, progress = await self.store.record_join(
                ctx.community.key, member, ctx.now(), greeted=True)
            if progress is not None:
                self.plugin.progress.track(ctx.community.key, member.id, progress)
            row = await self.store.row(ctx.community.key, member.id)
        return row

    async def proceed(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef, *, quiet: bool = False,
        joining: bool = False,
    ) -> None:
        """Send the member's next step privately; finish when nothing is left.

        ``joining``: called for a join, not for something the member did (see complete).
        ``quiet``: say nothing when everything is done already.
        """
        mine, words = self._private(ctx, member)
        community = ctx.community.key
        row = await self.ensure_row(mine, member)
        now = mine.now()
        steps = interactive_steps(config)
        if row.accepted_at is None and "rules" not in steps:
            await self.store.stamp(community, member.id, accepted_at=now)
        elif row.accepted_at is None:
            text, buttons = render.rules_prompt(words, config.rules_text)
            await mine.dm(member, text, buttons=buttons)
            return
        if row.interests_at is None and "interests" not in steps:
            await self.store.stamp(community, member.id, interests_at=now)
        elif row.interests_at is None:
            await self.show_picker(mine, config, member, new=True)
            return
        if row.completed_at is None:
            await self.complete(mine, config, member, prompt=not joining)
        elif not quiet and config.step_intro and row.intro_at is None:
            await self.ask_intro(mine, words, config, member)
        elif not quiet:
            text, buttons = render.finished(words, interests="interests" in steps)
            await mine.dm(member, text, buttons=buttons)

    async def show_picker(
        self, ctx: Context, config: OnboardingSettings, member: MemberRef, *, new: bool
    ) -> None:
        """Send the interest picker, or redraw the one already sent (``new=False``)."""
        community = ctx.community.key
        chosen = await self.store.chosen(community, member.id)
        text, buttons = render.picker(ctx.for_member(member), config, chosen)
        row = await self.store.row(community, member.id)
        if not new and row is not None and row.picker is not None:
            await ctx.edit(row.picker, text, buttons=buttons)
            return
        outbox_id = await ctx.dm(member, text, buttons=buttons)
        await self.store.stamp(community, member.id, picker=outbox_id)

    async def complete(
        self, mine: Context, config: OnboardingSettings, member: MemberRef, *, prompt: bool
    ) -> None:
        """Finish the flow (once) and invite an introduction.

        ``prompt``: the member is taking part (pressed, or used /onboarding), so the prompt
        with its Skip button goes out and their next private message answers it. A flow
        finished by the join alone only mentions /intro: nothing waits for an answer.
        """
        community = mine.community
        now = mine.now()
        if not await self.store.complete(community.key, member.id, now):
            return
        if config.starter_role is not None:
            # the badge is named in the community's language, like the role it stands for
            await mine.grant(member, Reward(
                badge=mine.i18n.plain("member"),
                role=RoleRef(community.platform, config.starter_role, config.starter_role),
            ))
        words = mine.for_member(member)
        text = render.all_set(words)
        row = await self.store.row(community.key, member.id)
        if config.step_intro and row is not None and row.intro_at is None and prompt:
            await self.ask_intro(mine, words, config, member, lead=text)
        elif config.step_intro and row is not None and row.intro is None:
            await mine.dm(member, text + Markup("\n") + render.intro_hint(
                words, config.intro_max_length))
        else:
            await mine.dm(member, text)
        progress = self.plugin.progress.get(community.key, member.id)
        silent = progress.first_message_at is None if progress is not None else (
            row is not None and row.first_message_at is None)
        if config.nudge_hours and row is not None and silent:
            await self.plugin.schedule(
                "nudge", community, at=now + timedelta(hours=config.nudge_hours),
                key=f"nudge:{member.id}",
                data={"member": member.id, "name": member.name}, member=member,
            )

    # -- buttons ----------------------------------------------------------------------

    async def accept(self, ctx: Context, member: MemberRef) -> None:
        """Record the acceptance (once) and move on."""
        row = await self.ensure_row(ctx, member)
        if row.accepted_at is None:
            await self.store.stamp(ctx.community.key, member.id, accepted_at=ctx.now())
            await ctx.reply(ctx.t("✅ Thank you for accepting the rules."))
        await self.proceed(ctx, await ctx.settings(), member, quiet=True)

    async def toggle(self, ctx: Context, member: MemberRef, interest: int) -> None:
        """Pick or unpick an interest and redraw the picker (0 reopens the picker)."""
        config: OnboardingSettings = await ctx.settings()
        await self.ensure_row(ctx, member)
        if interest == 0:
            await self.show_picker(ctx, config, member, new=True)
            return
        if interest not in {i.id for i in config.interests}:
            await ctx.reply(ctx.t("That interest no longer exists; here is the current list."))
            await self.show_picker(ctx, config, member, new=True)
            return
        await self.store.toggle(ctx.community.key, member.id, interest)
        await self.show_picker(ctx, config, member, new=False)

    async def done(self, ctx: Context, member: MemberRef) -> None:
        """Keep the choice, tell other plugins, grant mapped roles, and move on."""
        config: OnboardingSettings = await ctx.settings()
        community = ctx.community
        row = await self.ensure_row(ctx, member)
        chosen = await self.store.chosen(community.key, member.id)
        picked = [i for i in config.interests if i.id in chosen]
        if row.interests_at is None:
            await self.store.stamp(community.key, member.id, interests_at=ctx.now())
        for interest in config.interests:
            if interest.role and (interest.id in chosen or row.interests_at is not None):
                await ctx.grant(
                    member,
                    Reward(badge=interest.label,
                           role=RoleRef(community.platform, interest.role, interest.role)),
                    revoke=interest.id not in chosen,
                )
        await ctx.emit(InterestsChosen(
            id=internal_id("onboarding.interests"), community=community, member=member,
            **Interest.named(picked),
        ))
        await ctx.reply(
            ctx.t("Saved your interests: {interests}.",
                  interests=ctx.i18n.plain(", ").join(
                      i.label_in(ctx.i18n.language) for i in picked))
            if picked else ctx.t("Saved: no interests for now. Use /onboarding to pick later.")
        )
        await self.proceed(ctx, config, member, quiet=True)

    # -- the introduction -------------------------------------------------------------

    async def ask_intro(
        self, mine: Context, words: Words, config: OnboardingSettings, member: MemberRef,
        *, lead: Markup | None = None,
    ) -> None:
        """Invite the member to introduce themselves (their next private message answers)."""
        text, buttons = render.intro_prompt(words, config.intro_max_length)
        if lead is not None:
            text = lead + Markup("\n") + text
        await self.store.stamp(mine.community.key, member.id, intro_asked_at=mine.now())
        await mine.dm(member, text, buttons=buttons)

    async def private_message(self, event: MessagePosted, ctx: Context) -> None:
        """A private message answers a pending introduction prompt; anything else is ignored."""
        row = await self.store.intro_row(ctx.community, event.member, pending=True,
                                         private=True)
        if row is None:
            return
        mine = self.plugin.context(CommunityRef.from_key(row.community), member=event.member)
        answer = await self.take_intro(mine, event.member, event.text.strip())
        await mine.dm(event.member, answer)

    async def intro_command(self, ctx: Context, member: MemberRef, text: str) -> None:
        """``/intro TEXT`` anywhere, also in a private chat with the bot."""
        private = ctx.channel is not None and ctx.channel.private
        row = await self.store.intro_row(ctx.community, member, pending=False, private=private)
        if row is None and not private:
            await self.ensure_row(ctx, member)  # joined before the plugin
            row = await self.store.intro_row(ctx.community, member, pending=False,
                                             private=False)
        if row is None:
            await ctx.reply(ctx.t("You have already introduced yourself. Thank you!"),
                            private=True)
            return
        mine = self.plugin.context(CommunityRef.from_key(row.community), member=member)
        await ctx.reply(await self.take_intro(mine, member, text.strip()), private=True)

    async def take_intro(self, mine: Context, member: MemberRef, text: str) -> Markup:
        """Check, store and post an introduction, closing the step (once); the answer.

        The answer speaks the member's language; the post, the community's.
        """
        community = mine.community
        words = mine.for_member(member)
        config: OnboardingSettings = await self.plugin.config(community)  # type: ignore[assignment]
        limit = config.intro_max_length
        if not config.step_intro:
            return words.t("Introductions are switched off in this community.")
        if not text:
            return words.t("Write a few words after /intro, e.g. /intro Hello, I am Sara and "
                           "I love hiking.")
        if len(text) > limit:
            return words.tn("Your introduction has {n} character; at most {limit} are "
                            "allowed. Please shorten it and send it again.",
                            "Your introduction has {n} characters; at most {limit} are "
                            "allowed. Please shorten it and send it again.", len(text),
                            limit=limit)
        if not await self.store.store_intro(community.key, member.id, text,
                                            self.plugin.clock.now()):
            return words.t("You have already introduced yourself. Thank you!")
        public = self.plugin.context(community)  # the community's language, its default channel
        await public.send(render.introduction(public.i18n, public.mention(member), text),
                          channel=channel_ref(public, config.intro_channel), mentions=[member])
        return words.t("🙌 Thank you! I posted your introduction.")

    async def skip_intro(self, ctx: Context, member: MemberRef) -> None:
        """Close the introduction step without posting (``/intro`` still works later)."""
        if await self.store.skip_intro(ctx.community.key, member.id, ctx.now()):
            await ctx.reply(ctx.t("No problem. If you change your mind, send /intro followed "
                                  "by a few words about yourself."))

    # -- after a message: thanks, graduation, the nudge -------------------------------

    async def after_message(
        self, event: MessagePosted, ctx: Context, config: OnboardingSettings, step: Step
    ) -> None:
        """The rare follow-ups of a counted message (its count is in memory already)."""
        member = event.member
        if Step.FIRST in step:
            await self.plugin.unschedule("nudge", ctx.community, f"nudge:{member.id}")
            await ctx.reply(render.first_message_thanks(ctx.i18n, member.display_name,
                                                        config.next_step), private=False)
        if Step.GRADUATE in step:
            await self.graduate(ctx.community, config, member)

    async def graduate(
        self, community: CommunityRef, config: OnboardingSettings, member: MemberRef
    ) -> None:
        """Graduate a newcomer (once): revoke the newcomer reward, and tell them."""
        if not await self.store.graduate(community.key, member.id, self.plugin.clock.now()):
            return
        self.plugin.progress.graduated(community.key, member.id)
        mine = self.plugin.context(community, member=member)
        await mine.grant(member, newcomer_reward(mine, config), revoke=True)
        await mine.dm(member, render.graduated(mine.for_member(member)))

    async def nudge(self, ctx: Context, member: MemberRef) -> None:
        """Nudge a member who finished onboarding but has not posted (at most once)."""
        await self.plugin.flush_progress()  # a message counted in memory means "posted"
        if not await self.store.nudge_once(ctx.community.key, member.id):
            return
        mine = self.plugin.context(ctx.community, member=member)
        await mine.dm(member, render.nudge(mine.for_member(member), member.display_name))
