"""The admin plugin, played as conversations in a fake community."""

from __future__ import annotations

import json

from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.example import Example


async def test_an_admin_lists_disables_and_enables_plugins() -> None:
    async with FakeCommunity([Example, Admin], admins=["amal"]) as club:
        await club.says("amal", "/plugins")
        club.expect("example — on", to="amal")
        await club.says("amal", "/plugin_disable example")
        club.expect("example is now off.")
        await club.says("sara", "/remind 2h call")
        club.expect("There is no command /remind here")
        await club.says("amal", "/plugins")
        club.expect("example — off")
        await club.says("amal", "/plugin_enable example")
        club.expect("example is now on.")
        await club.says("sara", "/remind 2h call")
        club.expect("I will remind you")
        await club.says("amal", "/plugin_disable admin")
        club.expect("admin cannot be turned off")
        await club.says("amal", "/plugin_enable nothing")
        club.expect("There is no plugin “nothing”. Choose one of: admin or example.")


async def test_an_unknown_plugin_is_answered_with_the_choices_joined_in_arabic() -> None:
    async with FakeCommunity([Example, Admin], admins=["amal"], language="ar") as club:
        await club.says("amal", "/plugin_enable nothing")
        club.expect("لا توجد إضافة باسم «nothing». اختر إحدى هذه الإضافات: admin أو example.")


async def test_members_are_refused_every_admin_command() -> None:
    async with FakeCommunity([Example, Admin]) as club:
        await club.joins("sara")
        for line in ("/plugins", "/plugin_disable example", "/config example",
                     "/language ar", "/setup", "/timezone UTC"):
            sent = await club.says("sara", line)
            assert [s.to for s in sent] == ["sara"], line
            assert "is only for admins" in sent[0].text, line
        assert club.app.is_enabled(club.platform.community, club.app.plugins["example"])


async def test_config_shows_sets_refuses_and_resets() -> None:
    async with FakeCommunity([Example, Admin]) as club:
        await club.says("owner", "/config example")
        club.expect("max_reminder_days = 30 (default 30) — The longest reminder")
        await club.says("owner", "/config example max_reminder_days 7")
        club.expect("example.max_reminder_days is now 7")
        await club.says("owner", "/config example max_reminder_days 400")
        club.expect("“400” is not allowed for max_reminder_days: it must be at most 365")
        await club.says("owner", "/config example max_reminder_days 0")
        club.expect("it must be at least 1")
        await club.says("owner", "/config example max_reminder_days soon")
        club.expect("it must be a whole number")
        await club.says("owner", "/config example greet perhaps")
        club.expect("it must be yes or no")
        await club.says("owner", "/config example colour red")
        club.expect("example has no setting “colour”. Its settings are: "
                    "greet, max_reminder_days, milestone.")
        await club.says("owner", "/config example max_reminder_days")
        club.expect("max_reminder_days = 7 (default 30)")
        await club.says("sara", "/remind 10d far away")
        club.expect("Reminders can be at most 7 days away.")
        await club.says("owner", "/config example max_reminder_days reset")
        club.expect("back to its default: 30")
        await club.says("sara", "/remind 10d far away")
        club.expect("I will remind you")


async def test_config_errors_are_in_arabic_for_an_arabic_community() -> None:
    async with FakeCommunity([Example, Admin], language="ar") as club:
        await club.says("owner", "/config example max_reminder_days 400")
        club.expect("365")
        assert "must be" not in club.sent[-1].text


async def test_language_switches_the_replies_and_members_choose_their_own() -> None:
    async with FakeCommunity([Example, Admin]) as club:
        await club.says("owner", "/language xx")
        club.expect("“xx” is not a language I speak. Choose one of: ar or en.")
        await club.says("owner", "/language ar")
        club.expect("من الآن أتحدث العربية هنا.")
        await club.says("sara", "/remind soon x")
        club.expect("ليست مدة")
        await club.says("sara", "/my_language en")
        club.expect("I will speak English with you.", to="sara")
        await club.says("sara", "/remind soon x")
        club.expect("is not a duration")


