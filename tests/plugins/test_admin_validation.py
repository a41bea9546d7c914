"""Bad input to the admin plugin: checked before anything is stored, explained, kept short."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from bot import ChannelRef, CommunityRef, Context, MessagePosted, Plugin, on
from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.contributions import Contributions

RoleKey = Annotated[str, Field(pattern=r"^(level:\d+|badge:[a-z_]+)$")]


class TallySettings(BaseModel):
    """Structured settings of the kinds contributions needs (issue 11.3)."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, Annotated[int, Field(ge=0, le=10_000)]] = Field(
        default_factory=lambda: {"poll_voted": 5}, description="XP per contribution"
    )
    role_rewards: dict[RoleKey, str] = Field(
        default_factory=dict, examples=["level:5=ROLE, badge:helper=ROLE"],
        description="Roles to grant",
    )
    phrases: list[str] = Field(default_factory=lambda: ["thanks"], max_length=3)


class Tally(Plugin):
    """A plugin whose settings are a dict, a mapping with checked keys and a list."""

    name = "tally"
    settings = TallySettings


class Flaky(Plugin):
    """A plugin whose message handler fails every time."""

    name = "flaky"

    @on(MessagePosted)
    async def boom(self, event: MessagePosted, ctx: Context) -> None:
        raise RuntimeError("broken on purpose")


