"""Erasure of a leaver's personal data (after the trust's retention period, or on a lawful request decided by
the DPO), and legal holds that stop it. Add and flush; the caller commits.

What happens to each table that refers to a person is declared in PLAN (tests/operations/test_erasure.py checks
it names every table with a foreign key to user, from the live schema, so a new table cannot be forgotten).
Evidence keeps its ids, hashes and meanings and loses its personal rows through the evidence kit's `erase`, so
`flask ledger verify` still passes; the person's own row stays under a pseudonym, so those ids still resolve.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import delete, or_, select, update

from modules.access.models import AccessRequest, TrainingDiscussionNote
from modules.attestation.models import Acknowledgement
from modules.attestation.services import erase_personal_data as erase_acknowledgement
from modules.certificates.models import Certificate
from modules.certificates.services import erase_personal_data as erase_certificate
from modules.core.extensions import db
from modules.core.timeutil import LONDON
from modules.evidence.records import declared_records, erase
from modules.lti.models import LtiAccount
from modules.notifications.models import OutboxMessage
from modules.operations.models import Erasure, LegalHold
from modules.people.models import (
    LoginSession,
    PasswordReset,
    RecoveryCode,
    SecurityEvent,
    SsoIdentity,
    TotpCredential,
    User,
)
from modules.people.security import note_event, record_event
from modules.people.services import record_role_change, role_keys
from modules.tracking.models import TrackingAction

#: Longest reason kept for a hold or an erasure.
REASON_MAX = 2000
#: The domain of a pseudonymous address (.invalid is reserved: nothing can ever be sent there).
PSEUDONYM_DOMAIN = "erased.invalid"

#: For every table with a foreign key to user: what an erasure does to the rows referring to the person.
PLAN: dict[str, str] = {
    "user": "kept under a pseudonym: name, email, job title, department, start date and password hash removed; "
            "no longer anyone's line manager",
    "acknowledgement": "personal row (name, email, typed name, IP address, user agent, note) erased through the "
                       "evidence kit; the record keeps its ids, hashes and meaning, so the ledger verifies",
    "acknowledgement_statement": "kept: the statement text the person ticked (no personal data)",
    "certificate": "personal row (holder's name and the PDF) erased through the evidence kit, with any "
                   "revocation's reason; the code, dates and PDF hash stay",
    "certificate_revocation": "kept when the person revoked someone's certificate (ids only)",
    "role_assignment": "deleted; the change is a ledgered role change",
    "policy_source": "kept: the uploaded policy document and HR's corrections (the uploader's id only)",
    "role_change": "kept: append-only ledgered evidence holding ids and role keys only",
    "login_session": "deleted (IP address, user agent)",
    "password_reset": "deleted",
    "totp_credential": "deleted",
    "recovery_code": "deleted",
    "sso_identity": "deleted (the identity provider's subject id for the person)",
    "lti_account": "deleted (a learning platform's user id for the person; its grade links and owed scores go with it)",
    "security_event": "kept for the log, with the IP address removed and the name or email replaced by the "
                      "pseudonym",
    "outbox_message": "messages to the person deleted; the name or email in messages to others replaced by the "
                      "pseudonym",
    "tracking_action": "kept for the history, with HR's free-text reason and details about the person removed",
    "assignment": "kept: training assigned and completed (ids and dates only)",
    "module_progress": "kept: modules read (ids and dates only)",
    "quiz_attempt": "kept: answers and score (evidence an acknowledgement rests on)",
    "quiz_scope": "kept: which quiz a person takes (ids only)",
    "question_authorship": "kept: who wrote and who reviewed a quiz question (ids only)",
    "browser_bank": "kept: who started writing a version's quiz in the browser (ids only)",
    "clause_exclusion": "kept: a clause left out of the quiz, its reason and who left it out (ids only)",
    "exclusion_review": "kept: who approved leaving a clause out of the quiz (ids only)",
    "access_request": "kept as the record of the official account, with the name or email replaced by the "
                      "pseudonym in its text",
    "access_decision": "kept: ledgered evidence of the approval decision",
    "access_grant": "kept: ledgered evidence of the grant",
    "access_revocation": "kept: ledgered evidence (ids only)",
    "account_closure": "kept: ledgered evidence (ids only)",
    "training_discussion": "kept: ledgered evidence (ids only)",
    "training_discussion_note": "deleted: the line manager's free-text note about the person",
    "official_account": "kept: the official account the person set up (not personal data)",
    "legal_hold": "kept: the record of holds (lifted before any erasure), with the name or email replaced",
    "erasure": "kept: this record, with the name or email replaced by the pseudonym",
}


class ErasureError(ValueError):
    """An erasure or a hold that cannot be done; the message says why, for the DPO."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class HoldRefusal(ErasureError):
    """Erasure refused because of a legal hold; the refusal is already in the security log."""

    def __init__(self, hold: LegalHold):
        super().__init__(f"Erasure refused: {hold.user.name} is under a legal hold placed on "
                         f"{hold.placed_at:%-d %B %Y}: “{hold.reason}”. Lift the hold first if it no longer "
                         "applies.")
        self.hold = hold


