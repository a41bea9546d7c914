"""``python run.py new-plugin NAME``: copy the example plugin under a new name.

Identifiers (``Example`` -> ``Name``), the plugin name, gettext domain, table prefix,
payload prefixes and the catalogs are renamed; the example's migrations are left out
because the new tables need their own first revision.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.loader import PLUGINS_DIR

TEMPLATE = "example"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def _rename(text: str, name: str) -> str:
    camel = "".join(part.capitalize() for part in name.split("_"))
    text = text.replace("Example", camel).replace("example", name)
    return text.replace("EXAMPLE", name.upper())


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
    readme = source / "README.md"
    if readme.exists():
        (target / "README.md").write_text(_rename(readme.read_text(encoding="utf-8"), name),
                                          encoding="utf-8")
    for po in sorted(locales.glob(f"*/LC_MESSAGES/{TEMPLATE}.po")):
        copy = po.with_name(f"{name}.po")
        if not copy.exists():
            shutil.copyfile(po, copy)
    return target
