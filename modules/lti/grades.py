"""Sending owed scores to platforms (Assignment and Grade Services): by the worker, never inside a request.

Each `LtiScore` row is claimed (committed) before the platform is called, so two senders never post the same
score; a failure is recorded on the row and tried again later with a growing wait, up to
LTI_SCORE_MAX_ATTEMPTS tries, then marked failed for the operator (`flask lti scores`).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from sqlalchemy import or_, select, update

from modules.core.extensions import db
from modules.lti.models import LtiAccount, LtiGradeLink, LtiPlatform, LtiScore
from modules.lti.tool import service_connector

log = logging.getLogger(__name__)

#: A claim older than this is taken as abandoned (the sender died).
CLAIM_TIMEOUT = timedelta(minutes=10)
#: Wait before try n+1 after n failures.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
DEFAULT_LIMIT = 100


@dataclass
class ScoreReport:
    """What one run sent and what failed."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _sendable(now: datetime):
    return or_((LtiScore.status == "pending") & (LtiScore.next_try_at <= now),
               (LtiScore.status == "sending") & (LtiScore.claimed_at < now - CLAIM_TIMEOUT))


def _claim(score_id: int, now: datetime) -> bool:
    result = db.session.execute(update(LtiScore).where(LtiScore.id == score_id, _sendable(now))
                                .values(status="sending", claimed_at=now, attempts=LtiScore.attempts + 1))
    db.session.commit()
    return result.rowcount == 1


def grade_for(score: LtiScore, sub: str) -> Grade:
    """The AGS score: the quiz score out of 100, Completed and FullyGraded, for the platform's user id."""
    stamp = score.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{score.created_at.microsecond // 1000:03d}Z"
    return (Grade().set_score_given(score.score).set_score_maximum(100).set_activity_progress("Completed")
            .set_grading_progress("FullyGraded").set_user_id(sub).set_timestamp(stamp))


def send_scores(*, now: datetime, ids=None, limit: int | None = None) -> ScoreReport:
    """Send owed scores (the given ids, else the oldest due), recording each outcome on its row."""
    report = ScoreReport()
    query = select(LtiScore.id).where(_sendable(now)).order_by(LtiScore.id)
    if ids is not None:
        query = query.where(LtiScore.id.in_(sorted(set(ids))))
    candidates = list(db.session.scalars(query.limit(limit or DEFAULT_LIMIT)))
    db.session.commit()  # end the read: no lock is held while the platform answers
    max_attempts = current_app.config.get("LTI_SCORE_MAX_ATTEMPTS", 5)
    for score_id in candidates:
        if not _claim(score_id, now):
            continue
        score = db.session.get(LtiScore, score_id)
        link: LtiGradeLink = score.link
        account: LtiAccount = link.account
        platform = db.session.get(LtiPlatform, account.platform_id)
        try:
            service = AssignmentsGradesService(service_connector(platform),
                                               {"scope": link.scopes, "lineitem": link.lineitem_url})
            service.put_grade(grade_for(score, account.sub))
        except Exception as exc:  # noqa: BLE001  recorded on the row, tried again later
            db.session.rollback()
            score = db.session.get(LtiScore, score_id)
            score.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if score.attempts >= max_attempts:
                score.status = "failed"
                report.failed.append(score_id)
            else:
                score.status = "pending"
                score.next_try_at = now + BACKOFF[min(score.attempts, len(BACKOFF)) - 1]
            db.session.commit()
            log.warning("score %s to %s failed (try %s): %s", score_id, link.lineitem_url, score.attempts, exc)
            continue
        score.status, score.sent_at, score.last_error = "sent", now, None
        db.session.commit()
        report.sent.append(score_id)
    return report
