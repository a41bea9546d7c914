"""The contributions plugin's tables.

XP is a ledger per member and day (the hot path adds to it in batches), so week and month
leaderboards and the active-member status read the same rows.
"""

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from bot import UTCDateTime, plugin_metadata

metadata = plugin_metadata()

xp_daily = Table(
    "contributions_xp_daily",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("xp", Integer, nullable=False, default=0),
)

profiles = Table(
    "contributions_profiles",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("karma", Integer, nullable=False, default=0),
    Column("opt_out", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=False),
)

kudos = Table(
    "contributions_kudos",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False, index=True),
    Column("giver", String(64), nullable=False),
    Column("receiver", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

awards = Table(
    "contributions_awards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(96), nullable=False, index=True),
    Column("member", String(64), nullable=False),
    Column("by", String(64), nullable=False),
    Column("points", Integer, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("at", UTCDateTime, nullable=False),
)

badges = Table(
    "contributions_badges",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("badge", String(40), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)

tallies = Table(
    "contributions_tallies",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
)

rewards = Table(
    "contributions_rewards",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("reward", String(60), primary_key=True),
    Column("role", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

decay = Table(
    "contributions_decay",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("xp", Integer, nullable=False),
)
"""XP decay applied to a long-inactive member: one row per member and day (the negative
amount is also in ``xp_daily`` for that day, so totals stay one sum)."""

# Erasing a member finds their rows by member id (their community is any of a platform's),
# never by scanning the ledger.
for _table in (xp_daily, profiles, awards, badges, tallies, rewards, decay):
    Index(f"ix_{_table.name}_member", _table.c.member)
Index("ix_contributions_kudos_giver", kudos.c.giver)
Index("ix_contributions_kudos_receiver", kudos.c.receiver)

ALL = (xp_daily, profiles, kudos, awards, badges, tallies, rewards, decay)
