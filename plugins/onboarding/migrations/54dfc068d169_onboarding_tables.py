"""onboarding tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '54dfc068d169'
down_revision = None
branch_labels = ('onboarding',)
depends_on = None


def upgrade() -> None:
    op.create_table('onboarding_interests',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('interest', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'interest', name=op.f('pk_onboarding_interests'))
    )
    op.create_table('onboarding_members',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('first_joined_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('joined_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('joined_count', sa.Integer(), nullable=False),
    sa.Column('left_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('greeted', sa.Boolean(), nullable=False),
    sa.Column('accepted_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('interests_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_message_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('second_message_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('newcomer', sa.Boolean(), nullable=False),
    sa.Column('graduated_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('nudged', sa.Boolean(), nullable=False),
    sa.Column('picker', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_onboarding_members'))
    )
    with op.batch_alter_table('onboarding_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_onboarding_members_joined_at'), ['joined_at'], unique=False)
    


def downgrade() -> None:
    with op.batch_alter_table('onboarding_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_onboarding_members_joined_at'))
    
    op.drop_table('onboarding_members')
    op.drop_table('onboarding_interests')

