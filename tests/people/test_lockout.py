"""Per-account lockout: after `sign_in_lockout_attempts` refused sign-ins within `sign_in_lockout_minutes` (trust
rules), that address is refused even with the right password, with a message that is the same whether or not an
account has the address; each lockout is in the security log; it ends when the window has passed."""

import pytest
from sqlalchemy import select

from demo.cast import DEMO_PASSWORD
from modules.core.extensions import db
from modules.people.models import LoginSession, SecurityEvent, Trust
from modules.people.rules import TrustRules
from tests.conftest import demo_email
from tests.helpers import csrf_token

STAFF = demo_email("staff", "tkat")
LOCKED = "There have been too many attempts to sign in with this email address"


@pytest.fixture
def app_config():
    return {"LOGIN_RATE_LIMIT": "1000 per minute"}  # the per-account count is tested, not the per-client limit


def _post(client, email, password):
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def test_the_default_is_ten_in_fifteen_minutes_a_trust_setting():
    rules = TrustRules()
    assert (rules.sign_in_lockout_attempts, rules.sign_in_lockout_minutes) == (10, 15)
    assert rules.source("sign_in_lockout_attempts") == ()


def test_ten_refused_sign_ins_lock_the_account_even_for_the_right_password(client, app):
    assert [_post(client, STAFF, f"wrong-{i}").status_code for i in range(10)] == [401] * 10
    locked = _post(client, STAFF, DEMO_PASSWORD)
    assert locked.status_code == 429
    text = locked.get_data(as_text=True)
    assert LOCKED in text and "Wait 15 minutes" in text
    assert db.session.scalar(select(LoginSession.id)) is None
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "sign-in-locked"))
    assert event.target_user.email == STAFF and event.outcome == "failure"
    # Someone else's account is not affected.
    assert _post(client, demo_email("teacher", "tkat"), DEMO_PASSWORD).status_code == 302

    # Once the window has passed (the app's clock moves on), the right password works again.
    app.config["CLOCK_OFFSET_SECONDS"] += 16 * 60
    assert _post(app.test_client(), STAFF, DEMO_PASSWORD).status_code == 302


def test_an_unknown_address_locks_the_same_way(client):
    known = [_post(client, STAFF, "wrong").status_code for _ in range(11)]
    unknown = [_post(client, "nobody@tkat.demo.policypass.uk", "wrong").status_code for _ in range(11)]
    assert known == unknown == [401] * 10 + [429]
    known_text = _post(client, STAFF, "wrong").get_data(as_text=True).replace(STAFF, "X")
    unknown_text = _post(client, "nobody@tkat.demo.policypass.uk", "wrong").get_data(as_text=True).replace(
        "nobody@tkat.demo.policypass.uk", "X")
    assert LOCKED in known_text and LOCKED in unknown_text
    assert known_text.count(LOCKED) == unknown_text.count(LOCKED)


def test_a_trust_sets_its_own_limit(client):
    tkat = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    tkat.settings = {**tkat.settings, "sign_in_lockout_attempts": 3, "sign_in_lockout_minutes": 30}
    db.session.commit()
    assert [_post(client, STAFF, "wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert "Wait 30 minutes" in _post(client, STAFF, DEMO_PASSWORD).get_data(as_text=True)
    # An unknown address at the trust's domain locks after as many, so the limit does not tell them apart.
    unknown = "nobody@tkat.demo.policypass.uk"
    assert [_post(client, unknown, "wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert "Wait 30 minutes" in _post(client, unknown, "wrong").get_data(as_text=True)
