"""Deliver what a request queued once its response has gone out: through the Huey worker, or in this process."""

import logging

from flask import Blueprint, Flask, current_app, g

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import models as _models  # noqa: F401  (the outbox tables, for every app)
from modules.notifications.queue import BATCH, enqueue_delivery

log = logging.getLogger(__name__)

#: No routes: it only carries the app-wide after-request hook.
bp = Blueprint("notifications", __name__)


@bp.after_app_request
def deliver_after_response(response):
    """Hand the messages this request queued to the worker (or send them here) once the response is closed.

    Only committed messages are found by then (the request's session has ended), so a request that failed
    and rolled back sends nothing. With MAIL_DELIVERY "none", or no MAIL_SERVER, they wait in the outbox
    for the daily run.
    """
    queued = g.pop("outbox_queued", None)
    if queued:
        app = current_app._get_current_object()
        ids = sorted(queued)
        response.call_on_close(lambda: hand_over(app, ids))
    return response


def hand_over(app: Flask, ids) -> None:
    """Deliver committed outbox messages as MAIL_DELIVERY says: queue them for the worker, send them in this
    process, or (with "none", or no MAIL_SERVER) leave them in the outbox for the daily run."""
    config = app.config
    mode = config.get("MAIL_DELIVERY")
    ids = sorted(set(ids or ()))
    if ids and config.get("MAIL_SERVER") and mode in ("worker", "request"):
        (_queue_for_worker if mode == "worker" else _send_here)(app, ids)


def _queue_for_worker(app: Flask, ids: list[int]) -> None:
    try:
        enqueue_delivery(ids, app)
    except Exception:  # the daily run queues whatever is still pending
        log.exception("queueing outbox messages %s to %s failed; they stay in the outbox", ids[0], ids[-1])


def _send_here(app: Flask, ids: list[int]) -> None:
    """Every message is tried (an import may queue thousands), a batch at a time, each with its own `now`."""
    from modules.notifications.delivery import send_pending

    with app.app_context():
        try:
            for start in range(0, len(ids), BATCH):
                batch = ids[start:start + BATCH]
                try:
                    send_pending(now=utcnow(), ids=batch)
                except Exception:  # never let mail break a response that has already been sent
                    log.exception("delivering outbox messages %s to %s failed; they stay in the outbox",
                                  batch[0], batch[-1])
                    db.session.rollback()
        finally:
            db.session.remove()
