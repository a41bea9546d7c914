"""Outbox actions survive their JSON form (the outbox table), datetimes included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from bot.core.actions import Action, CreateThread, ScheduleEvent
from bot.core.markup import Markup
from bot.core.messages import Button, Content
from bot.core.payloads import Payload
from bot.core.refs import ChannelRef, CommunityRef

COMMUNITY = CommunityRef("discord", "1")
GENERAL = ChannelRef("discord", "10", "general")


class Join(Payload, prefix="tests.actions.join"):
    """A button payload (only packed here)."""

    event: int


def round_trip(action: Action) -> Action:
    return Action.from_json(json.loads(json.dumps(action.to_json())))


def test_create_thread_round_trips() -> None:
    action = CreateThread(
        community=COMMUNITY,
        channel=GENERAL,
        name="Meetup talk",
        content=Content.of(Markup("**Say hello**"), buttons=[Button("Join", Join(3))]),
        from_message=42,
    )
    assert round_trip(action) == action
    assert action.channel_key == "channel:10"
    assert round_trip(CreateThread(community=COMMUNITY, name="Solo")) == CreateThread(
        community=COMMUNITY, name="Solo"
    )


def test_schedule_event_round_trips_with_aware_datetimes() -> None:
    cairo = timezone(timedelta(hours=2))
    action = ScheduleEvent(
        community=COMMUNITY,
        name="Meetup",
        description="Bring friends",
        start=datetime(2026, 12, 1, 18, 30, tzinfo=cairo),
        end=datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
        location="Café Nil",
        channel=ChannelRef("discord", "20", "stage"),
        event_key="meetup:1",
        post_channel=GENERAL,
    )
    back = round_trip(action)
    assert back == action
    assert isinstance(back, ScheduleEvent) and back.start is not None
    assert back.start.utcoffset() == timedelta(hours=2)
    assert action.to_json()["start"] == {"__datetime__": "2026-12-01T18:30:00+02:00"}
    cancel = ScheduleEvent(community=COMMUNITY, name="Meetup", event_key="meetup:1", cancel=True)
    assert round_trip(cancel) == cancel
    assert cancel.channel_key == action.channel_key == "event:1:meetup:1"
