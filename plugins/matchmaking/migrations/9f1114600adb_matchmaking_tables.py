"""matchmaking tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '9f1114600adb'
down_revision = None
branch_labels = ('matchmaking',)
depends_on = None


def upgrade() -> None:
    op.create_table('matchmaking_avoid',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('other', sa.String(length=64), nullable=False),
    sa.Column('by_admin', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'other', name=op.f('pk_matchmaking_avoid'))
    )
    op.create_table('matchmaking_groups',
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('group_no', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('shared', sa.String(length=1000), nullable=False),
    sa.Column('answer', sa.String(length=8), nullable=True),
    sa.Column('credited', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('round', 'member', name=op.f('pk_matchmaking_groups'))
    )
    with op.batch_alter_table('matchmaking_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matchmaking_groups_community'), ['community'], unique=False)
    
    op.create_table('matchmaking_members',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('paused_until', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('interests', sa.String(length=1000), nullable=False),
    sa.Column('window', sa.String(length=5), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('joined_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_matchmaking_members'))
    )
    op.create_table('matchmaking_rounds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('announced_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matchmaking_rounds')),
    sa.UniqueConstraint('community', 'origin', name='uq_matchmaking_rounds_origin')
    )
    with op.batch_alter_table('matchmaking_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matchmaking_rounds_community'), ['community'], unique=False)
    


def downgrade() -> None:
    with op.batch_alter_table('matchmaking_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matchmaking_rounds_community'))
    
    op.drop_table('matchmaking_rounds')
    op.drop_table('matchmaking_members')
    with op.batch_alter_table('matchmaking_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matchmaking_groups_community'))
    
    op.drop_table('matchmaking_groups')
    op.drop_table('matchmaking_avoid')

