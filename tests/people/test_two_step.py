"""Two-step verification (TOTP): set-up with a QR code, codes at sign-in, recovery codes, and the trust rule that
requires it of people who approve access or export personal data."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people import mfa, secretbox, services
from modules.people.models import RecoveryCode, SecurityEvent, TotpCredential, Trust, User
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in

STAFF = demo_email("staff", "tkat")
HR = demo_email("hr", "tkat")
HEAD = demo_email("head", "tkat")


@pytest.fixture
def app_config() -> dict:
    """Two-step verification is enforced, as in production."""
    return {"MFA_ENFORCE": True}


def _user(email: str) -> User:
    db.session.rollback()
    return db.session.scalar(select(User).where(User.email == email))


def _enrol(client) -> tuple[str, list[str]]:
    """Set up two-step through the pages, as a person would: read the key, answer with the app's code."""
    page = client.get("/account/two-step/set-up")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "QR code to scan" in html
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    wrong = client.post("/account/two-step/set-up", data={"csrf_token": csrf_token(html), "code": "000000"})
    assert wrong.status_code == 400 and "Enter the 6-digit code" in wrong.get_data(as_text=True)
    done = client.post("/account/two-step/set-up", data={
        "csrf_token": csrf_token(html), "code": mfa.code_at(secret, utcnow() - timedelta(seconds=30))})
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client, email: str):
    page = client.get("/sign-in").get_data(as_text=True)
    return client.post("/sign-in", data={"email": email, "password": "policypass-demo",
                                         "csrf_token": csrf_token(page)})


def _code_step(client, code: str):
    page = client.get("/sign-in/code")
    assert page.status_code == 200
    return client.post("/sign-in/code", data={"code": code, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_staff_sets_up_two_step_then_sign_in_asks_for_the_code(app, client):
    """Optional for staff: set up from the account page; then the password alone no longer signs them in."""
    sign_in(client, STAFF)
    assert "Off" in client.get("/account").get_data(as_text=True)
    secret, codes = _enrol(client)
    credential = db.session.get(TotpCredential, _user(STAFF).id)
    assert credential is not None and secret not in credential.secret, "the secret is not stored in clear"
    assert credential.secret.startswith("enc1:") and secretbox.unseal(credential.secret) == secret
    stored = list(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not set(codes) & set(stored), "only hashes are kept"

    other = app.test_client()
    response = _password_step(other, STAFF)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code")
    assert other.get("/").status_code == 302, "not signed in after the password alone"
    wrong = _code_step(other, "123456")
    assert wrong.status_code == 401 and "Enter the current 6-digit code" in wrong.get_data(as_text=True)
    right = _code_step(other, mfa.code_at(secret, utcnow()))
    assert right.status_code == 302
    assert other.get("/").status_code == 200

    db.session.rollback()
    kinds = [(e.kind, e.outcome) for e in db.session.scalars(select(SecurityEvent).order_by(SecurityEvent.id))]
    assert ("two-step-enrolled", "success") in kinds and ("two-step-enrolled", "failure") in kinds
    assert ("two-step-check", "failure") in kinds
    last_sign_in = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "sign-in")
                                      .order_by(SecurityEvent.id.desc())).first()
    assert last_sign_in.details == {"method": "password+totp"}


def test_a_code_works_once_and_a_recovery_code_once(app, client):
    """A code already used cannot sign in again (replay); each recovery code signs in once."""
    sign_in(client, STAFF)
    secret, codes = _enrol(client)
    now = utcnow()
    first = app.test_client()
    _password_step(first, STAFF)
    assert _code_step(first, mfa.code_at(secret, now)).status_code == 302
    replay = app.test_client()
    _password_step(replay, STAFF)
    assert _code_step(replay, mfa.code_at(secret, now)).status_code == 401, "the same code again"
    assert _code_step(replay, codes[0].upper().replace("-", " ")).status_code == 302, "recovery code, as typed"
    again = app.test_client()
    _password_step(again, STAFF)
    assert _code_step(again, codes[0]).status_code == 401, "a recovery code works once"
    assert services.unused_recovery_codes(_user(STAFF)) == 9


def test_the_code_step_locks_after_many_wrong_codes(app, client):
    """After ten wrong codes in 15 minutes even the right code is refused, and the lockout is logged."""
    sign_in(client, STAFF)
    secret, _ = _enrol(client)
    other = app.test_client()
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"  # the per-person count, not the per-client limit, is tested
    _password_step(other, STAFF)
    for _ in range(10):
        assert _code_step(other, "000000").status_code == 401
    locked = _code_step(other, mfa.code_at(secret, utcnow()))
    assert locked.status_code == 401 and "too many wrong codes" in locked.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "sign-in-locked")) is not None


