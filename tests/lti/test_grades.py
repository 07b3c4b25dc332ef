"""Assignment and Grade Services: a launched person who passes and acknowledges is owed their score on the
line item they were launched into, once; the worker (never the request) posts it to the platform, with
Completed/FullyGraded, and tries again later when the platform fails."""

from datetime import timedelta

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.lti.grades import send_scores
from modules.lti.models import LtiScore
from modules.lti.services import owe_scores
from modules.notifications.queue import drain, get_queue
from tests.attestation.factories import acknowledge, demo_user
from tests.conftest import NOW, demo_email
from tests.lti.conftest import launch_form, post_launch, register
from tests.lti.platform import Person


def _launched(platform, client):
    register(platform)
    platform.people["moodle-42"] = Person("moodle-42", "Sam Taylor", demo_email("staff", "tsat"))
    assert post_launch(client, launch_form(platform, client, "moodle-42")).status_code == 302
    db.session.rollback()
    return demo_user("staff", "tsat")


def test_acknowledging_owes_the_score_once_and_the_worker_sends_it(app, platform, client):
    user = _launched(platform, client)
    db.session.commit()
    ack = acknowledge(user, NOW)
    db.session.commit()
    score = db.session.scalar(select(LtiScore))
    assert score.status == "pending" and score.score == 90 and platform.scores == []  # nothing sent yet
    assert owe_scores(ack, now=NOW) == []  # once per line item and acknowledgement
    db.session.commit()
    get_queue(app).policypass_lti_scores([score.id])  # what the after-response hook queues
    assert drain(app) == 1
    assert platform.scores == [{"lineitem": 1, "scoreGiven": 90, "scoreMaximum": 100,
                                "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                "userId": "moodle-42", "timestamp": platform.scores[0]["timestamp"]}]
    assert platform.scores[0]["timestamp"].startswith(ack.created_at.strftime("%Y-%m-%dT%H:%M:%S"))
    db.session.rollback()
    assert db.session.get(LtiScore, score.id).status == "sent"
    assert send_scores(now=NOW + timedelta(hours=1)).sent == []  # sent once
    assert len(platform.scores) == 1


def test_a_failing_gradebook_is_tried_again_later_then_marked_failed(app, platform, client):
    user = _launched(platform, client)
    db.session.commit()
    acknowledge(user, NOW)
    db.session.commit()
    platform.tweak["fail_scores"] = 1
    report = send_scores(now=NOW)
    assert report.sent == [] and platform.scores == []
    score = db.session.scalar(select(LtiScore))
    assert score.status == "pending" and score.attempts == 1 and "503" in score.last_error
    assert send_scores(now=NOW + timedelta(seconds=30)).sent == []  # not before its wait is over
    assert send_scores(now=NOW + timedelta(minutes=2)).sent == [score.id]
    assert len(platform.scores) == 1
    db.session.rollback()
    app.config["LTI_SCORE_MAX_ATTEMPTS"] = 1
    db.session.execute(LtiScore.__table__.update().values(status="pending", attempts=0))
    db.session.commit()
    platform.tweak["fail_scores"] = 5
    assert send_scores(now=NOW + timedelta(hours=1)).failed == [score.id]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LtiScore).where(LtiScore.status == "failed")) == 1


def test_someone_never_launched_owes_nothing(app):
    ack = acknowledge(demo_user("staff", "tsat"), NOW)
    db.session.commit()
    assert owe_scores(ack, now=NOW) == []
    assert db.session.scalar(select(func.count()).select_from(LtiScore)) == 0
