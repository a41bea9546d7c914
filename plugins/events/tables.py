"""The events plugin's tables: events, cancelled occurrences, RSVPs, attendance, zones.

An event is a first start plus an optional RRULE, read in its timezone. An RSVP is either a
*series* answer (one row per event and member, valid for every occurrence from ``since``
on) or an answer for *one* occurrence, which wins over the series answer for that
occurrence. Whether a "going" member has a place is not stored: it follows from the order
of the answers (``at``), so freeing a place promotes the first of the waitlist by itself.
"""

from sqlalchemy import Column, Index, Integer, String, Table, Text

from bot import UTCDateTime, plugin_metadata

metadata = plugin_metadata()

events = Table(
    "events_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False, index=True),
    Column("channel", String(64), nullable=True),
    Column("creator", String(64), nullable=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("place", String(300), nullable=False, default=""),
    Column("capacity", Integer, nullable=False, default=0),  # 0: no limit
    Column("first_start", UTCDateTime, nullable=False),
    # The nominal local start (ISO, naive) in ``timezone``: a start in a DST gap (02:30 on
    # the spring-forward night) cannot be told from the instant alone, and the series keeps it.
    Column("first_wall", String(19), nullable=False),
    Column("rule", String(300), nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("duration", Integer, nullable=False),  # seconds
    # draft (previewed, not confirmed), live, cancelled
    Column("status", String(16), nullable=False, default="draft"),
    Column("reason", Text, nullable=True),
    Column("message", Integer, nullable=True),  # outbox id of the post
    Column("sequence", Integer, nullable=False, default=0),  # for .ics updates
    Column("created_at", UTCDateTime, nullable=False),
)

cancelled = Table(
    "events_cancelled",
    metadata,
    Column("event", Integer, primary_key=True),
    Column("occurrence", UTCDateTime, primary_key=True),
    Column("reason", Text, nullable=False, default=""),
    Column("at", UTCDateTime, nullable=False),
)

series_rsvps = Table(
    "events_series_rsvps",
    metadata,
    Column("event", Integer, primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("community", String(96), nullable=False),
    Column("name", String(100), nullable=True),
    Column("status", String(8), nullable=False),  # going, maybe, no
    Column("since", UTCDateTime, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_events_series_rsvps_member", "member"),
)

rsvps = Table(
    "events_rsvps",
    metadata,
    Column("event", Integer, primary_key=True),
    Column("occurrence", UTCDateTime, primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("community", String(96), nullable=False),
    Column("name", String(100), nullable=True),
    Column("status", String(8), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_events_rsvps_member", "member"),
)

attendance = Table(
    "events_attendance",
    metadata,
    Column("event", Integer, primary_key=True),
    Column("occurrence", UTCDateTime, primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("community", String(96), nullable=False),
    Column("name", String(100), nullable=True),
    Column("how", String(8), nullable=False),  # checkin, admin
    Column("at", UTCDateTime, nullable=False),
    Index("ix_events_attendance_member", "member"),
)

zones = Table(
    "events_zones",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("timezone", String(64), nullable=False),
)

overrides = Table(
    "events_overrides",
    metadata,
    # one occurrence told apart from its series: another title, place or description, or
    # another start or length; ``occurrence`` stays the start the rule gives it
    Column("event", Integer, primary_key=True),
    Column("occurrence", UTCDateTime, primary_key=True),
    Column("title", String(200), nullable=True),
    Column("place", String(300), nullable=True),
    Column("description", Text, nullable=True),
    Column("start", UTCDateTime, nullable=True),  # moved: the start it has now
    Column("duration", Integer, nullable=True),  # seconds
    Column("at", UTCDateTime, nullable=False),
)
