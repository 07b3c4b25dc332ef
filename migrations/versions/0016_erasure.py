"""erasure: legal holds on a person's data, and the record of each erasure

- legal_hold: a hold placed (and later lifted) by the DPO, with reasons; erasure is refused while one is in place.
- erasure: when a person's personal data was erased, on what basis (retention or a lawful request) and by whom.

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'legal_hold',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('placed_by_id', sa.Integer(), nullable=True),
        sa.Column('placed_at', sa.DateTime(), nullable=False),
        sa.Column('lifted_at', sa.DateTime(), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.Column('lift_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['lifted_by_id'], ['user.id'], name=op.f('fk_legal_hold_lifted_by_id_user')),
        sa.ForeignKeyConstraint(['placed_by_id'], ['user.id'], name=op.f('fk_legal_hold_placed_by_id_user')),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_legal_hold_trust_id_trust')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_legal_hold_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold')),
    )
    op.create_index(op.f('ix_legal_hold_trust_id'), 'legal_hold', ['trust_id'], unique=False)
    op.create_index(op.f('ix_legal_hold_user_id'), 'legal_hold', ['user_id'], unique=False)
    op.create_table(
        'erasure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('basis', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('erased_at', sa.DateTime(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_erasure_actor_id_user')),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_erasure_trust_id_trust')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_erasure_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure')),
        sa.UniqueConstraint('user_id', name=op.f('uq_erasure_user_id')),
    )
    op.create_index(op.f('ix_erasure_trust_id'), 'erasure', ['trust_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_erasure_trust_id'), table_name='erasure')
    op.drop_table('erasure')
    op.drop_index(op.f('ix_legal_hold_user_id'), table_name='legal_hold')
    op.drop_index(op.f('ix_legal_hold_trust_id'), table_name='legal_hold')
    op.drop_table('legal_hold')
