"""policy series: a trust may hold several policies (staff social media, acceptable use, …), each with its own
versions; every existing trust gets one series, "social-media", holding all its versions (issue 14 point 6)

policy_version.series_id and policy_source.series_id are added in place (both tables are referenced by many
others: never a batch copy). Version numbers stay unique per trust, across its series.

Revision ID: 0027
Revises: 0026
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

DEFAULT_SLUG = "social-media"
DEFAULT_TITLE = "Staff social media policy"


def upgrade():
    op.create_table(
        'policy_series',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('audience', sa.JSON(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_policy_series_trust_id_trust')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_series')),
        sa.UniqueConstraint('trust_id', 'slug', name=op.f('uq_policy_series_trust_id_slug')),
    )
    op.create_index(op.f('ix_policy_series_trust_id'), 'policy_series', ['trust_id'], unique=False)
    # In place (ALTER TABLE ADD COLUMN): policy_version is referenced by most tables, so never copied.
    for table in ('policy_version', 'policy_source'):
        if op.get_bind().dialect.name == 'sqlite':
            # SQLite cannot add a constraint to a table, but ADD COLUMN may carry an inline REFERENCES.
            op.execute(f'ALTER TABLE {table} ADD COLUMN series_id INTEGER REFERENCES policy_series (id)')
        else:
            op.add_column(table, sa.Column('series_id', sa.Integer(), nullable=True))
            op.create_foreign_key(op.f(f'fk_{table}_series_id_policy_series'), table, 'policy_series',
                                  ['series_id'], ['id'])
    op.create_index(op.f('ix_policy_version_series_id'), 'policy_version', ['series_id'], unique=False)
    _backfill(op.get_bind())


def _backfill(bind) -> None:
    """One series per school trust, titled from its newest version, holding every version and upload."""
    trust = sa.table('trust', sa.column('id'), sa.column('platform'))
    version = sa.table('policy_version', sa.column('id'), sa.column('trust_id'), sa.column('number'),
                       sa.column('title'), sa.column('series_id'))
    source = sa.table('policy_source', sa.column('trust_id'), sa.column('series_id'))
    series = sa.table('policy_series', sa.column('id'), sa.column('trust_id'), sa.column('slug'),
                      sa.column('title'), sa.column('audience', sa.JSON), sa.column('position'),
                      sa.column('created_at'))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for (trust_id,) in bind.execute(sa.select(trust.c.id).where(trust.c.platform.is_(False))
                                    .order_by(trust.c.id)).all():
        title = bind.execute(sa.select(version.c.title).where(version.c.trust_id == trust_id)
                             .order_by(version.c.number.desc()).limit(1)).scalar()
        bind.execute(series.insert().values(trust_id=trust_id, slug=DEFAULT_SLUG, title=(title or DEFAULT_TITLE)[:300],
                                            audience={}, position=1, created_at=now))
        series_id = bind.execute(sa.select(series.c.id).where(series.c.trust_id == trust_id,
                                                              series.c.slug == DEFAULT_SLUG)).scalar()
        bind.execute(version.update().where(version.c.trust_id == trust_id).values(series_id=series_id))
        bind.execute(source.update().where(source.c.trust_id == trust_id).values(series_id=series_id))


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':  # SQLite drops the column with its inline REFERENCES
        op.drop_constraint(op.f('fk_policy_source_series_id_policy_series'), 'policy_source', type_='foreignkey')
        op.drop_constraint(op.f('fk_policy_version_series_id_policy_series'), 'policy_version', type_='foreignkey')
    op.drop_column('policy_source', 'series_id')  # in place, not a copy of a referenced table (see 0025)
    op.drop_index(op.f('ix_policy_version_series_id'), table_name='policy_version')
    op.drop_column('policy_version', 'series_id')
    op.drop_table('policy_series')
