"""Assignments and deadlines: induction, refresh, the new-version hook, completion and leavers."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion
from modules.policies.services import create_version, publish_version
from modules.tracking import services
from modules.tracking.models import INDUCTION, NEW_VERSION, REFRESH, Assignment
from tests.tracking.factories import acknowledge, current, demo_user, history, trust


def _count(trust_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.trust_id == trust_id))


def test_everyone_active_gets_an_induction_once(app, now):
    """Each active person gets one induction; running again creates nothing."""
    tkat = trust()
    people = db.session.scalar(select(func.count()).select_from(User).where(User.trust_id == tkat.id))
    report = services.ensure_assignments(tkat, now=now)
    db.session.commit()
    assert report.created[INDUCTION] == people == _count(tkat.id)
    # Demo staff started on 1 September 2026: 30 days after has gone, so 30 days from today.
    assert current(demo_user("staff")).due_on == date(2026, 12, 21)
    assert services.ensure_assignments(tkat, now=now).total == 0
    assert _count(trust("e-act").id) == 0, "another trust is untouched"


def test_induction_days_are_per_trust(app, now):
    """A trust's induction_days rule sets the deadline for a recent starter."""
    tkat = trust()
    tkat.settings = {**tkat.settings, "induction_days": 10}
    staff = demo_user("staff")
    staff.start_date = date(2026, 11, 20)
    db.session.commit()
    services.ensure_assignments(tkat, now=now)
    assert current(staff).due_on == date(2026, 11, 30)


def test_one_current_assignment_per_person_is_enforced(app, now):
    """The database refuses a second current assignment for the same person."""
    services.ensure_assignments(trust(), now=now)
    db.session.commit()
    first = current(demo_user("staff"))
    db.session.add(Assignment(trust_id=first.trust_id, user_id=first.user_id, version_id=first.version_id,
                              kind=REFRESH, assigned_on=date(2026, 11, 21), due_on=date(2027, 1, 1),
                              is_current=True, created_at=now))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_acknowledgement_completes_the_current_assignment(app, now):
    """Acknowledging the policy completes the assignment in the same transaction."""
    services.ensure_assignments(trust(), now=now)
    db.session.commit()
    staff = demo_user("staff")
    ack = acknowledge(staff, now + timedelta(days=2))
    db.session.commit()
    done = current(staff)
    assert done.acknowledgement_id == ack.id and done.completed_at == ack.created_at
    assert done.status(date(2027, 6, 1)) == "complete"


def test_acknowledging_before_any_assignment_records_a_completed_induction(app, now):
    """Someone who finishes before assignments were made still has their completion on record."""
    staff = demo_user("staff")
    acknowledge(staff, now)
    db.session.commit()
    assert current(staff).kind == INDUCTION and current(staff).completed_at == now
    report = services.ensure_assignments(trust(), now=now)
    assert report.created[INDUCTION] == _count(trust().id) - 1


def test_rolling_refresh_opens_before_it_is_due(app, now):
    """The refresh falls due the day before the certificate expires; it is assigned 30 days before."""
    tkat = trust()
    staff = demo_user("staff")
    acknowledge(staff, now)
    db.session.commit()
    services.ensure_assignments(tkat, now=datetime(2027, 10, 20, 9))
    assert current(staff).kind == INDUCTION, "not yet open"
    services.ensure_assignments(tkat, now=datetime(2027, 10, 21, 9))
    db.session.commit()
    refresh = current(staff)
    assert refresh.kind == REFRESH and refresh.due_on == date(2027, 11, 20)
    assert refresh.status(date(2027, 11, 20)) == "due" and refresh.status(date(2027, 11, 21)) == "overdue"
    assert [a.kind for a in history(staff)] == [INDUCTION, REFRESH], "the completed induction is kept"


def test_refresh_is_completed_by_passing_and_acknowledging_again(app, now):
    """The refresh is on the same version: passing again opens a fresh acknowledgement, which completes it
    and renews the certificate; the first acknowledgement and certificate stay as they were."""
    from modules.certificates.models import Certificate

    staff = demo_user("staff")
    first = acknowledge(staff, now)
    db.session.commit()
    later = datetime(2027, 11, 1, 9)
    services.ensure_assignments(trust(), now=later)
    db.session.commit()
    refresh = current(staff)
    assert refresh.kind == REFRESH and refresh.completed_at is None
    second = acknowledge(staff, later)
    db.session.commit()
    assert second.id != first.id and second.created_at == later
    assert current(staff).id == refresh.id and refresh.completed_at == later
    assert refresh.acknowledgement_id == second.id
    certificates = list(db.session.scalars(select(Certificate).where(Certificate.user_id == staff.id)
                                           .order_by(Certificate.id)))
    assert len(certificates) == 2 and certificates[1].renews_id == certificates[0].id
    assert certificates[1].expires_on > certificates[0].expires_on


def test_window_refresh(app, now):
    """A trust with a fixed window refreshes everyone in it."""
    tkat = trust()
    tkat.settings = {**tkat.settings, "refresh": {"mode": "window", "month": 9, "day": 1, "days": 30}}
    staff = demo_user("staff")
    acknowledge(staff, now)
    db.session.commit()
    services.ensure_assignments(tkat, now=datetime(2027, 9, 1, 9))
    assert current(staff).kind == REFRESH and current(staff).due_on == date(2027, 10, 1)


