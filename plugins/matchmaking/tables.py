"""The matchmaking tables: who takes part, whom not to pair, rounds and their groups.

Names start with the plugin's name; a change here needs a revision in ``migrations/``
(``python run.py db revision matchmaking -m "..."``).

The repeat rule reads ``matchmaking_groups`` of the last N rounds: forgetting a member deletes
their rows (no pair of theirs is left), while two others who shared a group with them still
share ``(round, group_no)`` rows, so the rule between those two holds without naming anyone else.
"""

from sqlalchemy import Boolean, Column, Integer, String, Table, UniqueConstraint

from bot import UTCDateTime, plugin_metadata

metadata = plugin_metadata()

members = Table(
    "matchmaking_members",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("name", String(100), nullable=False, default=""),
    #: The platform's hint of the member's language (introductions later arrive in it).
    Column("language", String(16), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("paused_until", UTCDateTime, nullable=True),
    #: Interests, comma-separated: ``#<id>`` for one the community names (onboarding's
    #: interest ``<id>``, shown by ``matchmaking_labels`` in the reader's language), else the
    #: words typed with /interests; matching compares them without case.
    Column("interests", String(1000), nullable=False, default=""),
    #: A window "HH-HH" in ``timezone``, every day or on ISO weekdays ("56 10-14": Friday
    #: and Saturday); empty: any time. See ``availability.py``.
    Column("window", String(16), nullable=False, default=""),
    Column("timezone", String(64), nullable=False, default=""),
    Column("joined_at", UTCDateTime, nullable=False),
)

avoid = Table(
    "matchmaking_avoid",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("other", String(64), primary_key=True),
    #: True: an admin's block (both directions); False: the member's own do-not-pair list.
    Column("by_admin", Boolean, nullable=False, default=False),
)

rounds = Table(
    "matchmaking_rounds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False, index=True),
    #: "draft" (an admin's preview), "announced", "discarded".
    Column("status", String(16), nullable=False),
    #: What started it: "manual:<n>" or the scheduled occurrence (one round per occurrence).
    Column("origin", String(64), nullable=False),
    Column("seed", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("announced_at", UTCDateTime, nullable=True),
    UniqueConstraint("community", "origin", name="uq_matchmaking_rounds_origin"),
)

groups = Table(
    "matchmaking_groups",
    metadata,
    Column("round", Integer, primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("community", String(96), nullable=False, index=True),
    Column("group_no", Integer, nullable=False),
    Column("name", String(100), nullable=False, default=""),
    #: Interests the group shares, comma-separated, rarest first (``#<id>`` or words).
    Column("shared", String(1000), nullable=False, default=""),
    #: The check-in: None (not answered), "yes", "not_yet", "no".
    Column("answer", String(8), nullable=True),
    Column("credited", Boolean, nullable=False, default=False),
)

labels = Table(
    "matchmaking_labels",
    metadata,
    Column("community", String(96), primary_key=True),
    #: The community's interest id (``#<id>`` in ``interests`` names it).
    Column("interest", String(16), primary_key=True),
    #: A language code, or "" for the community's own label (shown where none is set).
    Column("language", String(16), primary_key=True),
    Column("label", String(40), nullable=False),
)
