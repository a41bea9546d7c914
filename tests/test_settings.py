"""Configuration: errors name the file, key and what is allowed; secrets stay hidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings
from tests.conftest import ROOT


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "", **(env or {})}, timeout=60,
    )


def test_check_prints_settings_with_secrets_redacted() -> None:
    result = run("check", env={"MAJLIS_TELEGRAM__TOKEN": "123:SECRET-TOKEN"})
    assert result.returncode == 0, result.stderr
    assert "SECRET-TOKEN" not in result.stdout + result.stderr
    assert "**********" in result.stdout
    assert "configuration OK" in result.stdout


def test_bad_value_names_key_and_allowed(tmp_path: Path) -> None:
    result = run("check", env={"MAJLIS_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2
    assert "timezone [MAJLIS_TIMEZONE]" in result.stderr
    assert "IANA timezone" in result.stderr


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bot.toml"
    bad.write_text("language = \n", encoding="utf-8")
    result = run("check", env={"MAJLIS_CONFIG": str(bad)})
    assert result.returncode == 2
    assert str(bad) in result.stderr and "not valid TOML" in result.stderr


def test_lists_in_the_environment_may_be_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAJLIS_OWNERS", "telegram:1, discord:22")
    monkeypatch.setenv("MAJLIS_PLUGINS", "polls,admin")
    monkeypatch.setenv("MAJLIS_DISABLED_BY_DEFAULT", '["example"]')
    settings = load_settings(_env_file=None)
    assert settings.owners == ["telegram:1", "discord:22"]
    assert settings.plugins == ["polls", "admin"]
    assert settings.disabled_by_default == ["example"]


def test_a_nested_value_that_is_not_json_names_its_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAJLIS_TELEGRAM", "123:s3cr3t-value")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert "telegram [MAJLIS_TELEGRAM]: not a JSON object" in message
    assert "MAJLIS_TELEGRAM__TOKEN" in message
    assert "s3cr3t" not in message


def test_a_database_password_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAJLIS_DATABASE_URL", "postgresql://majlis:hunter2@db/majlis")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert "write postgresql+asyncpg://majlis:***@db/majlis" in message
    assert "hunter2" not in message
