"""Render the PDFs of the certificates a request issued once its response has gone out: in the Huey worker,
or in this process — as notifications/hooks.py does for email, and chosen the same way (CERTIFICATE_RENDERING
"worker", "request" or "none"; with "none", or when a hand-over fails, the sweep renders them). "inline" renders
them in this process after the view's commit but before the response is sent: for tests, whose client does not
close responses as a WSGI server does.
"""

import logging

from flask import Blueprint, Flask, current_app, g

from modules.certificates.pdfs import render_certificates, render_missing
from modules.certificates.rendering import use_separate_process
from modules.core.extensions import db
from modules.core.links import request_base
from modules.core.timeutil import utcnow
from modules.notifications.hooks import hand_over
from modules.notifications.queue import get_queue

log = logging.getLogger(__name__)

#: No routes: it only carries the app-wide after-request hook.
bp = Blueprint("certificate_pdfs", __name__)
#: The worker retries a failed render this often, this many seconds apart (then the daily sweep does).
RETRIES, RETRY_DELAY = 3, 30


@bp.after_app_request
def render_after_response(response):
    """Hand the certificates this request issued to the worker (or render them here) once the response is closed.

    Only committed certificates are found by then, so a request that failed and rolled back renders nothing.
    """
    issued = g.pop("certificates_issued", None)
    mode = current_app.config.get("CERTIFICATE_RENDERING")
    if issued and mode in ("worker", "request", "inline"):
        app, ids, base = current_app._get_current_object(), sorted(issued), request_base()
        if mode == "inline":
            emails = _render_inline(ids, base)
            response.call_on_close(lambda: hand_over(app, emails))  # email still goes once the response is out
        else:
            render = _queue_for_worker if mode == "worker" else render_here
            response.call_on_close(lambda: render(app, ids, base))
    return response


def _render_inline(ids: list[int], base: str | None) -> list[int]:
    """Render now, in the request, after its commit (nothing of the view's is still open to hold a lock);
    returns the outbox ids of the emails it queued."""
    db.session.rollback()  # end any read a later hook began; the view has committed its work
    return render_certificates(ids, now=utcnow(), base=base).emails


def render_task(app: Flask):
    """The worker's render task (registered on the app's queue on first use; the worker registers it at start)."""
    huey = get_queue(app)
    task = getattr(huey, "policypass_render", None)
    if task is None:
        @huey.task(name="render_certificates", retries=RETRIES, retry_delay=RETRY_DELAY)
        def render_certificates_task(ids: list[int], base: str | None = None) -> int:
            """Render the certificates' PDFs; raises (so Huey retries) while any failed; returns how many rendered."""
            with app.app_context():
                try:
                    report = render_certificates(ids, now=utcnow(), base=base)
                    hand_over(app, report.emails)
                finally:
                    db.session.remove()
            if report.failed:
                raise RuntimeError(f"certificate PDFs not rendered yet: {report.failed}")
            return len(report.emails)

        @huey.on_startup("certificate_renderer")
        def separate_renderer() -> None:
            """Only in the consumer (Huey runs startup hooks there, never where tasks are queued): render PDFs in a
            separate process, so the consumer stays small (issue 16: ≤ 120 MB after PDFs)."""
            use_separate_process()

        huey.policypass_render = task = render_certificates_task
    return task


def _queue_for_worker(app: Flask, ids: list[int], base: str | None) -> None:
    try:
        render_task(app)(ids, base)
    except Exception:  # the sweep renders whatever is still missing
        log.exception("queueing the PDFs of certificates %s to render failed; the sweep will render them", ids)


def render_here(app: Flask, ids: list[int], base: str | None = None) -> None:
    """Render in this process (after a response, or in tests); failures are noted and left for the sweep."""
    with app.app_context():
        try:
            report = render_certificates(ids, now=utcnow(), base=base)
        finally:
            db.session.remove()
    hand_over(app, report.emails)


def sweep(app: Flask) -> list[str]:
    """Render every certificate still without its PDF, in this process; returns lines for the command's output."""
    report = render_missing(now=utcnow())
    hand_over(app, report.emails)
    return [f"certificate {cid}: {outcome}" for cid, outcome in sorted(report.outcomes.items())]
