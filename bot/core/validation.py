"""Checking what people type and what operators configure, before anything changes.

Three audiences share these checks: members and admins typing commands (errors are msgids
of the ``core`` domain, filled and translated by the caller), operators starting the bot
(:class:`StartupError`, one plain English message naming the setting or file, what is wrong
and what is allowed), and plugin settings typed as text into ``/config`` (parsed by the
setting's type, then validated by the plugin's model).
"""

from __future__ import annotations

import difflib
import enum
import functools
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from bot.core.i18n import LOCALES_DIR, N_, Translator

#: How much of a refused value an error quotes back (Discord allows 2,000 in all).
QUOTE_CHARS = 80
#: Timezones named in errors as examples of the form ``Region/City``.
TIMEZONE_EXAMPLES = ("Asia/Riyadh", "Europe/Berlin")
#: The database URLs Majlis runs on, each with an example.
SUPPORTED_DATABASES = {
    "sqlite+aiosqlite": "sqlite+aiosqlite:///data/majlis.db",
    "postgresql+asyncpg": "postgresql+asyncpg://user:password@host/name",
}
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_SEPARATORS = str.maketrans({"،": ",", "؛": ","})
_QUOTES = {'"': '"', "'": "'", "“": "”", "«": "»", "„": "“"}
_TRUE = frozenset({"yes", "y", "true", "on", "1", "نعم", "اي", "أجل"})
_FALSE = frozenset({"no", "n", "false", "off", "0", "لا"})


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``value`` as text on one line, cut to ``limit`` characters with "…", for an error."""
    text = str(value)
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- timezones ---------------------------------------------------------------------------


@functools.cache
def _zones() -> dict[str, str]:
    from zoneinfo import available_timezones

    return {name.lower(): name for name in available_timezones()}


def find_timezone(name: str) -> str | None:
    """The IANA name ``name`` stands for (any letter case), or None; never raises.

    Only names of the timezone database count: a region folder (``Asia``), a path, or a
    name longer than any file name is not a zone, where ``ZoneInfo`` would raise OSError.
    """
    text = name.strip()
    if not text or len(text.encode("utf-8")) > 255:
        return None
    return _zones().get(text.lower())


def timezone_suggestions(name: str, count: int = 3) -> list[str]:
    """Zones close to a mistyped ``name`` (``Asia`` -> zones in Asia), best first."""
    text = name.strip().lower()[:64]
    if not text:
        return []
    zones = _zones()
    region = [zones[z] for z in sorted(zones) if z.startswith(text.rstrip("/") + "/")]
    if region:
        preferred = [z for z in TIMEZONE_EXAMPLES if z in region]
        return (preferred + [z for z in region if z not in preferred])[:count]
    close = difflib.get_close_matches(text, list(zones), n=count, cutoff=0.75)
    return [zones[z] for z in close]


# -- plugin settings typed as text -------------------------------------------------------


@dataclass
class Problem(Exception):
    """Text not in a setting's shape: ``message`` is a core msgid with ``values`` to fill."""

    message: str
    values: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message.format(**self.values)


class InvalidSetting(ValueError):
    """A setting value refused before anything was stored; ``message`` is localized."""

    def __init__(self, message: Any) -> None:
        """Keep the explanation (Markup from the caller's translator)."""
        super().__init__(str(message))
        self.message = message


