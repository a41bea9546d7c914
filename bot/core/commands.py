"""Typed command declarations and the argument parser shared by text platforms.

A command's parameters come from its handler's type hints. Discord turns them into
slash-command options; Telegram and the console parse ``/command args`` here. Errors
name the argument and what is allowed, in the member's language.
"""

from __future__ import annotations

import enum
import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.core.i18n import N_
from bot.core.privilege import Privilege
from bot.core.refs import ChannelRef, MemberRef, RoleRef
from bot.core.validation import quote

NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_OPTIONS = 25
#: More optional arguments than this are options typed by name (``duration=3d``).
OPTIONS_BY_NAME = 3
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{1,2}:\d{2}")
_QUOTES = {'"': '"', "'": "'", "“": "”", "«": "»", "„": "“"}
#: What an unknown ``key=value`` token's key looks like (anything else is plain text).
_OPTION = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class Duration(timedelta):
    """A length of time written like ``90m``, ``2h``, ``3d``, ``1w`` or ``1h30m``."""

    _UNITS: typing.ClassVar[dict[str, int]] = {
        "s": 1,
        "m": 60,
        "h": 3600,
        "d": 86400,
        "w": 604800,
    }
    _PART = re.compile(r"(\d+)\s*([smhdw])")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse a duration; raises ValueError when it is not one."""
        raw = text.translate(_ARABIC_DIGITS).strip().lower().replace(" ", "")
        if not raw or cls._PART.sub("", raw):
            raise ValueError(text)
        seconds = sum(int(n) * cls._UNITS[u] for n, u in cls._PART.findall(raw))
        if seconds <= 0:
            raise ValueError(text)
        return cls(seconds=seconds)


class Kind(enum.StrEnum):
    """What an option holds, as platforms understand it."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DURATION = "duration"
    DATETIME = "datetime"
    MEMBER = "member"
    CHANNEL = "channel"
    ROLE = "role"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Param:
    """Extra facts about a parameter: ``Annotated[int, Param(min=1, max=10)]``."""

    help: str = ""
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    autocomplete: str | None = None
    #: What each choice is called where a platform lists them (msgids by value, like
    #: ``{"week": N_("This week")}``); members still type the value.
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One declared parameter of a command."""

    name: str
    kind: Kind
    required: bool
    default: Any = None
    choices: tuple[str, ...] = ()
    enum_type: type[enum.Enum] | None = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    greedy: bool = False
    autocomplete: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, choice: str) -> str:
        """The msgid that names ``choice`` in a list of choices (the value itself if none)."""
        return dict(self.labels).get(choice, choice)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A declared command: name, help, privilege and typed parameters."""

    name: str
    help: str
    privilege: Privilege
    params: tuple[ParamSpec, ...]
    private: bool = False
    handler: str = ""
    plugin: str = ""
    direct_only: bool = False

    def usage(self, translate: Callable[[str], str] | None = None) -> str:
        """``/name <a> [b]`` for help texts; with ``translate``, in the reader's words.

        ``/award <مَن> <النقاط> <لماذا>``: each argument as :meth:`label` names it.
        """
        parts = [f"/{self.name}"]
        for p in self.params:
            name = p.name if translate is None else self.label(p, translate)
            parts.append(f"<{name}>" if p.required else f"[{name}]")
        return " ".join(parts)

    def typed_by_name(self, param: ParamSpec) -> bool:
        """Whether ``param`` is an option members type as ``name=value`` (``duration=3d``).

        Where a command has more optional arguments than :data:`OPTIONS_BY_NAME` (``/poll``),
        its optional ones are typed by name.
        """
        return not param.required and sum(not p.required for p in self.params) > OPTIONS_BY_NAME

    def label(self, param: ParamSpec, translate: Callable[[str], str]) -> str:
        """What ``param`` is called to a reader, in the words ``translate`` gives.

        A positional argument's name is no word anyone types, so the first clause of its
        translated help stands in; an option typed by name keeps the name typed.
        """
        if self.typed_by_name(param) or not param.help:
            return param.name
        words = re.split(r"[,،;؛(:]", translate(param.help), maxsplit=1)[0].strip()
        return words or param.name


