"""Factories for access tests: certificates issued the real way, accounts, requests walked through their chains."""

import secrets
from datetime import datetime

from sqlalchemy import select

from modules.access import queries, services
from modules.access.models import AccessRequest, OfficialAccount
from modules.assessments.models import QuizAttempt
from modules.attestation import services as attestation
from modules.attestation.statements import statements_for
from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.people.models import Academy, Trust, User
from modules.training.queries import current_version
from tests.conftest import NOW, demo_email

#: A platform every seed trust allows (TaSMAT forbids external platforms).
SCHOOL_SITE = "school_website"


def demo_user(local: str, slug: str) -> User:
    """A demo person by local part and trust slug."""
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def trust(slug: str) -> Trust:
    """A trust by slug."""
    return db.session.scalar(select(Trust).where(Trust.slug == slug))


def academy(slug: str, index: int = 0) -> Academy:
    """One of a trust's demo academies (0: North Park, 1: Riverside)."""
    return sorted(trust(slug).academies, key=lambda a: a.slug)[index] if index is not None else None


def certify(user: User, now: datetime = NOW) -> Certificate:
    """Pass and acknowledge the current policy version as the person; the signal issues the certificate."""
    version = current_version(user.trust_id)
    attempt = QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, finished_at=now, score=90,
                          passed=True, pass_mark=80)
    db.session.add(attempt)
    db.session.flush()
    keys = {s.key for s in statements_for(user.trust, version)}
    origin = attestation.Origin(method="password", authenticated_at=now, ip="192.0.2.1", user_agent="pytest")
    consent = True if any(s.is_consent for s in statements_for(user.trust, version)) else None  # its own decision
    ack = attestation.acknowledge(user, version, ticked=keys, typed_name=user.name,
                                  idempotency_key=secrets.token_urlsafe(32), origin=origin, now=now, consent=consent)
    return db.session.scalar(select(Certificate).where(Certificate.acknowledgement_id == ack.id))


def account(slug: str, *, index: int | None = 0, platform: str = SCHOOL_SITE, handle: str | None = None,
            status: str = "active", now: datetime = NOW) -> OfficialAccount:
    """An account registered by the trust's demo administrator (index None: the central team).

    An account of a trust with minimums cannot be registered as active with nobody on it (the gate is tested in
    test_minimums.py). Tests about something else start from an account that is already active, as if its team
    had been approved earlier: it is registered as proposed and its status set directly.
    """
    owner = academy(slug, index) if index is not None else None
    gated = status == "active" and any(trust(slug).rules.minimums.values())
    found = services.register_account(demo_user("admin", slug), platform=platform,
                                      handle=handle or f"{slug}-{owner.slug if owner else 'central'}-{platform}",
                                      academy=owner, purpose="News and celebrations for families",
                                      status="proposed" if gated else status, now=now)
    if gated:
        found.status = "active"
        db.session.flush()
    return found


def join(local: str, slug: str, acct: OfficialAccount, role: str = "administrator",
         now: datetime = NOW) -> AccessRequest:
    """A demo person asks to join an account."""
    return services.request_join(demo_user(local, slug), acct, role=role, reason="I post the weekly newsletter",
                                 now=now)


def approve_through(request: AccessRequest, now: datetime = NOW) -> list[User]:
    """Walk the request through its chain, each step decided by its first approver; returns the approvers."""
    deciders = []
    while request.status == "pending":
        step = queries.current_step(request)
        approver = queries.approvers_for(request, step)[0]
        if step.requires_training_discussed:
            services.record_training_discussed(approver, request.requester, idempotency_key=secrets.token_urlsafe(32),
                                               request=request, now=now)
        services.decide(approver, request, step=request.step, approve=True, comment="Fine by me", now=now)
        deciders.append(approver)
    return deciders


def granted(local: str, slug: str, acct: OfficialAccount, role: str = "administrator", now: datetime = NOW,
            certificate: bool = True):
    """A demo person certified, asking and approved: returns the grant."""
    person = demo_user(local, slug)
    if certificate:
        certify(person, now)
    request = join(local, slug, acct, role, now)
    approve_through(request, now)
    return request.grant


# ---- for the access matrix: the same rows whoever asks, made once per database -----------------------

MATRIX_REASON = "I post the weekly newsletter"


def matrix_account(slug: str) -> OfficialAccount:
    """An active account of the trust's first demo academy, registered once."""
    handle = f"@{slug}-northpark-news"
    found = db.session.scalar(select(OfficialAccount).join(Trust).where(Trust.slug == slug,
                                                                        OfficialAccount.handle == handle))
    if found is None:
        db.session.commit()  # begin a fresh (writing) transaction
        found = account(slug, handle=handle)
        db.session.commit()
    return found


def matrix_request(slug: str) -> AccessRequest:
    """The demo staff member's pending request to join the matrix account, made once."""
    acct = matrix_account(slug)
    found = db.session.scalar(select(AccessRequest).where(AccessRequest.account_id == acct.id,
                                                          AccessRequest.requester_id == demo_user("staff", slug).id))
    if found is None:
        db.session.commit()
        found = join("staff", slug, acct)
        db.session.commit()
    return found


def matrix_grant(slug: str):
    """The demo teacher's active grant on the matrix account, made once."""
    acct = matrix_account(slug)
    teacher = demo_user("teacher", slug)
    found = db.session.scalar(select(AccessRequest).where(AccessRequest.account_id == acct.id,
                                                          AccessRequest.requester_id == teacher.id))
    if found is None:
        db.session.commit()
        grant = granted("teacher", slug, acct)
        db.session.commit()
        return grant
    return found.grant


def make_evidence(now: datetime = NOW) -> None:
    """One row of every access evidence table (grant, removal, closure, lapse observation, training discussion), in TKAT.

    For generic evidence tests (tests/attestation/test_tamper.py): every column gets a non-null value somewhere.
    """
    acct = account("tkat", handle="@tkat-evidence", now=now)
    removed = granted("staff", "tkat", acct, now=now)
    granted("teacher", "tkat", acct, now=now)  # left to lapse: observed by the sweep below
    staff = demo_user("staff", "tkat")
    services.record_training_discussed(demo_user("manager", "tkat"), staff, idempotency_key=secrets.token_urlsafe(32),
                                       request=removed.request, now=now)
    services.revoke_grant(demo_user("comms", "tkat"), removed, reason="changed_role", now=now)
    services.set_account_status(demo_user("admin", "tkat"), account("tkat", handle="@tkat-closed", now=now), "closed",
                                now=now)
    services.sweep(now=now.replace(year=now.year + 2), trust=acct.trust)
