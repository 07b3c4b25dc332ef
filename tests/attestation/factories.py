"""Factories for attestation tests: demo people with passed attempts, origins, submissions."""

import secrets
from datetime import datetime

from sqlalchemy import select

from modules.assessments.models import QuizAttempt
from modules.attestation import services
from modules.attestation.statements import statements_for
from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion
from modules.training.queries import current_version
from tests.conftest import NOW, demo_email


def demo_user(local: str, slug: str) -> User:
    """A demo person by local part and trust slug."""
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def passed_attempt(user: User, version: PolicyVersion | None = None, now: datetime = NOW,
                   score: int = 90) -> QuizAttempt:
    """A finished, passed attempt on the version (made directly: grading is tested elsewhere); flushed."""
    version = version or current_version(user.trust_id)
    attempt = QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, finished_at=now, score=score,
                          passed=True, pass_mark=80)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def origin(now: datetime = NOW) -> services.Origin:
    """A signed-in origin as the views build it."""
    return services.Origin(method="password", authenticated_at=now, ip="192.0.2.7", user_agent="pytest-agent/1.0")


def key() -> str:
    """A fresh idempotency key."""
    return secrets.token_urlsafe(32)


#: `consent` default of acknowledge(): give consent where the trust asks for it, else leave the question out.
AUTO = object()


def acknowledge(user: User, now: datetime = NOW, *, attempt: bool = True, idempotency_key: str | None = None,
                consent=AUTO):
    """The person (with a passed attempt) ticks everything and signs with their own name; where the trust
    asks for monitoring consent they answer `consent` (by default, yes)."""
    version = current_version(user.trust_id)
    if attempt:
        passed_attempt(user, version, now)
    statements = statements_for(user.trust, version)
    keys = {s.key for s in statements if not s.is_consent}
    if consent is AUTO:
        consent = True if any(s.is_consent for s in statements) else None
    return services.acknowledge(user, version, ticked=keys, typed_name=user.name,
                                idempotency_key=idempotency_key or key(), origin=origin(now), now=now,
                                consent=consent)


def acknowledgement_id(slug: str, local: str = "staff", now: datetime = NOW) -> int:
    """The id of a demo person's acknowledgement (made once per database, committed): for URLs in tests."""
    from modules.attestation.models import Acknowledgement

    db.session.commit()  # end any read transaction, so this one begins as a writer
    user = demo_user(local, slug)
    found = db.session.scalar(select(Acknowledgement.id).where(Acknowledgement.user_id == user.id))
    if found is None:
        found = acknowledge(user, now).id
        db.session.commit()
    return found
