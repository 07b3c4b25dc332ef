"""Production means production: no demo sign-ins, secure cookies and HSTS, a configurable ProxyFix, and an
inactivity timeout (a trust rule, shorter for HR) as well as the absolute one."""

import os
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from modules.core.config import ConfigError
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people.models import LoginSession, User
from tests.conftest import TEST_CONFIG, demo_email
from tests.helpers import sign_in

PRODUCTION = {"POLICYPASS_ENV": "production", "PUBLIC_BASE_URL": "https://policypass.example.org",
              "TRUSTED_HOSTS": ["localhost"], "MFA_ENFORCE": True}


def _production_app(db_url, tmp_path, **extra):
    os.environ["DATABASE_URL"] = db_url
    try:
        return create_app({**TEST_CONFIG, "INSTANCE_PATH": str(tmp_path / "prod"), **PRODUCTION, **extra})
    finally:
        os.environ.pop("DATABASE_URL", None)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("POLICYPASS_ENV", "POLICYPASS_DEMO_SERVER", "SESSION_COOKIE_SECURE", "PROXY_FIX_HOPS"):
        monkeypatch.delenv(name, raising=False)


def test_demo_seed_marks_its_accounts(app):
    demo = db.session.scalars(select(User.demo).where(User.email.like("%.demo.policypass.uk"))).all()
    assert demo and all(demo)


def test_production_refuses_to_start_on_a_demo_seeded_database(db_url, tmp_path, clean_env):
    with pytest.raises(ConfigError, match="demo accounts.*POLICYPASS_DEMO_SERVER=1"):
        _production_app(db_url, tmp_path)


def test_an_empty_production_database_starts(empty_db_url, tmp_path, clean_env):
    app = _production_app(empty_db_url, tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_a_demo_server_starts_but_demo_accounts_cannot_sign_in(db_url, tmp_path, clean_env, monkeypatch):
    monkeypatch.setenv("POLICYPASS_DEMO_SERVER", "1")
    app = _production_app(db_url, tmp_path, SESSION_COOKIE_SECURE=False)  # the test client speaks http
    client = app.test_client()
    with app.app_context():
        response = sign_in(client, demo_email("hr", "tkat"))
        assert response.status_code == 401
        assert "Enter a correct email address and password" in response.get_data(as_text=True)
        assert db.session.scalar(select(LoginSession)) is None


def test_production_cookies_and_hsts(empty_db_url, tmp_path, clean_env):
    app = _production_app(empty_db_url, tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax" and app.config["SESSION_COOKIE_HTTPONLY"]
    with app.app_context():
        response = app.test_client().get("/healthz", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


@pytest.mark.parametrize("app_config", [{"PROXY_FIX_HOPS": 1}])
def test_behind_one_trusted_proxy_the_client_address_is_the_forwarded_one(app, client, app_config):
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https",
               "Referer": "https://localhost/sign-in"}  # CSRF checks the referrer on HTTPS
    page = client.get("/sign-in", headers=headers).get_data(as_text=True)
    from tests.helpers import csrf_token

    client.post("/sign-in", headers=headers, data={"email": demo_email("staff", "tkat"),
                                                    "password": "policypass-demo", "csrf_token": csrf_token(page)})
    db.session.rollback()
    assert db.session.scalar(select(LoginSession.ip_address)) == "198.51.100.7"


def test_without_proxy_fix_a_forwarded_header_is_ignored(app, client):
    client.get("/sign-in")
    sign_in(client, demo_email("staff", "tkat"))
    headers = {"X-Forwarded-For": "198.51.100.7"}
    assert client.get("/healthz", headers=headers).status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(LoginSession.ip_address)) == "127.0.0.1"


@pytest.mark.parametrize("app_config", [{"PROXY_FIX_HOPS": 1, "LOGIN_RATE_LIMIT": "2 per minute",
                                         "WTF_CSRF_ENABLED": False}])
def test_rate_limits_count_each_forwarded_client_separately(app, client, app_config):
    def attempt(ip):
        return client.post("/sign-in", headers={"X-Forwarded-For": ip},
                           data={"email": "nobody@example.org", "password": "wrong"}).status_code

    assert [attempt("198.51.100.1") for _ in range(3)][-1] == 429
    assert attempt("198.51.100.2") != 429


def _age_session(client, minutes: int) -> None:
    """As if the browser's last request (and the sign-in) was `minutes` ago."""
    then = utcnow() - timedelta(minutes=minutes)
    with client.session_transaction() as cookie:
        cookie["seen"] = then.isoformat()
    db.session.rollback()
    for row in db.session.scalars(select(LoginSession)):
        row.authenticated_at = min(row.authenticated_at, then)
    db.session.commit()


@pytest.mark.parametrize("local, idle, signed_in", [
    ("staff", 29, True), ("staff", 31, False),   # trust rule default: 30 minutes for signed-in pages
    ("hr", 14, True), ("hr", 16, False),         # shorter for people who manage staff: 15 minutes
])
def test_an_idle_session_ends(app, client, local, idle, signed_in):
    sign_in(client, demo_email(local, "tkat"))
    _age_session(client, idle)
    response = client.get("/")
    assert (response.status_code == 200) is signed_in, response.status_code
    if not signed_in:
        assert "/sign-in" in response.headers["Location"]
        db.session.rollback()
        assert db.session.scalar(select(LoginSession)) is None  # ended for real, not just refused


def test_activity_keeps_a_session_alive_until_the_absolute_limit(app, client):
    sign_in(client, demo_email("staff", "tkat"))
    _age_session(client, 20)
    assert client.get("/").status_code == 200
    with client.session_transaction() as cookie:
        assert utcnow() - datetime.fromisoformat(cookie["seen"]) < timedelta(minutes=1)
    _age_session(client, 25)
    assert client.get("/").status_code == 200  # 45 minutes signed in, never 30 idle
    db.session.rollback()
    for row in db.session.scalars(select(LoginSession)):
        row.created_at = utcnow() - timedelta(hours=13)  # past the 12-hour absolute limit, however active
    db.session.commit()
    assert client.get("/").status_code == 302


def test_the_idle_limits_are_trust_rules(app):
    from modules.people.auth import idle_limit

    hr = db.session.scalar(select(User).where(User.email == demo_email("hr", "tkat")))
    staff = db.session.scalar(select(User).where(User.email == demo_email("staff", "tkat")))
    assert idle_limit(staff) == timedelta(minutes=30) and idle_limit(hr) == timedelta(minutes=15)
    staff.trust.settings = {**staff.trust.settings, "session_idle_minutes": 45}
    assert idle_limit(staff) == timedelta(minutes=45)
