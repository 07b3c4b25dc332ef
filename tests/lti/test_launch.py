"""LTI 1.3 against a real platform (lti1p3platform on 127.0.0.1): registration and JWKS, login and launch,
matching or provisioning the person, and refusals (tampered, expired, replayed, unknown deployment, wrong
audience) as clear 400/403 pages in the security log."""

import re

import requests
from sqlalchemy import select

from modules.core.extensions import db
from modules.lti.models import LtiAccount, LtiCourse, LtiGradeLink
from modules.people.models import SecurityEvent, User
from tests.conftest import demo_email
from tests.lti.conftest import launch_form, post_launch, register
from tests.lti.platform import INSTRUCTOR, Person


def test_jwks_publishes_the_tool_key_the_platform_checks(platform, tool_url):
    keys = requests.get(f"{tool_url}/lti/jwks", timeout=60).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert "d" not in keys[0]  # the public half only


def test_tsat_learner_launches_into_the_training_matched_by_email(platform, client):
    register(platform)
    email = demo_email("staff", "tsat")
    platform.people["moodle-42"] = Person("moodle-42", "Someone Else", email)
    response = post_launch(client, launch_form(platform, client, "moodle-42"))
    assert response.status_code == 302 and response.location == "/"
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie
    page = client.get("/")
    assert page.status_code == 200 and "Sam Taylor" in page.get_data(as_text=True)  # the demo person, unchanged
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {platform.base};" in csp and "X-Frame-Options" not in page.headers
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == email))
    account = db.session.scalar(select(LtiAccount).where(LtiAccount.sub == "moodle-42"))
    assert account.user_id == user.id
    assert db.session.scalar(select(LtiCourse.memberships_url)) == f"{platform.base}/memberships"
    assert db.session.scalar(select(LtiGradeLink.lineitem_url)) == f"{platform.base}/lineitems/1/lineitem"
    event = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "sign-in")
                               .order_by(SecurityEvent.id.desc())).first()
    assert event.actor_id == user.id and event.details["method"] == "lti"
    # A second launch finds them by the platform's id, whatever email the platform now gives.
    platform.people["moodle-42"].email = "changed@example.org"
    assert post_launch(client, launch_form(platform, client, "moodle-42")).status_code == 302
    assert db.session.scalar(select(User).where(User.email == "changed@example.org")) is None


def test_a_new_person_is_provisioned_into_the_trust_as_staff_and_assigned_training(platform, client):
    from modules.tracking.models import Assignment

    register(platform)
    platform.people["new-1"] = Person("new-1", "Robin New", "robin.new@tsat.example", [INSTRUCTOR])
    response = post_launch(client, launch_form(platform, client, "new-1", target="quiz"))
    assert response.status_code == 302 and response.location == "/quiz"
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == "robin.new@tsat.example"))
    assert user.trust.slug == "tsat" and user.name == "Robin New" and user.role_labels == ["Staff"]
    assert not user.reports  # an Instructor manages nobody unless the trust says so
    assert db.session.scalar(select(Assignment).where(Assignment.user_id == user.id)) is not None


def test_no_email_still_gets_an_account_by_platform_id(platform, client):
    register(platform)
    platform.people["anon-7"] = Person("anon-7", None, None)
    assert post_launch(client, launch_form(platform, client, "anon-7")).status_code == 302
    db.session.rollback()
    account = db.session.scalar(select(LtiAccount).where(LtiAccount.sub == "anon-7"))
    assert account.user.email.endswith("@lti.invalid") and account.user.trust.slug == "tsat"


def _refusals(kind: str = "lti-launch") -> list[SecurityEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind,
                                                               SecurityEvent.outcome == "failure")))


