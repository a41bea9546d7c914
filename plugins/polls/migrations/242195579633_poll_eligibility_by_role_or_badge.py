"""poll eligibility by role or badge."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '242195579633'
down_revision = 'a9da9b33a754'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligible_ref', sa.String(length=100), nullable=True))
    


def downgrade() -> None:
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.drop_column('eligible_ref')
    

