"""access closure: closing an official account is a dated, append-only, ledgered event

A grant ends when its account is closed after it was made, and stays ended if the account is reopened; the
state before the closure is unchanged. Accounts already closed get a closure dated when their status last
changed (no actor known), each with its ledger entry, so their grants stay ended and the ledger verifies.

Revision ID: 0009
Revises: 0008
"""
from datetime import UTC, datetime
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

from modules.attestation.ledger import GENESIS, entry_digest, record_hash
from modules.attestation.triggers import install_append_only, remove_append_only


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

#: The access evidence hash version these backfilled rows are hashed with (modules/access/evidence.py).
HASH_VERSION = 1


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
    install_append_only(op, 'account_closure')


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
    remove_append_only(op, 'account_closure')
    op.drop_index(op.f('ix_account_closure_trust_id'), table_name='account_closure')
    op.drop_index(op.f('ix_account_closure_account_id'), table_name='account_closure')
    op.drop_table('account_closure')
