"""Acknowledge, decline, withdraw and give consent, paper forms, idempotency, one-original constraint."""

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from modules.attestation import queries, services, signals
from modules.attestation.models import Acknowledgement, AcknowledgementStatement
from modules.attestation.statements import statements_for
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.evidence.models import LedgerEntry
from modules.evidence.records import personal_digest, spec_for
from modules.training.queries import current_version
from tests.attestation.factories import acknowledge, demo_user, key, origin, passed_attempt


def _ack_entries() -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.record_table == "acknowledgement")
                                   .order_by(LedgerEntry.trust_id, LedgerEntry.seq)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_acknowledgement_record_holds_item_2(app, now):
    user = demo_user("staff", "e-act")
    received = []

    def receiver(sender, **kw):
        received.append((sender, kw["now"]))

    with signals.acknowledged.connected_to(receiver):
        ack = acknowledge(user, now)
        db.session.commit()
    version = current_version(user.trust_id)
    assert ack.decision == "acknowledged" and ack.version_id == version.id
    assert ack.policy_sha256 == version.source_sha256
    assert ack.attempt_score == 90 and ack.attempt_id is not None
    assert ack.signer_academy == "North Park Academy" and ack.signer_job_title == "Teaching Assistant"
    assert ack.signer_roles == "Staff" and ack.signin_method == "password" and ack.authenticated_at == now
    assert ack.actor_id is None and not ack.on_behalf and ack.created_at == now
    # Consent is its own decision: the acknowledgement holds the policy statement only.
    assert [(s.key, s.kind, s.meaning) for s in ack.statements] == [("policy", "policy", "acknowledged")]
    consent = queries.consent_decision_of(user.id, version.id)
    assert consent.id != ack.id and consent.decision == "consent given" and consent.created_at == now
    assert [(s.key, s.kind, s.meaning) for s in consent.statements] == [("monitoring", "consent", "consented")]
    personal = ack.personal
    assert (personal.signer_name, personal.signer_email, personal.typed_name) == (user.name, user.email, user.name)
    assert (personal.ip_address, personal.user_agent) == ("192.0.2.7", "pytest-agent/1.0")
    assert personal_digest(personal) == ack.personal_digest
    entry = queries.ledger_entry(ack)
    assert (entry.kind, entry.record_table, entry.record_id) == ("acknowledgement", "acknowledgement", ack.id)
    assert queries.ledger_entry(consent).kind == "consent"
    assert consent not in queries.hr_events(user.trust_id)  # the ordinary case: on the consent page, not HR's
    assert consent in queries.consent_events(user.trust_id)
    assert any(sender is ack and when == now for sender, when in received)
    assert verify_ledger().ok


def test_acknowledging_reads_the_statements_and_answers_once_and_hashes_them_as_stored(app, now):
    user = demo_user("staff", "agora")
    version = current_version(user.trust_id)
    attempt = passed_attempt(user, version, now)
    db.session.commit()
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: seen.append(sql))
    ack = acknowledge(user, now, attempt=False)
    db.session.commit()
    reads = [match.group(1) for sql in seen if sql.startswith("SELECT")
             for match in [re.search(r'\bFROM\s+"?(\w+)', sql)] if match]
    # the person's earlier statements once (under the lock), the attempt's answers once; neither read back to hash
    assert reads.count("acknowledgement_statement") == 1 and reads.count("attempt_question") == 1
    spec, attempt_spec = spec_for(ack), spec_for(attempt)
    assert queries.ledger_entry(ack).record_hash == spec.hash(ack, fresh=True)
    attempt_entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.record_table == "quiz_attempt",
                                                                LedgerEntry.record_id == attempt.id))
    assert attempt_entry.record_hash == attempt_spec.hash(attempt, fresh=True)
    assert spec.hash(ack, children=list(reversed(ack.statements))) == spec.hash(ack, fresh=True)
    with pytest.raises(ValueError):
        spec.hash(ack, children=[SimpleNamespace(id=1, acknowledgement_id=ack.id + 1)])
    assert verify_ledger().ok


def test_same_key_gives_same_record_and_acknowledging_twice_gives_first(app, now):
    user = demo_user("staff", "tkat")
    k = key()
    first = acknowledge(user, now, idempotency_key=k)
    db.session.commit()
    again = acknowledge(user, now, attempt=False, idempotency_key=k)
    other_key = acknowledge(user, now, attempt=False)
    assert again.id == first.id == other_key.id
    assert _count(Acknowledgement) == 1 and len(_ack_entries()) == 1


