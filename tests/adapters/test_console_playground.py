"""The playground as a person meets it: checked directives, saved pictures, time that moves,
and members and the clock that are still there in the next session."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.console import Console
from bot.app import App
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.messages import Attachment
from bot.loader import discover
from tests.conftest import WorldFactory, make_settings


def said(lines: list[str]) -> list[str]:
    """Transcript lines without their time stamp."""
    return [line.split("] ", 1)[1] for line in lines]


async def test_help_lists_every_directive(world_factory: WorldFactory) -> None:
    world = await world_factory([])
    lines = said(await world.play(":help"))
    assert lines[0] == "Directives (anything else is a message; /help lists commands):"
    listed = [line.split()[0] for line in lines[1:]]
    assert listed == [":as", ":join", ":leave", ":admin", ":lang", ":press", ":react",
                      ":advance", ":help", "#"]
    assert any(":lang CODE" in line and "(ar or en)" in line for line in lines)


@pytest.mark.parametrize(
    ("line", "english", "arabic"),
    [
        (":as", "(:as needs a name, like :as sara)", "(يحتاج :as إلى اسم، مثل :as سارة)"),
        (":as two words", "(“two words” cannot be a name: one word of at most 32 characters, "
         "without @ or #)", "(لا يصلح «two words» اسمًا: الاسم كلمة واحدة لا تزيد على 32 "
         "حرفًا، بلا @ ولا #)"),
        (":join ana @bob", "(“@bob” cannot be a name: one word of at most 32 characters, "
         "without @ or #)", "(لا يصلح «@bob» اسمًا: الاسم كلمة واحدة لا تزيد على 32 "
         "حرفًا، بلا @ ولا #)"),  # nobody joins, not even ana
        (":leave ghost", "(ghost is not a member here)", "(لا يوجد عضو باسم ghost هنا)"),
        (":lang zz", "(“zz” is not a language here; choose one of: ar or en)",
         "(«zz» ليست لغة متاحة هنا؛ اختر واحدة من: ar أو en)"),
        (":lang", "(:lang needs a language code: ar or en)",
         "(يحتاج :lang إلى رمز لغة: ar أو en)"),
        (":press 1", "(there is no message with buttons to press)",
         "(لا توجد رسالة فيها أزرار للضغط عليها)"),
        (":react", "(:react needs an emoji, like :react 👍)",
         "(يحتاج :react إلى رمز تعبيري، مثل :react 👍)"),
        (":advance soon", "(:advance needs a duration like 90m, 2h, or 3d, not “soon”)",
         "(يحتاج :advance إلى مدة مثل 90m أو 2h أو 3d، لا «soon»)"),
        (":dance", "(unknown directive :dance; :help lists them)",
         "(لا يوجد توجيه :dance؛ اكتب :help لعرض التوجيهات)"),
    ],
)
async def test_a_directive_that_cannot_be_done_says_why_in_the_members_language(
    world_factory: WorldFactory, line: str, english: str, arabic: str
) -> None:
    world = await world_factory([])
    assert said(await world.play(line)) == [english]
    assert sorted(world.console.members) == ["owner"]
    arabic_world = await world_factory([], language="ar")
    assert said(await arabic_world.play(line)) == [arabic]


async def test_several_members_join_in_one_line_each_greeted_in_turn(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory(None)
    lines = said(await world.play(":join ana bob cem"))
    joined = [i for i, line in enumerate(lines) if line.endswith(" joined")]
    assert [lines[i] for i in joined] == ["→ ana joined", "→ bob joined", "→ cem joined"]
    # each member's greeting comes before the next one joins
    greetings = [i for i, line in enumerate(lines) if "Welcome to Majlis playground" in line]
    assert len(greetings) == 3 and joined[0] < greetings[0] < joined[1] < greetings[1]
    assert sorted(world.console.members) == ["ana", "bob", "cem", "owner"]


async def test_press_names_the_buttons_there_are(world_factory: WorldFactory) -> None:
    world = await world_factory(None)
    await world.play("/plugin_enable example", ":as sara")
    assert "[1 Wave back]" in "\n".join(world.console.transcript)
    assert said(await world.play(":press 7")) == ["(:press needs a button number from 1 to 1)"]
    assert said(await world.play(":press ١"))[0] == "sara pressed [Wave back]"


async def test_attachments_are_written_and_the_transcript_names_the_file(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    world = await world_factory([])
    world.console.attachments = tmp_path / "pictures"
    ctx = Context(world.app, None, world.console.community)
    picture = Attachment("chart.png", b"\x89PNG one", image=True)
    await ctx.send("the chart", attachments=[picture])
    await ctx.send("a file", attachments=[Attachment("notes v1.txt", b"other bytes")])
    await world.app.settle()
    lines = world.bot_lines(world.console.transcript)
    folder = tmp_path / "pictures"
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["20260105-0900-m1-chart.png",
                                      "20260105-0900-m2-notes_v1.txt"]
    assert files[0].read_bytes() == b"\x89PNG one"
    assert lines == [
        f"Majlis: the chart (image: chart.png, 8 bytes → {files[0]})",
        f"Majlis: a file (file: notes v1.txt, 11 bytes → {files[1]})",
    ]


async def test_a_file_of_another_session_with_the_same_name_is_kept(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    (tmp_path / "20260105-0900-m1-chart.png").write_bytes(b"earlier")
    world = await world_factory([])
    world.console.attachments = tmp_path
    await Context(world.app, None, world.console.community).send(
        "again", attachments=[Attachment("chart.png", b"now", image=True)]
    )
    await world.app.settle()
    assert (tmp_path / "20260105-0900-m1-chart.png").read_bytes() == b"earlier"
    assert (tmp_path / "20260105-0900-m1-chart-2.png").read_bytes() == b"now"


class RealTime:
    """Real time for the console, moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def session(database: str, real: RealTime) -> tuple[App, Console]:
    """A playground session on ``database`` whose clock follows ``real``."""
    console = Console(out=io.StringIO())
    console.lead = timedelta(0)
    console.real = real
    found, _ = discover(None)
    app = App(make_settings(database_url=database), clock=ManualClock(real()),
              platforms=[console], plugins=[f.cls for f in found])
    await app.start()
    return app, console


