"""Read-only certificate queries; every one that takes an id checks the trust (and the holder)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased, selectinload

from modules.certificates.codes import normalise_code
from modules.certificates.models import Certificate, CertificateRevocation
from modules.certificates.status import certificate_status, london_day
from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion


def valid_at(now: datetime, grace_days: int, version):
    """SQL over Certificate (joined to its policy version as the alias `version`): valid at `now`.

    The SQL form of `status.certificate_status(cert, now) == VALID`, so lists can be counted and paged: not
    expired (its London expiry date is after today), not revoked by `now`, and no later version of its policy
    in force for `grace_days` or more. tests/certificates/test_validity_sql.py checks the two agree.
    """
    later = aliased(PolicyVersion)
    return and_(
        Certificate.expires_on > london_day(now),
        ~exists().where(CertificateRevocation.certificate_id == Certificate.id,
                        CertificateRevocation.created_at <= now),
        ~exists().where(later.trust_id == version.trust_id, later.number > version.number,
                        later.in_force_at.is_not(None), later.in_force_at <= now - timedelta(days=grace_days)))


def expiring_by(now: datetime, within_days: int):
    """SQL over Certificate: it expires within `within_days` London days of `now` (with `valid_at`, the SQL
    form of `status.is_expiring`)."""
    return Certificate.expires_on <= london_day(now) + timedelta(days=within_days)


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
