"""`flask ledger verify [--trust SLUG] [--checkpoint FILE [--public-key FILE]]` and
`flask ledger checkpoint [--output FILE] [--public-key-out FILE]`.

Evidence records are declared in their features' models.py, which the app imports before any command runs.
"""

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.evidence import ledger, signing
from modules.people.models import Trust

ledger_cli = AppGroup("ledger", help="Verify and checkpoint the per-trust evidence ledger.")


@ledger_cli.command("verify")
@click.option("--trust", "slug", help="Only this trust's chain (its slug).")
@click.option("--checkpoint", "checkpoint_file", type=click.File("r"),
              help="A checkpoint from `flask ledger checkpoint`: also detect truncation or a rewritten chain.")
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False),
              help="The pinned public key (PEM, from `flask ledger checkpoint --public-key-out`) to check the "
                   "checkpoint's signature with; default: derived from the configured private signing key.")
def verify_command(slug: str | None, checkpoint_file, public_key_file: str | None) -> None:
    """Recompute every chain link and record hash; exit 0 when all verify, else 1 naming the first bad entry."""
    if public_key_file and checkpoint_file is None:
        raise click.UsageError("--public-key checks a checkpoint: give --checkpoint FILE too.")
    public_key = _checking_key(public_key_file) if checkpoint_file is not None else None
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
        try:
            document = json.load(checkpoint_file)
        except ValueError:
            click.echo("FAILED checkpoint file is not JSON", err=True)
            sys.exit(1)
        # The key comes from --public-key or our own signing key, never from the document being checked.
        problem = ledger.check_checkpoint(document, public_key, trust_id=trust_id)
        if problem is not None:
            click.echo(f"FAILED {problem}", err=True)
            sys.exit(1)
    click.echo(f"OK {report.entries} entries in {report.trusts} trust chain(s) verified"
               + (" against the checkpoint" if checkpoint_file is not None else ""))


def _checking_key(public_key_file: str | None):
    """The public key a checkpoint must be signed with: the pinned file, else derived from the private key."""
    if public_key_file:
        try:
            return signing.load_public_key(public_key_file)
        except ValueError as exc:
            click.echo(f"FAILED {exc}", err=True)
            sys.exit(1)
    key = signing.load_key(create=False)
    if key is None:
        click.echo(f"FAILED no key to check the checkpoint with: pass --public-key FILE (the signer's public key) "
                   f"or configure the signing key (none at {signing.key_path()})", err=True)
        sys.exit(1)
    return key.public_key()


@ledger_cli.command("checkpoint")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the checkpoint here instead of standard output.")
@click.option("--public-key-out", type=click.Path(dir_okay=False, writable=True),
              help="Also write the signing key's public half here (PEM), for auditors to pin with "
                   "`flask ledger verify --public-key`.")
def checkpoint_command(output: str | None, public_key_out: str | None) -> None:
    """Print the head of every trust's chain, signed with the Ed25519 key kept outside the database."""
    key = signing.load_key(create=True)
    now = utcnow()
    document = ledger.sign_checkpoint(ledger.checkpoint_payload(now), key)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"Checkpoint of {len(document['payload']['heads'])} chain(s) written to {output}", err=True)
    else:
        click.echo(text, nl=False)
    signing.stamp_checkpoint(now)
    if public_key_out:
        with open(public_key_out, "wb") as handle:
            handle.write(signing.public_pem(key.public_key()))
        click.echo(f"Public key written to {public_key_out}", err=True)
    click.echo(f"Signed with Ed25519 public key {document['public_key']} (hex; pin it with --public-key-out)",
               err=True)
