"""tracking actions: HR's reminders, resent invitations, extensions, exemptions and leavers, and escalations

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tracking_action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_tracking_action_trust_id_trust')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_tracking_action_user_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_tracking_action_actor_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_action')),
    )
    op.create_index('ix_tracking_action_user_id', 'tracking_action', ['user_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_tracking_action_user_id', table_name='tracking_action')
    op.drop_table('tracking_action')
