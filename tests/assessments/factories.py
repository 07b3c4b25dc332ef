"""Factories for assessment tests: attempts made directly, and people who have read every module."""

from datetime import datetime

from sqlalchemy import select

from modules.assessments.models import QuizAttempt
from modules.core.extensions import db
from modules.people.models import User
from modules.training.queries import current_version
from tests.conftest import NOW, demo_email


def demo_user(local: str, slug: str) -> User:
    """A demo person by local part and trust slug."""
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def finished_attempt_id(slug: str, local: str = "staff", now: datetime = NOW) -> int:
    """The id of a finished (failed, empty) attempt of a demo person; made once per database."""
    db.session.commit()  # end any read transaction left by a test request, so this one begins as a writer
    user = demo_user(local, slug)
    version = current_version(user.trust_id)
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == user.id,
                                                          QuizAttempt.finished_at.is_not(None)))
    if attempt is None:
        attempt = QuizAttempt(user_id=user.id, version_id=version.id, started_at=now, finished_at=now, score=0,
                              passed=False, pass_mark=80)
        db.session.add(attempt)
        db.session.commit()
    return attempt.id


def read_everything(user: User, now: datetime = NOW) -> None:
    """Mark every module of the person's current version as read (and commit)."""
    from modules.training.services import mark_read

    db.session.commit()  # begin a fresh (writing) transaction
    for section in current_version(user.trust_id).sections:
        mark_read(user, section, now=now)
    db.session.commit()
