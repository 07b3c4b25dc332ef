"""Attestation use-cases: acknowledge, decline, give / decline / withdraw consent, record a paper form, erase.

Each writes the append-only record, its personal-data row and its ledger entry, then sends its signal,
all in the caller's transaction. Add and flush; never commit. Every use-case first takes the trust's
ledger lock, then looks up its idempotency key, so a repeated submission finds the first one's record.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from modules.assessments.models import QuizAttempt
from modules.assessments.queries import latest_passed_attempt
from modules.attestation import queries, signals
from modules.attestation.models import (
    ACKNOWLEDGED,
    CONSENT_DECLINED,
    CONSENT_GIVEN,
    CONSENT_WITHDRAWN,
    DECLINED,
    MEANING_CONSENT_DECLINED,
    MEANING_CONSENTED,
    MEANING_DECLINED,
    MEANING_WITHDRAWN,
    Acknowledgement,
    AcknowledgementPersonal,
    AcknowledgementStatement,
)
from modules.attestation.statements import (
    Statement,
    acknowledged_statements,
    consent_is_condition,
    consent_statement,
    statements_digest,
    statements_for,
)
from modules.core.extensions import db
from modules.evidence.ledger import entry_for, lock_trust
from modules.evidence.models import LedgerEntry
from modules.evidence.records import KIND_ERASURE, erase, is_recorded, new_personal, personal_digest, record
from modules.people.models import User
from modules.policies.models import PolicyVersion

#: Ledger entry kind per decision.
LEDGER_KIND = {ACKNOWLEDGED: "acknowledgement", DECLINED: "decline", CONSENT_WITHDRAWN: "withdrawal",
               CONSENT_GIVEN: "consent", CONSENT_DECLINED: "consent_declined"}
#: Ledger entry kind sealing the quiz attempt an acknowledgement rests on (once, with the first that cites it).
KIND_ATTEMPT = "quiz_attempt"
PAPER_FORM = "paper form"
#: Longest reason for withdrawing consent, in characters.
REASON_MAX = 1000


class AttestationError(ValueError):
    """The submission cannot be accepted; `message` is for the person, `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class NotTicked(AttestationError):
    """Some statements were not ticked; `keys` names them."""

    def __init__(self, keys: list[str]):
        super().__init__("Tick every statement to acknowledge the policy", field=None)
        self.keys = keys


@dataclass(frozen=True)
class Origin:
    """Where a submission came from: how the signer proved who they are, and the request's IP and agent."""

    method: str
    authenticated_at: datetime | None
    ip: str | None
    user_agent: str | None


def names_match(typed: str | None, name: str) -> bool:
    """Whether a typed signature is the person's full name, ignoring case and spacing."""
    def norm(value: str) -> str:
        return " ".join(value.split()).casefold()
    return bool(typed and typed.strip()) and norm(typed) == norm(name)


class KeyUsed(AttestationError):
    """The form's idempotency key already made a different record: the person must reload the form."""

    def __init__(self):
        super().__init__("This form has already been used. Reload the page and try again.")


def _repeat(key: str, user: User, decision: str) -> Acknowledgement | None:
    """The record an earlier submission with this key made, if any.

    A key is refused when it made another person's record, or a different decision (e.g. the person
    declined, went back and pressed "Acknowledge" on the same form).
    """
    existing = queries.by_idempotency_key(key)
    if existing is not None and (existing.user_id != user.id or existing.decision != decision):
        raise KeyUsed()
    return existing


def _write(user: User, version: PolicyVersion, rows: list[dict], *, decision: str, origin: Origin,
           idempotency_key: str, now: datetime, attempt: QuizAttempt | None = None,
           typed_name: str | None = None, actor: User | None = None, note: str | None = None,
           signed_statements=None) -> Acknowledgement:
    """Add the record, its statements, its personal row and its ledger entry; flush."""
    personal = new_personal(AcknowledgementPersonal, signer_name=user.name, signer_email=user.email,
                            typed_name=typed_name, ip_address=(origin.ip or None),
                            user_agent=(origin.user_agent or "")[:400] or None, note=note)
    ack = Acknowledgement(
        trust_id=user.trust_id, user_id=user.id, version_id=version.id, policy_sha256=version.source_sha256,
        statements_sha256=statements_digest(signed_statements if signed_statements is not None else
                                            [_Shown(**r) for r in rows]),
        decision=decision, attempt_id=attempt.id if attempt else None,
        attempt_score=attempt.score if attempt else None, signer_roles=", ".join(user.role_labels)[:400],
        signer_job_title=user.job_title or "", signer_academy=user.academy_name, signin_method=origin.method,
        authenticated_at=origin.authenticated_at, actor_id=actor.id if actor else None, on_behalf=actor is not None,
        idempotency_key=idempotency_key, personal_digest=personal_digest(personal), created_at=now)
    ack.personal = personal
    ack.statements = [AcknowledgementStatement(user_id=user.id, version_id=version.id, position=i, **row)
                      for i, row in enumerate(rows, start=1)]
    db.session.add(ack)
    if attempt is not None and not is_recorded(attempt):
        # what the record rests on is sealed first (its answers as loaded, before the lock where the caller did)
        record(attempt, kind=KIND_ATTEMPT, now=now, children=attempt.items)
    record(ack, kind=LEDGER_KIND[decision], now=now, children=ack.statements)  # its statements as just written
    return ack


@dataclass(frozen=True)
class _Shown:
    key: str
    kind: str
    clauses: str
    text: str
    text_sha256: str
    meaning: str
    supersedes_id: int | None = None


def _row(statement: Statement, meaning: str, supersedes: AcknowledgementStatement | None) -> dict:
    return {"key": statement.key, "kind": statement.kind, "clauses": statement.clauses, "text": statement.text,
            "text_sha256": statement.text_sha256, "meaning": meaning,
            "supersedes_id": supersedes.id if supersedes else None}


def _signed_rows(user: User, version: PolicyVersion, statements: list[Statement], ticked, typed_name: str | None,
                 state: dict[str, AcknowledgementStatement] | None = None):
    """Check every statement is ticked and the name matches; rows superseding any earlier decision (the person's
    `statement_state`, read here unless the caller has it)."""
    missing = [s.key for s in statements if s.key not in set(ticked)]
    if missing:
        raise NotTicked(missing)
    if not names_match(typed_name, user.name):
        raise AttestationError("Type your full name as your signature: it must match the name your trust "
                               "holds for you", field="full_name")
    state = state if state is not None else queries.statement_state(user.id, version.id)
    return [_row(s, s.agreed_meaning, state.get(s.key)) for s in statements]


def _consent_key(idempotency_key: str) -> str:
    """The idempotency key of the consent decision made by the same submission as an acknowledgement."""
    return hashlib.sha256(f"{idempotency_key}:consent".encode()).hexdigest()


def _consent_choice_needed(user: User, version: PolicyVersion, statement: Statement | None,
                           states: dict[str, AcknowledgementStatement] | None = None) -> bool:
    """Whether this submission must carry a consent choice: the trust asks for consent and the person has no
    standing consent decision on the version (or has one that is not consent, where consent is a condition)."""
    if statement is None:
        return False
    state = (states if states is not None else queries.statement_state(user.id, version.id)).get(statement.key)
    if state is None:
        return True
    return consent_is_condition(user.trust) and state.meaning != MEANING_CONSENTED


def _check_consent_choice(user: User, version: PolicyVersion, statement: Statement | None,
                          consent: bool | None, state: dict[str, AcknowledgementStatement] | None = None) -> bool:
    """Refuse a missing choice, or a "no" where the trust's rules make consent a condition; True when a
    consent decision is to be recorded with this submission."""
    if not _consent_choice_needed(user, version, statement, state):
        return False
    if consent is None:
        raise AttestationError("Choose whether you consent to the monitoring described", field="consent")
    if not consent and consent_is_condition(user.trust):
        raise AttestationError("Your trust's rules make consent to monitoring a condition of acknowledging the "
                               "policy (a trust setting). Choose “Yes” to acknowledge, or “I do not agree”.",
                               field="consent")
    return True


def _record_consent(user: User, version: PolicyVersion, statement: Statement, *, consent: bool, origin: Origin,
                    idempotency_key: str, now: datetime, typed_name: str | None, actor: User | None = None,
                    note: str | None = None) -> Acknowledgement:
    """Write a consent decision (given or declined) as its own event, superseding any earlier one; announce it."""
    state = queries.statement_state(user.id, version.id).get(statement.key)
    meaning = MEANING_CONSENTED if consent else MEANING_CONSENT_DECLINED
    decision = CONSENT_GIVEN if consent else CONSENT_DECLINED
    record = _write(user, version, [_row(statement, meaning, state)], decision=decision, origin=origin,
                    idempotency_key=idempotency_key, now=now, typed_name=typed_name, actor=actor, note=note,
                    signed_statements=[statement])
    (signals.consent_given if consent else signals.consent_declined).send(record, now=now)
    return record


def acknowledge(user: User, version: PolicyVersion, *, ticked, typed_name: str | None, idempotency_key: str,
                origin: Origin, now: datetime, shown_digest: str | None = None,
                consent: bool | None = None) -> Acknowledgement:
    """Record that the person acknowledges the version (each statement ticked, name typed) and announce it.

    Where the trust asks for monitoring consent, `consent` (True or False) is a separate decision recorded
    as its own event in the same transaction; declining it does not stop the acknowledgement unless the
    trust's rules make consent a condition. A repeat with the same key, or any submission once they have
    acknowledged, returns the existing record, unless they have passed the quiz again since (a refresh):
    then a new record supersedes the old one.
    """
    # Before the lock: what depends only on the trust's rules, the version and the person's quiz attempts (which
    # the ledger lock does not guard), so the trust's other acknowledgements wait for as little as possible.
    statements = statements_for(user.trust, version)
    changed = shown_digest is not None and shown_digest != statements_digest(statements)
    signed = acknowledged_statements(statements)
    consent_statement_ = consent_statement(statements)
    attempt = latest_passed_attempt(user, version)
    if attempt is not None:
        attempt.items  # noqa: B018 (its answers, which the attempt's ledger hash covers: a finished attempt's are fixed)
    lock_trust(user.trust_id)
    if (existing := _repeat(idempotency_key, user, ACKNOWLEDGED)) is not None:
        return existing
    state = queries.statement_state(user.id, version.id)  # read once, under the lock
    current = queries.current_acknowledgement(user.id, version.id, state)
    if current is not None and not queries.renews(current, attempt):
        return current
    if attempt is None:
        raise AttestationError("Pass the quiz on this version of the policy before you acknowledge it")
    if changed:
        raise AttestationError("The statements have changed since the page was shown. Read them again.")
    rows = _signed_rows(user, version, signed, ticked, typed_name, state)
    record_consent = _check_consent_choice(user, version, consent_statement_, consent, state)
    name = " ".join(typed_name.split())
    ack = _write(user, version, rows, decision=ACKNOWLEDGED, origin=origin, idempotency_key=idempotency_key,
                 now=now, attempt=attempt, typed_name=name, signed_statements=signed)
    if record_consent:
        _record_consent(user, version, consent_statement_, consent=bool(consent), origin=origin,
                        idempotency_key=_consent_key(idempotency_key), now=now, typed_name=name)
    signals.acknowledged.send(ack, now=now)
    return ack


def decline(user: User, version: PolicyVersion, *, idempotency_key: str, origin: Origin,
            now: datetime) -> Acknowledgement:
    """Record that the person declines to acknowledge the version; declining again returns the first decline.

    Monitoring consent is not part of it: declining the policy records nothing about consent.
    """
    lock_trust(user.trust_id)
    if (existing := _repeat(idempotency_key, user, DECLINED)) is not None:
        return existing
    if queries.current_acknowledgement(user.id, version.id) is not None:
        raise AttestationError("You have already acknowledged this version of the policy")
    state = queries.statement_state(user.id, version.id)
    if "policy" in state and state["policy"].meaning == MEANING_DECLINED:
        return state["policy"].acknowledgement
    statements = acknowledged_statements(statements_for(user.trust, version))
    rows = [_row(s, MEANING_DECLINED, state.get(s.key)) for s in statements]
    ack = _write(user, version, rows, decision=DECLINED, origin=origin, idempotency_key=idempotency_key,
                 now=now, attempt=latest_passed_attempt(user, version), signed_statements=statements)
    signals.declined.send(ack, now=now)
    return ack


def withdraw_consent(user: User, version: PolicyVersion, *, idempotency_key: str, origin: Origin,
                     now: datetime, reason: str | None = None) -> Acknowledgement:
    """Record that the person withdraws the monitoring consent they gave, from `now`, with an optional
    reason: a new event linked to the consent, announced so HR and the DPO are told."""
    lock_trust(user.trust_id)
    if (existing := _repeat(idempotency_key, user, CONSENT_WITHDRAWN)) is not None:
        return existing
    consent = queries.statement_state(user.id, version.id).get("monitoring")
    if consent is None or consent.kind != "consent" or consent.meaning != MEANING_CONSENTED:
        raise AttestationError("You have no monitoring consent to withdraw")
    reason = " ".join((reason or "").split()) or None
    if reason is not None and len(reason) > REASON_MAX:
        raise AttestationError(f"Keep the reason to {REASON_MAX} characters or fewer", field="reason")
    row = {"key": consent.key, "kind": consent.kind, "clauses": consent.clauses, "text": consent.text,
           "text_sha256": consent.text_sha256, "meaning": MEANING_WITHDRAWN, "supersedes_id": consent.id}
    ack = _write(user, version, [row], decision=CONSENT_WITHDRAWN, origin=origin,
                 idempotency_key=idempotency_key, now=now, note=reason)
    signals.withdrawn.send(ack, now=now)
    return ack


def give_consent(user: User, version: PolicyVersion, *, ticked: bool, typed_name: str | None,
                 idempotency_key: str, origin: Origin, now: datetime) -> Acknowledgement:
    """Record monitoring consent given after declining or withdrawing it (ticked and signed)."""
    lock_trust(user.trust_id)
    if (existing := _repeat(idempotency_key, user, CONSENT_GIVEN)) is not None:
        return existing
    state = queries.statement_state(user.id, version.id).get("monitoring")
    if state is None or state.meaning not in (MEANING_WITHDRAWN, MEANING_CONSENT_DECLINED):
        raise AttestationError("There is no declined or withdrawn consent to give")
    statement = consent_statement(statements_for(user.trust, version))
    if statement is None:
        raise AttestationError("Your trust does not ask for monitoring consent")
    if not ticked:
        raise NotTicked([statement.key])
    if not names_match(typed_name, user.name):
        raise AttestationError("Type your full name: it must match the name on your record", field="full_name")
    return _record_consent(user, version, statement, consent=True, origin=origin, idempotency_key=idempotency_key,
                           now=now, typed_name=" ".join(typed_name.split()))


def record_on_behalf(actor: User, person: User, version: PolicyVersion, *, ticked, typed_name: str | None,
                     note: str, idempotency_key: str, origin: Origin, now: datetime,
                     consent: bool | None = None) -> Acknowledgement:
    """HR records a person's acknowledgement from a signed paper form; flagged, with the actor and a note.

    Where the trust asks for monitoring consent, `consent` is what the form shows the person chose (True:
    they gave it; False: they did not), recorded as its own event.
    """
    if person.trust_id != actor.trust_id or version.trust_id != person.trust_id:
        raise AttestationError("Choose a person from your trust", field="person")
    lock_trust(person.trust_id)
    existing = queries.by_idempotency_key(idempotency_key)
    if existing is not None:
        if existing.actor_id != actor.id or existing.user_id != person.id:
            raise KeyUsed()  # e.g. the same form sent again for someone else: record nothing, say so
        return existing
    if queries.current_acknowledgement(person.id, version.id) is not None:
        raise AttestationError(f"{person.name} has already acknowledged this version", field="person")
    if not (note or "").strip():
        raise AttestationError("Enter a note about the paper form (where it is kept, when it was signed)",
                               field="note")
    statements = statements_for(person.trust, version)
    signed = acknowledged_statements(statements)
    try:
        rows = _signed_rows(person, version, signed, ticked, typed_name)
    except AttestationError as exc:
        if exc.field == "full_name":
            raise AttestationError("The name as signed must match the person's full name", field="full_name") from exc
        raise
    statement = consent_statement(statements)
    try:
        record_consent = _check_consent_choice(person, version, statement, consent)
    except AttestationError as exc:
        raise AttestationError("Choose what the paper form shows about consent to monitoring" if consent is None
                               else exc.message, field="consent") from exc
    paper = Origin(method=PAPER_FORM, authenticated_at=None, ip=origin.ip, user_agent=origin.user_agent)
    name = " ".join(typed_name.split())
    ack = _write(person, version, rows, decision=ACKNOWLEDGED, origin=paper, idempotency_key=idempotency_key,
                 now=now, attempt=latest_passed_attempt(person, version), typed_name=name,
                 actor=actor, note=note.strip(), signed_statements=signed)
    if record_consent:
        _record_consent(person, version, statement, consent=bool(consent), origin=paper,
                        idempotency_key=_consent_key(idempotency_key), now=now, typed_name=name, actor=actor,
                        note=note.strip())
    signals.acknowledged.send(ack, now=now)
    return ack


def erase_personal_data(ack: Acknowledgement, *, now: datetime) -> LedgerEntry:
    """Lawful erasure: delete the record's personal data (and its salt) and record the erasure in the ledger.

    The record and its hash are untouched, so `flask ledger verify` still passes. Erasing again changes
    nothing and returns the first erasure's entry.
    """
    return erase(ack, now=now) or entry_for(ack.__tablename__, ack.id, kind=KIND_ERASURE)
