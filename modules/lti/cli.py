"""`flask lti register|platforms|send-scores`: register an LMS for a trust, list them, send owed scores now."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.links import absolute
from modules.core.timeutil import utcnow
from modules.lti import services
from modules.lti.models import LtiPlatform, LtiScore
from modules.people.models import Academy, Trust

lti_cli = AppGroup("lti", help="LTI 1.3: learning platforms (LMSs) that open PolicyPass.")


@lti_cli.command("register")
@click.option("--trust", "slug", required=True, help="The trust's slug (as in content/trusts.yaml).")
@click.option("--issuer", required=True, help="The platform's issuer (Moodle: Platform ID).")
@click.option("--client-id", required=True, help="The client id the platform gave PolicyPass.")
@click.option("--deployment", "deployments", multiple=True, required=True, help="A deployment id (repeatable).")
@click.option("--keyset-url", required=True, help="The platform's public keyset URL.")
@click.option("--auth-url", required=True, help="The platform's authentication request URL.")
@click.option("--token-url", required=True, help="The platform's access token URL.")
@click.option("--name", default="", help="A name for the trust administrator.")
@click.option("--academy", "academy_slug", default=None, help="Academy (slug) for people first seen through it.")
def register_command(slug, issuer, client_id, deployments, keyset_url, auth_url, token_url, name, academy_slug):
    """Register a platform for a trust and print the values to paste into it."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    if trust is None:
        click.echo(f"No trust with slug {slug!r}.", err=True)
        sys.exit(2)
    academy = None
    if academy_slug:
        academy = db.session.scalar(select(Academy).where(Academy.trust_id == trust.id,
                                                          Academy.slug == academy_slug))
        if academy is None:
            click.echo(f"{trust.short_name} has no academy {academy_slug!r}.", err=True)
            sys.exit(2)
    values = services.PlatformValues(name=name, issuer=issuer.rstrip("/"), client_id=client_id,
                                     auth_login_url=auth_url, auth_token_url=token_url, key_set_url=keyset_url,
                                     deployment_ids=tuple(deployments))
    try:
        platform = services.register_platform(trust, values, now=utcnow(), academy=academy)
    except services.RegistrationError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    db.session.commit()
    click.echo(f"Registered {platform.name} for {trust.short_name}. Paste into the platform:")
    _print_tool_values()


def _print_tool_values() -> None:
    for label, endpoint in (("Tool URL", "lti.launch"), ("Initiate login URL", "lti.login"),
                            ("Redirection URI(s)", "lti.launch"), ("Public keyset URL", "lti.keyset")):
        click.echo(f"  {label}: {absolute(endpoint)}")


@lti_cli.command("platforms")
def platforms_command():
    """List registered platforms, and the values to paste into a new one."""
    for platform in db.session.scalars(select(LtiPlatform).order_by(LtiPlatform.trust_id, LtiPlatform.id)):
        click.echo(f"{platform.trust.slug}\t{platform.name}\t{platform.issuer}\t{platform.client_id}\t"
                   f"{','.join(platform.deployment_ids)}")
    _print_tool_values()


@lti_cli.command("send-scores")
def send_scores_command():
    """Send every owed score that is due now (the worker does this every five minutes)."""
    from modules.lti.grades import send_scores

    report = send_scores(now=utcnow(), limit=10_000)
    left = db.session.scalar(select(func.count()).select_from(LtiScore).where(LtiScore.status == "pending"))
    click.echo(f"{len(report.sent)} score(s) sent, {len(report.failed)} failed for good, {left} still owed")
