"""`flask tracking assign`, and `flask reminders run` / `flask reminders worker`."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from modules.certificates.hooks import render_task
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import queue
from modules.notifications.delivery import failures_since
from modules.people.models import Trust
from modules.tracking import background, jobs
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
    trusts = jobs.trusts(slug)
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
    _trusts(slug)  # an unknown slug stops here
    report = jobs.run_daily(now=utcnow(), slug=slug)
    for line in report.lines:
        click.echo(line)
    click.echo(f"queued {report.queued_messages} message(s) for delivery in {report.queued_tasks} task(s)")
    if drain:
        if not current_app.config.get("MAIL_SERVER"):
            click.echo("MAIL_SERVER is not set: messages stay in the outbox.", err=True)
        jobs.schedule_daily(current_app._get_current_object())  # a queued daily run is known here too
        background.register(current_app._get_current_object())  # and a job started from a page
        started = utcnow()
        ran = queue.drain()
        click.echo(f"ran {ran} delivery task(s)")
        failed = failures_since(started)
        db.session.commit()
        if failed:
            click.echo(f"{failed} message(s) failed to send: see `flask notifications status` and each "
                       "message's last error.", err=True)
            sys.exit(1)


@reminders_cli.command("worker")
@click.option("--workers", default=1, show_default=True, help="Worker threads.")
@click.option("--catch-up/--no-catch-up", default=True, show_default=True,
              help="Queue one daily run at start-up (it is idempotent), so a worker started after the daily time "
                   "does not wait a day.")
def worker_command(workers: int, catch_up: bool):
    """Run the queue's worker until interrupted (Ctrl+C): email delivery, and the daily run at DAILY_RUN_AT."""
    app = current_app._get_current_object()
    daily = jobs.schedule_daily(app)
    background.register(app)  # evidence packs and long bulk reminders started from the pages
    render_task(app)  # so the worker knows the certificate PDF task the web processes queue
    if catch_up:
        daily()
    click.echo(f"worker: delivering email and running the daily run at {app.config['DAILY_RUN_AT']} UTC")
    queue.run_worker(app, workers=workers)
