"""What a platform can do, so plugins declare needs instead of naming platforms."""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Capability(StrEnum):
    """A feature a platform may or may not offer."""

    ROLES = "roles"
    DIRECT_MESSAGES = "direct_messages"
    NATIVE_POLLS = "native_polls"
    BUTTONS = "buttons"
    EPHEMERAL = "ephemeral"
    THREADS = "threads"
    SCHEDULED_EVENTS = "scheduled_events"
    MESSAGE_TEXT = "message_text"
    REACTIONS = "reactions"
    EDIT_MESSAGES = "edit_messages"
    IMAGES = "images"
    CUSTOM_TITLES = "custom_titles"
    INVITE_LINKS = "invite_links"
    AUTOCOMPLETE = "autocomplete"
    MEMBER_EVENTS = "member_events"
    #: Pin and unpin the bot's own messages (``ctx.pin``); the right to may still be
    #: missing in one chat: such a pin is logged and dropped (``Declined``).
    PIN_MESSAGES = "pin_messages"


@dataclass(frozen=True, slots=True)
class NativePollLimits:
    """What a platform's own polls allow.

    Attributes:
        max_options: Most answers a native poll can have.
        max_option_length: Longest answer, in characters.
        max_question_length: Longest question, in characters.
        max_duration: Longest a native poll can stay open (None: no limit).
        anonymous_votes_visible: Whether the bot sees votes of an anonymous native poll.
    """

    max_options: int
    max_option_length: int
    max_question_length: int
    max_duration: timedelta | None
    anonymous_votes_visible: bool


@dataclass(frozen=True, slots=True)
class Limits:
    """Platform facts a plugin may need, declared by the adapter (``ctx.limits``).

    Attributes:
        text_length: Longest message text, in characters.
        native_poll: Native poll limits, or None where the platform has none.
    """

    text_length: int = 4000
    native_poll: NativePollLimits | None = None


#: Limits of a platform that declares none (the console).
DEFAULT_LIMITS = Limits()
