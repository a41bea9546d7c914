from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands import (
    ArgumentError,
    Duration,
    Kind,
    Param,
    build_spec,
    parse_arguments,
    tokenize,
)
from bot.core.privilege import Privilege
from bot.core.refs import MemberRef

SARA = MemberRef("console", "sara", "sara")


async def resolve(kind: Kind, token: str) -> Any:
    return SARA if kind is Kind.MEMBER and token.lstrip("@") == "sara" else None


async def handler(
    self: object,
    ctx: object,
    count: Annotated[int, Param(min=1, max=10)],
    who: MemberRef,
    mode: Literal["single", "multi"] = "single",
    after: Duration | None = None,
    note: str = "",
) -> None: ...


SPEC = build_spec(handler, name="demo", help="", privilege=Privilege.MEMBER, private=False)


async def test_typed_arguments_with_quotes_key_value_and_greedy_rest() -> None:
    text = '3 @sara mode=multi after=٢h "first part" and more'
    args = await parse_arguments(SPEC, text, resolve)
    assert args == {
        "count": 3,
        "who": SARA,
        "mode": "multi",
        "after": timedelta(hours=2),
        "note": "first part and more",
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x @sara", "is not a whole number"),
        ("11 @sara", "at most"),
        ("2 @nobody", "No member matches"),
        ("2 @sara triple", "is not one of the choices"),
        ("2", "Missing argument"),
    ],
)
async def test_errors_name_the_argument_and_what_is_allowed(text: str, fragment: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        await parse_arguments(SPEC, text, resolve)
    assert fragment in caught.value.message


def test_durations_parse_in_any_digits() -> None:
    assert Duration.parse("1h30m") == timedelta(minutes=90)
    assert Duration.parse("٣d") == timedelta(days=3)
    for bad in ("", "soon", "0m", "5x"):
        with pytest.raises(ValueError):
            Duration.parse(bad)


def test_command_names_are_checked_at_declaration() -> None:
    with pytest.raises(ValueError):
        build_spec(handler, name="Bad-Name", help="", privilege=Privilege.MEMBER, private=False)


words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp"),
                           blacklist_characters="\"'“”«»„\x1c\x1d\x1e\x1f\x85"),
    min_size=1,
)


@given(st.lists(words, max_size=6))
def test_tokenize_splits_plain_words(tokens: list[str]) -> None:
    assert tokenize(" ".join(tokens)) == tokens


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters='"'), min_size=0), max_size=5))
def test_tokenize_keeps_quoted_phrases(phrases: list[str]) -> None:
    text = " ".join(f'"{p}"' for p in phrases)
    assert tokenize(text) == phrases


async def test_datetimes_are_read_in_the_community_timezone() -> None:
    async def h(self: object, ctx: object, when: datetime) -> None: ...

    spec = build_spec(h, name="at", help="", privilege=Privilege.MEMBER, private=False)
    args = await parse_arguments(spec, "2026-12-01 18:00", resolve, "Asia/Riyadh")
    assert args["when"] == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


async def poll_like(
    self: object,
    ctx: object,
    question: str,
    options: str,
    duration: Duration | None = None,
    until: datetime | None = None,
    multiple: int = 1,
) -> None: ...


POLL = build_spec(poll_like, name="poll", help="", privilege=Privilege.MEMBER, private=False)
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def refused(spec: Any, text: str) -> str:
    """The error a member reads, filled in as the dispatcher fills it."""
    with pytest.raises(ArgumentError) as caught:
        await parse_arguments(spec, text, resolve, "Asia/Riyadh", NOW)
    return str(caught.value)


@pytest.mark.parametrize(
    "text",
    ['"Lunch?" "Pizza | Sushi" until=2026-01-06 18:00',
     '"Lunch?" "Pizza | Sushi" until="2026-01-06 18:00"',
     '"Lunch?" "Pizza | Sushi" until=٢٠٢٦-٠١-٠٦ ١٨:٠٠ multiple=2'],
)
async def test_a_named_deadline_takes_a_date_and_time_in_the_community_timezone(
    text: str,
) -> None:
    args = await parse_arguments(POLL, text, resolve, "Asia/Riyadh", NOW)
    assert args["until"] == datetime(2026, 1, 6, 15, 0, tzinfo=UTC)  # 18:00 in Riyadh
    assert args["duration"] is None
    assert args["options"] == "Pizza | Sushi"


