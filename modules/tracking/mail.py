"""The emails tracking sends: staff invitations and training reminders (plain text from templates)."""

from datetime import date

from flask import current_app

from modules.certificates.links import absolute
from modules.core.timeutil import format_date, format_datetime
from modules.people.models import User

#: The outbox reason of a set-password invitation (once per person a day, however often it is asked for).
INVITATION_REASON = "set-password"


def _render(name: str, **context) -> str:
    """A plain-text email template, rendered without request context processors (emails go out from CLI
    commands and workers too)."""
    return current_app.jinja_env.get_template(name).render(**context)


def invitation(user: User, token: str, *, max_age_hours: int) -> tuple[str, str]:
    """Subject and body of a new person's "set your password" email."""
    link = absolute("auth.set_password", token=token)
    body = _render("tracking/email/invitation.txt", user=user, link=link,
                           days=max(1, max_age_hours // 24), sign_in=absolute("auth.sign_in"))
    return f"Set your password for {user.trust.short_name} policy training", body


#: Stands for the one-time link in a preview: the real link is made only when the email is sent.
PREVIEW_LINK = "[a new one-time link, made when you send this]"


def invitation_preview(user: User, *, max_age_hours: int) -> tuple[str, str]:
    """The invitation exactly as `invitation` writes it, with a placeholder where the one-time link goes."""
    token = "preview-token"
    subject, body = invitation(user, token, max_age_hours=max_age_hours)
    return subject, body.replace(absolute("auth.set_password", token=token), PREVIEW_LINK)


def reminder(kind: str, person: User, *, due_on: date, today: date, training: str,
             recipient: User | None = None) -> tuple[str, str]:
    """Subject and body of a reminder: "due-soon", "overdue", or "manager" (a copy to the line manager)."""
    days = (due_on - today).days
    subject = {
        "due-soon": f"Reminder: your social media policy training is due by {format_date(due_on)}",
        "overdue": f"Overdue: your social media policy training was due on {format_date(due_on)}",
        "manager": f"Overdue training: {person.name}",
    }[kind]
    body = _render("tracking/email/reminder.txt", kind=kind, person=person, recipient=recipient or person,
                           due_on=format_date(due_on), days=days, overdue_days=-days, training=training,
                           link=absolute("training.home"))
    return subject, body


def review_reminder(version, recipient: User, *, trust, today: date) -> tuple[str, str]:
    """Subject and body of HR's reminder that the trust's policy is due for review."""
    due = format_date(version.next_review_on)
    days = (version.next_review_on - today).days
    body = _render("tracking/email/policy_review.txt", recipient=recipient, trust=trust, version=version, due=due,
                   days=days, link=absolute("policies.versions"))
    return f"{trust.short_name} social media policy: review due by {due}", body


def consent_decision(record, recipient: User, *, condition: bool) -> tuple[str, str]:
    """Subject and body of the email telling HR or the DPO that someone declined or withdrew monitoring consent."""
    person, withdrawn = record.user, record.decision == "consent withdrawn"
    body = _render("tracking/email/consent_decision.txt", recipient=recipient, person=person, record=record,
                   withdrawn=withdrawn, when=format_datetime(record.created_at), trust=person.trust,
                   reason=record.personal.note if record.personal else None, condition=condition,
                   link=absolute("attestation.consent_decisions"))
    what = "withdrawn" if withdrawn else "declined"
    return f"Consent to monitoring {what}: {person.name}", body


def escalation(person: User, recipient: User, *, step: str, role_label: str, after_days: int, due_on: date,
               today: date, training: str) -> tuple[str, str]:
    """Subject and body of an escalation: someone's training is overdue past the trust's threshold."""
    days = (today - due_on).days
    body = _render("tracking/email/escalation.txt", person=person, recipient=recipient, step=step,
                   role_label=role_label, after_days=after_days, due_on=format_date(due_on), overdue_days=days,
                   training=training, link=absolute("tracking.person", user_id=person.id))
    return f"Overdue training: {person.name}, {days} days overdue", body
