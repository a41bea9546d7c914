from hypothesis import given
from hypothesis import strategies as st

from bot.core.markup import Markup, Style, escape, mention, parse, plain


@given(st.text())
def test_escaped_user_text_renders_literally(text: str) -> None:
    spans = parse(escape(text))
    assert "".join(s.text for s in spans) == text
    assert all(s.style is Style.PLAIN and not s.bold and not s.italic for s in spans)


def test_markup_formats_escape_user_values() -> None:
    out = Markup("**Hello** {name}").format(name="*evil* [x](member:1)")
    spans = parse(out)
    assert spans[0].bold and spans[0].text == "Hello"
    assert plain(out) == "Hello *evil* [x](member:1)"
    assert not any(s.style is Style.MENTION for s in spans)


def test_mentions_and_links() -> None:
    spans = parse(Markup("hi ") + mention("42", "Sara_") + Markup(" see [docs](https://x.org)"))
    assert [s.style for s in spans] == [Style.PLAIN, Style.MENTION, Style.PLAIN, Style.LINK]
    assert spans[1].target == "42" and spans[1].text == "Sara_"
    assert spans[3].target == "https://x.org"


def test_unbalanced_markers_stay_literal() -> None:
    assert plain(Markup("5 ** 2 and a_b")) == "5 ** 2 and a_b"
