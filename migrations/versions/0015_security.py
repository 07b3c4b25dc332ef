"""security: who may give which role, ledgered role changes, demo accounts marked

- role.assignable_roles: roles its holders may give beyond those whose capabilities they hold (trusts.yaml).
- role_change: append-only record of every change to a person's roles (actor, before, after), ledgered.
- user.demo: accounts made by `flask demo seed`; backfilled from the demo addresses (…@<trust>.demo.policypass.uk).

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

#: The demo seed's address domain (modules/people/demo.py DEMO_DOMAIN, frozen here).
DEMO_DOMAIN = 'demo.policypass.uk'

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


def upgrade():
    # Plain ADD COLUMN (no batch): SQLite supports it, and a batch rebuild of `user` would have to drop a
    # table every other table refers to.
    op.add_column('role', sa.Column('assignable_roles', sa.JSON(), nullable=True))
    op.add_column('user', sa.Column('demo', sa.Boolean(), server_default=sa.false(), nullable=False))
    user = sa.table('user', sa.column('email', sa.String), sa.column('demo', sa.Boolean))
    op.execute(user.update().where(user.c.email.like(f'%@%.{DEMO_DOMAIN}')).values(demo=True))

    op.create_table(
        'role_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('before', sa.String(length=2000), nullable=False),
        sa.Column('after', sa.String(length=2000), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_role_change_actor_id_user')),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_role_change_trust_id_trust')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_role_change_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_role_change')),
        info={'append_only': True, 'evidence': True},
    )
    op.create_index(op.f('ix_role_change_trust_id'), 'role_change', ['trust_id'], unique=False)
    op.create_index(op.f('ix_role_change_user_id'), 'role_change', ['user_id'], unique=False)
    _install_append_only('role_change')


def downgrade():
    _remove_append_only('role_change')
    op.drop_index(op.f('ix_role_change_user_id'), table_name='role_change')
    op.drop_index(op.f('ix_role_change_trust_id'), table_name='role_change')
    op.drop_table('role_change')
    # Plain DROP COLUMN (SQLite 3.35+ has it), like the upgrade's ADD COLUMN: a batch rebuild of `user` would
    # have to drop a table every other table points at.
    op.execute('ALTER TABLE "user" DROP COLUMN demo')
    op.execute('ALTER TABLE role DROP COLUMN assignable_roles')
