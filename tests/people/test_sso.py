"""Single sign-on per trust against a real OpenID Connect provider (oidc-provider-mock on 127.0.0.1): linking an
invited person on their first sign-in, matching by subject afterwards, refusing other tenants and unverified or
foreign addresses, state and nonce checks, SSO-only staff, sign-out and re-authentication."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.people import services
from modules.people.models import LoginSession, SecurityEvent, SsoIdentity, Trust, User
from modules.people.rules import RulesError, TrustRules
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in
from tests.people.sso_provider import (  # noqa: F401 (fixtures)
    CLIENT_ID,
    E_ACT_DOMAIN,
    E_ACT_TENANT,
    OTHER_TENANT,
    configure_sso,
    provider,
    provider_sign_in,
    sso_secrets,
)

START = "/sign-in/sso/e-act"


def invite(email: str, name: str, now) -> User:
    """An E-ACT member HR has just added (invited: no password yet)."""
    trust = db.session.query(Trust).filter_by(slug="e-act").one()
    user = services.upsert_user(trust, email=email, name=name, now=now)
    services.grant_role(user, "staff")
    db.session.commit()
    return user


def events(kind: str, outcome: str | None = None) -> list[SecurityEvent]:
    query = select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)
    if outcome:
        query = query.where(SecurityEvent.outcome == outcome)
    db.session.expire_all()
    return list(db.session.scalars(query))


def signed_in_name(client) -> str | None:
    page = client.get("/account")
    return page.get_data(as_text=True) if page.status_code == 200 else None


@pytest.fixture
def e_act(app, provider, sso_secrets):  # noqa: F811
    """E-ACT with single sign-on through the test provider."""
    return configure_sso("e-act", provider)


def test_invited_member_is_linked_on_first_sign_in_then_matched_by_subject(app, client, provider, e_act, now):  # noqa: F811
    user = invite(f"asha.patel@{E_ACT_DOMAIN}", "Asha Patel", now)
    provider.put_user("entra-sub-asha", email=f"Asha.Patel@{E_ACT_DOMAIN}", email_verified=True,
                      tid=E_ACT_TENANT, name="Asha Patel")
    started = client.get(START)
    query = parse_qs(urlsplit(started.location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0] and query["client_id"] == [CLIENT_ID]

    back = provider_sign_in(client, START, "entra-sub-asha")
    done = client.get(back)
    assert done.status_code == 302 and done.location.endswith("/"), done.get_data(as_text=True)
    assert "Asha Patel" in (signed_in_name(client) or "")
    identity = db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
    assert (identity.issuer, identity.subject) == (provider.issuer, "entra-sub-asha")
    assert db.session.scalar(select(LoginSession.method).where(LoginSession.user_id == user.id)) == "sso"
    assert [e.target_user_id for e in events("sso-linked")] == [user.id]
    assert events("sign-in", "success")[-1].details == {"method": "sso"}

    # Later sign-ins match the stored subject, not the address: the provider's email changing does not matter.
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/account").get_data(as_text=True))})
    provider.put_user("entra-sub-asha", email=f"a.patel@{E_ACT_DOMAIN}", email_verified=True,
                      tid=E_ACT_TENANT, name="Asha Patel")
    assert client.get(provider_sign_in(client, START, "entra-sub-asha")).status_code == 302
    assert "Asha Patel" in (signed_in_name(client) or "")
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 1


def test_a_user_of_another_tenant_is_refused_with_a_clear_page(app, client, provider, e_act, now):  # noqa: F811
    invite(f"sam.jones@{E_ACT_DOMAIN}", "Sam Jones", now)
    provider.put_user("intruder", email=f"sam.jones@{E_ACT_DOMAIN}", email_verified=True, tid=OTHER_TENANT)
    refused = client.get(provider_sign_in(client, START, "intruder"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "You cannot sign in" in page and "account from another organisation" in page
    assert signed_in_name(client) is None
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 0
    failure = events("sign-in", "failure")[-1]
    assert failure.details["method"] == "sso" and "another tenant" in failure.details["reason"]
    assert failure.trust_id == e_act.id


@pytest.mark.parametrize("claims, reason", [
    ({"email": f"nobody@{E_ACT_DOMAIN}", "email_verified": True}, "no account"),
    ({"email": f"kit.lee@{E_ACT_DOMAIN}", "email_verified": False}, "not verified"),
    ({"email": f"kit.lee@{E_ACT_DOMAIN}"}, "not verified"),
    ({"email": "kit.lee@gmail.com", "email_verified": True}, "domain 'gmail.com' not allowed"),
    ({"email": demo_email("staff", "tkat"), "email_verified": True}, "not allowed"),
])
def test_email_links_only_a_verified_address_of_an_invited_member_in_an_allowed_domain(
        app, client, provider, e_act, now, claims, reason):  # noqa: F811
    invite(f"kit.lee@{E_ACT_DOMAIN}", "Kit Lee", now)
    provider.put_user("someone", tid=E_ACT_TENANT, **claims)
    refused = client.get(provider_sign_in(client, START, "someone"))
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert signed_in_name(client) is None
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 0
    assert reason in events("sign-in", "failure")[-1].details["reason"]


def test_a_leaver_linked_before_cannot_sign_in(app, client, provider, e_act, now):  # noqa: F811
    user = invite(f"leaver@{E_ACT_DOMAIN}", "Lee Vers", now)
    provider.put_user("leaver-sub", email=f"leaver@{E_ACT_DOMAIN}", email_verified=True, tid=E_ACT_TENANT)
    assert client.get(provider_sign_in(client, START, "leaver-sub")).status_code == 302
    services.mark_left(db.session.get(User, user.id), on=now.date(), now=now)
    db.session.commit()
    fresh = app.test_client()
    refused = fresh.get(provider_sign_in(fresh, START, "leaver-sub"))
    assert refused.status_code == 403 and "account is closed" in refused.get_data(as_text=True)


def test_tampered_state_is_a_clear_400_and_signs_no_one_in(app, client, provider, e_act, now):  # noqa: F811
    invite(f"tam@{E_ACT_DOMAIN}", "Tam Per", now)
    provider.put_user("tam", email=f"tam@{E_ACT_DOMAIN}", email_verified=True, tid=E_ACT_TENANT)
    back = provider_sign_in(client, START, "tam")
    path, query = back.split("?", 1)
    params = parse_qs(query)
    for tampered in (f"{path}?code={params['code'][0]}&state=forged", f"{path}?code={params['code'][0]}",
                     f"{path}?state={params['state'][0]}x&code=x"):
        answer = client.get(tampered)
        assert answer.status_code == 400, (tampered, answer.status_code)
        assert "not started in this browser" in answer.get_data(as_text=True)
    assert signed_in_name(client) is None
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 0
    assert all(e.details["reason"] == "state does not match" for e in events("sign-in", "failure"))


def test_an_id_token_with_another_sign_ins_nonce_is_refused(app, client, provider, e_act, now):  # noqa: F811
    """A code from one sign-in replayed with another sign-in's state (code injection): the ID token carries the
    first sign-in's nonce, so it is refused with a clear 400."""
    invite(f"nonce@{E_ACT_DOMAIN}", "Non Ce", now)
    provider.put_user("nonce", email=f"nonce@{E_ACT_DOMAIN}", email_verified=True, tid=E_ACT_TENANT)
    first = parse_qs(urlsplit(provider_sign_in(client, START, "nonce")).query)
    second_start = client.get(START)
    second_state = parse_qs(urlsplit(second_start.location).query)["state"][0]
    answer = client.get(f"{START}/callback?code={first['code'][0]}&state={second_state}")
    assert answer.status_code == 400
    assert "could not be trusted" in answer.get_data(as_text=True)
    assert signed_in_name(client) is None
    assert "nonce" in events("sign-in", "failure")[-1].details["reason"]


