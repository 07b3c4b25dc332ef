"""Deliver what a request queued once its response has gone out (until the Huey queue takes this over)."""

import logging

from flask import Blueprint, current_app, g

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import models as _models  # noqa: F401  (the outbox tables, for every app)
from modules.notifications.queue import BATCH

log = logging.getLogger(__name__)

#: No routes: it only carries the app-wide after-request hook.
bp = Blueprint("notifications", __name__)


@bp.after_app_request
def deliver_after_response(response):
    """Send the messages this request queued, after the response is closed, in a fresh app context.

    Only committed messages are found by then (the request's session has ended), so a request that
    failed and rolled back sends nothing. Every message is tried (a staff import may queue thousands of
    invitations), a batch at a time, each batch with its own `now` so a claim never starts out stale.
    """
    queued = g.pop("outbox_queued", None)
    config = current_app.config
    if queued and config.get("MAIL_SERVER") and config.get("MAIL_SEND_AFTER_RESPONSE"):
        app = current_app._get_current_object()
        ids = sorted(queued)

        def deliver():
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

        response.call_on_close(deliver)
    return response
