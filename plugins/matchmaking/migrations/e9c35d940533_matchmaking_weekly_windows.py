"""matchmaking weekly windows."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'e9c35d940533'
down_revision = '9f1114600adb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matchmaking_members', schema=None) as batch_op:
        batch_op.alter_column('window',
               existing_type=sa.VARCHAR(length=5),
               type_=sa.String(length=16),
               existing_nullable=False)
    


def downgrade() -> None:
    with op.batch_alter_table('matchmaking_members', schema=None) as batch_op:
        batch_op.alter_column('window',
               existing_type=sa.String(length=16),
               type_=sa.VARCHAR(length=5),
               existing_nullable=False)
    