def test_provider_error_and_cancel_are_clear_pages(app, client, provider, e_act):  # noqa: F811
    started = client.get(START)
    denied = requests.post(started.location, data={"action": "deny"}, allow_redirects=False, timeout=30)
    back = urlsplit(denied.headers["location"])
    answer = client.get(f"{back.path}?{back.query}")
    assert answer.status_code == 400 and "did not finish signing in" in answer.get_data(as_text=True)


def test_sso_only_for_staff_refuses_their_password_but_not_a_break_glass_admin(app, client, provider, now):  # noqa: F811
    configure_sso("e-act", provider, required_for_staff=True)
    staff = sign_in(client, demo_email("staff", "e-act"))
    assert staff.status_code == 401
    assert "signs staff in with single sign-on" in staff.get_data(as_text=True)
    assert signed_in_name(client) is None
    failure = events("sign-in", "failure")[-1]
    assert failure.details["reason"] == "the trust signs staff in with single sign-on only"
    # A wrong password still gets the usual answer: the SSO hint is only for someone who knew the password.
    wrong = sign_in(client, demo_email("staff", "e-act"), "not-the-password")
    assert "single sign-on" not in wrong.get_data(as_text=True)
    # No reset link for them either (the page answers the same as ever).
    before = db.session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.kind == "password-reset-requested", SecurityEvent.outcome == "success"))
    page = client.get("/forgot-password").get_data(as_text=True)
    client.post("/forgot-password", data={"email": demo_email("staff", "e-act"), "csrf_token": csrf_token(page)})
    assert db.session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.kind == "password-reset-requested", SecurityEvent.outcome == "success")) == before

    admin = app.test_client()
    assert "admin" in demo_email("admin", "e-act")
    assert sign_in(admin, demo_email("admin", "e-act")).status_code == 200
    assert signed_in_name(admin) is not None
    # Other trusts are untouched.
    assert sign_in(app.test_client(), demo_email("staff", "tkat")).status_code == 200


