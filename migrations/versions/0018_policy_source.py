"""policy_source: uploaded policy files (byte-identical) with HR's structure corrections beside them

- policy_source: one row per trust and file content (sha256), with the bytes and the overlay of corrections.
- A version saved from an upload is found by the same (trust_id, sha256) as policy_version's own unique key,
  so policy_version itself is not changed.

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'policy_source',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('overlay', sa.JSON(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_policy_source_trust_id_trust')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_policy_source_uploaded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_source')),
        sa.UniqueConstraint('trust_id', 'sha256', name=op.f('uq_policy_source_trust_id_sha256')),
    )
    op.create_index(op.f('ix_policy_source_trust_id'), 'policy_source', ['trust_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_policy_source_trust_id'), table_name='policy_source')
    op.drop_table('policy_source')
