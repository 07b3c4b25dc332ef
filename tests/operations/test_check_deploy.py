"""flask check --deploy: fails on the demo defaults, passes on the documented production setup."""

import os
from datetime import timedelta

import pytest

from modules.core.extensions import db
from modules.operations import queries
from tests.conftest import _make_app

GOOD = {
    "POLICYPASS_ENV": "production",
    "PUBLIC_BASE_URL": "https://policypass.example.org",
    "SECRET_KEY": "k" * 20 + "a-long-random-production-secret",
    "SESSION_COOKIE_SECURE": True,
    "MFA_ENFORCE": True,
    "TOTP_ENCRYPTION_KEY": "t" * 20 + "another-long-random-secret",
}


def _check(app, *args):
    return app.test_cli_runner().invoke(args=["check", "--deploy", *args])


def test_the_demo_defaults_fail_with_every_problem_listed(app, monkeypatch):
    monkeypatch.setenv("WEB_WORKERS", "2")
    result = _check(app)
    assert result.exit_code == 1
    for expected in ("POLICYPASS_ENV is not production", "SECRET_KEY is a default", "rate limit is kept in memory",
                     "PUBLIC_BASE_URL is not set", "SESSION_COOKIE_SECURE is off", "demo account(s)",
                     "no ledger signing key", "no ledger checkpoint", "TOTP_ENCRYPTION_KEY is not set"):
        assert expected in result.output, expected


def test_the_demo_domain_is_the_casts():
    from demo.cast import DEMO_DOMAIN

    assert queries.DEMO_DOMAIN == DEMO_DOMAIN


@pytest.fixture
def production(empty_db_url, tmp_path, monkeypatch):
    """The documented production setup on a never-seeded database, the signing key in its own folder."""
    monkeypatch.setenv("WEB_WORKERS", "1")
    keys = tmp_path / "keys"
    app = _make_app(empty_db_url, tmp_path, {**GOOD, "LEDGER_SIGNING_KEY_FILE": str(keys / "ledger.pem")})
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["ledger", "checkpoint", "-o", str(tmp_path / "cp.json")]) \
            .exit_code == 0
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_documented_production_setup_passes(production):
    result = _check(production)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_a_signing_key_readable_by_others_fails(production):
    os.chmod(production.config["LEDGER_SIGNING_KEY_FILE"], 0o644)
    result = _check(production)
    assert result.exit_code == 1
    assert "readable by group or others" in result.output


def test_an_old_checkpoint_fails(production):
    from modules.core.timeutil import utcnow
    from modules.evidence import signing

    signing.stamp_checkpoint(utcnow() - timedelta(days=8))
    result = _check(production)
    assert result.exit_code == 1
    assert "more than 7 days ago" in result.output
    assert _check(production, "--checkpoint-days", "10").exit_code == 0


def test_memory_rate_limits_with_several_workers_fail(production, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    result = _check(production)
    assert result.exit_code == 1
    assert "4 web workers" in result.output


def test_a_signing_key_beside_the_sqlite_database_fails(empty_db_url, tmp_path, backend):
    """On SQLite the database is a file the key must not sit beside; PostgreSQL has no such file."""
    beside = str(tmp_path / "ledger.pem")  # the SQLite test database is tmp_path/test.db
    app = _make_app(empty_db_url, tmp_path, {**GOOD, "LEDGER_SIGNING_KEY_FILE": beside})
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["ledger", "checkpoint", "-o", str(tmp_path / "cp.json")]) \
            .exit_code == 0
        result = _check(app)
        db.session.remove()
        db.engine.dispose()
    if backend == "sqlite":
        assert result.exit_code == 1
        assert "beside the SQLite database" in result.output
    else:
        assert result.exit_code == 0, result.output


def test_no_dedicated_two_step_key_fails(production):
    production.config["TOTP_ENCRYPTION_KEY"] = None
    result = _check(production)
    assert result.exit_code == 1 and "TOTP_ENCRYPTION_KEY is not set" in result.output


def test_single_sign_on_without_its_secret_or_with_an_open_secrets_file_fails(production, tmp_path, monkeypatch):
    import json

    from modules.people.models import Trust

    monkeypatch.delenv("SSO_CLIENT_SECRET_E_ACT", raising=False)
    db.session.add(Trust(slug="e-act", name="E-ACT", short_name="E-ACT", settings={"sso": {
        "kind": "entra", "client_id": "c", "tenant_id": "0e0ac700-0000-4000-8000-00000000e0ac",
        "allowed_domains": ["e-act.org.uk"]}}))
    db.session.commit()
    result = _check(production)
    assert result.exit_code == 1 and "E-ACT has single sign-on but no client secret (set SSO_CLIENT_SECRET_E_ACT" \
        in result.output
    secrets = tmp_path / "sso.json"
    secrets.write_text(json.dumps({"e-act": "s3cret"}))
    secrets.chmod(0o644)
    production.config["SSO_SECRETS_FILE"] = str(secrets)
    result = _check(production)
    assert result.exit_code == 1 and "secrets file" in result.output and "no client secret" not in result.output
    secrets.chmod(0o600)
    assert _check(production).exit_code == 0
    monkeypatch.setenv("SSO_CLIENT_SECRET_E_ACT", "from-env")
    production.config["SSO_SECRETS_FILE"] = None
    assert _check(production).exit_code == 0