def test_sign_out_ends_the_session_and_offers_the_providers_end_session(app, client, provider, e_act, now):  # noqa: F811
    invite(f"out@{E_ACT_DOMAIN}", "Owen Out", now)
    provider.put_user("out", email=f"out@{E_ACT_DOMAIN}", email_verified=True, tid=E_ACT_TENANT)
    client.get(provider_sign_in(client, START, "out"))
    token = csrf_token(client.get("/account").get_data(as_text=True))
    out = client.post("/sign-out", data={"csrf_token": token})
    assert out.location.endswith("/sign-in/sso/e-act/signed-out")
    page = client.get(out.location).get_data(as_text=True)
    assert "You have signed out of PolicyPass" in page
    assert f'href="{provider.issuer}/oauth2/end_session?' in page
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Fsign-in" in page and f"client_id={CLIENT_ID}" in page
    assert signed_in_name(client) is None
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_re_authentication_goes_back_to_the_provider(app, client, provider, e_act, now):  # noqa: F811
    user = invite(f"re@{E_ACT_DOMAIN}", "Rhea Auth", now)
    provider.put_user("re", email=f"re@{E_ACT_DOMAIN}", email_verified=True, tid=E_ACT_TENANT)
    client.get(provider_sign_in(client, START, "re"))
    live = db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    live.authenticated_at -= timedelta(hours=2)
    db.session.commit()
    page = client.get("/reauthenticate?next=/account").get_data(as_text=True)
    assert "Continue with your E-ACT Microsoft account" in page
    start = "/sign-in/sso/e-act?again=1&next=/account"
    assert 'href="/sign-in/sso/e-act?again=1&amp;next=/account"' in page
    started = client.get(start)
    assert parse_qs(urlsplit(started.location).query)["prompt"] == ["login"]
    answer = requests.post(started.location, data={"sub": "re"}, allow_redirects=False, timeout=30)
    back = urlsplit(answer.headers["location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302 and done.location.endswith("/account")
    db.session.expire_all()
    assert db.session.get(LoginSession, live.id).authenticated_at > live.created_at


def test_a_missing_client_secret_or_wrong_issuer_is_a_clear_page(app, client, provider, now):  # noqa: F811
    configure_sso("e-act", provider)
    app.config["SSO_SECRETS_FILE"] = None
    answer = client.get(START)
    assert answer.status_code == 503 and "SSO_CLIENT_SECRET_E_ACT" in answer.get_data(as_text=True)


def test_metadata_naming_another_issuer_is_refused(app, client, provider, sso_secrets):  # noqa: F811
    configure_sso("e-act", provider, issuer=provider.issuer + "/")
    answer = client.get(START)
    assert answer.status_code == 502 and "names another issuer" in answer.get_data(as_text=True)


def test_secret_from_the_environment_wins(app, monkeypatch):
    from modules.people import sso

    monkeypatch.setenv("SSO_CLIENT_SECRET_E_ACT", "from-env")
    assert sso.client_secret("e-act") == "from-env"
    assert sso.secret_env_name("tkat") == "SSO_CLIENT_SECRET_TKAT"


def test_unknown_trust_or_trust_without_sso_is_404(app, client):
    assert client.get("/sign-in/sso/nope").status_code == 404
    assert client.get("/sign-in/sso/tkat/callback?code=x&state=y").status_code == 404


@pytest.mark.parametrize("sso, key", [
    ({"kind": "entra", "client_id": "x", "tenant_id": "common", "allowed_domains": ["a.sch.uk"]}, "sso.tenant_id"),
    ({"kind": "entra", "client_id": "x", "tenant_id": "organizations", "allowed_domains": ["a.sch.uk"]},
     "sso.tenant_id"),
    ({"kind": "entra", "client_id": "x", "tenant_id": "contoso.onmicrosoft.com", "allowed_domains": ["a.sch.uk"]},
     "sso.tenant_id"),
    ({"kind": "entra", "client_id": "x", "tenant_id": E_ACT_TENANT, "allowed_domains": ["a.sch.uk"],
      "issuer": "https://login.microsoftonline.com/common/v2.0"}, "sso.issuer"),
    ({"kind": "google", "client_id": "x"}, "sso.hosted_domains"),
    ({"kind": "oidc", "client_id": "x", "allowed_domains": ["a.sch.uk"]}, "sso.issuer"),
    ({"kind": "oidc", "client_id": "x", "issuer": "http://idp.example.org", "allowed_domains": ["a.sch.uk"]},
     "sso.issuer"),
    ({"kind": "oidc", "client_id": "x", "issuer": "https://idp.example.org"}, "sso.allowed_domains"),
    ({"kind": "oidc", "client_id": "x", "issuer": "https://idp.example.org", "allowed_domains": ["A.UK"]},
     "sso.allowed_domains[0]"),
    ({"kind": "oidc", "client_id": "x", "issuer": "https://idp.example.org", "allowed_domains": ["a.sch.uk"],
      "password_capabilities": ["root"]}, "sso.password_capabilities"),
    ({"kind": "entra", "client_id": "x", "tenant_id": E_ACT_TENANT, "allowed_domains": ["a.sch.uk"],
      "client_secret": "s3cret"}, "sso.client_secret"),
])
def test_unusable_sso_rules_are_refused_naming_the_key(sso, key):
    with pytest.raises(RulesError) as refused:
        TrustRules.from_mapping({"sso": sso})
    assert refused.value.key == key


def test_sso_rules_derive_issuers():
    entra = TrustRules.from_mapping({"sso": {"kind": "entra", "client_id": "x", "tenant_id": E_ACT_TENANT.upper(),
                                             "allowed_domains": ["e-act.org.uk"]}}).sso
    assert entra.expected_issuer == f"https://login.microsoftonline.com/{E_ACT_TENANT}/v2.0"
    google = TrustRules.from_mapping({"sso": {"kind": "google", "client_id": "x",
                                              "hosted_domains": ["tsat.org.uk"]}}).sso
    assert google.expected_issuer == "https://accounts.google.com"
    assert google.email_domains == ("tsat.org.uk",)
    assert google.button_label("TSAT") == "your TSAT Google account"
    assert TrustRules.from_mapping({}).sso is None


def test_google_workspace_checks_the_hosted_domain(app, client, provider, sso_secrets, now):  # noqa: F811
    configure_sso("e-act", provider, kind="google", tenant_id=None, hosted_domains=[E_ACT_DOMAIN],
                  allowed_domains=[])
    invite(f"gee@{E_ACT_DOMAIN}", "Gee Suite", now)
    provider.put_user("gmail-user", email=f"gee@{E_ACT_DOMAIN}", email_verified=True, hd="gmail.com")
    refused = client.get(provider_sign_in(client, START, "gmail-user"))
    assert refused.status_code == 403 and "another organisation" in refused.get_data(as_text=True)
    assert "another hosted domain" in events("sign-in", "failure")[-1].details["reason"]
    provider.put_user("workspace-user", email=f"gee@{E_ACT_DOMAIN}", email_verified=True, hd=E_ACT_DOMAIN)
    started = client.get(START)
    assert parse_qs(urlsplit(started.location).query)["hd"] == [E_ACT_DOMAIN]
    assert client.get(provider_sign_in(client, START, "workspace-user")).status_code == 302
    assert "Gee Suite" in (signed_in_name(client) or "")


def test_entra_links_on_xms_edov_when_it_sends_no_email_verified(app, client, provider, e_act, now):  # noqa: F811
    """Entra ID never sends email_verified; its optional claim xms_edov (domain owner verified) stands in."""
    user = invite(f"ed.ov@{E_ACT_DOMAIN}", "Ed Ov", now)
    provider.put_user("edov", email=f"ed.ov@{E_ACT_DOMAIN}", xms_edov=True, tid=E_ACT_TENANT)
    assert client.get(provider_sign_in(client, START, "edov")).status_code == 302
    assert db.session.scalar(select(SsoIdentity.user_id).where(SsoIdentity.subject == "edov")) == user.id
