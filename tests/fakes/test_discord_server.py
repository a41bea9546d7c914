"""The real discord.py client driven end to end against :class:`FakeDiscord`."""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.http import Route

from .discord_server import (
    CANNOT_SEND_MESSAGES_TO_USER,
    FakeDiscord,
    Intent,
    InteractionCallbackType,
    MessageFlag,
    Op,
    OptionType,
    Permission,
    SampleGuild,
    command_interaction_payload,
    command_option,
    default_intents,
    guild_payload,
    member_payload,
    message_payload,
    resolved_payload,
    user_payload,
)

TIMEOUT = 5.0


class RecordingClient(discord.Client):
    """A ``discord.Client`` that records every dispatched event with its arguments."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("intents", default_intents())
        options.setdefault("guild_ready_timeout", 0.1)
        super().__init__(**options)
        self.events: defaultdict[str, list[tuple[Any, ...]]] = defaultdict(list)

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        self.events[event].append(args)
        super().dispatch(event, *args, **kwargs)

    async def wait_event(self, name: str, count: int = 1, timeout: float = TIMEOUT) -> Any:
        """Wait until ``name`` was dispatched ``count`` times; return the last args' first item."""
        async with asyncio.timeout(timeout):
            while len(self.events[name]) < count:  # noqa: ASYNC110 - events come from discord.py
                await asyncio.sleep(0.005)
        args = self.events[name][count - 1]
        return args[0] if args else None


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(heartbeat_interval_ms=200) as server:
        yield server


@pytest.fixture
def world(fake: FakeDiscord) -> SampleGuild:
    return fake.add_sample_guild()


@pytest.fixture
async def client(fake: FakeDiscord, world: SampleGuild) -> AsyncIterator[RecordingClient]:
    bot = RecordingClient()
    async with fake.run_client(bot):
        yield bot


# ------------------------------------------------------------------------------ connection


async def test_points_discord_py_at_the_fake_and_restores() -> None:
    from discord.gateway import DiscordWebSocket

    before = (Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY))
    async with FakeDiscord() as server:
        assert server.api_url == Route.BASE
        assert server.api_url.startswith("http://127.0.0.1:") and server.api_url.endswith("/v10")
        assert str(DiscordWebSocket.DEFAULT_GATEWAY) == server.gateway_url
    assert (Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY)) == before