def test_leaver_drops_out_and_keeps_history(app, now):
    """A leaver's open assignment is closed, never deleted, and no new one is made."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    staff = demo_user("staff")
    staff.active, staff.left_on = False, date(2026, 11, 22)
    services.close_for_leaver(staff, now=now)
    db.session.commit()
    closed = current(staff)
    assert closed.closed_reason == "left" and closed.status(date(2027, 1, 1)) == "closed"
    assert services.ensure_assignments(tkat, now=now + timedelta(days=400)).total == 0
    assert len(history(staff)) == 1


def _new_version(slug: str, now: datetime) -> PolicyVersion:
    tkat = trust(slug)
    old = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == tkat.id))
    raw = (old.source_text + "\n").encode()
    version = create_version(tkat, source_file="policies/changed.txt", raw=raw, now=now)
    publish_version(version, now=now)
    return version


def test_new_version_hook(app, now):
    """The versions feature's hook: everyone must train on the new version, by the trust's deadline."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    staff, head = demo_user("staff"), demo_user("head")
    acknowledge(head, now)
    db.session.commit()
    later = now + timedelta(days=3)
    version = _new_version("tkat", later)
    db.session.commit()
    # Publishing ran the hook (modules/tracking/versions.py connects it to version_published).
    created = db.session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.version_id == version.id, Assignment.kind == NEW_VERSION))
    assert created == _count(tkat.id) // 2
    assigned = current(staff)
    assert assigned.kind == NEW_VERSION and assigned.version_id == version.id
    # Publication + 30 days (24 December) is later than the open induction's 21 December, so it wins.
    assert assigned.due_on == date(2026, 12, 24)
    assert history(staff)[0].closed_reason == "replaced"
    assert history(head)[0].completed_at is not None, "the completed induction stays complete"
    assert services.assign_new_version(version, now=later).total == 0, "idempotent"
    # Acknowledging the old version would not complete it; acknowledging the new one does.
    acknowledge(staff, later)
    db.session.commit()
    assert current(staff).completed_at is not None


def test_demo_seed_assigns_inductions_from_the_demo_start_date(app, now):
    """`flask demo seed` gives the demo cast the induction they would have had on 1 September 2026, so HR's
    overdue list has people on it; seeding again creates nothing more."""
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    staff = demo_user("staff")
    induction = current(staff)
    assert induction.kind == INDUCTION and induction.assigned_on == date(2026, 9, 1)
    assert induction.due_on == date(2026, 10, 1) and induction.status(now.date()) == "overdue"
    count = _count(trust().id)
    assert count == 12
    app.test_cli_runner().invoke(args=["demo", "seed"])
    assert _count(trust().id) == count


def test_demo_seed_gives_each_trust_a_completed_teacher_with_an_approved_account(app, now):
    """Priya (teacher@) read, passed and acknowledged the current version on 15 September 2026, holds its
    certificate, and runs North Park's news page through her trust's own approval chain, with the others the
    trust's minimums need; once only."""
    from modules.access.models import AccessGrant
    from modules.access.status import grant_state
    from modules.attestation.models import ACKNOWLEDGED, CONSENT_GIVEN, Acknowledgement
    from modules.certificates.models import Certificate

    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    for slug in ("tkat", "e-act", "tasmat", "tsat", "agora"):
        teacher = demo_user("teacher", slug)
        decisions = db.session.scalars(select(Acknowledgement).where(Acknowledgement.user_id == teacher.id)).all()
        acks = [d for d in decisions if d.decision == ACKNOWLEDGED]
        assert len(acks) == 1 and acks[0].created_at == datetime(2026, 9, 15, 9), slug
        # E-ACT asks for monitoring consent as its own decision: in the demo Priya gives it, once.
        consents = [d.decision for d in decisions if d.decision != ACKNOWLEDGED]
        assert consents == ([CONSENT_GIVEN] if slug == "e-act" else []), slug
        assert db.session.scalar(select(func.count()).select_from(Certificate)
                                 .where(Certificate.user_id == teacher.id)) == 1
        assert current(teacher).completed_at == acks[0].created_at
        grants = db.session.scalars(select(AccessGrant).where(AccessGrant.user_id == teacher.id)).all()
        assert len(grants) == 1 and grant_state(grants[0], now).active, slug
        # The news page is active, so it meets the trust's minimums: E-ACT two administrative contacts (4.4.2),
        # TSAT two administrators and two moderators, four different people (A.5.4, Appendix 2).
        account = grants[0].account
        assert account.status == "active", slug
        team = {(g.user.email.split("@")[0], g.role) for g in db.session.scalars(
            select(AccessGrant).where(AccessGrant.account_id == account.id)) if grant_state(g, now).active}
        assert team == {"tsat": {("teacher", "administrator"), ("office", "administrator"),
                                 ("manager", "moderator"), ("staff2", "moderator")},
                        "e-act": {("teacher", "administrator"), ("office", "administrator")}}.get(
            slug, {("teacher", "administrator")}), slug
