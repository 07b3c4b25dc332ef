"""`flask trust …`: the first platform administrator, a new trust, and a trust's entry of trusts.yaml exported
from the database and imported back (modules/platform/services.py does the work)."""

import sys
from pathlib import Path

import click
import yaml
from flask.cli import AppGroup

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.platform import services

trust_cli = AppGroup("trust", help="Trusts: platform administrators, new trusts, trusts.yaml export and import.")


def _refused(exc: Exception) -> None:
    db.session.rollback()
    click.echo(f"Refused: {getattr(exc, 'message', exc)}. Nothing was changed.", err=True)
    sys.exit(2)


@trust_cli.command("create-admin")
@click.argument("email")
@click.option("--name", required=True, help="Their full name.")
def create_admin_command(email: str, name: str) -> None:
    """Make EMAIL a platform administrator (creates, invites and trusts nobody else's data); prints their
    one-time set-password link and emails it."""
    try:
        user = services.create_platform_admin(email=email, name=name, now=utcnow())
        services.invite(user, now=utcnow())
        link = services.invitation_link(user)
    except services.PlatformError as exc:
        _refused(exc)
    db.session.commit()
    click.echo(f"{user.email} is a platform administrator. Set-password link (works once): {link}")


@trust_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The trust's full name.")
@click.option("--short-name", help="The short name used in the interface (default: the full name).")
def create_command(slug: str, name: str, short_name: str | None) -> None:
    """Create the trust SLUG with the default roles and rules (then add academies and invite its administrator
    in the browser, as a platform administrator)."""
    try:
        trust = services.create_trust(slug=slug, name=name, short_name=short_name or name, actor=None, now=utcnow())
    except services.PlatformError as exc:
        _refused(exc)
    db.session.commit()
    click.echo(f"Created trust {trust.slug} ({trust.name}).")


def dump(entries: list[dict]) -> str:
    """trusts.yaml text for these entries (the shape `flask content sync` and `flask trust import` read)."""
    return yaml.safe_dump({"trusts": entries}, sort_keys=False, allow_unicode=True, width=120)


@trust_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout.")
def export_command(slug: str, output: Path | None) -> None:
    """Print the trust's entry of trusts.yaml as the database holds it (names, role changes, rules)."""
    trust = services.school_trust(slug)
    if trust is None:
        click.echo(f"No trust {slug!r}.", err=True)
        sys.exit(2)
    text = dump([services.export_trust(trust)])
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")


@trust_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Load the trusts in PATH (trusts.yaml's shape) into the database: names, roles and rules, checked as
    `flask content sync` checks them. Policy versions are loaded by `flask content sync` or the upload page."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        click.echo(f"Cannot read {path}: {exc}", err=True)
        sys.exit(2)
    try:
        trusts = services.import_trusts(document, source=str(path), actor=None, now=utcnow())
    except services.PlatformError as exc:
        _refused(exc)
    db.session.commit()
    for trust in trusts:
        click.echo(f"Imported {trust.slug} ({trust.name}).")
