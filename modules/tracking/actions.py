"""What HR does about a person's training: send a reminder now, resend the set-password invitation, extend the
deadline, exempt (and end an exemption), mark as a leaver. Add and flush; never commit.

Each action is written as a TrackingAction (the audit trail on the person's history) and is idempotent: a
reminder or an invitation goes through the outbox, whose unique (recipient, reason, date) key means a second
click on the same day sends nothing; extending to the date already set, exempting the exempt or marking a
leaver twice changes nothing and records nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.notifications.services import london_date, queue_email
from modules.people.importer import set_password_token
from modules.people.models import User
from modules.people.services import mark_left
from modules.people.signals import staff_invited
from modules.tracking.mail import INVITATION_REASON, reminder
from modules.tracking.models import CLOSED_EXEMPT, Assignment, TrackingAction
from modules.tracking.reminders import reason as reminder_reason

#: A reminder HR sends by hand; its outbox reason is "reminder:now:<assignment id>".
NOW_KIND = "now"
REASON_MAX = 500
#: The furthest a deadline may be moved, from today.
EXTEND_MAX_DAYS = 366


class ActionError(ValueError):
    """The action cannot be taken; the message says why, for the person who asked."""


@dataclass(frozen=True)
class Outcome:
    """What one action did: `done` is False when it was already done (nothing changed, nothing sent)."""

    done: bool
    message: str


def current_assignment(user: User) -> Assignment | None:
    """The person's current assignment."""
    return db.session.scalar(select(Assignment).where(Assignment.user_id == user.id, Assignment.is_current.is_(True)))


def _open(user: User) -> Assignment:
    current = current_assignment(user)
    if not user.active:
        raise ActionError(f"{user.name} has left, so there is no training to chase.")
    if current is None or current.completed_at is not None or current.closed_on is not None:
        raise ActionError(f"{user.name} has no training waiting to be done.")
    return current


def _record(actor: User | None, user: User, kind: str, *, now: datetime, reason: str | None = None,
            **detail) -> TrackingAction:
    action = TrackingAction(trust_id=user.trust_id, user_id=user.id, actor_id=actor.id if actor else None,
                            kind=kind, reason=reason, detail=detail, created_at=now)
    db.session.add(action)
    db.session.flush()
    return action


def _reason(text: str | None, what: str) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise ActionError(f"Enter the reason for the {what}.")
    if len(cleaned) > REASON_MAX:
        raise ActionError(f"The reason must be {REASON_MAX} characters or fewer.")
    return cleaned


def reminder_email(user: User, *, now: datetime) -> tuple[str, str]:
    """Subject and body of the reminder HR would send the person now (the preview shows exactly this)."""
    current = _open(user)
    today = london_date(now)
    kind = "overdue" if current.due_on < today else "due-soon"
    return reminder(kind, user, due_on=current.due_on, today=today, training=current.kind_label)


def send_reminder(actor: User, user: User, *, now: datetime) -> Outcome:
    """Write a reminder to the person's outbox now (once a day whatever is clicked)."""
    current = _open(user)
    why = reminder_reason(NOW_KIND, current.id)
    if _sent_today(user, why, now):
        return Outcome(False, f"{user.name} was already sent a reminder today.")
    subject, body = reminder_email(user, now=now)
    queue_email(recipient=user.email, reason=why, subject=subject, body=body, now=now, user=user)
    _record(actor, user, "reminder", now=now)
    return Outcome(True, f"A reminder is on its way to {user.name}.")


def _sent_today(user: User, why: str, now: datetime) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.recipient == user.email.lower(), OutboxMessage.reason == why,
        OutboxMessage.on_date == london_date(now))) is not None


def resend_invitation(actor: User, user: User, *, now: datetime) -> Outcome:
    """Send the set-password email again with a fresh link (only to someone who has never set a password)."""
    if not user.active:
        raise ActionError(f"{user.name} has left, so they cannot be invited.")
    if user.password_hash:
        raise ActionError(f"{user.name} has already set a password. They can sign in, or reset it if forgotten.")
    if _sent_today(user, INVITATION_REASON, now):
        return Outcome(False, f"{user.name} was already sent an invitation today.")
    staff_invited.send(user, token=set_password_token(user), now=now)
    _record(actor, user, "invitation", now=now)
    return Outcome(True, f"A new set-password link is on its way to {user.name}.")


