"""ledger decisions: quiz attempts that acknowledgements rest on, and every approval decision, are ledgered

No schema change. From now on the app appends a ledger entry for each approver's decision and for the quiz
attempt an acknowledgement rests on (see the declarations in modules/access/models.py and
modules/attestation/models.py). This backfills an entry, hashed the same way, for each such row already in
the database, at the end of its trust's chain, so `flask ledger verify` covers them and finds none missing.

Revision ID: 0014
Revises: 0013
"""
import hashlib
import json
from datetime import UTC, date, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# Frozen copies (modules/evidence/ledger.py and the two declarations, when this migration was written): a
# migration never imports live code. tests/evidence/test_previous_head.py upgrades real old data through
# this migration and verifies it with the live code.
GENESIS = "0" * 64
HASH_VERSION = 1
ATTEMPT_FIELDS = ("user_id", "version_id", "started_at", "finished_at", "score", "passed", "pass_mark", "scope")
QUESTION_FIELDS = ("id", "attempt_id", "question_id", "position", "option_order", "chosen", "correct")
DECISION_FIELDS = ("request_id", "step", "approver_id", "outcome", "comment", "certificate_id", "created_at")


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


def entry_digest(entry: dict) -> str:
    """The hash a ledger entry must carry: sha256 over every other column of the entry."""
    return record_hash({k: entry[k] for k in ("trust_id", "seq", "kind", "record_table", "record_id",
                                              "record_hash", "prev_hash", "created_at")})


attempt = sa.table('quiz_attempt', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                   sa.column('version_id', sa.Integer), sa.column('started_at', sa.DateTime),
                   sa.column('finished_at', sa.DateTime), sa.column('score', sa.Integer),
                   sa.column('passed', sa.Boolean), sa.column('pass_mark', sa.Integer), sa.column('scope', sa.String))
question = sa.table('attempt_question', sa.column('id', sa.Integer), sa.column('attempt_id', sa.Integer),
                    sa.column('question_id', sa.Integer), sa.column('position', sa.Integer),
                    sa.column('option_order', sa.JSON), sa.column('chosen', sa.JSON),
                    sa.column('correct', sa.Boolean))
acknowledgement = sa.table('acknowledgement', sa.column('id', sa.Integer), sa.column('trust_id', sa.Integer),
                           sa.column('attempt_id', sa.Integer))
decision = sa.table('access_decision', sa.column('id', sa.Integer), sa.column('request_id', sa.Integer),
                    sa.column('step', sa.Integer), sa.column('approver_id', sa.Integer),
                    sa.column('outcome', sa.String), sa.column('comment', sa.Text),
                    sa.column('certificate_id', sa.Integer), sa.column('created_at', sa.DateTime))
request = sa.table('access_request', sa.column('id', sa.Integer), sa.column('trust_id', sa.Integer))
ledger = sa.table('ledger_entry', sa.column('trust_id', sa.Integer), sa.column('seq', sa.Integer),
                  sa.column('kind', sa.String), sa.column('record_table', sa.String),
                  sa.column('record_id', sa.Integer), sa.column('record_hash', sa.String),
                  sa.column('prev_hash', sa.String), sa.column('entry_hash', sa.String),
                  sa.column('created_at', sa.DateTime))


def _unledgered(bind, table_name: str, ids_by_trust) -> list[tuple[int, int]]:
    """(trust_id, record id) pairs with no ledger entry yet, by trust then id."""
    done = set(bind.execute(sa.select(ledger.c.record_id).where(ledger.c.record_table == table_name)).scalars())
    return sorted((trust_id, record_id) for trust_id, record_id in bind.execute(ids_by_trust).all()
                  if record_id not in done)


def _attempt_hash(bind, attempt_id: int) -> str:
    row = bind.execute(sa.select(attempt).where(attempt.c.id == attempt_id)).mappings().one()
    items = bind.execute(sa.select(question).where(question.c.attempt_id == attempt_id)
                         .order_by(question.c.id)).mappings().all()
    fields = {f: row[f] for f in ATTEMPT_FIELDS}
    fields.update(hash_version=HASH_VERSION, questions=[{f: item[f] for f in QUESTION_FIELDS} for item in items],
                  table='quiz_attempt')
    return record_hash(fields)


def _decision_hash(bind, decision_id: int) -> str:
    row = bind.execute(sa.select(decision).where(decision.c.id == decision_id)).mappings().one()
    return record_hash({**{f: row[f] for f in DECISION_FIELDS}, 'hash_version': HASH_VERSION,
                        'table': 'access_decision'})


def _append(bind, trust_id: int, kind: str, table_name: str, record_id: int, digest: str, now: datetime) -> None:
    previous = bind.execute(sa.select(ledger.c.seq, ledger.c.entry_hash).where(ledger.c.trust_id == trust_id)
                            .order_by(ledger.c.seq.desc()).limit(1)).first()
    entry = {'trust_id': trust_id, 'seq': previous.seq + 1 if previous else 1, 'kind': kind,
             'record_table': table_name, 'record_id': record_id, 'record_hash': digest,
             'prev_hash': previous.entry_hash if previous else GENESIS, 'created_at': now}
    bind.execute(ledger.insert().values(**entry, entry_hash=entry_digest(entry)))


def upgrade():
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    attempts = _unledgered(bind, 'quiz_attempt', sa.select(acknowledgement.c.trust_id, acknowledgement.c.attempt_id)
                           .where(acknowledgement.c.attempt_id.is_not(None)).distinct())
    for trust_id, attempt_id in attempts:
        _append(bind, trust_id, 'quiz_attempt', 'quiz_attempt', attempt_id, _attempt_hash(bind, attempt_id), now)
    decisions = _unledgered(bind, 'access_decision', sa.select(request.c.trust_id, decision.c.id)
                            .join(request, request.c.id == decision.c.request_id))
    for trust_id, decision_id in decisions:
        _append(bind, trust_id, 'access_decided', 'access_decision', decision_id, _decision_hash(bind, decision_id),
                now)


def downgrade():
    # Ledger entries are append-only and stay; the code before this revision does not know these tables,
    # so `flask ledger verify` at 0013 reports them until upgraded again.
    pass
