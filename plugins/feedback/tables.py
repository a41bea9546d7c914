"""The feedback plugin's tables: suggestions, votes, follows, audit, outcomes, digests.

A suggestion keeps its author even when it is anonymous: members never see who it was, the
audit (``/suggestion_history``, moderators) does. Forgetting the author clears ``author``
and ``author_name``; the suggestion and its decisions stay, shown as by "a member".
"""

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from bot import UTCDateTime, plugin_metadata

metadata = plugin_metadata()

suggestions = Table(
    "feedback_suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False, index=True),
    Column("author", String(64), nullable=True, index=True),
    Column("author_name", String(128), nullable=True),
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("text", Text, nullable=False),
    # the normalized tokens (similar.py), space-separated: what matching compares
    Column("norm", Text, nullable=False, default=""),
    # draft: waiting for the author to post it past similar ones; review: waiting for a
    # moderator; then the lifecycle's statuses (lifecycle.py)
    Column("status", String(16), nullable=False),
    Column("duplicate_of", Integer, nullable=True),
    Column("reason", Text, nullable=True),
    Column("channel", String(64), nullable=True),
    Column("message", Integer, nullable=True),  # outbox id of the public post
    Column("created_at", UTCDateTime, nullable=False),
    Column("posted_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    # when ContributionMade("suggestion_adopted") was emitted (once per suggestion)
    Column("adopted_at", UTCDateTime, nullable=True),
)

votes = Table(
    "feedback_votes",
    metadata,
    Column("suggestion", Integer, primary_key=True),
    Column("member", String(64), primary_key=True, index=True),
    Column("value", Integer, nullable=False),  # +1 or -1
    Column("at", UTCDateTime, nullable=False),
)

follows = Table(
    "feedback_follows",
    metadata,
    Column("suggestion", Integer, primary_key=True),
    Column("member", String(64), primary_key=True, index=True),
    Column("at", UTCDateTime, nullable=False),
)

# The audit: every status change, who made it (NULL once that member is forgotten), when
# and why.
changes = Table(
    "feedback_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False),
    Column("suggestion", Integer, nullable=False, index=True),
    Column("actor", String(64), nullable=True, index=True),
    Column("actor_name", String(128), nullable=True),
    Column("old", String(16), nullable=False),
    Column("new", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("duplicate_of", Integer, nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_feedback_changes_community_at", "community", "at"),
)

# Who took part, in which language they read us (notifications go out in it), and when they
# first took part (the digest counts first-timers).
people = Table(
    "feedback_people",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True, index=True),
    Column("name", String(128), nullable=True),
    Column("language", String(16), nullable=True),
    Column("first_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
)

# A closed poll (from PollClosed) and, once an admin says so, what was done with it.
outcomes = Table(
    "feedback_outcomes",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("poll", Integer, primary_key=True),
    Column("question", Text, nullable=False),
    Column("winners", JSON, nullable=False),
    Column("voters", Integer, nullable=False, default=0),
    Column("voter_ids", JSON, nullable=False),  # empty for an anonymous poll
    Column("closed_at", UTCDateTime, nullable=False),
    Column("outcome", Text, nullable=True),
    Column("decided_by", String(64), nullable=True, index=True),
    Column("decided_at", UTCDateTime, nullable=True),
)

# One digest per community and period end: a draft waiting for approval, posted or skipped.
digests = Table(
    "feedback_digests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False),
    Column("period_start", UTCDateTime, nullable=False),
    Column("period_end", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # draft, posted, skipped
    Column("text", Text, nullable=False),
    Column("edited_by", String(64), nullable=True, index=True),
    Column("posted_at", UTCDateTime, nullable=True),
    Index("ix_feedback_digests_period", "community", "period_end", unique=True),
)