def test_key_of_another_person_is_refused(app, now):
    k = key()
    acknowledge(demo_user("staff", "tkat"), now, idempotency_key=k)
    with pytest.raises(services.AttestationError):
        acknowledge(demo_user("teacher", "tkat"), now, idempotency_key=k)


def test_needs_a_passed_attempt_ticks_and_the_right_name(app, now):
    user = demo_user("staff", "tsat")
    version = current_version(user.trust_id)
    with pytest.raises(services.AttestationError, match="Pass the quiz"):
        acknowledge(user, now, attempt=False)
    passed_attempt(user, version, now)
    with pytest.raises(services.NotTicked) as exc:
        services.acknowledge(user, version, ticked={"policy"}, typed_name=user.name, idempotency_key=key(),
                             origin=origin(), now=now)
    assert exc.value.keys == ["monitoring"]
    with pytest.raises(services.AttestationError) as exc:
        services.acknowledge(user, version, ticked={"policy", "monitoring"}, typed_name="Someone Else",
                             idempotency_key=key(), origin=origin(), now=now)
    assert exc.value.field == "full_name"
    ack = services.acknowledge(user, version, ticked={"policy", "monitoring"}, typed_name="  sam   TAYLOR ",
                               idempotency_key=key(), origin=origin(), now=now)
    assert ack.personal.typed_name == "sam TAYLOR"
    assert [s.meaning for s in ack.statements] == ["acknowledged", "notice acknowledged"]


def test_statements_changed_since_shown_is_refused(app, now):
    user = demo_user("staff", "tkat")
    version = current_version(user.trust_id)
    passed_attempt(user, version, now)
    with pytest.raises(services.AttestationError, match="changed"):
        services.acknowledge(user, version, ticked={"policy"}, typed_name=user.name, idempotency_key=key(),
                             origin=origin(), now=now, shown_digest="0" * 64)


def test_decline_then_acknowledge_supersedes_the_decline(app, now):
    user = demo_user("staff", "agora")
    version = current_version(user.trust_id)
    passed_attempt(user, version, now)
    declined = services.decline(user, version, idempotency_key=key(), origin=origin(), now=now)
    assert declined.decision == "declined" and {s.meaning for s in declined.statements} == {"declined"}
    assert services.decline(user, version, idempotency_key=key(), origin=origin(), now=now).id == declined.id
    ack = acknowledge(user, now, attempt=False)
    assert [s.supersedes_id for s in ack.statements] == [s.id for s in declined.statements]
    assert queries.current_acknowledgement(user.id, version.id) is ack
    with pytest.raises(services.AttestationError):
        services.decline(user, version, idempotency_key=key(), origin=origin(), now=now)
    db.session.commit()
    assert [e.kind for e in _ack_entries()] == ["decline", "acknowledgement"]
    assert verify_ledger().ok


def test_withdraw_consent_is_a_new_linked_event_and_can_be_given_again(app, now):
    user = demo_user("staff", "e-act")
    version = current_version(user.trust_id)
    acknowledge(user, now)
    consent = queries.consent_decision_of(user.id, version.id).statements[0]
    withdrawn = []
    with signals.withdrawn.connected_to(lambda sender, **kw: withdrawn.append(sender)):
        withdrawal = services.withdraw_consent(user, version, idempotency_key=key(), origin=origin(), now=now,
                                               reason="  I would rather   not be monitored ")
    assert withdrawal.decision == "consent withdrawn" and withdrawn[-1] is withdrawal
    assert withdrawal.personal.note == "I would rather not be monitored" and withdrawal.created_at == now
    assert [(s.key, s.meaning, s.supersedes_id) for s in withdrawal.statements] == [
        ("monitoring", "consent withdrawn", consent.id)]
    assert queries.current_acknowledgement(user.id, version.id) is not None  # the policy stays acknowledged
    assert withdrawal in queries.hr_events(user.trust_id)
    with pytest.raises(services.AttestationError):
        services.withdraw_consent(user, version, idempotency_key=key(), origin=origin(), now=now)
    with pytest.raises(services.AttestationError):
        services.give_consent(user, version, ticked=True, typed_name="Wrong Name", idempotency_key=key(),
                              origin=origin(), now=now)
    again = services.give_consent(user, version, ticked=True, typed_name=user.name, idempotency_key=key(),
                                  origin=origin(), now=now)
    assert [(s.meaning, s.supersedes_id) for s in again.statements] == [("consented", withdrawal.statements[0].id)]
    db.session.commit()
    assert verify_ledger().ok


def test_withdrawal_only_where_consent_was_given(app, now):
    user = demo_user("staff", "tsat")
    acknowledge(user, now)
    with pytest.raises(services.AttestationError):
        services.withdraw_consent(user, current_version(user.trust_id), idempotency_key=key(), origin=origin(),
                                  now=now)


