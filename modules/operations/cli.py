"""`flask backup OUT`, `flask restore IN [--force]`, `flask restore-drill IN --checkpoint FILE [--public-key PEM]`,
`flask check --deploy`, `flask sar EMAIL --out FILE.zip`, `flask erase EMAIL --reason TEXT`,
`flask retention run [--trust SLUG]`, `flask legal-hold place|lift EMAIL --reason TEXT`."""

import json
import secrets
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.evidence import ledger, signing
from modules.operations import erasure, export, queries
from modules.operations import services as backups
from modules.people.models import Trust, User


def _fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(out: Path) -> None:
    """Write a consistent backup of the database to OUT (SQLite online backup, or pg_dump -Fc)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        backups.backup(url, out)
    except backups.BackupError as exc:
        _fail(f"Backup failed: {exc}")
    click.echo(f"Backup of the {backups.dialect(url)} database written to {out}")


@click.command("restore")
@click.argument("backup_file", metavar="IN", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that already holds data.")
def restore_command(backup_file: Path, force: bool) -> None:
    """Replace the database with the backup IN; refuses a database holding data unless --force."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        backups.check_backup(url, backup_file)
        if backups.holds_data(db.engine) and not force:
            _fail("Refused: the database already holds data and a restore would overwrite it. Nothing was changed. "
                  "Back it up first, then run again with --force.", code=2)
        db.session.remove()
        db.engine.dispose()
        backups.restore(url, backup_file)
    except backups.BackupError as exc:
        _fail(f"Restore failed: {exc}")
    click.echo(f"Restored {backup_file} into the {backups.dialect(url)} database")


@click.command("restore-drill")
@click.argument("backup_file", metavar="IN", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--checkpoint", "checkpoint_file", required=True, type=click.File("r"),
              help="A checkpoint from `flask ledger checkpoint` the restored ledger must still contain.")
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False),
              help="The pinned public key (PEM) to check the checkpoint's signature with; default: derived from "
                   "the configured private signing key.")
def restore_drill_command(backup_file: Path, checkpoint_file, public_key_file: str | None) -> None:
    """Restore IN into a scratch database, verify the ledger there against the checkpoint, then discard it."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        document = json.load(checkpoint_file)
    except ValueError:
        _fail("FAILED checkpoint file is not JSON")
    public_key = _checking_key(public_key_file)
    try:
        backups.check_backup(url, backup_file)
        if backups.dialect(url) == "sqlite":
            with tempfile.TemporaryDirectory(prefix="policypass-drill-") as scratch_dir:
                scratch = f"sqlite:///{Path(scratch_dir) / 'drill.db'}"
                backups.restore(scratch, backup_file)
                problem, summary = _verify_in(scratch, document, public_key)
        else:
            name = f"policypass_drill_{secrets.token_hex(4)}"
            scratch = backups.create_scratch_postgres(url, name)
            try:
                backups.restore(scratch, backup_file)
                problem, summary = _verify_in(scratch, document, public_key)
            finally:
                backups.drop_scratch_postgres(url, name)
    except backups.BackupError as exc:
        _fail(f"FAILED {exc}")
    if problem is not None:
        _fail(f"FAILED {problem}")
    click.echo(f"OK restore drill: {summary} against the checkpoint, in a scratch database now discarded")


def _checking_key(public_key_file: str | None):
    """The public key the checkpoint must be signed with: the pinned file, else the configured signing key's."""
    try:
        if public_key_file:
            return signing.load_public_key(public_key_file)
        key = signing.load_key(create=False)
    except ValueError as exc:
        _fail(f"FAILED {exc}")
    if key is None:
        _fail(f"FAILED no key to check the checkpoint with: pass --public-key FILE or configure the signing key "
              f"(none at {signing.key_path()})")
    return key.public_key()


