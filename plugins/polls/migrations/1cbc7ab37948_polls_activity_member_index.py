"""polls activity member index."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '1cbc7ab37948'
down_revision = '242195579633'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('polls_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_polls_activity_member'), ['member'], unique=False)
    


def downgrade() -> None:
    with op.batch_alter_table('polls_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_polls_activity_member'))
    