async def test_ready_and_guild_create(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    # login: GET /users/@me then the application
    assert [r.path for r in fake.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    assert client.user is not None and client.user.id == fake.bot_id and client.user.bot
    assert client.application_id == fake.application_id

    session = await fake.wait_until_ready()
    assert session.intents == default_intents().value
    assert not session.intents & Intent.MESSAGE_CONTENT
    assert [e.event for e in session.history[:2]] == ["READY", "GUILD_CREATE"]
    ready = session.history[0].data
    assert ready["resume_gateway_url"] == fake.resume_gateway_url
    assert ready["guilds"] == [{"id": str(world.guild_id), "unavailable": True}]
    assert ready["application"] == {"id": str(fake.application_id), "flags": 0}

    guild = await client.wait_event("guild_available")
    assert client.events["ready"]
    assert guild.id == world.guild_id and guild.name == "Majlis Test Guild"
    assert guild.owner_id == world.owner_id
    assert {c.name for c in guild.channels} == {"general", "forum"}
    assert isinstance(guild.get_channel(world.forum_id), discord.ForumChannel)
    assert [t.id for t in guild.threads] == [world.thread_id]
    assert guild.me.top_role.id == world.bot_role_id
    assert guild.get_role(world.admin_role_id).permissions.administrator

    # Without GUILD_PRESENCES only the bot's member comes in GUILD_CREATE; discord.py then
    # requests the rest with op 8 and the fake answers GUILD_MEMBERS_CHUNK.
    request = await fake.wait_for_gateway(Op.REQUEST_GUILD_MEMBERS)
    assert int(request.d["guild_id"]) == world.guild_id
    assert session.events("GUILD_MEMBERS_CHUNK")
    alice = guild.get_member(world.alice_id)
    assert alice is not None and alice.name == "alice"
    assert [r.id for r in alice.roles[1:]] == [world.member_role_id]
    assert guild.member_count == 4 and guild.chunked

    # heartbeats are acknowledged; the default client asked for zlib-stream and got it
    await fake.wait_for_gateway(Op.HEARTBEAT_ACK, direction="send")
    assert fake.connections[0].compress in ("zlib-stream", "zstd-stream")
    assert fake.connections[0].query["v"] == "10"
    assert fake.connections[0].query["encoding"] == "json"


async def test_plain_text_frames_when_not_compressing() -> None:
    async with FakeDiscord(compress=False) as server:
        world = server.add_sample_guild()
        bot = RecordingClient()
        async with server.run_client(bot):
            assert server.connections[0].compressor is None
            await server.simulate_message(
                world.general_id, world.alice_id, f"<@{server.bot_id}> hi"
            )
            message = await bot.wait_event("message")
            assert message.content == f"<@{server.bot_id}> hi"


# ------------------------------------------------------------------------------ events


async def test_message_create(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    await fake.simulate_message(world.general_id, world.alice_id, "no content intent")
    plain = await client.wait_event("message")
    assert plain.author.id == world.alice_id and isinstance(plain.author, discord.Member)
    assert plain.channel.id == world.general_id
    assert plain.content == ""  # blanked: no MESSAGE_CONTENT intent and no mention

    original = await fake.simulate_message(world.general_id, world.bob_id, "original")
    await client.wait_event("message", 2)
    await fake.simulate_message(
        world.general_id,
        world.alice_id,
        f"hey <@{fake.bot_id}> and <@{world.bob_id}>",
        reply_to=original["id"],
    )
    reply = await client.wait_event("message", 3)
    assert reply.content == f"hey <@{fake.bot_id}> and <@{world.bob_id}>"
    assert {u.id for u in reply.mentions} == {fake.bot_id, world.bob_id}
    assert reply.type is discord.MessageType.reply
    assert reply.reference is not None and reply.reference.message_id == int(original["id"])
    assert reply.reference.resolved is not None

    await fake.simulate_message(world.thread_id, world.alice_id, f"<@{fake.bot_id}> in thread")
    in_thread = await client.wait_event("message", 4)
    assert isinstance(in_thread.channel, discord.Thread)
    assert in_thread.channel.parent_id == world.general_id

    await fake.simulate_dm(world.bob_id, "a private word")
    dm = await client.wait_event("message", 5)
    assert isinstance(dm.channel, discord.DMChannel) and dm.content == "a private word"


async def test_member_join_and_reaction(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    newcomer = fake.add_user(user_payload(None, "carol", global_name="Carol"))
    await fake.simulate_member_join(world.guild_id, newcomer)
    member = await client.wait_event("member_join")
    assert member.id == int(newcomer["id"]) and member.guild.id == world.guild_id
    assert fake.member(world.guild_id, newcomer["id"]) is not None

    sent = await fake.simulate_message(world.general_id, world.bob_id, "react to me")
    await client.wait_event("message")
    await fake.simulate_reaction(world.alice_id, sent["id"], "🎉")
    raw = await client.wait_event("raw_reaction_add")
    assert raw.message_id == int(sent["id"]) and raw.user_id == world.alice_id
    assert str(raw.emoji) == "🎉" and raw.guild_id == world.guild_id
    assert raw.member is not None and raw.member.id == world.alice_id
    assert raw.message_author_id == world.bob_id

    await fake.simulate_reaction(
        world.alice_id, sent["id"], "party:123456789012345678", remove=True
    )
    removed = await client.wait_event("raw_reaction_remove")
    assert removed.emoji.id == 123456789012345678 and removed.emoji.name == "party"


async def test_intents_filter_events() -> None:
    async with FakeDiscord() as server:
        world = server.add_sample_guild()
        intents = discord.Intents.none()
        intents.guilds = True
        bot = RecordingClient(intents=intents)
        async with server.run_client(bot):
            delivered = await server.simulate_message(world.general_id, world.alice_id, "x")
            assert delivered["content"] == "x"  # the payload as built, before filtering
            assert server.sessions[0].events("MESSAGE_CREATE") == []
            assert await server.dispatch("MESSAGE_CREATE", delivered) == 0
            assert not server.requests_matching("*", "/guilds/{guild_id}/members")


# ------------------------------------------------------------------------------ interactions


async def test_slash_command_interaction(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    payload = await fake.simulate_command(
        "points",
        user_id=world.alice_id,
        channel_id=world.general_id,
        locale="fr",
        options=[
            command_option("member", world.bob_id, option_type=OptionType.USER),
            command_option("amount", 5),
        ],
    )
    assert payload["member"]["permissions"] == str(
        fake.compute_permissions(world.guild_id, world.alice_id, world.general_id)
    )
    assert payload["data"]["resolved"]["users"][str(world.bob_id)]["username"] == "bob"
    interaction: discord.Interaction = await client.wait_event("interaction")
    assert interaction.type is discord.InteractionType.application_command
    assert interaction.id == int(payload["id"]) and interaction.token == payload["token"]
    assert interaction.locale is discord.Locale.french
    assert interaction.guild_locale is discord.Locale.american_english
    assert interaction.user.id == world.alice_id
    assert isinstance(interaction.user, discord.Member)
    assert interaction.permissions.send_messages and not interaction.permissions.manage_roles
    assert interaction.channel is not None and interaction.channel.id == world.general_id
    assert interaction.data is not None
    assert interaction.data["options"][1] == {"name": "amount", "type": 4, "value": 5}  # type: ignore[typeddict-item]

    response = await interaction.response.send_message("only for you", ephemeral=True)
    callback = await fake.wait_for_callback(interaction.id)
    assert callback.type == InteractionCallbackType.CHANNEL_MESSAGE_WITH_SOURCE
    assert callback.data["content"] == "only for you" and callback.ephemeral
    assert callback.with_response
    request = await fake.wait_for_request("POST", "/interactions/{id}/{token}/callback")
    assert request.query == {"with_response": "1"} and request.json["type"] == 4
    assert response.is_ephemeral() and response.message_id is not None

    followup = await interaction.followup.send("and a followup", wait=True)
    assert followup.content == "and a followup"
    assert fake.requests_matching("POST", "/webhooks/{app}/{token}")[0].query["wait"] == "1"
    edited = await interaction.edit_original_response(content="edited")
    assert edited.content == "edited"
    assert fake.requests_matching("PATCH", "/webhooks/{app}/{token}/messages/@original")

    with pytest.raises(discord.InteractionResponded):  # discord.py's own bookkeeping
        await interaction.response.send_message("again")
    # ... and the fake itself refuses a second acknowledgement like Discord does
    async with aiohttp.ClientSession() as http:
        url = f"{fake.api_url}/interactions/{interaction.id}/{interaction.token}/callback"
        async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "message": "Interaction has already been acknowledged.",
                "code": 40060,
            }


async def test_component_interaction(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    channel = client.get_channel(world.general_id)
    assert isinstance(channel, discord.TextChannel)
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Join", custom_id="majlis:join"))
    sent = await channel.send("Click", view=view)
    request = await fake.wait_for_request("POST", f"/channels/{world.general_id}/messages")
    assert request.json["components"][0]["components"][0]["custom_id"] == "majlis:join"

    await fake.simulate_component("majlis:join", user_id=world.bob_id, message_id=sent.id)
    interaction: discord.Interaction = await client.wait_event("interaction")
    assert interaction.type is discord.InteractionType.component
    assert interaction.data is not None and interaction.data["custom_id"] == "majlis:join"  # type: ignore[typeddict-item]
    assert interaction.message is not None and interaction.message.id == sent.id
    await interaction.response.edit_message(content="Joined!", view=None)
    callback = await fake.wait_for_callback(interaction.id)
    assert callback.type == InteractionCallbackType.UPDATE_MESSAGE
    assert fake.messages[sent.id]["content"] == "Joined!"


async def test_deferred_dm_command(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    await fake.simulate_command("help", user_id=world.bob_id)
    interaction: discord.Interaction = await client.wait_event("interaction")
    assert interaction.guild_id is None and interaction.guild_locale is None
    assert isinstance(interaction.channel, discord.DMChannel)
    await interaction.response.defer(thinking=True)
    callback = await fake.wait_for_callback()
    assert callback.type == InteractionCallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    original = await interaction.original_response()
    assert original.flags.loading
    done = await interaction.edit_original_response(content="here is help")
    assert done.content == "here is help" and not done.flags.loading


# ------------------------------------------------------------------------------ REST


async def test_send_file_is_multipart(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    channel = client.get_channel(world.general_id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send(
        "report", file=discord.File(io.BytesIO(b"hello,world\n"), "report.csv")
    )
    request = await fake.wait_for_request("POST", "/channels/{channel_id}/messages")
    assert request.multipart and request.params == {"channel_id": str(world.general_id)}
    assert request.json["content"] == "report"
    assert request.json["attachments"] == [{"id": 0, "filename": "report.csv"}]
    assert [(f.name, f.filename, f.data) for f in request.files] == [
        ("files[0]", "report.csv", b"hello,world\n")
    ]
    assert message.id == int(request.response["id"])
    assert message.attachments[0].filename == "report.csv"
    assert message.attachments[0].content_type == "text/csv"
    assert await message.attachments[0].read() == b"hello,world\n"
    assert fake.bot_messages[-1]["id"] == str(message.id)


async def test_429_is_retried(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    fake.fail_next("POST", "/channels/{channel_id}/messages", 429, retry_after=0.1)
    channel = client.get_channel(world.general_id)
    assert isinstance(channel, discord.TextChannel)
    started = asyncio.get_running_loop().time()
    message = await channel.send("eventually")
    assert asyncio.get_running_loop().time() - started >= 0.1
    attempts = fake.requests_matching("POST", "/channels/{channel_id}/messages")
    assert [(r.status, r.injected) for r in attempts] == [(429, True), (200, False)]
    assert attempts[0].response == {
        "message": "You are being rate limited.",
        "retry_after": 0.1,
        "global": False,
    }
    assert message.content == "eventually"


async def test_closed_dms_raise_forbidden(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    alice = await client.fetch_user(world.alice_id)
    fake.close_dms(world.alice_id)
    with pytest.raises(discord.Forbidden) as excinfo:
        await alice.send("welcome!")
    assert excinfo.value.code == 50007 and excinfo.value.status == 403
    assert excinfo.value.text == "Cannot send messages to this user"
    assert fake.requests_matching("POST", "/users/@me/channels")[0].json == {
        "recipient_id": world.alice_id
    }

    bob = await client.fetch_user(world.bob_id)
    fake.fail_next("POST", "/channels/{id}/messages", CANNOT_SEND_MESSAGES_TO_USER)
    with pytest.raises(discord.Forbidden):
        await bob.send("hi")
    await bob.send("works now")
    assert fake.bot_messages[-1]["content"] == "works now"


async def test_role_hierarchy(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    guild = client.get_guild(world.guild_id)
    assert guild is not None
    bob = guild.get_member(world.bob_id)
    assert bob is not None
    await bob.add_roles(discord.Object(world.member_role_id))
    assert world.member_role_id in fake.member_role_ids(world.guild_id, world.bob_id)
    assert fake.requests_matching("PUT", "/guilds/{g}/members/{u}/roles/{r}")[0].status == 204

    with pytest.raises(discord.Forbidden) as excinfo:
        await bob.add_roles(discord.Object(world.admin_role_id))  # above the bot's role
    assert excinfo.value.code == 50013 and excinfo.value.text == "Missing Permissions"
    await bob.remove_roles(discord.Object(world.member_role_id))
    assert fake.member_role_ids(world.guild_id, world.bob_id) == set()

    fetched = await guild.fetch_member(world.alice_id)
    assert [r.id for r in fetched.roles if r.id != guild.id] == [world.member_role_id]


async def test_pins_need_the_permission_and_a_known_message(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    channel = client.get_partial_messageable(world.general_id)
    first = await channel.send("first")
    second = await channel.send("second")
    await first.pin()
    await first.pin()  # again: still one pin, one "pinned a message" note
    await second.pin()
    assert fake.pinned_in(world.general_id) == [first.id, second.id]
    notes = [m for m in fake.messages.values() if m["type"] == 6]
    assert [int(n["message_reference"]["message_id"]) for n in notes] == [first.id, second.id]
    await second.unpin()
    await second.unpin()  # not pinned: nothing to do
    assert fake.pinned_in(world.general_id) == [first.id]
    with pytest.raises(discord.NotFound):
        await channel.get_partial_message(9999).pin()
    role = fake.guilds[world.guild_id].roles[world.bot_role_id]
    role["permissions"] = str(int(role["permissions"]) & ~(
        Permission.PIN_MESSAGES | Permission.MANAGE_MESSAGES))
    with pytest.raises(discord.Forbidden) as excinfo:
        await first.unpin()
    assert excinfo.value.code == 50013
    assert fake.pinned_in(world.general_id) == [first.id]


async def test_unknown_route_is_recorded(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    with pytest.raises(discord.NotFound) as excinfo:
        await client.http.request(Route("GET", "/guilds/{guild_id}/audit-logs", guild_id=1))
    assert excinfo.value.text == "404: Not Found" and excinfo.value.code == 0
    assert [r.path for r in fake.unhandled_requests] == ["/guilds/1/audit-logs"]


async def test_command_sync(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    tree = app_commands.CommandTree(client)

    @tree.command(name="points", description="Show points")
    @app_commands.describe(member="Whose points")
    async def points(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"{member.display_name}: 3")

    synced = await tree.sync()
    assert [c.name for c in synced] == ["points"] and synced[0].id
    request = await fake.wait_for_request("PUT", "/applications/{app}/commands")
    assert request.json[0]["options"][0]["type"] == OptionType.USER
    assert fake.global_commands[0]["id"] == str(synced[0].id)

    guild = discord.Object(world.guild_id)
    tree.copy_global_to(guild=guild)
    assert [c.id for c in await tree.sync(guild=guild)] == [
        int(c["id"]) for c in fake.guild_commands[world.guild_id]
    ]

    # the tree routes a dispatched command to the callback, which answers
    await fake.simulate_command(
        "points",
        user_id=world.alice_id,
        channel_id=world.general_id,
        options=[command_option("member", world.bob_id, option_type=OptionType.USER)],
    )
    callback = await fake.wait_for_callback()
    assert callback.data["content"] == "Bob: 3"

    # Discord has no Arabic locale: localizations keyed "ar" are rejected
    fake.global_commands.clear()
    bad = [{"name": "points", "description": "x", "name_localizations": {"ar": "نقاط"}}]
    with pytest.raises(discord.HTTPException) as excinfo:
        await client.http.bulk_upsert_global_commands(fake.application_id, bad)
    assert excinfo.value.code == 50035 and "name_localizations" in str(excinfo.value)


async def test_threads_and_scheduled_events(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    guild = client.get_guild(world.guild_id)
    assert guild is not None
    general = guild.get_channel(world.general_id)
    forum = guild.get_channel(world.forum_id)
    assert isinstance(general, discord.TextChannel) and isinstance(forum, discord.ForumChannel)

    message = await general.send("let's discuss")
    thread = await message.create_thread(name="discussion")
    assert thread.id == message.id and thread.parent_id == general.id
    assert fake.channels[thread.id]["type"] == discord.ChannelType.public_thread.value
    await thread.send("in the thread")
    assert fake.bot_messages[-1]["channel_id"] == str(thread.id)

    tag = forum.available_tags[0]
    post = await forum.create_thread(name="Question", content="How?", applied_tags=[tag])
    assert post.thread.parent_id == forum.id and post.message.content == "How?"
    assert post.thread.applied_tags[0].id == tag.id

    start = datetime.now(UTC) + timedelta(days=1)
    event = await guild.create_scheduled_event(
        name="Majlis night",
        start_time=start,
        end_time=start + timedelta(hours=2),
        entity_type=discord.EntityType.external,
        location="Community hall",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert event.location == "Community hall"
    edited = await event.edit(name="Majlis evening")
    assert edited.name == "Majlis evening"
    await edited.delete()
    assert fake.guild(world.guild_id).scheduled_events == {}

    with pytest.raises(discord.HTTPException) as excinfo:
        await guild.create_scheduled_event(
            name="past",
            start_time=datetime.now(UTC) - timedelta(days=1),
            end_time=datetime.now(UTC),
            entity_type=discord.EntityType.external,
            location="x",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
    assert excinfo.value.code == 50035


# ------------------------------------------------------------------------------ resume & failures


async def test_resume_replays_events(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    await fake.simulate_message(world.general_id, world.alice_id, "before the drop")
    await client.wait_event("message")

    # Drop; one event is dispatched while disconnected, and the fake also replays the last
    # event the client already had (a duplicate the core must de-duplicate).
    await fake.drop_connection(resumable=True, replay=1)
    missed = await fake.simulate_message(world.general_id, world.bob_id, "while away")
    resume = await fake.wait_for_resume()
    await client.wait_event("resumed")

    assert [e.data.get("id") for e in resume.replayed][-1] == missed["id"]
    assert [e.event for e in resume.replayed] == ["MESSAGE_CREATE", "MESSAGE_CREATE"]
    resume_frame = await fake.wait_for_gateway(Op.RESUME)
    assert resume_frame.d["session_id"] == fake.sessions[0].session_id
    assert resume_frame.d["seq"] == resume.seq
    assert fake.connections[-1].path == "/resume-gateway"
    assert len(fake.sessions) == 1  # resumed, not re-identified

    await client.wait_event("message", 3)
    authors = [args[0].author.id for args in client.events["message"]]
    assert authors == [world.alice_id, world.alice_id, world.bob_id]  # duplicate, then missed

    # the connection still works afterwards, and replay() re-sends on demand
    replayed = await fake.replay(1)
    assert replayed[0].data["id"] == missed["id"]
    await client.wait_event("message", 4)


async def test_invalid_session_reidentifies(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    await fake.drop_connection(resumable=False)
    await fake.wait_for_identify(count=2)
    await fake.wait_until_ready()
    assert fake.sessions[0].invalidated and not fake.sessions[1].invalidated
    invalid = [f for f in fake.gateway_log if f.op == Op.INVALID_SESSION]
    assert invalid and invalid[0].d is False
    # discord.py quirk: it re-IDENTIFYs on the resume URL it last used (stale ws_params)
    identify = await fake.wait_for_gateway(
        Op.IDENTIFY, since=1 + fake.gateway_log.index(invalid[0])
    )
    assert identify.connection_id == fake.connections[-1].id
    await client.wait_event("ready", 2)

    await fake.simulate_message(world.general_id, world.alice_id, f"<@{fake.bot_id}> back")
    message = await client.wait_event("message")
    assert message.content.endswith("back")


async def test_identify_failures() -> None:
    async with FakeDiscord(privileged_intents=0) as server:
        server.add_sample_guild()
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with server.run_client(RecordingClient()):
                pass

    async with FakeDiscord(token="right") as server:
        with pytest.raises(discord.LoginFailure):
            async with server.run_client(RecordingClient(), token="wrong"):
                pass
        assert server.requests[0].status == 401


async def test_builders_are_documented_shapes() -> None:
    alice = user_payload(1, "alice")
    member = member_payload(
        alice, roles=[5], guild_id=9, permissions=int(Permission.ADMINISTRATOR)
    )
    assert member["roles"] == ["5"] and member["guild_id"] == "9" and member["permissions"] == "8"
    guild = guild_payload(9, "g", members=[member])
    assert guild["owner_id"] == "1" and guild["roles"][0]["name"] == "@everyone"
    assert guild["member_count"] == 1
    original = message_payload(2, alice, "hi", guild_id=9)
    reply = message_payload(2, member, "re", guild_id=9, referenced_message=original)
    assert reply["type"] == 19 and reply["message_reference"]["message_id"] == original["id"]
    assert "user" not in reply["member"] and reply["author"]["id"] == "1"
    assert not reply["flags"] & MessageFlag.EPHEMERAL


async def test_builder_payloads_resolve_in_command_tree(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    tree = app_commands.CommandTree(client)
    seen: dict[str, Any] = {}

    @tree.command(name="grant", description="Grant a role")
    async def grant(
        interaction: discord.Interaction,
        member: discord.Member,
        role: discord.Role,
        channel: discord.TextChannel,
        note: str = "",
    ) -> None:
        seen.update(member=member, role=role, channel=channel, note=note)
        await interaction.response.defer(ephemeral=True)

    guild = fake.guild(world.guild_id)
    bob = guild.members[world.bob_id]
    payload = command_interaction_payload(
        "grant",
        application_id=fake.application_id,
        guild_id=world.guild_id,
        channel=fake.channels[world.general_id],
        member=guild.members[world.owner_id],
        permissions=fake.compute_permissions(world.guild_id, world.owner_id),
        guild_locale="de",
        locale="de",
        options=[
            command_option("member", world.bob_id, option_type=OptionType.USER),
            command_option("role", world.member_role_id, option_type=OptionType.ROLE),
            command_option("channel", world.general_id, option_type=OptionType.CHANNEL),
            command_option("note", "welcome"),
        ],
        resolved=resolved_payload(
            members=[{**bob, "permissions": "0"}],
            roles=[guild.roles[world.member_role_id]],
            channels=[fake.channels[world.general_id]],
        ),
    )
    assert await fake.dispatch("INTERACTION_CREATE", payload) == 1
    callback = await fake.wait_for_callback(payload["id"])
    assert callback.type == InteractionCallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    assert callback.ephemeral
    assert seen["member"].id == world.bob_id and isinstance(seen["member"], discord.Member)
    assert seen["role"].id == world.member_role_id and seen["role"].name == "Member"
    assert seen["channel"].id == world.general_id and seen["note"] == "welcome"


async def test_echo_events() -> None:
    async with FakeDiscord(echo_events=True) as server:
        world = server.add_sample_guild()
        bot = RecordingClient()
        async with server.run_client(bot):
            channel = bot.get_channel(world.general_id)
            assert isinstance(channel, discord.TextChannel)
            sent = await channel.send("echoed")
            echoed = await bot.wait_event("message")
            assert echoed.id == sent.id and echoed.author.id == server.bot_id
            assert echoed.content == "echoed"  # own messages keep content without the intent

            guild = bot.get_guild(world.guild_id)
            assert guild is not None
            bob = guild.get_member(world.bob_id)
            assert bob is not None
            await bob.add_roles(discord.Object(world.member_role_id))
            await bot.wait_event("member_update")
            _before, after = bot.events["member_update"][0]
            assert [r.id for r in after.roles[1:]] == [world.member_role_id]


async def test_autosharded_client_uses_gateway_bot() -> None:
    async with FakeDiscord() as server:
        world = server.add_sample_guild()
        bot = discord.AutoShardedClient(intents=default_intents(), guild_ready_timeout=0.1)
        async with server.run_client(bot):
            assert server.requests_matching("GET", "/gateway/bot")
            assert server.sessions[0].identify["shard"] == [0, 1]
            ready = server.sessions[0].events("READY")[0].data
            assert ready["shard"] == [0, 1]
            assert bot.get_guild(world.guild_id) is not None


async def test_abrupt_drop_resumes(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    await fake.drop_connection(abrupt=True)
    await fake.simulate_message(world.general_id, world.alice_id, f"<@{fake.bot_id}> still here?")
    resume = await fake.wait_for_resume()
    assert [e.event for e in resume.replayed] == ["MESSAGE_CREATE"]
    message = await client.wait_event("message")
    assert message.content.endswith("still here?")
    assert not fake.sessions[0].invalidated


async def test_wait_for_request_timeout_lists_requests(fake: FakeDiscord) -> None:
    with pytest.raises(TimeoutError, match="requests so far"):
        await fake.wait_for_request("POST", "/channels/{id}/messages", timeout=0.05)


async def test_custom_routes_and_internal_errors() -> None:
    server = FakeDiscord()
    with pytest.raises(AssertionError, match="internal errors"):
        async with server:
            world = server.add_sample_guild()
            bot = RecordingClient()
            async with server.run_client(bot):
                server.add_route(
                    "GET", "/guilds/{guild_id}/audit-logs", lambda r: (200, {"entries": []})
                )
                data = await bot.http.request(
                    Route("GET", "/guilds/{guild_id}/audit-logs", guild_id=world.guild_id)
                )
                assert data == {"entries": []}
                assert server.requests[-1].route == "/guilds/{guild_id}/audit-logs"

                def broken(request: Any) -> tuple[int, Any]:
                    raise KeyError("oops")

                server.add_route("GET", "/guilds/{guild_id}/bans", broken, times=1)
                with pytest.raises(discord.HTTPException, match="FakeDiscord internal error"):
                    await bot.http.request(
                        Route("GET", "/guilds/{guild_id}/bans", guild_id=world.guild_id)
                    )
    assert "KeyError" in server.internal_errors[0]


# ------------------------------------------------------------------------------ misbehaving


async def test_enforce_nonce_returns_the_earlier_message(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    channel = client.get_channel(world.general_id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("once", nonce="mj1")
    again = await channel.send("once", nonce="mj1")  # discord.py sends enforce_nonce: true
    other = await channel.send("once", nonce="mj2")
    assert again.id == first.id and other.id != first.id
    assert [m["content"] for m in fake.bot_messages] == ["once", "once"]
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x", nonce="n" * 26)
    assert too_long.value.code == 50035


async def test_a_malformed_answer_is_given_after_the_request_took_effect(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    channel = client.get_channel(world.general_id)
    assert isinstance(channel, discord.TextChannel)
    fake.malform_next("POST", "/channels/{channel_id}/messages")
    with pytest.raises(ValueError):  # discord.py cannot read the body
        await channel.send("sent anyway")
    assert [m["content"] for m in fake.bot_messages] == ["sent anyway"]
    assert fake.requests_matching("POST", "/channels/{channel_id}/messages")[0].malformed
    assert (await channel.send("next")).content == "next"  # only once


async def test_fail_next_after_lets_requests_through_first(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    channel = client.get_channel(world.general_id)
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("POST", "/channels/{channel_id}/messages", 403, code=50013, after=1)
    await channel.send("first")
    with pytest.raises(discord.Forbidden):
        await channel.send("second")
    await channel.send("third")
    assert [m["content"] for m in fake.bot_messages] == ["first", "third"]


async def test_a_refused_gateway_and_raw_frames(
    fake: FakeDiscord, world: SampleGuild, client: RecordingClient
) -> None:
    fake.gateway_down = True
    await fake.drop_connection(abrupt=True)
    for _ in range(500):
        if fake.refused_connections:
            break
        await asyncio.sleep(0.01)
    assert fake.refused_connections >= 1
    fake.gateway_down = False
    await fake.wait_until_ready()
    assert await fake.send_raw('{"op": 11}') >= 1  # a heartbeat ack as raw text: accepted
