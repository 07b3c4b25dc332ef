"""`flask certificates …`: render the PDFs of certificates that do not have one yet."""

import click
from flask import current_app
from flask.cli import AppGroup

from modules.certificates.hooks import sweep

certificates_cli = AppGroup("certificates", help="Certificates and their PDFs.")


@certificates_cli.command("render-missing")
def render_missing_command():
    """Render every certificate's PDF that is still missing (after a crash, a failure, or with no worker)."""
    lines = sweep(current_app._get_current_object())
    for line in lines:
        click.echo(line)
    failed = [line for line in lines if line.endswith(": failed")]
    click.echo(f"{len(lines) - len(failed)} of {len(lines)} certificate(s) without a PDF dealt with"
               + (f"; {len(failed)} failed and will be retried" if failed else ""))
    if failed:
        raise SystemExit(1)
