"""The texts and pictures the contributions plugin posts, in a translator's language.

Every function takes the :class:`Translator` of the context that speaks to the readers:
the community's for public posts (kudos notes, level-ups, badges, the spotlight), the
member's for their own replies. Member names are user text, escaped once by ``t``/``tn``;
lines are joined as markup so they are not escaped a second time (issue 11.6). Counts go
through plural forms (Arabic has six).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot import Markup
from plugins.contributions import levels
from plugins.contributions.card import CardData, badge_line, render_card
from plugins.contributions.rules import BADGES, places

#: Medals of the spotlight's first three places.
MEDALS = ("🥇", "🥈", "🥉")

Translator = Any  # bot.core.i18n.Translator: plugins do not import the kernel's modules
Names = Callable[[str], str]


def badge_title(tr: Translator, badge: str) -> str:
    """A badge's name in the translator's language."""
    return str(tr.plain(BADGES.get(badge, badge)))


def level_title(tr: Translator, level: int) -> str:
    """``Level N``, as a reward's title."""
    return str(tr.plain("Level {level}")).format(level=level)


def kudos_note(tr: Translator, giver: str, receiver: Markup, reason: str,
               karma: int) -> Markup:
    """The public note that someone was thanked."""
    if reason:
        return tr.t("💛 {giver} gave kudos to {receiver}: {reason} (karma: {karma})",
                    giver=giver, receiver=receiver, reason=reason,
                    karma=tr.number(karma))
    return tr.t("💛 {giver} thanked {receiver} (karma: {karma})",
                giver=giver, receiver=receiver, karma=tr.number(karma))


def kudos_refused(tr: Translator, why: str, receiver: str, cap: int) -> Markup:
    """Why kudos were not given (the giver reads it privately)."""
    if why == "pair":
        return tr.tn("You already thanked {member} {n} time today; try again tomorrow.",
                     "You already thanked {member} {n} times today; try again tomorrow.",
                     cap, member=receiver)
    return tr.tn("You can give {n} kudos a day; try again tomorrow.",
                 "You can give {n} kudos a day; try again tomorrow.", cap)


def level_up(tr: Translator, member: Markup, level: int) -> Markup:
    """``🎉 @member reached level N!``."""
    return tr.t("🎉 {member} reached level {level}!", member=member, level=tr.number(level))


def badge_earned(tr: Translator, member: Markup, badge: str) -> Markup:
    """``🏅 @member earned the badge “NAME”!``."""
    return tr.t("🏅 {member} earned the badge “{badge}”!", member=member,
                badge=badge_title(tr, badge))


def award(tr: Translator, member: str, points: int, reason: str) -> Markup:
    """What an admin's award says publicly."""
    return tr.tn("{member} received {n} point: {reason}",
                 "{member} received {n} points: {reason}", points,
                 member=member, reason=reason)


def correction(tr: Translator, member: str, points: int, reason: str) -> Markup:
    """What the admin reads after taking points back (never posted publicly)."""
    return tr.tn("{n} point was taken from {member}: {reason}",
                 "{n} points were taken from {member}: {reason}", points,
                 member=member, reason=reason)


def rank_text(tr: Translator, name: str, level: int, xp: int, position: int) -> Markup:
    """``NAME: level L, N XP, rank #R``."""
    return tr.tn("{name}: level {level}, {n} XP, rank #{rank}",
                 "{name}: level {level}, {n} XP, rank #{rank}", xp,
                 name=name, level=tr.number(level), rank=tr.number(position))


def rank_card(tr: Translator, name: str, curve: str, xp: int, position: int,
              badges: Sequence[str]) -> bytes:
    """The rank card picture (drawn by ``card.py``)."""
    level, into, need = levels.progress(curve, xp)
    titles = [badge_title(tr, b) for b in sorted(badges) if b in BADGES]
    return render_card(CardData(
        name=name,
        level_label=level_title(tr, level),
        rank_label=str(tr.plain("Rank #{rank}")).format(rank=position),
        xp_label=str(tr.tn("{into} / {n} XP to the next level",
                           "{into} / {n} XP to the next level", need, into=into)),
        badges_label=badge_line(titles),
        fraction=into / need if need else 0.0,
    ), rtl=tr.rtl)


def leaderboard(tr: Translator, period: str, top: Sequence[tuple[str, int]],
                name_of: Names) -> Markup:
    """The top list under its title; tied members share a place."""
    titles = {"week": tr.t("🏆 Top contributors this week"),
              "month": tr.t("🏆 Top contributors this month"),
              "all": tr.t("🏆 Top contributors of all time")}
    lines = [titles[period]]
    for place, (member, xp) in zip(places(top), top, strict=True):
        lines.append(tr.tn("{place}. {name} — {n} XP", "{place}. {name} — {n} XP", xp,
                           place=tr.number(place), name=name_of(member)))
    return Markup("\n").join(lines)


def spotlight(tr: Translator, top: Sequence[tuple[str, int]],
              new_badges: Sequence[tuple[str, str]], name_of: Names) -> Markup:
    """The weekly spotlight: the first three places (ties share a medal) and new badges."""
    lines = [tr.t("🌟 This week's spotlight")]
    for place, (member, xp) in zip(places(top), top, strict=True):
        if place > len(MEDALS):
            break
        lines.append(tr.tn("{medal} {name} — {n} XP", "{medal} {name} — {n} XP", xp,
                           medal=MEDALS[place - 1], name=name_of(member)))
    if new_badges:
        lines.append(tr.t("New badges:"))
        for member, badge in new_badges:
            lines.append(tr.t("🏅 {name}: {badge}", name=name_of(member),
                              badge=badge_title(tr, badge)))
    lines.append(tr.t("Thank you all for making this community what it is!"))
    return Markup("\n").join(lines)
