"""Guild MESSAGE_CREATE payloads become core events without discord.py's model."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord_gateway import RefCache, message_posted_from_payload

BOT = 900


def payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "1001", "channel_id": "20", "guild_id": "10", "type": 0,
        "content": "hello *there*", "timestamp": "2026-01-05T09:00:00.500000+00:00",
        "author": {"id": "30", "username": "sara", "global_name": "Sara"},
        "member": {"nick": "Sara (mod)"}, "mentions": [],
    }
    data.update(changes)
    return data


def test_a_guild_message_becomes_an_event() -> None:
    event = message_posted_from_payload(payload(), BOT, RefCache())
    assert event is not None
    assert (event.community.key, event.channel.id, event.member.id) == ("discord:10", "20", "30")
    assert event.member.name == "Sara (mod)"
    assert event.text == "hello *there*"
    assert event.id == "dc:msg:1001" and not event.durable
    assert event.at is not None and event.at.microsecond == 500000


def test_replies_mentions_and_threads() -> None:
    data = payload(
        message_reference={"message_id": "999"},
        referenced_message={"author": {"id": "31", "username": "omar"}},
        mentions=[{"id": "32", "username": "lina", "member": {"nick": "Lina"}}],
    )
    event = message_posted_from_payload(data, BOT, RefCache(), lambda g, c: 7)
    assert event is not None
    assert event.reply_to == "999" and event.reply_to_member is not None
    assert event.reply_to_member.id == "31"
    assert [m.name for m in event.mentions] == ["Lina"]
    assert event.thread is not None and event.channel.parent == "7"


def test_dms_own_and_system_messages_are_not_events() -> None:
    refs = RefCache()
    assert message_posted_from_payload(payload(guild_id=None), BOT, refs) is None
    assert message_posted_from_payload(payload(author={"id": str(BOT)}), BOT, refs) is None
    assert message_posted_from_payload(payload(type=7), BOT, refs) is None  # member join notice


def test_the_event_is_the_one_the_constructor_builds() -> None:
    import dataclasses

    import pytest

    from bot.core.events import MessagePosted

    data = payload(message_reference={"message_id": "999"},
                   referenced_message={"author": {"id": "31", "username": "omar"}},
                   mentions=[{"id": "32", "username": "lina"}])
    event = message_posted_from_payload(data, BOT, RefCache())
    assert event is not None
    values = {f.name: getattr(event, f.name) for f in dataclasses.fields(MessagePosted)}
    built = MessagePosted(**values)
    assert event == built and hash(event) == hash(built)
    assert values["thread"] is None and values["reply_to"] == "999"
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.text = "changed"  # type: ignore[misc]
