"""The onboarding plugin's tables: one row per member per community, and chosen interests.

The introduction: ``intro_asked_at`` when the prompt went out (a private message then
counts as the answer), ``intro_at`` when the step was passed (posted or skipped), ``intro``
the text that was posted. Interests are stored by their stable id (from the settings
list), so renaming an interest keeps every member's choice.
"""

from sqlalchemy import Boolean, Column, Integer, String, Table

from bot import UTCDateTime, plugin_metadata

metadata = plugin_metadata()

members = Table(
    "onboarding_members",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("first_joined_at", UTCDateTime(), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False, index=True),
    Column("joined_count", Integer, nullable=False, default=1),
    Column("left_at", UTCDateTime(), nullable=True),
    Column("greeted", Boolean, nullable=False, default=False),
    Column("accepted_at", UTCDateTime(), nullable=True),
    Column("interests_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("first_message_at", UTCDateTime(), nullable=True),
    Column("second_message_at", UTCDateTime(), nullable=True),
    Column("messages", Integer, nullable=False, default=0),
    Column("newcomer", Boolean, nullable=False, default=True),
    Column("graduated_at", UTCDateTime(), nullable=True),
    Column("nudged", Boolean, nullable=False, default=False),
    Column("picker", Integer, nullable=True),
    Column("intro_asked_at", UTCDateTime(), nullable=True),
    Column("intro_at", UTCDateTime(), nullable=True),
    Column("intro", String(2000), nullable=True),
)

interests = Table(
    "onboarding_interests",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("interest", Integer, primary_key=True),
)
