"""Poll templates: a stored /poll that repeats by a rule (every Monday, every day, ...)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import ManualClock, MemberRef
from bot.adapters.console import PLATFORM
from plugins.polls import Polls, to_rrule
from plugins.polls.tables import polls, templates
from tests.conftest import ConsoleWorld, WorldFactory

# The manual clock starts on Monday 2026-01-05 09:00 UTC: the first Tuesday noon is tomorrow.
WEEKLY = '/poll_template lunch weekly:tue@12:00 "Where for lunch?" "Cafe | Park" duration=1d'


def plugin_of(world: ConsoleWorld) -> Polls:
    found = world.app.plugins["polls"]
    assert isinstance(found, Polls)
    return found


async def said(world: ConsoleWorld, *lines: str) -> list[str]:
    """What the bot said, with babel's narrow no-break spaces made plain."""
    return [line.replace("\u202f", " ") for line in world.bot_lines(await world.play(*lines))]


async def poll_rows(world: ConsoleWorld) -> list[Any]:
    async with world.app.db.connect() as conn:
        return list((await conn.execute(select(polls).order_by(polls.c.id))).all())


async def template_rows(world: ConsoleWorld) -> list[Any]:
    async with world.app.db.connect() as conn:
        return list((await conn.execute(select(templates))).all())


