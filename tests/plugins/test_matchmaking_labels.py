"""Interests named in each reader's language: onboarding's picker, matchmaking's texts, and
interests stored before they were kept by id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.core.storage import Database
from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.matchmaking import Matchmaking
from plugins.onboarding import Onboarding, OnboardingSettings

PLUGINS = [Onboarding, Matchmaking, Admin]
SETUP = ("/onboarding_setup interest_add Board games", "/onboarding_setup interest_add Hiking",
         "/onboarding_setup interest_label 1 ar الألعاب اللوحية",
         "/onboarding_setup interest_label 2 ar المشي")


async def _setup(club: FakeCommunity) -> None:
    for line in SETUP:
        await club.says("amal", line)
    club.new()


async def _sara_in_arabic_omar_in_english(club: FakeCommunity) -> None:
    """The interests set up; omar reads English; sara joins and picks board games in Arabic."""
    await _setup(club)
    await club.set_language("omar", "en")
    await club.says("sara", "/match_join")
    await club.presses("sara", "الألعاب اللوحية")
    await club.presses("sara", "تم")


def _buttons(club: FakeCommunity, name: str) -> list[str]:
    """The buttons of the latest message ``name`` sees (a redrawn picker is edited)."""
    post = next(p for p in reversed(club.platform.posts)
                if p.buttons and p.viewer in (None, name))
    return [b.label for b in post.buttons]


def _intros(sent: list[Any]) -> dict[str, str]:
    return {s.to: s.text for s in sent if s.is_dm and s.text.startswith("🤝")}


async def test_each_member_picks_from_buttons_in_their_language() -> None:
    async with FakeCommunity(PLUGINS, admins=["amal"], language="ar") as club:
        await _setup(club)
        await club.set_language("omar", "en")
        await club.says("sara", "/onboarding")
        club.expect("", to="sara", buttons=["الألعاب اللوحية", "المشي", "تم"])
        await club.says("omar", "/onboarding")
        club.expect("", to="omar", buttons=["Board games", "Hiking", "Done"])
        await club.presses("sara", "الألعاب اللوحية")
        assert _buttons(club, "sara") == ["✅ الألعاب اللوحية", "المشي", "تم"]
        await club.presses("sara", "تم")
        club.expect("حُفظت اهتماماتك: الألعاب اللوحية.", to="sara")
        await club.presses("omar", "Board games")
        await club.presses("omar", "Done")
        club.expect("Saved your interests: Board games.", to="omar")


async def test_an_arabic_and_an_english_member_share_one_interest_each_in_their_words() -> None:
    async with FakeCommunity(PLUGINS, admins=["amal"], language="ar") as club:
        await club.set_language("lina", "en")
        await _sara_in_arabic_omar_in_english(club)
        await club.says("omar", "/match_join")
        await club.says("omar", "/onboarding")  # the picker again, now that he reads English
        await club.presses("omar", "Board games")
        await club.presses("omar", "Done")
        await club.says("lina", "/match_join")
        await club.says("lina", "/interests board games, poetry")  # typed: the same interest
        club.new()
        await club.says("sara", "/interests")
        club.expect("اهتماماتك: الألعاب اللوحية.", to="sara")
        await club.says("sara", "/match_join")
        club.expect("سأبحث عن أشخاص يشاركونك: الألعاب اللوحية.", to="sara")
        await club.says("omar", "/match_join")
        club.expect("I will look for people who share: Board games.", to="omar")
        await club.says("lina", "/interests")
        club.expect("Your interests: Board games, poetry.", to="lina")
        await club.says("amal", "/match_round")
        preview = club.expect("معاينة: مجموعة واحدة.", to="amal")
        assert "مشترك: الألعاب اللوحية" in preview.text
        intros = _intros(await club.presses("amal", "إعلان"))
        assert set(intros) == {"sara", "omar", "lina"}  # one interest, whatever its words
        assert "اهتماماتك المشتركة: الألعاب اللوحية. " in intros["sara"]
        assert "«الألعاب اللوحية»" in intros["sara"]
        for english in ("omar", "lina"):
            assert "You share: Board games. " in intros[english]
            assert "الألعاب" not in intros[english]


async def test_a_label_in_a_language_the_bot_does_not_speak_is_refused_in_words() -> None:
    async with FakeCommunity(PLUGINS, admins=["amal"]) as club:
        await club.says("amal", "/onboarding_setup interest_add Chess")
        await club.says("amal", "/onboarding_setup interest_label 1 xx Schach")
        reply = club.expect("is not allowed for interests", to="amal")
        assert "“xx” is not a language the bot speaks; use ar or en" in reply.text
        await club.says("amal", "/onboarding_setup interest_label 1 ar " + "ش" * 41)
        club.expect("it can be at most 40 characters long", to="amal")
        await club.set_language("amal", "ar")
        await club.says("amal", "/onboarding_setup interest_label 1 xx Schach")
        club.expect("«xx» ليست لغة يتحدث بها البوت؛ استعمل ar أو en", to="amal")
        await club.says("amal", "/onboarding_setup show")
        summary = club.expect("1: Chess", to="amal")
        assert "(" not in summary.text.split("1: Chess", 1)[1].split("\n", 1)[0]  # unchanged
        await club.says("amal", "/onboarding_setup interest_label chess AR شطرنج")
        club.expect("صار اسم الاهتمام «Chess» باللغة ar: شطرنج.", to="amal")
        await club.says("amal", "/onboarding_setup show")
        club.expect("1: Chess (ar: شطرنج)", to="amal")


def test_settings_written_before_labels_per_language_stay_valid() -> None:
    old = {"interests": [{"id": 1, "label": "Chess", "role": None}, {"id": 2, "label": "Art"}]}
    config = OnboardingSettings.model_validate(old)
    assert [i.label_in("ar") for i in config.interests] == ["Chess", "Art"]


async def test_interests_stored_before_labels_per_language_are_migrated(tmp_path: Path) -> None:
    db = tmp_path / "majlis.db"
    url = f"sqlite+aiosqlite:///{db}"
    async with FakeCommunity(PLUGINS, admins=["amal"], language="ar",
                             database_url=url) as club:
        await _setup(club)
        await club.set_language("omar", "en")
        await club.set_language("lina", "en")
        for name in ("sara", "omar", "lina"):
            await club.says(name, "/match_join")
        for name in ("sara", "omar"):
            await club.says(name, "/interests board games")
        await club.says("amal", "/match_round")  # a draft nobody decided yet
        club.expect("الألعاب اللوحية", to="amal")
        community = club.platform.community.key
    # Back to the database an older Majlis left: no labels table, onboarding picks stored
    # as ids (the first releases) or as labels (later), typed words beside them.
    older = Database(url)  # on PostgreSQL too, with MAJLIS_TEST_DATABASE_URL
    async with older.begin() as conn:
        await conn.execute(text("DROP TABLE matchmaking_labels"))
        await conn.execute(text("UPDATE alembic_version SET version_num = 'e9c35d940533' "
                                "WHERE version_num = '8c3248af7aa5'"))
        for member, interests in (("sara", "1"), ("omar", "Board games"),
                                  ("lina", "hiking,poetry")):
            await conn.execute(text("UPDATE matchmaking_members SET interests = :interests "
                                    "WHERE community = :community AND member = :member"),
                               {"interests": interests, "community": community,
                                "member": member})
        await conn.execute(text("UPDATE matchmaking_groups SET shared = 'Board games'"))
    await older.close()
    async with FakeCommunity(PLUGINS, admins=["amal"], language="ar",
                             database_url=url) as club:
        await club.set_language("omar", "en")
        await club.set_language("lina", "en")
        await club.says("sara", "/interests")
        club.expect("اهتماماتك: الألعاب اللوحية.", to="sara")  # not "1"
        await club.says("omar", "/interests")
        club.expect("Your interests: Board games.", to="omar")
        await club.says("lina", "/interests")
        club.expect("Your interests: Hiking, poetry.", to="lina")
        await club.says("amal", "/match_round")
        club.expect("الألعاب اللوحية", to="amal")
        intros = _intros(await club.presses("amal", "إعلان"))
        assert "اهتماماتك المشتركة: الألعاب اللوحية. " in intros["sara"]  # sara and omar
        assert "You share: Board games. " in intros["omar"]
        exported = await club.app.plugins["matchmaking"].export(club.member("lina"))
        assert exported["profile"][0]["interest_names"] == ["Hiking", "poetry"]
    older = Database(url)
    async with older.connect() as conn:
        stored = {row.member: row.interests for row in await conn.execute(
            text("SELECT member, interests FROM matchmaking_members"))}
        shared = set((await conn.execute(text("SELECT shared FROM matchmaking_groups")))
                     .scalars())
    await older.close()
    assert stored == {"sara": "#1", "omar": "#1", "lina": "#2,poetry"}
    assert shared == {"#1"}  # the old draft's "Board games" too, like the new round's


async def test_an_admin_renaming_an_interest_renames_it_in_matchmaking_at_once() -> None:
    async with FakeCommunity(PLUGINS, admins=["amal"], language="ar") as club:
        await _sara_in_arabic_omar_in_english(club)
        await club.says("omar", "/match_join")
        await club.says("omar", "/interests board games")
        await club.says("amal", "/onboarding_setup interest_rename 1 Tabletop games")
        await club.says("amal", "/onboarding_setup interest_label 1 ar ألعاب الطاولة")
        club.new()
        await club.says("sara", "/interests")  # nobody picked again since
        club.expect("اهتماماتك: ألعاب الطاولة.", to="sara")
        await club.says("omar", "/interests")
        club.expect("Your interests: Tabletop games.", to="omar")
        await club.says("amal", "/match_round")
        intros = _intros(await club.presses("amal", "إعلان"))
        assert "اهتماماتك المشتركة: ألعاب الطاولة. " in intros["sara"]
        assert "You share: Tabletop games. " in intros["omar"]


async def test_interests_changed_with_config_are_named_in_matchmaking_at_once() -> None:
    interests = ('\'[{"id": 1, "label": "Tabletop games", "labels": {"ar": "ألعاب الطاولة"}}, '
                 '{"id": 2, "label": "Hiking", "labels": {"ar": "المشي"}}, '
                 '{"id": 3, "label": "Poetry", "labels": {"ar": "الشعر"}}]\'')
    async with FakeCommunity(PLUGINS, admins=["amal"], language="ar") as club:
        await _sara_in_arabic_omar_in_english(club)
        await club.says("omar", "/match_join")
        await club.says("omar", "/interests board games")
        await club.says("amal", "/config onboarding interests " + interests)
        club.expect("onboarding.interests", to="amal")
        club.new()
        await club.says("sara", "/interests")  # renamed: nobody picked again since
        club.expect("اهتماماتك: ألعاب الطاولة.", to="sara")
        await club.says("omar", "/interests")
        club.expect("Your interests: Tabletop games.", to="omar")
        await club.says("sara", "/interests poetry")  # added: the English word is that interest
        club.expect("اهتماماتك: الشعر.", to="sara")
        await club.says("omar", "/interests الشعر, tabletop games")
        club.expect("Your interests: Poetry, Tabletop games.", to="omar")
        await club.says("amal", "/match_round")
        intros = _intros(await club.presses("amal", "إعلان"))
        assert "اهتماماتك المشتركة: الشعر. " in intros["sara"]  # one interest, in two words
        assert "You share: Poetry. " in intros["omar"]
