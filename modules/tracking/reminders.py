"""Who is due a reminder today, written to the outbox (the guard against sending twice) for delivery.

For each active person's open, current assignment:
- `due-soon`: once, in the `reminder_days_before` days (default 7) before the due date;
- `overdue`: on becoming overdue, then again every `reminder_repeat_days` (default 7) while still overdue;
- `manager`: a copy to their line manager with each overdue reminder after the first;
- escalation: once per step of the trust's `escalation` rule (the line manager, then the headteacher), when
  the training is that many days overdue; each is recorded on the person's history.
A trust turns all of it off with `reminders: false` in trusts.yaml.

Outbox reasons are "reminder:<kind>:<assignment id>", so the outbox's unique (recipient, reason, date) key
means the same reminder can never be written twice on one day, whatever runs concurrently; the history of
earlier dates decides whether one is due at all. Leavers get nothing.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.notifications.services import london_date, queue_email
from modules.people.models import Role, RoleAssignment, Trust, User
from modules.people.queries import role_holders
from modules.people.rules import EscalationStep
from modules.policies.queries import published_version, review_reminder_due, review_reminder_reason
from modules.tracking.mail import escalation, reminder, review_reminder
from modules.tracking.models import Assignment, TrackingAction
from modules.tracking.queries import REMINDER_PREFIX

DUE_SOON, OVERDUE, MANAGER = "due-soon", "overdue", "manager"


def reason(kind: str, assignment_id: int) -> str:
    """The outbox reason of a reminder, e.g. "reminder:overdue:42"."""
    return f"{REMINDER_PREFIX}{kind}:{assignment_id}"


@dataclass
class ReminderReport:
    """What a reminder run wrote to the outbox, for one trust."""

    trust: str
    enabled: bool = True
    message_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {DUE_SOON: 0, OVERDUE: 0, MANAGER: 0})


def _history(trust_id: int) -> dict[str, date]:
    """Per reminder reason, the last date one was written for the trust."""
    rows = db.session.execute(select(OutboxMessage.reason, func.max(OutboxMessage.on_date))
                              .where(OutboxMessage.trust_id == trust_id,
                                     OutboxMessage.reason.like(f"{REMINDER_PREFIX}%"))
                              .group_by(OutboxMessage.reason))
    return dict(rows.all())


def queue_reminders(trust: Trust, *, now: datetime) -> ReminderReport:
    """Write today's due reminders for the trust to the outbox (add + flush); returns what was written."""
    report = ReminderReport(trust=trust.slug, enabled=trust.rules.reminders)
    if not report.enabled:
        return report
    today = london_date(now)
    before, every = trust.rules.reminder_days_before, trust.rules.reminder_repeat_days
    manager = aliased(User)
    rows = db.session.execute(
        select(Assignment, User, manager)
        .join(User, User.id == Assignment.user_id)
        .outerjoin(manager, and_(manager.id == User.line_manager_id, manager.active.is_(True)))
        .where(Assignment.trust_id == trust.id, Assignment.is_current.is_(True),
               Assignment.completed_at.is_(None), Assignment.closed_on.is_(None),
               Assignment.due_on <= today + timedelta(days=before), User.active.is_(True))
        .order_by(Assignment.due_on, Assignment.id)).all()
    history = _history(trust.id)

    def write(kind: str, assignment: Assignment, person: User, recipient: User) -> None:
        subject, body = reminder(kind, person, due_on=assignment.due_on, today=today,
                                 training=assignment.kind_label, recipient=recipient)
        message = queue_email(recipient=recipient.email, reason=reason(kind, assignment.id), subject=subject,
                              body=body, now=now, user=recipient, trust_id=trust.id)
        report.message_ids.append(message.id)
        report.counts[kind] += 1

    for assignment, person, line_manager in rows:
        if assignment.due_on >= today:
            if reason(DUE_SOON, assignment.id) not in history:
                write(DUE_SOON, assignment, person, person)
            continue
        last = history.get(reason(OVERDUE, assignment.id))
        if last is None:
            write(OVERDUE, assignment, person, person)
        elif (today - last).days >= every:
            write(OVERDUE, assignment, person, person)
            if line_manager is not None:
                write(MANAGER, assignment, person, line_manager)
    db.session.flush()
    return report


# --------------------------------------------------------------------------- policy review (HR)