def test_hr_records_a_paper_form_flagged_with_a_note(app, now):
    hr, person = demo_user("hr", "tasmat"), demo_user("office", "tasmat")
    version = current_version(hr.trust_id)
    keys = {s.key for s in statements_for(hr.trust, version)}
    with pytest.raises(services.AttestationError) as exc:
        services.record_on_behalf(hr, person, version, ticked=keys, typed_name=person.name, note=" ",
                                  idempotency_key=key(), origin=origin(), now=now)
    assert exc.value.field == "note"
    with pytest.raises(services.AttestationError):
        services.record_on_behalf(hr, demo_user("office", "tkat"), version, ticked=keys, typed_name=person.name,
                                  note="x", idempotency_key=key(), origin=origin(), now=now)
    k = key()
    ack = services.record_on_behalf(hr, person, version, ticked=keys, typed_name=person.name,
                                    note="Signed 3 November; filed in HR cabinet 2", idempotency_key=k,
                                    origin=origin(), now=now)
    assert ack.on_behalf and ack.actor_id == hr.id and ack.user_id == person.id
    assert ack.signin_method == "paper form" and ack.authenticated_at is None and ack.attempt_id is None
    assert ack.personal.note == "Signed 3 November; filed in HR cabinet 2"
    assert services.record_on_behalf(hr, person, version, ticked=keys, typed_name=person.name, note="again",
                                     idempotency_key=k, origin=origin(), now=now).id == ack.id
    assert ack in queries.hr_events(hr.trust_id)
    # The same form sent again for someone else records nothing and says so (not the first person's record).
    other = demo_user("teacher", "tasmat")
    with pytest.raises(services.KeyUsed):
        services.record_on_behalf(hr, other, version, ticked=keys, typed_name=other.name, note="x",
                                  idempotency_key=k, origin=origin(), now=now)
    db.session.commit()
    assert verify_ledger().ok


