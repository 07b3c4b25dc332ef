"""`flask ledger verify [--trust SLUG] [--checkpoint FILE]` and `flask ledger checkpoint [--output FILE]`."""

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

import modules.attestation.evidence  # noqa: F401  (registers acknowledgement evidence with the ledger)
from modules.attestation import ledger, signing
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people.models import Trust

ledger_cli = AppGroup("ledger", help="Verify and checkpoint the per-trust evidence ledger.")


@ledger_cli.command("verify")
@click.option("--trust", "slug", help="Only this trust's chain (its slug).")
@click.option("--checkpoint", "checkpoint_file", type=click.File("r"),
              help="A checkpoint from `flask ledger checkpoint`: also detect truncation or a rewritten chain.")
def verify_command(slug: str | None, checkpoint_file) -> None:
    """Recompute every chain link and record hash; exit 0 when all verify, else 1 naming the first bad entry."""
    trust_id = None
    if slug:
        trust_id = db.session.scalar(select(Trust.id).where(Trust.slug == slug))
        if trust_id is None:
            click.echo(f"No trust with slug {slug!r}.", err=True)
            sys.exit(2)
    report = ledger.verify_ledger(trust_id)
    if not report.ok:
        click.echo(f"FAILED {report.problem}", err=True)
        sys.exit(1)
    if checkpoint_file is not None:
        key = signing.load_key(create=False)
        if key is None:
            click.echo(f"FAILED no signing key at {signing.key_path()} to check the checkpoint with", err=True)
            sys.exit(1)
        try:
            document = json.load(checkpoint_file)
        except ValueError:
            click.echo("FAILED checkpoint file is not JSON", err=True)
            sys.exit(1)
        problem = ledger.check_checkpoint(document, key.public_key(), trust_id=trust_id)
        if problem is not None:
            click.echo(f"FAILED {problem}", err=True)
            sys.exit(1)
    click.echo(f"OK {report.entries} entries in {report.trusts} trust chain(s) verified"
               + (" against the checkpoint" if checkpoint_file is not None else ""))


@ledger_cli.command("checkpoint")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the checkpoint here instead of standard output.")
def checkpoint_command(output: str | None) -> None:
    """Print the head of every trust's chain, signed with the Ed25519 key kept outside the database."""
    key = signing.load_key(create=True)
    document = ledger.sign_checkpoint(ledger.checkpoint_payload(utcnow()), key)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"Checkpoint of {len(document['payload']['heads'])} chain(s) written to {output}", err=True)
    else:
        click.echo(text, nl=False)
