"""exclusion review: a clause left out of the quiz in the browser counts only once a second person approves it

Revision ID: 0026
Revises: 0025
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'exclusion_review',
        sa.Column('exclusion_id', sa.Integer(), nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['exclusion_id'], ['clause_exclusion.id'],
                                name=op.f('fk_exclusion_review_exclusion_id_clause_exclusion'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_exclusion_review_reviewed_by_id_user')),
        sa.PrimaryKeyConstraint('exclusion_id', name=op.f('pk_exclusion_review')),
    )
    op.create_index(op.f('ix_exclusion_review_reviewed_by_id'), 'exclusion_review', ['reviewed_by_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_exclusion_review_reviewed_by_id'), table_name='exclusion_review')
    op.drop_table('exclusion_review')
