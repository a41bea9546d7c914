"""events tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'd96b225f1373'
down_revision = None
branch_labels = ('events',)
depends_on = None


def upgrade() -> None:
    op.create_table('events_attendance',
    sa.Column('event', sa.Integer(), nullable=False),
    sa.Column('occurrence', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('how', sa.String(length=8), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event', 'occurrence', 'member', name=op.f('pk_events_attendance'))
    )
    with op.batch_alter_table('events_attendance', schema=None) as batch_op:
        batch_op.create_index('ix_events_attendance_member', ['member'], unique=False)
    
    op.create_table('events_cancelled',
    sa.Column('event', sa.Integer(), nullable=False),
    sa.Column('occurrence', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event', 'occurrence', name=op.f('pk_events_cancelled'))
    )
    op.create_table('events_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('creator', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('first_start', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_wall', sa.String(length=19), nullable=False),
    sa.Column('rule', sa.String(length=300), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('duration', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('message', sa.Integer(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events_events'))
    )
    with op.batch_alter_table('events_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_events_community'), ['community'], unique=False)
    
    op.create_table('events_rsvps',
    sa.Column('event', sa.Integer(), nullable=False),
    sa.Column('occurrence', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event', 'occurrence', 'member', name=op.f('pk_events_rsvps'))
    )
    with op.batch_alter_table('events_rsvps', schema=None) as batch_op:
        batch_op.create_index('ix_events_rsvps_member', ['member'], unique=False)
    
    op.create_table('events_series_rsvps',
    sa.Column('event', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('since', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event', 'member', name=op.f('pk_events_series_rsvps'))
    )
    with op.batch_alter_table('events_series_rsvps', schema=None) as batch_op:
        batch_op.create_index('ix_events_series_rsvps_member', ['member'], unique=False)
    
    op.create_table('events_zones',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_events_zones'))
    )


def downgrade() -> None:
    op.drop_table('events_zones')
    with op.batch_alter_table('events_series_rsvps', schema=None) as batch_op:
        batch_op.drop_index('ix_events_series_rsvps_member')
    
    op.drop_table('events_series_rsvps')
    with op.batch_alter_table('events_rsvps', schema=None) as batch_op:
        batch_op.drop_index('ix_events_rsvps_member')
    
    op.drop_table('events_rsvps')
    with op.batch_alter_table('events_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_events_community'))
    
    op.drop_table('events_events')
    op.drop_table('events_cancelled')
    with op.batch_alter_table('events_attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_events_attendance_member')
    
    op.drop_table('events_attendance')

