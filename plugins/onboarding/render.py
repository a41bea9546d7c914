"""What the onboarding plugin says: message texts and their buttons.

Every function takes the words of the language it must speak (``ctx.i18n`` for what the
community reads, ``ctx.for_member(member)`` for what only that member reads), so the
caller decides the audience and this module only the wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot import Button, ButtonStyle, Markup, escape
from plugins.onboarding.payloads import Accept, Done, SkipIntro, Start, Toggle
from plugins.onboarding.settings import OnboardingSettings


class Words(Protocol):
    """Strings and numbers in one language (``ctx.i18n``, ``ctx.personal``, ...)."""

    @property
    def rtl(self) -> bool:
        """Whether the language is written right to left."""

    @property
    def language(self) -> str:
        """The language code (``"ar"``): interests are named in it."""

    def t(self, message: str, /, **values: Any) -> Markup:
        """Translate and fill ``{placeholders}`` (values escaped)."""

    def tn(self, singular: str, plural: str, n: int, /, **values: Any) -> Markup:
        """Translate with the plural form for ``n``."""

    def plain(self, message: str, /, **values: Any) -> str:
        """Translate to plain text (a button label, a chart label)."""

    def number(self, value: float) -> str:
        """A number written the language's way."""

    def percent(self, fraction: float) -> str:
        """A percentage written the language's way."""


# -- the public greeting (the community reads it) ---------------------------------------


def default_greeting(words: Words, community: str, name: str) -> Markup:
    """The built-in greeting, used while admins have set no template."""
    return words.t("Welcome to {community}, {name}! 👋", name=name, community=community)


def welcome_back(words: Words, name: str) -> Markup:
    """The greeting of a member who left and came back."""
    return words.t("Welcome back, {name}! Your earlier choices are kept.", name=name)


def within(words: Words, seconds: int) -> Markup:
    """``within N seconds``, in the plural form for N."""
    return words.tn("within {n} second", "within {n} seconds", seconds)


def raid_alert(words: Words, joins: int, seconds: int) -> Markup:
    """Tell moderators a burst of joins is being greeted in batches."""
    return words.tn(
        "🚨 Moderators: more than {n} member joined {seconds}. "
        "I am greeting newcomers in batches; please keep an eye on the community.",
        "🚨 Moderators: more than {n} members joined {seconds}. "
        "I am greeting newcomers in batches; please keep an eye on the community.",
        joins, seconds=within(words, seconds),
    )


def batch_greeting(words: Words, count: int, *, steps: bool) -> tuple[Markup, list[Button]]:
    """One greeting for everyone a raid kept waiting: a count, never a list of names."""
    if not steps:
        return words.tn("Welcome to our new member!", "Welcome to our {n} new members!",
                        count), []
    text = words.tn("Welcome to our new member! Press the button to get started.",
                    "Welcome to our {n} new members! Press the button to get started.", count)
    return text, [Button(words.plain("Get started"), Start(), style=ButtonStyle.PRIMARY)]


def first_message_thanks(words: Words, name: str, next_step: str) -> Markup:
    """The public thank-you for a newcomer's first message."""
    hint = escape(next_step) if next_step else words.t("try /help to see what you can do here")
    return words.t("🙌 Thanks for your first message, {name}! Next: {hint}", name=name,
                   hint=hint)


def introduction(words: Words, mention: Markup, text: str) -> Markup:
    """The introduction as posted for the community."""
    return words.t("Please welcome {name}: {text}", name=mention, text=text)


# -- the private flow (only the member reads it) -----------------------------------------


def rules_text(rules: str) -> Markup:
    """Admin rules as shown: escaped, one rule a line.

    A line break can be typed as a backslash and ``n`` where a client cannot send one.
    """
    lines = rules.replace("\\n", "\n").strip().splitlines()
    return Markup("\n").join(escape(line.strip()) for line in lines)


def rules_prompt(words: Words, rules: str) -> tuple[Markup, list[Button]]:
    """The rules with the button that accepts them."""
    return (
        words.t("📜 **Our rules**\n{rules}\n\nPlease accept them to continue.",
                rules=rules_text(rules)),
        [Button(words.plain("I accept the rules"), Accept(), style=ButtonStyle.PRIMARY)],
    )


def picker(
    words: Words, config: OnboardingSettings, chosen: set[int]
) -> tuple[Markup, list[list[Button]]]:
    """The interest picker: one toggle per interest (picked ones ticked), then Done."""
    buttons = [
        [Button(("✅ " if i.id in chosen else "") + i.label_in(words.language), Toggle(i.id),
                style=ButtonStyle.SUCCESS if i.id in chosen else ButtonStyle.SECONDARY)]
        for i in config.interests
    ]
    buttons.append([Button(words.plain("Done"), Done(), style=ButtonStyle.PRIMARY)])
    return (words.t("🎯 What are you interested in? Pick as many as you like, then press "
                    "Done."), buttons)


