"""Legal holds on a person's data, and the record of each erasure (which holds no personal data itself)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.core.extensions import db
from modules.people.models import User


class LegalHold(db.Model):
    """A legal hold on a person: while it is in place (not lifted) none of their personal data is erased."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust whose person it is.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: Whose data is held.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Why, as the DPO wrote it (e.g. a claim or an investigation), shown whenever an erasure is refused.
    reason: Mapped[str] = mapped_column(Text)
    #: Who placed it; null for the command line.
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: When it was placed, UTC.
    placed_at: Mapped[datetime]
    #: When it was lifted, UTC; null while it is in place.
    lifted_at: Mapped[datetime | None]
    #: Who lifted it; null for the command line or while in place.
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Why it was lifted.
    lift_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])


class Erasure(db.Model):
    """A person's personal data was erased: when, on what basis and on whose decision. The person's row is
    kept under a pseudonym, so the ids evidence refers to still resolve."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust whose person it was.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The (now pseudonymous) person; one erasure each.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    #: Who decided it (the DPO); null for the retention run and the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: "retention" (the retention period ran out) or "request" (a lawful request, decided by the DPO).
    basis: Mapped[str] = mapped_column(String(20))
    #: The reason given (the person's name and email replaced by the pseudonym).
    reason: Mapped[str] = mapped_column(Text)
    #: When, UTC.
    erased_at: Mapped[datetime]
    #: What was erased, per table: {"acknowledgement": 2, "outbox_message": 5, …}.
    summary: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
