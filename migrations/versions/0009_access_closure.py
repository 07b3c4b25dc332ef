"""access closure: closing an official account is a dated, append-only, ledgered event

A grant ends when its account is closed after it was made, and stays ended if the account is reopened; the
state before the closure is unchanged. Accounts already closed get a closure dated when their status last
changed (no actor known), each with its ledger entry, so their grants stay ended and the ledger verifies.

Revision ID: 0009
Revises: 0008
"""
import hashlib
import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
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

#: The access evidence hash version these backfilled rows are hashed with (as declared in modules/access/models.py).
HASH_VERSION = 1

# Frozen copy of the ledger's hashing (modules/evidence/ledger.py when this migration was written), so that
# changing the live code can never change what this migration writes. tests/evidence/test_migrations.py
# checks it still agrees with the live code.
GENESIS = "0" * 64


def _plain(value):
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot hash a {type(value).__name__}")


def record_hash(fields: dict) -> str:
    """sha256 of the canonical JSON of a record's fields."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                     default=_plain).encode("utf-8")).hexdigest()


def entry_digest(entry) -> str:
    """The hash a ledger entry must carry: sha256 over every other column of the entry."""
    return record_hash({
        "trust_id": entry.trust_id, "seq": entry.seq, "kind": entry.kind, "record_table": entry.record_table,
        "record_id": entry.record_id, "record_hash": entry.record_hash, "prev_hash": entry.prev_hash,
        "created_at": entry.created_at,
    })


def upgrade():
    op.create_table(
        'account_closure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['official_account.id'],
                                name=op.f('fk_account_closure_account_id_official_account')),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_account_closure_actor_id_user')),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_account_closure_trust_id_trust')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_closure')),
        info={'append_only': True, 'evidence': True},
    )
    op.create_index(op.f('ix_account_closure_account_id'), 'account_closure', ['account_id'], unique=False)
    op.create_index(op.f('ix_account_closure_trust_id'), 'account_closure', ['trust_id'], unique=False)
    _backfill(op.get_bind())
    _install_append_only('account_closure')


def _backfill(bind) -> None:
    """A closure and its ledger entry for each account already closed, dated when its status last changed."""
    account = sa.table('official_account', sa.column('id', sa.Integer),
                       sa.column('trust_id', sa.Integer), sa.column('status', sa.String),
                       sa.column('status_changed_at', sa.DateTime))
    closure = sa.table('account_closure', sa.column('id', sa.Integer), sa.column('trust_id', sa.Integer),
                       sa.column('account_id', sa.Integer), sa.column('actor_id', sa.Integer),
                       sa.column('created_at', sa.DateTime))
    ledger = sa.table('ledger_entry', sa.column('trust_id', sa.Integer), sa.column('seq', sa.Integer),
                      sa.column('kind', sa.String), sa.column('record_table', sa.String),
                      sa.column('record_id', sa.Integer), sa.column('record_hash', sa.String),
                      sa.column('prev_hash', sa.String), sa.column('entry_hash', sa.String),
                      sa.column('created_at', sa.DateTime))
    now = datetime.now(UTC).replace(tzinfo=None)
    closed = bind.execute(sa.select(account.c.id, account.c.trust_id, account.c.status_changed_at)
                          .where(account.c.status == 'closed')
                          .order_by(account.c.trust_id, account.c.id)).all()
    for account_id, trust_id, closed_at in closed:
        closure_id = bind.execute(closure.insert().returning(closure.c.id).values(
            trust_id=trust_id, account_id=account_id, actor_id=None, created_at=closed_at)).scalar_one()
        fields = {'trust_id': trust_id, 'account_id': account_id, 'actor_id': None, 'created_at': closed_at}
        previous = bind.execute(sa.select(ledger.c.seq, ledger.c.entry_hash)
                                .where(ledger.c.trust_id == trust_id)
                                .order_by(ledger.c.seq.desc()).limit(1)).first()
        entry = SimpleNamespace(
            trust_id=trust_id, seq=previous.seq + 1 if previous else 1, kind='account_closed',
            record_table='account_closure', record_id=closure_id,
            record_hash=record_hash({**fields, 'hash_version': HASH_VERSION, 'table': 'account_closure'}),
            prev_hash=previous.entry_hash if previous else GENESIS, created_at=now)
        bind.execute(ledger.insert().values(**vars(entry), entry_hash=entry_digest(entry)))


def downgrade():
    # Ledger entries for closures stay (the ledger is append-only); verify fails until upgraded again.
    _remove_append_only('account_closure')
    op.drop_index(op.f('ix_account_closure_trust_id'), table_name='account_closure')
    op.drop_index(op.f('ix_account_closure_account_id'), table_name='account_closure')
    op.drop_table('account_closure')
