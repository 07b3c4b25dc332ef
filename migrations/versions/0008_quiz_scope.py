"""quiz scope: people asked only about a new version's changes, and what each attempt covered; when a
policy version takes effect

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quiz_scope',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_quiz_scope_user_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['policy_version.id'],
                                name=op.f('fk_quiz_scope_version_id_policy_version'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_scope')),
        sa.UniqueConstraint('user_id', 'version_id', name=op.f('uq_quiz_scope_user_id_version_id')),
    )
    op.create_index(op.f('ix_quiz_scope_user_id'), 'quiz_scope', ['user_id'], unique=False)
    op.create_index(op.f('ix_quiz_scope_version_id'), 'quiz_scope', ['version_id'], unique=False)
    # Plain ADD COLUMN (no batch rebuild of a table other tables point at).
    op.add_column('quiz_attempt', sa.Column('scope', sa.String(length=10), nullable=False,
                                            server_default='full'))
    # When a version takes effect (its effective date's start, or publication if later); published
    # versions so far took effect on publication.
    op.add_column('policy_version', sa.Column('in_force_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE policy_version SET in_force_at = published_at WHERE published_at IS NOT NULL")


def downgrade():
    op.drop_column('policy_version', 'in_force_at')
    op.drop_column('quiz_attempt', 'scope')
    op.drop_index(op.f('ix_quiz_scope_version_id'), table_name='quiz_scope')
    op.drop_index(op.f('ix_quiz_scope_user_id'), table_name='quiz_scope')
    op.drop_table('quiz_scope')
