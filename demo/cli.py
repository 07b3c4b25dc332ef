"""`flask demo seed`: the demo's content, cast and history; refused under production config."""

import sys
from datetime import datetime, time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data (never in production).")


@demo_cli.command("seed")
def seed_command():
    """Load content with the demo's earlier versions, then the demo people and their history; idempotent."""
    if not current_app.config["DEMO_ENABLED"]:
        click.echo("Demo data is refused under production config (POLICYPASS_ENV=production): nothing was "
                   "loaded. Use `flask content sync` for the real policies.", err=True)
        sys.exit(1)
    # Imported here, so production config never loads the demo's code or data.
    from sqlalchemy import select

    from demo.cast import DEMO_PASSWORD, DEMO_START, seed_all
    from demo.content import sync_demo_content
    from demo.history import seed_history
    from modules.core.extensions import db
    from modules.core.timeutil import utcnow
    from modules.people.models import Trust, User
    from modules.policies.services import ContentError
    from modules.tracking.services import ensure_assignments

    now = utcnow()
    try:
        report = sync_demo_content(Path(current_app.config["CONTENT_DIR"]), now=now, app=current_app)
    except ContentError as exc:
        db.session.rollback()
        click.echo(f"Demo seed failed, nothing was loaded: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    for line in report.created:
        click.echo(f"created {line}")
    for line in report.skipped:
        click.echo(f"not loaded: {line}; the demo's earlier versions go only into a fresh database")
    logins = seed_all(now=now)
    db.session.commit()
    # The cast started on DEMO_START: the induction they were given then (so some are overdue), then the
    # demo's history (Priya's completion, certificate and approved account).
    as_of = datetime.combine(DEMO_START, time(9))
    for trust in db.session.scalars(select(Trust).where(Trust.platform.is_(False)).order_by(Trust.id)):
        emails = [email for email, _ in logins[trust.short_name]]
        user_ids = list(db.session.scalars(select(User.id).where(User.email.in_(emails))))
        ensure_assignments(trust, now=as_of, user_ids=user_ids)
        seed_history(trust, as_of=as_of)
        db.session.commit()
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for trust, people in logins.items():
        click.echo(f"  {trust}")
        for email, description in people:
            click.echo(f"    {email:<42} {description}")