@dataclass
class Result:
    """What one erasure did, per table (for the record, the CLI and the DPO's page)."""

    user: User
    pseudonym: str
    counts: dict[str, int] = field(default_factory=dict)


def pseudonym(user: User) -> tuple[str, str]:
    """The (name, email) a person's row keeps after erasure."""
    return f"Erased person {user.id}", f"erased-{user.id}@{PSEUDONYM_DOMAIN}"


def active_hold(user: User) -> LegalHold | None:
    """The legal hold in place on the person, if any."""
    return db.session.scalar(select(LegalHold).where(LegalHold.user_id == user.id, LegalHold.lifted_at.is_(None))
                             .order_by(LegalHold.placed_at.desc()))


def erasure_of(user: User) -> Erasure | None:
    """The record of the person's erasure, if they were erased."""
    return db.session.scalar(select(Erasure).where(Erasure.user_id == user.id))


def _reason(text: str | None) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        raise ErasureError("Enter the reason", field="reason")
    if len(reason) > REASON_MAX:
        raise ErasureError(f"The reason must be {REASON_MAX} characters or fewer", field="reason")
    return reason


def _same_trust(actor: User | None, user: User) -> None:
    if actor is not None and actor.trust_id != user.trust_id:
        raise ErasureError("That person is not in your trust")


def place_hold(user: User, *, actor: User | None, reason: str, now: datetime) -> LegalHold:
    """Place a legal hold on the person (refused if one is already in place, or they were erased)."""
    _same_trust(actor, user)
    reason = _reason(reason)
    if erasure_of(user) is not None:
        raise ErasureError("This person's personal data has already been erased")
    if active_hold(user) is not None:
        raise ErasureError(f"{user.name} is already under a legal hold")
    hold = LegalHold(trust_id=user.trust_id, user_id=user.id, reason=reason,
                     placed_by_id=actor.id if actor else None, placed_at=now)
    db.session.add(hold)
    db.session.flush()
    record_event("legal-hold", now=now, actor=actor, target_user=user, trust_id=user.trust_id,
                 details={"action": "placed", "reason": reason})
    return hold


def lift_hold(user: User, *, actor: User | None, reason: str, now: datetime) -> LegalHold:
    """Lift the legal hold in place on the person, with a reason."""
    _same_trust(actor, user)
    reason = _reason(reason)
    hold = active_hold(user)
    if hold is None:
        raise ErasureError(f"{user.name} is not under a legal hold")
    hold.lifted_at, hold.lifted_by_id, hold.lift_reason = now, actor.id if actor else None, reason
    db.session.flush()
    record_event("legal-hold", now=now, actor=actor, target_user=user, trust_id=user.trust_id,
                 details={"action": "lifted", "reason": reason})
    return hold


