"""feedback tables."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = '81d4f859e822'
down_revision = None
branch_labels = ('feedback',)
depends_on = None


def upgrade() -> None:
    op.create_table('feedback_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('suggestion', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('actor_name', sa.String(length=128), nullable=True),
    sa.Column('old', sa.String(length=16), nullable=False),
    sa.Column('new', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_changes'))
    )
    with op.batch_alter_table('feedback_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_changes_actor'), ['actor'], unique=False)
        batch_op.create_index('ix_feedback_changes_community_at', ['community', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_changes_suggestion'), ['suggestion'], unique=False)
    
    op.create_table('feedback_digests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('period_start', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_end', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('edited_by', sa.String(length=64), nullable=True),
    sa.Column('posted_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_digests'))
    )
    with op.batch_alter_table('feedback_digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_digests_edited_by'), ['edited_by'], unique=False)
        batch_op.create_index('ix_feedback_digests_period', ['community', 'period_end'], unique=True)
    
    op.create_table('feedback_follows',
    sa.Column('suggestion', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('suggestion', 'member', name=op.f('pk_feedback_follows'))
    )
    with op.batch_alter_table('feedback_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_follows_member'), ['member'], unique=False)
    
    op.create_table('feedback_outcomes',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('poll', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('winners', sa.JSON(), nullable=False),
    sa.Column('voters', sa.Integer(), nullable=False),
    sa.Column('voter_ids', sa.JSON(), nullable=False),
    sa.Column('closed_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('community', 'poll', name=op.f('pk_feedback_outcomes'))
    )
    with op.batch_alter_table('feedback_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_outcomes_decided_by'), ['decided_by'], unique=False)
    
    op.create_table('feedback_people',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('first_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('community', 'member', name=op.f('pk_feedback_people'))
    )
    with op.batch_alter_table('feedback_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_people_member'), ['member'], unique=False)
    
    op.create_table('feedback_suggestions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=True),
    sa.Column('author_name', sa.String(length=128), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('norm', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('posted_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('adopted_at', bot.core.storage.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_suggestions'))
    )
    with op.batch_alter_table('feedback_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_suggestions_author'), ['author'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_suggestions_community'), ['community'], unique=False)
    
    op.create_table('feedback_votes',
    sa.Column('suggestion', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('at', bot.core.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('suggestion', 'member', name=op.f('pk_feedback_votes'))
    )
    with op.batch_alter_table('feedback_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_votes_member'), ['member'], unique=False)
    


def downgrade() -> None:
    with op.batch_alter_table('feedback_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_votes_member'))
    
    op.drop_table('feedback_votes')
    with op.batch_alter_table('feedback_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_suggestions_community'))
        batch_op.drop_index(batch_op.f('ix_feedback_suggestions_author'))
    
    op.drop_table('feedback_suggestions')
    with op.batch_alter_table('feedback_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_people_member'))
    
    op.drop_table('feedback_people')
    with op.batch_alter_table('feedback_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_outcomes_decided_by'))
    
    op.drop_table('feedback_outcomes')
    with op.batch_alter_table('feedback_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_follows_member'))
    
    op.drop_table('feedback_follows')
    with op.batch_alter_table('feedback_digests', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_digests_period')
        batch_op.drop_index(batch_op.f('ix_feedback_digests_edited_by'))
    
    op.drop_table('feedback_digests')
    with op.batch_alter_table('feedback_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_changes_suggestion'))
        batch_op.drop_index('ix_feedback_changes_community_at')
        batch_op.drop_index(batch_op.f('ix_feedback_changes_actor'))
    
    op.drop_table('feedback_changes')

