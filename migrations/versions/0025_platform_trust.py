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
    # In place (ALTER TABLE ADD COLUMN), never a batch copy: see downgrade.
    op.add_column('trust', sa.Column('platform', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    # Not a batch (copy-and-drop) on SQLite: `trust` is referenced by most tables, so dropping it is refused
    # while foreign keys are enforced. SQLite (3.35+) and PostgreSQL both drop a plain column in place.
    op.drop_column('trust', 'platform')
