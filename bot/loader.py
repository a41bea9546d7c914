"""Finding plugins: folders under ``plugins/`` and the ``majlis.plugins`` entry points."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.core.plugin import Plugin

log = logging.getLogger(__name__)

PLUGINS_DIR = Path(__file__).resolve().parent.parent / "plugins"
ENTRY_POINT_GROUP = "majlis.plugins"


@dataclass(frozen=True, slots=True)
class Found:
    """A plugin class and where it came from (``plugins/x`` or a distribution)."""

    cls: type[Plugin]
    origin: str


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """A plugin that raised while loading, and why."""

    name: str
    origin: str
    error: str


def plugin_class(module_name: str) -> type[Plugin]:
    """The Plugin subclass defined in a module."""
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Plugin)
            and value is not Plugin
            and value.__module__ == module.__name__
        ):
            return value
    raise LookupError(f"{module_name} defines no Plugin subclass")


def discover(only: list[str] | None = None) -> tuple[list[Found], list[LoadFailure]]:
    """Import every plugin; one that raises is reported and skipped."""
    found: list[Found] = []
    failures: list[LoadFailure] = []
    names: set[str] = set()
    candidates: list[tuple[str, str]] = []
    if PLUGINS_DIR.is_dir():
        for folder in sorted(PLUGINS_DIR.iterdir()):
            if (folder / "__init__.py").exists() and not folder.name.startswith("_"):
                candidates.append((folder.name, f"plugins.{folder.name}"))
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        candidates.append((entry.name, entry.value))
    for name, target in candidates:
        if only is not None and name not in only:
            continue
        try:
            if ":" in target:
                module_name, _, attr = target.partition(":")
                cls = getattr(importlib.import_module(module_name), attr)
            else:
                cls = plugin_class(target)
            if not cls.name:
                raise ValueError("the plugin class has no name")
        except Exception as exc:
            log.exception("plugin %s could not be loaded", name)
            failures.append(LoadFailure(name, target, f"{type(exc).__name__}: {exc}"))
            continue
        if cls.name in names:
            log.warning("plugin %s found twice; keeping the first", cls.name)
            continue
        names.add(cls.name)
        found.append(Found(cls, target))
    return found, failures


def reimport(cls: type[Plugin]) -> type[Plugin]:
    """Import a plugin's module again (for reload), returning the new class.

    The caller (``App.reload_plugin``) puts the old modules back if this raises.
    """
    module_name = cls.__module__
    for loaded in [m for m in sys.modules if m == module_name or m.startswith(module_name + ".")]:
        del sys.modules[loaded]
    module = importlib.import_module(module_name)
    found = getattr(module, cls.__name__, None)
    if isinstance(found, type) and issubclass(found, Plugin) and found is not Plugin:
        return found
    return plugin_class(module_name)
