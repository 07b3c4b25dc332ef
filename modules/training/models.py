"""Reading progress per person and module."""

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modules.core.extensions import db


class ModuleProgress(db.Model):
    """A person has marked a module (a policy section) as read."""

    __table_args__ = (UniqueConstraint("user_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who read it.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: Which module (section of a policy version).
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), index=True)
    #: When they marked it read, UTC.
    read_at: Mapped[datetime]