async def test_an_unknown_option_is_named_with_the_options_there_are() -> None:
    message = await refused(POLL, '"Lunch?" "Pizza | Sushi" colour=red')
    assert message == (
        "Unknown option “colour”. The options of /poll are: "
        "question, options, duration, until, multiple."
    )


async def test_an_option_given_twice_is_refused() -> None:
    message = await refused(POLL, '"Lunch?" "Pizza | Sushi" duration=2h duration=3d')
    assert message.startswith("“duration” is given twice; give it once.")


async def test_key_value_text_in_a_free_text_argument_stays_text() -> None:
    args = await parse_arguments(SPEC, "3 @sara multi 2h set colour=red please", resolve)
    assert args["note"] == "set colour=red please"
    args = await parse_arguments(POLL, '"x=1?" "a=b | c"', resolve)
    assert args["question"] == "x=1?"


@pytest.mark.parametrize(
    "text",
    ["x" * 10_000 + " @sara",
     "9" * 4_000 + " @sara",
     "-" + "9" * 10_000 + " @sara",
     "2 @sara multi after=" + "9" * 10_000,
     "2 @" + "n" * 10_000,
     '"Lunch?" "Pizza | Sushi" 2h 2026-01-06 3 ' + "y" * 10_000],
)
async def test_errors_quote_at_most_about_80_characters_of_what_was_typed(text: str) -> None:
    spec = POLL if text.startswith('"Lunch') else SPEC
    message = await refused(spec, text)
    assert len(message) < 250, message
    assert "…" in message


async def test_arabic_indic_digits_are_read_wherever_latin_digits_are() -> None:
    async def typed(
        self: object, ctx: object, count: int, share: float,
        at: datetime | None = None, within: Duration | None = None,
    ) -> None: ...

    spec = build_spec(typed, name="typed", help="", privilege=Privilege.MEMBER, private=False)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    args = await parse_arguments(spec, "٧ ٢٫٥ at=١٨:٣٠ within=١h٣٠m", resolve, "UTC", now)
    assert args["count"] == 7
    assert args["share"] == 2.5
    assert args["at"] == datetime(2026, 1, 5, 18, 30, tzinfo=UTC)
    assert args["within"] == timedelta(hours=1, minutes=30)
    # Persian digits too
    assert (await parse_arguments(spec, "۱۲ ۰٫۵", resolve))["count"] == 12


async def test_an_arabic_reader_sees_arguments_named_in_arabic_in_errors() -> None:
    from bot.testing import FakeCommunity
    from plugins.contributions import Contributions

    async with FakeCommunity([Contributions], admins=["amal"], language="ar") as club:
        await club.says("sara", "مرحبا")
        club.new()
        await club.says("amal", "/award")
        club.expect("ينقص المُعامل «مَن». طريقة الاستخدام: /award <مَن> <النقاط> <لماذا>",
                    to="amal")
        await club.says("amal", "/award sara كثير شكرا")
        club.expect("«كثير» ليس عددًا صحيحًا؛ يحتاج المُعامل «النقاط» إلى عدد صحيح مثل 5.",
                    to="amal")
        await club.says("amal", "/award sara 200000 شكرا")
        club.expect("يجب ألا تزيد قيمة «النقاط» على 100,000؛ وقد أدخلت 200,000.", to="amal")
        await club.set_language("amal", "en")  # English names them as typed, as /help does
        await club.says("amal", "/award")
        club.expect("Missing argument “member”. Usage: /award <member> <points> <reason>",
                    to="amal")


def test_an_option_typed_by_name_keeps_its_name_and_a_twice_given_one_is_shown_as_typed() -> None:
    def handler(self: Any, ctx: Any, what: Annotated[str, Param(help="The thing, exactly")],
                a: int = 1, b: int = 2, c: int = 3, d: int = 4) -> None: ...

    spec = build_spec(handler, name="x", help="", privilege=Privilege.MEMBER, private=False)
    words = {"The thing, exactly": "الشيء، بالضبط"}.get
    assert spec.usage(lambda m: words(m) or m) == "/x <الشيء> [a] [b] [c] [d]"
    twice = ArgumentError("“{name}” twice", {"name": "what", "usage": ""}, typed=True)
    assert twice.in_words(spec, lambda m: words(m) or m)["name"] == "what"
    once = ArgumentError("“{name}”", {"name": "what"})
    assert once.in_words(spec, lambda m: words(m) or m) == {"name": "الشيء"}
