"""Acknowledge, decline, withdraw and give consent, paper forms, idempotency, one-original constraint."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from modules.attestation import queries, services, signals
from modules.attestation.evidence import personal_digest
from modules.attestation.ledger import verify_ledger
from modules.attestation.models import Acknowledgement, AcknowledgementStatement, LedgerEntry
from modules.attestation.statements import statements_for
from modules.core.extensions import db
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
    assert [(s.key, s.kind, s.meaning) for s in ack.statements] == [
        ("policy", "policy", "acknowledged"), ("monitoring", "consent", "consented")]
    personal = ack.personal
    assert (personal.signer_name, personal.signer_email, personal.typed_name) == (user.name, user.email, user.name)
    assert (personal.ip_address, personal.user_agent) == ("192.0.2.7", "pytest-agent/1.0")
    assert personal_digest(personal) == ack.personal_digest
    entry = queries.ledger_entry(ack)
    assert (entry.kind, entry.record_table, entry.record_id) == ("acknowledgement", "acknowledgement", ack.id)
    assert any(sender is ack and when == now for sender, when in received)
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
    ack = acknowledge(user, now)
    consent = ack.statements[1]
    withdrawn = []
    with signals.withdrawn.connected_to(lambda sender, **kw: withdrawn.append(sender)):
        withdrawal = services.withdraw_consent(user, version, idempotency_key=key(), origin=origin(), now=now)
    assert withdrawal.decision == "consent withdrawn" and withdrawn[-1] is withdrawal
    assert [(s.key, s.meaning, s.supersedes_id) for s in withdrawal.statements] == [
        ("monitoring", "consent withdrawn", consent.id)]
    assert queries.current_acknowledgement(user.id, version.id) is ack  # the policy stays acknowledged
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
    assert [e.kind for e in _ack_entries()] == ["acknowledgement", "erasure"]


def test_a_key_that_recorded_a_decline_cannot_then_acknowledge(app, now):
    user = demo_user("staff", "tkat")
    version = current_version(user.trust_id)
    passed_attempt(user, version, now)
    k = key()
    services.decline(user, version, idempotency_key=k, origin=origin(), now=now)
    with pytest.raises(services.KeyUsed):
        acknowledge(user, now, attempt=False, idempotency_key=k)
    assert acknowledge(user, now, attempt=False).decision == "acknowledged"
