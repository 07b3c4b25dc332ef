"""`flask people set-roles EMAIL [ROLE ...] --by EMAIL`: change a person's roles from the command line, checked
(and ledgered) exactly as the staff import and the roles page are (people.services.change_roles)."""

import sys

import click

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people import services

people_cli = click.Group("people", help="People: change a person's roles.")


@people_cli.command("set-roles")
@click.argument("email")
@click.argument("roles", nargs=-1)
@click.option("--by", "by_email", required=True,
              help="The email of the person making the change: they may give only the roles they could give in "
                   "the app, and never change their own.")
def set_roles_command(email: str, roles: tuple[str, ...], by_email: str) -> None:
    """Give the person with EMAIL exactly the ROLES (role keys, e.g. staff hr; none takes every role away)."""
    user, actor = services.find_user(email), services.find_user(by_email)
    if user is None or actor is None:
        click.echo(f"No person with email {email if user is None else by_email!r}.", err=True)
        sys.exit(2)
    if not actor.active:
        click.echo(f"Refused: {actor.email} has left, so cannot change anyone's roles. Nothing was changed.", err=True)
        sys.exit(2)
    try:
        change = services.change_roles(actor, user, list(roles), source="cli", now=utcnow())
    except services.PeopleError as exc:
        db.session.rollback()
        message = str(exc)
        click.echo(message if message.startswith("Refused") else f"Refused: {message}. Nothing was changed.",
                   err=True)
        sys.exit(2)
    db.session.commit()
    if change is None:
        click.echo(f"{user.email} already holds exactly those roles; nothing was changed.")
    else:
        click.echo(f"{user.email}: roles were {change.before or 'none'}, now {change.after or 'none'} "
                   "(recorded in the ledger)")