def refusal(user: User, *, actor: User | None, basis: str, reason: str, now: datetime) -> HoldRefusal | None:
    """If the person is under a legal hold: log the refused erasure (with the hold's reason) and return the
    refusal to show; else None. The log entry is kept even when the caller rolls back (`note_event`); outside a
    request it joins the caller's transaction, which the caller commits."""
    hold = active_hold(user)
    if hold is None:
        return None
    note_event("erasure", now=now, actor=actor, target_user=user, trust_id=user.trust_id, outcome="refused",
                 target=user.name, details={"basis": basis, "reason": reason, "hold_id": hold.id,
                                            "hold_reason": hold.reason, "refused": "legal hold"})
    return HoldRefusal(hold)


def erase_person(user: User, *, actor: User | None, basis: str, reason: str, now: datetime) -> Result:
    """Erase a leaver's personal data (see PLAN). Raises HoldRefusal (already logged) under a legal hold, and
    ErasureError for a person still active, already erased or in another trust."""
    _same_trust(actor, user)
    reason = _reason(reason)
    if basis not in ("retention", "request"):
        raise ErasureError(f"unknown basis {basis!r}")
    if erasure_of(user) is not None:
        raise ErasureError("This person's personal data has already been erased")
    if user.active:
        raise ErasureError(f"{user.name} is still active: only a leaver's personal data can be erased. Ask HR to "
                           "mark them as a leaver first.")
    refused = refusal(user, actor=actor, basis=basis, reason=reason, now=now)
    if refused is not None:
        raise refused
    old_name, old_email = user.name, user.email
    new_name, new_email = pseudonym(user)
    result = Result(user=user, pseudonym=new_name)
    counts = result.counts

    # Evidence: personal rows go through the evidence kit (each erasure ledgered); the records stay.
    for ack in db.session.scalars(select(Acknowledgement).where(Acknowledgement.user_id == user.id)
                                  .order_by(Acknowledgement.id)):
        erase_acknowledgement(ack, now=now)
        counts["acknowledgement"] = counts.get("acknowledgement", 0) + 1
    for cert in db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                                   .order_by(Certificate.id)):
        erase_certificate(cert, now=now)
        counts["certificate"] = counts.get("certificate", 0) + 1
    for spec in declared_records():  # any other evidence of theirs with personal data, declared later
        if spec.personal is None or spec.model in (Acknowledgement, Certificate) or \
                not hasattr(spec.model, "user_id"):
            continue
        for row in db.session.scalars(select(spec.model).where(spec.model.user_id == user.id)):
            if erase(row, now=now) is not None:
                counts[spec.table] = counts.get(spec.table, 0) + 1

    before = role_keys(user)
    if before:
        user.role_assignments.clear()
        db.session.flush()
        record_role_change(user, actor=actor, before=before, source="erasure", now=now)
        counts["role_assignment"] = len(before)
    for model in (LoginSession, PasswordReset, TotpCredential, RecoveryCode, SsoIdentity, TrainingDiscussionNote,
                  LtiAccount):
        deleted = db.session.execute(delete(model).where(model.user_id == user.id)).rowcount
        if deleted:
            counts[model.__tablename__] = deleted

    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)):
        db.session.delete(message)
        counts["outbox_message"] = counts.get("outbox_message", 0) + 1
    db.session.flush()
    words = _replacer(old_name, old_email, new_name, new_email)
    mentions = db.session.scalars(select(OutboxMessage).where(or_(
        OutboxMessage.subject.contains(old_name, autoescape=True), OutboxMessage.body.contains(old_name, autoescape=True),
        OutboxMessage.body.contains(old_email, autoescape=True), OutboxMessage.recipient == old_email)))
    for message in mentions:
        message.subject, message.body = words(message.subject), words(message.body)
        if message.recipient == old_email:
            message.recipient = new_email
        counts["outbox_message"] = counts.get("outbox_message", 0) + 1

    events = db.session.scalars(select(SecurityEvent).where(or_(
        SecurityEvent.actor_id == user.id, SecurityEvent.target_user_id == user.id,
        SecurityEvent.target == old_email)))
    for event in events:
        if event.actor_id == user.id or event.target_user_id == user.id:
            event.ip_address = None
        event.target = words(event.target)[:300]
        event.details = json.loads(words(json.dumps(event.details or {})))
        counts["security_event"] = counts.get("security_event", 0) + 1

    for action in db.session.scalars(select(TrackingAction).where(TrackingAction.user_id == user.id)):
        action.reason = "(erased)" if action.reason else action.reason
        action.detail = {}
        counts["tracking_action"] = counts.get("tracking_action", 0) + 1
    counts.update(_redact_text(words, user))

    db.session.execute(update(User).where(User.line_manager_id == user.id).values(line_manager_id=None))
    user.name, user.email, user.job_title, user.department = new_name, new_email, "", ""
    user.start_date, user.password_hash, user.line_manager_id = None, None, None
    db.session.flush()

    db.session.add(Erasure(trust_id=user.trust_id, user_id=user.id, actor_id=actor.id if actor else None,
                           basis=basis, reason=words(reason), erased_at=now, summary=dict(sorted(counts.items()))))
    record_event("erasure", now=now, actor=actor, target_user=user, trust_id=user.trust_id, target=new_name,
                 details={"basis": basis, "reason": words(reason), "tables": dict(sorted(counts.items()))})
    return result


