"""Read-only queries for quizzes and attempts."""

from sqlalchemy import select

from modules.assessments.models import QuizAttempt
from modules.core.extensions import db
from modules.people.models import User
from modules.policies.models import PolicyVersion


def latest_passed_attempt(user: User, version: PolicyVersion) -> QuizAttempt | None:
    """The person's most recent passed attempt on the version, if any."""
    return db.session.scalar(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id,
                                  QuizAttempt.passed.is_(True))
        .order_by(QuizAttempt.finished_at.desc(), QuizAttempt.id.desc()).limit(1))
