"""member rewards."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'cd2ecc33761c'
down_revision = '655583847e63'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_member_rewards',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('badge', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('granted_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'badge', name=op.f('pk_core_member_rewards'))
    )


def downgrade() -> None:
    op.drop_table('core_member_rewards')

