"""polls tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '2e307e29628e'
down_revision = None
branch_labels = ('polls',)
depends_on = None


def upgrade() -> None:
    op.create_table('polls_activity',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('joined_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_polls_activity'))
    )
    op.create_table('polls_ballots',
    sa.Column('poll', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=64), nullable=False),
    sa.Column('option', sa.Integer(), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('poll', 'voter', 'option', name=op.f('pk_polls_ballots'))
    )
    op.create_table('polls_polls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('creator', sa.String(length=64), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('quorum', sa.Integer(), nullable=False),
    sa.Column('quorum_percent', sa.Integer(), nullable=False),
    sa.Column('eligible', sa.String(length=16), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Integer(), nullable=True),
    sa.Column('opened_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_polls_polls'))
    )
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_polls_polls_community'), ['community'], unique=False)
    
    op.create_table('polls_reminders',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_polls_reminders'))
    )


def downgrade() -> None:
    op.drop_table('polls_reminders')
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_polls_polls_community'))
    
    op.drop_table('polls_polls')
    op.drop_table('polls_ballots')
    op.drop_table('polls_activity')

