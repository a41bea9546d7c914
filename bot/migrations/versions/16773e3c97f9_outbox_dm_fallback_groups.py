"""outbox: DMs grouped under one fallback post, and the groups whose post was made."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '16773e3c97f9'
down_revision = 'bd7524b6d4cb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_outbox_groups',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('community', sa.String(length=96), nullable=False),
        sa.Column('posted_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_core_outbox_groups'))
    )
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_group', sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_core_outbox_fallback_group'), ['fallback_group'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_outbox_fallback_group'))
        batch_op.drop_column('fallback_group')
    op.drop_table('core_outbox_groups')

