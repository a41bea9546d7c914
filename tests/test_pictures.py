"""Text in pictures reads as typed: Arabic joined and right to left, mixed with Latin and digits.

The pictures are checked by what they show. A word is drawn on its own by an independent path
(Pillow's basic layout given the joined letter forms in visual order, written out by hand
below, or raw matplotlib given the word as typed) and must be found, pixel for pixel, where
the picture should have it. The finders here serve the plugins' picture tests too.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from matplotlib import font_manager, ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont, features

from bot import pictures

# "سارة" as it must appear on screen, left to right: teh marbuta (isolated), reh
# (isolated), alef (final), seen (initial). Written out by hand: neither arabic_reshaper
# nor python-bidi (the code under test) computes it.
SARA = "سارة"
SARA_ON_SCREEN = "\ufe93\ufead\ufe8e\ufeb3"
SARA_BACKWARDS = "\ufeb3\ufe8e\ufead\ufe93"  # what a double reordering draws: "ةراس"
DEJAVU = font_manager.findfont("DejaVu Sans")
# The difference (see find) under which a word counts as drawn. Anti-aliasing at sub-pixel
# positions leaves up to ~0.06 after a 3x3 blur; a reversed word, swapped runs or a digit on
# the wrong side of its word leave 0.13 or more, a "missing glyph" box for an emoji 0.4.
MATCH = 0.1
# Raw matplotlib is the reference for Arabic only where it shapes text itself (3.11+).
needs_shaping_matplotlib = pytest.mark.skipif(
    not getattr(ft2font, "__libraqm_version__", ""),
    reason="this matplotlib draws Arabic unjoined: no reference to compare with",
)


# -- a small kit: pictures as grey arrays, words found in them ---------------------------


def grey(picture: bytes | Image.Image) -> np.ndarray:
    """Ink as numbers 0..1 (1 = darkest against the picture's own background)."""
    image = Image.open(io.BytesIO(picture)) if isinstance(picture, bytes) else picture
    values = np.asarray(image.convert("L"), dtype=float) / 255.0
    background = float(np.median(values))
    return np.abs(values - background)


def crop(ink: np.ndarray) -> np.ndarray:
    """The smallest box holding all ink."""
    ys, xs = np.nonzero(ink > 0.02)
    return ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def pillow_word(text: str, size: int, *, raqm: bool = False, font: str = DEJAVU,
                **options: str) -> np.ndarray:
    """``text`` drawn alone by Pillow (basic layout unless ``raqm``), cropped to its ink."""
    engine = ImageFont.Layout.RAQM if raqm else ImageFont.Layout.BASIC
    face = ImageFont.truetype(font, size, layout_engine=engine)
    image = Image.new("L", (int(face.getlength(text, **options)) + 40, size * 2), 0)
    ImageDraw.Draw(image).text((20, size // 3), text, font=face, fill=255, **options)
    return crop(grey(image))


def mpl_word(text: str, size: float = 10.0, *, fname: str | None = None,
             colour: str = "black") -> np.ndarray:
    """``text`` drawn alone by raw matplotlib (as typed), cropped to its ink."""
    figure = Figure(figsize=(8, 1), dpi=100)
    FigureCanvasAgg(figure)
    options = {"fname": fname} if fname else {"family": "DejaVu Sans"}
    prop = font_manager.FontProperties(size=size, **options)  # type: ignore[arg-type]
    figure.text(0.02, 0.3, text, fontproperties=prop, color=colour, parse_math=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return crop(grey(buffer.getvalue()))


def blur(ink: np.ndarray) -> np.ndarray:
    """A 3x3 box blur, so that glyphs drawn at different sub-pixel offsets compare equal."""
    padded = np.pad(ink, 1)
    rows, cols = ink.shape
    return sum(padded[i: i + rows, j: j + cols] for i in range(3) for j in range(3)) / 9


def find(ink: np.ndarray, word: np.ndarray) -> tuple[float, tuple[int, int]]:
    """Where ``word`` best matches in ``ink``: (difference 0..2, (top, left)).

    The difference is 1 minus the normalised cross-correlation (both sides taken about their
    mean), so it is blind to the ink's colour and a plain area never matches.
    """
    ink, word = blur(ink), blur(word)
    h, w = word.shape
    big_h, big_w = ink.shape
    if h > big_h or w > big_w:
        return 2.0, (0, 0)
    n = h * w
    centred = word - word.mean()
    shape = (big_h + h, big_w + w)
    spectrum = np.fft.rfft2(ink, shape) * np.conj(np.fft.rfft2(centred, shape))
    product = np.fft.irfft2(spectrum, shape)[: big_h - h + 1, : big_w - w + 1]

    def window_sums(values: np.ndarray) -> np.ndarray:
        table = np.pad(np.cumsum(np.cumsum(values, 0), 1), ((1, 0), (1, 0)))
        sums = table[h:, w:] - table[:-h, w:] - table[h:, :-w] + table[:-h, :-w]
        return sums[: big_h - h + 1, : big_w - w + 1]

    spread = window_sums(ink**2) - window_sums(ink) ** 2 / n
    correlation = product / np.sqrt(np.maximum(spread, 1e-9) * float((centred**2).sum()))
    score = 1 - correlation
    top, left = np.unravel_index(int(np.argmin(score)), score.shape)
    return max(0.0, float(score[top, left])), (int(top), int(left))


def shows(ink: np.ndarray, word: np.ndarray) -> tuple[int, int] | None:
    """Where ``ink`` shows exactly ``word`` (top, left), or None."""
    score, where = find(ink, word)
    return where if score < MATCH else None


# -- what the libraries do ---------------------------------------------------------------


def test_the_libraries_are_asked_and_the_installed_ones_lay_text_out_themselves() -> None:
    assert pictures.pillow_lays_out() == bool(features.check("raqm"))
    # matplotlib 3.11+ bundles libraqm.
    assert pictures.matplotlib_lays_out() == bool(getattr(ft2font, "__libraqm_version__", ""))


@pytest.fixture
def by_hand_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pretend neither library shapes text (an old Pillow or matplotlib)."""
    for name in ("pillow_lays_out", "matplotlib_lays_out"):
        monkeypatch.setattr(pictures, name, lambda: False)
    pictures.pillow_font.cache_clear()
    yield
    pictures.pillow_font.cache_clear()


def test_text_goes_as_typed_to_a_library_that_lays_out_and_by_hand_to_one_that_does_not(
    by_hand_only: None,
) -> None:
    assert pictures.by_hand(SARA) == SARA_ON_SCREEN
    assert pictures.by_hand("\u200f" + SARA + "\u200d") == SARA_ON_SCREEN  # marks not drawn
    assert pictures.for_pillow(SARA)[0] == SARA_ON_SCREEN
    assert pictures.for_matplotlib(SARA) == SARA_ON_SCREEN
    assert pictures.for_pillow("Sara") == ("Sara", {})
    # A right-to-left line with Latin and digits: the Latin run keeps its own order.
    assert pictures.by_hand("سارة Sara 12", "rtl") == "Sara 12 " + SARA_ON_SCREEN
    # Digits alone in a right-to-left line: the first number typed stands at the right.
    assert pictures.by_hand("10 · 100%", "rtl") == "100% · 10"
    assert pictures.by_hand("10 · 100%") == "10 · 100%"


def test_pillow_with_raqm_gets_the_typed_text_and_the_line_direction() -> None:
    if not pictures.pillow_lays_out():
        pytest.skip("this Pillow has no libraqm")
    assert pictures.for_pillow(SARA) == (SARA, {"direction": "rtl"})
    assert pictures.for_pillow("Level 3", "ltr") == ("Level 3", {"direction": "ltr"})


@pytest.mark.parametrize("hand", [False, True], ids=["library", "by-hand"])
def test_a_drawn_arabic_name_reads_right_to_left_joined(
    hand: bool, request: pytest.FixtureRequest,
) -> None:
    if hand:
        request.getfixturevalue("by_hand_only")
    image = Image.new("L", (300, 80), 0)
    pictures.draw_line(ImageDraw.Draw(image), (280, 10), SARA, size=36, fill=255,
                       align="right")
    ink = grey(image)
    assert shows(ink, pillow_word(SARA_ON_SCREEN, 36)) is not None
    assert shows(ink, pillow_word(SARA_BACKWARDS, 36)) is None
    assert 275 <= np.nonzero(ink.sum(0))[0].max() <= 281  # its right edge where asked


@pytest.mark.parametrize("hand", [False, True], ids=["library", "by-hand"])
def test_mixed_arabic_latin_and_digits_in_a_right_to_left_line(
    hand: bool, request: pytest.FixtureRequest,
) -> None:
    if hand:
        request.getfixturevalue("by_hand_only")
    image = Image.new("L", (400, 80), 0)
    pictures.draw_line(ImageDraw.Draw(image), (380, 10), "سارة Sara 12", size=30, fill=255,
                       align="right", direction="rtl")
    ink = grey(image)
    arabic = shows(ink, pillow_word(SARA_ON_SCREEN, 30))
    latin = shows(ink, pillow_word("Sara 12", 30))
    assert arabic is not None and latin is not None
    assert arabic[1] > latin[1]  # read from the right: the name first, then "Sara 12"


def test_wrapping_keeps_reading_order_and_each_line_is_laid_out_on_its_own() -> None:
    question = "ما هي أفضل لغة برمجة للمبتدئين في مجتمعنا الصغير هذا العام؟"
    lines = pictures.wrap(question, lambda line: len(line) <= 20)
    assert " ".join(lines) == question  # top line holds the first words
    assert len(lines) == 3 and all(len(line) <= 20 for line in lines)
    assert pictures.wrap("abcdefghij", lambda line: len(line) <= 4) == ["abcd", "efgh", "ij"]
    measured = pictures.pillow_wrap(question, size=20, width=200)
    assert " ".join(measured) == question and len(measured) > 1
    font = pictures.pillow_font(20)
    assert all(font.getlength(*[pictures.for_pillow(line, "rtl")[0]]) <= 200
               for line in measured)


def test_a_character_no_font_has_is_named_not_drawn_as_a_box() -> None:
    assert pictures.drawable("🍕 بيتزا", [DEJAVU]) == "U+1F355 بيتزا"
    emoji = pictures.emoji_font()
    assert emoji is not None, "the emoji font (manimgx-fonts) is a dependency"
    assert pictures.drawable("🍕 بيتزا", [DEJAVU, emoji]) == "🍕 بيتزا"
    assert pictures.drawable("👍🏽\u200d", [DEJAVU, emoji]) == "👍🏽\u200d"


def test_matplotlib_draws_emoji_from_the_emoji_font() -> None:
    emoji = pictures.emoji_font()
    assert emoji is not None
    figure = Figure(figsize=(3, 1), dpi=100)
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.3, pictures.for_matplotlib("🍕"), fontsize=10,
                **pictures.mpl_text_options())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    ink = grey(buffer.getvalue())
    assert shows(ink, mpl_word("🍕", fname=str(emoji))) is not None
    with pytest.warns(UserWarning, match="missing from font"):
        box = mpl_word("🍕")  # DejaVu alone draws its "missing glyph" box
    assert shows(ink, box) is None
