"""policy versions: the effective date HR gives on publishing, and when HR set the next review date

Plain ADD COLUMN, no batch mode: a batch rebuild of policy_version on SQLite would drop the old table with
foreign keys on, which cascades to its sections and clauses (or fails on its acknowledgements).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('policy_version', sa.Column('effective_on', sa.Date(), nullable=True))
    op.add_column('policy_version', sa.Column('next_review_set_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('policy_version', 'next_review_set_on')
    op.drop_column('policy_version', 'effective_on')
