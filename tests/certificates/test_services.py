"""Issuing (through the acknowledgement signal), storage, ledger, revocation, renewal and erasure."""

import hashlib
import io
from datetime import timedelta

import pypdf
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from modules.certificates import services
from modules.certificates.codes import group_code
from modules.certificates.models import (
    Certificate,
    CertificatePersonal,
    CertificateRevocation,
    CertificateRevocationPersonal,
)
from modules.certificates.status import certificate_status
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.evidence.models import LedgerEntry
from modules.notifications.models import OutboxMessage
from tests.certificates.factories import acknowledge, demo_user, issue, publish_next_version


def ledger_kinds(trust_id: int) -> list[tuple[str, str]]:
    return [(e.kind, e.record_table) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.trust_id == trust_id).order_by(LedgerEntry.seq))]


def test_acknowledging_issues_a_stored_certificate_in_the_same_transaction(app, now):
    user = demo_user("staff", "tkat")
    ack = acknowledge(user, now)
    cert = db.session.scalar(select(Certificate).where(Certificate.acknowledgement_id == ack.id))
    assert cert is not None, "the acknowledged signal issues the certificate before the commit"
    db.session.rollback()
    assert db.session.scalar(select(sa.func.count()).select_from(Certificate)) == 0, "and rolls back with it"

    cert = issue("staff", "tkat", now)
    assert (cert.user_id, cert.trust_id, cert.version.trust_id) == (user.id, user.trust_id, user.trust_id)
    assert cert.completed_at == now and cert.issued_at == now
    assert cert.expires_on.isoformat() == "2027-11-21"   # 12 months (the default certificate_validity_months)
    assert len(cert.code) == 32
    assert cert.personal.holder_name == "Sam Taylor"
    assert hashlib.sha256(cert.pdf_bytes).hexdigest() == cert.issued_sha256
    text = " ".join(pypdf.PdfReader(io.BytesIO(cert.pdf_bytes)).pages[0].extract_text().split())
    for expected in ("Sam Taylor", "The Kemnal Academies Trust", "North Park Academy", cert.version.title,
                     "Version 1", "21 November 2026", "21 November 2027", group_code(cert.code),
                     f"/verify/{cert.code}"):
        assert expected in text, expected
    assert certificate_status(cert, now) == "valid"


def test_issue_is_ledgered_and_the_chain_verifies(app, now):
    cert = issue("staff", "tkat", now)
    # The passed quiz attempt the acknowledgement rests on is sealed first (issue 13 point 8).
    assert ledger_kinds(cert.trust_id) == [("quiz_attempt", "quiz_attempt"), ("acknowledgement", "acknowledgement"),
                                           ("certificate_issued", "certificate"),
                                           ("certificate_rendered", "certificate_rendering")]
    assert verify_ledger(cert.trust_id).ok


def test_issue_is_idempotent_per_acknowledgement(app, now):
    cert = issue("staff", "tkat", now)
    assert services.issue_certificate(cert.acknowledgement, now=now + timedelta(hours=1)).id == cert.id
    assert db.session.scalar(select(sa.func.count()).select_from(Certificate)) == 1


def test_validity_follows_the_trust_rule(app, now):
    user = demo_user("staff", "e-act")
    user.trust.settings = {**user.trust.settings, "certificate_validity_months": 24}
    db.session.commit()
    assert issue("staff", "e-act", now).expires_on.isoformat() == "2028-11-21"


def test_certificate_is_emailed_to_the_holder_through_the_outbox(app, now):
    cert = issue("staff", "tkat", now)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.reason == f"certificate-issued:{cert.id}"))
    assert (message.recipient, message.user_id, message.status) == (cert.user.email, cert.user_id, "pending")
    assert group_code(cert.code) in message.body and f"/verify/{cert.code}" in message.body
    [attachment] = message.attachments
    assert (attachment.content_type, attachment.data) == ("application/pdf", cert.pdf_bytes)


def test_revocation_is_a_new_append_only_row_and_a_ledger_event(app, now):
    cert = issue("staff", "tkat", now)
    hr = demo_user("hr", "tkat")
    later = now + timedelta(days=10)
    revocation = services.revoke_certificate(cert, actor=hr, reason="Issued in error", now=later)
    db.session.commit()
    assert (revocation.actor_id, revocation.created_at, revocation.personal.reason) == (hr.id, later,
                                                                                        "Issued in error")
    assert cert.revoked_at == later
    assert certificate_status(cert, later) == "revoked"
    assert certificate_status(cert, later - timedelta(seconds=1)) == "valid"
    assert ledger_kinds(cert.trust_id)[-1] == ("certificate_revoked", "certificate_revocation")
    assert verify_ledger(cert.trust_id).ok
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.reason == f"certificate-revoked:{cert.id}"))
    with pytest.raises(services.CertificateError, match="already been revoked"):
        services.revoke_certificate(cert, actor=hr, reason="again", now=later)


