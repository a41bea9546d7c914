"""Neutral content to Telegram: HTML text (user text escaped), cards, inline keyboards.

Telegram's HTML parse mode knows ``<b>``, ``<i>``, ``<code>`` and ``<a href>``; every piece of
text is passed through :func:`html.escape`, so nothing a member wrote can inject markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.adapters.telegram_limits import MESSAGE_TEXT_CHARS
from bot.core.markup import Span, Style, parse, plain
from bot.core.messages import Button, Card, Content
from bot.core.payloads import Payload

#: Turns a payload into ``callback_data`` (or a deep link URL) that fits Telegram's limits.
Encoder = Callable[[Payload], Awaitable[str]]


#: "@name" in a bot's message notifies that user; a word joiner after "@" keeps the text
#: and drops the mention (only ``[name](member:ID)`` markup may ping anyone).
_AT_NAME = re.compile(r"@(?=\w)")
WORD_JOINER = "\u2060"


def span_html(span: Span) -> str:
    """One markup span as Telegram HTML."""
    text = html.escape(_AT_NAME.sub("@" + WORD_JOINER, span.text), quote=False)
    if span.style is Style.CODE:
        return f"<code>{text}</code>"
    if span.style is Style.MENTION:
        target = html.escape(span.target, quote=True)
        return f'<a href="tg://user?id={target}">{text}</a>'
    if span.style is Style.LINK:
        text = f'<a href="{html.escape(span.target, quote=True)}">{text}</a>'
    if span.bold:
        text = f"<b>{text}</b>"
    if span.italic:
        text = f"<i>{text}</i>"
    return text


def markup_html(markup: str) -> str:
    """Markup (see :mod:`bot.core.markup`) as Telegram HTML."""
    return "".join(span_html(s) for s in parse(markup))


def card_html(card: Card) -> str:
    """A card as formatted text: bold title, description, ``name: value`` lines, footer."""
    lines = [f"<b>{markup_html(card.title)}</b>"]
    if card.description:
        lines.append(markup_html(card.description))
    lines.extend(f"<b>{markup_html(f.name)}:</b> {markup_html(f.value)}" for f in card.fields)
    if card.footer:
        lines.append(f"<i>{markup_html(card.footer)}</i>")
    return "\n".join(lines)


def content_html(content: Content) -> str:
    """The text and card of content as one HTML string."""
    parts = [markup_html(content.text)] if content.text else []
    if content.card is not None:
        parts.append(card_html(content.card))
    return "\n\n".join(parts)


def content_plain(content: Content) -> str:
    """The text and card of content without formatting (callback answers, poll texts)."""
    parts = [plain(content.text)] if content.text else []
    card = content.card
    if card is not None:
        lines = [plain(card.title)]
        if card.description:
            lines.append(plain(card.description))
        lines.extend(f"{plain(f.name)}: {plain(f.value)}" for f in card.fields)
        if card.footer:
            lines.append(plain(card.footer))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def split_html(content: Content, limit: int = MESSAGE_TEXT_CHARS) -> list[str]:
    """HTML chunks of at most ``limit`` characters each, cut between lines.

    Every span is rendered with its own tags, so cutting between rendered pieces never
    leaves a tag open. A single line longer than ``limit`` is cut inside its text.
    """
    rendered = content_html(content)
    if len(rendered) <= limit:
        return [rendered] if rendered else []
    pieces: list[str] = []
    spans = parse(content.text) if content.text else []
    for span in spans:
        for i, line in enumerate(span.text.split("\n")):
            if i:
                pieces.append("\n")
            text = line
            while text:
                head, text = text[: limit // 2], text[limit // 2 :]
                pieces.append(
                    span_html(Span(head, span.style, span.target, span.bold, span.italic))
                )
    if content.card is not None:
        pieces.append("\n\n")
        pieces.extend(line + "\n" for line in card_html(content.card).split("\n"))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if len(current) + len(piece) > limit and current:
            chunks.append(current)
            current = ""
        current += piece
    if current.strip():
        chunks.append(current)
    return [c.strip("\n") or c for c in chunks]


async def inline_keyboard(
    rows: Sequence[Sequence[Button]],
    encode: Encoder,
    deep_link: Encoder | None = None,
) -> InlineKeyboardMarkup | None:
    """Inline keyboard for button rows.

    Payload buttons carry ``await encode(payload)`` as ``callback_data``; with
    ``deep_link`` they become URL buttons to ``await deep_link(payload)`` instead (a private
    flow opened from a group). URL buttons stay URL buttons.
    """
    keyboard: list[list[InlineKeyboardButton]] = []
    for row in rows:
        out: list[InlineKeyboardButton] = []
        for button in row:
            if button.payload is None:
                out.append(InlineKeyboardButton(button.label, url=button.url))
            elif deep_link is not None:
                out.append(InlineKeyboardButton(button.label, url=await deep_link(button.payload)))
            else:
                out.append(
                    InlineKeyboardButton(button.label, callback_data=await encode(button.payload))
                )
        if out:
            keyboard.append(out)
    return InlineKeyboardMarkup(keyboard) if keyboard else None
