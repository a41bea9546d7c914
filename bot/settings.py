"""Process settings: environment (``MAJLIS_``, nested ``__``) over ``.env`` over TOML.

``config/bot.toml`` holds the defaults (another file via ``MAJLIS_CONFIG``). Tokens are
``SecretStr``: they print as ``**********`` and never reach a log.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG = Path("config/bot.toml")


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
    plugins: list[str] | None = None
    disabled_by_default: list[str] = []
    owners: list[str] = []
    discord: DiscordSettings = DiscordSettings()
    telegram: TelegramSettings = TelegramSettings()
    console: ConsoleSettings = ConsoleSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA timezone such as UTC or Asia/Riyadh") from None
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
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [f"configuration problem (file {path}, environment MAJLIS_*, or .env):"]
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            env = "MAJLIS_" + "__".join(str(p) for p in error["loc"]).upper()
            given = error.get("input")
            shown = (
                ""
                if isinstance(given, dict) or "token" in key or "secret" in key
                else (f" (given: {given!r})")
            )
            lines.append(f"  - {key} [{env}]: {error['msg']}{shown}")
        raise ConfigError("\n".join(lines)) from None
