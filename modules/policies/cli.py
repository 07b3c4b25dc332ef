"""`flask content sync` and `flask policy parse`."""

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.policies.parser import PolicyParseError, parse_file
from modules.policies.services import ContentError, sync_content

content_cli = AppGroup("content", help="Load trusts, policies and quiz banks from content/ and quizzes/.")
policy_cli = AppGroup("policy", help="Work with policy source files.")


@content_cli.command("sync")
@click.option("--rules-from-file", is_flag=True,
              help="Replace rules changed on a trust's rules page with trusts.yaml's (by default they are kept).")
def sync_command(rules_from_file: bool):
    """Load or refresh content/ and quizzes/; running it again changes nothing. A trust's rules changed in the
    browser are kept unless --rules-from-file."""
    try:
        report = sync_content(Path(current_app.config["CONTENT_DIR"]), now=utcnow(), app=current_app,
                              rules_from_file=rules_from_file)
    except ContentError as exc:
        db.session.rollback()
        click.echo(f"Content sync failed, nothing was loaded: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    for line in report.created:
        click.echo(f"created {line}")
    for line in report.warnings:
        click.echo(f"Warning: {line}", err=True)
    click.echo(f"{len(report.trusts)} trusts; {len(report.created)} new versions; "
               f"{len(report.unchanged)} unchanged.")


@policy_cli.command("parse")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the structure as JSON.")
def parse_command(path: Path, as_json: bool):
    """Parse a policy file (.docx, .pdf, .txt, .md) without touching the database; warnings go to stderr."""
    try:
        parsed = parse_file(path)
    except (PolicyParseError, OSError) as exc:
        click.echo(f"Cannot parse {path}: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(parsed.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(parsed.title)
    for section in parsed.sections:
        click.echo(f"  {section.number}  {section.title}  ({len(section.clauses)} clauses, {section.confidence} "
                   "confidence)")
    for warning in parsed.warnings:
        click.echo(f"Warning: {warning}", err=True)
