"""version series number: a version is named by its number within its policy ("version 1" of the acceptable use
policy), while `number` still runs across the trust's policies and orders them (issue 14 point 6)

Added in place (policy_version is referenced by most tables: never a batch copy) and backfilled in each
series' order of `number`; for a trust with one policy the two numbers are the same.

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('policy_version', sa.Column('series_number', sa.Integer(), nullable=True))
    bind = op.get_bind()
    version = sa.table('policy_version', sa.column('id'), sa.column('series_id'), sa.column('number'),
                       sa.column('series_number'))
    counters: dict[int | None, int] = {}
    for row in bind.execute(sa.select(version.c.id, version.c.series_id)
                            .order_by(version.c.series_id, version.c.number)).all():
        counters[row.series_id] = counters.get(row.series_id, 0) + 1
        bind.execute(version.update().where(version.c.id == row.id).values(series_number=counters[row.series_id]))
    op.create_index('uq_policy_version_series_number', 'policy_version', ['series_id', 'series_number'],
                    unique=True)


def downgrade():
    op.drop_index('uq_policy_version_series_number', table_name='policy_version')
    op.drop_column('policy_version', 'series_number')  # in place, not a copy of a referenced table (see 0025)
