"""The demo's history (`flask demo seed` only): in every trust, Priya Shah (teacher@) completed the current
policy on 15 September 2026 and runs North Park Academy's news page as its administrator, approved through
the trust's own chain. Where the trust's rules set minimums (E-ACT's two administrative contacts, TSAT's two
administrators and two moderators), as many more of the cast as the minimums need (Tom Reid, Martin Lowe,
Jack Wilson, in that order; one person counts once) completed the training too and were approved alongside
her, so the page can be active. So HR's dashboards show a completion, the register authorised users, and
publishing a new version (E-ACT's version 2) a real one-module re-training and a warned lapse. Everything is
done through the services a person would use (the account becomes active only once its minimums are met);
running it again changes nothing.
"""

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from demo.cast import demo_email
from modules.access import queries as access_queries
from modules.access import services as access
from modules.access.models import OfficialAccount
from modules.assessments.services import start_attempt, submit_attempt
from modules.attestation import services as attestation
from modules.attestation.models import Acknowledgement
from modules.attestation.statements import statements_for
from modules.core.extensions import db
from modules.people.models import Academy, Trust, User
from modules.training.queries import current_version
from modules.training.services import mark_read

#: Who completed the training in the demo, and when (days after the demo start).
COMPLETER, COMPLETED_AFTER = "teacher", timedelta(days=14)
#: Who else joins the news page when the trust's minimums need more people, in order.
TEAM = ("office", "manager", "staff2")
NEWS_PLATFORM, NEWS_HANDLE = "school_website", "northpark.example.sch.uk/news"


def _person(trust: Trust, local: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == demo_email(local, trust)))


def complete_training(user: User, *, now: datetime) -> Acknowledgement | None:
    """Read every module, pass the quiz and acknowledge the current version as the person (once)."""
    if db.session.scalar(select(Acknowledgement.id).where(Acknowledgement.user_id == user.id).limit(1)):
        return None
    version = current_version(user.trust_id)
    if version is None:
        return None
    for section in version.sections:
        mark_read(user, section, now=now)
    attempt = start_attempt(user, version, now=now, rng=random.Random(user.id))
    submit_attempt(attempt, [list(item.question.correct) for item in attempt.items], now=now)
    statements = statements_for(user.trust, version)
    keys = {s.key for s in statements if not s.is_consent}
    # Where the trust asks for monitoring consent, it is its own decision: in the demo, each completer gives it.
    consent = True if any(s.is_consent for s in statements) else None
    origin = attestation.Origin(method="password", authenticated_at=now, ip=None, user_agent="flask demo seed")
    return attestation.acknowledge(user, version, ticked=keys, typed_name=user.name,
                                   idempotency_key=secrets.token_urlsafe(32), origin=origin, now=now,
                                   consent=consent)


def approved_news_page(trust: Trust, user: User, *, now: datetime) -> None:
    """Register North Park's news page (if the trust allows it) as proposed, walk the person's request (and the
    requests of the others its minimums need) through the trust's approval chain, each step decided by its
    first approver, then mark it active."""
    academy = db.session.scalar(select(Academy).where(Academy.trust_id == trust.id).order_by(Academy.id))
    admin = _person(trust, "admin")
    if academy is None or admin is None:
        return
    account = db.session.scalar(select(OfficialAccount).where(OfficialAccount.trust_id == trust.id,
                                                              OfficialAccount.handle == NEWS_HANDLE))
    if account is not None:
        return
    try:
        with db.session.begin_nested():  # all or nothing
            _register_and_approve(admin, academy, user, now)
    except (access.AccessError, IndexError, ValueError):
        return  # a trust whose rules refuse this (or with nobody to approve) simply has no demo account


def team_roles(trust: Trust) -> list[str]:
    """The account roles the news page needs, one per person: the completer first as administrator, then as
    many more administrators and moderators as the trust's minimums ask for (one person counts once)."""
    minimums = trust.rules.minimums
    return (["administrator"] * max(1, minimums.get("administrator", 0))
            + ["moderator"] * minimums.get("moderator", 0))


def _register_and_approve(admin: User, academy: Academy, user: User, now: datetime) -> None:
    account = access.register_account(admin, platform=NEWS_PLATFORM, handle=NEWS_HANDLE, academy=academy,
                                      purpose="News and celebrations for families", status="proposed", now=now)
    roles = team_roles(user.trust)
    people = [user] + [_person(user.trust, local) for local in TEAM[:len(roles) - 1]]
    for person, role in zip(people, roles, strict=True):
        if person is not user:
            complete_training(person, now=now)
        _approve(access.request_join(person, account, role=role, reason="I write the weekly news page",
                                     now=now), now)
    access.set_account_status(admin, account, "active", now=now)  # refused unless the minimums are met


def _approve(request, now: datetime) -> None:
    user = request.requester
    while request.status == "pending":
        step = access_queries.current_step(request)
        approver = access_queries.approvers_for(request, step)[0]
        if step.requires_training_discussed:
            access.record_training_discussed(approver, user, idempotency_key=secrets.token_urlsafe(32),
                                             request=request, now=now)
        access.decide(approver, request, step=request.step, approve=True, comment="Approved (demo)", now=now)


def seed_history(trust: Trust, *, as_of: datetime) -> None:
    """The demo completer's training, certificate and approved account, dated after the demo start."""
    user = _person(trust, COMPLETER)
    if user is None:
        return
    when = as_of + COMPLETED_AFTER
    if complete_training(user, now=when) is not None:
        approved_news_page(trust, user, now=when + timedelta(hours=2))
