r"""A small, platform-neutral markup language and its escaping.

Translated templates are trusted markup; everything else (member names, messages,
settings text) is user text and is escaped before it enters markup, in the way
``markupsafe`` treats HTML. Adapters parse markup into :class:`Span` runs and render
them for their platform, escaping again for that platform's format.

Syntax: ``**bold**``, ``__italic__``, `` `code` ``, ``[label](https://url)``,
``[name](member:ID)`` for a mention, and ``\\`` to escape any of ``*_`[]()\\``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, SupportsIndex

_SPECIAL = frozenset("*_`[]()\\")
_ESCAPE_TABLE = str.maketrans({c: "\\" + c for c in _SPECIAL})


class Markup(str):
    """A string known to be markup; ``%``/``format`` escape what they insert."""

    __slots__ = ()

    def __add__(self, other: str) -> Markup:
        return Markup(str.__add__(self, escape(other)))

    def __radd__(self, other: str) -> Markup:
        return Markup(str.__add__(escape(other), self))

    def format(self, *args: Any, **kwargs: Any) -> Markup:
        """Format with every argument escaped (markup arguments pass through)."""
        return Markup(
            str.format(
                self,
                *(_escape_value(a) for a in args),
                **{k: _escape_value(v) for k, v in kwargs.items()},
            )
        )

    def join(self, parts: Any) -> Markup:
        """Join escaped parts."""
        return Markup(str.join(self, (escape(p) for p in parts)))

    def __mul__(self, n: SupportsIndex) -> Markup:
        return Markup(str.__mul__(self, n))


def _escape_value(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return escape(value)
    return value


def escape(text: str) -> Markup:
    """Escape user text so it renders literally."""
    if isinstance(text, Markup):
        return text
    return Markup(str(text).translate(_ESCAPE_TABLE))


def mention(member_id: str, name: str) -> Markup:
    """Markup that mentions one member by id, showing ``name``."""
    return Markup(f"[{escape(name)}](member:{escape(member_id)})")


def link(label: str, url: str) -> Markup:
    """Markup for a link."""
    return Markup(f"[{escape(label)}]({escape(url)})")


def bold(text: str) -> Markup:
    """Markup for bold text."""
    return Markup(f"**{escape(text)}**")


class Style(StrEnum):
    """How a span is shown."""

    PLAIN = "plain"
    BOLD = "bold"
    ITALIC = "italic"
    CODE = "code"
    LINK = "link"
    MENTION = "mention"


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with one style; ``target`` is a URL or a member id."""

    text: str
    style: Style = Style.PLAIN
    target: str = ""
    bold: bool = False
    italic: bool = False


def parse(markup: str) -> list[Span]:
    """Split markup into spans; unbalanced markers are kept as literal text."""
    spans: list[Span] = []
    buf: list[str] = []
    bold = italic = False
    i, n = 0, len(markup)

    def flush() -> None:
        if buf:
            spans.append(Span("".join(buf), bold=bold, italic=italic))
            buf.clear()

    while i < n:
        c = markup[i]
        if c == "\\" and i + 1 < n:
            buf.append(markup[i + 1])
            i += 2
            continue
        if markup.startswith("**", i) and (bold or _closes(markup, i + 2, "**")):
            flush()
            bold = not bold
            i += 2
            continue
        if markup.startswith("__", i) and (italic or _closes(markup, i + 2, "__")):
            flush()
            italic = not italic
            i += 2
            continue
        if c == "`":
            end = _find_unescaped(markup, "`", i + 1)
            if end != -1:
                flush()
                spans.append(Span(_unescape(markup[i + 1 : end]), Style.CODE))
                i = end + 1
                continue
        if c == "[":
            close = _find_unescaped(markup, "]", i + 1)
            if close != -1 and markup.startswith("(", close + 1):
                end = _find_unescaped(markup, ")", close + 2)
                if end != -1:
                    flush()
                    label = _unescape(markup[i + 1 : close])
                    target = _unescape(markup[close + 2 : end])
                    if target.startswith("member:"):
                        spans.append(Span(label, Style.MENTION, target[7:]))
                    else:
                        spans.append(Span(label, Style.LINK, target, bold, italic))
                    i = end + 1
                    continue
        buf.append(c)
        i += 1
    flush()
    return spans


def _closes(markup: str, start: int, marker: str) -> bool:
    return _find_unescaped(markup, marker, start) != -1


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while True:
        j = text.find(needle, i)
        if j == -1:
            return -1
        backslashes = 0
        k = j - 1
        while k >= start and text[k] == "\\":
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            return j
        i = j + 1


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def plain(markup: str) -> str:
    """The text of markup with all formatting removed (mentions keep their name)."""
    return "".join(span.text for span in parse(markup))


def to_markup(text: str | Markup) -> Markup:
    """Treat a plain ``str`` as user text and markup as markup."""
    return text if isinstance(text, Markup) else escape(text)
