"""The import rules of the design map, read from the code with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _offences(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)}: {name}")
    return found


def test_plugins_import_only_the_public_bot() -> None:
    forbidden = ("bot.core", "bot.app", "bot.adapters", "discord", "telegram",
                 "sqlalchemy.dialects")
    assert _offences(ROOT / "plugins", forbidden) == []


def test_the_kernel_imports_no_composition_root_adapter_or_platform_library() -> None:
    forbidden = ("bot.app", "bot.adapters", "discord", "telegram", "plugins")
    assert _offences(ROOT / "bot" / "core", forbidden) == []


def test_adapters_import_no_plugin() -> None:
    assert _offences(ROOT / "bot" / "adapters", ("plugins",)) == []