def test_tampered_replayed_and_expired_launches_are_refused_and_logged(platform, client):
    register(platform)
    platform.people["moodle-42"] = Person("moodle-42", "Sam", demo_email("staff", "tsat"))
    form = launch_form(platform, client, "moodle-42")
    header, body, signature = form["id_token"].split(".")
    tampered = {**form, "id_token": f"{header}.{body}.{signature[:-6]}AAAAAA"}
    response = post_launch(client, tampered)
    assert response.status_code == 400
    assert "could not be verified" in response.get_data(as_text=True)
    assert post_launch(client, form).status_code == 302  # the untampered one still works, once
    replay = post_launch(client, form)
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)
    platform.tweak["expiration"] = -120
    expired = post_launch(client, launch_form(platform, client, "moodle-42"))
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    garbage = client.post("/lti/launch", data={"id_token": "not.a.jwt", "state": "x"})
    assert garbage.status_code == 400
    assert [e.details["reason"] for e in _refusals()] == ["invalid-token", "replayed", "expired", "unknown-state"]
    assert all(e.trust_id is not None for e in _refusals()[:3])


def test_unknown_deployment_and_wrong_audience_are_refused(platform, client):
    register(platform)
    platform.people["moodle-42"] = Person("moodle-42", "Sam", demo_email("staff", "tsat"))
    platform.tweak["deployment"] = "dep-unknown"
    response = client.get(f"/lti/login?iss={platform.base}&login_hint=moodle-42&client_id=policypass-client"
                          "&lti_deployment_id=dep-unknown&checked=1")
    assert response.status_code == 403 and "deployment" in response.get_data(as_text=True)
    # The login named no deployment, but the signed launch does.
    started = client.get(f"/lti/login?iss={platform.base}&login_hint=moodle-42&client_id=policypass-client"
                         "&lti_message_hint=resource|moodle-42|&checked=1")
    page = requests.get(started.location, timeout=60).text
    fields = dict(re.findall(r'name="(id_token|state)" value="([^"]*)"', page))
    assert post_launch(client, {"action": "/lti/launch", **fields}).status_code == 403
    platform.tweak = {"audience": "another-tool"}
    wrong = post_launch(client, launch_form(platform, client, "moodle-42"))
    assert wrong.status_code == 403 and "another tool" in wrong.get_data(as_text=True)
    unknown = client.get("/lti/login?iss=https://elsewhere.example&login_hint=x&checked=1")
    assert unknown.status_code == 403 and "not registered" in unknown.get_data(as_text=True)
    reasons = [e.details["reason"] for e in _refusals()]
    assert reasons == ["unknown-deployment", "unknown-deployment", "wrong-audience", "unknown-platform"]


def test_login_page_checks_cookies_and_offers_a_new_window(platform, client):
    register(platform)
    query = f"iss={platform.base}&login_hint=moodle-42&client_id=policypass-client&lti_message_hint=resource|moodle-42|"
    page = client.get(f"/lti/login?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Open PolicyPass in a new window" in html
    assert 'target="_blank"' in html and "new_window=1" in html and "checked=1" in html
    assert f"frame-ancestors {platform.base};" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers
    new_window = client.get(f"/lti/login?{query}&new_window=1")  # the link: straight on to the platform
    assert new_window.status_code == 302 and new_window.location.startswith(f"{platform.base}/authorize?")


def test_a_stale_launched_session_is_sent_back_to_the_lms_to_confirm_before_signing(platform, client):
    from datetime import timedelta

    from modules.people.models import LoginSession
    from tests.attestation.factories import demo_user, passed_attempt

    register(platform)
    platform.people["moodle-42"] = Person("moodle-42", "Sam Taylor", demo_email("staff", "tsat"))
    passed_attempt(demo_user("staff", "tsat"))
    db.session.commit()
    assert post_launch(client, launch_form(platform, client, "moodle-42")).status_code == 302
    db.session.rollback()
    live = db.session.scalar(select(LoginSession).where(LoginSession.method == "lti"))
    live.authenticated_at -= timedelta(hours=2)
    db.session.commit()
    page = client.get("/acknowledge", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Open it again from your course" in html and 'type="password"' not in html
    # A new launch is a fresh proof: the acknowledgement page opens.
    assert post_launch(client, launch_form(platform, client, "moodle-42")).status_code == 302
    assert "Acknowledge the policy" in client.get("/acknowledge").get_data(as_text=True)