@dataclass
class ArgumentError(Exception):
    """A command argument that is wrong; ``message`` is a msgid with ``values`` to fill.

    ``values["name"]`` is the parameter's name and ``values["usage"]`` the usage line;
    :meth:`in_words` names both in the reader's language.
    """

    message: str
    values: dict[str, Any] = field(default_factory=dict)
    #: The name was typed (``until=…`` twice): it is shown as typed, not translated.
    typed: bool = False

    def __str__(self) -> str:
        return self.message.format(**self.values)

    def in_words(self, spec: CommandSpec, translate: Callable[[str], str]) -> dict[str, Any]:
        """``values`` with the argument and the usage named as :meth:`CommandSpec.label` does."""
        values = dict(self.values)
        if "usage" in values:
            values["usage"] = spec.usage(translate)
        param = next((p for p in spec.params if p.name == values.get("name")), None)
        if param is not None and not self.typed:
            values["name"] = spec.label(param, translate)
        return values


def build_spec(
    func: Callable[..., Any],
    *,
    name: str,
    help: str,
    privilege: Privilege,
    private: bool,
    direct_only: bool = False,
) -> CommandSpec:
    """Read a handler's signature into a :class:`CommandSpec` (declaration-time checks)."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"command name {name!r} must match [a-z0-9_]{{1,32}}")
    hints = typing.get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    raw = [p for p in signature.parameters.values() if p.name not in ("self", "ctx")]
    params: list[ParamSpec] = []
    for index, parameter in enumerate(raw):
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise TypeError(f"/{name}: parameter {parameter.name} must be a plain parameter")
        hint = hints.get(parameter.name, str)
        params.append(_param_spec(parameter, hint, greedy_ok=index == len(raw) - 1))
    if len(params) > MAX_OPTIONS:
        raise ValueError(f"/{name}: at most {MAX_OPTIONS} parameters")
    seen_optional = False
    for p in params:
        if p.required and seen_optional:
            raise ValueError(f"/{name}: required parameter {p.name} after an optional one")
        seen_optional = seen_optional or not p.required
    return CommandSpec(name, help, privilege, tuple(params), private, direct_only=direct_only)


def _param_spec(parameter: inspect.Parameter, hint: Any, *, greedy_ok: bool) -> ParamSpec:
    extra = Param()
    if typing.get_origin(hint) is typing.Annotated:
        hint, *metadata = typing.get_args(hint)
        extra = next((m for m in metadata if isinstance(m, Param)), extra)
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) != 1:
            raise TypeError(f"{parameter.name}: unions of several types are not supported")
        hint = args[0]
    has_default = parameter.default is not inspect.Parameter.empty
    choices: tuple[str, ...] = ()
    enum_type: type[enum.Enum] | None = None
    if typing.get_origin(hint) is Literal:
        kind = Kind.CHOICE
        choices = tuple(str(a) for a in typing.get_args(hint))
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        kind = Kind.CHOICE
        enum_type = hint
        choices = tuple(str(m.value) for m in hint)
    else:
        found = _KINDS.get(hint)
        if found is None:
            raise TypeError(f"{parameter.name}: unsupported parameter type {hint!r}")
        kind = found
    return ParamSpec(
        name=parameter.name,
        kind=kind,
        required=not has_default and not optional,
        default=parameter.default if has_default else None,
        choices=choices,
        enum_type=enum_type,
        help=extra.help,
        min=extra.min,
        max=extra.max,
        max_length=extra.max_length,
        greedy=greedy_ok and kind is Kind.STRING,
        autocomplete=extra.autocomplete,
        labels=extra.labels,
    )


_KINDS: dict[type, Kind] = {
    str: Kind.STRING,
    int: Kind.INTEGER,
    float: Kind.NUMBER,
    bool: Kind.BOOLEAN,
    Duration: Kind.DURATION,
    timedelta: Kind.DURATION,
    datetime: Kind.DATETIME,
    MemberRef: Kind.MEMBER,
    ChannelRef: Kind.CHANNEL,
    RoleRef: Kind.ROLE,
}


def tokenize(text: str) -> list[str]:
    """Split arguments on spaces, keeping quoted parts ("…", '…', “…”, «…») together.

    An unclosed quote runs to the end of the text; ``key="a b"`` is one token ``key=a b``.
    """
    return [token for token, _quoted in _tokens(text)]


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Tokens, each with whether it was quoted as a whole (then it is never ``key=value``)."""
    tokens: list[tuple[str, bool]] = []
    buf: list[str] = []
    quote_end: str | None = None
    in_token = False
    whole = False
    for char in text:
        if quote_end is not None:
            if char == quote_end:
                quote_end = None
            else:
                buf.append(char)
            continue
        if char in _QUOTES and (not buf or (buf[-1] == "=" and not whole)):
            whole = whole or not buf
            quote_end = _QUOTES[char]
            in_token = True
            continue
        if char.isspace():
            if in_token:
                tokens.append(("".join(buf), whole))
                buf.clear()
                in_token = whole = False
            continue
        buf.append(char)
        in_token = True
    if in_token:
        tokens.append(("".join(buf), whole))
    return tokens


