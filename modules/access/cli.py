"""`flask access sweep [--trust SLUG] [--at ISO-TIME]`: record lapses seen and tell the approvers."""

import sys
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from modules.access import services
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people.models import Trust

access_cli = AppGroup("access", help="Official accounts and the authorised-user register.")


@access_cli.command("sweep")
@click.option("--trust", "slug", help="Only this trust (its slug).")
@click.option("--at", "at", help="Evaluate at this UTC time (ISO 8601) instead of now, e.g. to rehearse.")
def sweep_command(slug: str | None, at: str | None) -> None:
    """Record a "lapse observed" ledger event for each newly lapsed grant and email its approvers (idempotent)."""
    trust = None
    if slug:
        trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
        if trust is None:
            click.echo(f"No trust with slug {slug!r}.", err=True)
            sys.exit(2)
    try:
        now = datetime.fromisoformat(at).replace(tzinfo=None) if at else utcnow()
    except ValueError:
        click.echo(f"--at must be an ISO 8601 time, e.g. 2027-01-31T09:00, not {at!r}", err=True)
        sys.exit(2)
    report = services.sweep(now=now, trust=trust)
    db.session.commit()
    click.echo(f"{len(report.observed)} lapse(s) newly observed; {report.emails} email(s) to approvers queued")
