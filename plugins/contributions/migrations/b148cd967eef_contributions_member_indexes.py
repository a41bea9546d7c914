"""contributions member indexes."""

import sqlalchemy as sa
from alembic import op

import bot.core.storage

revision = 'b148cd967eef'
down_revision = 'd5005c6f13b7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contributions_awards', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_awards_member', ['member'], unique=False)

    with op.batch_alter_table('contributions_badges', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_badges_member', ['member'], unique=False)

    with op.batch_alter_table('contributions_decay', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_decay_member', ['member'], unique=False)

    with op.batch_alter_table('contributions_kudos', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_kudos_giver', ['giver'], unique=False)
        batch_op.create_index('ix_contributions_kudos_receiver', ['receiver'], unique=False)

    with op.batch_alter_table('contributions_profiles', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_profiles_member', ['member'], unique=False)

    with op.batch_alter_table('contributions_rewards', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_rewards_member', ['member'], unique=False)

    with op.batch_alter_table('contributions_tallies', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_tallies_member', ['member'], unique=False)

    with op.batch_alter_table('contributions_xp_daily', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_xp_daily_member', ['member'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contributions_xp_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_xp_daily_member')

    with op.batch_alter_table('contributions_tallies', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_tallies_member')

    with op.batch_alter_table('contributions_rewards', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_rewards_member')

    with op.batch_alter_table('contributions_profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_profiles_member')

    with op.batch_alter_table('contributions_kudos', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_kudos_receiver')
        batch_op.drop_index('ix_contributions_kudos_giver')

    with op.batch_alter_table('contributions_decay', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_decay_member')

    with op.batch_alter_table('contributions_badges', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_badges_member')

    with op.batch_alter_table('contributions_awards', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_awards_member')