async def test_setup_walks_through_the_choices_with_buttons_and_can_be_rerun() -> None:
    async with FakeCommunity([Example, Admin], admins=["amal"]) as club:
        await club.joins("sara")
        await club.says("amal", "/setup")
        # every step is private: only the admin sees it (and its buttons)
        club.expect("Setup 1/4", buttons=["Arabic", "English", "Skip"], to="amal")
        await club.presses("amal", "Arabic")
        club.expect("2/4")
        await club.presses("amal", 1)
        club.expect("3/4")
        await club.presses("amal", 1)
        # the zones are named by their city in the community's language, not by IANA id
        step = club.expect("4/4")
        assert "الرياض" in list(step.buttons)
        assert not any("/" in label for label in step.buttons)
        await club.presses("amal", "الرياض")
        info = club.app.community_info(club.platform.community)
        assert info["language"] == "ar"
        assert info["welcome_channel"] == "general"
        assert info["admin_channel"] == "general"
        assert info["timezone"] == "Asia/Riyadh"
        await club.says("amal", "/setup")
        club.expect("1/4")
        await club.says("amal", "/timezone Mars/Olympus")
        club.expect("Mars/Olympus")
        assert club.app.community_info(club.platform.community)["timezone"] == "Asia/Riyadh"


async def test_my_data_arrives_as_a_json_file_by_dm() -> None:
    async with FakeCommunity([Example, Admin]) as club:
        await club.joins("sara")
        await club.presses("sara", "Wave back")
        await club.says("sara", "/my_data")
        sent = club.expect("Here is everything I store about you", to="sara",
                           attachments=["my_data.json"])
        assert sent.is_dm
        data = json.loads(sent.data[0])
        assert data["example"]["waves"] == [{"community": "console:local", "count": 1}]
        assert data["core"]["memberships"][0]["member"] == "sara"
        assert "How many times you waved" in sent.text


async def test_forget_me_asks_first_and_only_the_member_can_confirm() -> None:
    async with FakeCommunity([Example, Admin]) as club:
        await club.joins("sara")
        await club.presses("sara", "Wave back")
        await club.says("sara", "/forget_me")
        club.expect("Are you sure?", to="sara", buttons=["Yes, erase my data", "Cancel"])
        await club.presses("sara", "Cancel")
        club.expect("Nothing was erased.")
        assert (await club.app.export_member(club.member("sara")))["example"]["waves"]
        await club.says("sara", "/forget_me")
        await club.presses("sara", "Yes, erase my data")
        club.expect("This is the last message I keep about you.")
        assert not (await club.app.export_member(club.member("sara")))["example"]["waves"]


async def test_repeated_switches_say_nothing_changed() -> None:
    async with FakeCommunity([Example, Admin], admins=["amal"]) as club:
        await club.says("amal", "/plugin_enable example")
        club.expect("example is already on.", to="amal")
        await club.says("amal", "/plugin_disable example")
        club.expect("example is now off.")
        await club.says("amal", "/plugin_disable example")
        club.expect("example is already off.", to="amal")
        await club.says("amal", "/resume")
        club.expect("Nothing is paused.", to="amal")
        await club.says("amal", "/pause")
        club.expect("Paused.")
        await club.says("amal", "/pause")
        club.expect("Already paused.", to="amal")
        await club.says("amal", "/resume")
        club.expect("Resumed.")


