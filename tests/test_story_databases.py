"""Every story reads the same on an in-memory and on a file database.

Wave 1 lost writes on the in-memory database (handlers started in the wrong task bypassed
its lock), so the polls story printed other reach and quorum figures there than on a file:
the transcripts must not depend on where the data lives.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

STORIES = sorted((ROOT / "stories").glob("*.txt"))


def _command(story: Path, database: str | None) -> list[str]:
    command = [sys.executable, "run.py", "console", "--script", str(story)]
    if database is not None:
        command += ["--database", database]
    return command


def _env(story: Path) -> dict[str, str]:
    env = {"PATH": "", "PYTHONIOENCODING": "utf-8"}
    if story.stem.endswith("_ar"):
        env["MAJLIS_LANGUAGE"] = "ar"
    return env


@pytest.mark.parametrize("story", STORIES, ids=[s.stem for s in STORIES])
def test_story_is_the_same_in_memory_and_on_a_file(story: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'story.db'}"
    # both runs at once: two cores, half the wall time
    runs = [
        subprocess.Popen(_command(story, database), cwd=ROOT, env=_env(story),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         encoding="utf-8")
        for database in (None, url)
    ]
    (memory, memory_err), (file, file_err) = (run.communicate(timeout=180) for run in runs)
    assert runs[0].returncode == 0, memory_err
    assert runs[1].returncode == 0, file_err
    assert memory.strip(), f"{story.name} printed nothing"
    assert memory.splitlines() == file.splitlines()
