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
    # Plain ADD COLUMN (no batch rebuild of a table other tables point at, whose partial unique index a rebuild
    # would have to reflect); SQLite takes the foreign key as a column constraint.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE assignment ADD COLUMN deadline_version_id INTEGER '
                   'CONSTRAINT fk_assignment_deadline_version_id_policy_version REFERENCES policy_version (id)')
    else:
        op.add_column('assignment', sa.Column('deadline_version_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_assignment_deadline_version_id_policy_version'), 'assignment',
                              'policy_version', ['deadline_version_id'], ['id'])


def downgrade():
    with op.batch_alter_table('assignment') as batch_op:
        batch_op.drop_column('deadline_version_id')
