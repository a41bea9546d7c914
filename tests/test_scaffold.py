"""``run.py new-plugin NAME`` makes a plugin in the template's shape that loads and runs."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.migrate import MigrationSource, core_source, make_revision
from bot.core.storage import Database
from bot.loader import PLUGINS_DIR, plugin_class
from bot.scaffold import _load_metadata, new_plugin
from bot.testing import FakeCommunity
from tests.test_boundaries import _imports

#: The package shape every plugin follows (docs/plugins.md).
SHAPE = {
    "__init__.py", "settings.py", "store.py", "render.py", "tables.py", "migrations", "README.md",
}


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    """A plugins folder holding only the template, and its catalogs."""
    plugins = tmp_path / "plugins"
    shutil.copytree(PLUGINS_DIR / "example", plugins / "example",
                    ignore=shutil.ignore_patterns("__pycache__"))
    locales = tmp_path / "locales"
    for language in ("en", "ar"):
        (locales / language / "LC_MESSAGES").mkdir(parents=True)
        shutil.copyfile(PLUGINS_DIR.parent / "locales" / language / "LC_MESSAGES" / "example.po",
                        locales / language / "LC_MESSAGES" / "example.po")
    return plugins, locales


@pytest.fixture
def importable(workspace: tuple[Path, Path]) -> Iterator[Path]:
    """The temporary plugins folder on ``sys.path`` (its packages import as top level)."""
    folder = str(workspace[0])
    sys.path.insert(0, folder)
    try:
        yield workspace[0]
    finally:
        sys.path.remove(folder)
        for module in [m for m in sys.modules if m == "book_club" or m.startswith("book_club.")]:
            del sys.modules[module]


def test_new_plugin_copies_the_template_under_the_new_name(
    workspace: tuple[Path, Path],
) -> None:
    plugins, locales = workspace
    folder = new_plugin("book_club", plugins, locales)
    assert {p.name for p in folder.iterdir()} >= SHAPE
    code = (folder / "__init__.py").read_text()
    assert 'name = "book_club"' in code
    assert "class BookClub(Plugin)" in code
    assert 'prefix="book_club.wave"' in (folder / "render.py").read_text()
    assert '"book_club_waves"' in (folder / "tables.py").read_text()
    # One first revision of its own, not the template's chain.
    (revision,) = (folder / "migrations").glob("*.py")
    text = revision.read_text()
    assert "branch_labels = ('book_club',)" in text
    assert "down_revision = None" in text
    assert "'book_club_waves'" in text and "'book_club_posts'" in text
    assert "example" not in text
    assert (locales / "ar" / "LC_MESSAGES" / "book_club.po").exists()
    # Like the template, the copy imports only the public ``bot`` (tests/test_boundaries.py).
    for module in folder.glob("*.py"):
        assert [n for n in _imports(module) if n.startswith("bot.")] == [], module.name
    with pytest.raises(ValueError, match="exists already"):
        new_plugin("book_club", plugins, locales)
    with pytest.raises(ValueError, match="lower case"):
        new_plugin("Bad-Name", plugins, locales)


async def test_a_new_plugin_loads_and_runs_its_command_and_button(
    workspace: tuple[Path, Path], importable: Path
) -> None:
    plugins, locales = workspace
    new_plugin("book_club", plugins, locales)
    cls = plugin_class("book_club")
    assert cls.name == "book_club"
    async with FakeCommunity([cls]) as club:
        await club.joins("sara")
        club.expect("Welcome, sara! 👋", buttons=["Wave back"])
        await club.presses("sara", "Wave back")
        club.expect("You have waved 1 time.")
        # the template's /remind is the copy's own /book_club_remind: no clash with example
        await club.says("sara", "/book_club_remind 2h call the venue")
        club.expect("I will remind you at")
        fired = await club.advance("2h")
        assert [s.text for s in fired] == ["⏰ @sara, you asked me to remind you: call the venue"]


async def test_db_revision_follows_the_new_plugins_first_revision(
    workspace: tuple[Path, Path],
) -> None:
    # What ``run.py db revision book_club -m ...`` does after a column is added to tables.py.
    plugins, locales = workspace
    folder = new_plugin("book_club", plugins, locales)
    (first,) = (folder / "migrations").glob("*.py")
    tables = folder / "tables.py"
    tables.write_text(
        tables.read_text().replace(
            'Column("count", Integer, nullable=False, default=0),\n)\n\nposts',
            'Column("count", Integer, nullable=False, default=0),\n'
            '    Column("note", String(200), nullable=True),\n)\n\nposts',
        )
    )
    metadata = _load_metadata("book_club", tables)
    source = MigrationSource("book_club", folder / "migrations", metadata)
    sources = [core_source(), source]
    db = Database("sqlite+aiosqlite://")
    try:
        second = await make_revision(db.engine, source, "book_club notes", sources)
    finally:
        await db.close()
    text = second.read_text()
    assert f"down_revision = {first.name.split('_')[0]!r}" in text
    assert "branch_labels = None" in text
    assert "'note'" in text and "book_club_waves" in text
    # Once the revisions match the tables, there is nothing to write.
    db = Database("sqlite+aiosqlite://")
    try:
        with pytest.raises(ValueError, match="no changes"):
            await make_revision(db.engine, source, "again", sources)
    finally:
        await db.close()


async def test_starting_after_a_change_to_tables_says_which_revision_to_write(
    workspace: tuple[Path, Path], importable: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # issue 15: a column added to tables.py without a revision stops the start with the
    # command to run, on one line and with exit code 2, not a SchemaMismatch traceback
    from bot.adapters.console import Console
    from bot.app import App
    from bot.cli import _serve
    from tests.conftest import make_settings

    plugins, locales = workspace
    folder = new_plugin("book_club", plugins, locales)
    tables = folder / "tables.py"
    tables.write_text(tables.read_text().replace(
        'Column("count", Integer, nullable=False, default=0),\n)\n\nposts',
        'Column("count", Integer, nullable=False, default=0),\n'
        '    Column("note", Integer, nullable=True),\n)\n\nposts'))
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'club.db'}")
    app = App(settings, platforms=[Console()], plugins=[plugin_class("book_club")])
    assert await _serve(app, settings, None) == 2
    err = capsys.readouterr().err
    assert err.startswith("cannot start: the tables of book_club differ from the database")
    assert "new column book_club_waves.note" in err
    assert 'Run python run.py db revision book_club -m "book_club tables", then start ' \
        "again." in err
    assert "Traceback" not in err and "SchemaMismatch" not in err
    assert len(err.strip().splitlines()) == 1
