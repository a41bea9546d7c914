"""Markup to Discord markdown: user text escaped, cards as embeds, persistent buttons."""

from __future__ import annotations

from bot.adapters.discord_render import card_embed, markdown, split_text, view_of
from bot.core.markup import Markup, escape, mention
from bot.core.messages import Button, Card, CardField
from bot.core.payloads import Payload


class Ping(Payload, prefix="dctest.ping"):
    """A test payload."""

    n: int


def test_user_text_cannot_format_or_ping() -> None:
    text = Markup("**Hi** {name}").format(name="*x* @everyone <@&1>")
    out = markdown(text)
    assert out.startswith("**Hi** ")
    assert "\\*x\\*" in out
    assert "@everyone" not in out


def test_mentions_links_and_code() -> None:
    out = markdown(mention("42", "Sara") + Markup(" [docs](https://e.x) `a`"))
    assert out == "<@42> [docs](https://e.x) `a`"
    assert markdown(escape("a_b")) == "a\\_b"


def test_cards_become_embeds() -> None:
    embed = card_embed(Card("Title", "desc", (CardField("k", "v"),), "foot"))
    assert embed.title == "Title" and embed.description == "desc"
    assert embed.fields[0].name == "k" and embed.footer.text == "foot"


def test_long_text_is_split() -> None:
    chunks = split_text("\n".join(["x" * 1500] * 3))
    assert len(chunks) == 3 and all(len(c) <= 2000 for c in chunks)


async def test_buttons_carry_custom_ids() -> None:
    async def encode(payload: Payload) -> str:
        return payload.pack()

    view = await view_of([[Button("Go", Ping(1)), Button("Web", url="https://e.x")]], encode)
    assert view is not None
    ids = [getattr(item, "custom_id", None) for item in view.children]
    assert ids[0] == "dctest.ping:1"
