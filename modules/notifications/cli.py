"""`flask notifications send` and `flask notifications status`."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications.delivery import send_pending
from modules.notifications.models import OutboxMessage

notifications_cli = AppGroup("notifications", help="The email outbox.")


@notifications_cli.command("send")
@click.option("--limit", default=500, show_default=True, help="Most messages to send in this run.")
def send_command(limit: int):
    """Send pending outbox messages by SMTP; exit 1 if any message failed (for good, or to be tried again)."""
    if not current_app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not set: messages stay in the outbox.", err=True)
        sys.exit(1)
    report = send_pending(now=utcnow(), limit=limit)
    click.echo(f"sent {len(report.sent)}, will retry {len(report.retrying)}, failed {len(report.failed)}")
    if report.failures:
        click.echo(f"{report.failures} message(s) failed to send: see `flask notifications status` and each "
                   "message's last error.", err=True)
    sys.exit(1 if report.failures else 0)


@notifications_cli.command("status")
def status_command():
    """Count outbox messages by status."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = dict(rows.all())
    for status in ("pending", "sending", "sent", "failed"):
        click.echo(f"{status:<8} {counts.get(status, 0)}")
