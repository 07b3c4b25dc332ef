"""The daily run, shared by `flask reminders run` and the worker's periodic task.

Like a CLI command it commits (once per trust, then once for the outbox claim list), because what it writes
must exist before anything is sent. Running it twice in a day writes and sends nothing new: the outbox's
unique (recipient, reason, date) key and the access sweep's record of what it has seen are the guards.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select

from modules.access.services import sweep
from modules.certificates.pdfs import render_missing
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import queue
from modules.notifications.delivery import pending_ids
from modules.people.models import Trust
from modules.tracking.background import prune_files
from modules.tracking.reminders import queue_escalations, queue_reminders, queue_review_reminders
from modules.tracking.services import ensure_assignments

log = logging.getLogger(__name__)

#: Where the app keeps the daily run's extra steps (see use_daily_step).
DAILY_STEPS = "policypass_daily_steps"
#: A later package's part of the daily run, for one trust: it adds and flushes, and returns lines for the report.
DailyStep = Callable[..., list[str]]


def use_daily_step(app: Flask, step: DailyStep) -> None:
    """Run `step(trust, now=now)` for every trust in the app's daily run (modules/wiring.py passes it in: a later
    package, such as operations' retention, may not be imported here). Passing the same step again adds nothing."""
    steps = app.extensions.setdefault(DAILY_STEPS, [])
    if step not in steps:
        steps.append(step)


@dataclass
class DailyReport:
    """What one daily run did: a line per trust and the deliveries it queued."""

    lines: list[str] = field(default_factory=list)
    queued_messages: int = 0
    queued_tasks: int = 0


def trusts(slug: str | None = None) -> list[Trust]:
    """Every trust by slug, or only the one named (an empty list when there is none)."""
    query = select(Trust).where(Trust.platform.is_(False)).order_by(Trust.slug)
    if slug:
        query = query.where(Trust.slug == slug)
    return list(db.session.scalars(query))


def run_daily(*, now: datetime, slug: str | None = None) -> DailyReport:
    """Assign what is due, write today's reminders, record lapsed access, run the steps passed in (erasing leavers
    past the retention period), render certificate PDFs still missing, and queue delivery of every email."""
    report = DailyReport()
    for trust in trusts(slug):
        ensure_assignments(trust, now=now)
        reminders = queue_reminders(trust, now=now)
        escalations = queue_escalations(trust, now=now)
        reviews = queue_review_reminders(trust, now=now)
        lapses = sweep(now=now, trust=trust)
        extra = [line for step in current_app.extensions.get(DAILY_STEPS, []) for line in step(trust, now=now)]
        db.session.commit()  # the outbox rows and ledger events exist before anything is sent
        if reminders.enabled:
            counts = ", ".join(f"{kind} {count}" for kind, count in reminders.counts.items())
            report.lines.append(f"{trust.slug}: {counts}")
        else:
            report.lines.append(f"{trust.slug}: reminders are turned off for this trust")
        if escalations:
            report.lines.append(f"{trust.slug}: {len(escalations)} escalation email(s) about overdue training")
        if reviews:
            report.lines.append(f"{trust.slug}: policy review due, {len(reviews)} HR reminder(s)")
        if lapses.observed:
            report.lines.append(f"{trust.slug}: {len(lapses.observed)} access lapse(s) newly observed, "
                                f"{lapses.emails} email(s) to approvers")
        report.lines.extend(f"{trust.slug}: {line}" for line in extra)
    pdfs = render_missing(now=now)  # certificates still without their PDF (a crash, a failure, no worker)
    if pdfs.outcomes:
        report.lines.append(f"certificates: {len(pdfs.emails)} PDF(s) rendered, {len(pdfs.failed)} failed "
                            "(retried at the next run)")
    pruned = prune_files(current_app, now=now)  # finished jobs' packs past JOB_FILES_KEEP_DAYS
    if pruned:
        report.lines.append(f"jobs: {pruned} finished job file(s) deleted")
    waiting = pending_ids(now=now)
    db.session.commit()
    report.queued_messages = len(waiting)
    report.queued_tasks = queue.enqueue_delivery(waiting) if waiting else 0
    return report


def schedule_daily(app: Flask) -> Callable[[], object]:
    """Register the daily run as a periodic task of the app's queue (at DAILY_RUN_AT, UTC); returns the task.

    Only a worker process needs it (`flask reminders worker`); calling the returned task queues one run now.
    """
    huey = queue.get_queue(app)
    task = getattr(huey, "policypass_daily", None)
    if task is None:
        from huey import crontab

        hour, minute = _daily_time(app.config.get("DAILY_RUN_AT", "06:00"))

        @huey.periodic_task(crontab(minute=str(minute), hour=str(hour)), name="daily_run")
        def daily_run() -> int:
            """The daily run for every trust; returns how many messages it queued for delivery."""
            with app.app_context():
                try:
                    report = run_daily(now=utcnow())
                    for line in report.lines:
                        log.info("daily run: %s", line)
                    return report.queued_messages
                finally:
                    db.session.remove()

        huey.policypass_daily = task = daily_run
    return task


def _daily_time(value: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in value.split(":"))
    except ValueError as exc:
        raise RuntimeError(f"DAILY_RUN_AT must be HH:MM (UTC); got {value!r}") from exc
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise RuntimeError(f"DAILY_RUN_AT must be HH:MM (UTC); got {value!r}")
    return hour, minute
