"""What admins do: ``/onboarding_setup`` actions and the ``/onboarding_funnel`` report.

A refused value changes nothing and says what is allowed (the settings model decides).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot import (
    Attachment,
    Capability,
    Context,
    Markup,
    SettingError,
)
from plugins.onboarding import render
from plugins.onboarding.chart import funnel_png
from plugins.onboarding.rules import PLACEHOLDERS, STEPS, interactive_steps, template_problem
from plugins.onboarding.settings import Interest, OnboardingSettings

if TYPE_CHECKING:
    from plugins.onboarding import Onboarding


def _dump(items: list[Interest]) -> list[dict[str, Any]]:
    return [i.model_dump() for i in items]


def _find(config: OnboardingSettings, token: str) -> Interest | None:
    token = token.strip()
    return next((i for i in config.interests
                 if str(i.id) == token or token.casefold() in
                 {name.casefold() for name in (i.label, *i.labels.values())}), None)


def _changed(config: OnboardingSettings, interest: Interest,
             change: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """The interests as stored, with ``change`` applied to ``interest``'s entry."""
    return [change(i) if i["id"] == interest.id else i for i in _dump(config.interests)]


class Admin:
    """The setup actions (one method per action) and the funnel."""

    def __init__(self, plugin: Onboarding) -> None:
        """Work for ``plugin``."""
        self.plugin = plugin

    async def setup(self, ctx: Context, action: str, value: str) -> None:
        """Run one setup action (its name is checked by the command's parameter)."""
        config: OnboardingSettings = await ctx.settings()
        await getattr(self, f"_setup_{action}")(ctx, config, value.strip())

    async def _save(self, ctx: Context, key: str, value: Any) -> bool:
        try:  # Onboarding.settings_changed tells other plugins what changed
            await self.plugin.kernel.set_setting(self.plugin, ctx.community, key, value,
                                                 translator=ctx.i18n)
        except SettingError as exc:
            await ctx.reply(exc.message)
            return False
        return True

    async def _setup_show(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        await ctx.reply(render.setup_summary(ctx.i18n, config))

    async def _setup_rules(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        if not value and not config.rules_text:
            await ctx.reply(ctx.t("There are no rules to remove."))
            return
        if await self._save(ctx, "rules_text", value or None):
            await ctx.reply(ctx.t("Rules saved.") if value
                            else ctx.t("Rules removed: newcomers have none to accept."))

    async def _setup_rules_link(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        if await self._save(ctx, "rules_link", value or None):
            await ctx.reply(ctx.t("Rules link saved."))

    async def _setup_interest_add(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        if not value:
            await ctx.reply(ctx.t("Give the interest's name, e.g. /onboarding_setup "
                                  "interest_add Books"))
            return
        new_id = max((i.id for i in config.interests), default=0) + 1
        items = [*_dump(config.interests), {"id": new_id, "label": value}]
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("Added interest {id}: {label}.", id=str(new_id), label=value))

    async def _unknown_interest(
        self, ctx: Context, config: OnboardingSettings, token: str
    ) -> None:
        known = ctx.i18n.plain(", ").join(
            f"{i.id}: {i.label}" for i in config.interests) or ctx.i18n.plain("none")
        await ctx.reply(ctx.t("There is no interest “{token}”. Interests: {known}.",
                              token=token, known=known))

    async def _interest_and_rest(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> tuple[Interest, str] | None:
        """The interest ``value`` starts with (id or a name) and what follows it.

        None, once the admin is told which interests exist, when there is no such interest.
        """
        token, _, rest = value.partition(" ")
        found = _find(config, token)
        if found is None:
            await self._unknown_interest(ctx, config, token)
            return None
        return found, rest

    async def _setup_interest_remove(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        found = _find(config, value)
        if found is None:
            await self._unknown_interest(ctx, config, value)
            return
        items = [i for i in _dump(config.interests) if i["id"] != found.id]
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("Removed interest {label}.", label=found.label))

    async def _setup_interest_rename(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        named = await self._interest_and_rest(ctx, config, value)
        if named is None:
            return
        found, label = named
        if not label.strip():
            await ctx.reply(ctx.t("Give the id and the new name, e.g. /onboarding_setup "
                                  "interest_rename 1 Reading"))
            return
        items = _changed(config, found, lambda i: dict(i, label=label.strip()))
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("Renamed {old} to {new}; members keep their choice.",
                                  old=found.label, new=label.strip()))

    async def _setup_interest_label(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        named = await self._interest_and_rest(ctx, config, value)
        if named is None:
            return
        found, rest = named
        language, _, label = rest.strip().partition(" ")
        if not language:
            await ctx.reply(ctx.t("Give the id, a language and the name in it, e.g. "
                                  "/onboarding_setup interest_label 1 ar القراءة"))
            return
        label, language = label.strip(), language.lower()

        def named_in(item: dict[str, Any]) -> dict[str, Any]:
            labels = {k: v for k, v in item["labels"].items() if k != language}
            return dict(item, labels={**labels, language: label} if label else labels)

        if await self._save(ctx, "interests", _changed(config, found, named_in)):
            await ctx.reply(
                ctx.t("{label} is named {name} in {language}.", label=found.label,
                      name=label, language=language) if label else
                ctx.t("{label} has no name of its own in {language} now.",
                      label=found.label, language=language))

    async def _setup_interest_role(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        named = await self._interest_and_rest(ctx, config, value)
        if named is None:
            return
        found, role = named
        role = role.strip().lstrip("@")
        items = _changed(config, found, lambda i: dict(i, role=role or None))
        if await self._save(ctx, "interests", items):
            await ctx.reply(ctx.t("{label} now grants the role {role}.", label=found.label,
                                  role=role) if role else
                            ctx.t("{label} grants no role now.", label=found.label))

    async def _setup_starter_role(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        role = value.lstrip("@") or None
        if await self._save(ctx, "starter_role", role):
            await ctx.reply(ctx.t("Starter role: {role}.", role=role or ctx.i18n.plain("none")))

    async def _setup_newcomer_role(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        role = value.lstrip("@") or None
        if await self._save(ctx, "newcomer_role", role):
            await ctx.reply(ctx.t("Newcomer role: {role}.", role=role or ctx.i18n.plain("none")))

    async def _setup_step(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        step, _, state = value.partition(" ")
        state = state.strip().lower()
        if step not in STEPS or state not in ("on", "off"):
            await ctx.reply(ctx.t("Use /onboarding_setup step <step> on|off, where step is one "
                                  "of: {steps}.", steps=tuple(STEPS)))
            return
        shown = {"on": ctx.i18n.plain("on"), "off": ctx.i18n.plain("off")}[state]
        if getattr(config, f"step_{step}") == (state == "on"):
            await ctx.reply(ctx.t("Step {step} is already {state}.", step=step, state=shown))
            return
        if await self._save(ctx, f"step_{step}", state == "on"):
            await ctx.reply(ctx.t("Step {step} is now {state}.", step=step, state=shown))

    async def _setup_greeting(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        problem = template_problem(value)
        if problem is not None:
            await ctx.reply(ctx.t(
                "The greeting was not saved: “{problem}” is not a placeholder I know. "
                "Valid placeholders: {valid}.",
                problem="{" + problem + "}" if problem != "{" else problem,
                valid=tuple("{" + p + "}" for p in PLACEHOLDERS),  # "a, b, or c" / "a أو b"
            ))
            return
        if not value and not config.template:
            await ctx.reply(ctx.t("The greeting is already the default. Use /onboarding_setup "
                                  "preview to see it."))
            return
        if await self._save(ctx, "template", value or None):
            await ctx.reply(ctx.t("Greeting saved. Use /onboarding_setup preview to see it.")
                            if value else
                            ctx.t("Greeting reset to the default. Use /onboarding_setup "
                                  "preview to see it."))

    async def _setup_preview(
        self, ctx: Context, config: OnboardingSettings, value: str
    ) -> None:
        assert ctx.member is not None
        # the greeting as the community will read it (its language), shown to the admin
        public = self.plugin.context(ctx.community)
        text = await self.plugin.welcome.greeting_text(public, public.i18n, config, ctx.member)
        await ctx.reply(ctx.t("Preview (only you see this):") + Markup("\n") + text, private=True)

    async def _setup_set(self, ctx: Context, config: OnboardingSettings, value: str) -> None:
        key, _, raw = value.partition(" ")
        if await self._save(ctx, key, raw.strip() or None):
            await ctx.reply(ctx.t("Saved {key}.", key=key))

    # -- the funnel -------------------------------------------------------------------

    async def funnel(self, ctx: Context, days: int) -> None:
        """Counts and percentages per stage for members who joined in the period.

        A stage nobody can pass is not shown: the rules when there are none to accept
        (switched off or empty), the introduction while that step is off.
        """
        config: OnboardingSettings = await ctx.settings()
        stages = ["accepted_at", "interests_at", "first_message_at", "second_message_at"]
        if "rules" not in interactive_steps(config):
            stages.remove("accepted_at")
        if config.step_intro:
            stages.insert(stages.index("first_message_at"), "intro")
        since = ctx.now() - timedelta(days=days)
        await self.plugin.flush_progress()  # messages counted in memory count here too
        counts = await self.plugin.store.funnel(ctx.community.key, since, stages)
        words = ctx.i18n
        labels = render.stage_labels(words, ["joined", *stages])
        values = render.funnel_values(words, counts)
        attachments = []
        if ctx.has(Capability.IMAGES):
            title = words.plain("Onboarding funnel")
            png = funnel_png(title, labels, counts, values, rtl=words.rtl)
            attachments.append(Attachment("onboarding-funnel.png", png, image=True,
                                          description=title))
        await ctx.reply(render.funnel_text(words, days, labels, values), attachments=attachments)