async def active_template_jobs(world: ConsoleWorld) -> list[Any]:
    return await world.app.db.scheduled_items(key_prefix="polls:template:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekly:mon@09:00", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
        ("Weekly:mon,THU@7:05", "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=7;BYMINUTE=5;BYSECOND=0"),
        ("daily@18:30", "FREQ=DAILY;BYHOUR=18;BYMINUTE=30;BYSECOND=0"),
        ("monthly:1@09:00", "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
        # Arabic-Indic digits, as an Arabic keyboard types them
        ("monthly:١٥@٠٩:٣٠", "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=30;BYSECOND=0"),
        ("FREQ=WEEKLY;BYDAY=FR;BYHOUR=9", "FREQ=WEEKLY;BYDAY=FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
        ("RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=8;BYMINUTE=0;BYSECOND=0",
         "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=8;BYMINUTE=0;BYSECOND=0"),
    ],
)
def test_friendly_rules_become_rrules(text: str, expected: str) -> None:
    assert to_rrule(text) == expected


@pytest.mark.parametrize(
    "text",
    ["weekly:funday@09:00", "weekly@09:00", "daily:mon@09:00", "daily@24:00", "daily@9:60",
     "monthly:32@09:00", "monthly:0@09:00", "monthly@09:00", "every monday", "FREQ=MINUTELY",
     "FREQ=HOURLY;BYMINUTE=0", "BYDAY=MO", ""],
)
def test_bad_rules_are_refused(text: str) -> None:
    assert to_rrule(text) is None


async def test_weekly_template_makes_one_poll_per_week(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    lines = await said(world, WEEKLY)
    assert lines == ["Majlis: Template “lunch” is saved: the next poll is posted here "
                     "Tue, January 6, 2026, 12:00 (UTC)."]
    assert await poll_rows(world) == []
    lines = await world.play(":advance 7d")
    made = await poll_rows(world)
    assert len(made) == 1
    assert made[0].template == 1 and made[0].question == "Where for lunch?"
    assert made[0].channel == "general" and made[0].creator == "owner"
    assert made[0].opened_at == datetime(2026, 1, 6, 12, tzinfo=UTC)
    assert made[0].deadline == datetime(2026, 1, 7, 12, tzinfo=UTC)
    assert made[0].closed_at is not None  # the normal close job ran after a day
    assert "[2026-01-06 12:00] Majlis: 📊 Where for lunch? (poll #1)" in "\n".join(lines)
    await world.play(":advance 7d")
    made = await poll_rows(world)
    assert [row.opened_at.day for row in made] == [6, 13]
    assert await world.app.scheduler.advance(timedelta(0)) == 0  # nothing left that is due


async def test_two_weeks_at_once_make_two_polls(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    await world.play(WEEKLY, ":advance 14d")
    made = await poll_rows(world)
    assert [row.opened_at.day for row in made] == [6, 13]
    assert {row.occurrence for row in made} == {
        "2026-01-06T12:00:00+00:00", "2026-01-13T12:00:00+00:00"}


async def test_the_same_occurrence_makes_one_poll(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    await world.play(WEEKLY)
    plugin = plugin_of(world)
    ctx = plugin.context(world.console.community)
    data = {"template": 1, "_occurrence": "2026-01-06T12:00:00+00:00"}
    await plugin.template_due(ctx, dict(data))
    await plugin.template_due(ctx, dict(data))
    await world.app.settle()
    assert len(await poll_rows(world)) == 1
    # the scheduler's own firing of that occurrence adds nothing either
    await world.play(":advance 2d")
    assert len(await poll_rows(world)) == 1
    await world.play(":advance 7d")
    assert len(await poll_rows(world)) == 2


async def test_restart_neither_loses_nor_repeats_a_firing(
    world_factory: WorldFactory, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    clock = ManualClock()
    first = await world_factory([Polls], database_url=url, clock=clock)
    await first.play(WEEKLY, ":advance 2d")  # Wednesday: the first poll is made
    assert len(await poll_rows(first)) == 1
    await first.app.stop()

    # Down over the next Tuesday: the missed firing runs once, late, at start.
    later = ManualClock(clock.now() + timedelta(days=7))
    second = await world_factory([Polls], database_url=url, clock=later)
    await second.app.settle()
    made = await poll_rows(second)
    assert [row.occurrence for row in made] == [
        "2026-01-06T12:00:00+00:00", "2026-01-13T12:00:00+00:00"]
    await second.app.stop()

    # Started again at the same moment: nothing fires twice.
    third = await world_factory([Polls], database_url=url, clock=ManualClock(later.now()))
    await third.app.settle()
    assert len(await poll_rows(third)) == 2
    await third.play(":advance 7d")  # the following Tuesday, as usual
    assert len(await poll_rows(third)) == 3


async def test_bad_rule_is_refused_and_nothing_is_stored(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    lines = await said(
        world,
        '/poll_template x weekly:funday@09:00 "Q?" "A | B"',
        '/poll_template y FREQ=MINUTELY "Q?" "A | B"',
    )
    assert len(lines) == 2
    for line in lines:
        assert "is not a schedule I understand" in line
        assert "weekly:mon@09:00" in line and "daily@18:30" in line
        assert "monthly:1@09:00" in line and "FREQ=WEEKLY" in line
        assert "(UTC)" in line
    lines = await said(
        world,
        '/poll_template z "FREQ=WEEKLY;UNTIL=20200101T000000Z" "Q?" "A | B"',
        '/poll_template w daily@09:00 "Q?" "Only one"',
        '/poll_template "two words" daily@09:00 "Q?" "A | B"',
    )
    assert "never happens again" in lines[0]
    assert "A poll needs 2 to 20 options" in lines[1]
    assert "A template name is one word" in lines[2]
    assert await template_rows(world) == []
    assert await active_template_jobs(world) == []


async def test_only_creators_may_make_templates(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    lines = await said(world, ":as sara", WEEKLY)
    assert lines == ["Majlis: (only sara sees) Only admins can create polls here."]
    assert await template_rows(world) == []


async def test_duplicate_name_is_refused(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    lines = await said(world, WEEKLY, WEEKLY.replace("tue", "wed"))
    assert "There is a template named “lunch” already" in lines[-1]
    assert len(await template_rows(world)) == 1


async def test_list_and_delete(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls])
    lines = await said(world, "/poll_templates")
    assert lines == ["Majlis: There are no poll templates here. Create one with /poll_template."]
    await world.play(WEEKLY, '/poll_template standup daily@18:30 "Done?" "Yes | No"')
    text = "\n".join(await said(world, "/poll_templates"))
    assert "2 poll templates:" in text
    assert ("• lunch (weekly:tue@12:00): “Where for lunch?” — "
            "next Tue, January 6, 2026, 12:00 (UTC)" in text)
    assert "• standup (daily@18:30): “Done?” — next Mon, January 5, 2026, 18:30 (UTC)" in text

    await world.play(":as sara")
    lines = await said(world, "/poll_template_delete lunch")
    assert lines == ["Majlis: (only sara sees) Only the template's creator or a moderator "
                     "can delete it."]
    lines = await said(world, ":as owner", "/poll_template_delete nothing")
    assert "There is no poll template named “nothing” here." in lines[0]
    lines = await said(world, "/poll_template_delete lunch",
                                             "/poll_template_delete standup")
    assert lines[0] == ("Majlis: Template “lunch” is deleted; no more polls will be made "
                        "from it.")
    assert await template_rows(world) == []
    assert await active_template_jobs(world) == []
    await world.play(":advance 14d")
    assert await poll_rows(world) == []


async def test_arabic_replies(world_factory: WorldFactory) -> None:
    world = await world_factory([Polls], language="ar", timezone="Asia/Riyadh")
    lines = await said(
        world,
        WEEKLY, '/poll_template x weekly:funday@09:00 "Q?" "A | B"', "/poll_templates")
    assert lines[1].endswith("(الرياض).")  # the community's timezone named by its city
    assert lines[0].startswith("Majlis: حُفظ القالب «lunch»: يُنشر الاستطلاع التالي هنا يوم ")
    assert "«weekly:funday@09:00» ليس موعدًا أفهمه" in lines[1]
    assert "monthly:1@09:00" in lines[1]
    assert lines[2].startswith("Majlis: قالب استطلاع واحد:")
    assert "«Where for lunch?» — التالي يوم " in lines[2]


async def test_export_and_forget_keep_the_template_without_its_creator(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory([Polls])
    await world.play(WEEKLY)
    owner = MemberRef(PLATFORM, "owner", "owner")
    exported = await plugin_of(world).export(owner)
    assert exported["templates"] == [{"community": world.console.community.key,
                                      "template": "lunch", "question": "Where for lunch?"}]
    await plugin_of(world).forget(owner)
    rows = await template_rows(world)
    assert len(rows) == 1 and rows[0].creator is None
    assert (await plugin_of(world).export(owner))["templates"] == []
    await world.play(":advance 2d")  # it still runs, for the community
    made = await poll_rows(world)
    assert len(made) == 1 and made[0].creator is None
