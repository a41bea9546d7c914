"""core members member index."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '9d9dda67b74d'
down_revision = '3f1e0b7c9a42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_members_member'), ['member'], unique=False)
    


def downgrade() -> None:
    with op.batch_alter_table('core_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_members_member'))
    

