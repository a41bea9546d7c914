"""The rank card: a PNG with the member's name, level, progress bar, rank and badges.

Arabic text is shaped (``arabic_reshaper``) and put in visual order (``bidi``) before
drawing, with DejaVu Sans (shipped with matplotlib), which has Arabic glyphs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import arabic_reshaper
from bidi.algorithm import get_display
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 800, 220
BACKGROUND = (35, 39, 42)
FOREGROUND = (240, 240, 240)
MUTED = (160, 165, 170)
BAR_BACK = (72, 76, 82)
BAR_FRONT = (88, 101, 242)


@dataclass(frozen=True, slots=True)
class CardData:
    """What a rank card shows; labels are already translated."""

    name: str
    level_label: str
    rank_label: str
    xp_label: str
    badges_label: str
    fraction: float


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def shape(text: str) -> str:
    """Text ready to draw: Arabic letters joined and the line in visual order."""
    if not any("\u0590" <= ch <= "\u08ff" for ch in text):
        return text
    return str(get_display(arabic_reshaper.reshape(text)))


def render_card(data: CardData, rtl: bool = False) -> bytes:
    """Draw the card and return PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = 30

    def put(y: int, text: str, size: int, fill: tuple[int, int, int]) -> None:
        font = _font(size)
        shaped = shape(text)
        if rtl:
            width = draw.textlength(shaped, font=font)
            draw.text((WIDTH - margin - width, y), shaped, font=font, fill=fill)
        else:
            draw.text((margin, y), shaped, font=font, fill=fill)

    put(20, data.name, 36, FOREGROUND)
    put(70, f"{data.level_label}    {data.rank_label}", 24, MUTED)
    top, bottom = 115, 145
    draw.rounded_rectangle((margin, top, WIDTH - margin, bottom), radius=15, fill=BAR_BACK)
    filled = int((WIDTH - 2 * margin) * max(0.0, min(1.0, data.fraction)))
    if filled > 0:
        if rtl:
            box = (WIDTH - margin - filled, top, WIDTH - margin, bottom)
        else:
            box = (margin, top, margin + filled, bottom)
        draw.rounded_rectangle(box, radius=15, fill=BAR_FRONT)
    put(150, data.xp_label, 20, MUTED)
    put(180, data.badges_label, 20, FOREGROUND)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def badge_line(names: Sequence[str]) -> str:
    """Badges joined for the card."""
    return " · ".join(names)
