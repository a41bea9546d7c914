"""Keeps catalogs complete: extracts msgids from the code and checks every language.

``python run.py i18n check`` lists problems; ``python -m bot.i18n_check update`` adds
missing entries (English filled with the msgid, Arabic left for a translator).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"t": None, "tn": (1, 2), "N_": None, "plain": None, "plain_n": (1, 2)}
LANGUAGES = ("en", "ar")
PLURAL_COUNT = {"en": 2, "ar": 6}
#: GNU gettext's Arabic rule: [4] is "many" (11-99), [5] is "other" (100-102, ...).
#: Babel writes another order, which would swap the forms translators filled in.
ARABIC_PLURALS = (
    "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
    "n%100>=11 ? 4 : 5);"
)


def sources() -> dict[str, list[Path]]:
    """Python files per gettext domain.

    ``core`` for bot/, ``discord``/``telegram`` for those adapters, and the plugin's name
    for each plugin.
    """
    adapters = ROOT / "bot" / "adapters"
    own = {p for p in adapters.glob("*.py") if p.stem not in ("__init__", "console")}
    domains: dict[str, list[Path]] = {
        "core": sorted(p for p in (ROOT / "bot").rglob("*.py") if p not in own)
    }
    for path in sorted(own):
        # discord.py, discord_render.py, ... all belong to the "discord" domain
        domains.setdefault(path.stem.split("_", 1)[0], []).append(path)
    for folder in sorted((ROOT / "plugins").iterdir()):
        if (folder / "__init__.py").exists():
            domains[folder.name] = sorted(
                p for p in folder.rglob("*.py") if "migrations" not in p.parts
            )
    return domains


def messages(files: list[Path]) -> dict[str, str | tuple[str, str]]:
    """Every msgid in ``files`` (plural ones as (singular, plural))."""
    found: dict[str, str | tuple[str, str]] = {}
    for path in files:
        for _line, message, _comments, _context in extract_from_file(
            "python",
            str(path),
            keywords=KEYWORDS,
        ):
            if isinstance(message, tuple):
                if message[0] and message[1]:
                    found[message[0]] = (message[0], message[1])
            elif message:
                found[message] = message
    return found


def catalog_path(domain: str, language: str, root: Path = ROOT / "locales") -> Path:
    """Where a domain's catalog for a language lives."""
    return root / language / "LC_MESSAGES" / f"{domain}.po"


def _read(path: Path, language: str, domain: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language, domain=domain)
    with path.open("rb") as fp:
        return read_po(fp, locale=language, domain=domain)


def problems() -> list[str]:
    """Missing or untranslated strings and missing plural forms, one line each."""
    out: list[str] = []
    for domain, files in sources().items():
        wanted = messages(files)
        for language in LANGUAGES:
            path = catalog_path(domain, language)
            catalog = _read(path, language, domain)
            if language == "ar" and path.exists() and ARABIC_PLURALS not in _header(path):
                out.append(f"{path.relative_to(ROOT)}: Plural-Forms must be {ARABIC_PLURALS}")
            for msgid, message in wanted.items():
                entry = catalog.get(msgid)
                if entry is None:
                    out.append(f"{path.relative_to(ROOT)}: missing {msgid!r}")
                    continue
                if isinstance(message, tuple):
                    strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
                    if len(strings) != PLURAL_COUNT[language] or not all(strings):
                        out.append(
                            f"{path.relative_to(ROOT)}: {msgid!r} needs "
                            f"{PLURAL_COUNT[language]} plural forms"
                        )
                elif not entry.string:
                    out.append(f"{path.relative_to(ROOT)}: untranslated {msgid!r}")
    return out


def update() -> Iterator[Path]:
    """Add missing entries to every catalog (English gets the msgid as its text)."""
    for domain, files in sources().items():
        wanted = messages(files)
        for language in LANGUAGES:
            path = catalog_path(domain, language)
            catalog = _read(path, language, domain)
            changed = not path.exists()
            for msgid, message in wanted.items():
                if catalog.get(msgid) is not None:
                    continue
                changed = True
                if isinstance(message, tuple):
                    strings = message if language == "en" else ("",) * PLURAL_COUNT[language]
                    catalog.add(message, strings)
                else:
                    catalog.add(msgid, msgid if language == "en" else "")
            if changed:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("wb") as fp:
                    write_po(fp, catalog, width=99, omit_header=False, sort_output=True)
                if language == "ar":
                    _fix_arabic_header(path)
                yield path


def _header(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text.split("\n\n", 1)[0].replace('"\n"', "")


def _fix_arabic_header(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    out: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith('"Plural-Forms:'):
            out.append(f'"Plural-Forms: {ARABIC_PLURALS}\\n"')
            skipping = not line.endswith('\\n"')
            continue
        if skipping:
            skipping = not line.endswith('\\n"')
            continue
        out.append(line)
    path.write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["update"]:
        for written in update():
            print(written)
    else:
        for line in problems():
            print(line)