Resolver = Callable[[Kind, str], Awaitable[Any]]

_TRUE = {"yes", "y", "true", "on", "1", "نعم", "اي", "أجل"}
_FALSE = {"no", "n", "false", "off", "0", "لا"}


async def parse_arguments(
    spec: CommandSpec,
    text: str,
    resolve: Resolver,
    timezone: str = "UTC",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Turn ``text`` into keyword arguments for the handler, or raise ArgumentError.

    ``name=value`` sets an option by name (once); a date given so may be followed by a
    time (``until=2026-01-06 18:00``). An unknown ``name=value`` is refused with the list
    of options, unless a text parameter takes it (``/config p weights a=1``).
    """
    tokens = _tokens(text)
    named: dict[str, str] = {}
    positional: list[str] = []
    unknown: dict[int, str] = {}
    by_name = {p.name: p for p in spec.params}
    index = 0
    while index < len(tokens):
        token, quoted = tokens[index]
        index += 1
        key, eq, value = token.partition("=")
        name = key.lower()
        if quoted or not eq:
            positional.append(token)
        elif name in by_name:
            if name in named:
                raise ArgumentError(
                    N_("“{name}” is given twice; give it once. Usage: {usage}"),
                    {"name": name, "usage": spec.usage()},
                    typed=True,
                )
            if (
                by_name[name].kind is Kind.DATETIME
                and index < len(tokens)
                and not tokens[index][1]
                and _DATE.fullmatch(value.translate(_ARABIC_DIGITS))
                and _TIME.fullmatch(tokens[index][0].translate(_ARABIC_DIGITS))
            ):
                value += " " + tokens[index][0]
                index += 1
            named[name] = value
        else:
            if _OPTION.fullmatch(key):
                unknown[len(positional)] = key
            positional.append(token)
    values: dict[str, Any] = {}
    free = [p for p in spec.params if p.name not in named]
    taken = 0
    for number, param in enumerate(free):
        if taken >= len(positional):
            break
        if param.greedy and number == len(free) - 1:
            values[param.name] = " ".join(positional[taken:])
            taken = len(positional)
            break
        if taken in unknown and param.kind is not Kind.STRING:
            break  # an unknown option, unless a text parameter takes it as text
        values[param.name] = positional[taken]
        taken += 1
        if (
            param.kind is Kind.DATETIME
            and taken < len(positional)
            and _DATE.fullmatch(values[param.name].translate(_ARABIC_DIGITS))
            and _TIME.fullmatch(positional[taken].translate(_ARABIC_DIGITS))
        ):
            values[param.name] += " " + positional[taken]
            taken += 1
    left = positional[taken:]
    stray = [i for i in unknown if i >= taken]
    if stray:
        raise ArgumentError(
            N_("Unknown option “{option}”. The options of /{command} are: {options}."),
            {
                "option": quote(unknown[min(stray)], 40),
                "command": spec.name,
                "options": ", ".join(p.name for p in spec.params),
            },
        )
    if left:
        raise ArgumentError(
            N_("Too many arguments: “{extra}”. Usage: {usage}"),
            {"extra": quote(" ".join(left)), "usage": spec.usage()},
        )
    values.update(named)
    return await convert_values(spec, values, resolve, timezone, now)


async def convert_values(
    spec: CommandSpec,
    values: Mapping[str, Any],
    resolve: Resolver,
    timezone: str,
    now: datetime | None,
) -> dict[str, Any]:
    """Every declared parameter from raw ``values`` (text or a platform's typed options).

    A missing (or None) value takes the default; a missing required one is refused.
    """
    out: dict[str, Any] = {}
    for param in spec.params:
        if values.get(param.name) is None:
            if param.required:
                raise ArgumentError(
                    N_("Missing argument “{name}”. Usage: {usage}"),
                    {"name": param.name, "usage": spec.usage()},
                )
            out[param.name] = param.default
            continue
        out[param.name] = await convert(param, values[param.name], resolve, timezone, now)
    return out


async def convert(
    param: ParamSpec,
    raw: Any,
    resolve: Resolver,
    timezone: str = "UTC",
    now: datetime | None = None,
) -> Any:
    """Convert one raw value (text, or an already-typed platform value) for ``param``."""
    if not isinstance(raw, str):
        return check_bounds(param, raw)
    text = raw.strip()
    kind = param.kind
    try:
        if kind is Kind.STRING:
            value: Any = raw
        elif kind is Kind.INTEGER:
            value = int(text.translate(_ARABIC_DIGITS))
        elif kind is Kind.NUMBER:
            value = float(text.translate(_ARABIC_DIGITS).replace("٫", "."))
        elif kind is Kind.BOOLEAN:
            low = text.lower()
            if low not in _TRUE | _FALSE:
                raise ValueError(text)
            value = low in _TRUE
        elif kind is Kind.DURATION:
            value = Duration.parse(text)
        elif kind is Kind.DATETIME:
            value = parse_datetime(text, timezone, now)
        elif kind is Kind.CHOICE:
            value = _choice(param, text)
        else:
            value = await resolve(kind, text)
            if value is None:
                raise ValueError(text)
    except ValueError:
        raise ArgumentError(_ERRORS[kind], _error_values(param, raw)) from None
    return check_bounds(param, value)


def check_bounds(param: ParamSpec, value: Any) -> Any:
    """Refuse values outside the declared bounds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number is shown as a number, unless it is too long to quote back whole.
        given = value if len(str(value)) <= 20 and abs(value) < 1e15 else quote(value)
        if param.min is not None and value < param.min:
            raise ArgumentError(
                N_("“{name}” must be at least {min}; you gave {value}."),
                {"name": param.name, "min": param.min, "value": given},
            )
        if param.max is not None and value > param.max:
            raise ArgumentError(
                N_("“{name}” must be at most {max}; you gave {value}."),
                {"name": param.name, "max": param.max, "value": given},
            )
    if isinstance(value, str) and param.max_length is not None and len(value) > param.max_length:
        raise ArgumentError(
            N_("“{name}” can be at most {max} characters long; yours has {length}."),
            {"name": param.name, "max": param.max_length, "length": len(value)},
        )
    return value


def _choice(param: ParamSpec, text: str) -> Any:
    for choice in param.choices:
        if choice.lower() == text.lower():
            if param.enum_type is not None:
                return next(m for m in param.enum_type if str(m.value) == choice)
            return choice
    raise ValueError(text)


def parse_datetime(text: str, timezone: str, now: datetime | None = None) -> datetime:
    """``2026-12-01 18:00``, ``2026-12-01T18:00`` or ``18:00`` (next such time), local."""
    raw = text.translate(_ARABIC_DIGITS).strip().replace("T", " ")
    zone = ZoneInfo(timezone)
    if re.fullmatch(r"\d{1,2}:\d{2}", raw):
        current = (now or datetime.now(UTC)).astimezone(zone)
        hour, minute = (int(x) for x in raw.split(":"))
        candidate = current.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if candidate <= current:
            candidate += timedelta(days=1)
        return candidate.astimezone(UTC)
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


_ERRORS: dict[Kind, str] = {
    Kind.STRING: N_("“{value}” is not valid for “{name}”."),
    Kind.INTEGER: N_("“{value}” is not a whole number; “{name}” needs one, like 5."),
    Kind.NUMBER: N_("“{value}” is not a number; “{name}” needs one, like 2.5."),
    Kind.BOOLEAN: N_("“{value}” is not yes or no; “{name}” takes yes or no."),
    Kind.DURATION: N_(
        "“{value}” is not a duration; “{name}” takes values like 90m, 2h, 3d or 1w."
    ),
    Kind.DATETIME: N_(
        "“{value}” is not a date and time; “{name}” takes values like 2026-12-01 18:00 or 18:00."
    ),
    Kind.MEMBER: N_("No member matches “{value}” for “{name}”; mention them or use their name."),
    Kind.CHANNEL: N_("No channel matches “{value}” for “{name}”."),
    Kind.ROLE: N_("No role matches “{value}” for “{name}”."),
    Kind.CHOICE: N_("“{value}” is not one of the choices for “{name}”: {choices}."),
}


def _error_values(param: ParamSpec, raw: Any) -> dict[str, Any]:
    return {"value": quote(raw), "name": param.name, "choices": tuple(param.choices)}
