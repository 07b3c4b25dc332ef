"""`flask tracking assign`: give everyone the assignments their trust's rules call for today."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people.models import Trust
from modules.tracking.services import ensure_assignments

tracking_cli = AppGroup("tracking", help="Assignments and deadlines.")


@tracking_cli.command("assign")
@click.option("--trust", "slug", help="Only this trust (slug).")
def assign_command(slug: str | None):
    """Create inductions and open refreshes that are due; idempotent, run daily (reminders run does it too)."""
    now = utcnow()
    query = select(Trust).order_by(Trust.slug)
    if slug:
        query = query.where(Trust.slug == slug)
    for trust in db.session.scalars(query).all():
        report = ensure_assignments(trust, now=now)
        db.session.commit()
        made = ", ".join(f"{kind} {count}" for kind, count in report.created.items())
        click.echo(f"{trust.slug}: created {made}; {report.completed} found already complete")
