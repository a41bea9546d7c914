"""Text in pictures: Arabic joined and right-to-left lines in order, with Pillow and matplotlib.

Pillow built with libraqm and matplotlib 3.11+ (which bundles libraqm) shape text and
apply the Unicode bidirectional algorithm themselves: they must be given text in logical
order, exactly as typed. Older builds draw code points one by one, left to right; for those
Arabic is reshaped (``arabic_reshaper``) and each line put in visual order (``python-bidi``)
here. Doing it by hand on a library that also does it reverses every Arabic word, so this
module asks the libraries first and is the only place that decides.

Lines are wrapped in logical order and each line is laid out on its own with the direction
of the whole paragraph, as the bidi algorithm prescribes (UAX #9, rules L1-L4 per line).
Emoji come from a monochrome emoji font (Noto Emoji, from the ``manimgx-fonts`` package):
matplotlib falls back to it by itself; Pillow draws one font per string, so a Pillow line
with emoji is ordered here and drawn in pieces. Characters no available font has are
replaced by a readable code (``U+1F355``) instead of a box.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

# Pillow, matplotlib (with numpy), arabic_reshaper and python-bidi are imported where a
# picture is drawn, not here: a bot that never draws one should not hold them in memory
# (~40 MiB), and plugins import this module when they load.

Direction = Literal["ltr", "rtl"]

TEXT_FAMILY = "DejaVu Sans"  # shipped with matplotlib; Latin, Arabic and many symbols
EMOJI_FAMILIES = ("Noto Emoji", "Symbola", "Noto Sans Symbols 2")  # monochrome outlines
# Marks that set a line's base direction where the library runs the bidi algorithm.
_MARKS: dict[Direction, str] = {"rtl": "\u200f", "ltr": "\u200e"}
_RTL_CLASSES = frozenset({"R", "AL"})
_NEEDS_HAND = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_SPACE = re.compile(r"\s+")


# -- what the libraries do themselves ----------------------------------------------------


@cache
def pillow_lays_out() -> bool:
    """Whether Pillow shapes and reorders text itself (libraqm with FriBiDi loaded)."""
    from PIL import features

    try:
        return bool(features.check_feature("raqm") and features.check_feature("fribidi"))
    except ValueError:  # a Pillow too old to know the feature names
        return False


@cache
def matplotlib_lays_out() -> bool:
    """Whether matplotlib shapes and reorders text itself (libraqm, matplotlib 3.11+).

    Asked of the library: two Arabic letters are laid out and must come back joined (a
    glyph other than the isolated form) and right to left (the second letter first).
    """
    from matplotlib import font_manager, ft2font

    font = ft2font.FT2Font(font_manager.findfont(TEXT_FAMILY))
    layout = getattr(font, "_layout", None)
    if layout is None:
        return bool(getattr(ft2font, "__libraqm_version__", ""))
    try:
        items = list(layout("\u0633\u0627", ft2font.LoadFlags.NO_HINTING))  # "سا"
    except Exception:  # a private API: any failure means "do it by hand"
        return bool(getattr(ft2font, "__libraqm_version__", ""))
    if len(items) != 2:
        return False
    first, second = items
    joined = second.glyph_index != font.get_char_index(0x0633)
    reordered = first.char == "\u0627"
    return joined and reordered


# -- direction and order ---------------------------------------------------------------


def base_direction(text: str) -> Direction | None:
    """The direction of the first strong character (UAX #9 P2-P3), None if there is none."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in _RTL_CLASSES:
            return "rtl"
    return None


def by_hand(text: str, direction: Direction | None = None) -> str:
    """Arabic joined (presentation forms) and the line in visual order.

    For a library that draws code points one by one, left to right.
    """
    if direction != "rtl" and not _NEEDS_HAND.search(text):
        return text  # nothing to join and nothing to reverse
    import arabic_reshaper
    from bidi.algorithm import get_display

    base = {"rtl": "R", "ltr": "L"}.get(direction or "")
    shown = str(get_display(arabic_reshaper.reshape(text), base_dir=base))
    # Direction marks and joiners have done their work; drawn one by one they would be boxes.
    return "".join(ch for ch in shown if unicodedata.category(ch) != "Cf")


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Break ``text`` into lines, in logical (typed) order, each one accepted by ``fits``.

    Breaks at spaces; a word that fits on no line is cut between characters (never
    between a letter and its marks). Lines are then laid out one by one, so a right-to-left
    paragraph reads top to bottom, each line right to left.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in _SPACE.split(paragraph.strip()):
            candidate = f"{line} {word}" if line else word
            if fits(candidate):
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for piece in _cut_word(word, fits):
                if line:
                    lines.append(line)
                line = piece
        lines.append(line)
    return lines


def _cut_word(word: str, fits: Callable[[str], bool]) -> Iterable[str]:
    piece = ""
    for ch in word:
        if piece and not unicodedata.combining(ch) and not fits(piece + ch):
            yield piece
            piece = ""
        piece += ch
    yield piece


# -- what fonts can draw ---------------------------------------------------------------


def _drawable_anyway(ch: str) -> bool:
    # Joiners, direction marks, variation selectors and skin-tone modifiers are absorbed
    # by shaping or may vanish without changing what the text says.
    return (
        unicodedata.category(ch) in ("Cf", "Zs", "Cc")
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
        or "\U000e0020" <= ch <= "\U000e007f"
    )


@cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib import ft2font

    return frozenset(ft2font.FT2Font(path).get_charmap())


@cache
def emoji_font() -> Path | None:
    """A monochrome emoji font: the ``manimgx-fonts`` package's Noto Emoji, else a system one."""
    try:
        import manimgx_fonts  # OFL Noto fonts packaged for pip; optional
    except ImportError:
        pass
    else:
        found = sorted(Path(manimgx_fonts.__file__).parent.glob("NotoEmoji*.ttf"))
        if found:
            return found[0]
    from matplotlib import font_manager

    for family in EMOJI_FAMILIES:
        for entry in font_manager.fontManager.ttflist:
            if entry.name == family:
                return Path(entry.fname)
    return None


@cache
def mpl_family() -> tuple[str, ...]:
    """Font families for matplotlib, in fallback order: text first, then emoji if there is one."""
    from matplotlib import font_manager

    path = emoji_font()
    if path is None:
        return (TEXT_FAMILY,)
    if not any(f.fname == str(path) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    return (TEXT_FAMILY, name)


def missing_code(ch: str) -> str:
    """The readable stand-in for a character no font has: its code point."""
    return f"U+{ord(ch):04X}"


def drawable(
    text: str, fonts: Sequence[str | Path], missing: Callable[[str], str] = missing_code,
) -> str:
    """``text`` with every character that none of ``fonts`` has replaced by ``missing(ch)``."""
    maps = [_charmap(str(f)) for f in fonts]
    out = []
    for ch in text:
        if _drawable_anyway(ch) or any(ord(ch) in m for m in maps):
            out.append(ch)
        else:
            out.append(missing(ch))
    return "".join(out)


# -- Pillow ---------------------------------------------------------------------------


def text_font_path() -> str:
    """The file of the text font (DejaVu Sans)."""
    from matplotlib import font_manager

    return str(font_manager.findfont(TEXT_FAMILY))


@cache
def pillow_font(size: int) -> ImageFont.FreeTypeFont:
    """The text font at ``size`` px, with raqm layout where Pillow has it."""
    from PIL import ImageFont

    engine = ImageFont.Layout.RAQM if pillow_lays_out() else ImageFont.Layout.BASIC
    return ImageFont.truetype(text_font_path(), size, layout_engine=engine)


def for_pillow(text: str, direction: Direction | None = None) -> tuple[str, dict[str, Any]]:
    """One line as Pillow must be given it, and the keyword arguments that go with it.

    Args:
        text: The line, in logical order.
        direction: The paragraph's direction; None takes the first strong character's.
    """
    text = drawable(text, [text_font_path()])
    direction = direction or base_direction(text)
    if pillow_lays_out():
        return text, ({"direction": direction} if direction else {})
    return by_hand(text, direction), {}


@cache
def _basic_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


Piece = tuple[str, "ImageFont.FreeTypeFont", dict[str, Any]]
_PLACEHOLDERS = [chr(c) for c in range(0x2500, 0x2580)]  # box drawing: bidi class ON


def pillow_pieces(text: str, size: int, direction: Direction | None = None) -> list[Piece]:
    """One line as Pillow must draw it: (text, font, options) pieces, left to right.

    One piece unless the line has emoji: Pillow draws a string in one font, so a line with
    emoji is put in visual order here, each emoji run standing in for a neutral character,
    and drawn piece by piece in the text and the emoji font.
    """
    emoji = emoji_font()
    text = drawable(text, [text_font_path(), *([emoji] if emoji else [])])
    text_map = _charmap(text_font_path())
    runs: list[str] = []  # emoji runs, in typed order
    logical: list[str | int] = []  # the line's characters, an emoji run by its index
    in_run = False
    for ch in text:
        if ord(ch) not in text_map and not _drawable_anyway(ch):
            if in_run:
                runs[-1] += ch
            else:
                runs.append(ch)
                logical.append(len(runs) - 1)
                in_run = True
        elif in_run and _drawable_anyway(ch) and not ch.isspace():
            runs[-1] += ch  # a joiner, selector or skin tone belongs to its emoji
        else:
            logical.append(ch)
            in_run = False
    free = [p for p in _PLACEHOLDERS if p not in text]
    if emoji is None or not runs or len(runs) > len(free):
        shown, options = for_pillow(text, direction)
        return [(shown, pillow_font(size), options)]
    marked = "".join(free[x] if isinstance(x, int) else x for x in logical)
    back = {free[i]: run for i, run in enumerate(runs)}
    emoji_map = _charmap(str(emoji))
    plain, pieces = "", list[Piece]()
    for ch in by_hand(marked, direction or base_direction(text)):
        if ch not in back:
            plain += ch
            continue
        if plain:
            pieces.append((plain, _basic_font(text_font_path(), size), {}))
            plain = ""
        # Drawn glyph by glyph: joiners and skin tones (which a monochrome font cannot
        # show) would be boxes.
        glyphs = "".join(c for c in back[ch] if ord(c) in emoji_map and not _drawable_anyway(c))
        pieces.append((glyphs, _basic_font(str(emoji), size), {}))
    if plain:
        pieces.append((plain, _basic_font(text_font_path(), size), {}))
    return pieces


def pillow_length(text: str, size: int, direction: Direction | None = None) -> float:
    """The width in px of one line of ``text`` at ``size``."""
    return sum(float(font.getlength(piece, **options))
               for piece, font, options in pillow_pieces(text, size, direction))


def draw_line(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, *, size: int,
    fill: tuple[int, int, int], align: Literal["left", "right"] = "left",
    direction: Direction | None = None,
) -> float:
    """Draw one line with its left (or right) edge at ``xy``; return its width in px."""
    pieces = pillow_pieces(text, size, direction)
    width = sum(float(font.getlength(piece, **options)) for piece, font, options in pieces)
    x, y = xy
    if align == "right":
        x -= width
    # Pieces share the text font's baseline; whole pixels, so the same line draws the same
    # wherever it stands, and crisply.
    baseline = y + pillow_font(size).getmetrics()[0]
    for piece, font, options in pieces:
        draw.text((round(x), round(baseline)), piece, font=font, fill=fill, anchor="ls",
                  **options)
        x += float(font.getlength(piece, **options))
    return width


def pillow_wrap(text: str, *, size: int, width: float) -> list[str]:
    """``text`` wrapped to lines at most ``width`` px wide in the text font at ``size``."""
    direction = base_direction(text)
    return wrap(text, lambda line: pillow_length(line, size, direction) <= width)


# -- matplotlib -------------------------------------------------------------------------


def for_matplotlib(text: str, direction: Direction | None = None) -> str:
    """One line as matplotlib must be given it.

    Args:
        text: The line, in logical order.
        direction: The paragraph's direction; None takes the first strong character's.
    """
    emoji = emoji_font()
    text = drawable(text, [text_font_path(), *([emoji] if emoji else [])])
    if matplotlib_lays_out():
        # libraqm picks the direction from the first strong character; a mark forces ours.
        return _MARKS[direction] + text if direction else text
    return by_hand(text, direction or base_direction(text))


def mpl_lines(text: str, direction: Direction | None = None) -> str:
    """Several lines (one per newline) for one matplotlib text, each laid out on its own."""
    direction = direction or base_direction(text)
    return "\n".join(for_matplotlib(line, direction) for line in text.split("\n"))


def mpl_text_options() -> dict[str, Any]:
    """Keyword arguments for every matplotlib text: the fonts, and ``$`` taken literally."""
    return {"family": list(mpl_family()), "parse_math": False}


def mpl_wrap(text: str, *, size: float, width: float, dpi: float = 100) -> list[str]:
    """``text`` wrapped to lines at most ``width`` inches wide at font ``size`` (points)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, dpi)
    prop = FontProperties(family=list(mpl_family()), size=size)
    direction = base_direction(text)
    limit = width * dpi

    def fits(line: str) -> bool:
        w, _, _ = renderer.get_text_width_height_descent(
            for_matplotlib(line, direction), prop, ismath=False)
        return bool(w <= limit)

    return wrap(text, fits)


def pillow_fit(text: str, *, size: int, width: float) -> str:
    """``text`` on one line at most ``width`` px wide, cut at a word with "…" if longer."""
    lines = pillow_wrap(text, size=size, width=width)
    if len(lines) <= 1:
        return text
    direction = base_direction(text)
    head = lines[0]
    while head and pillow_length(head + "…", size, direction) > width:
        head = head[:-1]
    return head.rstrip() + "…"


def mpl_bar_values(
    axes: Any, positions: Sequence[float], counts: Sequence[float], values: Sequence[str], *,
    rtl: bool, size: float = 10.0,
) -> list[Any]:
    """Write ``values`` just past the end of horizontal bars, and widen the axis to hold them.

    The axis must already grow right to left when ``rtl`` (``axes.invert_xaxis()``); each
    text then runs leftwards from its bar, away from the labels on the right. Returns the
    matplotlib texts (their extents tell whether anything overlaps).
    """
    direction: Direction = "rtl" if rtl else "ltr"
    gap = -4 if rtl else 4  # points between the bar's end and its value
    texts = [
        axes.annotate(
            for_matplotlib(value, direction), (count, position), xytext=(gap, 0),
            textcoords="offset points", va="center", ha="right" if rtl else "left",
            fontsize=size, annotation_clip=False, **mpl_text_options(),
        )
        for position, count, value in zip(positions, counts, values, strict=True)
    ]
    fit_bar_values(axes, counts, texts)
    return texts


def fit_bar_values(axes: Any, counts: Sequence[float], texts: Sequence[Any]) -> None:
    """Set the value axis so that every bar's value text ends inside the axes."""
    figure = axes.figure
    renderer = figure.canvas.get_renderer()
    limit = float(max([*counts, 1]))
    axes.set_xlim(*((limit, 0.0) if axes.xaxis_inverted() else (0.0, limit)))
    for _ in range(3):  # the layout moves when the limits do; converges in one or two
        figure.draw_without_rendering()
        width = axes.get_window_extent(renderer).width
        needed = limit
        for count, text in zip(counts, texts, strict=True):
            extent = text.get_window_extent(renderer)
            anchor = axes.transData.transform((count, 0))[0]
            overhang = max(abs(extent.x1 - anchor), abs(anchor - extent.x0)) + 2
            if overhang < width:
                needed = max(needed, count * width / (width - overhang))
        if needed <= limit * 1.001:
            return
        limit = needed * 1.02
        axes.set_xlim(*((limit, 0.0) if axes.xaxis_inverted() else (0.0, limit)))
