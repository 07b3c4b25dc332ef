"""`flask tracking assign`, and `flask reminders run` / `flask reminders worker`."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from modules.access.services import sweep
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import queue
from modules.notifications.delivery import pending_ids
from modules.people.models import Trust
from modules.tracking.reminders import queue_reminders, queue_review_reminders
from modules.tracking.services import ensure_assignments

tracking_cli = AppGroup("tracking", help="Assignments and deadlines.")
reminders_cli = AppGroup("reminders", help="Training reminder emails.")


@tracking_cli.command("assign")
@click.option("--trust", "slug", help="Only this trust (slug).")
def assign_command(slug: str | None):
    """Create inductions and open refreshes that are due; idempotent, run daily (reminders run does it too)."""
    now = utcnow()
    for trust in _trusts(slug):
        report = ensure_assignments(trust, now=now)
        db.session.commit()
        made = ", ".join(f"{kind} {count}" for kind, count in report.created.items())
        click.echo(f"{trust.slug}: created {made}; {report.completed} found already complete")


def _trusts(slug: str | None) -> list[Trust]:
    query = select(Trust).order_by(Trust.slug)
    if slug:
        query = query.where(Trust.slug == slug)
    trusts = list(db.session.scalars(query))
    if slug and not trusts:
        click.echo(f"No trust with slug {slug!r}.", err=True)
        sys.exit(2)
    return trusts


@reminders_cli.command("run")
@click.option("--trust", "slug", help="Only this trust (slug).")
@click.option("--drain", is_flag=True, help="Also run the queued deliveries in this process (no worker needed).")
def run_command(slug: str | None, drain: bool):
    """Assign what is due, write today's reminders, record lapsed access, and queue delivery of every email.

    Per trust it also runs the access sweep (as `flask access sweep` does): each newly lapsed grant gets its
    "lapse observed" ledger event and its approvers an email. Then every message still waiting in the outbox
    is queued for delivery, whatever it is for (reminders, invitations, certificates, access emails), so
    nothing waits longer than a day for a lost queue or a busy request. Running it again the same day writes
    and sends nothing new: the outbox's unique (recipient, reason, date) key and the sweep's record of what
    it has seen are the guards.
    """
    now = utcnow()
    for trust in _trusts(slug):
        ensure_assignments(trust, now=now)
        report = queue_reminders(trust, now=now)
        reviews = queue_review_reminders(trust, now=now)
        lapses = sweep(now=now, trust=trust)
        db.session.commit()  # the outbox rows and ledger events exist before anything is sent
        if report.enabled:
            counts = ", ".join(f"{kind} {count}" for kind, count in report.counts.items())
            click.echo(f"{trust.slug}: {counts}")
        else:
            click.echo(f"{trust.slug}: reminders are turned off for this trust")
        if reviews:
            click.echo(f"{trust.slug}: policy review due, {len(reviews)} HR reminder(s)")
        if lapses.observed:
            click.echo(f"{trust.slug}: {len(lapses.observed)} access lapse(s) newly observed, "
                       f"{lapses.emails} email(s) to approvers")
    waiting = pending_ids(now=now)
    db.session.commit()
    tasks = queue.enqueue_delivery(waiting) if waiting else 0
    click.echo(f"queued {len(waiting)} message(s) for delivery in {tasks} task(s)")
    if drain:
        if not current_app.config.get("MAIL_SERVER"):
            click.echo("MAIL_SERVER is not set: messages stay in the outbox.", err=True)
        ran = queue.drain()
        click.echo(f"ran {ran} delivery task(s)")


@reminders_cli.command("worker")
@click.option("--workers", default=1, show_default=True, help="Worker threads.")
def worker_command(workers: int):
    """Run the delivery queue's worker until interrupted (Ctrl+C)."""
    queue.run_worker(current_app._get_current_object(), workers=workers)