class Shelf(BaseModel):
    """A record: a setting made of these has no ``a=1`` form."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=20)
    size: int = Field(default=1, ge=1)


class LibrarySettings(BaseModel):
    """A list of records, and a plain value whose change the plugin fails to react to."""

    model_config = ConfigDict(extra="forbid")

    shelves: list[Shelf] = Field(default_factory=list,
                                 examples=["""'[{"name": "A", "size": 2}]'"""])
    limit: int = 3


class Library(Plugin):
    """Says in the community which of its settings changed (and breaks on ``limit``)."""

    name = "library"
    settings = LibrarySettings

    async def settings_changed(self, community: CommunityRef, keys: frozenset[str],
                               channel: ChannelRef | None) -> None:
        if "limit" in keys:
            raise RuntimeError("broken on purpose")
        config = await self.config(community)
        assert isinstance(config, LibrarySettings)
        await self.context(community).send(
            f"changed {', '.join(sorted(keys))}: {len(config.shelves)} shelves")


async def test_records_are_typed_as_json_and_the_plugin_is_told_what_changed() -> None:
    async with FakeCommunity([Library, Admin]) as club:
        await club.says("owner", '/config library shelves \'[{"name": "AA", "size": 2}, '
                                 '{"name": "BB"}]\'')
        club.expect("changed shelves: 2 shelves")
        club.expect('library.shelves is now [{"name": "AA", "size": 2}, {"name": "BB", ')
        await club.says("owner", "/config library shelves")
        club.expect('• shelves = [{"name": "AA", "size": 2}, {"name": "BB", "size": 1}]')
        await club.says("owner", '/config library shelves \'[{"name": "C"}]\'')
        club.expect('is not allowed for shelves: name: it must be at least 2 characters long. '
                    'Write it like this: \'[{"name": "A", "size": 2}]\'', to="owner")
        club.expect_nothing()  # refused: nothing changed, so the plugin was not told
        await club.says("owner", "/config library shelves reset")
        club.expect("changed shelves: 0 shelves")
        club.expect("library.shelves is back to its default")
        await club.says("owner", "/config library limit 5")  # the hook fails: the value stays
        club.expect("library.limit is now 5")
        assert club.app.dispatcher.error_count("library") == 1


async def stored(club: FakeCommunity, key: str) -> Any:
    model = await club.app.settings_of(club.app.plugins["tally"], club.platform.community)
    return getattr(model, key)


async def test_structured_values_are_parsed_by_their_type_and_shown_as_typed() -> None:
    async with FakeCommunity([Tally, Admin]) as club:
        await club.says("owner", "/config tally weights poll_voted=8,event_attended=٢٠")
        club.expect("tally.weights is now poll_voted=8, event_attended=20")
        assert await stored(club, "weights") == {"poll_voted": 8, "event_attended": 20}
        await club.says("owner", '/config tally role_rewards "level:5=r1, badge:helper=r2"')
        club.expect("tally.role_rewards is now level:5=r1, badge:helper=r2")
        await club.says("owner", "/config tally phrases merci،danke")
        club.expect("tally.phrases is now merci, danke")
        assert await stored(club, "phrases") == ["merci", "danke"]
        await club.says("owner", "/config tally")
        club.expect("• weights = poll_voted=8, event_attended=20 (default poll_voted=5)")


@pytest.mark.parametrize(
    ("value", "key", "explained"),
    [
        ("poll_voted=abc", "weights",
         "“poll_voted=abc” is not allowed for weights: poll_voted: it must be a whole number. "
         "Write it like this: name=5, other=5"),
        ("poll_voted", "weights",
         "“poll_voted” is not allowed for weights: “poll_voted” is not a pair like name=value."),
        ("level:x=role", "role_rewards",
         "“level:x=role” is not allowed for role_rewards: level:x: it is not in the expected "
         "form. Write it like this: level:5=ROLE, badge:helper=ROLE"),
        ("a,b,c,d", "phrases",
         "“a,b,c,d” is not allowed for phrases: it can have at most 3 items. "
         "Write it like this: one, two"),
    ],
)
async def test_a_bad_structured_value_is_refused_with_the_form_and_nothing_changes(
    value: str, key: str, explained: str
) -> None:
    async with FakeCommunity([Tally, Admin]) as club:
        before = await stored(club, key)
        await club.says("owner", f"/config tally {key} {value}")
        club.expect(explained.rstrip("."), to="owner")
        assert await stored(club, key) == before
        assert await club.app.db.settings_for(club.platform.community.key, "tally", "") == {}


async def test_thanks_phrases_take_a_comma_list() -> None:
    async with FakeCommunity([Contributions, Admin]) as club:
        await club.says("owner", "/config contributions thanks_phrases merci,danke")
        club.expect("contributions.thanks_phrases is now merci, danke")


async def test_a_huge_value_is_quoted_back_short() -> None:
    async with FakeCommunity([Tally, Admin]) as club:
        await club.says("owner", "/config tally weights " + "x" * 10_000)
        reply = club.expect("is not allowed for weights", to="owner")
        assert len(reply.text) < 300
        await club.says("owner", "/config " + "p" * 10_000)
        reply = club.expect("There is no plugin", to="owner")
        assert len(reply.text) < 300


async def test_config_errors_and_examples_are_in_arabic() -> None:
    async with FakeCommunity([Tally, Admin], language="ar") as club:
        await club.says("owner", "/config tally weights poll_voted=abc")
        reply = club.expect("poll_voted", to="owner")
        assert "يجب أن تكون عددًا صحيحًا" in reply.text
        assert "اسم=5، آخر=5" in reply.text or "اسم=5, آخر=5" in reply.text
        assert "must" not in reply.text


@pytest.mark.parametrize(
    "zone", ["Asia", "America/Argentina", "Etc", "../../etc/passwd", "z" * 300, "Mars/Olympus"]
)
async def test_a_timezone_that_is_not_one_is_refused_with_examples(zone: str) -> None:
    async with FakeCommunity([Admin]) as club:
        await club.says("owner", f"/timezone {zone}")
        reply = club.expect("is not a timezone", to="owner")
        assert "Asia/Riyadh" in reply.text and "Europe/Berlin" in reply.text
        assert len(reply.text) < 300
        assert club.app.community_info(club.platform.community).get("timezone") in (None, "UTC")


async def test_a_region_suggests_its_cities_and_case_is_forgiven() -> None:
    async with FakeCommunity([Admin], language="ar") as club:
        await club.says("owner", "/timezone Asia")
        reply = club.expect("ليست منطقة زمنية", to="owner")
        assert "لعلك تقصد: Asia/Riyadh" in reply.text
        await club.says("owner", "/timezone europe/berlin")
        assert club.app.community_info(club.platform.community)["timezone"] == "Europe/Berlin"


async def test_plugins_shows_each_plugins_errors_since_start() -> None:
    async with FakeCommunity([Flaky, Admin]) as club:
        await club.says("owner", "/plugins")
        listing = club.expect("flaky — on", to="owner")
        assert "error" not in listing.text
        await club.says("sara", "hello there")
        await club.says("sara", "hello again")
        await club.says("owner", "/plugins")
        listing = club.expect("flaky — on", to="owner")
        assert "flaky — on\n  ⚠ 2 errors since the bot started (see the log)" in listing.text
        assert "admin — on —" in listing.text.split("flaky")[0]


async def test_plugins_error_counts_use_arabic_plurals() -> None:
    async with FakeCommunity([Flaky, Admin], language="ar") as club:
        await club.says("sara", "hello there")
        await club.says("owner", "/plugins")
        assert "خطأ واحد منذ تشغيل البوت" in club.expect("flaky", to="owner").text
        await club.says("sara", "hello again")
        await club.says("owner", "/plugins")
        assert "خطآن منذ تشغيل البوت" in club.expect("flaky", to="owner").text


async def test_arabic_digits_and_yes_no_are_accepted_for_plain_settings() -> None:
    from plugins.example import Example

    async with FakeCommunity([Example, Admin], language="ar") as club:
        await club.says("owner", "/config example max_reminder_days ٧")
        await club.says("owner", "/config example greet لا")
        model = await club.app.settings_of(club.app.plugins["example"], club.platform.community)
        assert (model.max_reminder_days, model.greet) == (7, False)  # type: ignore[attr-defined]
