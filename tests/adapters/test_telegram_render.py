"""Content to Telegram HTML and inline keyboards."""

from __future__ import annotations

from bot.adapters.telegram_limits import CALLBACK_DATA_BYTES
from bot.adapters.telegram_render import (
    content_html,
    content_plain,
    inline_keyboard,
    split_html,
)
from bot.core.markup import Markup, escape, mention
from bot.core.messages import Button, Card, CardField, Content
from bot.core.payloads import Payload, decode, shorten


class Long(Payload, prefix="tgrender.long"):
    """A payload too long for callback_data."""

    text: str


class MemoryStore:
    """A payload store in a dict."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def put_payload(self, key: str, raw: str) -> None:
        self.data[key] = raw

    async def get_payload(self, key: str) -> str | None:
        return self.data.get(key)


def test_user_text_is_escaped() -> None:
    html = content_html(Content.of("<b>hi</b> & <script>"))
    assert html == "&lt;b&gt;hi&lt;/b&gt; &amp; &lt;script&gt;"


def test_markup_styles() -> None:
    text = Markup("**bold** __it__ `x<y` [site](https://e.x/?a=1&b=2) ") + mention("42", "A<B")
    html = content_html(Content(text))
    assert "<b>bold</b>" in html and "<i>it</i>" in html
    assert "<code>x&lt;y</code>" in html
    assert '<a href="https://e.x/?a=1&amp;b=2">site</a>' in html
    assert '<a href="tg://user?id=42">A&lt;B</a>' in html


def test_card_as_formatted_text() -> None:
    card = Card("Top <5>", "desc", (CardField("Sara", "12"),), "footer")
    content = Content(escape("Scores"), card=card)
    assert content_html(content) == (
        "Scores\n\n<b>Top &lt;5&gt;</b>\ndesc\n<b>Sara:</b> 12\n<i>footer</i>"
    )
    assert content_plain(content) == "Scores\n\nTop <5>\ndesc\nSara: 12\nfooter"


def test_long_text_is_split_between_lines() -> None:
    line = "**" + "x" * 90 + "**"
    chunks = split_html(Content(Markup("\n".join([line] * 100))), limit=1000)
    assert len(chunks) > 1
    assert all(len(c) <= 1000 for c in chunks)
    assert all(c.count("<b>") == c.count("</b>") for c in chunks)
    assert sum(c.count("x") for c in chunks) == 9000


async def test_keyboard_payloads_fit_64_bytes() -> None:
    store = MemoryStore()

    async def encode(payload: Payload) -> str:
        return await shorten(payload.pack(), CALLBACK_DATA_BYTES, store)

    rows = ((Button("short", Long("a")), Button("long", Long("ب" * 60))),
            (Button("web", url="https://example.org"),))
    markup = await inline_keyboard(rows, encode)
    assert markup is not None
    first, second = markup.inline_keyboard
    assert first[0].callback_data == "tgrender.long:a"
    data = first[1].callback_data
    assert isinstance(data, str) and len(data.encode()) <= CALLBACK_DATA_BYTES
    assert await decode(data, store) == Long("ب" * 60)
    assert second[0].url == "https://example.org"


async def test_deep_link_keyboard() -> None:
    async def encode(payload: Payload) -> str:
        raise AssertionError("deep links do not use callback data")

    async def link(payload: Payload) -> str:
        return "https://t.me/majlis_bot?start=k1"

    markup = await inline_keyboard(((Button("go", Long("a")),),), encode, link)
    assert markup is not None
    assert markup.inline_keyboard[0][0].url == "https://t.me/majlis_bot?start=k1"
    assert await inline_keyboard((), encode) is None


def test_at_names_in_text_do_not_notify() -> None:
    from bot.adapters.telegram_render import WORD_JOINER, markup_html
    from bot.core.markup import escape

    rendered = markup_html(escape("thanks @alice and a@b.c"))
    assert f"@{WORD_JOINER}alice" in rendered
    assert "@alice" not in rendered
