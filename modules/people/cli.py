"""`flask demo seed`."""

import sys
from datetime import datetime, time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people.demo import DEMO_PASSWORD, DEMO_START, seed_all
from modules.people.models import Trust, User
from modules.people.signals import demo_seeded

demo_cli = AppGroup("demo", help="Demo data (never in production).")


@demo_cli.command("seed")
def seed_command():
    """Create demo academies and people for every trust; running it again changes nothing."""
    if not current_app.config["DEMO_ENABLED"]:
        click.echo("Demo data is disabled in production (POLICYPASS_ENV=production).", err=True)
        sys.exit(1)
    logins = seed_all(now=utcnow())
    db.session.commit()
    if not logins:
        click.echo("No trusts yet: run `flask content sync` first.", err=True)
        sys.exit(1)
    as_of = datetime.combine(DEMO_START, time(9))
    for trust in db.session.scalars(select(Trust).order_by(Trust.id)):
        emails = [email for email, _ in logins[trust.short_name]]
        user_ids = list(db.session.scalars(select(User.id).where(User.email.in_(emails))))
        demo_seeded.send(trust, user_ids=user_ids, as_of=as_of)
        db.session.commit()
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for trust, people in logins.items():
        click.echo(f"  {trust}")
        for email, description in people:
            click.echo(f"    {email:<42} {description}")
