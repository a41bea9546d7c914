"""Process settings: environment (``MAJLIS_``, nested ``__``) over ``.env`` over TOML.

``config/bot.toml`` holds the defaults (another file via ``MAJLIS_CONFIG``). Tokens are
``SecretStr``: they print as ``**********`` and never reach a log.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.exceptions import SettingsError

from bot.core import validation

DEFAULT_CONFIG = Path("config/bot.toml")
#: Platforms an owner can be named on (``platform:id``).
OWNER_PLATFORMS = ("discord", "telegram", "console")
#: Keys whose given value is never echoed in an error (it may hold a password or token).
SECRET_KEYS = ("token", "secret", "database_url")

#: A list in the environment: JSON (``["a", "b"]``) or comma-separated (``a,b``).
NameList = Annotated[list[str], NoDecode]


class DiscordSettings(BaseModel):
    """How to reach Discord."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = None
    application_id: int | None = None
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    members_intent: bool = True
    message_content_intent: bool = False
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None


class TelegramSettings(BaseModel):
    """How to reach Telegram."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = "/telegram"
    perk_chat_id: int | None = None


class ConsoleSettings(BaseModel):
    """The local playground community."""

    model_config = ConfigDict(extra="forbid")

    community: str = Field(default="Majlis playground", min_length=1, max_length=100)
    owner: str = Field(default="owner", min_length=1, max_length=32)


class Settings(BaseSettings):
    """Everything the process needs to start."""

    model_config = SettingsConfigDict(
        env_prefix="MAJLIS_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
    )

    database_url: str = "sqlite+aiosqlite:///data/majlis.db"
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    timezone: str = "UTC"
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    plugins: NameList | None = None
    disabled_by_default: NameList = []
    owners: NameList = []
    discord: DiscordSettings = DiscordSettings()
    telegram: TelegramSettings = TelegramSettings()
    console: ConsoleSettings = ConsoleSettings()

    @field_validator("plugins", "disabled_by_default", "owners", mode="before")
    @classmethod
    def _name_list(cls, value: Any) -> Any:
        """Environment lists may be JSON or comma-separated; TOML gives lists already."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(
                    'not a valid JSON list; write ["a", "b"] or simply a,b'
                ) from None
        return [item.strip() for item in text.split(",") if item.strip()]

    @field_validator("owners")
    @classmethod
    def _owner_ids(cls, value: list[str]) -> list[str]:
        for owner in value:
            platform, sep, ident = owner.partition(":")
            if not sep or platform not in OWNER_PLATFORMS or not ident.strip():
                raise ValueError(
                    f"{validation.quote(owner, 40)!r} is not PLATFORM:ID; each owner is one of "
                    f"{', '.join(OWNER_PLATFORMS)} and the member's id, like discord:1234 or "
                    "telegram:5678"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        found = validation.find_timezone(value)
        if found is None:
            examples = ", ".join((*validation.TIMEZONE_EXAMPLES, "UTC"))
            near = validation.timezone_suggestions(value)
            hint = f" (perhaps {', '.join(near)})" if near else ""
            raise ValueError(f"must be an IANA timezone, Region/City like {examples}{hint}")
        return found

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        known = validation.known_languages()
        if known and value not in known:
            raise ValueError(f"Majlis speaks {', '.join(known)}; choose one of them")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        problem = validation.database_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment over ``.env`` over the TOML file."""
        path = config_path()
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=path),
        )

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with every secret hidden."""
        return self.model_dump(mode="json")


def config_path() -> Path:
    """The TOML file in use."""
    return Path(os.environ.get("MAJLIS_CONFIG", DEFAULT_CONFIG))


class ConfigError(Exception):
    """Configuration that cannot be used, explained for a person."""


def load_settings(**overrides: Any) -> Settings:
    """Read settings; every problem becomes a :class:`ConfigError`.

    The error names the file, the key and what is allowed.
    """
    path = config_path()
    if path.exists():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    heading = f"configuration problem (file {path}, environment MAJLIS_*, or .env):"
    try:
        return Settings(**overrides)
    except SettingsError as exc:
        raise ConfigError(f"{heading}\n{_undecodable(exc)}") from None
    except ValidationError as exc:
        lines = [heading]
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
            key = ".".join(loc)
            env = "MAJLIS_" + "__".join(loc).upper()
            given = error.get("input")
            shown = (
                ""
                if isinstance(given, dict | list) or any(s in key for s in SECRET_KEYS)
                else f" (given: {validation.quote(repr(given))})"
            )
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"  - {key} [{env}]: {message}{shown}")
        raise ConfigError("\n".join(lines)) from None


def _undecodable(exc: SettingsError) -> str:
    """The line for a value pydantic-settings could not even decode (never echoing it)."""
    found = re.search(r'field "([^"]+)"', str(exc))
    name = found.group(1) if found else ""
    env = f"MAJLIS_{name.upper()}"
    annotation = Settings.model_fields[name].annotation if name in Settings.model_fields else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        parts = ", ".join(f"{env}__{k.upper()}" for k in annotation.model_fields)
        return (
            f"  - {name} [{env}]: not a JSON object. Set its parts one by one ({parts}), "
            f'or give a JSON object like {env}=\'{{"{next(iter(annotation.model_fields))}": '
            "...}'"
        )
    return f"  - {name or '?'} [{env}]: this value cannot be read (JSON expected)"
