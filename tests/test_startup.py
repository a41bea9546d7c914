"""Start-up problems: one clear message each, a non-zero exit, no traceback, nothing changed."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run(*args: str, env: dict[str, str] | None = None,
        stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "", **(env or {})}, input=stdin, timeout=120,
    )


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The one message of a refused start; fails on a traceback or a zero exit code."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return result.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start(database: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Start the console playground on ``database`` and end it at once (stdin is empty)."""
    return run("console", "--database", f"sqlite+aiosqlite:///{database}", env=env)


@pytest.fixture(scope="module")
def sound_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database the bot created and used, closed cleanly."""
    path = tmp_path_factory.mktemp("db") / "majlis.db"
    result = run("console", "--database", f"sqlite+aiosqlite:///{path}",
                 stdin=":as sara\nhello everyone, it is sara\n")
    assert result.returncode == 0, result.stderr
    return path


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        ({"MAJLIS_OWNERS": "telegram"},
         ["owners [MAJLIS_OWNERS]", "PLATFORM:ID", "discord:1234"]),
        ({"MAJLIS_DISABLED_BY_DEFAULT": "x"},
         ["disabled_by_default [MAJLIS_DISABLED_BY_DEFAULT]", "no plugin 'x'",
          "the plugins are: admin, contributions"]),
        ({"MAJLIS_PLUGINS": "polls,nope"}, ["plugins [MAJLIS_PLUGINS]", "no plugin 'nope'"]),
        ({"MAJLIS_TELEGRAM": "notjson"},
         ["telegram [MAJLIS_TELEGRAM]", "not a JSON object", "MAJLIS_TELEGRAM__TOKEN"]),
        ({"MAJLIS_TIMEZONE": "Asia"},
         ["timezone [MAJLIS_TIMEZONE]", "Asia/Riyadh", "Europe/Berlin"]),
        ({"MAJLIS_TIMEZONE": "x" * 300}, ["timezone [MAJLIS_TIMEZONE]", "Asia/Riyadh"]),
        ({"MAJLIS_DATABASE_URL": "mysql://majlis:hunter2@db/majlis"},
         ["database_url [MAJLIS_DATABASE_URL]", "mysql databases are not supported",
          "sqlite+aiosqlite:///", "postgresql+asyncpg://"]),
        ({"MAJLIS_DATABASE_URL": "sqlite:///data/x.db"},
         ["database_url [MAJLIS_DATABASE_URL]", "write sqlite+aiosqlite:///data/x.db"]),
        ({"MAJLIS_LANGUAGE": "zz"}, ["language [MAJLIS_LANGUAGE]", "ar, en"]),
    ],
)
def test_a_bad_setting_is_one_clear_message(env: dict[str, str], fragments: list[str]) -> None:
    message = refused(run("check", env=env), *fragments)
    assert "hunter2" not in message
    assert len(message.splitlines()) <= 3


@pytest.mark.parametrize(
    "env",
    [{"MAJLIS_OWNERS": "telegram"}, {"MAJLIS_DISABLED_BY_DEFAULT": "x"},
     {"MAJLIS_TELEGRAM": "notjson"}, {"MAJLIS_TIMEZONE": "Asia"},
     {"MAJLIS_DATABASE_URL": "mysql://majlis:hunter2@db/majlis"}],
)
def test_starting_with_a_bad_setting_is_refused_the_same_way(env: dict[str, str]) -> None:
    message = refused(run("console", env=env), "configuration problem")
    assert "hunter2" not in message


@pytest.mark.parametrize("plugins", ["polls,admin", '["polls", "admin"]', " polls , admin "])
def test_plugins_may_be_listed_with_commas_or_as_json(plugins: str) -> None:
    result = run("check", env={"MAJLIS_PLUGINS": plugins, "MAJLIS_OWNERS": "telegram:1"})
    assert result.returncode == 0, result.stderr
    assert '"plugins": [\n    "polls",\n    "admin"\n  ]' in result.stdout
    assert '"owners": [\n    "telegram:1"\n  ]' in result.stdout


def test_i18n_check_prints_nothing_when_all_is_well() -> None:
    result = run("i18n", "check")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "majlis.db"
    path.write_bytes(bytes(range(256)) * 400)
    before = digest(path)
    refused(start(path), f"the database file {path} is damaged or not a SQLite database",
            "Nothing was changed")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["majlis.db"]
    refused(run("check", env={"MAJLIS_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}),
            "not a SQLite database")


def test_garbage_in_one_page_is_found_at_start_and_nothing_changes(
    sound_database: Path, tmp_path: Path
) -> None:
    path = tmp_path / "majlis.db"
    path.write_bytes(sound_database.read_bytes())
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'core_members'"
        ).fetchone()[0]
    conn.close()
    with path.open("r+b") as fp:  # overwrite the page's cell pointers with garbage
        fp.seek((root - 1) * page_size + 8)
        fp.write(b"\xde\xad\xbe\xef" * 64)
    before = digest(path)
    refused(start(path), "is damaged", f"tree page {root}", "Restore it from a backup")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["majlis.db"]


def test_a_database_from_a_newer_schema_is_refused_and_nothing_changes(
    sound_database: Path, tmp_path: Path
) -> None:
    path = tmp_path / "majlis.db"
    path.write_bytes(sound_database.read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO alembic_version VALUES ('f00dfeed0001')")
    conn.close()
    before = digest(path)
    refused(start(path), "records migration f00dfeed0001, which this Majlis does not know",
            "Nothing was changed")
    assert digest(path) == before


def test_a_sound_database_starts_as_before(sound_database: Path, tmp_path: Path) -> None:
    path = tmp_path / "majlis.db"
    path.write_bytes(sound_database.read_bytes())
    result = start(path)
    assert result.returncode == 0, result.stderr
