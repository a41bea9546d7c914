"""What admins can change with ``/config polls`` (the defaults are the registration)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot import N_
from plugins.polls.rules import MAX_DAYS


class PollsSettings(BaseModel):
    """What admins can change with /config polls."""

    model_config = ConfigDict(extra="forbid")

    members_can_create: bool = Field(
        default=False, description=N_("Let every member create polls, not only admins")
    )
    default_hours: int = Field(
        default=72, ge=1, le=24 * MAX_DAYS,
        description=N_("How long a poll stays open when no duration is given, in hours"),
    )
    remind_before_hours: int = Field(
        default=2, ge=1, le=72,
        description=N_("How many hours before a poll closes to remind members who opted in"),
    )
