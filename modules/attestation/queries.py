"""Read-only queries for acknowledgements, receipts and HR's view."""

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from modules.assessments.queries import latest_passed_attempt
from modules.attestation.models import (
    ACKNOWLEDGED,
    CONSENT_DECISIONS,
    CONSENT_DECLINED,
    CONSENT_GIVEN,
    CONSENT_WITHDRAWN,
    DECLINED,
    MEANING_ACKNOWLEDGED,
    Acknowledgement,
    AcknowledgementStatement,
)
from modules.core.extensions import db
from modules.evidence.ledger import entry_for
from modules.evidence.models import LedgerEntry
from modules.people.models import Role, RoleAssignment, User

#: Decisions HR is shown in its overview, besides records made on someone's behalf and consent given again
#: (consent given with an acknowledgement is the ordinary case, listed on the monitoring consent page).
HR_DECISIONS = (DECLINED, CONSENT_DECLINED, CONSENT_WITHDRAWN)
#: The capability that sees monitoring-consent decisions (HR and the DPO) and is told of declines/withdrawals.
CONSENT_VIEW = "consent:view"


def by_idempotency_key(key: str) -> Acknowledgement | None:
    """The record a submission with this idempotency key made, if any."""
    return db.session.scalar(select(Acknowledgement).where(Acknowledgement.idempotency_key == key))


def statement_state(user_id: int, version_id: int) -> dict[str, AcknowledgementStatement]:
    """Per statement key, the person's latest statement row on the version (the one nothing supersedes)."""
    rows = list(db.session.scalars(select(AcknowledgementStatement).where(
        AcknowledgementStatement.user_id == user_id, AcknowledgementStatement.version_id == version_id)
        .order_by(AcknowledgementStatement.id)))
    superseded = {row.supersedes_id for row in rows if row.supersedes_id is not None}
    return {row.key: row for row in rows if row.id not in superseded}


def current_acknowledgement(user_id: int, version_id: int,
                            state: dict[str, AcknowledgementStatement] | None = None) -> Acknowledgement | None:
    """The event by which the person acknowledged the version, if that is their standing decision (from their
    `statement_state`, read here unless the caller has it)."""
    policy = (state if state is not None else statement_state(user_id, version_id)).get("policy")
    if policy is not None and policy.meaning == MEANING_ACKNOWLEDGED:
        return policy.acknowledgement
    return None


def renews(current: Acknowledgement | None, attempt) -> bool:
    """Whether a passed attempt (the person's latest) opens a fresh acknowledgement over their standing one."""
    return (current is not None and attempt is not None and attempt.id != current.attempt_id
            and attempt.finished_at > current.created_at)


def renewal_attempt(user: User, version, current: Acknowledgement | None = None):
    """A passed quiz attempt finished after the person's standing acknowledgement of the version, if any.

    Such an attempt (an annual refresh, or training again after a revoked certificate) opens a fresh
    acknowledgement of the same version; the earlier one stays as it was.
    """
    current = current if current is not None else current_acknowledgement(user.id, version.id)
    if current is None:
        return None
    attempt = latest_passed_attempt(user, version)
    return attempt if renews(current, attempt) else None


def consent_version_id(user: User) -> int | None:
    """The policy version of the person's latest monitoring-consent statement row, if any (a consent given on
    an earlier version stands, and can be withdrawn, until they acknowledge the new one)."""
    return db.session.scalar(select(AcknowledgementStatement.version_id).where(
        AcknowledgementStatement.user_id == user.id, AcknowledgementStatement.kind == "consent")
        .order_by(AcknowledgementStatement.id.desc()).limit(1))


def for_person(user: User) -> list[Acknowledgement]:
    """Every decision the person made (or HR recorded for them), newest first."""
    return list(db.session.scalars(
        select(Acknowledgement).where(Acknowledgement.user_id == user.id, Acknowledgement.trust_id == user.trust_id)
        .options(selectinload(Acknowledgement.statements), selectinload(Acknowledgement.version))
        .order_by(Acknowledgement.created_at.desc(), Acknowledgement.id.desc())))


