"""How an acknowledgement's hash is computed and recomputed; registered with the ledger at import.

The field lists are explicit (not "every column") so that adding a column never silently changes the
hash of records written before it: a new column must be added here deliberately, with a new hash
version if old records lack it. tests/attestation/test_tamper.py alters every column of every evidence
table and fails if one is not covered.
"""

from sqlalchemy import select

from modules.attestation.ledger import EvidenceProblem, entry_for, record_hash, register_evidence, salted_hash
from modules.attestation.models import Acknowledgement, AcknowledgementPersonal, AcknowledgementStatement
from modules.core.extensions import db

RECORD_TABLE = "acknowledgement"
HASH_VERSION = 1

#: Acknowledgement columns covered by the record hash (id is bound by the ledger entry's record_id).
ACKNOWLEDGEMENT_FIELDS = (
    "trust_id", "user_id", "version_id", "policy_sha256", "statements_sha256", "decision", "attempt_id",
    "attempt_score", "signer_roles", "signer_job_title", "signer_academy", "signin_method",
    "authenticated_at", "actor_id", "on_behalf", "idempotency_key", "personal_digest", "created_at",
)
#: Statement columns covered, per statement, inside the acknowledgement's hash.
STATEMENT_FIELDS = (
    "id", "acknowledgement_id", "user_id", "version_id", "position", "key", "kind", "clauses", "text",
    "text_sha256", "meaning", "supersedes_id",
)
#: Personal columns covered by the salted personal digest (the salt is its key). The row's
#: acknowledgement_id is covered too: moving the row leaves its acknowledgement without personal data.
PERSONAL_FIELDS = ("signer_name", "signer_email", "typed_name", "ip_address",
                   "user_agent", "note")


def personal_digest(personal: AcknowledgementPersonal) -> str:
    """The salted digest of a personal-data row, keyed by its own salt."""
    return salted_hash(bytes.fromhex(personal.salt), {f: getattr(personal, f) for f in PERSONAL_FIELDS})


def acknowledgement_hash(ack: Acknowledgement, statements: list[AcknowledgementStatement]) -> str:
    """The record hash of an acknowledgement event with its statements."""
    fields = {f: getattr(ack, f) for f in ACKNOWLEDGEMENT_FIELDS}
    fields["hash_version"] = HASH_VERSION
    fields["statements"] = [{f: getattr(s, f) for f in STATEMENT_FIELDS} for s in sorted(statements,
                                                                                         key=lambda s: s.id)]
    return record_hash(fields)


def recompute(ack_id: int) -> str | None:
    """The hash the acknowledgement has now, read fresh from the database; None if it is missing."""
    fresh = {"populate_existing": True}
    ack = db.session.scalar(select(Acknowledgement).where(Acknowledgement.id == ack_id).execution_options(**fresh))
    if ack is None:
        return None
    statements = list(db.session.scalars(select(AcknowledgementStatement).where(
        AcknowledgementStatement.acknowledgement_id == ack_id).execution_options(**fresh)))
    personal = db.session.scalar(select(AcknowledgementPersonal).where(
        AcknowledgementPersonal.acknowledgement_id == ack_id).execution_options(**fresh))
    if personal is None:
        if entry_for(RECORD_TABLE, ack_id, kind="erasure") is None:
            raise EvidenceProblem("the personal data row is missing and no erasure was recorded")
    elif personal_digest(personal) != ack.personal_digest:
        raise EvidenceProblem("the personal data no longer matches its digest: it was altered")
    return acknowledgement_hash(ack, statements)


def ids_in_trust(trust_id: int) -> list[int]:
    """Every acknowledgement of the trust (each must have a ledger entry)."""
    return list(db.session.scalars(select(Acknowledgement.id).where(Acknowledgement.trust_id == trust_id)))


register_evidence(RECORD_TABLE, recompute, ids=ids_in_trust)
