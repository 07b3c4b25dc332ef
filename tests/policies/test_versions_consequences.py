"""What publishing E-ACT's seed over the demo version means: the re-training scope (by count) and the lapse
of old certificates after the grace period, at explicit times."""

from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import func, select

from modules.assessments.versions import live_questions, what_changed_questions
from modules.attestation.models import Acknowledgement
from modules.certificates.models import Certificate
from modules.certificates.status import certificate_status
from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.people.models import Trust, User
from modules.policies import queries
from modules.policies.services import london_date, publish_draft
from modules.training.models import ModuleProgress
from tests.certificates.factories import issue

ROOT = Path(__file__).resolve().parents[2]


def _e_act():
    trust = db.session.scalar(select(Trust).where(Trust.slug == "e-act"))
    demo, seed = sorted(queries.versions_of(trust.id), key=lambda v: v.number)
    return trust, demo, seed


def _bank_keys_citing(refs: set[str]) -> set[str]:
    bank = yaml.safe_load((ROOT / "quizzes/e-act.yaml").read_text(encoding="utf-8"))
    return {q["id"] for q in bank["questions"] if refs.intersection(str(c) for c in q["clauses"])}


def test_the_demo_retrains_holders_on_exactly_one_module_and_only_the_questions_on_the_changes(app, now):
    """Publishing E-ACT's seed (the live path, tracking.versions): a holder of version 1 has module 5 left to
    read and is quizzed on the bank's one question on 5.5, not the one on 5.6 (renumbered, same words); a
    newcomer reads all nine modules and draws from every drawable question."""
    from modules.assessments.services import start_attempt
    from modules.tracking.versions import modules_left
    from modules.training.services import mark_read
    from tests.certificates.factories import demo_user

    _trust, demo, seed = _e_act()
    staff = _complete("staff", demo, now)
    teacher = demo_user("teacher", "e-act")
    published = now + timedelta(days=1)
    publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()

    assert [s.number for s in modules_left(staff.id, seed)] == ["5"]
    assert len(modules_left(teacher.id, seed)) == len(seed.sections) == 9
    on_changes = what_changed_questions(seed, queries.comparison(demo, seed))
    assert {q.key for q in on_changes} == _bank_keys_citing({"5.5", "5.5.1"}) and len(on_changes) == 1
    assert not {q.key for q in on_changes} & _bank_keys_citing({"5.6"})

    for section in seed.sections:
        mark_read(staff, section, now=published)
        mark_read(teacher, section, now=published)
    holder = start_attempt(staff, seed, now=published)
    assert holder.scope == "changes" and [i.question.key for i in holder.items] == [q.key for q in on_changes]
    newcomer = start_attempt(teacher, seed, now=published)
    drawable = {q.key for q in live_questions(seed) if q.drawable}
    assert newcomer.scope == "full" and {i.question.key for i in newcomer.items} <= drawable
    assert len(newcomer.items) > len(holder.items)


def test_old_certificates_are_superseded_only_after_the_grace_period(app, now):
    trust, demo, seed = _e_act()
    cert = issue("staff", "e-act", now, version=demo)
    acks_before = db.session.scalar(select(func.count()).select_from(Acknowledgement))
    published = now + timedelta(days=10)
    assert publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()
    db.session.expire_all()
    cert = db.session.get(Certificate, cert.id)
    grace = trust.rules.supersede_grace_days
    assert cert.superseded_since == published and grace == 30
    assert certificate_status(cert, published) == "valid"
    assert certificate_status(cert, published + timedelta(days=grace) - timedelta(seconds=1)) == "valid"
    assert certificate_status(cert, published + timedelta(days=grace)) == "superseded"
    # The old acknowledgement stays as it was: it is evidence.
    assert db.session.scalar(select(func.count()).select_from(Acknowledgement)) == acks_before
    ack = db.session.get(Acknowledgement, cert.acknowledgement_id)
    assert ack.version_id == demo.id


