"""Translations: gettext catalogs with CLDR plural rules, and Babel for numbers and dates.

Catalogs live in ``locales/<lang>/LC_MESSAGES/<domain>.po``: the domain ``core`` for the
framework and one domain per plugin (named after it). A compiled ``.mo`` beside a ``.po``
is used when it is at least as new; otherwise the ``.po`` is compiled in memory.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_timezone_location,
)
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from bot.core.markup import Markup, escape

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
CORE_DOMAIN = "core"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def normalize_language(code: str | None) -> str | None:
    """``ar-SA``/``ar_SA``/``AR`` -> ``ar``; None for empty or unknown codes."""
    if not code:
        return None
    base = code.replace("-", "_").split("_", 1)[0].lower()
    if not base.isalpha() or not 2 <= len(base) <= 3:
        return None
    return base


class Catalogs:
    """Every domain's catalogs, loaded once and cached per (domain, language)."""

    def __init__(self, default: str = DEFAULT_LANGUAGE) -> None:
        """Start with the core domain from the project's ``locales/``."""
        self.default = default
        self._dirs: dict[str, list[Path]] = {CORE_DOMAIN: [LOCALES_DIR]}
        self._cache: dict[tuple[str, str], gettext.NullTranslations] = {}

    def add_domain(self, domain: str, directory: Path) -> None:
        """Look for ``domain`` catalogs in ``directory`` too (a third-party plugin's own)."""
        dirs = self._dirs.setdefault(domain, [])
        if directory not in dirs:
            dirs.append(directory)
        self._cache = {k: v for k, v in self._cache.items() if k[0] != domain}

    def languages(self) -> list[str]:
        """Languages with a core catalog."""
        found = {
            p.parent.parent.name
            for d in self._dirs[CORE_DOMAIN]
            for p in d.glob(f"*/LC_MESSAGES/{CORE_DOMAIN}.po")
        }
        return sorted(found | {self.default})

    def translations(self, domain: str, language: str) -> gettext.NullTranslations:
        """The catalog of ``domain`` in ``language``, falling back to the core domain."""
        key = (domain, language)
        found = self._cache.get(key)
        if found is None:
            found = self._load(domain, language)
            if domain != CORE_DOMAIN:
                found.add_fallback(self.translations(CORE_DOMAIN, language))
            self._cache[key] = found
        return found

    def _load(self, domain: str, language: str) -> gettext.NullTranslations:
        for directory in reversed(self._dirs.get(domain, [LOCALES_DIR])):
            po = directory / language / "LC_MESSAGES" / f"{domain}.po"
            mo = po.with_suffix(".mo")
            if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
                with mo.open("rb") as fp:
                    return gettext.GNUTranslations(fp)
            if po.exists():
                return gettext.GNUTranslations(io.BytesIO(compile_po(po)))
        return gettext.NullTranslations()


def compile_po(po: Path) -> bytes:
    """Compile a ``.po`` file to ``.mo`` bytes (plural forms kept)."""
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=po.parent.parent.name, domain=po.stem)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_all(root: Path = LOCALES_DIR) -> list[Path]:
    """Write a ``.mo`` beside every ``.po`` under ``root``; returns what was written."""
    written = []
    for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_po(po))
        written.append(mo)
    return written


