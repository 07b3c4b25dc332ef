"""Deliver what a request queued once its response has gone out (until the Huey queue takes this over)."""

import logging

from flask import Blueprint, current_app, g

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import models as _models  # noqa: F401  (the outbox tables, for every app)

log = logging.getLogger(__name__)

#: No routes: it only carries the app-wide after-request hook.
bp = Blueprint("notifications", __name__)


@bp.after_app_request
def deliver_after_response(response):
    """Send the messages this request queued, after the response is closed, in a fresh app context.

    Only committed messages are found by then (the request's session has ended), so a request that
    failed and rolled back sends nothing.
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
                    send_pending(now=utcnow(), ids=ids)
                except Exception:  # never let mail break a response that has already been sent
                    log.exception("delivering outbox messages %s failed; they stay in the outbox", ids)
                finally:
                    db.session.remove()

        response.call_on_close(deliver)
    return response
