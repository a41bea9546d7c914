"""What admins can change with ``/config example``: a pydantic model, its defaults included."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot import N_


class ExampleSettings(BaseModel):
    """The example plugin's settings; bounds are what admins are told when a value is refused."""

    model_config = ConfigDict(extra="forbid")

    greet: bool = Field(default=True, description=N_("Greet members when they join"))
    max_reminder_days: int = Field(
        default=30, ge=1, le=365, description=N_("The longest reminder a member may set, in days")
    )
    milestone: int = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description=N_("Cheer each time a member has posted this many more messages (0: never)"),
    )