class Translator:
    """Strings, numbers and dates for one domain in one language."""

    __slots__ = ("_catalog", "babel_locale", "language", "timezone")

    def __init__(
        self, catalogs: Catalogs, domain: str, language: str, timezone: str = "UTC"
    ) -> None:
        """Bind ``domain`` in ``language``; dates are shown in ``timezone``."""
        self.language = language
        self._catalog = catalogs.translations(domain, language)
        try:
            self.babel_locale = Locale.parse(language)
        except (UnknownLocaleError, ValueError):
            self.babel_locale = Locale.parse(DEFAULT_LANGUAGE)
        self.timezone = timezone

    @property
    def rtl(self) -> bool:
        """Whether the language is written right to left."""
        return self.babel_locale.character_order == "right-to-left"

    def t(self, message: str, /, **values: Any) -> Markup:
        """Translate ``message`` and fill ``{placeholders}`` (user text is escaped)."""
        return Markup(self._catalog.gettext(message)).format(**self._localize(values))

    def tn(self, singular: str, plural: str, n: int, /, **values: Any) -> Markup:
        """Translate with the language's plural rule for ``n`` (Arabic has six forms)."""
        values.setdefault("n", n)
        return Markup(self._catalog.ngettext(singular, plural, n)).format(**self._localize(values))

    def plain(self, message: str, /, **values: Any) -> str:
        """Translate for places that take no markup (button labels, command help)."""
        text = self._catalog.gettext(message)
        return text.format(**self._localize(values)) if values else text

    def plain_n(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """:meth:`plain` with the language's plural rule for ``n`` (as :meth:`tn`)."""
        values.setdefault("n", n)
        return self._catalog.ngettext(singular, plural, n).format(**self._localize(values))

    def number(self, value: float) -> str:
        """A number written the way the language writes it."""
        return format_decimal(value, locale=self.babel_locale)

    def percent(self, fraction: float) -> str:
        """A fraction as a percentage (0.25 -> 25%)."""
        return format_percent(fraction, locale=self.babel_locale)

    def datetime(self, when: dt.datetime, fmt: str | None = None) -> str:
        """A date and time in the community's timezone, the timezone named.

        By default the way people write a moment: weekday, day, month and year (an event or a
        deadline may be in another year), hours and minutes (no seconds), then the zone's
        city ("Tue, January 6, 2026, 18:00 (Riyadh)"). ``fmt`` asks for one of Babel's
        formats instead ("medium", "short", a pattern).
        """
        zone = ZoneInfo(self.timezone)
        if fmt is not None:
            return format_datetime(when, fmt, tzinfo=zone, locale=self.babel_locale)
        return self.plain(
            "{date}, {time} ({zone})",
            date=format_skeleton("yMMMMEEEEd", when, tzinfo=zone, locale=self.babel_locale),
            time=format_skeleton("Hm", when, tzinfo=zone, locale=self.babel_locale),
            zone=self.zone_name(),
        )

    def zone_name(self, zone: str | None = None) -> str:
        """A timezone (the community's by default) as its city in the language ("الرياض")."""
        zone = zone or self.timezone
        if zone.upper() in ("UTC", "ETC/UTC", "GMT", "ETC/GMT"):
            return "UTC"
        return get_timezone_location(ZoneInfo(zone), locale=self.babel_locale, return_city=True)

    def date(self, when: dt.datetime, fmt: str = "medium") -> str:
        """A date in the community's timezone."""
        return format_date(when.astimezone(ZoneInfo(self.timezone)), fmt, locale=self.babel_locale)

    def time(self, when: dt.datetime, fmt: str = "short") -> str:
        """A time of day in the community's timezone."""
        return format_time(when, fmt, tzinfo=ZoneInfo(self.timezone), locale=self.babel_locale)

    def duration(self, delta: dt.timedelta) -> str:
        """A duration in words, exact to the minute ("1 hour and 30 minutes", "ساعة و30 دقيقة").

        Days, hours and minutes, each in the language's plural form (CLDR's units: "ساعتان",
        "3 ساعات", "11 ساعة"), joined the language's way; a whole unit stays one ("2 hours").
        Seconds are rounded to the nearest minute, and only a duration under a minute is
        written in seconds.
        """
        seconds = abs(delta.total_seconds())
        if seconds < 60:
            return self._unit(round(seconds), "second")
        days, minutes = divmod(int((seconds + 30) // 60), 24 * 60)
        hours, minutes = divmod(minutes, 60)
        return format_list([self._unit(n, unit) for n, unit in
                            ((days, "day"), (hours, "hour"), (minutes, "minute")) if n],
                           locale=self.babel_locale)

    def _unit(self, n: int, unit: str) -> str:
        """``n`` of one unit of time in words ("2 hours", "ساعتان")."""
        return format_unit(n, f"duration-{unit}", length="long", locale=self.babel_locale)

    def weekday(self, iso_day: int) -> str:
        """The name of a day of the week (ISO: Monday 1 … Sunday 7) in the language."""
        return str(self.babel_locale.days["format"]["wide"][iso_day - 1])

    def all_of(self, items: list[str]) -> str:
        """Items that all hold, joined the language's way ("a, b and c" / "a وb وc")."""
        return format_list(items, locale=self.babel_locale)

    def _localize(self, values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, bool):
                out[key] = escape(str(value))
            elif isinstance(value, int | float):
                out[key] = Markup(escape(self.number(value)))
            elif isinstance(value, dt.datetime):
                out[key] = escape(self.datetime(value))
            elif isinstance(value, dt.timedelta):
                out[key] = escape(self.duration(value))
            elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
                # alternatives, joined the language's way ("a, b, or c" / "a أو b أو c")
                out[key] = format_list(list(value), style="or", locale=self.babel_locale)
            else:
                out[key] = value
        return out