def test_a_late_code_step_starts_again(app, client):
    """The code must follow the password within a few minutes."""
    sign_in(client, STAFF)
    _enrol(client)
    other = app.test_client()
    _password_step(other, STAFF)
    app.config["TWO_STEP_PENDING_MINUTES"] = 0
    response = other.get("/sign-in/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_approvers_and_hr_must_set_up_two_step_before_anything_else(app, client):
    """HR (evidence:export) is sent to set-up from every page until done; then the app works as usual."""
    sign_in(client, HR)
    for path in ("/", "/tracking", "/account", "/tracking/evidence/pack.zip"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/two-step/set-up"), path
    page = client.get("/account/two-step/set-up").get_data(as_text=True)
    assert "Your trust requires two-step verification" in page
    _enrol(client)
    assert client.get("/tracking").status_code == 200
    refused = client.get("/account/two-step/turn-off")
    assert "cannot be turned off" in refused.get_data(as_text=True)
    token = csrf_token(refused.get_data(as_text=True)) if 'name="csrf_token"' in refused.get_data(as_text=True) \
        else csrf_token(client.get("/account").get_data(as_text=True))
    client.post("/account/two-step/turn-off", data={"csrf_token": token, "password": "policypass-demo"})
    assert services.has_two_step(_user(HR)), "still on"


def test_staff_are_not_required_and_may_turn_it_off(app, client):
    """Staff hold neither capability: no redirect; they may turn two-step off with their password."""
    sign_in(client, STAFF)
    assert client.get("/").status_code == 200
    _enrol(client)
    page = client.get("/account/two-step/turn-off").get_data(as_text=True)
    wrong = client.post("/account/two-step/turn-off", data={"csrf_token": csrf_token(page), "password": "nope"})
    assert wrong.status_code == 400
    ok = client.post("/account/two-step/turn-off", data={"csrf_token": csrf_token(page),
                                                         "password": "policypass-demo"})
    assert ok.status_code == 302 and not services.has_two_step(_user(STAFF))
    db.session.rollback()
    assert db.session.scalar(select(RecoveryCode.id)) is None


def test_a_trust_rule_decides_who_must(app, client):
    """A trust whose rule names no capability requires it of no one; one naming training:take, of everyone."""
    tkat = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    tkat.settings = {**tkat.settings, "mfa_required_capabilities": []}
    db.session.commit()
    sign_in(client, HEAD)
    assert client.get("/").status_code == 200
    tkat.settings = {**tkat.settings, "mfa_required_capabilities": ["training:take"]}
    db.session.commit()
    staff = app.test_client()
    sign_in(staff, STAFF)
    assert staff.get("/").headers["Location"].endswith("/account/two-step/set-up")


def test_default_rule_names_approving_and_exporting():
    """The default (modules/people/rules.py, the one home of rule defaults): accounts:approve and evidence:export."""
    from modules.people.rules import TrustRules

    assert TrustRules.from_mapping({}).mfa_required_capabilities == ("accounts:approve", "evidence:export")


def test_new_recovery_codes_replace_the_old(app, client):
    """Asking for new codes stops the old ones."""
    sign_in(client, STAFF)
    secret, old = _enrol(client)
    page = client.get("/account").get_data(as_text=True)
    assert "10 unused recovery codes" in page
    response = client.post("/account/two-step/recovery-codes", data={"csrf_token": csrf_token(page)})
    new = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    other = app.test_client()
    _password_step(other, STAFF)
    assert _code_step(other, old[1]).status_code == 401
    assert _code_step(other, new[1]).status_code == 302


def test_production_refuses_to_switch_enforcement_off(monkeypatch):
    """MFA_ENFORCE=0 is refused under production config."""
    from modules.core.config import ConfigError, load_config

    monkeypatch.setenv("MFA_ENFORCE", "0")
    with pytest.raises(ConfigError, match="MFA_ENFORCE"):
        load_config({"SECRET_KEY": "x", "POLICYPASS_ENV": "production",
                     "PUBLIC_BASE_URL": "https://policypass.example.org"})