def _unwrap(annotation: Any) -> Any:
    """The type under ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _shape(annotation: Any) -> tuple[str, Any, Any]:
    """("mapping", key type, value type), ("list", item type, None) or ("scalar", type, None)."""
    hint = _unwrap(annotation)
    origin = typing.get_origin(hint) or hint
    args = typing.get_args(hint)
    if origin in (dict, typing.Mapping) or (
        isinstance(origin, type) and issubclass(origin, dict)
    ):
        return "mapping", args[0] if args else str, args[1] if len(args) > 1 else str
    if origin in (list, set, frozenset, tuple, typing.Sequence):
        item = args[0] if args else str
        return "list", item, None
    return "scalar", hint, None


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def _scalar(hint: Any, text: str) -> Any:
    """Text for one scalar, eased toward its type (any digits, yes/no in Arabic too)."""
    base = _unwrap(hint)
    if base is bool:
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return text
    if base in (int, float):
        return text.strip().translate(_ARABIC_DIGITS)
    if isinstance(base, type) and issubclass(base, timedelta):
        from bot.core.commands import Duration  # commands imports this module

        try:
            return Duration.parse(text)  # 90m, 36h, 1d12h, as options are typed
        except ValueError:
            return text  # the model explains what is allowed
    return text


def parse_setting(info: FieldInfo, text: Any) -> Any:
    """Turn ``text`` typed for a setting into the shape of its type, for the model to check.

    ``a=1, b=2`` becomes a dict and ``x, y`` a list (Arabic commas too, the whole value
    may be quoted); a scalar passes through as text. Raises :class:`Problem` when the text
    is not in the shape at all (``weights abc``); the model checks every part's type.
    """
    if not isinstance(text, str):  # already typed (a platform option, or code)
        return text
    shape, first, second = _shape(info.annotation)
    if shape == "scalar":
        return _scalar(first, text)
    raw = _strip_quotes(text).translate(_SEPARATORS)
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if shape == "list":
        return [_scalar(first, item) for item in items]
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        # keys are codes like level:5; Arabic-Indic digits in them mean the same number
        key, value = key.strip().translate(_ARABIC_DIGITS), value.strip()
        if not sep or not key or not value:
            raise Problem(N_("“{item}” is not a pair like name=value"), {"item": quote(item)})
        if key in out:
            raise Problem(N_("“{item}” is given twice"), {"item": quote(key)})
        out[key] = _scalar(second, value)
    return out


def _example_value(hint: Any) -> str:
    base = _unwrap(hint)
    if base is int:
        return "5"
    if base is float:
        return "2.5"
    if base is bool:
        return "yes"
    if typing.get_origin(base) is Literal:
        return str(typing.get_args(base)[0])
    if isinstance(base, type) and issubclass(base, timedelta):
        return "90m"
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return str(next(iter(base)).value)
    return "value"


def setting_example(info: FieldInfo, core: Translator | None = None) -> str:
    """How to write a value for a setting: the model's first example, else one from its type.

    Generated examples use placeholder words of the member's language (``name=5``).
    """
    if info.examples:
        example = info.examples[0]
        return example if isinstance(example, str) else show_setting(example)

    def word(msgid: str, english: str) -> str:
        return core.plain(msgid) if core is not None else english

    shape, first, second = _shape(info.annotation)
    if shape == "mapping":
        value = _example_value(second)
        value = word(N_("example value"), "value") if value == "value" else value
        return (f"{word(N_('example key'), 'name')}={value}, "
                f"{word(N_('example other key'), 'other')}={value}")
    if shape == "list":
        one = _example_value(first)
        if one == "value":
            return f"{word(N_('example item'), 'one')}, {word(N_('example second item'), 'two')}"
        return "1d, 1h" if one == "90m" else f"{one}, {one}"
    return "36h" if _example_value(first) == "90m" else ""


def show_setting(value: Any) -> str:
    """A structured value as people type it: ``a=1, b=2`` and ``x, y`` (never a repr)."""
    if isinstance(value, dict):
        return ", ".join(f"{show_setting(k)}={show_setting(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(show_setting(v) for v in items)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, timedelta):
        return typed_duration(value)
    return str(value)


def typed_duration(delta: timedelta) -> str:
    """A length of time as people type it in a setting or option: ``1d``, ``1h30m``, ``45s``."""
    seconds = round(abs(delta.total_seconds()))
    if not seconds:
        return "0m"
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def validated_setting(
    model: type[BaseModel],
    stored: dict[str, Any],
    key: str,
    value: Any,
    translator: Translator,
    core: Translator,
) -> BaseModel:
    """The model with ``key`` set from typed ``value`` (None: back to the default).

    Raises :class:`InvalidSetting` with a localized message that quotes at most
    :data:`QUOTE_CHARS` characters of the value and shows the expected form by example.
    """
    info = model.model_fields[key]
    candidate = dict(stored)
    example = setting_example(info, core)
    try:
        if value is None:
            candidate.pop(key, None)
        else:
            candidate[key] = parse_setting(info, value)
        return model.model_validate(candidate)
    except Problem as problem:
        reasons = core.plain(problem.message, **problem.values)
    except ValidationError as exc:
        reasons = "; ".join(
            explain(e, core) for e in exc.errors() if _about(e, key)
        ) or explain_errors(exc, core)
    shown = quote(value if value is not None else "")
    if example:
        raise InvalidSetting(
            translator.t(
                "“{value}” is not allowed for {key}: {problem}. Write it like this: {example}",
                value=shown,
                key=key,
                problem=reasons,
                example=example,
            )
        )
    raise InvalidSetting(
        translator.t(
            "“{value}” is not allowed for {key}: {problem}", value=shown, key=key, problem=reasons
        )
    )


def _about(error: Any, key: str) -> bool:
    loc: tuple[Any, ...] = tuple(error.get("loc") or ())
    return bool(loc) and loc[0] == key


def explain_errors(error: ValidationError, core: Translator) -> str:
    """Every problem pydantic found, in words of the core catalog, joined by "; "."""
    return "; ".join(explain(e, core) for e in error.errors())


def explain(error: Any, core: Translator) -> str:
    """One pydantic error in words of the core catalog: what is allowed instead.

    An error inside a structured value names the part it is about (``poll_voted: …``).
    """
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    loc = [str(p) for p in (error.get("loc") or ())][1:]
    if kind in ("greater_than_equal", "greater_than"):
        text = core.plain("it must be at least {min}", min=ctx.get("ge", ctx.get("gt")))
    elif kind in ("less_than_equal", "less_than"):
        text = core.plain("it must be at most {max}", max=ctx.get("le", ctx.get("lt")))
    elif kind == "string_too_long":
        most = int(ctx.get("max_length", 0))
        text = core.plain_n("it can be at most {n} character long",
                            "it can be at most {n} characters long", most)
    elif kind == "string_too_short":
        least = int(ctx.get("min_length", 0))
        text = core.plain_n("it must be at least {n} character long",
                            "it must be at least {n} characters long", least)
    elif kind == "too_long":
        most = int(ctx.get("max_length", 0))
        text = core.plain_n("it can have at most {n} item", "it can have at most {n} items",
                            most)
    elif kind == "too_short":
        least = int(ctx.get("min_length", 0))
        text = core.plain_n("it must have at least {n} item", "it must have at least {n} items",
                            least)
    elif kind in ("int_parsing", "int_from_float", "int_type"):
        text = core.plain("it must be a whole number")
    elif kind in ("float_parsing", "float_type"):
        text = core.plain("it must be a number")
    elif kind in ("bool_parsing", "bool_type"):
        text = core.plain("it must be yes or no")
    elif kind in ("literal_error", "enum"):
        # pydantic writes "'channel', 'dm' or 'off'": the values, joined the language's way
        expected = str(ctx.get("expected", ""))
        values = tuple(re.findall(r"'([^']*)'", expected))
        text = core.plain("it must be one of: {choices}", choices=values or expected)
    elif kind in ("string_type", "string_parsing"):
        text = core.plain("it must be text")
    elif kind == "string_pattern_mismatch":
        text = core.plain("it is not in the expected form")
    elif kind == "unknown_language":
        text = core.plain(
            "“{language}” is not a language the bot speaks; use {languages}",
            language=quote(ctx.get("language", ""), 16),
            languages=tuple(known_languages()),
        )
    else:
        text = core.plain("it is not a valid value")
    if loc and loc[-1] == "[key]":
        return f"{quote(loc[-2] if len(loc) > 1 else '', 40)}: {text}"
    if loc:
        return f"{quote(loc[-1], 40)}: {text}"
    return text


# -- start-up ----------------------------------------------------------------------------


class StartupError(Exception):
    """A reason the bot cannot start, in one message for the operator; nothing was changed."""


def known_languages(root: Path = LOCALES_DIR) -> list[str]:
    """Languages with a core catalog."""
    return sorted(p.parent.parent.name for p in root.glob("*/LC_MESSAGES/core.po"))


def database_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be used (naming what can), or None when it is supported."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    supported = " or ".join(SUPPORTED_DATABASES.values())
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"not a database URL; use {supported}"
    driver = parsed.drivername
    if driver in SUPPORTED_DATABASES:
        if driver == "postgresql+asyncpg":
            import importlib.util

            if importlib.util.find_spec("asyncpg") is None:
                return "postgresql+asyncpg needs the asyncpg package: pip install asyncpg"
        return None
    backend = driver.split("+", 1)[0]
    for name, proper in (("sqlite", "sqlite+aiosqlite"), ("postgresql", "postgresql+asyncpg"),
                         ("postgres", "postgresql+asyncpg")):
        if backend == name:
            fixed = parsed.set(drivername=proper).render_as_string(hide_password=True)
            return f"the driver {quote(driver, 30)} is not supported; write {fixed}"
    return f"{quote(backend, 30)} databases are not supported; use {supported}"


def unknown_plugins(settings: Any, available: Sequence[str]) -> list[str]:
    """One line per plugin name in the settings that no installed plugin has."""
    known = set(available) | {"core"}
    names = ", ".join(sorted(set(available)))
    lines = []
    for key, env in (("plugins", "MAJLIS_PLUGINS"), ("disabled_by_default",
                                                     "MAJLIS_DISABLED_BY_DEFAULT")):
        for name in getattr(settings, key) or ():
            if name not in known:
                lines.append(
                    f"  - {key} [{env}]: there is no plugin {quote(name, 40)!r}; "
                    f"the plugins are: {names}"
                )
    return lines


async def check_database(url: str) -> None:
    """Refuse a SQLite file that is not a database or fails ``PRAGMA quick_check``.

    Read-only: a damaged file is left exactly as it was for the operator to restore.
    """
    from bot.core.storage import Database

    db = Database(url)
    try:
        problems = await db.integrity_problems()
    finally:
        await db.close()
    if problems:
        from sqlalchemy.engine import make_url

        where = make_url(url).database or url
        details = "; ".join(quote(" ".join(p.split()), 160) for p in problems[:3])
        raise StartupError(
            f"the database file {where} is damaged or not a SQLite database ({details}). "
            "Nothing was changed. Restore it from a backup, or point MAJLIS_DATABASE_URL at "
            "another file (a new one starts empty)."
        )


__all__ = [
    "QUOTE_CHARS",
    "SUPPORTED_DATABASES",
    "TIMEZONE_EXAMPLES",
    "InvalidSetting",
    "Problem",
    "StartupError",
    "check_database",
    "database_url_problem",
    "explain",
    "explain_errors",
    "find_timezone",
    "known_languages",
    "parse_setting",
    "quote",
    "setting_example",
    "show_setting",
    "timezone_suggestions",
    "unknown_plugins",
    "validated_setting",
]