def extend_deadline(actor: User, user: User, *, due_on: date, reason: str, now: datetime) -> Outcome:
    """Move the deadline of the person's open training later, with a reason."""
    current = _open(user)
    why = _reason(reason, "extension")
    today = london_date(now)
    if due_on <= current.due_on:
        raise ActionError(f"The new deadline must be after the current one, {current.due_on:%-d %B %Y}.")
    if due_on < today:
        raise ActionError("The new deadline must be today or later.")
    if due_on > today + timedelta(days=EXTEND_MAX_DAYS):
        raise ActionError("The new deadline must be within a year of today.")
    before = current.due_on
    current.due_on = due_on
    _record(actor, user, "extend", now=now, reason=why, before=before.isoformat(), after=due_on.isoformat())
    return Outcome(True, f"{user.name}'s deadline is now {due_on:%-d %B %Y}.")


def exempt(actor: User, user: User, *, reason: str, now: datetime) -> Outcome:
    """Exempt the person from their open training (e.g. long-term absence), with a reason; reversible."""
    current = current_assignment(user)
    why = _reason(reason, "exemption")
    if current is not None and current.closed_reason == CLOSED_EXEMPT:
        return Outcome(False, f"{user.name} is already exempt.")
    current = _open(user)
    current.closed_on, current.closed_reason = london_date(now), CLOSED_EXEMPT
    _record(actor, user, "exempt", now=now, reason=why)
    return Outcome(True, f"{user.name} is exempt. You can end the exemption from their history.")


def end_exemption(actor: User, user: User, *, reason: str, now: datetime) -> Outcome:
    """End an exemption: the training is open again, with its deadline (extend it if it has passed)."""
    current = current_assignment(user)
    why = _reason(reason, "ending the exemption")
    if current is None or current.closed_reason != CLOSED_EXEMPT or current.completed_at is not None:
        return Outcome(False, f"{user.name} is not exempt.")
    current.closed_on, current.closed_reason = None, None
    _record(actor, user, "unexempt", now=now, reason=why)
    return Outcome(True, f"{user.name}'s exemption has ended; their training is due by {current.due_on:%-d %B %Y}.")


def mark_leaver(actor: User, user: User, *, now: datetime) -> Outcome:
    """Record that the person has left: they can no longer sign in; their open training closes."""
    if actor.id == user.id:
        raise ActionError("You cannot mark yourself as a leaver.")
    if not user.active:
        return Outcome(False, f"{user.name} is already recorded as a leaver.")
    mark_left(user, on=london_date(now), now=now)
    _record(actor, user, "leaver", now=now)
    return Outcome(True, f"{user.name} is recorded as a leaver.")


def actions_of(user: User) -> list[TrackingAction]:
    """Everything done about the person's training, newest first."""
    return list(db.session.scalars(select(TrackingAction).where(TrackingAction.user_id == user.id)
                                   .order_by(TrackingAction.id.desc())))


def can_chase(user: User) -> bool:
    """Whether the person has open training a reminder could be about."""
    try:
        _open(user)
    except ActionError:
        return False
    return True


@dataclass
class BulkOutcome:
    """What one action for everyone in a list did: how many it changed, found already done, or could not do."""

    action: str
    done: int = 0
    already: int = 0
    skipped: int = 0

    def summary(self) -> str:
        """One sentence for the banner, e.g. "12 reminders sent; 3 already sent today; 1 not possible"."""
        noun = {"remind": ("reminder sent", "reminders sent"), "extend": ("deadline extended", "deadlines extended"),
                "exempt": ("person exempted", "people exempted")}[self.action]
        parts = [f"{self.done} {noun[0] if self.done == 1 else noun[1]}"]
        if self.already:
            parts.append(f"{self.already} already done")
        if self.skipped:
            parts.append(f"{self.skipped} not possible (no open training, or already due later)")
        return "; ".join(parts) + "."


def for_everyone(action: str, actor: User, people: list[User], *, now: datetime, due_on: date | None = None,
                 reason: str | None = None) -> BulkOutcome:
    """Take one action for each person, each on its own (one that cannot be done does not stop the rest)."""
    outcome = BulkOutcome(action)
    for user in people:
        try:
            with db.session.begin_nested():
                if action == "remind":
                    result = send_reminder(actor, user, now=now)
                elif action == "extend":
                    result = extend_deadline(actor, user, due_on=due_on, reason=reason or "", now=now)
                else:
                    result = exempt(actor, user, reason=reason or "", now=now)
        except ActionError:
            outcome.skipped += 1
            continue
        if result.done:
            outcome.done += 1
        else:
            outcome.already += 1
    return outcome
