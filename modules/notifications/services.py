"""Outbox use-cases: queue an email in the caller's transaction. Add and flush; never commit."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modules.core.extensions import db
from modules.core.timeutil import LONDON
from modules.notifications.models import OutboxAttachment, OutboxMessage
from modules.people.models import User
from modules.people.services import normalise_email


@dataclass(frozen=True)
class Attachment:
    """A file to attach: name, MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes


def london_date(now: datetime) -> date:
    """The Europe/London calendar date of a stored UTC time."""
    return now.replace(tzinfo=UTC).astimezone(LONDON).date()


def queue_email(*, recipient: str, reason: str, subject: str, body: str, now: datetime,
                user: User | None = None, trust_id: int | None = None,
                attachments: tuple[Attachment, ...] | list[Attachment] = ()) -> OutboxMessage:
    """Write an email to the outbox; the same recipient, reason and date again returns the first one.

    The row is written in the caller's transaction, so it exists exactly when the caller's change commits;
    delivery happens afterwards (see delivery.py).
    """
    recipient = normalise_email(recipient)
    on_date = london_date(now)
    existing = _find(recipient, reason, on_date)
    if existing is not None:
        return existing
    message = OutboxMessage(recipient=recipient, reason=reason, on_date=on_date, subject=subject, body=body,
                            user_id=user.id if user else None,
                            trust_id=trust_id if trust_id is not None else (user.trust_id if user else None),
                            status="pending", attempts=0, created_at=now)
    for item in attachments:
        message.attachments.append(OutboxAttachment(
            filename=item.filename, content_type=item.content_type, size=len(item.data),
            sha256=hashlib.sha256(item.data).hexdigest(), data=item.data))
    try:
        # A savepoint, so a concurrent twin (PostgreSQL) costs only this insert, not the caller's transaction.
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        found = _find(recipient, reason, on_date)
        if found is None:
            raise
        return found
    if has_app_context():
        # Remembered so the request can deliver it once its response has gone out.
        g.setdefault("outbox_queued", set()).add(message.id)
    return message


def _find(recipient: str, reason: str, on_date: date) -> OutboxMessage | None:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == recipient,
                                                         OutboxMessage.reason == reason,
                                                         OutboxMessage.on_date == on_date))
