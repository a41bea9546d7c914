"""``python run.py new-plugin NAME``: copy the example plugin under a new name.

The copy has the template's package shape (``__init__.py``, ``settings.py``, ``store.py``,
``render.py``, ``tables.py``, ``migrations/``, ``README.md``) with identifiers
(``Example`` -> ``Name``), the plugin name, gettext domain, table prefix and payload
prefixes renamed, and the catalogs copied. The example's revisions are not copied: the new
plugin gets one first revision of its own, generated from its renamed ``tables.py``, so it
starts (and passes the schema check) straight away.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from sqlalchemy import MetaData

from bot.core import migrate
from bot.loader import PLUGINS_DIR

TEMPLATE = "example"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
#: What is copied from the template besides its Python modules.
EXTRA_FILES = ("README.md",)


#: The template's commands; a copy gets them under its own name so the two never clash.
TEMPLATE_COMMANDS = ("remind",)


def command_of(name: str, command: str) -> str:
    """The copy's name for a template command: ``NAME_command``, within 32 characters."""
    return f"{name[: 31 - len(command)]}_{command}"


def _commands(text: str, name: str) -> str:
    """Rename the template's commands where they are declared and where help shows them."""
    for command in TEMPLATE_COMMANDS:
        renamed = command_of(name, command)
        text = text.replace(f'@command("{command}"', f'@command("{renamed}"')
        text = re.sub(rf"/{command}\b", f"/{renamed}", text)
    return text


def _rename(text: str, name: str) -> str:
    camel = "".join(part.capitalize() for part in name.split("_"))
    text = text.replace("Example", camel).replace("example", name)
    return _commands(text.replace("EXAMPLE", name.upper()), name)


def new_plugin(name: str, plugins: Path = PLUGINS_DIR, locales: Path | None = None) -> Path:
    """Create ``plugins/NAME`` from the template and its catalogs; returns the folder.

    Raises:
        ValueError: the name is not ``[a-z][a-z0-9_]`` or the plugin exists already.
    """
    if not NAME.match(name):
        raise ValueError(f"{name!r}: a plugin name is lower case letters, digits and _")
    source = plugins / TEMPLATE
    target = plugins / name
    if target.exists():
        raise ValueError(f"{target} exists already")
    locales = locales or plugins.parent / "locales"
    target.mkdir(parents=True)
    (target / "migrations").mkdir()
    for path in sorted(source.rglob("*.py")):
        relative = path.relative_to(source)
        if "migrations" in relative.parts or "__pycache__" in relative.parts:
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(_rename(path.read_text(encoding="utf-8"), name), encoding="utf-8")
    for extra in EXTRA_FILES:
        if (source / extra).exists():
            text = _rename((source / extra).read_text(encoding="utf-8"), name)
            (target / extra).write_text(text, encoding="utf-8")
    for po in sorted(locales.glob(f"*/LC_MESSAGES/{TEMPLATE}.po")):
        copy = po.with_name(f"{name}.po")
        if not copy.exists():  # msgids as in the copied code: only the commands renamed
            copy.write_text(_commands(po.read_text(encoding="utf-8"), name), encoding="utf-8")
    if (target / "tables.py").exists():
        first_revision(name, target)
    return target


def first_revision(name: str, folder: Path) -> Path:
    """Write the first revision of ``folder/tables.py`` into ``folder/migrations``.

    ``tables.py`` imports only ``bot``, so it is loaded from its file without importing
    the new package; the revision is the difference to an empty in-memory database.
    """
    metadata = _load_metadata(name, folder / "tables.py")
    source = migrate.MigrationSource(name, folder / "migrations", metadata)
    return migrate.first_revision(source, f"{name} tables")


def _load_metadata(name: str, path: Path) -> MetaData:
    module_name = f"_majlis_new_plugin_{name}_tables"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
    metadata = getattr(module, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise ValueError(f"{path} defines no `metadata`")
    return metadata
