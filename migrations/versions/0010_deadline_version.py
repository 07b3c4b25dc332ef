"""assignments: a deadline carried over from an earlier policy version (lateness survives a new version)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch rebuild of a table other tables point at); SQLite cannot add the foreign key
    # to an existing table without that rebuild, so there it is the model's alone.
    op.add_column('assignment', sa.Column('deadline_version_id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.create_foreign_key(op.f('fk_assignment_deadline_version_id_policy_version'), 'assignment',
                              'policy_version', ['deadline_version_id'], ['id'])


def downgrade():
    with op.batch_alter_table('assignment') as batch_op:
        batch_op.drop_column('deadline_version_id')