def _replacer(old_name: str, old_email: str, new_name: str, new_email: str):
    def replace(text: str | None) -> str | None:
        if not text:
            return text
        text = text.replace(old_email, new_email)
        return text.replace(old_name, new_name) if old_name.strip() else text
    return replace


def _redact_text(words, user: User) -> dict[str, int]:
    """Replace the name and email in the free text of the other kept rows that refer to the person."""
    counts: dict[str, int] = {}
    for request in db.session.scalars(select(AccessRequest).where(AccessRequest.requester_id == user.id)):
        request.reason = words(request.reason)
        request.details = json.loads(words(json.dumps(request.details or {})))
        counts["access_request"] = counts.get("access_request", 0) + 1
    for hold in db.session.scalars(select(LegalHold).where(LegalHold.user_id == user.id)):
        hold.reason, hold.lift_reason = words(hold.reason), words(hold.lift_reason)
        counts["legal_hold"] = counts.get("legal_hold", 0) + 1
    return counts


# ---- retention ------------------------------------------------------------------------------------------

def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def retention_cutoff(user_trust_rules, today: date) -> date:
    """Leavers who left on or before this day are past the trust's retention period."""
    return _months_before(today, user_trust_rules.retention_months_after_leaving)


@dataclass
class RetentionReport:
    """What a retention run did for one trust."""

    erased: list[Result] = field(default_factory=list)
    held: list[HoldRefusal] = field(default_factory=list)


def london_today(now: datetime) -> date:
    """The date in London at `now` (a UTC time)."""
    return now.replace(tzinfo=UTC).astimezone(LONDON).date()


def run_retention(trust, *, today: date, now: datetime) -> RetentionReport:
    """Erase every leaver of the trust whose retention period has ended, except those under a legal hold (each
    such refusal is logged with the hold's reason)."""
    cutoff = retention_cutoff(trust.rules, today)
    due = db.session.scalars(select(User).where(
        User.trust_id == trust.id, User.active.is_(False), User.left_on.is_not(None), User.left_on <= cutoff,
        User.id.not_in(select(Erasure.user_id))).order_by(User.id))
    report = RetentionReport()
    months = trust.rules.retention_months_after_leaving
    reason = (f"Retention period ended: left more than {months} months ago (on or before {cutoff:%-d %B %Y}); "
              "a trust setting")
    for user in list(due):
        try:
            report.erased.append(erase_person(user, actor=None, basis="retention", reason=reason, now=now))
        except HoldRefusal as refused:
            report.held.append(refused)
    return report


def retention_step(trust, *, now: datetime) -> list[str]:
    """The daily run's retention step for one trust (passed in by modules/wiring.py): lines for its report."""
    report = run_retention(trust, today=london_today(now), now=now)
    lines = []
    if report.erased:
        lines.append(f"{len(report.erased)} leaver(s) past the retention period erased")
    if report.held:
        lines.append(f"{len(report.held)} leaver(s) past the retention period kept under a legal hold")
    return lines
