"""example tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '40b939bc6625'
down_revision = None
branch_labels = ('example',)
depends_on = None


def upgrade() -> None:
    op.create_table('example_waves',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_example_waves'))
    )


def downgrade() -> None:
    op.drop_table('example_waves')

