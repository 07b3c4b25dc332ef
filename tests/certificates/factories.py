"""Factories for certificate tests: a real acknowledgement (through attestation's service) issues one."""

import secrets
from datetime import datetime

from sqlalchemy import select

from modules.assessments.models import QuizAttempt
from modules.attestation import services as attestation
from modules.attestation.models import Acknowledgement
from modules.attestation.statements import statements_for
from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion
from modules.policies.services import create_version, publish_version
from modules.training.queries import current_version
from tests.conftest import NOW, demo_email


def demo_user(local: str, slug: str) -> User:
    """A demo person by local part and trust slug."""
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def passed_attempt(user: User, version: PolicyVersion, now: datetime = NOW) -> QuizAttempt:
    """A finished, passed attempt on the version (made directly: grading is tested elsewhere)."""
    attempt = QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, finished_at=now, score=90,
                          passed=True, pass_mark=80)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def acknowledge(user: User, now: datetime = NOW, version: PolicyVersion | None = None) -> Acknowledgement:
    """The person passes and acknowledges their trust's current version; the signal issues a certificate."""
    version = version or current_version(user.trust_id)
    passed_attempt(user, version, now)
    keys = [s.key for s in statements_for(user.trust, version)]
    origin = attestation.Origin(method="password", authenticated_at=now, ip="127.0.0.1", user_agent="pytest")
    consent = True if any(s.is_consent for s in statements_for(user.trust, version)) else None  # its own decision
    return attestation.acknowledge(user, version, ticked=keys, typed_name=user.name,
                                   idempotency_key=secrets.token_hex(16), origin=origin, now=now, consent=consent)


def issue(local: str = "staff", slug: str = "tkat", now: datetime = NOW,
          version: PolicyVersion | None = None) -> Certificate:
    """A certificate for a demo person, issued the real way and committed, then its PDF rendered (as a request's
    hook does after the response)."""
    from modules.certificates.pdfs import render_certificates

    db.session.commit()  # end any stale read transaction, so this one can write (SQLite, deferred in tests)
    ack = acknowledge(demo_user(local, slug), now, version)
    db.session.commit()
    cert_id = db.session.scalar(select(Certificate.id).where(Certificate.acknowledgement_id == ack.id))
    assert render_certificates([cert_id], now=now).outcomes == {cert_id: "rendered"}
    return db.session.get(Certificate, cert_id)


def certificate_of(local: str, slug: str) -> Certificate:
    """The demo person's latest certificate, issued the real way if they have none yet."""
    db.session.commit()  # as in issue(): start afresh
    user = demo_user(local, slug)
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == user.id)
                             .order_by(Certificate.id.desc()).limit(1))
    return cert or issue(local, slug)


def publish_next_version(trust_id: int, when: datetime) -> PolicyVersion:
    """Publish a changed copy of the trust's current policy as its next version (and commit)."""
    from modules.people.models import Trust

    trust = db.session.get(Trust, trust_id)
    current = current_version(trust_id)
    version = create_version(trust, source_file=current.source_file, raw=(current.source_text + "\n").encode(),
                             now=when)
    publish_version(version, now=when)
    db.session.commit()
    return version


def make_evidence(now: datetime = NOW) -> None:
    """A row of every certificate evidence table with every column set somewhere, in TSAT: a certificate,
    its renewal on the next version (renews_id), and a revocation with its reason.

    For generic evidence tests (tests/attestation/test_tamper.py).
    """
    from modules.certificates.services import revoke_certificate

    first = issue("staff", "tsat", now)
    version = publish_next_version(first.trust_id, now)
    renewal = issue("staff", "tsat", now, version=version)
    assert renewal.renews_id == first.id
    revoke_certificate(first, actor=demo_user("hr", "tsat"), reason="Issued in error (evidence factory)", now=now)
    db.session.commit()
