"""Erasure and retention: every table referring to a person is handled; an erased person's subject-access export
holds no personal data and the ledger still verifies; legal holds refuse erasure, with the reason recorded."""

import io
import zipfile
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from modules.certificates.models import Certificate, CertificatePersonal
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.notifications.services import queue_email
from modules.operations import erasure
from modules.operations.models import Erasure, LegalHold
from modules.people.models import SecurityEvent, Trust, User
from modules.people.security import record_event
from modules.people.services import mark_left
from modules.tracking.jobs import run_daily
from tests.attestation.factories import acknowledge, demo_user

IP, AGENT = "192.0.2.7", "pytest-agent/1.0"  # what the acknowledgement factory records


def _tables_with_a_user_foreign_key() -> set[str]:
    inspector = sa_inspect(db.engine)
    return {name for name in inspector.get_table_names()
            if any(fk["referred_table"] == "user" for fk in inspector.get_foreign_keys(name))}


def test_the_plan_covers_every_table_referring_to_a_person(app):
    """A new table with a user reference fails here until PLAN says what erasure does to it."""
    assert _tables_with_a_user_foreign_key() | {"user"} == set(erasure.PLAN)


def _sar_text(app, email: str, tmp_path, name: str) -> str:
    out = tmp_path / f"{name}.zip"
    result = app.test_cli_runner().invoke(args=["sar", email, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        return "\n".join(archive.read(member).decode() for member in archive.namelist())


def _leaver_with_history(now):
    """A TKAT teacher who acknowledged (certificate issued), signed in, was emailed and then left."""
    person = demo_user("staff", "tkat")
    acknowledge(person, now)
    record_event("sign-in", now=now, actor=person, target_user=person).ip_address = "198.51.100.9"
    queue_email(recipient=person.email, reason="test-hello", user=person, trust_id=person.trust_id, now=now,
                subject=f"Hello {person.name}", body=f"Dear {person.name}, …")
    manager = demo_user("manager", "tkat")
    queue_email(recipient=manager.email, reason="test-about", user=manager, trust_id=manager.trust_id, now=now,
                subject="Overdue training", body=f"{person.name} <{person.email}> is overdue.")
    mark_left(person, on=now.date() - timedelta(days=10), now=now)
    db.session.commit()
    return person


def test_an_erased_leaver_has_no_personal_data_left_and_the_ledger_verifies(app, now, tmp_path, backend):
    person = _leaver_with_history(now)
    name, email, person_id = person.name, person.email, person.id
    before = _sar_text(app, email, tmp_path, "before")
    for secret in (name, email, IP, AGENT, "198.51.100.9"):
        assert secret in before, secret  # the export held them: the check below is not vacuous
    assert db.session.scalar(select(func.count()).select_from(CertificatePersonal).join(Certificate).where(
        Certificate.user_id == person_id)) == 1

    result = app.test_cli_runner().invoke(args=["erase", email, "--reason", f"Request from {name}, ref 42"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    erased = db.session.get(User, person_id)
    assert erased.email == f"erased-{person_id}@erased.invalid" and erased.name == f"Erased person {person_id}"
    assert erased.password_hash is None and erased.role_assignments == []

    after = _sar_text(app, erased.email, tmp_path, "after")
    for secret in (name, email, IP, AGENT, "198.51.100.9"):
        assert secret not in after, secret
    assert db.session.scalar(select(func.count()).select_from(CertificatePersonal).join(Certificate).where(
        Certificate.user_id == person_id)) == 0
    # A message to someone else that named them now names the pseudonym.
    from modules.notifications.models import OutboxMessage
    about = db.session.scalar(select(OutboxMessage).where(OutboxMessage.reason == "test-about"))
    assert name not in about.body and email not in about.body and erased.name in about.body
    done = db.session.scalar(select(Erasure).where(Erasure.user_id == person_id))
    assert done.basis == "request" and name not in done.reason and "ref 42" in done.reason
    report = verify_ledger()
    assert report.ok, report.problem

    again = app.test_cli_runner().invoke(args=["erase", erased.email, "--reason", "again"])
    assert again.exit_code == 2 and "already been erased" in again.output


def test_a_legal_hold_refuses_erasure_and_records_the_reason(app, now, backend):
    person = _leaver_with_history(now)
    email, name = person.email, person.name
    runner = app.test_cli_runner()
    placed = runner.invoke(args=["legal-hold", "place", email, "--reason", "Employment tribunal claim ET/123"])
    assert placed.exit_code == 0, placed.output
    refused = runner.invoke(args=["erase", email, "--reason", "Their request"])
    assert refused.exit_code == 3
    assert "legal hold" in refused.output and "Employment tribunal claim ET/123" in refused.output
    db.session.expire_all()
    kept = db.session.get(User, person.id)
    assert (kept.name, kept.email) == (name, email)
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "erasure",
                                                          SecurityEvent.outcome == "refused"))
    assert event.target_user_id == person.id
    assert event.details["hold_reason"] == "Employment tribunal claim ET/123"
    assert event.details["reason"] == "Their request"

    lifted = runner.invoke(args=["legal-hold", "lift", email, "--reason", "Claim settled"])
    assert lifted.exit_code == 0, lifted.output
    assert runner.invoke(args=["erase", email, "--reason", "Their request"]).exit_code == 0
    hold = db.session.scalar(select(LegalHold).where(LegalHold.user_id == person.id))
    assert hold.lifted_at is not None and hold.lift_reason == "Claim settled"
    assert verify_ledger().ok


def test_an_active_person_is_not_erased(app, now):
    person = demo_user("staff", "tkat")
    result = app.test_cli_runner().invoke(args=["erase", person.email, "--reason", "x"])
    assert result.exit_code == 2 and "still active" in result.output
    db.session.expire_all()
    assert db.session.get(User, person.id).email == person.email


def test_the_daily_run_erases_leavers_past_the_retention_period_unless_held(app, now, backend):
    tkat = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    months = tkat.rules.retention_months_after_leaving
    assert months == 72 and tkat.rules.source("retention_months_after_leaving") == ()  # a trust setting
    today = erasure.london_today(now)
    cutoff = erasure.retention_cutoff(tkat.rules, today)
    assert cutoff == date(today.year - 6, today.month, today.day)
    old, recent, held = demo_user("staff", "tkat"), demo_user("teacher", "tkat"), demo_user("manager", "tkat")
    mark_left(old, on=cutoff, now=now)
    mark_left(recent, on=cutoff + timedelta(days=1), now=now)
    mark_left(held, on=cutoff - timedelta(days=400), now=now)
    erasure.place_hold(held, actor=None, reason="Insurance claim", now=now)
    db.session.commit()
    ids = old.id, recent.id, held.id
    report = run_daily(now=now, slug="tkat")
    assert "tkat: 1 leaver(s) past the retention period erased" in report.lines
    assert "tkat: 1 leaver(s) past the retention period kept under a legal hold" in report.lines
    db.session.expire_all()
    assert db.session.get(User, ids[0]).email.endswith("@erased.invalid")
    assert not db.session.get(User, ids[1]).email.endswith("@erased.invalid")
    assert not db.session.get(User, ids[2]).email.endswith("@erased.invalid")
    refusal = db.session.scalar(select(SecurityEvent).where(SecurityEvent.outcome == "refused"))
    assert refusal.target_user_id == ids[2] and refusal.details["hold_reason"] == "Insurance claim"
    assert verify_ledger().ok
    # Run again: nothing more is erased.
    assert not any("erased" in line for line in run_daily(now=now, slug="tkat").lines)
