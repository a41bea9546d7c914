"""contributions decay."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'd5005c6f13b7'
down_revision = 'd620ab10a0a1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contributions_decay',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('xp', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', 'day', name=op.f('pk_contributions_decay'))
    )


def downgrade() -> None:
    op.drop_table('contributions_decay')

