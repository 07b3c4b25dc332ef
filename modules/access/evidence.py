"""How the access package's evidence hashes are computed (grants, removals, closures, lapses, discussions).

Registered with the ledger at import.

Explicit field lists, as in modules/attestation/evidence.py: a new column must be added here deliberately
(with a new hash version). These rows hold no personal data beyond ids, so there is no personal digest.
"""

from sqlalchemy import select

from modules.access.models import (
    AccessGrant,
    AccessRevocation,
    AccountClosure,
    LapseObservation,
    TrainingDiscussion,
)
from modules.attestation.ledger import record_hash, register_evidence
from modules.core.extensions import db

HASH_VERSION = 1

#: table name → (model, fields covered by the record hash). The id is bound by the entry's record_id.
TABLES = {
    "access_grant": (AccessGrant, ("trust_id", "account_id", "user_id", "role", "request_id", "certificate_id",
                                   "approver_ids", "created_at")),
    "access_revocation": (AccessRevocation, ("trust_id", "grant_id", "actor_id", "reason", "created_at")),
    "account_closure": (AccountClosure, ("trust_id", "account_id", "actor_id", "created_at")),
    "lapse_observation": (LapseObservation, ("trust_id", "grant_id", "reason", "certificate_id", "observed_at")),
    "training_discussion": (TrainingDiscussion, ("trust_id", "user_id", "manager_id", "request_id",
                                                 "idempotency_key", "created_at")),
}

#: Ledger entry kinds written by the access package.
KIND_GRANTED, KIND_REVOKED = "access_granted", "access_revoked"
KIND_LAPSE, KIND_DISCUSSED = "access_lapse_observed", "training_discussed"
KIND_CLOSED = "account_closed"


def evidence_hash(row) -> str:
    """The record hash of one of this package's evidence rows."""
    _model, fields = TABLES[row.__tablename__]
    return record_hash({**{f: getattr(row, f) for f in fields}, "hash_version": HASH_VERSION,
                        "table": row.__tablename__})


def _recompute(model):
    def recompute(record_id: int) -> str | None:
        row = db.session.scalar(select(model).where(model.id == record_id)
                                .execution_options(populate_existing=True))
        return None if row is None else evidence_hash(row)

    return recompute


def _ids(model):
    def ids(trust_id: int) -> list[int]:
        return list(db.session.scalars(select(model.id).where(model.trust_id == trust_id)))

    return ids


for _table, (_model, _fields) in TABLES.items():
    register_evidence(_table, _recompute(_model), ids=_ids(_model))
