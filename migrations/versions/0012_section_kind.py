"""sections: kind ("text", or "form" for an appendix that is a blank form or a template)

Existing rows start as "text"; the next `flask content sync` re-renders every version's sections from their
stored clauses and sets the kind, so no feature code is imported here.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('section', sa.Column('kind', sa.String(length=20), server_default='text', nullable=False))


def downgrade():
    with op.batch_alter_table('section') as batch_op:
        batch_op.drop_column('kind')
