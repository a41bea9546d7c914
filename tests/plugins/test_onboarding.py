"""The onboarding plugin, as conversations in a console community."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import (
    ChannelRef,
    CommunityRef,
    InterestsChosen,
    MemberJoined,
    MemberRef,
    MessagePosted,
    Plugin,
    on,
)
from bot.core.actions import SendMessage
from bot.core.context import Context
from bot.core.markup import Style, parse
from bot.core.storage import outbox
from plugins.onboarding import Onboarding, OnboardingSettings, render_template, template_problem
from plugins.onboarding.tables import members
from tests.conftest import ROOT

SETUP = (
    "/onboarding_setup rules Be kind.",
    "/onboarding_setup interest_add Books",
    "/onboarding_setup interest_add Hiking",
    "/onboarding_setup interest_role Hiking hikers",
    "/onboarding_setup starter_role member",
)


class Listener(Plugin):
    """Records InterestsChosen events, as another plugin (e.g. matchmaking) would."""

    name = "listener"
    seen: list[InterestsChosen] = []

    @on(InterestsChosen)
    async def got(self, event: InterestsChosen, ctx: Context) -> None:
        Listener.seen.append(event)


def test_template_placeholders_are_checked_and_user_text_escaped() -> None:
    assert template_problem("Hi {name} from {community}") is None
    assert template_problem("Hi {count}") == "count"
    assert template_problem("Hi {name!r}") == "name"
    assert template_problem("Hi {") == "{"
    with pytest.raises(ValueError, match="member_count"):
        OnboardingSettings(template="{oops}")
    text = render_template("**{name}** [x](member:1)", {"name": "[e](member:2)"})
    assert all(span.style is Style.PLAIN for span in parse(text))


async def test_whole_flow_with_interests_roles_and_event(world_factory: Any) -> None:
    Listener.seen = []
    world = await world_factory([Onboarding, Listener])
    await world.play(*SETUP)
    lines = world.bot_lines(await world.play(
        ":as sara", ":press 1", ":press 2", ":press 3", "hello all"))
    assert "Majlis: Welcome to Majlis playground, sara! 👋" in lines
    assert any("I accept the rules" in line for line in lines)
    assert "Majlis: (badge for sara: hikers)" not in lines  # the badge is the label
    assert "Majlis: (badge for sara: Hiking)" in lines
    assert "Majlis: (badge for sara: member)" in lines
    assert "Majlis: (only sara sees) Saved your interests: Hiking." in lines
    assert any("Thanks for your first message, sara!" in line for line in lines)
    assert [e.interests for e in Listener.seen] == [("2",)]
    assert [e.labels for e in Listener.seen] == [("Hiking",)]  # what the member picked
    # a rename keeps the choice (stored by id)
    await world.play(":as owner", "/onboarding_setup interest_rename Hiking Trails")
    data = await world.app.export_member(MemberRef("console", "sara", "sara"))
    assert data["onboarding"]["communities"][0]["interests"] == [2]
    await world.app.forget_member(MemberRef("console", "sara", "sara"))
    data = await world.app.export_member(MemberRef("console", "sara", "sara"))
    assert data["onboarding"] == {"communities": []}


async def test_resume_and_bad_setup_values(world_factory: Any) -> None:
    world = await world_factory([Onboarding])
    await world.play(*SETUP)
    lines = world.bot_lines(await world.play(
        "/onboarding_setup greeting Hi {who}",
        "/onboarding_setup set raid_joins 1",
        "/onboarding_setup step rules maybe",
        ":as omar", ":press 1", "/onboarding"))
    assert any("“{who}” is not a placeholder" in line and "{member_count}" in line
               for line in lines)
    assert any("is not allowed for raid_joins" in line for line in lines)
    assert any("Use /onboarding_setup step" in line for line in lines)
    assert lines[-1].startswith("Majlis: (DM to omar) 🎯 What are you interested in?")


async def test_duplicate_join_greets_once_and_rejoin_is_welcomed_back(
    world_factory: Any,
) -> None:
    world = await world_factory([Onboarding])
    community = CommunityRef("console", "local")
    lina = world.console.member("lina")  # the console knows her (so ":leave lina" works)
    for event_id in ("j1", "j1", "j2"):  # a replay, then a second delivery under a new id
        await world.app.dispatcher.dispatch(
            MemberJoined(id=event_id, community=community, member=lina))
    await world.app.settle()
    said = world.bot_lines(world.console.transcript)
    assert said.count("Majlis: Welcome to Majlis playground, lina! 👋") == 1
    lines = world.bot_lines(await world.play(":leave lina", ":join lina"))
    assert lines == ["Majlis: Welcome back, lina! Your earlier choices are kept."]


async def test_greeting_and_its_mark_commit_together(world_factory: Any) -> None:
    """The outbox failing to store the greeting leaves no "greeted" mark: the next
    delivery of the join greets (before, the mark stayed and the greeting was lost)."""
    world = await world_factory([Onboarding])
    community = CommunityRef("console", "local")
    lina = MemberRef("console", "lina", "lina")
    db = world.app.db
    store_message = db.outbox_add

    async def disk_full(*args: Any, **kwargs: Any) -> int:
        raise OSError("disk full")

    db.outbox_add = disk_full
    await world.app.dispatcher.dispatch(MemberJoined(id="j1", community=community, member=lina))
    await world.app.settle()
    db.outbox_add = store_message
    async with db.connect() as conn:
        marked = (await conn.execute(
            select(members.c.greeted).where(members.c.member == "lina"))).scalar()
    assert not marked
    await world.app.dispatcher.dispatch(MemberJoined(id="j2", community=community, member=lina))
    await world.app.settle()
    said = world.bot_lines(world.console.transcript)
    assert said.count("Majlis: Welcome to Majlis playground, lina! 👋") == 1


async def test_a_message_queued_in_a_rolled_back_transaction_is_never_sent(
    world_factory: Any,
) -> None:
    world = await world_factory([Onboarding])
    ctx = world.app.plugins["onboarding"].context(CommunityRef("console", "local"))
    with pytest.raises(RuntimeError):
        async with ctx.transaction():
            await ctx.send("never")
            raise RuntimeError("the plugin changed its mind")
    async with ctx.transaction():
        await ctx.send("once")
    await world.app.settle()
    said = world.bot_lines(world.console.transcript)
    assert "Majlis: once" in said and "Majlis: never" not in said
    async with world.app.db.connect() as conn:
        stored = (await conn.execute(select(outbox.c.action))).scalars().all()
    assert not [a for a in stored if "never" in str(a)]


KILLED_GREETING = textwrap.dedent("""
    import asyncio, io, sys
    from bot.adapters.console import Console
    from bot.app import App
    from bot.core.clock import ManualClock
    from bot.core.events import MemberJoined
    from bot.core.refs import CommunityRef, MemberRef
    from bot.core.storage import Database
    from plugins.onboarding import Onboarding
    from tests.conftest import make_settings

    async def main() -> None:
        path, event_id, die = sys.argv[1], sys.argv[2], sys.argv[3] == "die"
        if die:  # stop for good where the greeting is being stored, after the mark
            real_add = Database.outbox_add

            async def outbox_add(self, *args, **kwargs):
                if "Welcome to" in str(args[2]):
                    print("storing the greeting", flush=True)
                    await asyncio.sleep(3600)
                return await real_add(self, *args, **kwargs)

            Database.outbox_add = outbox_add
        console = Console(out=io.StringIO())
        app = App(make_settings(database_url="sqlite+aiosqlite:///" + path),
                  clock=ManualClock(), platforms=[console], plugins=[Onboarding])
        await app.start()
        await app.dispatcher.dispatch(MemberJoined(
            id=event_id, community=CommunityRef("console", "local"),
            member=MemberRef("console", "lina", "lina")))
        await app.settle()
        greetings = [line for line in console.transcript if "Welcome to" in line]
        print(len(greetings), "greeting(s)", flush=True)
        await app.stop()

    asyncio.run(main())
