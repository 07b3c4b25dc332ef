"""Registering a platform (admin page and `flask lti register`), the values shown to paste into the LMS, and
framing: only framed LTI sessions may be framed, by exactly their trust's platforms."""

from sqlalchemy import select

from modules.core.extensions import db
from modules.lti.models import LtiPlatform
from modules.people.models import SecurityEvent
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in

FORM = {"name": "Moodle CPD", "issuer": "https://moodle.tsat.example", "client_id": "abc123",
        "deployment_ids": "1\n2\n", "key_set_url": "https://moodle.tsat.example/mod/lti/certs.php",
        "auth_login_url": "https://moodle.tsat.example/mod/lti/auth.php",
        "auth_token_url": "https://moodle.tsat.example/mod/lti/token.php", "academy": ""}


def test_trust_admin_sees_the_values_to_paste_and_registers_a_platform(client):
    sign_in(client, demo_email("admin", "tsat"))
    page = client.get("/lti/platforms")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "No platform is registered yet" in html
    for path in ("/lti/login", "/lti/launch", "/lti/jwks"):
        assert f"http://localhost{path}" in html
    response = client.post("/lti/platforms", data={**FORM, "csrf_token": csrf_token(html)})
    assert response.status_code == 302
    html = client.get("/lti/platforms").get_data(as_text=True)
    assert "Moodle CPD" in html and "https://moodle.tsat.example" in html and "1, 2" in html
    db.session.rollback()
    platform = db.session.scalar(select(LtiPlatform))
    assert platform.trust.slug == "tsat" and platform.deployment_ids == ["1", "2"]
    assert db.session.scalar(select(SecurityEvent.target).where(SecurityEvent.kind == "lti-platform-registered"))
    again = client.post("/lti/platforms", data={**FORM, "csrf_token": csrf_token(html)})
    assert again.status_code == 400 and "already registered" in again.get_data(as_text=True)


def test_a_bad_address_is_a_clear_error_and_changes_nothing(client):
    sign_in(client, demo_email("admin", "tsat"))
    html = client.get("/lti/platforms").get_data(as_text=True)
    response = client.post("/lti/platforms", data={**FORM, "key_set_url": "certs.php",
                                                   "csrf_token": csrf_token(html)})
    assert response.status_code == 400
    assert "Enter the public keyset URL as a full web address" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(LtiPlatform)) is None


def test_pages_outside_a_launch_may_not_be_framed(client):
    sign_in(client, demo_email("staff", "tsat"))
    page = client.get("/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "SameSite=None" not in page.headers.get("Set-Cookie", "")


def test_cli_registers_a_platform_and_prints_the_tool_values(app):
    result = app.test_cli_runner().invoke(args=[
        "lti", "register", "--trust", "tsat", "--issuer", FORM["issuer"], "--client-id", "abc",
        "--deployment", "1", "--keyset-url", FORM["key_set_url"], "--auth-url", FORM["auth_login_url"],
        "--token-url", FORM["auth_token_url"]])
    assert result.exit_code == 0, result.output
    assert "Initiate login URL: http://127.0.0.1:5000/lti/login" in result.output
    assert "Public keyset URL: http://127.0.0.1:5000/lti/jwks" in result.output
    bad = app.test_cli_runner().invoke(args=[
        "lti", "register", "--trust", "nope", "--issuer", FORM["issuer"], "--client-id", "abc",
        "--deployment", "1", "--keyset-url", "x", "--auth-url", "x", "--token-url", "x"])
    assert bad.exit_code == 2 and "No trust" in bad.output
