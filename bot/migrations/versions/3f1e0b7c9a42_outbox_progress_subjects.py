"""outbox: per-part progress, reply handles, failure budget, member index."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '3f1e0b7c9a42'
down_revision = 'cd2ecc33761c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reply', sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column('failing_since', bot.core.storage.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f('ix_core_outbox_member'), ['member'], unique=False)
        batch_op.create_index('ix_core_outbox_done', ['status', 'created_at'], unique=False)
    op.create_table('core_outbox_subjects',
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('outbox_id', 'member', name=op.f('pk_core_outbox_subjects'))
    )
    with op.batch_alter_table('core_outbox_subjects', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_core_outbox_subjects_member'), ['member'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('core_outbox_subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_outbox_subjects_member'))
    op.drop_table('core_outbox_subjects')
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_core_outbox_done')
        batch_op.drop_index(batch_op.f('ix_core_outbox_member'))
        batch_op.drop_column('failing_since')
        batch_op.drop_column('reply')
        batch_op.drop_column('progress')
