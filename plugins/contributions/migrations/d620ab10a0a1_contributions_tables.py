"""contributions tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'd620ab10a0a1'
down_revision = None
branch_labels = ('contributions',)
depends_on = None


def upgrade() -> None:
    op.create_table('contributions_awards',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributions_awards'))
    )
    with op.batch_alter_table('contributions_awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contributions_awards_community'), ['community'], unique=False)
    
    op.create_table('contributions_badges',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('badge', sa.String(length=40), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'badge', name=op.f('pk_contributions_badges'))
    )
    op.create_table('contributions_kudos',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('giver', sa.String(length=64), nullable=False),
    sa.Column('receiver', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributions_kudos'))
    )
    with op.batch_alter_table('contributions_kudos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contributions_kudos_community'), ['community'], unique=False)
    
    op.create_table('contributions_profiles',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('karma', sa.Integer(), nullable=False),
    sa.Column('opt_out', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_contributions_profiles'))
    )
    op.create_table('contributions_rewards',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('reward', sa.String(length=60), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'reward', name=op.f('pk_contributions_rewards'))
    )
    op.create_table('contributions_tallies',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'kind', name=op.f('pk_contributions_tallies'))
    )
    op.create_table('contributions_xp_daily',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('xp', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'day', name=op.f('pk_contributions_xp_daily'))
    )


def downgrade() -> None:
    op.drop_table('contributions_xp_daily')
    op.drop_table('contributions_tallies')
    op.drop_table('contributions_rewards')
    op.drop_table('contributions_profiles')
    with op.batch_alter_table('contributions_kudos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contributions_kudos_community'))
    
    op.drop_table('contributions_kudos')
    op.drop_table('contributions_badges')
    with op.batch_alter_table('contributions_awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contributions_awards_community'))
    
    op.drop_table('contributions_awards')

