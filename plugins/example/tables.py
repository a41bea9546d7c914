"""The example plugin's tables: waves and messages counted per member.

Names start with the plugin's name; a change here needs a revision in ``migrations/``
(``python run.py db revision example -m "..."``): start-up refuses a schema that differs.
"""

from sqlalchemy import Column, Integer, String, Table

from bot import plugin_metadata

metadata = plugin_metadata()

waves = Table(
    "example_waves",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
)

posts = Table(
    "example_posts",
    metadata,
    Column("community", String(96), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
)