def _verify_in(scratch_url: str, document: dict, public_key) -> tuple[object | None, str]:
    """Run the ledger verification and the checkpoint check in an app bound to the scratch database."""
    from app import create_app  # the factory registers this module, so it is imported only when a drill runs

    drill = create_app({**current_app.config, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with drill.app_context():
        try:
            report = ledger.verify_ledger()
            problem = report.problem if not report.ok else ledger.check_checkpoint(document, public_key)
            return problem, f"{report.entries} entries in {report.trusts} trust chain(s) verified"
        finally:
            db.session.remove()
            db.engine.dispose()


@click.command("check")
@click.option("--deploy", is_flag=True, help="Check the settings a production deployment needs.")
@click.option("--checkpoint-days", default=7, show_default=True, type=click.IntRange(min=1),
              help="Fail when the last ledger checkpoint is older than this many days.")
def check_command(deploy: bool, checkpoint_days: int) -> None:
    """With --deploy: list every insecure production setting and exit 1 if there is any."""
    if not deploy:
        raise click.UsageError("say what to check: flask check --deploy")
    problems = queries.deploy_problems(current_app.config, now=utcnow(), checkpoint_days=checkpoint_days)
    if problems:
        click.echo(f"{len(problems)} problem(s) with this deployment:", err=True)
        for problem in problems:
            click.echo(f"- {problem}", err=True)
        sys.exit(1)
    click.echo("OK: no insecure production setting found")


@click.command("sar")
@click.argument("email")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ZIP file to write (JSON per table and summary.txt).")
def sar_command(email: str, out: Path) -> None:
    """Write everything held about the person with EMAIL (every table referring to them) to a ZIP."""
    user = _person(email)
    if out.exists():
        _fail(f"{out} already exists; choose a new file.")
    out.write_bytes(export.subject_access_zip(user, now=utcnow()))
    click.echo(f"Subject-access export for {user.email} written to {out}")


def _person(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        _fail(f"No person with email {email!r}.", code=2)
    return user


@click.command("erase")
@click.argument("email")
@click.option("--reason", required=True, help="The lawful request this erasure answers (recorded).")
def erase_command(email: str, reason: str) -> None:
    """Erase a leaver's personal data on a lawful request; refused (and logged) under a legal hold."""
    user = _person(email)
    try:
        result = erasure.erase_person(user, actor=None, basis="request", reason=reason, now=utcnow())
    except erasure.HoldRefusal as refused:
        db.session.commit()  # the refusal's security log entry
        _fail(refused.message, code=3)
    except erasure.ErasureError as exc:
        db.session.rollback()
        _fail(f"Refused: {exc.message}. Nothing was changed.", code=2)
    db.session.commit()
    tables = ", ".join(f"{name} {count}" for name, count in sorted(result.counts.items())) or "nothing else held"
    click.echo(f"Erased the personal data of {email}; they are now {result.pseudonym} ({tables})")


@click.group("retention")
def retention_cli() -> None:
    """Erase leavers' personal data once each trust's retention period has ended."""


@retention_cli.command("run")
@click.option("--trust", "slug", help="Only this trust (its slug).")
def retention_run_command(slug: str | None) -> None:
    """Erase every leaver past their trust's retention period, except those under a legal hold."""
    query = select(Trust).where(Trust.platform.is_(False)).order_by(Trust.slug)
    trusts = list(db.session.scalars(query.where(Trust.slug == slug) if slug else query))
    if slug and not trusts:
        _fail(f"No trust {slug!r}.", code=2)
    now = utcnow()
    for trust in trusts:
        report = erasure.run_retention(trust, today=erasure.london_today(now), now=now)
        db.session.commit()
        months = trust.rules.retention_months_after_leaving
        click.echo(f"{trust.slug}: retention {months} months after leaving; {len(report.erased)} erased, "
                   f"{len(report.held)} kept under a legal hold")
        for refused in report.held:
            click.echo(f"  {refused.message}")


@click.group("legal-hold")
def legal_hold_cli() -> None:
    """Place or lift a legal hold on a person's data (erasure is refused while one is in place)."""


@legal_hold_cli.command("place")
@click.argument("email")
@click.option("--reason", required=True, help="Why the data must be kept (shown when an erasure is refused).")
def hold_place_command(email: str, reason: str) -> None:
    """Place a legal hold on the person with EMAIL."""
    user = _person(email)
    try:
        erasure.place_hold(user, actor=None, reason=reason, now=utcnow())
    except erasure.ErasureError as exc:
        _fail(f"Refused: {exc.message}", code=2)
    db.session.commit()
    click.echo(f"Legal hold placed on {user.email}")


@legal_hold_cli.command("lift")
@click.argument("email")
@click.option("--reason", required=True, help="Why the hold no longer applies.")
def hold_lift_command(email: str, reason: str) -> None:
    """Lift the legal hold on the person with EMAIL."""
    user = _person(email)
    try:
        erasure.lift_hold(user, actor=None, reason=reason, now=utcnow())
    except erasure.ErasureError as exc:
        _fail(f"Refused: {exc.message}", code=2)
    db.session.commit()
    click.echo(f"Legal hold lifted from {user.email}")