def test_a_register_grant_lapses_only_after_the_grace_period_if_nothing_is_done(app, now):
    from modules.access import status as access_status
    from tests.access.factories import account, granted

    _trust, _demo, seed = _e_act()
    grant = granted("staff", "e-act", account("e-act", now=now), now=now)
    db.session.commit()
    published = now + timedelta(days=3)
    publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()
    db.session.expire_all()
    grant = db.session.get(type(grant), grant.id)
    lapse = published + timedelta(days=30)
    # Publishing warned the grantee and the people who approved them, with the date, before the lapse.
    warnings = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.reason == f"access-lapse-warning:{grant.id}:{seed.id}")).all()
    approvers = {db.session.get(User, i).email for i in grant.approver_id_list}
    assert {m.recipient for m in warnings} == {grant.user.email} | approvers and len(approvers) == 2
    assert all(london_date(lapse).strftime("%-d %B %Y") in m.subject for m in warnings)
    assert access_status.foreseeable_end(grant, published) == lapse
    assert access_status.grant_state(grant, lapse - timedelta(seconds=1)).status == access_status.ACTIVE
    state = access_status.grant_state(grant, lapse)
    assert (state.status, state.reason) == (access_status.LAPSED, "superseded")
    # The register says so while it is still active, and names the reason once it has lapsed.
    from modules.access.exports import reason_text
    from modules.access.queries import register_rows

    [before] = register_rows(grant.user.trust, published + timedelta(days=1))
    assert before.state.active and reason_text(before) == (
        f"Certificate valid — superseded on {london_date(lapse).strftime('%-d %B %Y')} unless {grant.user.name} "
        f"completes {seed.label}: access lapses then")
    [after] = register_rows(grant.user.trust, lapse)
    assert reason_text(after).startswith("Certificate superseded by a new policy version")


def test_retraining_within_the_grace_period_keeps_the_grant(app, now):
    """Sam completes version 2 within the grace period: the grant stands on the renewal and does not lapse."""
    from modules.access import status as access_status
    from modules.access.queries import register_rows
    from tests.access.factories import account, granted

    _trust, _demo, seed = _e_act()
    grant = granted("staff", "e-act", account("e-act", now=now), now=now)
    db.session.commit()
    published = now + timedelta(days=3)
    publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()
    issue("staff", "e-act", published + timedelta(days=5), version=seed)
    db.session.expire_all()
    grant = db.session.get(type(grant), grant.id)
    later = published + timedelta(days=60)
    assert access_status.grant_state(grant, later).active
    [row] = register_rows(grant.user.trust, later)
    assert row.state.active and row.lapses_at is None and row.certificate.version_id == seed.id


def _complete(local: str, version, now):
    """The demo person reads every module of the version, passes and acknowledges it (the real way)."""
    from modules.training.services import mark_read
    from tests.certificates.factories import demo_user

    person = demo_user(local, "e-act")
    for section in version.sections:
        mark_read(person, section, now=now)
    issue(local, "e-act", now, version=version)
    return person


def test_publishing_gives_holders_one_module_to_read_and_newcomers_the_whole_version(app, now):
    from modules.tracking.models import NEW_VERSION, Assignment
    from modules.tracking.versions import modules_left
    from tests.certificates.factories import acknowledge, demo_user

    _trust, demo, seed = _e_act()
    staff = _complete("staff", demo, now)
    teacher = demo_user("teacher", "e-act")
    published = now + timedelta(days=1)
    publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()

    def current(person):
        return db.session.scalar(select(Assignment).where(Assignment.user_id == person.id,
                                                          Assignment.is_current.is_(True)))

    for person in (staff, teacher):
        assignment = current(person)
        assert (assignment.kind, assignment.version_id, assignment.completed_at) == (NEW_VERSION, seed.id, None)
    # Unchanged modules keep their credit: exactly one module (5) is left for the holder; all nine otherwise.
    assert [s.number for s in modules_left(staff.id, seed)] == ["5"]
    assert len(modules_left(teacher.id, seed)) == len(seed.sections) == 9
    credited = db.session.scalars(select(ModuleProgress).where(ModuleProgress.user_id == staff.id,
                                                               ModuleProgress.section_id.in_(
                                                                   [s.id for s in seed.sections]))).all()
    assert len(credited) == 8 and {p.read_at for p in credited} == {now}  # when they really read them

    # Publishing again creates nothing new.
    counts = (db.session.scalar(select(func.count()).select_from(Assignment)),
              db.session.scalar(select(func.count()).select_from(ModuleProgress)))
    assert publish_draft(seed, effective_on=london_date(published), now=published + timedelta(hours=1)) is False
    db.session.commit()
    assert (db.session.scalar(select(func.count()).select_from(Assignment)),
            db.session.scalar(select(func.count()).select_from(ModuleProgress))) == counts

    # Acknowledging the new version completes the assignment; the old acknowledgement is still there.
    acknowledge(staff, published + timedelta(days=2), version=seed)
    db.session.commit()
    assert current(staff).completed_at == published + timedelta(days=2)
    assert db.session.scalar(select(func.count()).select_from(Acknowledgement)  # consent decisions are their own rows
                             .where(Acknowledgement.user_id == staff.id, Acknowledgement.decision == "acknowledged")) == 2


