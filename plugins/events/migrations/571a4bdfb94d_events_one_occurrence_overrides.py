"""events one-occurrence overrides."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '571a4bdfb94d'
down_revision = 'd96b225f1373'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events_overrides',
    sa.Column('event', sa.Integer(), nullable=False),
    sa.Column('occurrence', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('place', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event', 'occurrence', name=op.f('pk_events_overrides'))
    )


def downgrade() -> None:
    op.drop_table('events_overrides')

