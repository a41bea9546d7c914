"""Typed button payloads, packed into short strings and back.

A payload is a small frozen dataclass with a unique prefix::

    class Vote(Payload, prefix="poll.vote"):
        poll: int
        option: int

``Vote(3, 1).pack()`` gives ``"poll.vote:3:1"``. Platforms cap payload size (Discord
``custom_id`` 100 characters, Telegram ``callback_data`` 64 bytes); the outbox stores a
longer payload in the database under a short key (see :class:`PayloadStore`), so a
payload's meaning lives in the payload itself and survives restarts.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import typing
from typing import Any, ClassVar, dataclass_transform
from urllib.parse import quote, unquote

SEPARATOR = ":"
STORED_PREFIX = "~"
_registry: dict[str, type[Payload]] = {}


class PayloadError(ValueError):
    """A payload string that does not decode to a known payload."""


@dataclass_transform(frozen_default=True)
class Payload:
    """Base class for button payloads; subclasses give ``prefix=`` and typed fields."""

    prefix: ClassVar[str]
    _fields: ClassVar[tuple[tuple[str, Any], ...]]

    def __init_subclass__(cls, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or SEPARATOR in prefix or prefix.startswith(STORED_PREFIX):
            raise ValueError(f"invalid payload prefix {prefix!r}")
        if prefix in _registry and _registry[prefix].__qualname__ != cls.__qualname__:
            raise ValueError(f"payload prefix {prefix!r} is already used by {_registry[prefix]}")
        cls.prefix = prefix
        dataclasses.dataclass(frozen=True)(cls)
        hints = typing.get_type_hints(cls)
        cls._fields = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        _registry[prefix] = cls

    def pack(self) -> str:
        """The payload as a string: prefix and fields joined by ``:``."""
        parts = [self.prefix]
        for name, kind in self._fields:
            parts.append(_encode(getattr(self, name), kind))
        return SEPARATOR.join(parts)

    @staticmethod
    def unpack(raw: str) -> Payload:
        """Decode a packed payload (not a stored ``~key``; see :class:`PayloadStore`)."""
        prefix, *values = raw.split(SEPARATOR)
        cls = _registry.get(prefix)
        if cls is None:
            raise PayloadError(f"unknown payload prefix {prefix!r}")
        if len(values) != len(cls._fields):
            raise PayloadError(f"{prefix}: expected {len(cls._fields)} fields, got {len(values)}")
        try:
            kwargs = {
                name: _decode(value, kind)
                for (name, kind), value in zip(cls._fields, values, strict=True)
            }
        except (TypeError, ValueError) as exc:
            raise PayloadError(f"{prefix}: {exc}") from exc
        return cls(**kwargs)


def _encode(value: Any, kind: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        return quote(str(value.value), safe="")
    return quote(str(value), safe="")


def _decode(text: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if text == "\x00":
            return None
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(f"bad bool {text!r}")
        return text == "1"
    if kind is int:
        return int(text)
    if kind is float:
        return float(text)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        raw = unquote(text)
        for member in kind:
            if str(member.value) == raw:
                return member
        raise ValueError(f"{raw!r} is not a {kind.__name__}")
    return unquote(text)


def stored_key(raw: str) -> str:
    """The short key under which a too-long payload is stored (stable per content)."""
    digest = hashlib.blake2s(raw.encode(), digest_size=9).hexdigest()
    return STORED_PREFIX + digest


class PayloadStore(typing.Protocol):
    """Where payloads too long for a platform are kept."""

    async def put_payload(self, key: str, raw: str) -> None:
        """Store ``raw`` under ``key`` (idempotent)."""

    async def get_payload(self, key: str) -> str | None:
        """The raw payload under ``key``, if any."""


async def shorten(raw: str, limit_bytes: int, store: PayloadStore) -> str:
    """``raw`` if it fits ``limit_bytes`` (UTF-8), else a stored key that does."""
    if len(raw.encode()) <= limit_bytes:
        return raw
    key = stored_key(raw)
    await store.put_payload(key, raw)
    return key


async def decode(data: str, store: PayloadStore) -> Payload:
    """Decode what a platform handed back: a packed payload or a stored key."""
    if data.startswith(STORED_PREFIX):
        raw = await store.get_payload(data)
        if raw is None:
            raise PayloadError(f"no stored payload under {data!r}")
        data = raw
    return Payload.unpack(data)
