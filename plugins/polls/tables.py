"""The polls plugin's tables: polls, ballots, activity, reminder opt-ins and templates.

Ballots of an anonymous poll carry an HMAC of the member id keyed with the poll's own
random salt, never the id. The salt is erased when the poll closes, so after that no
ballot can be tied back to anyone. A native poll (the platform's own) has a row too, whose
``message`` is the outbox id of the poll and ``native_id`` the platform's poll id.
"""

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint

from bot import UTCDateTime, plugin_metadata

metadata = plugin_metadata()

polls = Table(
    "polls_polls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False, index=True),
    Column("channel", String(64), nullable=True),
    Column("creator", String(64), nullable=True),
    Column("question", Text, nullable=False),
    Column("options", JSON, nullable=False),
    Column("max_choices", Integer, nullable=False, default=1),
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("quorum", Integer, nullable=False, default=0),
    Column("quorum_percent", Integer, nullable=False, default=0),
    Column("eligible", String(16), nullable=False, default="all"),
    Column("eligible_ref", String(100)),
    Column("salt", String(64), nullable=True),
    Column("message", Integer, nullable=True),
    # NULL: a poll with buttons; "": a native poll not yet delivered; else the platform's
    # poll id (PollAnswered.poll_id), cached once the outbox delivered it.
    Column("native_id", String(64), nullable=True, index=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    # A poll made by a template: the template's id and the occurrence (ISO time) it is for;
    # unique together, so one occurrence never makes two polls.
    Column("template", Integer, nullable=True),
    Column("occurrence", String(40), nullable=True),
    Index("ix_polls_polls_template_occurrence", "template", "occurrence", unique=True),
)

ballots = Table(
    "polls_ballots",
    metadata,
    Column("poll", Integer, primary_key=True),
    Column("voter", String(64), primary_key=True),
    Column("option", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)

# Who was given XP for voting in a poll (once per poll, whatever they change or withdraw):
# by the ballots' voter key, so an anonymous poll's credit names nobody either.
credited = Table(
    "polls_credited",
    metadata,
    Column("poll", Integer, primary_key=True),
    Column("voter", String(64), primary_key=True),
)

activity = Table(
    "polls_activity",
    metadata,
    Column("community", String(96), primary_key=True),
    # indexed alone too: erasing a member finds them in every community of their platform
    Column("member", String(64), primary_key=True, index=True),
    Column("joined_at", UTCDateTime, nullable=True),
    Column("last_seen", UTCDateTime, nullable=True),
    Column("messages", Integer, nullable=False, default=0),
)

reminders = Table(
    "polls_reminders",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("name", String(128), nullable=False, default=""),
)

# Recurring polls: a stored /poll and the rule it repeats by (a scheduled job per template,
# keyed ``template:<id>``). Templates belong to the community; ``creator`` is erased on forget.
templates = Table(
    "polls_templates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False),
    Column("name", String(32), nullable=False),
    Column("channel", String(64), nullable=True),
    Column("creator", String(64), nullable=True),
    Column("rule", String(200), nullable=False),  # as typed
    Column("rrule", String(300), nullable=False),  # what the scheduler gets
    Column("question", Text, nullable=False),
    Column("options", JSON, nullable=False),
    Column("duration", Integer, nullable=True),  # seconds; NULL: the default_hours setting
    Column("max_choices", Integer, nullable=False, default=1),
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("quorum", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("community", "name", name="uq_polls_templates_name"),
)
