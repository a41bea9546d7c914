"""example posts."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '35de61b6162a'
down_revision = '40b939bc6625'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('example_posts',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_example_posts'))
    )


def downgrade() -> None:
    op.drop_table('example_posts')

