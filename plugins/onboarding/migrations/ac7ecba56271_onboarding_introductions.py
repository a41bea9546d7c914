"""onboarding introductions."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'ac7ecba56271'
down_revision = '54dfc068d169'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('onboarding_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intro_asked_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('intro_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('intro', sa.String(length=2000), nullable=True))
    


def downgrade() -> None:
    with op.batch_alter_table('onboarding_members', schema=None) as batch_op:
        batch_op.drop_column('intro')
        batch_op.drop_column('intro_at')
        batch_op.drop_column('intro_asked_at')
    

