"""OutboxMessage and OutboxAttachment: every email is a row before it is a message on the wire."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.core.extensions import db


class OutboxMessage(db.Model):
    """An email to one recipient, at most one per (recipient, reason, date); personal data, deletable."""

    __table_args__ = (UniqueConstraint("recipient", "reason", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust it is sent for, if any.
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The person it is sent to, if they have an account (erasing the person deletes their mail).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: The address it goes to, lower-case.
    recipient: Mapped[str] = mapped_column(String(254))
    #: Why it is sent, chosen by the sender, e.g. "certificate-issued:42" or "reminder:overdue".
    reason: Mapped[str] = mapped_column(String(120))
    #: The London date it was queued on; with recipient and reason it makes a message unique.
    on_date: Mapped[date]
    #: Subject line.
    subject: Mapped[str] = mapped_column(String(300))
    #: Plain-text body.
    body: Mapped[str] = mapped_column(Text)
    #: pending → sending → sent, or failed after MAIL_MAX_ATTEMPTS tries.
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    #: Delivery tries so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: The last delivery error, for the operator.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When it was queued, UTC.
    created_at: Mapped[datetime]
    #: When a sender last claimed it, UTC (a claim older than a few minutes is taken as abandoned).
    claimed_at: Mapped[datetime | None]
    #: When the SMTP server accepted it, UTC.
    sent_at: Mapped[datetime | None]
    #: The Message-ID header it was sent with.
    message_id: Mapped[str | None] = mapped_column(String(250))

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True,
        order_by="OutboxAttachment.id")


class OutboxAttachment(db.Model):
    """A file attached to a message; its bytes are dropped once the message is sent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The message it belongs to.
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True)
    #: File name shown to the recipient.
    filename: Mapped[str] = mapped_column(String(200))
    #: MIME type, e.g. "application/pdf".
    content_type: Mapped[str] = mapped_column(String(100))
    #: Size in bytes.
    size: Mapped[int]
    #: sha256 of the bytes, kept after they are dropped.
    sha256: Mapped[str] = mapped_column(String(64))
    #: The bytes; null once the message has been sent (the source, e.g. a certificate, keeps its own copy).
    data: Mapped[bytes | None] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
