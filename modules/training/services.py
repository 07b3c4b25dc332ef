"""Training use-cases. Add and flush; never commit."""

from datetime import datetime

from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import Section
from modules.training.models import ModuleProgress


def mark_read(user: User, section: Section, *, now: datetime) -> ModuleProgress:
    """Record that the person has read the module; marking it again keeps the first time."""
    progress = db.session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == user.id,
                                                              ModuleProgress.section_id == section.id))
    if progress is None:
        progress = ModuleProgress(user_id=user.id, section_id=section.id, read_at=now)
        db.session.add(progress)
        db.session.flush()
    return progress
