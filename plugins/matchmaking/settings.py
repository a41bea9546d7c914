"""What admins can change with /config matchmaking (the schedule is set with /match_schedule)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot import N_


class MatchmakingSettings(BaseModel):
    """Matchmaking settings."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["interests", "bridge"] = Field(
        default="interests",
        description=N_("interests: pair people who share rare interests; bridge: mix "
                       "newcomers with established members and different interests"))
    groups: Literal["pairs", "small_groups"] = Field(
        default="pairs", description=N_("pairs (a trio when the count is odd) or groups of 3–4"))
    preview_scheduled: bool = Field(
        default=True,
        description=N_("Show admins each scheduled round before it is announced (off: "
                       "announce it at once)"))
    repeat_window: int = Field(
        default=12, ge=1, le=100, description=N_("Rounds before the same people may meet again"))
    checkin_after: timedelta = Field(
        default=timedelta(days=4), description=N_("When to ask whether the match met"))
    reminder_after: timedelta = Field(
        default=timedelta(days=2), description=N_("When to remind those who did not answer"))
    newcomer_rounds: int = Field(
        default=2, ge=0, le=50,
        description=N_("Members matched fewer times than this count as newcomers (bridge)"))
