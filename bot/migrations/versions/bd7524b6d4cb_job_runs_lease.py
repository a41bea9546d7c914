"""job runs: an occurrence is leased while it runs, recorded as fired once it returned."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'bd7524b6d4cb'
down_revision = '9d9dda67b74d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_job_runs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('leased_until', bot.core.storage.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('claim', sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_core_job_runs_leased_until'), ['leased_until'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('core_job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_job_runs_leased_until'))
        batch_op.drop_column('claim')
        batch_op.drop_column('leased_until')
