"""certificate PDFs rendered after the issue commits (issue 16)

The acknowledgement's transaction writes the certificate record (code, dates, what it certifies); its PDF is
rendered after the commit and recorded on its own:

- certificate_rendering: append-only evidence (certificate, PDF sha256, when), ledgered;
- certificate_pdf: the bytes, deletable by a lawful erasure;
- certificate_render_problem: failed render attempts, for HR and the retrying sweep (not evidence).

certificate.pdf_sha256 and certificate_personal.pdf become nullable (NULL for certificates issued from now on;
those issued before keep theirs). On SQLite a NOT NULL is removed by editing the stored CREATE TABLE statement
(the procedure SQLite documents for removing NOT NULL constraints, "ALTER TABLE", section 7), because Alembic's
batch mode would rebuild the append-only certificate table under the tables that reference it.

Downgrade drops the three tables (refused while rendered PDFs exist: their ledger entries would point at
nothing); the two columns stay nullable, since certificates issued meanwhile hold no hash there.

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# Frozen copy of the append-only trigger SQL (modules/evidence/triggers.py when this migration was
# written): a migration never imports live code, so changing that file cannot change what this installs.
_APPEND_ONLY_SQL = {
    'sqlite': (
        "CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        "CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    ),
    'postgresql': (
        "CREATE OR REPLACE FUNCTION policypass_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$",
        'CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION policypass_refuse_change()',
        'CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION policypass_refuse_change()',
    ),
}
_DROP_APPEND_ONLY_SQL = {
    'sqlite': (
        'DROP TRIGGER IF EXISTS {table}_refuse_update',
        'DROP TRIGGER IF EXISTS {table}_refuse_delete',
    ),
    'postgresql': (
        'DROP TRIGGER IF EXISTS {table}_refuse_change ON {table}',
        'DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table}',
    ),
}


def _install_append_only(table: str) -> None:
    for statement in _APPEND_ONLY_SQL[op.get_bind().dialect.name]:
        op.execute(statement.format(table=table))


def _remove_append_only(table: str) -> None:
    for statement in _DROP_APPEND_ONLY_SQL[op.get_bind().dialect.name]:
        op.execute(statement.format(table=table))



#: (table, column, its declaration as SQLAlchemy wrote it in 0004) made nullable.
_NULLABLE = (('certificate', 'pdf_sha256', 'pdf_sha256 VARCHAR(64) NOT NULL'),
             ('certificate_personal', 'pdf', 'pdf BLOB NOT NULL'))


def _drop_not_null(table: str, column: str, declared: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.alter_column(table, column, nullable=True)
        return
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    if declared not in sql:
        if declared.replace(' NOT NULL', '') in sql:
            return  # already nullable (upgraded, downgraded, upgraded again)
        raise RuntimeError(f'{table}.{column}: unexpected declaration in {sql!r}')
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar()
    bind.exec_driver_sql('PRAGMA writable_schema = ON')
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                         (sql.replace(declared, declared.replace(' NOT NULL', '')), table))
    bind.exec_driver_sql(f'PRAGMA schema_version = {int(version) + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema = OFF')


def upgrade():
    for table, column, declared in _NULLABLE:
        _drop_not_null(table, column, declared)

    op.create_table('certificate_rendering',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trust_id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('personal_digest', sa.String(length=64), nullable=False),
    sa.Column('rendered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_certificate_rendering_certificate_id_certificate')),
    sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_certificate_rendering_trust_id_trust')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_rendering')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_certificate_rendering_certificate_id')),
    info={'append_only': True, 'evidence': True}
    )
    op.create_index(op.f('ix_certificate_rendering_trust_id'), 'certificate_rendering', ['trust_id'], unique=False)
    op.create_table('certificate_pdf',
    sa.Column('rendering_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['rendering_id'], ['certificate_rendering.id'], name=op.f('fk_certificate_pdf_rendering_id_certificate_rendering')),
    sa.PrimaryKeyConstraint('rendering_id', name=op.f('pk_certificate_pdf')),
    info={'evidence': True}
    )
    op.create_table('certificate_render_problem',
    sa.Column('certificate_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('last_tried_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_certificate_render_problem_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('certificate_id', name=op.f('pk_certificate_render_problem'))
    )
    _install_append_only('certificate_rendering')


def downgrade():
    rendered = op.get_bind().execute(sa.text('SELECT count(*) FROM certificate_rendering')).scalar()
    if rendered:
        raise RuntimeError(f'{rendered} certificate PDF(s) were rendered as their own ledgered records since 0022; '
                           'downgrading would drop that evidence. Restore a backup taken before 0022 instead.')
    _remove_append_only('certificate_rendering')
    op.drop_table('certificate_render_problem')
    op.drop_table('certificate_pdf')
    op.drop_index(op.f('ix_certificate_rendering_trust_id'), table_name='certificate_rendering')
    op.drop_table('certificate_rendering')