async def test_time_follows_real_time_and_advance_still_jumps(tmp_path: Path) -> None:
    real = RealTime(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    app, console = await session(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", real)
    try:
        await console.run_line('/poll "Tea or coffee?" "Tea | Coffee" duration=5m')
        await console.run_line(":press 1")
        real.now += timedelta(minutes=6)
        await console.catch_up()  # what the console's follower does every second
        closed = [line for line in console.transcript if "Poll #1 is closed" in line]
        assert closed and closed[0].startswith("[2026-03-02 10:05]")
        await console.run_line(":advance 2h")
        real.now += timedelta(minutes=1)
        await console.run_line("back after lunch")
        assert "[2026-03-02 12:07] owner: back after lunch" in console.transcript
    finally:
        await app.stop()


async def test_the_next_session_continues_the_clock_and_knows_its_members(
    tmp_path: Path,
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    real = RealTime(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    app, console = await session(database, real)
    try:
        await console.run_lines([":as sara", "hello everyone, this is sara speaking",
                                 ":lang ar", ":as owner", ":admin omar", ":advance 2d"])
    finally:
        await app.stop()
    real.now += timedelta(minutes=30)  # half an hour later, a second session
    app, console = await session(database, real)
    try:
        assert app.clock.now() == datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
        assert sorted(console.members) == ["omar", "owner", "sara"]
        assert console.admins == {"owner", "omar"}
        start = len(console.transcript)
        await console.run_lines([":as sara", "/rank sara"])
        lines = said(console.transcript[start:])
        assert not any("joined" in line for line in lines)
        assert any(line.startswith("Majlis: سارة") or "sara" in line for line in lines[1:])
        assert any("15" in line and "#1" in line for line in lines), lines
    finally:
        await app.stop()