async def test_a_setting_language_timezone_or_role_set_again_says_nothing_changed() -> None:
    async with FakeCommunity([Example, Admin], admins=["amal"]) as club:
        await club.says("amal", "/config example max_reminder_days 7")
        club.expect("example.max_reminder_days is now 7")
        await club.says("amal", "/config example max_reminder_days 7")
        club.expect("example.max_reminder_days is already 7", to="amal")
        await club.says("amal", "/config example max_reminder_days reset")
        club.expect("example.max_reminder_days is back to its default: 30")
        await club.says("amal", "/config example max_reminder_days reset")
        club.expect("example.max_reminder_days is already its default: 30", to="amal")
        await club.says("amal", "/language en")
        club.expect("I already speak English here.", to="amal")
        await club.says("amal", "/timezone Asia/Riyadh")
        club.expect("The timezone is now Riyadh.")
        await club.says("amal", "/timezone asia/riyadh")
        club.expect("The timezone is already Riyadh.", to="amal")
        await club.says("amal", "/mod_role mods")
        club.expect("Moderators are now those with the role mods.")
        await club.says("amal", "/mod_role mods")
        club.expect("Moderators already are those with the role mods.", to="amal")
    async with FakeCommunity([Example, Admin], admins=["amal"], language="ar") as club:
        await club.says("amal", "/language ar")
        club.expect("أتحدث العربية هنا بالفعل.", to="amal")
        await club.says("amal", "/language en")
        club.expect("From now on I speak English here.")


async def test_arabic_plugins_list_names_capabilities_in_arabic() -> None:
    async with FakeCommunity([Example, Admin], admins=["amal"], language="ar") as club:
        await club.says("amal", "/plugin_disable example")
        await club.says("amal", "/plugin_disable example")
        club.expect("الإضافة example معطّلة من قبل.", to="amal")
        await club.says("amal", "/resume")
        club.expect("لا شيء موقوف الآن.", to="amal")
        await club.says("sara", "/plugins")
        club.expect("عذرًا، الأمر /plugins مخصص للمسؤولين فقط.", to="sara")


async def test_help_names_arguments_in_the_readers_words() -> None:
    async with FakeCommunity([Example, Admin], admins=["amal"], language="ar") as club:
        await club.says("amal", "/help")
        text = club.expect("/plugin_enable", to="amal").text
        assert "/plugin_enable <اسم الإضافة>" in text
        assert "/config <اسم الإضافة> [الإعداد] [القيمة الجديدة]" in text
    async with FakeCommunity([Example, Admin], admins=["amal"]) as club:
        await club.says("amal", "/help")
        assert "/plugin_enable <name>" in club.expect("/plugin_enable", to="amal").text


async def test_config_shows_lengths_of_time_in_words_and_as_they_are_typed() -> None:
    from plugins.events import Events
    from plugins.matchmaking import Matchmaking

    async with FakeCommunity([Matchmaking, Events, Admin]) as club:
        await club.says("owner", "/config matchmaking checkin_after")
        club.expect("checkin_after = 4 days (4d) (default 4 days (4d))")
        await club.says("owner", "/config matchmaking checkin_after 36h")
        club.expect("matchmaking.checkin_after is now 1 day and 12 hours (1d12h)")
        await club.says("owner", "/config matchmaking checkin_after soon")
        club.expect("“soon” is not allowed for checkin_after: it is not a valid value. "
                    "Write it like this: 36h")
        await club.says("owner", "/config events reminders")
        club.expect("reminders = 1d, 1h (default 1d, 1h)")
        await club.says("owner", "/config events reminders 2d,90m")
        club.expect("events.reminders is now 2d, 1h30m")


async def test_config_shows_a_length_of_time_in_arabic_words() -> None:
    from plugins.matchmaking import Matchmaking

    async with FakeCommunity([Matchmaking, Admin], language="ar") as club:
        await club.says("owner", "/config matchmaking checkin_after 36h")
        club.expect("يوم و12 ساعة (1d12h)")


async def test_config_lists_keys_the_languages_way_and_an_empty_text_as_a_dash() -> None:
    from plugins.onboarding import Onboarding

    async with FakeCommunity([Onboarding, Admin], admins=["amal"], language="ar") as club:
        await club.says("amal", "/config onboarding nothing")
        text = club.expect("ليس في onboarding إعداد باسم «nothing»", to="amal").text
        assert "greet، greet_in، greeting_channel، template" in text and ", " not in text
        await club.says("amal", "/config onboarding template")
        assert "• template = — (الافتراضي —) — " in club.expect("template", to="amal").text
