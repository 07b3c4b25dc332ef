"""How certificate and revocation hashes are computed and recomputed; registered with the ledger at import.

The same pattern as modules/attestation/evidence.py: explicit field lists (a new column must be added here
deliberately, with a new hash version), the evidence row commits to a salted digest of its personal row,
and an erased personal row is fine only when the ledger records the erasure.
"""

import hashlib

from sqlalchemy import select

from modules.attestation.ledger import EvidenceProblem, entry_for, record_hash, register_evidence, salted_hash
from modules.certificates.models import (
    Certificate,
    CertificatePersonal,
    CertificateRevocation,
    CertificateRevocationPersonal,
)
from modules.core.extensions import db

CERTIFICATE_TABLE = "certificate"
REVOCATION_TABLE = "certificate_revocation"
HASH_VERSION = 1

#: Certificate columns covered by its record hash (id is bound by the ledger entry's record_id).
CERTIFICATE_FIELDS = ("trust_id", "user_id", "version_id", "acknowledgement_id", "renews_id", "code",
                      "completed_at", "expires_on", "pdf_sha256", "personal_digest", "issued_at")
#: Personal columns covered by the certificate's salted digest (the PDF enters as its sha256). The key
#: (certificate_id) is left out: the digest is made before the row has an id, and a row moved to another
#: certificate is caught anyway (its digest then matches neither).
CERTIFICATE_PERSONAL_FIELDS = ("holder_name",)
#: Revocation columns covered by its record hash.
REVOCATION_FIELDS = ("trust_id", "certificate_id", "actor_id", "personal_digest", "created_at")
#: Personal columns covered by the revocation's salted digest (the key is left out, as above).
REVOCATION_PERSONAL_FIELDS = ("reason",)

_FRESH = {"populate_existing": True}


def certificate_personal_digest(personal: CertificatePersonal) -> str:
    """The salted digest of a certificate's personal row: holder name and the PDF's sha256."""
    fields = {f: getattr(personal, f) for f in CERTIFICATE_PERSONAL_FIELDS}
    fields["pdf_sha256"] = hashlib.sha256(personal.pdf).hexdigest()
    return salted_hash(bytes.fromhex(personal.salt), fields)


def revocation_personal_digest(personal: CertificateRevocationPersonal) -> str:
    """The salted digest of a revocation's personal row (HR's reason)."""
    return salted_hash(bytes.fromhex(personal.salt), {f: getattr(personal, f) for f in REVOCATION_PERSONAL_FIELDS})


def certificate_hash(cert: Certificate) -> str:
    """The record hash of a certificate."""
    return record_hash({**{f: getattr(cert, f) for f in CERTIFICATE_FIELDS}, "hash_version": HASH_VERSION})


def revocation_hash(revocation: CertificateRevocation) -> str:
    """The record hash of a revocation."""
    return record_hash({**{f: getattr(revocation, f) for f in REVOCATION_FIELDS}, "hash_version": HASH_VERSION})


def _check_personal(table: str, record_id: int, personal, digest: str, recompute_digest) -> None:
    if personal is None:
        if entry_for(table, record_id, kind="erasure") is None:
            raise EvidenceProblem("the personal data row is missing and no erasure was recorded")
    elif recompute_digest(personal) != digest:
        raise EvidenceProblem("the personal data no longer matches its digest: it was altered")


def recompute_certificate(cert_id: int) -> str | None:
    """The hash the certificate has now, read fresh from the database; None if it is missing."""
    cert = db.session.scalar(select(Certificate).where(Certificate.id == cert_id).execution_options(**_FRESH))
    if cert is None:
        return None
    personal = db.session.scalar(select(CertificatePersonal).where(CertificatePersonal.certificate_id == cert_id)
                                 .execution_options(**_FRESH))
    _check_personal(CERTIFICATE_TABLE, cert_id, personal, cert.personal_digest, certificate_personal_digest)
    if personal is not None and hashlib.sha256(personal.pdf).hexdigest() != cert.pdf_sha256:
        raise EvidenceProblem("the stored PDF is not the one issued (sha256 differs)")
    return certificate_hash(cert)


def recompute_revocation(revocation_id: int) -> str | None:
    """The hash the revocation has now, read fresh from the database; None if it is missing."""
    revocation = db.session.scalar(select(CertificateRevocation).where(CertificateRevocation.id == revocation_id)
                                   .execution_options(**_FRESH))
    if revocation is None:
        return None
    personal = db.session.scalar(select(CertificateRevocationPersonal).where(
        CertificateRevocationPersonal.revocation_id == revocation_id).execution_options(**_FRESH))
    _check_personal(REVOCATION_TABLE, revocation_id, personal, revocation.personal_digest,
                    revocation_personal_digest)
    return revocation_hash(revocation)


def certificate_ids(trust_id: int) -> list[int]:
    """Every certificate of the trust (each must have a ledger entry)."""
    return list(db.session.scalars(select(Certificate.id).where(Certificate.trust_id == trust_id)))


def revocation_ids(trust_id: int) -> list[int]:
    """Every revocation of the trust (each must have a ledger entry)."""
    return list(db.session.scalars(select(CertificateRevocation.id).where(CertificateRevocation.trust_id == trust_id)))


register_evidence(CERTIFICATE_TABLE, recompute_certificate, ids=certificate_ids)
register_evidence(REVOCATION_TABLE, recompute_revocation, ids=revocation_ids)
