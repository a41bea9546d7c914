"""events moved occurrences."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'ac9c9c5146f0'
down_revision = '571a4bdfb94d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events_overrides', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start', bot.core.storage.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('duration', sa.Integer(), nullable=True))
    


def downgrade() -> None:
    with op.batch_alter_table('events_overrides', schema=None) as batch_op:
        batch_op.drop_column('duration')
        batch_op.drop_column('start')
    

