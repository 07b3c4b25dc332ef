"""Tracking use-cases: create and complete assignments, the new-version hook, leavers. Add and flush; never commit."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, select

from modules.attestation.models import ACKNOWLEDGED, Acknowledgement
from modules.core.extensions import db
from modules.notifications.services import london_date
from modules.people.models import Trust, User
from modules.policies.models import PolicyVersion
from modules.policies.queries import is_register_version, register_series
from modules.tracking import rules
from modules.tracking.models import (
    CLOSED_EXEMPT,
    CLOSED_LEFT,
    CLOSED_REPLACED,
    INDUCTION,
    NEW_VERSION,
    REFRESH,
    Assignment,
)
from modules.training.queries import current_version


@dataclass
class AssignReport:
    """What an assignment run created, per kind, and how many it found already complete."""

    created: dict[str, int] = field(default_factory=lambda: {INDUCTION: 0, REFRESH: 0, NEW_VERSION: 0})
    completed: int = 0

    @property
    def total(self) -> int:
        """Assignments created."""
        return sum(self.created.values())


def _acknowledged(trust_id: int, min_number: int = 0, user_ids=None) -> dict[int, tuple[int, datetime, int]]:
    """Per person: (acknowledgement id, time, version number) of their latest acknowledgement of a version
    numbered at least `min_number`."""
    query = (select(Acknowledgement.user_id, Acknowledgement.id, Acknowledgement.created_at, PolicyVersion.number)
             .join(PolicyVersion, PolicyVersion.id == Acknowledgement.version_id)
             .where(Acknowledgement.trust_id == trust_id, Acknowledgement.decision == ACKNOWLEDGED,
                    PolicyVersion.number >= min_number)
             .order_by(Acknowledgement.created_at, Acknowledgement.id))
    series = register_series(trust_id)
    if series is not None:  # only the register's policy completes assignments
        query = query.where(PolicyVersion.series_id == series.id)
    if user_ids is not None:
        query = query.where(Acknowledgement.user_id.in_(list(user_ids)))
    return {user_id: (ack_id, at, number) for user_id, ack_id, at, number in db.session.execute(query)}


def _retire(assignment: Assignment | None, *, today: date, reason: str = CLOSED_REPLACED) -> None:
    """Make an assignment history (flushed first, so the one-current index never sees two)."""
    if assignment is None:
        return
    assignment.is_current = False
    if assignment.completed_at is None and assignment.closed_on is None:
        assignment.closed_on, assignment.closed_reason = today, reason
    db.session.flush()


def _new(user_id: int, trust_id: int, version: PolicyVersion, kind: str, *, today: date, due_on: date,
         now: datetime, ack: tuple[int, datetime, int] | None = None,
         deadline_version_id: int | None = None) -> Assignment:
    assignment = Assignment(trust_id=trust_id, user_id=user_id, version_id=version.id, kind=kind,
                            assigned_on=today, due_on=due_on, is_current=True, created_at=now,
                            deadline_version_id=deadline_version_id,
                            completed_at=ack[1] if ack else None, acknowledgement_id=ack[0] if ack else None)
    db.session.add(assignment)
    return assignment


def ensure_assignments(trust: Trust, *, now: datetime, user_ids=None) -> AssignReport:
    """Give every active person of the trust the assignment the trust's rules say they should have now.

    Idempotent: run daily (and for a person when they are created). Someone with no current assignment
    (or only one closed when they left, and now back) gets an induction, already complete if they have
    acknowledged the current version; someone whose
    current assignment is complete gets their annual refresh once it opens; an open assignment that an
    acknowledgement has completed (a missed signal) is marked complete. Leavers are left alone.
    """
    report = AssignReport()
    version = current_version(trust.id)
    if version is None:
        return report
    settings = trust.rules
    today = london_date(now)
    query = (select(User.id, User.start_date, Assignment)
             .outerjoin(Assignment, and_(Assignment.user_id == User.id, Assignment.is_current.is_(True)))
             .where(User.trust_id == trust.id, User.active.is_(True)))
    if user_ids is not None:
        query = query.where(User.id.in_(list(user_ids)))
    rows = db.session.execute(query).all()
    acks = _acknowledged(trust.id, user_ids=user_ids)
    numbers = dict(db.session.execute(select(PolicyVersion.id, PolicyVersion.number)
                                      .where(PolicyVersion.trust_id == trust.id)).all())
    for user_id, start_date, current in rows:
        ack = acks.get(user_id)
        if current is not None and current.completed_at is None and current.closed_reason == CLOSED_LEFT:
            _retire(current, today=today)  # closed when they left, and they are back: start again
            current = None
        if current is None:
            done = ack if ack and ack[2] >= version.number else None
            due = rules.induction_due(start_date, today, settings.induction_days)
            _new(user_id, trust.id, version, INDUCTION, today=today, due_on=due, now=now, ack=done)
            report.created[INDUCTION] += 1
            report.completed += done is not None
            continue
        if current.completed_at is None:
            if (current.closed_on is None and ack and ack[2] >= numbers.get(current.version_id, 0)
                    and ack[1] >= current.created_at):
                current.acknowledgement_id, current.completed_at = ack[0], ack[1]
                report.completed += 1
            continue
        refresh = rules.next_refresh(settings.refresh, london_date(current.completed_at))
        if today >= refresh.opens_on:
            _retire(current, today=today)
            _new(user_id, trust.id, version, REFRESH, today=today, due_on=refresh.due_on, now=now)
            report.created[REFRESH] += 1
    db.session.flush()
    return report


def complete_for_acknowledgement(ack: Acknowledgement) -> Assignment | None:
    """Complete the person's current assignment with their acknowledgement (of its version or a later one).

    Someone who acknowledges before any assignment exists gets a completed induction, so every completion
    is on record.
    """
    if ack.decision != ACKNOWLEDGED or not is_register_version(ack.version):
        return None  # another of the trust's policies: assignments track the register's policy only
    current = db.session.scalar(select(Assignment).where(Assignment.user_id == ack.user_id,
                                                         Assignment.is_current.is_(True)))
    if current is None:
        today = london_date(ack.created_at)
        days = ack.user.trust.rules.induction_days
        current = _new(ack.user_id, ack.trust_id, ack.version, INDUCTION, today=today,
                       due_on=rules.induction_due(ack.user.start_date, today, days), now=ack.created_at,
                       ack=(ack.id, ack.created_at, ack.version.number))
        db.session.flush()
        return current
    if current.completed_at is not None or (current.closed_on is not None and current.closed_reason != CLOSED_EXEMPT):
        return None  # an exempt person who completes anyway has completed
    if current.version.number > ack.version.number:
        return None  # acknowledging an older version does not complete training on a newer one
    current.completed_at, current.acknowledgement_id = ack.created_at, ack.id
    db.session.flush()
    return current


def assign_new_version(version: PolicyVersion, *, now: datetime) -> AssignReport:
    """Hook for the policy versions feature: when `version` is published, everyone in scope must train on it.

    Each active person of the trust gets a current "new_version" assignment due `new_version_days` after
    the version takes effect (or later, if an open assignment of theirs was already due later). Someone already
    overdue keeps their passed deadline, marked as the earlier version's: a new version never wipes lateness,
    it stays until they complete the version now in force. Their previous current assignment becomes history.
    Idempotent: calling it again for the same version creates nothing.
    """
    report = AssignReport()
    trust = db.session.get(Trust, version.trust_id)
    today = london_date(now)
    in_force_on = london_date(version.in_force_at) if version.in_force_at else today
    base_due = rules.new_version_due(in_force_on, trust.rules.new_version_due_days)
    rows = db.session.execute(
        select(User.id, Assignment)
        .outerjoin(Assignment, and_(Assignment.user_id == User.id, Assignment.is_current.is_(True)))
        .where(User.trust_id == trust.id, User.active.is_(True))).all()
    acks = _acknowledged(trust.id, min_number=version.number)
    for user_id, current in rows:
        if current is not None and current.version_id == version.id:
            continue
        due, carried = base_due, None
        if current is not None and current.completed_at is None and current.closed_on is None:
            if current.due_on < today:  # already overdue: the lateness stays, with the version it was for
                due, carried = current.due_on, current.deadline_version_id or current.version_id
            else:
                due = max(due, current.due_on)
        exempt = current is not None and current.completed_at is None and current.closed_reason == CLOSED_EXEMPT
        _retire(current, today=today)
        made = _new(user_id, trust.id, version, NEW_VERSION, today=today, due_on=due, now=now, ack=acks.get(user_id),
                    deadline_version_id=carried)
        if exempt and made.completed_at is None:  # an exemption lasts until HR ends it, across versions
            made.closed_on, made.closed_reason = today, CLOSED_EXEMPT
        report.created[NEW_VERSION] += 1
        report.completed += user_id in acks
    db.session.flush()
    return report


def close_for_leaver(user: User, *, now: datetime) -> None:
    """A leaver's open assignment is closed ("left"); all their history stays."""
    current = db.session.scalar(select(Assignment).where(Assignment.user_id == user.id,
                                                         Assignment.is_current.is_(True)))
    if current is not None and current.completed_at is None and current.closed_on is None:
        current.closed_on, current.closed_reason = london_date(now), CLOSED_LEFT
        db.session.flush()

