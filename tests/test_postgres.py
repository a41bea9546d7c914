"""The same story on PostgreSQL (run when MAJLIS_TEST_POSTGRES_URL names an empty database).

    MAJLIS_TEST_POSTGRES_URL=postgresql+asyncpg://majlis:secret@127.0.0.1/majlis pytest
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

URL = os.environ.get("MAJLIS_TEST_POSTGRES_URL")


@pytest.mark.skipif(not URL, reason="set MAJLIS_TEST_POSTGRES_URL to run against PostgreSQL")
def test_example_story_runs_the_same_on_postgresql() -> None:
    assert URL is not None

    def story(database: str) -> str:
        return subprocess.run(
            [sys.executable, "run.py", "console", "--script", "stories/example_en.txt",
             "--database", database],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
            env={"PATH": "", "MAJLIS_PLUGINS": '["example"]'},
        ).stdout

    assert story(URL) == story("sqlite+aiosqlite://")
