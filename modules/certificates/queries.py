"""Read-only certificate queries; every one that takes an id checks the trust (and the holder)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from modules.certificates.codes import normalise_code
from modules.certificates.models import Certificate
from modules.certificates.status import certificate_status
from modules.core.extensions import db
from modules.people.models import User


@dataclass
class CertificateRow:
    """A certificate with its status at the time asked."""

    certificate: Certificate
    status: str


def _with_details(query):
    return query.options(selectinload(Certificate.version), selectinload(Certificate.personal),
                         selectinload(Certificate.trust))


def certificates_of(user: User, *, now: datetime) -> list[CertificateRow]:
    """The person's own certificates in their trust, newest first, with status at `now`."""
    certs = db.session.scalars(_with_details(select(Certificate)).where(
        Certificate.user_id == user.id, Certificate.trust_id == user.trust_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()))
    return [CertificateRow(c, certificate_status(c, now)) for c in certs]


def own_certificate(user: User, certificate_id: int) -> Certificate | None:
    """One of the person's own certificates; None for anyone else's (shown as 404)."""
    cert = db.session.get(Certificate, certificate_id)
    if cert is None or cert.user_id != user.id or cert.trust_id != user.trust_id:
        return None
    return cert


def _in_scope(cert: Certificate, user: User, capability: str) -> bool:
    if cert.trust_id != user.trust_id:
        return False
    scope = user.academy_scope(capability)
    return scope is None or cert.user.academy_id in scope


def managed_certificate(user: User, certificate_id: int, capability: str = "certificates:revoke") -> Certificate | None:
    """A certificate in the trust (and academies) where the person holds the capability; else None (404)."""
    cert = db.session.get(Certificate, certificate_id)
    if cert is None or not _in_scope(cert, user, capability):
        return None
    return cert


def managed_certificates(user: User, *, now: datetime, capability: str = "certificates:revoke",
                         limit: int = 200) -> list[CertificateRow]:
    """The certificates of the person's trust they may act on, newest first, with status at `now`."""
    query = _with_details(select(Certificate)).join(User, User.id == Certificate.user_id).where(
        Certificate.trust_id == user.trust_id)
    scope = user.academy_scope(capability)
    if scope is not None:
        query = query.where(User.academy_id.in_(scope))
    certs = db.session.scalars(query.options(selectinload(Certificate.user))
                               .order_by(Certificate.issued_at.desc(), Certificate.id.desc()).limit(limit))
    return [CertificateRow(c, certificate_status(c, now)) for c in certs]


def by_code(text: str | None) -> Certificate | None:
    """The certificate with this verification code (typed with or without separators), if any."""
    code = normalise_code(text)
    if code is None:
        return None
    return db.session.scalar(_with_details(select(Certificate)).where(Certificate.code == code))
