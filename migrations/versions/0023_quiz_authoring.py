"""quiz authoring: questions written and reviewed in the browser, clauses excluded from the quiz

question.silent keeps the bank's `silent` so an exported bank reads back as it was; question_authorship says who
wrote and who reviewed a question in the browser; browser_bank marks versions whose quiz is written in the browser
(content sync leaves them alone); clause_exclusion holds the bank's not_examined per version.

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('question', sa.Column('silent', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'question_authorship',
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_question_authorship_question_id_question'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_question_authorship_author_id_user')),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_question_authorship_reviewed_by_id_user')),
        sa.PrimaryKeyConstraint('question_id', name=op.f('pk_question_authorship')),
    )
    op.create_index(op.f('ix_question_authorship_author_id'), 'question_authorship', ['author_id'], unique=False)
    op.create_index(op.f('ix_question_authorship_reviewed_by_id'), 'question_authorship', ['reviewed_by_id'],
                    unique=False)
    op.create_table(
        'browser_bank',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['policy_version.id'], name=op.f('fk_browser_bank_version_id_policy_version'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_browser_bank_started_by_id_user')),
        sa.PrimaryKeyConstraint('version_id', name=op.f('pk_browser_bank')),
    )
    op.create_index(op.f('ix_browser_bank_started_by_id'), 'browser_bank', ['started_by_id'], unique=False)
    op.create_table(
        'clause_exclusion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('clause_ref', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('excluded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['policy_version.id'],
                                name=op.f('fk_clause_exclusion_version_id_policy_version'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['excluded_by_id'], ['user.id'], name=op.f('fk_clause_exclusion_excluded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clause_exclusion')),
        sa.UniqueConstraint('version_id', 'clause_ref', name=op.f('uq_clause_exclusion_version_id_clause_ref')),
    )
    op.create_index(op.f('ix_clause_exclusion_version_id'), 'clause_exclusion', ['version_id'], unique=False)
    op.create_index(op.f('ix_clause_exclusion_excluded_by_id'), 'clause_exclusion', ['excluded_by_id'], unique=False)


def downgrade():
    op.drop_table('clause_exclusion')
    op.drop_table('browser_bank')
    op.drop_table('question_authorship')
    op.drop_column('question', 'silent')  # in place, not a copy of a referenced table (see 0025)