""")


def test_sigkill_between_the_mark_and_the_greeting_greets_once_after_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "kill.db"

    def run(event_id: str, mode: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", KILLED_GREETING, str(db), event_id, mode],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})

    proc = run("j1", "die")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "storing the greeting"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        greeted = conn.execute(
            "SELECT greeted FROM onboarding_members WHERE member = 'lina'").fetchall()
    # the join, its mark and its greeting commit together: none of them survived the kill
    assert greeted in ([], [(0,)])
    said = []
    for event_id in ("j2", "j3"):  # the platform delivers the join again, twice
        done = run(event_id, "live")
        out, _ = done.communicate(timeout=120)
        said.append(out.strip())
    assert said == ["1 greeting(s)", "0 greeting(s)"]
    with sqlite3.connect(db) as conn:
        actions = [row[0] for row in conn.execute("SELECT action FROM core_outbox")]
    assert len([a for a in actions if "Welcome to" in a]) == 1


async def test_raid_of_fifteen_joins_batches_greetings_and_loses_nobody(
    world_factory: Any, tmp_path: Path,
) -> None:
    # a file database: fifteen concurrent handlers each get their own connection
    world = await world_factory([Onboarding], database_url=f"sqlite+aiosqlite:///{tmp_path}/db")
    community = CommunityRef("console", "local")
    names = [f"n{i:02}" for i in range(1, 16)]
    await asyncio.gather(*(
        world.app.dispatcher.dispatch(MemberJoined(
            id=f"raid{name}", community=community, member=MemberRef("console", name, name),
            at=world.clock.now()))
        for name in names))
    await world.app.settle()
    said = world.bot_lines(world.console.transcript)
    singles = [line for line in said if line.startswith("Majlis: Welcome to Majlis playground")]
    alerts = [line for line in said if "🚨 Moderators" in line]
    assert len(singles) == 10 and len(alerts) == 1
    lines = world.bot_lines(await world.play(":advance 2m"))
    # one greeting with the count of those still waiting, never a list of every name
    assert [line for line in lines if "new member" in line] == [
        "Majlis: Welcome to our 5 new members!"]
    greeted = {line.split(", ")[1].split("!")[0] for line in singles}
    assert len(greeted) == 10
    async with world.app.db.connect() as conn:
        rows = (await conn.execute(select(members.c.member, members.c.greeted))).all()
    assert sorted(r.member for r in rows) == names and all(r.greeted for r in rows)


async def test_nudge_once_graduation_and_funnel(world_factory: Any) -> None:
    world = await world_factory([Onboarding])
    await world.play("/onboarding_setup set graduate_messages 2",
                     "/onboarding_setup set graduate_days 3",
                     "/onboarding_setup set nudge_hours 12")
    await world.play(":as sara", "hi", "again", ":as omar")
    lines = world.bot_lines(await world.play(":advance 13h", ":advance 4d"))
    assert [line for line in lines if "We would love to hear from you" in line] == [
        "Majlis: (DM to omar) 👋 Hi omar! We would love to hear from you: say hello in the "
        "community whenever you like."]
    assert "Majlis: (badge removed from sara: newcomer)" in lines
    assert not any("omar: newcomer" in line for line in lines if "removed" in line)
    lines = world.bot_lines(await world.play(":as owner", "/onboarding_funnel 7"))
    text = "\n".join(lines)
    assert "Joined: 2 · 100%" in text
    assert "First message: 1 · 50%" in text and "Second message: 1 · 50%" in text
    assert "(image: onboarding-funnel.png" in text


async def test_arabic_plurals_and_greeting(world_factory: Any) -> None:
    world = await world_factory([Onboarding], language="ar")
    lines = world.bot_lines(await world.play(":as سارة", ":as owner", "/onboarding_funnel 1"))
    assert "Majlis: أهلًا بك في Majlis playground يا سارة! 👋" in lines
    assert any("قمع الترحيب، آخر يوم" in line for line in lines)


def test_the_arabic_raid_greeting_puts_the_count_before_a_noun_that_agrees_with_it() -> None:
    from bot.core.i18n import Catalogs, Translator
    from plugins.onboarding.render import batch_greeting

    ar = Translator(Catalogs(), "onboarding", "ar")
    said = {n: str(batch_greeting(ar, n, steps=False)[0]) for n in (2, 3, 10, 15, 100, 103)}
    assert said == {2: "أهلًا بعضوَينا الجديدَين!", 3: "أهلًا بـ3 أعضاء جدد!",
                    10: "أهلًا بـ10 أعضاء جدد!", 15: "أهلًا بـ15 عضوًا جديدًا!",
                    100: "أهلًا بـ100 عضو جديد!", 103: "أهلًا بـ103 أعضاء جدد!"}


async def test_introduction_by_command_escaped_and_mentioning_only_the_member(
    world_factory: Any,
) -> None:
    world = await world_factory([Onboarding])
    sent: list[SendMessage] = []
    deliver = world.console.deliver

    async def recording(action: Any, reply_handle: Any = None, progress: Any = None) -> Any:
        if isinstance(action, SendMessage):
            sent.append(action)
        return await deliver(action, reply_handle, progress)

    world.console.deliver = recording
    await world.play("/onboarding_setup set intro_max_length 40",
                     "/onboarding_setup set intro_channel intros")
    lines = world.bot_lines(await world.play(":as sara"))  # no steps: finished by the join
    assert any("🎉 You are all set!" in line and "send /intro" in line and "[" not in line
               for line in lines)
    lines = world.bot_lines(await world.play("/onboarding"))
    assert any("Introduce yourself" in line and "[1 Skip]" in line for line in lines)
    lines = world.bot_lines(await world.play(
        "/intro " + "x" * 41, "/intro", "/intro I am **Sara** [x](member:owner)"))
    assert any("has 41 characters; at most 40 are allowed" in line for line in lines)
    assert any("Write a few words after /intro" in line for line in lines)
    assert "Majlis: Please welcome @sara: I am **Sara** [x](member:owner)" in lines
    welcome = next(a for a in sent if "Please welcome" in a.content.text)
    assert welcome.channel is not None and welcome.channel.id == "intros"
    assert welcome.content.mention_ids == ("sara",)
    spans = parse(welcome.content.text)
    assert [s.target for s in spans if s.style is Style.MENTION] == ["sara"]
    assert not any(s.bold or s.style is Style.LINK for s in spans)
    lines = world.bot_lines(await world.play("/intro again", ":press 1"))
    assert lines == ["Majlis: (only sara sees) You have already introduced yourself. Thank you!"]
    data = await world.app.export_member(MemberRef("console", "sara", "sara"))
    assert data["onboarding"]["communities"][0]["intro"] == "I am **Sara** [x](member:owner)"
    await world.app.forget_member(MemberRef("console", "sara", "sara"))
    data = await world.app.export_member(MemberRef("console", "sara", "sara"))
    assert data["onboarding"] == {"communities": []}


async def test_private_message_answers_the_prompt_and_skip_closes_it(
    world_factory: Any,
) -> None:
    world = await world_factory([Onboarding])
    community = CommunityRef("console", "local")
    await world.play(":as sara", "/onboarding", ":as omar", "/onboarding", ":press 1")  # skip
    said = world.bot_lines(await world.play(":as omar", ":press 1"))
    assert said == []  # a second press does nothing

    async def private(member: str, text: str, event_id: str) -> list[str]:
        start = len(world.console.transcript)
        await world.app.dispatcher.dispatch(MessagePosted(
            id=event_id, community=community, member=MemberRef("console", member, member),
            channel=ChannelRef("console", f"dm:{member}", private=True),
            message_id=event_id, text=text))
        await world.app.settle()
        return world.bot_lines(world.console.transcript[start:])

    assert await private("omar", "hello bot", "p1") == []  # skipped: not an introduction
    lines = await private("sara", "Hi, I hike.", "p2")
    assert lines == ["Majlis: Please welcome @sara: Hi, I hike.",
                     "Majlis: (DM to sara) 🙌 Thank you! I posted your introduction."]
    assert await private("sara", "Hi, I hike.", "p2") == []  # a replay
    assert await private("sara", "more", "p3") == []  # the step is closed
    lines = world.bot_lines(await world.play(":as owner", "/onboarding_funnel 7"))
    assert any("Introduced themselves: 1 · 50%" in line for line in lines)
    await world.play("/onboarding_setup step intro off")
    lines = world.bot_lines(await world.play("/onboarding_funnel 7", ":as omar", "/intro hi"))
    assert not any("Introduced themselves" in line for line in lines)
    assert "Majlis: (only omar sees) Introductions are switched off in this community." in lines


async def test_arabic_introduction(world_factory: Any) -> None:
    world = await world_factory([Onboarding], language="ar")
    lines = world.bot_lines(await world.play(":as سارة", "/onboarding", "/intro أحب القراءة"))
    assert any("عرّف المجتمع بنفسك" in line and "تخطٍّ" in line for line in lines)
    assert any("(بحدّ أقصى 500 حرف)" in line for line in lines)  # a count takes its plural
    assert "Majlis: رحّبوا معنا بانضمام @سارة: أحب القراءة" in lines
    lines = world.bot_lines(await world.play(":as عمر", "/intro " + "ب" * 501))
    assert "Majlis: (لا يراها إلا عمر) يتكوّن تعريفك من 501 حرف، والحد الأقصى المسموح به هو " \
        "500. يُرجى اختصاره وإرساله من جديد." in lines


async def test_public_greeting_speaks_the_community_the_private_flow_the_member(
    world_factory: Any,
) -> None:
    world = await world_factory([Onboarding], language="ar")
    community = CommunityRef("console", "local")
    await world.play("/onboarding_setup rules كونوا لطفاء.")
    start = len(world.console.transcript)
    lina = MemberRef("console", "lina", "lina", "en")  # her client speaks English
    await world.app.dispatcher.dispatch(MemberJoined(id="j-lina", community=community,
                                                     member=lina))
    await world.app.settle()
    lines = world.bot_lines(world.console.transcript[start:])
    assert "Majlis: أهلًا بك في Majlis playground يا lina! 👋" in lines  # everyone reads it
    rules = next(line for line in lines if "(رسالة خاصة إلى lina)" in line)
    assert "Please accept them to continue." in rules and "[1 I accept the rules]" in rules
    # a greeting sent by DM is hers alone: her language
    await world.play("/onboarding_setup set greet_in dm")
    start = len(world.console.transcript)
    sam = MemberRef("console", "sam", "sam", "en")
    await world.app.dispatcher.dispatch(MemberJoined(id="j-sam", community=community,
                                                     member=sam))
    await world.app.settle()
    lines = world.bot_lines(world.console.transcript[start:])
    assert "Majlis: (رسالة خاصة إلى sam) Welcome to Majlis playground, sam! 👋" in lines


async def test_setup_rules_on_several_lines_and_greeting_reset(world_factory: Any) -> None:
    world = await world_factory([Onboarding])
    lines = world.bot_lines(await world.play(
        "/onboarding_setup rules Be kind.\\n  No spam.",
        "/onboarding_setup greeting Hi {name}!",
        "/onboarding_setup greeting",
        ":as sara"))
    assert "Majlis: (only owner sees) Greeting reset to the default. Use /onboarding_setup " \
        "preview to see it." in lines
    assert "Majlis: Welcome to Majlis playground, sara! 👋" in lines
    rules = next(line for line in lines if "(DM to sara)" in line)
    assert "Be kind.\nNo spam.\n" in rules and "\\n" not in rules


async def test_funnel_leaves_out_rules_nobody_was_asked_to_accept(world_factory: Any) -> None:
    world = await world_factory([Onboarding])
    await world.play(":as sara", "hello", ":as owner")
    lines = world.bot_lines(await world.play("/onboarding_funnel 7"))
    text = "\n".join(lines)
    assert "Joined: 1 · 100%" in text and "First message: 1 · 100%" in text
    assert "Accepted the rules" not in text
    lines = world.bot_lines(await world.play("/onboarding_setup rules Be kind.",
                                             "/onboarding_funnel 7"))
    assert "Accepted the rules: 1 · 100%" in "\n".join(lines)  # sara passed it by joining
