"""What admins can change with ``/config feedback`` (the defaults are the registration)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot import N_

#: Longest suggestion, in characters.
MAX_TEXT = 500
#: Shortest suggestion worth reading.
MIN_TEXT = 5


class FeedbackSettings(BaseModel):
    """What admins can change with /config feedback."""

    model_config = ConfigDict(extra="forbid")

    review: bool = Field(
        default=False,
        description=N_("Moderators approve each suggestion before it is posted"),
    )
    anonymous_allowed: bool = Field(
        default=True,
        description=N_("Let members post suggestions without their name (moderators still "
                       "see it)"),
    )
    digest: Literal["weekly", "monthly", "off"] = Field(
        default="weekly", description=N_("How often the “you said, we did” digest is posted"),
    )
    digest_approval: bool = Field(
        default=False,
        description=N_("The digest waits as a draft until an admin approves it"),
    )
    quiet_digest: Literal["line", "skip"] = Field(
        default="line",
        description=N_("When nothing happened: say so in one line, or post nothing"),
    )
