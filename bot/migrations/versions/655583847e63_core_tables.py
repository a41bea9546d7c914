"""core tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '655583847e63'
down_revision = None
branch_labels = ('core',)
depends_on = None


def upgrade() -> None:
    op.create_table('core_communities',
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('admin_channel', sa.String(length=64), nullable=True),
    sa.Column('welcome_channel', sa.String(length=64), nullable=True),
    sa.Column('mod_role', sa.String(length=64), nullable=True),
    sa.Column('created_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_communities'))
    )
    op.create_table('core_errors',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_errors'))
    )
    op.create_table('core_job_runs',
    sa.Column('item', sa.Integer(), nullable=False),
    sa.Column('occurrence', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fired_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('item', 'occurrence', name=op.f('pk_core_job_runs'))
    )
    op.create_table('core_kv',
    sa.Column('namespace', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('namespace', 'key', name=op.f('pk_core_kv'))
    )
    op.create_table('core_members',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('joined_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('left_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_core_members'))
    )
    op.create_table('core_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('action', sa.JSON(), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=True),
    sa.Column('direct', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_outbox'))
    )
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_core_outbox_due', ['status', 'not_before'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_outbox_status'), ['status'], unique=False)
    
    op.create_table('core_payloads',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('created_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_payloads'))
    )
    op.create_table('core_plugin_state',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'plugin', name=op.f('pk_core_plugin_state'))
    )
    op.create_table('core_processed_events',
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_core_processed_events'))
    )
    with op.batch_alter_table('core_processed_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_processed_events_at'), ['at'], unique=False)
    
    op.create_table('core_scheduled',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('next_run_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rule', sa.String(length=400), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_fired_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('member', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_scheduled')),
    sa.UniqueConstraint('key', name=op.f('uq_core_scheduled_key'))
    )
    with op.batch_alter_table('core_scheduled', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_scheduled_next_run_at'), ['next_run_at'], unique=False)
    
    op.create_table('core_settings',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'plugin', 'scope', 'key', name=op.f('pk_core_settings'))
    )


def downgrade() -> None:
    op.drop_table('core_settings')
    with op.batch_alter_table('core_scheduled', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_scheduled_next_run_at'))
    
    op.drop_table('core_scheduled')
    with op.batch_alter_table('core_processed_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_processed_events_at'))
    
    op.drop_table('core_processed_events')
    op.drop_table('core_plugin_state')
    op.drop_table('core_payloads')
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_outbox_status'))
        batch_op.drop_index('ix_core_outbox_due')
    
    op.drop_table('core_outbox')
    op.drop_table('core_members')
    op.drop_table('core_kv')
    op.drop_table('core_job_runs')
    op.drop_table('core_errors')
    op.drop_table('core_communities')

