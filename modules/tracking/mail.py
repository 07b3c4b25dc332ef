"""The emails tracking sends: staff invitations and training reminders (plain text from templates)."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app

from modules.certificates.links import absolute
from modules.core.timeutil import format_date, format_datetime
from modules.people.models import User
from modules.policies.queries import REVIEW_REMINDER_DAYS

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
    when = f"review due by {due}" if days >= 0 else f"review was due by {due}"
    return f"{trust.short_name} social media policy: {when}", body


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


# ---- previews: every email HR's actions and the daily run send, as HR sees them before they go ------------

#: Stands for the link to the person's training history in an escalation preview.
PREVIEW_PERSON_LINK = "[a link to the person's training history]"


@dataclass(frozen=True)
class EmailPreview:
    """One email as it would be sent: what it is, when it goes, to whom, and its subject and body."""

    key: str
    title: str
    when: str
    to: str
    subject: str
    body: str


def previews(trust, *, academy, today: date, max_age_hours: int, role_labels: dict[str, str],
             version=None) -> list[EmailPreview]:
    """Every email HR sends by hand or the daily run sends for them, written for an example person of the trust
    (at `academy`) from the trust's rules, exactly as the sending code writes it."""
    rules = trust.rules
    person = User(id=0, trust=trust, name="Alex Example", email="alex.example@example.org", job_title="Teacher",
                  academy=academy)
    manager = User(id=0, trust=trust, name="Morgan Example", email="morgan.example@example.org")
    training = "Induction training"
    found: list[EmailPreview] = []
    subject, body = invitation_preview(person, max_age_hours=max_age_hours)
    found.append(EmailPreview("invitation", "Set-password invitation",
                              "When a new person is imported, and when you resend it from their page (“Send the "
                              "set-password link again”): the link is new each time.", "The person", subject, body))
    soon = today + timedelta(days=rules.reminder_days_before)
    subject, body = reminder("due-soon", person, due_on=soon, today=today, training=training)
    found.append(EmailPreview("due-soon", "Reminder: due soon",
                              f"Sent by the daily run {rules.reminder_days_before} days before the due date "
                              "(a trust setting), and when you send a reminder before the due date.",
                              "The person", subject, body))
    late = today - timedelta(days=10)
    subject, body = reminder("overdue", person, due_on=late, today=today, training=training)
    found.append(EmailPreview("overdue", "Reminder: overdue",
                              f"Sent by the daily run every {rules.reminder_repeat_days} days while training is "
                              "overdue (a trust setting), and when you send a reminder (“Send a reminder now”, on "
                              "a person or on a list).", "The person", subject, body))
    subject, body = reminder("manager", person, due_on=late, today=today, training=training, recipient=manager)
    found.append(EmailPreview("manager", "Copy of an overdue reminder to the line manager",
                              "Sent with each overdue reminder of the daily run.", "Their line manager",
                              subject, body))
    for step in rules.escalation:
        label = role_labels.get(step.role or "", "line manager") if step.role else "line manager"
        due = today - timedelta(days=step.after_days)
        subject, body = escalation(person, manager, step=step.key, role_label=label, after_days=step.after_days,
                                   due_on=due, today=today, training=training)
        body = body.replace(absolute("tracking.person", user_id=0), PREVIEW_PERSON_LINK)
        to = "Their line manager" if step.relation else f"The {label} of their academy"
        if step.central_role:
            to += f" (for the central team, the {role_labels.get(step.central_role, step.central_role)})"
        found.append(EmailPreview(f"escalation-{step.key}", f"Escalation to {to[0].lower()}{to[1:]}",
                                  f"Sent once, by the daily run, when training is {step.after_days} days overdue "
                                  "(a trust setting).", to, subject, body))
    if version is not None and version.next_review_on is not None:
        subject, body = review_reminder(version, manager, trust=trust, today=today)
        found.append(EmailPreview("policy-review", "Policy review due",
                                  "Sent by the daily run to everyone who publishes policy versions, from "
                                  f"{REVIEW_REMINDER_DAYS} days before the review date.", "HR (who publishes policy versions)", subject, body))
    if not rules.reminders:
        found = [p for p in found if p.key in ("invitation",)]
    return found
