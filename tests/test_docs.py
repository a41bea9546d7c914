"""The plugin-author docs keep up with the code: every public name documented, examples compile."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

import bot
import bot.testing
from tests.conftest import ROOT

API = ROOT / "docs" / "api.md"
#: Pages whose ``python`` examples must compile.
PAGES = (API, ROOT / "docs" / "plugins.md", ROOT / "plugins" / "example" / "README.md")
_HEADING = re.compile(r"^### `([^`]+)`", re.MULTILINE)
_PYTHON = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _testing_tree() -> ast.Module:
    return ast.parse(Path(bot.testing.__file__).read_text(encoding="utf-8"))


def kit_names() -> list[str]:
    """The public names ``bot/testing.py`` defines itself (imports are not its names)."""
    names: list[str] = []
    for node in _testing_tree().body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


def fake_community_members() -> list[str]:
    """What a test may call on a ``FakeCommunity``: methods, properties, attributes."""
    tree = _testing_tree()
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "FakeCommunity")
    names = [n.name for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    for node in ast.walk(init):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.append(node.attr)
    return sorted({n for n in names if not n.startswith("_")})


def documented() -> set[str]:
    """The names with an entry (a ``### `name``` heading) in docs/api.md."""
    return set(_HEADING.findall(API.read_text(encoding="utf-8")))


def test_every_public_name_of_bot_has_an_entry() -> None:
    missing = sorted(set(bot.__all__) - documented())
    assert missing == [], f"add these to docs/api.md (### `name`, a line, an example): {missing}"


def test_every_public_name_of_the_testing_kit_has_an_entry() -> None:
    assert "FakeCommunity" in kit_names()
    missing = sorted(set(kit_names()) - documented())
    assert missing == [], f"add these to docs/api.md's testing kit: {missing}"


def test_every_entry_is_a_public_name() -> None:
    stale = sorted(documented() - set(bot.__all__) - set(kit_names()))
    assert stale == [], f"docs/api.md documents names that are not public (any more): {stale}"


def test_what_a_test_can_do_with_a_fake_community_is_documented() -> None:
    text = API.read_text(encoding="utf-8")
    members = fake_community_members()
    assert {"says", "presses", "advance", "expect"} <= set(members)
    assert [m for m in members if f"club.{m}" not in text] == []
    fields = [f.name for f in dataclasses.fields(bot.testing.Sent)] + ["is_dm"]
    assert [f for f in fields if f"`{f}`" not in text] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_example_compiles(page: Path) -> None:
    blocks = _PYTHON.findall(page.read_text(encoding="utf-8"))
    for number, code in enumerate(blocks, 1):
        try:
            compile(code, f"{page.name}, python example {number}", "exec")
        except SyntaxError as error:
            pytest.fail(f"{page.name}: python example {number} does not compile: {error}")


def test_the_reference_has_examples() -> None:
    # Each entry is a heading, a purpose line and an example: about one block per entry.
    assert len(_PYTHON.findall(API.read_text(encoding="utf-8"))) >= len(documented()) * 0.9
