"""The example plugin's tables: how many times each member waved."""

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
