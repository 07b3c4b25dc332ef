"""Decisions are evidence too: the quiz attempt an acknowledgement (and so a certificate) rests on, and every
approver's decision, each have a ledger entry, so editing one afterwards makes `flask ledger verify` fail."""

import random

import sqlalchemy as sa

from modules.access import queries
from modules.access import services as access
from modules.access.models import AccessDecision
from modules.assessments.models import AttemptQuestion, QuizAttempt
from modules.assessments.services import start_attempt, submit_attempt
from modules.attestation import services as attestation
from modules.attestation.statements import statements_for
from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.evidence.ledger import entry_for
from modules.evidence.models import LedgerEntry
from modules.training.queries import current_version
from modules.training.services import mark_read
from tests.access.factories import account, approve_through, certify, join
from tests.attestation import bypass
from tests.attestation.factories import demo_user, key, origin


def _verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    return result.exit_code, result.output


def _kinds(trust_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(LedgerEntry.kind).where(LedgerEntry.trust_id == trust_id)
                                   .order_by(LedgerEntry.seq)))


def _sit_and_acknowledge(user, now):
    """The person sits the real quiz (drawn and graded by the app), passes, first declines, then acknowledges."""
    version = current_version(user.trust_id)
    for section in version.sections:
        mark_read(user, section, now=now)
    attempt = start_attempt(user, version, now=now, rng=random.Random(7))
    submit_attempt(attempt, [list(item.question.correct) for item in attempt.items], now=now)
    attestation.decline(user, version, idempotency_key=key(), origin=origin(now), now=now)
    ack = attestation.acknowledge(user, version, ticked={s.key for s in statements_for(user.trust, version)},
                                  typed_name=user.name, idempotency_key=key(), origin=origin(now), now=now)
    db.session.commit()
    return attempt, ack


def test_the_attempt_behind_a_certificate_is_ledgered_and_editing_it_is_caught(app, now):
    user = demo_user("staff", "tkat")
    attempt, ack = _sit_and_acknowledge(user, now)
    assert attempt.passed and ack.attempt_id == attempt.id
    assert db.session.scalar(sa.select(Certificate.id).where(Certificate.acknowledgement_id == ack.id))
    # The attempt is sealed with the first record resting on it (the decline), and not again.
    assert _kinds(user.trust_id)[-4:] == ["quiz_attempt", "decline", "acknowledgement", "certificate_issued"]
    assert _verify(app)[0] == 0
    version = current_version(user.trust_id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.record_table == "quiz_attempt",
                                    LedgerEntry.record_id == attempt.id)) == 1

    # Attempts no acknowledgement rests on are ordinary rows: a failed one is not ledgered.
    failed = start_attempt(user, version, now=now, rng=random.Random(8))
    submit_attempt(failed, [[] for _ in failed.items], now=now)
    db.session.commit()
    assert failed.passed is False and entry_for("quiz_attempt", failed.id) is None
    assert _verify(app)[0] == 0

    item_id = attempt.items[0].id
    named = f"(quiz_attempt, quiz_attempt {attempt.id})"
    attempt_table, item_table = QuizAttempt.__table__, AttemptQuestion.__table__
    for table, row_id, column in ((attempt_table, attempt.id, "score"), (attempt_table, attempt.id, "passed"),
                                  (attempt_table, attempt.id, "finished_at"), (attempt_table, attempt.id, "pass_mark"),
                                  (item_table, item_id, "correct"), (item_table, item_id, "position")):
        original = db.session.execute(sa.select(table.c[column]).where(table.c.id == row_id)).scalar_one()
        bypass.update(table, {"id": row_id}, column, bypass.altered(table.c[column], original))
        code, output = _verify(app)
        assert code == 1 and named in output and "altered" in output, f"editing {table.name}.{column}: {output}"
        bypass.update(table, {"id": row_id}, column, original)
        assert _verify(app)[0] == 0, f"after restoring {table.name}.{column}"
    # The answer itself: someone changes what was chosen.
    bypass.execute("UPDATE attempt_question SET chosen = '[]' WHERE id = :id", {"id": item_id},
                   table="attempt_question")
    code, output = _verify(app)
    assert code == 1 and named in output and "altered" in output, output


def test_every_approval_decision_is_ledgered_and_editing_one_is_caught(app, now):
    requester = demo_user("staff", "tsat")
    certify(requester, now)
    acct = account("tsat", handle="@tsat-decisions", now=now)
    request = join("staff", "tsat", acct, now=now)
    approvers = approve_through(request, now)
    teacher = demo_user("teacher", "tsat")
    certify(teacher, now)
    refused = join("teacher", "tsat", acct, now=now)
    approver = queries.approvers_for(refused, queries.current_step(refused))[0]
    access.decide(approver, refused, step=refused.step, approve=False, comment="Not this term", now=now)
    db.session.commit()

    decisions = list(db.session.scalars(sa.select(AccessDecision).order_by(AccessDecision.id)))
    assert len(decisions) == len(approvers) + 1 >= 2
    assert {d.outcome for d in decisions} == {"approved", "refused"}
    for decision in decisions:
        assert entry_for("access_decision", decision.id) is not None, f"decision {decision.id} not ledgered"
    assert _verify(app)[0] == 0

    target = decisions[-1]
    target_id = target.id
    table = AccessDecision.__table__
    for column, value in (("outcome", "approved" if target.outcome == "refused" else "refused"),
                          ("comment", "edited afterwards"), ("approver_id", requester.id),
                          ("created_at", now.replace(year=2020)), ("certificate_id", None)):
        original = db.session.execute(sa.select(table.c[column]).where(table.c.id == target.id)).scalar_one()
        if original == value:
            continue
        bypass.update(table, {"id": target.id}, column, value)
        code, output = _verify(app)
        assert code == 1, f"editing access_decision.{column} went unnoticed"
        assert f"(access_decided, access_decision {target.id})" in output and "altered" in output, output
        bypass.update(table, {"id": target.id}, column, original)
        assert _verify(app)[0] == 0

    bypass.delete(table, {"id": target_id})
    code, output = _verify(app)
    assert code == 1 and f"access_decision {target_id}" in output and "missing" in output, output