def test_the_holders_quiz_asks_only_about_the_changes_and_a_newcomers_asks_everything(app, now):
    """Publishing records the holder's quiz scope: their attempt draws exactly the question on 5.5; someone who
    never completed version 1 draws the trust's full quiz. Publishing again records nothing more."""
    from modules.assessments.models import QuizScope
    from modules.assessments.services import start_attempt
    from modules.tracking.versions import on_version_published
    from modules.training.services import mark_read
    from tests.certificates.factories import demo_user

    trust, demo, seed = _e_act()
    staff = _complete("staff", demo, now)
    teacher = demo_user("teacher", "e-act")
    published = now + timedelta(days=1)
    publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(QuizScope)) == 1
    on_version_published(seed, now=published)  # the hook run twice records nothing more
    assert db.session.scalar(select(func.count()).select_from(QuizScope)) == 1

    for section in seed.sections:
        mark_read(staff, section, now=published)
        mark_read(teacher, section, now=published)
    holder = start_attempt(staff, seed, now=published)
    assert holder.scope == "changes" and len(holder.items) == 1
    assert {q for item in holder.items for q in item.question.clause_refs} & {"5.5", "5.5.1"}
    newcomer = start_attempt(teacher, seed, now=published)
    assert newcomer.scope == "full" and len(newcomer.items) == trust.rules.quiz_questions == 10


def test_a_future_effective_date_starts_the_grace_period_and_the_deadline_from_that_date(app, now):
    """Published today, effective in 60 days: version 1 certificates stay valid until 30 days after the
    effective date, and the new-version assignment falls due counting from it."""
    from datetime import date, datetime

    from modules.tracking.models import Assignment

    trust, demo, seed = _e_act()
    cert = issue("staff", "e-act", now, version=demo)
    effective_on = london_date(now) + timedelta(days=60)
    assert publish_draft(seed, effective_on=effective_on, now=now)
    db.session.commit()
    db.session.expire_all()
    starts = datetime.combine(effective_on, datetime.min.time())  # GMT in January: London midnight is UTC
    assert seed.in_force_at == starts and seed.published_at == now
    cert = db.session.get(Certificate, cert.id)
    assert cert.superseded_since == starts
    assert certificate_status(cert, starts + timedelta(days=29)) == "valid"
    assert certificate_status(cert, starts + timedelta(days=30)) == "superseded"
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == cert.user_id,
                                                            Assignment.is_current.is_(True)))
    days = trust.rules.new_version_due_days
    assert assignment.due_on == effective_on + timedelta(days=days) > date(2027, 1, 1)


def test_someone_whose_certificate_had_lapsed_retrains_on_the_whole_version(app, now):
    """Acknowledged version 1 long ago and let the certificate expire: no credit, no changes-only quiz."""
    from modules.assessments.models import QuizScope
    from modules.tracking.versions import modules_left

    _trust, demo, seed = _e_act()
    lapsed = _complete("teacher", demo, now - timedelta(days=800))
    current = _complete("staff", demo, now)
    publish_draft(seed, effective_on=london_date(now), now=now)
    db.session.commit()
    scoped = set(db.session.scalars(select(QuizScope.user_id).where(QuizScope.version_id == seed.id)))
    assert scoped == {current.id}
    assert len(modules_left(lapsed.id, seed)) == 9 and len(modules_left(current.id, seed)) == 1
