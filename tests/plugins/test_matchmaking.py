"""Matchmaking as members and admins live it, on the console through bot.testing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import ButtonPressed, Capability, ChannelRef
from bot.core.storage import outbox
from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.contributions import Contributions
from plugins.matchmaking import Matchmaking
from plugins.matchmaking.tables import avoid, groups, members, rounds

PEOPLE = {"sara": "chess, poetry", "omar": "chess, cooking", "lina": "poetry, hiking",
          "adam": "cooking, films", "maya": "films, poetry"}


async def _join(club: FakeCommunity, people: dict[str, str]) -> None:
    for name, interests in people.items():
        await club.says(name, "/match_join")
        await club.says(name, f"/interests {interests}")
    club.new()


def _intros(sent: list[Any]) -> dict[str, str]:
    return {s.to: s.text for s in sent if "This round you are matched with" in s.text}


def _partners(intros: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for member, text in intros.items():
        who = text.split("matched with ", 1)[1].split(".", 1)[0]
        out[member] = set(who.replace(" and ", ", ").split(", "))
    return out


async def _round(club: FakeCommunity, admin: str = "amal") -> list[Any]:
    await club.says(admin, "/match_round")
    club.expect("Preview:", to=admin, buttons=["Announce", "Reshuffle", "Discard"])
    return await club.presses(admin, "Announce")


async def test_an_odd_round_makes_one_trio_and_names_what_they_share() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, PEOPLE)
        await club.says("amal", "/match_round")
        preview = club.expect("Preview: 2 groups.", to="amal")
        assert "1 recent pair" not in preview.text
        assert club.sent_to("sara")[-1].text.startswith("Your interests")  # nobody told yet
        sent = await club.presses("amal", "Announce")
        intros = _intros(sent)
        assert set(intros) == set(PEOPLE)  # each of the five, privately
        partners = _partners(intros)
        sizes = sorted(len(p) + 1 for p in partners.values())
        assert sizes == [2, 2, 3, 3, 3]  # one pair and one trio
        for member, others in partners.items():
            mine = set(PEOPLE[member].split(", "))
            common = set().union(*(mine & set(PEOPLE[o].split(", ")) for o in others))
            if common:  # the introduction names an interest they really share
                assert any(c in intros[member] for c in common)
            assert all(s.is_dm for s in sent if s.to == member and s.text == intros[member])
        club.expect("Round 1 of matchmaking: 2 groups were introduced privately. "
                    "1 of them is a trio.")
        await club.presses("amal", "Announce")  # a second press announces nothing
        club.expect("This round was already decided.", to="amal")


async def test_the_next_round_never_repeats_a_recent_pair() -> None:
    four = {k: PEOPLE[k] for k in ("sara", "omar", "lina", "adam")}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, four)
        first = _partners(_intros(await _round(club)))
        club.new()
        await club.says("amal", "/match_round")
        club.expect("2 recent pairs were kept apart.", to="amal")
        second = _partners(_intros(await club.presses("amal", "Announce")))
        for member in four:
            assert not (first[member] & second[member]), (member, first, second)


async def test_reshuffle_redraws_the_same_draft_and_discard_tells_nobody() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, {k: PEOPLE[k] for k in ("sara", "omar", "lina", "adam")})
        await club.says("amal", "/match_round")
        club.expect("Preview: 2 groups.", to="amal")
        await club.presses("amal", "Reshuffle")
        club.expect("Preview: 2 groups.", to="amal", buttons=["Announce", "Reshuffle", "Discard"])
        plugin = club.app.plugins["matchmaking"]
        async with plugin.db.connect() as conn:
            assert len((await conn.execute(select(rounds))).all()) == 1  # the same draft
        await club.presses("amal", "Discard")
        club.expect("Discarded: nobody was told.", to="amal")
        sent = await club.presses("amal", "Announce")
        assert _intros(sent) == {}
        club.expect("This round was already decided.", to="amal")


async def test_announcing_a_round_retires_the_other_previews() -> None:
    """Two previews wait (two /match_round, or scheduled rounds nobody decided): once one is
    announced, the other was matched without its pairs and could repeat them."""
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, {"sara": "chess", "omar": "chess"})
        await club.says("amal", "/match_round")
        await club.says("amal", "/match_round")
        club.new()
        await club.presses("amal", "Announce")  # the later preview
        assert set(_intros(club.new())) == {"sara", "omar"}
        first = next(p for p in club.platform.posts if p.buttons)
        announce = next(b for b in first.buttons if b.label == "Announce")
        await club.app.dispatcher.dispatch(ButtonPressed(
            id="press-first", community=club.platform.community, member=club.member("amal"),
            channel=ChannelRef("console", "general"), message_id="1",
            payload=announce.payload))
        await club.app.settle()
        sent = club.new()
        assert _intros(sent) == {}  # sara and omar are not introduced twice
        assert [s.text for s in sent] == ["This round was already decided."]


async def test_do_not_pair_and_admin_blocks_hold() -> None:
    three = {"sara": "chess", "omar": "chess", "lina": "poetry", "adam": "poetry"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, three)
        await club.says("sara", "/match_avoid omar")
        club.expect("You will never be paired with omar. They are not told.", to="sara")
        await club.says("lina", "/match_block sara adam")
        club.expect("Sorry, /match_block is only for admins.", to="lina")  # checked at the call
        await club.says("amal", "/match_block sara adam")
        club.expect("sara and adam will never be paired.", to="amal")
        partners = _partners(_intros(await _round(club)))
        assert partners["sara"] == {"lina"} and partners["omar"] == {"adam"}


async def test_check_in_meet_rate_and_met_peer_points() -> None:
    two = {"sara": "chess", "omar": "chess"}
    async with FakeCommunity([Matchmaking, Contributions, Admin], admins=["amal"]) as club:
        await _join(club, two)
        await _round(club)
        club.new()
        assert await club.advance("3d") == []
        asked = await club.advance("1d")
        assert sorted((s.to, s.text) for s in asked) == [
            ("omar", "Did you meet sara this round?"), ("sara", "Did you meet omar this round?")]
        assert all(s.buttons == ("Yes, we met", "Not yet", "No") for s in asked)
        await club.presses("sara", "Yes, we met")
        club.expect("Wonderful, thanks for telling me!", to="sara")
        reminded = await club.advance("2d")
        assert [(s.to, s.text) for s in reminded] == [
            ("omar", "A reminder: Did you meet sara this round?")]  # sara answered
        await club.says("amal", "/match_stats")
        club.expect("Round 1: 0 of 1 group met (0%).", to="amal")
        await club.says("sara", "/rank")
        club.expect("sara: level 0, 0 XP")  # one "yes" is not a meeting yet
        await club.presses("omar", "Yes, we met")
        await club.says("amal", "/match_stats")
        club.expect("Round 1: 1 of 1 group met (100%).", to="amal")
        await club.says("sara", "/rank")
        club.expect("sara: level 0, 15 XP")  # met_peer is worth 15 XP by default
        await club.presses("omar", "Yes, we met")  # pressed again: no second reward
        await club.says("omar", "/rank")
        club.expect("omar: level 0, 15 XP")


async def test_pause_leave_and_bad_input_change_nothing() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, {"sara": "chess", "omar": "chess", "lina": "chess"})
        await club.says("sara", "/match_pause 2w")
        club.expect("Paused: you will not be matched until", to="sara")
        await club.says("omar", "/match_pause 60w")
        club.expect("A pause lasts from one hour up to 52 weeks", to="omar")
        await club.says("omar", "/interests <b>!!, chess")
        club.expect("“<b>!!” is not an interest I can use", to="omar")
        await club.says("omar", "/interests")
        club.expect("Your interests: chess.", to="omar")
        await club.says("lina", "/match_available 25-3 Mars/Base")
        club.expect("Write the window as two hours and a timezone", to="lina")
        await club.says("lina", "/match_available 18-22 Asia/Riyadh")
        club.expect("I will prefer partners free during 18-22 (Asia/Riyadh).", to="lina")
        partners = _partners(_intros(await _round(club)))
        assert set(partners) == {"omar", "lina"}  # sara is paused
        club.new()
        await club.says("lina", "/match_leave")
        club.expect("You left matchmaking.", to="lina")
        await club.says("amal", "/match_round")
        club.expect("No group can be made now", to="amal")
        await club.advance("15d")
        await club.says("amal", "/match_round")
        club.expect("Preview: 1 group.", to="amal")  # sara's pause is over


async def test_onboarding_interests_arrive_by_event() -> None:
    from bot import InterestsChosen, internal_id

    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await club.says("sara", "/match_join")
        club.expect("Tell me what you like with /interests", to="sara")
        await club.app.dispatcher.dispatch(InterestsChosen(
            id=internal_id("interests"), community=club.platform.community,
            member=club.member("sara"), interests=("gardening", "chess")))
        await club.app.settle()
        await club.says("sara", "/interests")
        club.expect("Your interests: gardening, chess.", to="sara")


async def test_onboarding_picks_are_named_by_their_labels_never_by_id() -> None:
    from plugins.onboarding import Onboarding

    async with FakeCommunity([Onboarding, Matchmaking, Admin], admins=["amal"]) as club:
        for line in ("/onboarding_setup interest_add Board games",
                     "/onboarding_setup interest_add Hiking"):
            await club.says("amal", line)
        for name in ("sara", "omar"):
            await club.says(name, "/match_join")
            await club.presses(name, "Board games")
            await club.presses(name, "Done")
            club.expect("Saved your interests: Board games.", to=name)
        await club.says("lina", "/match_join")
        await club.says("lina", "/interests board games, hiking")  # typed: matched too
        await club.says("sara", "/interests")
        club.expect("Your interests: Board games.", to="sara")
        await club.says("amal", "/match_round")
        preview = club.expect("Preview: 1 group.", to="amal")
        assert "shared: Board games" in preview.text
        intros = _intros(await club.presses("amal", "Announce"))
        assert set(intros) == {"sara", "omar", "lina"}  # a trio: all three share it
        for text in intros.values():
            assert "You share: Board games." in text
            assert "1" not in text.split("A conversation starter:")[0]  # no raw id


async def test_forget_leaves_no_pair_interest_or_history_and_the_rule_holds() -> None:
    four = {"sara": "chess", "omar": "chess", "lina": "chess", "adam": "chess"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, four)
        await club.says("sara", "/match_avoid adam")
        first = _partners(_intros(await _round(club)))
        plugin = club.app.plugins["matchmaking"]
        exported = await plugin.export(club.member("sara"))
        assert exported["profile"][0]["interests"] == "chess"
        assert [r["other"] for r in exported["do_not_pair"]] == ["adam"]
        assert len(exported["rounds"]) == 1
        await plugin.forget(club.member("sara"))
        async with plugin.db.connect() as conn:
            for table, column in ((members, members.c.member), (groups, groups.c.member),
                                  (avoid, avoid.c.member), (avoid, avoid.c.other)):
                rows = (await conn.execute(select(table).where(column == "sara"))).all()
                assert rows == []
        club.new()
        await club.says("amal", "/match_round")
        club.expect("1 recent pair was kept apart.", to="amal")  # the pair without sara
        second = _partners(_intros(await club.presses("amal", "Announce")))
        others = [m for m in four if m != "sara" and "sara" not in first[m]]
        assert len(others) == 2 and not (second.get(others[0], set()) & {others[1]})


async def test_scheduled_rounds_fire_once_each_across_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    three = {"sara": "chess", "omar": "chess", "lina": "poetry"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], database_url=url) as club:
        await _join(club, three)
        await club.says("amal", "/config matchmaking preview_scheduled off")
        await club.says("amal", "/match_schedule 1w mon 18")
        reply = club.expect("A round every week. Next:", to="amal")
        assert "press Announce" not in reply.text  # announced at once, as set
    # A new process on the same file, before the round is due (Monday 18:00 UTC).
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], database_url=url) as club:
        fired = await club.advance("9h")
        assert len(_intros(fired)) == 3
        assert [s.text for s in fired if s.to is None] == [
            "Round 1 of matchmaking: 1 group was introduced privately. 1 of them is a trio."]
        assert _intros(await club.advance("1h")) == {}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], database_url=url) as club:
        assert _intros(await club.advance("10h")) == {}  # that occurrence is done
        await _join(club, {"adam": "chess"})
        week = await club.advance("7d")
        # The trio may not meet again: only adam can be paired, with one of them.
        assert [s.text for s in week if s.to is None and "Round" in s.text] == [
            "Round 2 of matchmaking: 1 group was introduced privately. "
            "2 members could not be placed this time."]
        assert "adam" in _intros(week)


async def test_a_replayed_match_round_drafts_once_and_previews_once(tmp_path: Path) -> None:
    """Telegram redelivers an update the bot had no time to mark as handled (a crash within
    the second before the dispatcher stores handled ids): one draft, one preview."""
    from bot import ChannelRef, CommandInvoked
    from bot.core.storage import processed_events

    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"

    def command(club: FakeCommunity) -> CommandInvoked:
        return CommandInvoked(id="tg:update:7001", community=club.platform.community,
                              member=club.member("amal"), channel=ChannelRef("console", "general"),
                              name="match_round", text="")

    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], database_url=url) as club:
        await _join(club, {"sara": "chess", "omar": "chess"})
        await club.app.dispatcher.dispatch(command(club))
        await club.app.settle()
        club.expect("Preview: 1 group.", to="amal")
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], database_url=url) as club:
        async with club.app.db.begin() as conn:  # the crash: the id was never stored
            await conn.execute(processed_events.delete())
        await club.app.dispatcher.load_window(club.clock.now())
        await club.app.dispatcher.dispatch(command(club))
        await club.app.settle()
        assert not [s for s in club.new() if "Preview" in s.text]
        plugin = club.app.plugins["matchmaking"]
        async with plugin.db.connect() as conn:
            assert len((await conn.execute(select(rounds))).all()) == 1
        await club.says("amal", "/match_round")  # a new command is a new draft
        club.expect("Preview: 1 group.", to="amal")


async def test_a_scheduled_round_waits_for_an_admin_to_announce_it() -> None:
    three = {"sara": "chess", "omar": "chess", "lina": "poetry"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, three)
        await club.says("amal", "/match_schedule 1w mon 18")
        reply = club.expect("A round every week. Next: ", to="amal")
        assert reply.text.endswith(
            "Each round waits for an admin to press Announce on its preview.")
        fired = await club.advance("9h")  # Monday 18:00 UTC
        assert _intros(fired) == {}  # nobody is told yet
        assert [(s.to, s.text) for s in fired] == [(None, (
            "🗓 A scheduled round is ready. Nobody is told until an admin presses Announce.\n"
            "Preview: 1 group.\n• lina, omar and sara — shared: chess\n"
            "0 recent pairs were kept apart."))]
        assert fired[0].buttons == ("Announce", "Reshuffle", "Discard")
        await club.presses("sara", "Announce")
        club.expect("Only admins can decide on a round.", to="sara")
        club.new()
        # The occurrence's job run again (as after a crash): no second draft or preview.
        plugin = club.app.plugins["matchmaking"]
        await plugin.scheduled_round(plugin.context(club.platform.community),
                                     {"_occurrence": "2026-01-05T18:00:00+00:00"})
        await club.app.settle()
        assert club.new() == []
        async with plugin.db.connect() as conn:
            assert len((await conn.execute(select(rounds))).all()) == 1
        await club.says("amal", "/match_stats")
        club.expect("No round has been announced yet.", to="amal")
        await club.presses("amal", "Announce")
        sent = club.new()
        assert set(_intros(sent)) == {"sara", "omar", "lina"}
        assert [s.text for s in sent if s.to is None] == [
            "Round 1 of matchmaking: 1 group was introduced privately. 1 of them is a trio."]
        asked = await club.advance("4d")
        assert sorted(s.to for s in asked if "Did you meet" in s.text) == ["lina", "omar", "sara"]


async def test_arabic_texts_and_plural_forms() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], language="ar") as club:
        await club.set_language("adam", "en")  # adam's client reports English
        await _join(club, {"sara": "شطرنج", "omar": "شطرنج", "lina": "شعر", "adam": "شعر"})
        await club.says("amal", "/match_round")
        preview = club.expect("معاينة: مجموعتان.", to="amal")
        assert preview.text.endswith("لم يُستبعد أي ثنائي سابق.")
        sent = await club.presses("amal", "إعلان")
        texts = {s.to: s.text for s in sent if s.is_dm}
        assert texts["sara"].startswith(
            "🤝 معك في هذه الجولة: omar. اهتماماتك المشتركة: شطرنج.")
        assert texts["adam"].startswith(  # adam reads English, in his own language
            "🤝 This round you are matched with lina. You share: شعر.")
        assert [s.text for s in sent if s.to is None] == [
            "الجولة 1 من التعارف: عُرّفت مجموعتان على انفراد."]
        club.new()
        await club.says("amal", "/match_round")
        club.expect("استُبعد ثنائيان التقيا مؤخرًا.", to="amal")


def test_arabic_plural_forms_of_a_count_are_all_written() -> None:
    from bot.core.i18n import Catalogs, Translator

    tr = Translator(Catalogs(), "matchmaking", "ar")
    forms = [str(tr.tn("Preview: {n} group.", "Preview: {n} groups.", n)) for n in
             (0, 1, 2, 3, 11, 100)]
    assert forms == ["معاينة: لا مجموعات.", "معاينة: مجموعة واحدة.", "معاينة: مجموعتان.",
                     "معاينة: 3 مجموعات.", "معاينة: 11 مجموعة.", "معاينة: 100 مجموعة."]


def test_arabic_starters_read_right_whatever_the_label() -> None:
    """No clitic is glued to the label: "بـالألعاب اللوحية" and "لـ..." read wrong."""
    from bot.core.i18n import Catalogs, Translator
    from plugins.matchmaking.render import STARTERS_SHARED, starter

    tr = Translator(Catalogs(), "matchmaking", "ar")
    for label in ("الألعاب اللوحية", "شطرنج", "Board games"):
        texts = {str(starter(tr, (label,), pick)) for pick in range(len(STARTERS_SHARED))}
        assert len(texts) == len(STARTERS_SHARED)  # each template is translated
        for text in texts:
            assert f"«{label}»" in text, text  # the label stands whole, quoted
            assert not re.search(r"[\u0621-\u064a\u0640]«", text), text


async def test_an_arabic_introduction_quotes_a_label_of_several_words() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], language="ar") as club:
        await _join(club, {"sara": "الألعاب اللوحية، شعر", "omar": "الألعاب اللوحية"})
        await club.says("sara", "/interests")
        club.expect("اهتماماتك: الألعاب اللوحية، شعر.", to="sara")  # the Arabic comma
        await club.says("amal", "/match_round")
        sent = await club.presses("amal", "إعلان")
        intro = next(s.text for s in sent if s.to == "sara" and s.is_dm)
        assert intro.startswith("🤝 معك في هذه الجولة: omar. "
                                "اهتماماتك المشتركة: الألعاب اللوحية. لبدء الحديث: ")
        assert "«الألعاب اللوحية»" in intro.split("لبدء الحديث: ", 1)[1]
        assert "ـال" not in intro


async def test_admins_see_who_was_never_matched_and_who_never_meets() -> None:
    four = {"sara": "chess", "omar": "chess", "adam": "chess", "maya": "chess"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, {**four, "lina": "chess"})
        for name in four:
            await club.says(name, "/match_avoid lina")  # nobody may meet lina
        for _ in range(2):
            await _round(club)
            await club.advance("4d")
            await club.presses("sara", "No")
            club.new()
        await club.says("amal", "/match_stats")
        stats = club.expect("Round 1: 0 of 2 groups met (0%).", to="amal")
        assert "Round 2: 0 of 2 groups met (0%)." in stats.text
        assert "Never matched yet: lina" in stats.text
        assert "Did not meet in any round so far: adam, maya, omar, sara" in stats.text


async def test_without_private_messages_one_post_pings_only_the_group() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, {"sara": "chess", "omar": "chess"})
        club.platform.capabilities = club.platform.capabilities - {Capability.DIRECT_MESSAGES}
        sent = await _round(club)
        posts = [s for s in sent if "you are matched this round" in s.text]
        assert len(posts) == 1 and posts[0].text.startswith(
            "🤝 @omar and @sara: you are matched this round. You share: chess. "
            "A conversation starter: ")
        assert not posts[0].is_dm


async def test_weekly_windows_pair_members_free_on_the_same_days() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await club.set_language("lina", "ar")
        await _join(club, {name: "chess" for name in ("sara", "omar", "lina", "hadi")})
        await club.says("sara", "/match_available fri,sat 18-22 Asia/Riyadh")
        club.expect("I will prefer partners free on Friday and Saturday, during 18-22 "
                    "(Asia/Riyadh).", to="sara")
        await club.says("omar", "/match_available thu-sat 19-23 Asia/Riyadh")
        club.expect("on Thursday, Friday, and Saturday, during 19-23", to="omar")
        await club.says("lina", "/match_available الاثنين-الأربعاء 18-22 Asia/Riyadh")
        club.expect("سأفضّل لك من يتوفّر أيام الاثنين والثلاثاء والأربعاء، من 18-22 "
                    "(Asia/Riyadh).", to="lina")
        await club.says("hadi", "/match_available tue 17-21 Asia/Riyadh")
        await club.says("hadi", "/match_available someday 17-21")
        club.expect("days may come first, like sat-wed 18-22", to="hadi")
        pairs = {frozenset({m, *others}) for m, others in
                 _partners(_intros(await _round(club))).items()}
        # hadi's refused window changed nothing: Tuesday 17-21 still overlaps lina's days
        assert pairs == {frozenset({"sara", "omar"}), frozenset({"lina", "hadi"})}


async def test_rounds_every_two_weeks_at_the_communitys_hour_until_switched_off() -> None:
    four = {"sara": "chess", "omar": "chess", "lina": "chess", "adam": "chess"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, four)
        await club.says("amal", "/timezone Asia/Riyadh")
        await club.says("amal", "/config matchmaking preview_scheduled off")
        await club.says("amal", "/match_schedule 2w thu 20")
        club.expect("A round every 2 weeks. Next: Thu, January 8, 2026, 20:00 (Riyadh).",
                    to="amal")

        def summaries(sent: list[Any]) -> list[str]:
            return [s.text for s in sent if s.to is None and "of matchmaking" in s.text]

        assert summaries(await club.advance("3d7h59m")) == []  # Thursday 19:59 in Riyadh
        assert summaries(await club.advance("1m")) == [
            "Round 1 of matchmaking: 2 groups were introduced privately."]
        assert summaries(await club.advance("7d")) == []  # not every week
        assert summaries(await club.advance("6d23h59m")) == []
        assert summaries(await club.advance("1m")) == [
            "Round 2 of matchmaking: 2 groups were introduced privately."]
        await club.says("amal", "/match_schedule off")
        club.expect("Scheduled rounds are off. /match_round still works.", to="amal")
        assert summaries(await club.advance("28d")) == []


async def test_small_groups_of_three_or_four_when_the_setting_says_so() -> None:
    names = ("sara", "omar", "lina", "adam", "maya", "hadi", "nour", "ziad", "rami", "dana")
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, {name: "chess" for name in names})
        await club.says("amal", "/config matchmaking groups small_groups")
        club.expect("matchmaking.groups is now small_groups", to="amal")
        partners = _partners(_intros(await _round(club)))
        assert set(partners) == set(names)  # everyone placed
        assert all(len(others) + 1 in (3, 4) for others in partners.values()), partners
        for member, others in partners.items():  # each knows the same group
            assert all(partners[o] == others - {o} | {member} for o in others)


async def test_bridge_mode_puts_newcomers_with_established_members() -> None:
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        established = {"sara": "chess", "omar": "chess", "lina": "chess", "adam": "chess"}
        await _join(club, established)
        for _ in range(2):  # newcomer_rounds is 2: these four are established after two
            await _round(club)
        await _join(club, {"maya": "poetry", "hadi": "poetry"})
        await club.says("amal", "/match_round")
        club.expect("• hadi and maya — shared: poetry", to="amal")  # interests: like with like
        await club.says("amal", "/config matchmaking mode bridge")
        await club.presses("amal", "Reshuffle")
        intros = _intros(await club.presses("amal", "Announce"))
        partners = _partners(intros)
        for newcomer in ("maya", "hadi"):
            (partner,) = partners[newcomer]
            assert partner in established, partners
            # nothing shared to name: the starter is an open question
            assert intros[newcomer] == (f"🤝 This round you are matched with {partner}. "
                                        "A conversation starter: "
                                        + intros[newcomer].split("starter: ", 1)[1])
            assert "chess" not in intros[newcomer] and "poetry" not in intros[newcomer]


async def test_the_repeat_window_is_the_number_of_rounds_set() -> None:
    """chess and poetry pair best; with a window of one round they may meet again after a
    round apart, never in the next one."""
    four = {"sara": "chess", "omar": "chess", "lina": "poetry", "adam": "poetry"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, four)
        await club.says("amal", "/config matchmaking repeat_window 1")
        rounds_ = [_partners(_intros(await _round(club))) for _ in range(3)]
        assert rounds_[0]["sara"] == {"omar"} and rounds_[0]["lina"] == {"adam"}
        assert not (rounds_[1]["sara"] & rounds_[0]["sara"])  # the next round: kept apart
        assert rounds_[2] == rounds_[0]  # a round later: allowed again, and the best



async def test_a_member_a_private_message_misses_reads_in_the_channel_what_it_said() -> None:
    """Only they are pinged, in their language; opening the private chat later brings the
    next messages (the check-in), not this one, so the post names the group and its
    interests and promises no more than that."""
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], language="ar") as club:
        await club.set_language("omar", "en")
        await _join(club, {"sara": "شطرنج", "omar": "شطرنج", "lina": "شطرنج"})
        club.closes_dms("sara", "omar")
        await club.says("amal", "/match_round")
        sent = await club.presses("amal", "إعلان")
        assert [s.to for s in sent if s.is_dm and s.text.startswith("🤝")] == ["lina"]
        posts = sorted(s.text for s in sent if not s.is_dm and "@" in s.text)
        assert posts == [
            "@omar, you are matched with lina and sara this round, and you share: شطرنج. I "
            "could not write to you privately: open a private chat with me so that my next "
            "messages reach you there.",
            "@sara، معك في هذه الجولة: lina وomar، واهتماماتك المشتركة: شطرنج. تعذّر عليّ "
            "مراسلتك على انفراد: افتح محادثة خاصة معي لتصلك رسائلي القادمة هناك."]


async def test_forgetting_a_member_erases_what_others_were_told_about_them() -> None:
    # a distinctive id and name: a substring match is never a coincidence
    gone = "zaynab7q"
    four = {gone: "chess", "omar": "chess", "lina": "chess", "adam": "chess"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, four)
        await club.says("omar", f"/match_avoid {gone}")
        await club.says("amal", f"/match_block {gone} lina")
        intros = _intros(await _round(club))  # the preview and the partner's intro name her
        assert any(gone in text for member, text in intros.items() if member != gone)
        await club.advance("4d")  # the check-in names the partner too
        assert any(gone in s.text for s in club.sent if s.to not in (gone, None))

        async def naming() -> list[str]:
            async with club.app.db.connect() as conn:
                rows = (await conn.execute(select(outbox))).all()
            return [str(row.action)[:120] for row in rows if gone in str(row.action)]

        assert len(await naming()) >= 4
        await club.says(gone, "/forget_me")
        await club.presses(gone, 1)
        await club.app.settle()
        assert await naming() == []


async def test_rounds_every_four_weeks_skip_three_weeks_between() -> None:
    four = {"sara": "chess", "omar": "chess", "lina": "chess", "adam": "chess"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"]) as club:
        await _join(club, four)
        await club.says("amal", "/config matchmaking preview_scheduled off")
        await club.says("amal", "/match_schedule 4w mon 18")
        club.expect("A round every 4 weeks. Next:", to="amal")

        def rounds_in(sent: list[Any]) -> list[str]:
            return [s.text.split(":")[0] for s in sent
                    if s.to is None and "of matchmaking" in s.text]

        # the clock starts on Monday 5 January 2026, 09:00 UTC: the first round is tonight
        assert rounds_in(await club.advance("7d")) == ["Round 1 of matchmaking"]
        assert rounds_in(await club.advance("21d8h")) == []  # three Mondays pass quietly
        assert rounds_in(await club.advance("2h")) == ["Round 2 of matchmaking"]  # 2 February


async def test_after_an_outage_the_check_in_comes_first_and_the_reminder_later(
    tmp_path: Path,
) -> None:
    from datetime import timedelta

    from bot.testing import START

    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    two = {"sara": "chess", "omar": "chess"}
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], database_url=url) as club:
        await _join(club, two)
        assert len(_intros(await _round(club))) == 2
    # the bot was down for ten days: past the check-in (day 4) and its reminder (day 6)
    async with FakeCommunity([Matchmaking, Admin], admins=["amal"], database_url=url,
                             start=START + timedelta(days=10)) as club:
        await club.app.settle()  # the overdue check-in fires as the bot starts
        asked = [s.to for s in club.sent if s.text.startswith("Did you meet")]
        assert sorted(asked) == ["omar", "sara"]
        assert not [s for s in club.sent if "A reminder" in s.text]  # not both at once
        assert [s for s in await club.advance("1d23h") if "A reminder" in s.text] == []
        reminded = [s.to for s in await club.advance("1h1m") if "A reminder" in s.text]
        assert sorted(reminded) == ["omar", "sara"]
