"""Neutral content to Discord: markdown text (user text escaped), cards as embeds, buttons.

Every span of markup is escaped with :func:`discord.utils.escape_markdown` and
:func:`discord.utils.escape_mentions`, so nothing a member wrote can format text or ping
anyone; mentions the core asked for are rendered as ``<@id>`` and allowed explicitly.
Buttons become persistent components: their ``custom_id`` is the packed payload (or a
stored key), so a press is understood after a restart without any view registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.adapters import discord_limits as limits
from bot.core.markup import Span, Style, parse, plain
from bot.core.messages import Button, ButtonStyle, Card, Content
from bot.core.payloads import Payload

#: Turns a payload into a ``custom_id`` of at most 100 characters.
Encoder = Callable[[Payload], Awaitable[str]]

_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.SECONDARY: discord.ButtonStyle.secondary,
    ButtonStyle.SUCCESS: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}


def escape_text(text: str) -> str:
    """User text that renders literally and pings nobody."""
    return escape_mentions(escape_markdown(text))


def span_markdown(span: Span) -> str:
    """One markup span as Discord markdown."""
    if span.style is Style.CODE:
        body = span.text.replace("`", "ˋ")
        return f"`{body}`" if body else ""
    if span.style is Style.MENTION:
        return f"<@{span.target}>" if span.target.isdigit() else escape_text(span.text)
    text = escape_text(span.text)
    if span.style is Style.LINK:
        target = span.target.replace(")", "%29").replace(" ", "%20")
        text = f"[{text}]({target})" if text else target
    if not text.strip():
        return text
    if span.bold:
        text = f"**{text}**"
    if span.italic:
        text = f"*{text}*"
    return text


def markdown(markup: str) -> str:
    """Markup (see :mod:`bot.core.markup`) as Discord markdown."""
    return "".join(span_markdown(s) for s in parse(markup))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_embed(card: Card) -> discord.Embed:
    """A card as an embed, cut to Discord's limits."""
    embed = discord.Embed(
        title=_cut(plain(card.title), limits.EMBED_TITLE_CHARS),
        description=_cut(markdown(card.description), limits.EMBED_DESCRIPTION_CHARS) or None,
    )
    for f in card.fields[: limits.EMBED_FIELDS]:
        embed.add_field(
            name=_cut(plain(f.name), limits.EMBED_FIELD_NAME_CHARS) or "\u200b",
            value=_cut(markdown(f.value), limits.EMBED_FIELD_VALUE_CHARS) or "\u200b",
            inline=f.inline,
        )
    if card.footer:
        embed.set_footer(text=_cut(plain(card.footer), limits.EMBED_FOOTER_CHARS))
    return embed


def split_text(text: str, limit: int = limits.MESSAGE_CHARS) -> list[str]:
    """Cut rendered text into messages of at most ``limit`` characters, between lines."""
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        joined = f"{current}\n{line}" if current else line
        if len(joined) > limit:
            chunks.append(current)
            current = line
        else:
            current = joined
    if current:
        chunks.append(current)
    return chunks


def content_markdown(content: Content) -> list[str]:
    """The text of content as message-sized markdown chunks."""
    return split_text(markdown(content.text)) if content.text else []


def content_plain(content: Content) -> str:
    """Text and card without formatting (poll questions, logs)."""
    parts = [plain(content.text)] if content.text else []
    if content.card is not None:
        parts.append(plain(content.card.title))
    return "\n\n".join(parts)


async def view_of(rows: Sequence[Sequence[Button]], encode: Encoder) -> discord.ui.View | None:
    """A persistent view (no timeout) with a button per core button, five rows at most."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for r, row in enumerate(rows[: limits.ACTION_ROWS]):
        for button in row[: limits.BUTTONS_PER_ROW]:
            label = _cut(button.label, limits.BUTTON_LABEL_CHARS)
            if button.payload is None:
                item: discord.ui.Button[discord.ui.View] = discord.ui.Button(
                    label=label, url=button.url, row=r
                )
            else:
                item = discord.ui.Button(
                    label=label,
                    custom_id=await encode(button.payload),
                    style=_STYLES.get(button.style, discord.ButtonStyle.secondary),
                    row=r,
                )
            view.add_item(item)
    return view
