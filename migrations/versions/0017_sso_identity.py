"""sso identity: the stable subject id a trust's identity provider gives a person, stored on their first single
sign-on (modules/people/models.py SsoIdentity).

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sso_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_sso_identity_trust_id_trust')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sso_identity_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identity')),
        sa.UniqueConstraint('trust_id', 'issuer', 'subject', name=op.f('uq_sso_identity_trust_id_issuer_subject')),
        sa.UniqueConstraint('user_id', 'issuer', name=op.f('uq_sso_identity_user_id_issuer')),
    )
    op.create_index(op.f('ix_sso_identity_trust_id'), 'sso_identity', ['trust_id'], unique=False)
    op.create_index(op.f('ix_sso_identity_user_id'), 'sso_identity', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sso_identity_user_id'), table_name='sso_identity')
    op.drop_index(op.f('ix_sso_identity_trust_id'), table_name='sso_identity')
    op.drop_table('sso_identity')
