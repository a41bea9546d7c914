"""What admins can change with ``/config events`` (the defaults are the registration)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot import N_, ChannelRef, Duration

#: Reminders can be asked for at most this long before an event (a month).
MAX_REMINDER = timedelta(days=31)


class EventsSettings(BaseModel):
    """What admins can change with /config events."""

    model_config = ConfigDict(extra="forbid")

    members_can_create: bool = Field(
        default=False, description=N_("Let every member create events, not only moderators")
    )
    reminders: list[timedelta] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=1)], max_length=5,
        examples=["24h, 1h"],
        description=N_("When to remind those going before an event starts, like 24h, 1h"),
    )
    start_ping: bool = Field(
        default=True, description=N_("Tell those going when an event starts, with a check-in")
    )
    channel: ChannelRef | None = Field(
        default=None, description=N_("Where event posts go (empty: where /event_create ran)")
    )

    @field_validator("reminders", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        """``24h, 1h`` typed as text is two durations."""
        if isinstance(value, str):
            value = [part.strip() for part in value.replace("،", ",").split(",") if part.strip()]
        if isinstance(value, list):
            out = []
            for item in value:
                if isinstance(item, str) and item and item[0].isdigit():
                    try:
                        item = Duration.parse(item)
                    except ValueError:
                        pass
                out.append(item)
            return out
        return value

    @field_validator("reminders")
    @classmethod
    def _in_range(cls, value: list[timedelta]) -> list[timedelta]:
        """Each reminder comes before the start, at most a month before; no duplicates."""
        for item in value:
            if not timedelta(minutes=1) <= item <= MAX_REMINDER:
                raise ValueError("a reminder is between 1 minute and 31 days before the start")
        return sorted(set(value), reverse=True)