def test_one_original_per_person_version_statement_is_enforced_by_the_database(app, now):
    user = demo_user("staff", "tkat")
    ack = acknowledge(user, now)
    db.session.commit()
    original = ack.statements[0]
    db.session.add(AcknowledgementStatement(
        acknowledgement_id=ack.id, user_id=user.id, version_id=ack.version_id, position=2, key="policy",
        kind="policy", clauses="", text="x", text_sha256="0" * 64, meaning="acknowledged"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # and two later events cannot both supersede the same row
    for _ in range(2):
        db.session.add(AcknowledgementStatement(
            acknowledgement_id=ack.id, user_id=user.id, version_id=ack.version_id, position=3, key="policy",
            kind="policy", clauses="", text="x", text_sha256="0" * 64, meaning="declined",
            supersedes_id=original.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_erasure_deletes_personal_data_and_the_ledger_still_verifies(app, now):
    user = demo_user("staff", "e-act")
    ack = acknowledge(user, now)
    db.session.commit()
    entry = services.erase_personal_data(ack, now=now)
    db.session.commit()
    db.session.expire_all()
    assert ack.personal is None and entry.kind == "erasure"
    report = verify_ledger()
    assert report.ok, report.problem
    assert [e.kind for e in _ack_entries()] == ["acknowledgement", "consent", "erasure"]  # consent: its own record


def test_a_key_that_recorded_a_decline_cannot_then_acknowledge(app, now):
    user = demo_user("staff", "tkat")
    version = current_version(user.trust_id)
    passed_attempt(user, version, now)
    k = key()
    services.decline(user, version, idempotency_key=k, origin=origin(), now=now)
    with pytest.raises(services.KeyUsed):
        acknowledge(user, now, attempt=False, idempotency_key=k)
    assert acknowledge(user, now, attempt=False).decision == "acknowledged"


def test_eact_staff_acknowledge_and_decline_consent_certificate_issued_hr_and_dpo_emailed(app, now):
    """Issue 12: consent is its own decision; declining it is recorded, told to HR and the DPO, and does not
    block the certificate (E-ACT's rules do not make consent a condition)."""
    from modules.certificates.models import Certificate
    from modules.notifications.models import OutboxMessage

    user = demo_user("staff", "e-act")
    version = current_version(user.trust_id)
    declined = []
    with signals.consent_declined.connected_to(lambda sender, **kw: declined.append(sender)):
        ack = acknowledge(user, now, consent=False)
    db.session.commit()
    record = queries.consent_decision_of(user.id, version.id)
    assert declined == [record] and record.decision == "consent declined"
    assert [(s.kind, s.meaning) for s in record.statements] == [("consent", "consent declined")]
    assert queries.current_acknowledgement(user.id, version.id) is ack
    assert db.session.scalar(select(Certificate).where(Certificate.acknowledgement_id == ack.id)) is not None
    assert queries.ledger_entry(record).kind == "consent_declined"
    assert record in queries.hr_events(user.trust_id) and record in queries.consent_events(user.trust_id)
    told = {m.recipient: m for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.reason == f"consent:{record.id}"))}
    assert {demo_user("hr", "e-act").email, demo_user("dpo", "e-act").email} <= set(told)
    assert user.email not in told
    message = told[demo_user("dpo", "e-act").email]
    assert message.subject == f"Consent to monitoring declined: {user.name}"
    assert "does not affect their acknowledgement or their certificate" in message.body
    assert verify_ledger().ok


def test_a_consent_choice_is_required_where_the_trust_asks_and_absent_elsewhere(app, now):
    user = demo_user("staff", "e-act")
    with pytest.raises(services.AttestationError) as exc:
        acknowledge(user, now, consent=None)
    assert exc.value.field == "consent"
    db.session.rollback()
    tsat = demo_user("staff", "tsat")
    ack = acknowledge(tsat, now)
    assert [s.kind for s in ack.statements] == ["policy", "notice"]
    assert queries.consent_decision_of(tsat.id, ack.version_id) is None


def test_consent_as_a_condition_refuses_a_decline(app, now):
    """Only where the trust's rules explicitly make consent a condition does declining block acknowledging."""
    user = demo_user("staff", "e-act")
    user.trust.settings = {**user.trust.settings, "consent_is_condition": True}
    db.session.flush()
    with pytest.raises(services.AttestationError) as exc:
        acknowledge(user, now, consent=False)
    assert exc.value.field == "consent" and "condition" in exc.value.message
    db.session.rollback()


def test_consent_declined_then_given_later(app, now):
    user = demo_user("staff", "e-act")
    version = current_version(user.trust_id)
    acknowledge(user, now, consent=False)
    declined = queries.consent_decision_of(user.id, version.id)
    given = services.give_consent(user, version, ticked=True, typed_name=user.name, idempotency_key=key(),
                                  origin=origin(), now=now)
    assert given.decision == "consent given" and given in queries.hr_events(user.trust_id)  # given again
    assert [(s.meaning, s.supersedes_id) for s in given.statements] == [("consented", declined.statements[0].id)]
    with pytest.raises(services.AttestationError):  # nothing to give: consent stands
        services.give_consent(user, version, ticked=True, typed_name=user.name, idempotency_key=key(),
                              origin=origin(), now=now)
    db.session.commit()
    assert verify_ledger().ok


def test_withdrawal_is_emailed_to_hr_and_the_dpo_with_its_reason(app, now):
    from modules.notifications.models import OutboxMessage

    user = demo_user("staff", "e-act")
    version = current_version(user.trust_id)
    acknowledge(user, now)
    withdrawal = services.withdraw_consent(user, version, idempotency_key=key(), origin=origin(), now=now,
                                           reason="Personal reasons")
    db.session.commit()
    bodies = {m.recipient: m.body for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.reason == f"consent:{withdrawal.id}"))}
    dpo = demo_user("dpo", "e-act").email
    assert dpo in bodies and demo_user("hr", "e-act").email in bodies
    assert "withdrew their consent to monitoring" in bodies[dpo] and "Reason given: Personal reasons" in bodies[dpo]
    with pytest.raises(services.AttestationError) as exc:
        services.withdraw_consent(user, version, idempotency_key=key(), origin=origin(), now=now)
    assert "no monitoring consent" in exc.value.message


def test_paper_form_records_the_consent_choice_separately(app, now):
    hr, person = demo_user("hr", "e-act"), demo_user("office", "e-act")
    version = current_version(hr.trust_id)
    with pytest.raises(services.AttestationError) as exc:
        services.record_on_behalf(hr, person, version, ticked={"policy"}, typed_name=person.name, note="Filed",
                                  idempotency_key=key(), origin=origin(), now=now)
    assert exc.value.field == "consent"
    db.session.rollback()
    ack = services.record_on_behalf(hr, person, version, ticked={"policy"}, typed_name=person.name, note="Filed",
                                    idempotency_key=key(), origin=origin(), now=now, consent=False)
    record = queries.consent_decision_of(person.id, version.id)
    assert [s.key for s in ack.statements] == ["policy"]
    assert record.decision == "consent declined" and record.on_behalf and record.actor_id == hr.id
    db.session.commit()
    assert verify_ledger().ok
