"""What a new policy version means for the quiz bank (modules/wiring.py passes the check to HR's draft review).

Read-only. Questions attach to every version that holds the clauses they cite (see bank.match_versions),
so a question on an unchanged clause is already live on the new version: it carries over.
"""

from sqlalchemy import select

from modules.assessments.models import Question
from modules.core.extensions import db
from modules.policies.diff import Comparison, QuizBankCheck, check_quiz_bank, questions_citing_changes
from modules.policies.models import PolicyVersion


def live_questions(version: PolicyVersion) -> list[Question]:
    """The version's live questions (reviewed or not), in bank order."""
    return list(db.session.scalars(select(Question).where(Question.version_id == version.id,
                                                          Question.active.is_(True))
                                   .order_by(Question.source_line, Question.id)))


def what_changed_questions(version: PolicyVersion, comparison: Comparison) -> list[Question]:
    """The version's drawable questions that cite an added or reworded clause (the "what changed" quiz)."""
    return [q for q in questions_citing_changes(comparison, live_questions(version)) if q.drawable]


def quiz_bank_check(version: PolicyVersion, *, base: PolicyVersion, comparison: Comparison) -> QuizBankCheck:
    """The quiz bank sorted for HR: questions to review, renumbered, carried over, and those on the changes."""
    return check_quiz_bank(comparison, live_questions(base), live_questions(version))
