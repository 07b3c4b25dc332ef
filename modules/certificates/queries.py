"""Read-only certificate queries; every one that takes an id checks the trust (and the holder)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased, defer, joinedload, selectinload

from modules.certificates.codes import normalise_code
from modules.certificates.models import (
    Certificate,
    CertificatePersonal,
    CertificateRendering,
    CertificateRenderProblem,
    CertificateRevocation,
)
from modules.certificates.status import certificate_status, london_day, supersession_due, utc_midnight
from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion
from modules.policies.queries import superseding_version


@cache
def _later_version(purpose: str):
    # One alias of policy_version per purpose, made on first use and reused: a fresh aliased() on every call
    # built the alias's column collection anew (about a third of the HR overview's CPU). The same alias in
    # sibling EXISTS subqueries is still one table reference per subquery.
    return aliased(PolicyVersion, name=f"later_{purpose}")


def valid_at(now: datetime, grace_days: int, version):
    """SQL over Certificate (joined to its policy version as the alias `version`): valid at `now`.

    The SQL form of `status.certificate_status(cert, now) == VALID`, so lists can be counted and paged: not
    expired (its London expiry date is after today), not revoked by `now`, and no later version of its policy
    in force for `grace_days` or more. tests/certificates/test_validity_sql.py checks the two agree.
    """
    later = _later_version("valid")
    return and_(
        Certificate.expires_on > london_day(now),
        ~exists().where(CertificateRevocation.certificate_id == Certificate.id,
                        CertificateRevocation.created_at <= now),
        ~exists().where(later.series_id == version.series_id, later.number > version.number,
                        later.in_force_at.is_not(None), later.in_force_at <= now - timedelta(days=grace_days)))


def expiring_by(now: datetime, within_days: int, grace_days: int, version):
    """SQL over Certificate (joined to its policy version as `version`): it expires, or a later version
    supersedes it, within `within_days` London days of `now` (with `valid_at`, the SQL form of
    `status.is_expiring`: a supersession moment falls on or before London day D exactly when it is before
    the start of D + 1)."""
    last_day = london_day(now) + timedelta(days=within_days)
    later = _later_version("expiring")
    return or_(
        Certificate.expires_on <= last_day,
        exists().where(later.series_id == version.series_id, later.number > version.number,
                       later.in_force_at.is_not(None),
                       later.in_force_at < utc_midnight(last_day + timedelta(days=1)) - timedelta(days=grace_days)))


@dataclass
class CertificateRow:
    """A certificate with its status at the time asked (and, while valid, a supersession already due)."""

    certificate: Certificate
    status: str
    #: When a later version supersedes it, if that is due while it is still valid (status.supersession_due).
    superseded_at: datetime | None = None
    #: That later version.
    superseded_by: PolicyVersion | None = None
    #: Whether the holder has already completed that later version (a certificate for it or a newer one).
    holder_completed_it: bool = False


def standing(cert: Certificate, now: datetime) -> CertificateRow:
    """The certificate's status at `now`, with the supersession due (and by which version) while it is valid."""
    row = CertificateRow(cert, certificate_status(cert, now), supersession_due(cert, now))
    if row.superseded_at is not None:
        row.superseded_by = superseding_version(cert.version)
        if row.superseded_by is not None:
            row.holder_completed_it = db.session.scalar(select(exists().where(
                Certificate.user_id == cert.user_id, Certificate.version_id == PolicyVersion.id,
                PolicyVersion.series_id == cert.version.series_id,
                PolicyVersion.number >= row.superseded_by.number,
                Certificate.issued_at <= now)))
    return row


def _with_details(query):
    return query.options(selectinload(Certificate.version), selectinload(Certificate.personal),
                         selectinload(Certificate.trust),
                         selectinload(Certificate.rendering).selectinload(CertificateRendering.stored))


def of_acknowledgement(ack_id: int) -> Certificate | None:
    """The certificate issued for an acknowledgement (the caller has checked who may see the acknowledgement)."""
    return db.session.scalar(select(Certificate).where(Certificate.acknowledgement_id == ack_id))


def render_problems(certificate_ids) -> dict[int, CertificateRenderProblem]:
    """Failed renders of these certificates' PDFs (still failing: a successful render removes its row), by id."""
    ids = list(certificate_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(CertificateRenderProblem).where(CertificateRenderProblem.certificate_id.in_(ids)))
    return {row.certificate_id: row for row in rows}


def certificates_of(user: User, *, now: datetime) -> list[CertificateRow]:
    """The person's own certificates in their trust, newest first, with status at `now`."""
    certs = db.session.scalars(_with_details(select(Certificate)).where(
        Certificate.user_id == user.id, Certificate.trust_id == user.trust_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()))
    return [standing(c, now) for c in certs]


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
    return [standing(c, now) for c in certs]


def by_code(text: str | None) -> Certificate | None:
    """The certificate with this verification code (typed with or without separators), if any."""
    code = normalise_code(text)
    if code is None:
        return None
    return db.session.scalar(_by_code(), {"code": code})


@cache
def _by_code():
    # The public verify page's one read, built once: the certificate with its trust, version and holder's name in
    # one statement (joined, rather than a statement each), without the holder's PDF bytes it never shows; its
    # rendering (only the upload check reads it) loads when first read.
    return (select(Certificate).where(Certificate.code == bindparam("code"))
            .options(joinedload(Certificate.version), joinedload(Certificate.trust),
                     joinedload(Certificate.personal).options(defer(CertificatePersonal.pdf))))
