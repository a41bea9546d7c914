"""polls native."""

import sqlalchemy as sa
from alembic import op

revision = 'bfd5a4ad556d'
down_revision = '2e307e29628e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('native_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_polls_polls_native_id'), ['native_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_polls_polls_native_id'))
        batch_op.drop_column('native_id')


