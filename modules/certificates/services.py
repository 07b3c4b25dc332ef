"""Certificate use-cases: issue (and renew), revoke, erase personal data. Add and flush; never commit."""

from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import select

from modules.attestation.models import ACKNOWLEDGED, Acknowledgement
from modules.certificates.codes import group_code, new_code
from modules.certificates.models import (
    Certificate,
    CertificatePersonal,
    CertificateRevocation,
    CertificateRevocationPersonal,
)
from modules.certificates.status import expiry_date
from modules.core.extensions import db
from modules.core.timeutil import format_date
from modules.evidence.ledger import lock_trust
from modules.evidence.records import erase, new_personal, personal_digest, record
from modules.notifications.services import london_date, queue_email
from modules.people.models import User
from modules.policies.models import PolicyVersion

#: Ledger entry kinds written here.
KIND_ISSUED, KIND_REVOKED = "certificate_issued", "certificate_revoked"
REASON_MAX = 500


class CertificateError(ValueError):
    """A certificate use-case was given something it cannot accept; the message is for the user."""


def issue_certificate(acknowledgement: Acknowledgement, *, now: datetime) -> Certificate:
    """Issue the certificate for an acknowledgement (idempotent) and ledger it, in the caller's transaction.

    The record holds what it certifies (holder, version, code, dates); its PDF is rendered after the commit
    (pdfs.py, started by hooks.py), never inside this transaction and the ledger lock it holds.
    If the holder already has a certificate, the new one renews their latest: the history is kept as a
    chain through `renews_id`, and the older certificates keep their own dates and status.
    """
    existing = db.session.scalar(select(Certificate).where(Certificate.acknowledgement_id == acknowledgement.id))
    if existing is not None:
        return existing
    if acknowledgement.decision != ACKNOWLEDGED:
        raise CertificateError("only an acknowledgement of the policy earns a certificate")
    user, version = acknowledgement.user, acknowledgement.version
    if not (user.trust_id == version.trust_id == acknowledgement.trust_id):
        raise CertificateError("the acknowledgement, its signer and its policy version are in different trusts")
    trust = user.trust
    lock_trust(trust.id)  # one chain, and one "latest certificate" to renew, per trust at a time
    previous = latest_certificate(user, version.series_id)
    completed_on = london_date(acknowledgement.created_at)
    expires_on = expiry_date(completed_on, trust.rules.certificate_validity_months)
    personal = new_personal(CertificatePersonal, holder_name=user.name)
    cert = Certificate(trust_id=trust.id, user_id=user.id, version_id=version.id,
                       acknowledgement_id=acknowledgement.id, renews_id=previous.id if previous else None,
                       code=new_code(), completed_at=acknowledgement.created_at, expires_on=expires_on,
                       personal_digest=personal_digest(personal), issued_at=now)
    db.session.add(cert)
    db.session.flush()
    personal.certificate_id = cert.id
    db.session.add(personal)
    db.session.flush()
    record(cert, kind=KIND_ISSUED, now=now)
    if has_app_context():
        # Remembered so the request renders the PDF once its response has gone out (hooks.py).
        g.setdefault("certificates_issued", set()).add(cert.id)
    return cert


def latest_certificate(user: User, series_id: int | None = None) -> Certificate | None:
    """The person's most recently issued certificate in their trust (of one policy series, if given), if any (by
    issue order, so the renewal chain stays a chain whatever the clocks said)."""
    query = select(Certificate).where(Certificate.user_id == user.id, Certificate.trust_id == user.trust_id)
    if series_id is not None:  # each policy has its own chain of certificates
        query = query.join(PolicyVersion, PolicyVersion.id == Certificate.version_id).where(
            PolicyVersion.series_id == series_id)
    return db.session.scalar(query.order_by(Certificate.id.desc()).limit(1))


def revoke_certificate(cert: Certificate, *, actor: User, reason: str, now: datetime) -> CertificateRevocation:
    """Revoke a certificate with a reason: a new append-only row and a ledger entry; the holder is told."""
    reason = (reason or "").strip()
    if actor.trust_id != cert.trust_id:
        raise CertificateError("you can only revoke certificates of your own trust")
    if not reason:
        raise CertificateError("Enter the reason for revoking the certificate")
    if len(reason) > REASON_MAX:
        raise CertificateError(f"The reason must be {REASON_MAX} characters or fewer")
    lock_trust(cert.trust_id)
    if db.session.scalar(select(CertificateRevocation.id).where(CertificateRevocation.certificate_id == cert.id)):
        raise CertificateError("This certificate has already been revoked")
    personal = new_personal(CertificateRevocationPersonal, reason=reason)
    revocation = CertificateRevocation(trust_id=cert.trust_id, certificate_id=cert.id, actor_id=actor.id,
                                       personal_digest=personal_digest(personal), created_at=now)
    db.session.add(revocation)
    db.session.flush()
    personal.revocation_id = revocation.id
    db.session.add(personal)
    db.session.flush()
    record(revocation, kind=KIND_REVOKED, now=now)
    db.session.expire(cert, ["revoked_at", "revocation"])
    holder = cert.user
    queue_email(recipient=holder.email, reason=f"certificate-revoked:{cert.id}", user=holder,
                trust_id=cert.trust_id, now=now,
                subject=f"Your certificate has been revoked: {cert.version.title}",
                body=(f"Dear {holder.name},\n\n"
                      f"Your certificate for {cert.version.title} ({cert.version.label}), verification code "
                      f"{group_code(cert.code)}, was revoked by {cert.trust.name} on {format_date(now)}.\n"
                      "It no longer shows as valid when checked. If you have questions, contact your HR team.\n\n"
                      "PolicyPass\n"))
    return revocation


def erase_personal_data(cert: Certificate, *, now: datetime) -> None:
    """Delete the holder's name and PDF (and any revocation reason) and record the erasure in the ledger.

    The evidence rows and their hashes stay, so the chain still verifies and an uploaded PDF can still be
    checked against the stored sha256. A PDF not rendered yet never will be: the name it would print is gone.
    """
    revocation, rendering = cert.revocation, cert.rendering
    erase(cert, now=now)
    if rendering is not None:
        erase(rendering, now=now)
    if revocation is not None:
        erase(revocation, now=now)
    db.session.expire(cert, ["personal", "revocation", "rendering"])
