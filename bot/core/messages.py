"""Neutral message content: text, buttons, cards, images and files.

Adapters render this for their platform; the core never formats for one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.markup import Markup, to_markup
from bot.core.payloads import Payload
from bot.core.refs import RoleRef


class ButtonStyle(StrEnum):
    """A button's look where the platform has styles."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    """A button that carries a payload back, or opens a URL."""

    label: str
    payload: Payload | None = None
    url: str | None = None
    style: ButtonStyle = ButtonStyle.SECONDARY

    def __post_init__(self) -> None:
        if (self.payload is None) == (self.url is None):
            raise ValueError("a button needs exactly one of payload or url")


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image or a file sent with a message."""

    filename: str
    data: bytes
    image: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class CardField:
    """One named value on a card."""

    name: str
    value: str
    inline: bool = True


@dataclass(frozen=True, slots=True)
class Card:
    """A titled block of fields (an embed on Discord, formatted text elsewhere)."""

    title: str
    description: str = ""
    fields: tuple[CardField, ...] = ()
    footer: str = ""


@dataclass(frozen=True, slots=True)
class Reward:
    """Something a member earns: a role where roles exist, else a badge or a title."""

    badge: str
    role: RoleRef | None = None
    title: str | None = None
    perk_chat: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """Everything one message says.

    ``text`` is markup (see :mod:`bot.core.markup`); plain strings passed to the
    constructor helpers are escaped as user text.
    """

    text: Markup = field(default_factory=Markup)
    buttons: tuple[tuple[Button, ...], ...] = ()
    card: Card | None = None
    attachments: tuple[Attachment, ...] = ()
    mention_ids: tuple[str, ...] = field(default=())

    @classmethod
    def of(
        cls,
        text: str = "",
        *,
        buttons: Sequence[Button] | Sequence[Sequence[Button]] = (),
        card: Card | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> Content:
        """Build content; ``buttons`` is a flat row or a list of rows."""
        return cls(to_markup(text), rows(buttons), card, tuple(attachments))

    def all_buttons(self) -> list[Button]:
        """Buttons across rows, in reading order."""
        return [b for row in self.buttons for b in row]

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form for the outbox table."""
        return {
            "text": str(self.text),
            "buttons": [
                [
                    {
                        "label": b.label,
                        "payload": b.payload.pack() if b.payload else None,
                        "url": b.url,
                        "style": b.style.value,
                    }
                    for b in row
                ]
                for row in self.buttons
            ],
            "card": None
            if self.card is None
            else {
                "title": self.card.title,
                "description": self.card.description,
                "footer": self.card.footer,
                "fields": [[f.name, f.value, f.inline] for f in self.card.fields],
            },
            "attachments": [
                {
                    "filename": a.filename,
                    "data": base64.b64encode(a.data).decode(),
                    "image": a.image,
                    "description": a.description,
                }
                for a in self.attachments
            ],
            "mention_ids": list(self.mention_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Content:
        """Inverse of :meth:`to_json`."""
        card = data.get("card")
        return cls(
            Markup(data.get("text", "")),
            tuple(
                tuple(
                    Button(
                        b["label"],
                        Payload.unpack(b["payload"]) if b.get("payload") else None,
                        b.get("url"),
                        ButtonStyle(b.get("style", "secondary")),
                    )
                    for b in row
                )
                for row in data.get("buttons", [])
            ),
            None
            if not card
            else Card(
                card["title"],
                card.get("description", ""),
                tuple(CardField(n, v, i) for n, v, i in card.get("fields", [])),
                card.get("footer", ""),
            ),
            tuple(
                Attachment(
                    a["filename"],
                    base64.b64decode(a["data"]),
                    a.get("image", False),
                    a.get("description", ""),
                )
                for a in data.get("attachments", [])
            ),
            tuple(data.get("mention_ids", [])),
        )


def rows(buttons: Sequence[Button] | Sequence[Sequence[Button]]) -> tuple[tuple[Button, ...], ...]:
    """Normalize a flat list or a list of rows into rows."""
    if not buttons:
        return ()
    if isinstance(buttons[0], Button):
        return (tuple(b for b in buttons if isinstance(b, Button)),)
    return tuple(tuple(row) for row in buttons if not isinstance(row, Button) and row)
