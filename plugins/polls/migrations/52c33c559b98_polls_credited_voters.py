"""polls credited voters."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '52c33c559b98'
down_revision = '1cbc7ab37948'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('polls_credited',
    sa.Column('poll', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('poll', 'voter', name=op.f('pk_polls_credited'))
    )


def downgrade() -> None:
    op.drop_table('polls_credited')

