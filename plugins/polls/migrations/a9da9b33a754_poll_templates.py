"""poll templates."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'a9da9b33a754'
down_revision = 'bfd5a4ad556d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('polls_templates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('creator', sa.String(length=64), nullable=True),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('rrule', sa.String(length=300), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('max_choices', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('quorum', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_polls_templates')),
    sa.UniqueConstraint('community', 'name', name='uq_polls_templates_name')
    )
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('occurrence', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_polls_polls_template_occurrence', ['template', 'occurrence'], unique=True)
    


def downgrade() -> None:
    with op.batch_alter_table('polls_polls', schema=None) as batch_op:
        batch_op.drop_index('ix_polls_polls_template_occurrence')
        batch_op.drop_column('occurrence')
        batch_op.drop_column('template')
    
    op.drop_table('polls_templates')