def receipt_for(viewer: User, ack_id: int) -> Acknowledgement | None:
    """An acknowledgement the viewer may see: their own, any in their trust with attestation:record, or a
    consent decision with consent:view (the DPO)."""
    ack = db.session.get(Acknowledgement, ack_id)
    if ack is None or ack.trust_id != viewer.trust_id:
        return None
    if ack.user_id == viewer.id or viewer.can("attestation:record"):
        return ack
    if ack.decision in CONSENT_DECISIONS and viewer.can(CONSENT_VIEW):
        return ack
    return None


def consent_events(trust_id: int) -> list[Acknowledgement]:
    """Every monitoring-consent decision in the trust (given, declined, withdrawn), newest first."""
    return list(db.session.scalars(
        select(Acknowledgement).where(Acknowledgement.trust_id == trust_id,
                                      Acknowledgement.decision.in_(CONSENT_DECISIONS))
        .options(selectinload(Acknowledgement.user), selectinload(Acknowledgement.version),
                 selectinload(Acknowledgement.personal), selectinload(Acknowledgement.statements))
        .order_by(Acknowledgement.created_at.desc(), Acknowledgement.id.desc())))


def standing_consent(events: list[Acknowledgement]) -> dict[int, Acknowledgement]:
    """Per person, their latest consent decision among the events (newest first, as consent_events gives)."""
    standing: dict[int, Acknowledgement] = {}
    for event in events:
        standing.setdefault(event.user_id, event)
    return standing


def consent_decision_of(user_id: int, version_id: int) -> Acknowledgement | None:
    """The event of the person's standing consent decision on the version, if they made one."""
    state = statement_state(user_id, version_id).get("monitoring")
    return state.acknowledgement if state is not None and state.kind == "consent" else None


def consent_viewers(trust_id: int) -> list[User]:
    """The trust's active people who see consent decisions (consent:view): told of declines and withdrawals."""
    role_ids = [role.id for role in db.session.scalars(select(Role).where(Role.trust_id == trust_id))
                if CONSENT_VIEW in (role.capabilities or [])]
    if not role_ids:
        return []
    return list(db.session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(User.trust_id == trust_id, User.active.is_(True), RoleAssignment.role_id.in_(role_ids))
        .distinct().order_by(User.id)))


def ledger_entry(ack: Acknowledgement) -> LedgerEntry | None:
    """The ledger entry that records the acknowledgement."""
    return entry_for("acknowledgement", ack.id, kind=None)


def hr_events(trust_id: int) -> list[Acknowledgement]:
    """Declines (of the policy or of consent), consent withdrawals, consent given again after a decline or
    withdrawal, and records made from paper forms, newest first."""
    again = and_(Acknowledgement.decision == CONSENT_GIVEN,
                 Acknowledgement.statements.any(AcknowledgementStatement.supersedes_id.is_not(None)))
    return list(db.session.scalars(
        select(Acknowledgement).where(Acknowledgement.trust_id == trust_id,
                                      or_(Acknowledgement.decision.in_(HR_DECISIONS), again,
                                          Acknowledgement.on_behalf.is_(True)))
        .options(selectinload(Acknowledgement.user), selectinload(Acknowledgement.version),
                 selectinload(Acknowledgement.personal))
        .order_by(Acknowledgement.created_at.desc(), Acknowledgement.id.desc())))


def people_of_trust(trust_id: int) -> list[User]:
    """Active people of the trust, by name (for HR's paper-form choice)."""
    return list(db.session.scalars(select(User).where(User.trust_id == trust_id, User.active.is_(True))
                                   .order_by(User.name, User.id)))



#: HR reads every published version (the capability that publishes them).
READ_ANY_VERSION = "policy:publish"


def first_signed_at(user: User, version) -> datetime | None:
    """When the person first acknowledged (signed) the version, if they ever did."""
    return db.session.scalar(select(Acknowledgement.created_at).where(
        Acknowledgement.user_id == user.id, Acknowledgement.version_id == version.id,
        Acknowledgement.trust_id == user.trust_id, Acknowledgement.decision == ACKNOWLEDGED)
        .order_by(Acknowledgement.created_at).limit(1))


def may_read_version(user: User, version) -> bool:
    """Whether the person may read a published (or since replaced) version of their trust's policy: the one in
    force, any version they signed, and every version for HR."""
    if version.trust_id != user.trust_id or version.status not in ("published", "superseded"):
        return False
    return (version.status == "published" or user.can(READ_ANY_VERSION)
            or first_signed_at(user, version) is not None)
