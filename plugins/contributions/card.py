"""The rank card: a PNG with the member's name, level, progress bar, rank and badges.

Text goes through ``bot``'s picture helpers, which leave shaping and right-to-left order to
Pillow where it has libraqm and do it by hand only where it does not.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot import pictures

WIDTH, HEIGHT = 800, 220
MARGIN = 30
BACKGROUND = (35, 39, 42)
FOREGROUND = (240, 240, 240)
MUTED = (160, 165, 170)
BAR_BACK = (72, 76, 82)
BAR_FRONT = (88, 101, 242)
NAME_TOP, NAME_SIZE = 20, 36
LABELS_TOP, LABELS_SIZE = 70, 24
BAR_TOP, BAR_BOTTOM = 115, 145
XP_TOP, XP_SIZE = 150, 20
BADGES_TOP, BADGES_SIZE = 180, 20


@dataclass(frozen=True, slots=True)
class CardData:
    """What a rank card shows; labels are already translated."""

    name: str
    level_label: str
    rank_label: str
    xp_label: str
    badges_label: str
    fraction: float


def render_card(data: CardData, rtl: bool = False) -> bytes:
    """Draw the card and return PNG bytes; ``rtl`` lays it out right to left (Arabic)."""
    from PIL import Image, ImageDraw  # here: held in memory only once a card is drawn

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    room = WIDTH - 2 * MARGIN
    align: Literal["left", "right"] = "right" if rtl else "left"
    x = WIDTH - MARGIN if rtl else MARGIN
    labels: pictures.Direction = "rtl" if rtl else "ltr"

    def put(y: int, text: str, size: int, fill: tuple[int, int, int],
            direction: pictures.Direction | None) -> None:
        line = pictures.pillow_fit(text, size=size, width=room)
        pictures.draw_line(draw, (x, y), line, size=size, fill=fill, align=align,
                           direction=direction)

    # The name is the member's own text: its first strong letter decides its direction.
    put(NAME_TOP, data.name, NAME_SIZE, FOREGROUND, None)
    put(LABELS_TOP, f"{data.level_label}    {data.rank_label}", LABELS_SIZE, MUTED, labels)
    draw.rounded_rectangle((MARGIN, BAR_TOP, WIDTH - MARGIN, BAR_BOTTOM), radius=15,
                           fill=BAR_BACK)
    filled = int(room * max(0.0, min(1.0, data.fraction)))
    if filled > 0:
        if rtl:
            box = (WIDTH - MARGIN - filled, BAR_TOP, WIDTH - MARGIN, BAR_BOTTOM)
        else:
            box = (MARGIN, BAR_TOP, MARGIN + filled, BAR_BOTTOM)
        draw.rounded_rectangle(box, radius=15, fill=BAR_FRONT)
    put(XP_TOP, data.xp_label, XP_SIZE, MUTED, labels)
    put(BADGES_TOP, data.badges_label, BADGES_SIZE, FOREGROUND, labels)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def badge_line(names: Sequence[str]) -> str:
    """Badges joined for the card."""
    return " · ".join(names)
