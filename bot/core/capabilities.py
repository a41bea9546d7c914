"""What a platform can do, so plugins declare needs instead of naming platforms."""

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
