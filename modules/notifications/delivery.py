"""Delivery: send outbox messages by SMTP. Like a CLI command, it commits (once per message), because a
message handed to an SMTP server cannot be rolled back: the claim is committed before sending and the
result after, so a crash between the two leaves a claim that expires rather than a duplicate."""

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as email_date
from email.utils import make_msgid, parseaddr

from flask import current_app
from sqlalchemy import func, or_, select, update

from modules.core.extensions import db
from modules.core.inputs import has_control_characters, one_line
from modules.notifications.models import OutboxMessage

log = logging.getLogger(__name__)

#: A claim older than this is taken as abandoned (the sender crashed) and the message is tried again.
CLAIM_TIMEOUT = timedelta(minutes=10)


@dataclass
class DeliveryReport:
    """What a delivery run did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def failures(self) -> int:
        """Messages this run could not send (failed for good, or to be tried again)."""
        return len(self.failed) + len(self.retrying)


def failures_since(when: datetime) -> int:
    """How many messages tried at or after `when` failed (marked failed, or waiting for another try)."""
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.claimed_at >= when, OutboxMessage.last_error.is_not(None),
        OutboxMessage.status.in_(("failed", "pending")))) or 0


class UnsendableMessage(ValueError):
    """The message cannot be made into a valid email (e.g. a malformed address): retrying will not help."""


def _address(text: str) -> Address:
    """A header address built by the email library, which refuses CR/LF and malformed parts."""
    name, addr_spec = parseaddr(text)
    if not addr_spec or has_control_characters(text):
        raise UnsendableMessage(f"not a valid email address: {text!r}")
    try:
        return Address(display_name=_no_encoded_words(name), addr_spec=addr_spec)  # see _subject
    except (ValueError, IndexError) as exc:  # the header parser's defects are ValueErrors
        raise UnsendableMessage(f"not a valid email address: {text!r} ({exc})") from exc


def _subject(text: str) -> str:
    """The subject on one line, with any RFC 2047 marker broken: the email library decodes encoded words
    ("=?utf-8?q?…?=") in a header it is given and writes what they decode to, a line break included, onto the
    wire (Python before 3.11.10). People never type encoded words, so the subject reads the same."""
    return _no_encoded_words(one_line(text))


def _no_encoded_words(text: str) -> str:
    return text.replace("=?", "=\u2060?")  # a word joiner: invisible, and no encoded word starts any more


def build_message(message: OutboxMessage, *, sender: str) -> EmailMessage:
    """The email as it goes on the wire: plain text, with the outbox's attachments.

    Headers go only through the email library's structured API (Address objects, one-line text), so a line
    break in a name or handle can neither add a header nor make the message invalid; a malformed address
    raises UnsendableMessage.
    """
    email = EmailMessage()
    email["From"] = _address(sender)
    email["To"] = _address(message.recipient)
    email["Subject"] = _subject(message.subject)
    email["Date"] = email_date(message.created_at.replace(tzinfo=UTC))
    email["Message-ID"] = message.message_id or make_msgid(domain=_domain(sender))
    email.set_content(message.body)
    for attachment in message.attachments:
        if attachment.data is None:
            continue
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype or "octet-stream",
                             filename=attachment.filename)
    return email


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "localhost"


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    local = config.get("MAIL_LOCAL_HOSTNAME")
    if config["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, local_hostname=local, timeout=timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, local_hostname=local, timeout=timeout)
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return smtp


def _claim(message_id: int, *, now: datetime) -> bool:
    """Mark one message as being sent by us; False when another sender has it or it is done."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id,
               or_(OutboxMessage.status == "pending",
                   (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - CLAIM_TIMEOUT)))
        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1))
    db.session.commit()
    return result.rowcount == 1


#: Most messages one `send_pending` call sends when it is not given ids.
DEFAULT_LIMIT = 100
#: Ids per IN (…) list when looking up given ids.
ID_CHUNK = 500


def _sendable(now: datetime):
    """Pending, or claimed so long ago that the claim is taken as abandoned."""
    return or_(OutboxMessage.status == "pending",
               (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - CLAIM_TIMEOUT))


def pending_ids(*, now: datetime) -> list[int]:
    """Ids of every message still waiting to be sent (whatever it is for), oldest first."""
    return list(db.session.scalars(select(OutboxMessage.id).where(_sendable(now)).order_by(OutboxMessage.id)))


def send_pending(*, now: datetime, ids: list[int] | set[int] | None = None,
                 limit: int | None = None) -> DeliveryReport:
    """Send pending messages, oldest first, and record the outcome.

    With `ids`, every one of them that is still pending (at most `limit`, if given); without, the oldest
    pending messages up to `limit` (default DEFAULT_LIMIT).
    """
    config = current_app.config
    report = DeliveryReport()
    if not config.get("MAIL_SERVER"):
        return report
    if ids is None:
        query = select(OutboxMessage.id).where(_sendable(now)).order_by(OutboxMessage.id)
        candidates = list(db.session.scalars(query.limit(limit or DEFAULT_LIMIT)))
    else:
        wanted = sorted(set(ids))
        candidates = []
        for start in range(0, len(wanted), ID_CHUNK):
            candidates += db.session.scalars(select(OutboxMessage.id).where(
                _sendable(now), OutboxMessage.id.in_(wanted[start:start + ID_CHUNK])).order_by(OutboxMessage.id))
        if limit is not None:
            candidates = candidates[:limit]
    db.session.commit()  # end the read, so SQLite does not hold the lock while we talk SMTP
    smtp = None
    try:
        for message_id in candidates:
            if not _claim(message_id, now=now):
                continue
            message = db.session.get(OutboxMessage, message_id)
            try:
                if smtp is None:
                    smtp = _connect(config)
                email = build_message(message, sender=config["MAIL_DEFAULT_SENDER"])
                smtp.send_message(email)
            except OSError as exc:  # smtplib.SMTPException is an OSError too: tried again in a later run
                _record_failure(message, exc, config["MAIL_MAX_ATTEMPTS"], report)
                smtp = _close(smtp)  # start the next message on a fresh connection
                continue
            except Exception as exc:  # noqa: BLE001  this message cannot be sent; the rest of the batch still goes
                _record_failure(message, exc, 1, report)
                smtp = _close(smtp)
                continue
            message.status, message.sent_at, message.message_id = "sent", now, email["Message-ID"]
            message.last_error = None
            for attachment in message.attachments:
                attachment.data = None  # the sender keeps its own copy; the outbox need not
            db.session.commit()
            report.sent.append(message_id)
    finally:
        _close(smtp)
    return report


def _record_failure(message: OutboxMessage, exc: Exception, max_attempts: int, report: DeliveryReport) -> None:
    """Record the failure on the message itself: the error, and "failed" once out of attempts."""
    db.session.rollback()  # whatever the failed send left half-done; the claim (attempts) is already committed
    message = db.session.get(OutboxMessage, message.id)
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= max_attempts:
        message.status = "failed"
        report.failed.append(message.id)
    else:
        message.status = "pending"
        report.retrying.append(message.id)
    db.session.commit()
    log.warning("email %s to outbox recipient failed (attempt %s): %s", message.id, message.attempts,
                message.last_error)


def _close(smtp: smtplib.SMTP | None) -> None:
    """Quit the SMTP connection if there is one; always returns None, to reset the caller's handle."""
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return None
