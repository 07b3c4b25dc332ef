"""MAIL_DELIVERY "worker" (the default): a request's email is handed to the Huey queue once the response is
out, and the worker (here, the queue drained in this process as `flask reminders worker` would run it) sends it."""

from datetime import datetime

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications import queue
from modules.notifications.models import OutboxMessage
from modules.tracking import jobs
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)
from tests.people.test_import import _apply_fields, _upload, make_csv, person


def test_a_requests_email_goes_through_the_queue(app, client, login, smtp_sink):  # noqa: F811
    app.config.update({**mail_config(smtp_sink), "MAIL_DELIVERY": "worker"})
    login("hr", "tkat")
    preview = _upload(client, make_csv([person(1)]))
    response = client.post("/staff/import/apply", data=_apply_fields(preview.get_data(as_text=True)))
    assert response.status_code == 302
    response.close()  # the response is out: the message is queued, not sent from the web process
    assert smtp_sink.messages == []
    assert queue.pending_tasks(app) == 1
    assert queue.drain(app) == 1
    [email] = smtp_sink.messages
    assert email["To"] == "new1@school.example"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == "sent")) == 1


def test_the_daily_run_is_a_periodic_task_of_the_worker(app):
    """The worker registers the daily run once, at DAILY_RUN_AT; calling it queues one run."""
    app.config["DAILY_RUN_AT"] = "05:30"
    task = jobs.schedule_daily(app)
    assert jobs.schedule_daily(app) is task
    huey = queue.get_queue(app)
    def daily(at):  # other periodic tasks (the LTI score retry, every 5 minutes) may share the queue
        return [t.name for t in huey.read_periodic(at) if t.name == "daily_run"]

    assert daily(datetime(2026, 12, 3, 5, 30)) == ["daily_run"]
    assert daily(datetime(2026, 12, 3, 6, 0)) == []
    task()
    assert queue.pending_tasks(app) == 1
