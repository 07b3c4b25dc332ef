"""platform trust: the one trust whose people administer the service (platform administrators)

A platform administrator is a person of this trust, holding its `platform_admin` role (capability
`platform:manage`). The trust holds no staff, academies or policy, so every ordinary page (scoped to the
person's own trust) shows a platform administrator nothing of any other trust.

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trust') as batch_op:
        batch_op.add_column(sa.Column('platform', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('trust') as batch_op:
        batch_op.drop_column('platform')
