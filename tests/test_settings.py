"""Configuration: errors name the file, key and what is allowed; secrets stay hidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