@pytest.mark.parametrize(("reason", "message"), [("  ", "Enter the reason"), ("x" * 501, "500 characters")])
def test_revocation_needs_a_reason(app, now, reason, message):
    cert = issue("staff", "tkat", now)
    with pytest.raises(services.CertificateError, match=message):
        services.revoke_certificate(cert, actor=demo_user("hr", "tkat"), reason=reason, now=now)


def test_revocation_only_within_the_trust(app, now):
    cert = issue("staff", "tkat", now)
    with pytest.raises(services.CertificateError):
        services.revoke_certificate(cert, actor=demo_user("hr", "e-act"), reason="no", now=now)


def test_a_new_version_supersedes_after_the_grace_period_and_renewal_keeps_history(app, now):
    old = issue("staff", "tkat", now)
    published = now + timedelta(days=60)
    new_version = publish_next_version(old.trust_id, published)
    db.session.expire_all()
    old = db.session.get(Certificate, old.id)
    assert old.superseded_since == published and old.grace_days == 30
    assert certificate_status(old, published + timedelta(days=29)) == "valid"
    assert certificate_status(old, published + timedelta(days=30)) == "superseded"

    renewed = issue("staff", "tkat", published + timedelta(days=5), version=new_version)
    assert renewed.renews_id == old.id and renewed.version_id == new_version.id
    assert renewed.superseded_since is None
    assert certificate_status(renewed, published + timedelta(days=40)) == "valid"
    # Both stay on record, each with its own status.
    assert db.session.scalar(select(sa.func.count()).select_from(Certificate)) == 2
    assert verify_ledger(old.trust_id).ok


def _raw(sql: str, **params):
    db.session.execute(sa.text(sql), params)


def test_evidence_rows_refuse_update_and_delete(app, now):
    cert = issue("staff", "tkat", now)
    services.revoke_certificate(cert, actor=demo_user("hr", "tkat"), reason="x", now=now)
    db.session.commit()
    for table in ("certificate", "certificate_revocation"):
        for sql in (f"UPDATE {table} SET created_at = created_at" if table != "certificate"
                    else "UPDATE certificate SET code = code", f"DELETE FROM {table}"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                _raw(sql)
                db.session.flush()
            db.session.rollback()


def test_erasure_keeps_the_evidence_and_the_chain(app, now):
    cert = issue("staff", "tkat", now)
    services.revoke_certificate(cert, actor=demo_user("hr", "tkat"), reason="personal reason", now=now)
    db.session.commit()
    sha = cert.issued_sha256
    services.erase_personal_data(cert, now=now + timedelta(days=1))
    db.session.commit()
    assert db.session.get(CertificatePersonal, cert.id) is None
    assert db.session.scalar(select(sa.func.count()).select_from(CertificateRevocationPersonal)) == 0
    db.session.expire_all()
    cert = db.session.get(Certificate, cert.id)
    assert cert.issued_sha256 == sha and cert.revoked_at == now
    assert verify_ledger(cert.trust_id).ok


def test_personal_rows_deleted_without_an_erasure_record_fail_verification(app, now):
    cert = issue("staff", "tkat", now)
    _raw("DELETE FROM certificate_personal WHERE certificate_id = :id", id=cert.id)
    db.session.commit()
    report = verify_ledger(cert.trust_id)
    assert not report.ok and "certificate" in str(report.problem) and "missing" in str(report.problem)


@pytest.mark.parametrize(("sql", "problem"), [
    ("UPDATE certificate_personal SET holder_name = 'Someone Else'", "altered"),
    ("UPDATE certificate_personal SET pdf = :pdf", "altered"),
])
def test_altered_personal_data_fails_verification(app, now, sql, problem):
    cert = issue("staff", "tkat", now)
    _raw(sql, pdf=b"%PDF-1.7 forged")
    db.session.commit()
    report = verify_ledger(cert.trust_id)
    assert not report.ok and f"certificate {cert.id}" in str(report.problem) and problem in str(report.problem)


def test_a_revocation_without_a_ledger_entry_fails_verification(app, now):
    """Written around the service (so without its ledger entry): `flask ledger verify` names it."""
    cert = issue("staff", "tkat", now)
    db.session.add(CertificateRevocation(trust_id=cert.trust_id, certificate_id=cert.id,
                                         actor_id=demo_user("hr", "tkat").id, personal_digest="0" * 64,
                                         created_at=now))
    db.session.commit()
    report = verify_ledger(cert.trust_id)
    assert not report.ok and "certificate_revocation" in str(report.problem)
