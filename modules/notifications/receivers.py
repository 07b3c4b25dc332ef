"""Account emails: a password reset link, and a notice whenever a password changes (queued in the outbox,
in the transaction that made the change). Connected to people's signals in modules/wiring.py."""

from flask import current_app

from modules.core.links import absolute
from modules.core.timeutil import format_datetime
from modules.notifications.services import queue_email

#: Outbox reason of a reset email; (part of) the reset's id — a hash, never the token — keeps each link its own message (the outbox is unique per
#: recipient, reason and date, and a person may ask again the same day).
RESET_REASON = "password-reset:{}"


def _render(name: str, **context) -> str:
    """A plain-text email template (rendered without request context processors)."""
    return current_app.jinja_env.get_template(name).render(**context)


def send_reset_link(user, *, token, reset_id, now, expires_at, **_):
    """Queue the email with the single-use reset link."""
    body = _render("notifications/email/password_reset.txt", user=user,
                   link=absolute("auth.reset_password", token=token), expires=format_datetime(expires_at))
    queue_email(recipient=user.email, reason=RESET_REASON.format(reset_id[:16]),
                subject="Reset your PolicyPass password", body=body, now=now, user=user)


def send_password_notice(user, *, now, how, **_):
    """Tell the person their password changed, so a change they did not make does not go unnoticed."""
    body = _render("notifications/email/password_changed.txt", user=user, how=how, when=format_datetime(now),
                   forgot=absolute("auth.forgot_password"))
    queue_email(recipient=user.email, reason=f"password-notice:{how}:{now:%Y%m%dT%H%M%S}",
                subject="Your PolicyPass password was changed", body=body, now=now, user=user)
