"""flask backup / restore / restore-drill on SQLite and PostgreSQL."""

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.evidence.models import LedgerEntry
from modules.operations import services as backups
from modules.people.models import User
from tests.conftest import _make_app


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def evidence(app, now) -> int:
    """Two people's acknowledgements in two trusts (ledgered, committed); the ledger's entry count."""
    from tests.attestation.factories import acknowledge, demo_user

    for slug in ("e-act", "tkat"):
        acknowledge(demo_user("staff", slug), now)
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


@pytest.fixture
def checkpoint(app, evidence, tmp_path) -> tuple[Path, Path]:
    """A signed checkpoint of the loaded database (with evidence) and the pinned public key."""
    cp, pub = tmp_path / "head.json", tmp_path / "ledger.pub.pem"
    result = _cli(app, "ledger", "checkpoint", "-o", str(cp), "--public-key-out", str(pub))
    assert result.exit_code == 0, result.output
    return cp, pub


@pytest.fixture
def scratch_url(backend, tmp_path):
    """An empty database of the same kind, dropped afterwards."""
    url = db.engine.url.render_as_string(hide_password=False)
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"pp_scratch_{tmp_path.name[-20:]}".replace("-", "_").lower()
    backups.drop_scratch_postgres(url, name)
    scratch = backups.create_scratch_postgres(url, name)
    yield scratch
    backups.drop_scratch_postgres(url, name)


def test_backup_restore_into_scratch_then_ledger_verify_passes(app, checkpoint, scratch_url, tmp_path):
    cp, pub = checkpoint
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries > 0
    out = tmp_path / "policypass.backup"
    result = _cli(app, "backup", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0

    restored = _make_app(scratch_url, tmp_path / "scratch")
    with restored.app_context():
        result = _cli(restored, "restore", str(out))
        assert result.exit_code == 0, result.output
        result = _cli(restored, "ledger", "verify", "--checkpoint", str(cp), "--public-key", str(pub))
        assert result.exit_code == 0, result.output
        assert f"OK {entries} entries" in result.output
        db.session.remove()
        db.engine.dispose()


def test_restore_drill_verifies_in_a_scratch_database_and_discards_it(app, checkpoint, tmp_path):
    cp, pub = checkpoint
    out = tmp_path / "policypass.backup"
    assert _cli(app, "backup", str(out)).exit_code == 0
    result = _cli(app, "restore-drill", str(out), "--checkpoint", str(cp), "--public-key", str(pub))
    assert result.exit_code == 0, result.output
    assert "OK restore drill" in result.output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        from sqlalchemy import text

        left = db.session.scalar(text("SELECT count(*) FROM pg_database WHERE datname LIKE 'policypass_drill_%'"))
        assert left == 0


def test_restore_drill_fails_when_the_backup_predates_the_checkpoint(app, evidence, tmp_path, now):
    out = tmp_path / "old.backup"
    assert _cli(app, "backup", str(out)).exit_code == 0
    # The live ledger moves on after the backup; a checkpoint of it names an entry the old backup lacks.
    from tests.attestation.factories import acknowledge, demo_user

    before = evidence
    acknowledge(demo_user("staff", "tasmat"), now)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) > before
    cp, pub = tmp_path / "head.json", tmp_path / "pub.pem"
    assert _cli(app, "ledger", "checkpoint", "-o", str(cp), "--public-key-out", str(pub)).exit_code == 0
    result = _cli(app, "restore-drill", str(out), "--checkpoint", str(cp), "--public-key", str(pub))
    assert result.exit_code == 1
    assert "truncated" in result.output


def test_restore_without_force_onto_a_database_with_data_is_refused_and_changes_nothing(app, backend, tmp_path):
    out = tmp_path / "policypass.backup"
    assert _cli(app, "backup", str(out)).exit_code == 0
    users = db.session.scalar(select(func.count()).select_from(User))
    before = _fingerprint(app, backend)
    result = _cli(app, "restore", str(out))
    assert result.exit_code == 2
    assert "Refused" in result.output and "--force" in result.output
    assert _fingerprint(app, backend) == before
    assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_restore_with_force_replaces_the_data(app, tmp_path):
    out = tmp_path / "policypass.backup"
    assert _cli(app, "backup", str(out)).exit_code == 0
    users = db.session.scalar(select(func.count()).select_from(User))
    result = _cli(app, "restore", str(out), "--force")
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert _cli(app, "ledger", "verify").exit_code == 0


def test_a_file_that_is_not_a_backup_is_refused(app, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    result = _cli(app, "restore", str(junk), "--force")
    assert result.exit_code == 1
    assert "Restore failed" in result.output
    assert _cli(app, "ledger", "verify").exit_code == 0


def test_backup_never_overwrites_a_file(app, tmp_path):
    out = tmp_path / "exists.backup"
    out.write_text("keep me")
    result = _cli(app, "backup", str(out))
    assert result.exit_code == 1
    assert out.read_text() == "keep me"


def _fingerprint(app, backend) -> str:
    """A digest of the database's content: the file for SQLite, a dump of every table for PostgreSQL."""
    if backend == "sqlite":
        db.session.remove()
        db.engine.dispose()
        return hashlib.sha256(Path(db.engine.url.database).read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for table in sorted(db.metadata.sorted_tables, key=lambda t: t.name):
        for row in db.session.execute(select(table).order_by(*table.primary_key.columns)).all():
            digest.update(repr(tuple(row)).encode())
    db.session.rollback()
    return digest.hexdigest()