def review_recipients(trust: Trust) -> list[User]:
    """The trust's active people who review and publish policy versions (policy:publish)."""
    role_ids = [role.id for role in db.session.scalars(select(Role).where(Role.trust_id == trust.id))
                if "policy:publish" in (role.capabilities or [])]
    if not role_ids:
        return []
    return list(db.session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(User.trust_id == trust.id, User.active.is_(True), RoleAssignment.role_id.in_(role_ids))
        .distinct().order_by(User.id)))


def queue_review_reminders(trust: Trust, *, now: datetime) -> list[int]:
    """HR's reminder that the policy is due for review, from 60 days before (policies.queries decides).

    Once per person and review date, whichever day a run first finds it due (a missed day still sends);
    a new review date set by HR is a new reminder. Returns the outbox ids written.
    """
    if not trust.rules.reminders:
        return []
    version = published_version(trust.id)
    today = london_date(now)
    if version is None or not review_reminder_due(version, today):
        return []
    why = f"{REMINDER_PREFIX}{review_reminder_reason(version)}"  # "reminder:…": delivered with the others
    already = set(db.session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.reason == why)))
    written = []
    for person in review_recipients(trust):
        if person.email.lower() in already:
            continue
        subject, body = review_reminder(version, person, trust=trust, today=today)
        written.append(queue_email(recipient=person.email, reason=why, subject=subject, body=body, now=now,
                                   user=person, trust_id=trust.id).id)
    db.session.flush()
    return written


# --------------------------------------------------------------------------- escalation (line manager, head)

def _escalated(trust_id: int) -> set[tuple[int, str]]:
    """(assignment id, step) of every escalation already made in the trust."""
    rows = db.session.scalars(select(TrackingAction.detail).where(TrackingAction.trust_id == trust_id,
                                                                 TrackingAction.kind == "escalation"))
    return {(detail.get("assignment"), detail.get("to")) for detail in rows if detail}


def _escalation_recipients(person: User, step: EscalationStep) -> list[User]:
    if step.relation == "line_manager":
        manager = person.line_manager
        return [manager] if manager is not None and manager.active else []
    key = step.central_role if (person.academy_id is None and step.central_role) else step.role
    return [p for p in role_holders(person.trust_id, key, person.academy_id) if p.id != person.id]


def queue_escalations(trust: Trust, *, now: datetime) -> list[int]:
    """Email each step of the trust's escalation rule once per overdue assignment, when it is that overdue.

    Each escalation made is a TrackingAction on the person's history (actor: none, the daily run); a step with
    nobody to tell (no line manager yet) is tried again on later runs. Returns the outbox ids written.
    """
    steps = trust.rules.escalation
    if not steps or not trust.rules.reminders:
        return []
    today = london_date(now)
    first = min(step.after_days for step in steps)
    rows = db.session.execute(
        select(Assignment, User).join(User, User.id == Assignment.user_id)
        .where(Assignment.trust_id == trust.id, Assignment.is_current.is_(True), Assignment.completed_at.is_(None),
               Assignment.closed_on.is_(None), Assignment.due_on < today - timedelta(days=first - 1),
               User.active.is_(True))
        .order_by(Assignment.due_on, Assignment.id)).all()
    done = _escalated(trust.id)
    labels = {role.key: role.label for role in db.session.scalars(select(Role).where(Role.trust_id == trust.id))}
    written = []
    for assignment, person in rows:
        overdue = (today - assignment.due_on).days
        for step in steps:
            if overdue < step.after_days or (assignment.id, step.key) in done:
                continue
            recipients = _escalation_recipients(person, step)
            if not recipients:
                continue
            label = labels.get(step.central_role if person.academy_id is None and step.central_role else step.role,
                               "line manager")  # the role's label in this trust, e.g. "Principal"
            for recipient in recipients:
                subject, body = escalation(person, recipient, step=step.key, role_label=label,
                                           after_days=step.after_days, due_on=assignment.due_on, today=today,
                                           training=assignment.kind_label)
                written.append(queue_email(recipient=recipient.email, reason=f"escalation:{step.key}:{assignment.id}",
                                           subject=subject, body=body, now=now, user=recipient, trust_id=trust.id).id)
            db.session.add(TrackingAction(trust_id=trust.id, user_id=person.id, actor_id=None, kind="escalation",
                                          detail={"assignment": assignment.id, "to": step.key, "label": label,
                                                  "recipients": [r.id for r in recipients]}, created_at=now))
            done.add((assignment.id, step.key))
    db.session.flush()
    return written
