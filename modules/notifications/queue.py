"""The Huey task queue that delivers the outbox: a SQLite store in its own file under instance/ by default
(so it never contends with the app's database writers), Redis when REDIS_URL is set.

The queue only carries "deliver these outbox messages"; whether a message exists at all is decided by the
outbox's unique (recipient, reason, date) key, written before anything is queued. A task run twice, or a
message queued twice, therefore sends nothing twice: delivery claims each pending row before sending it.

One Huey instance per app, made on first use (nothing is opened at start-up). Run a worker with
`flask reminders worker`, or deliver in the same process with `flask reminders run --drain`.
"""

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app

from modules.core.extensions import db
from modules.core.timeutil import utcnow

if TYPE_CHECKING:  # Huey (and through it redis and psycopg) is imported when a queue is first made
    from huey import Huey

log = logging.getLogger(__name__)

QUEUE_NAME = "policypass"
#: Messages per delivery task.
BATCH = 100
EXTENSION = "policypass_huey"
#: app.extensions key: makers of later packages' tasks, `maker(huey, app)`, passed in by modules/wiring.py.
TASK_MAKERS = "policypass_huey_task_makers"


def get_queue(app: Flask | None = None) -> "Huey":
    """The app's Huey instance, made (with its tasks) on first use."""
    app = app or current_app._get_current_object()
    huey = app.extensions.get(EXTENSION)
    if huey is None:
        huey = _make(app)
        app.extensions[EXTENSION] = huey
    return huey


def _make(app: Flask) -> "Huey":
    from huey import RedisHuey, SqliteHuey

    config = app.config
    immediate = bool(config.get("HUEY_IMMEDIATE"))
    if config.get("REDIS_URL"):
        huey: Huey = RedisHuey(config.get("HUEY_QUEUE") or QUEUE_NAME, url=config["REDIS_URL"], immediate=immediate)
    else:
        path = Path(config["HUEY_FILE"])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(config.get("HUEY_QUEUE") or QUEUE_NAME, filename=str(path), immediate=immediate)

    @huey.task(name="deliver_outbox", retries=2, retry_delay=60)
    def deliver_outbox(ids: list[int]) -> int:
        """Send the given outbox messages that are still pending; returns how many were sent."""
        from modules.notifications.delivery import send_pending

        with app.app_context():
            try:
                report = send_pending(now=utcnow(), ids=set(ids), limit=len(ids))
                return len(report.sent)
            finally:
                db.session.remove()

    huey.policypass_deliver = deliver_outbox
    for maker in app.extensions.get(TASK_MAKERS, []):
        maker(huey, app)
    return huey


def add_tasks(app: Flask, maker) -> None:
    """Have the app's queue also carry a later package's tasks (`maker(huey, app)` defines them)."""
    makers = app.extensions.setdefault(TASK_MAKERS, [])
    if maker not in makers:
        makers.append(maker)


def enqueue_delivery(ids, app: Flask | None = None) -> int:
    """Queue delivery of outbox messages (in batches); returns the number of tasks queued."""
    huey = get_queue(app)
    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH):
        huey.policypass_deliver(ids[start:start + BATCH])
    return (len(ids) + BATCH - 1) // BATCH


def drain(app: Flask | None = None) -> int:
    """Run every task waiting in the queue in this process, until it is empty; returns how many ran."""
    huey = get_queue(app)
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


def pending_tasks(app: Flask | None = None) -> int:
    """Tasks waiting in the queue."""
    return get_queue(app).pending_count()


def run_worker(app: Flask, workers: int = 1) -> None:
    """Run a Huey consumer (threads) until interrupted."""
    consumer = get_queue(app).create_consumer(workers=workers, worker_type="thread")
    consumer.run()