def finished(words: Words, *, interests: bool) -> tuple[Markup, list[Button]]:
    """For a member who finished and asks again: change interests, if there are any."""
    if not interests:
        return words.t("You have finished onboarding."), []
    return (words.t("You have finished onboarding. Press the button to change your "
                    "interests."), [Button(words.plain("Change interests"), Toggle(0))])


def all_set(words: Words) -> Markup:
    """The flow is finished."""
    return words.t("🎉 You are all set! Welcome aboard.")


def intro_hint(words: Words, limit: int) -> Markup:
    """How to introduce oneself later (when no prompt waits for an answer)."""
    return words.t("✍️ When you are ready, introduce yourself to the community: send /intro "
                   "followed by a few words about you (at most {limit} characters).",
                   limit=words.number(limit))


def intro_prompt(words: Words, limit: int) -> tuple[Markup, list[Button]]:
    """The introduction prompt, answered by the member's next private message."""
    return (
        words.tn("✍️ Introduce yourself to the community: who you are and what brings you "
                 "here. Reply to me in our private chat, or send /intro followed by your text "
                 "(at most {n} character), and I will post it for everyone.",
                 "✍️ Introduce yourself to the community: who you are and what brings you "
                 "here. Reply to me in our private chat, or send /intro followed by your text "
                 "(at most {n} characters), and I will post it for everyone.", limit),
        [Button(words.plain("Skip"), SkipIntro(), style=ButtonStyle.SECONDARY)],
    )


def nudge(words: Words, name: str) -> Markup:
    """The one nudge for a member who finished but never posted."""
    return words.t("👋 Hi {name}! We would love to hear from you: say hello in the community "
                   "whenever you like.", name=name)


def graduated(words: Words) -> Markup:
    """A newcomer is a newcomer no more."""
    return words.t("🌱 You are no longer a newcomer. Thank you for being part of the "
                   "community!")


# -- admins ------------------------------------------------------------------------------


def setup_summary(words: Words, config: OnboardingSettings) -> Markup:
    """``/onboarding_setup show``."""
    on_off = {True: words.plain("on"), False: words.plain("off")}
    none = words.plain("none")
    interests = words.plain(", ").join(
        f"{i.id}: {i.label}"
        + "".join(f" ({code}: {label})" for code, label in sorted(i.labels.items()))
        + (f" → {i.role}" if i.role else "")
        for i in config.interests
    ) or none
    return words.t(
        "**Onboarding setup**\nSteps: rules {rules}, interests {interests_on}, "
        "introduction {intro}\nInterests: {interests}\nStarter role: {starter}\n"
        "Newcomer role: {newcomer}\nGraduation: {messages} and {days}\n"
        "Raid guard: {joins} {seconds}",
        rules=on_off[config.step_rules], interests_on=on_off[config.step_interests],
        intro=on_off[config.step_intro], interests=interests,
        starter=config.starter_role or none, newcomer=config.newcomer_role or none,
        # every count in its own plural form: Arabic nouns agree with their number
        messages=words.tn("{n} message", "{n} messages", config.graduate_messages),
        days=words.tn("{n} day", "{n} days", config.graduate_days),
        joins=words.tn("more than {n} join", "more than {n} joins", config.raid_joins),
        seconds=within(words, config.raid_seconds),
    )


def stage_labels(words: Words, stages: Sequence[str]) -> list[str]:
    """The translated label of each funnel stage."""
    known = {
        "joined": words.plain("Joined"),
        "accepted_at": words.plain("Accepted the rules"),
        "interests_at": words.plain("Picked interests"),
        "intro": words.plain("Introduced themselves"),
        "first_message_at": words.plain("First message"),
        "second_message_at": words.plain("Second message"),
    }
    return [known[s] for s in stages]


def funnel_values(words: Words, counts: Sequence[int]) -> list[str]:
    """"12 · 40%" per stage, against the members who joined."""
    total = counts[0] if counts else 0
    return [f"{words.number(c)} · {words.percent(c / total if total else 0)}" for c in counts]


def funnel_text(
    words: Words, days: int, labels: Sequence[str], values: Sequence[str]
) -> Markup:
    """The funnel as lines of text (the chart shows the same)."""
    lines = [words.tn("**Onboarding funnel, last {n} day**",
                      "**Onboarding funnel, last {n} days**", days)]
    lines += [Markup("{label}: {value}").format(label=label, value=value)
              for label, value in zip(labels, values, strict=True)]
    return Markup("\n").join(lines)
