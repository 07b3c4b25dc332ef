"""Handing owed scores to the worker once the response has gone out, and the worker's tasks that send them."""

import logging

from flask import Flask, current_app, g

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications.queue import get_queue

log = logging.getLogger(__name__)


def register_tasks(huey, app: Flask) -> None:
    """Add the score tasks to the app's Huey queue (modules/wiring.py passes this to notifications.queue)."""
    from huey import crontab

    @huey.task(name="lti_send_scores")
    def lti_send_scores(ids: list[int]) -> int:
        """Send the given owed scores that are still due; returns how many the platform accepted."""
        # pylti1p3, requests and jwcrypto are imported only in the process that sends, not in every web worker
        from modules.lti.grades import send_scores

        with app.app_context():
            try:
                return len(send_scores(now=utcnow(), ids=ids).sent)
            finally:
                db.session.remove()

    @huey.periodic_task(crontab(minute="*/5"), name="lti_retry_scores")
    def lti_retry_scores() -> int:
        """Every five minutes: send every score whose wait after a failure is over."""
        from modules.lti.grades import send_scores

        with app.app_context():
            try:
                return len(send_scores(now=utcnow()).sent)
            finally:
                db.session.remove()

    huey.policypass_lti_scores = lti_send_scores


def send_after_response(response):
    """After a request that owed scores (an acknowledgement): queue them for the worker once the response is
    closed, so the platform is never called inside the request (LTI_SCORE_DELIVERY "none" leaves them for the
    worker's five-minute retry run, or `flask lti send-scores`)."""
    queued = g.pop("lti_scores_queued", None)
    if queued and current_app.config.get("LTI_SCORE_DELIVERY", "worker") == "worker":
        app = current_app._get_current_object()
        ids = sorted(queued)
        response.call_on_close(lambda: _queue(app, ids))
    return response


def _queue(app: Flask, ids: list[int]) -> None:
    try:
        get_queue(app).policypass_lti_scores(ids)
    except Exception:  # the retry run sends whatever is still owed
        log.exception("queueing scores %s failed; they stay owed", ids)
