"""Issue 15 "Done when", single sign-on in the browser against oidc-provider-mock on 127.0.0.1: an invited E-ACT
member signs in through their trust's provider (walking the provider's own sign-in page) and signs out of both; a
user of another tenant is refused with a clear page; SSO-only staff cannot use their password while a
break-glass administrator can; a tampered answer is a clear 400."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from modules.core.extensions import db
from modules.people import services
from modules.people.models import SsoIdentity, Trust
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.conftest import demo_email
from tests.people.sso_provider import (  # noqa: F401 (fixtures)
    E_ACT_DOMAIN,
    E_ACT_TENANT,
    OTHER_TENANT,
    configure_sso,
    provider,
    sso_secrets,
)

BUTTON = "Sign in with your E-ACT Microsoft account"


def _invite(email: str, name: str, now) -> int:
    trust = db.session.query(Trust).filter_by(slug="e-act").one()
    user = services.upsert_user(trust, email=email, name=name, now=now)
    services.grant_role(user, "staff")
    db.session.commit()
    return user.id


def _at_provider_as(page, sub: str) -> None:
    """On the provider's sign-in page: type the account and authorise, as the person would."""
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_placeholder("sub").fill(sub)
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.get_by_role("button", name="Authorize").click()
    # The provider's own page loads a stylesheet from a CDN this network cannot reach: its console errors are not
    # PolicyPass's, so only what happens from here on is checked.
    page.console_errors.clear()


def test_an_invited_e_act_member_signs_in_with_sso_and_signs_out_of_both(app, page, live_server, provider,  # noqa: F811
                                                                          sso_secrets, now):  # noqa: F811
    configure_sso("e-act", provider)
    user_id = _invite(f"asha.patel@{E_ACT_DOMAIN}", "Asha Patel", now)
    provider.put_user("asha-entra-sub", email=f"asha.patel@{E_ACT_DOMAIN}", email_verified=True,
                      tid=E_ACT_TENANT, name="Asha Patel")
    db.session.rollback()

    page.goto(f"{live_server}/sign-in")
    assert_accessible(page)
    page.get_by_role("link", name=BUTTON).click()
    assert page.url.startswith(provider.issuer + "/oauth2/authorize")
    _at_provider_as(page, "asha-entra-sub")
    assert page.url.startswith(live_server)
    page.goto(f"{live_server}/account")
    expect(page.locator("main")).to_contain_text("asha.patel@" + E_ACT_DOMAIN)
    assert_no_csp_errors(page)
    db.session.rollback()
    assert db.session.scalar(select(SsoIdentity.subject).where(SsoIdentity.user_id == user_id)) == "asha-entra-sub"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You have signed out of PolicyPass")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sign out of your E-ACT Microsoft account").click()
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.get_by_role("button", name="End session").click()
    assert page.url.startswith(f"{live_server}/sign-in")
    page.goto(f"{live_server}/account")
    assert "/sign-in" in page.url  # the PolicyPass session really ended


def test_a_user_of_another_tenant_is_refused_with_a_clear_page(app, page, live_server, provider,  # noqa: F811
                                                               sso_secrets, now):  # noqa: F811
    configure_sso("e-act", provider)
    _invite(f"sam.jones@{E_ACT_DOMAIN}", "Sam Jones", now)
    provider.put_user("other-tenant-sam", email=f"sam.jones@{E_ACT_DOMAIN}", email_verified=True,
                      tid=OTHER_TENANT)
    db.session.rollback()
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("link", name=BUTTON).click()
    _at_provider_as(page, "other-tenant-sam")
    expect(page.get_by_role("heading", name="You cannot sign in")).to_be_visible()
    expect(page.locator("#sso-message")).to_contain_text("an account from another organisation")
    assert_accessible(page)
    page.goto(f"{live_server}/account")
    assert "/sign-in" in page.url
    db.session.rollback()
    assert db.session.scalar(select(SsoIdentity)) is None


def test_sso_only_staff_cannot_use_a_password_but_a_break_glass_admin_can(app, page, live_server, provider,  # noqa: F811
                                                                          sso_secrets):  # noqa: F811
    configure_sso("e-act", provider, required_for_staff=True)
    db.session.rollback()
    sign_in_as(page, live_server, "staff", "e-act")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Your trust signs staff in with single sign-on, not a password")
    expect(summary).to_contain_text(BUTTON)
    assert "/sign-in" in page.url
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in_as(page, live_server, "admin", "e-act")
    page.goto(f"{live_server}/account")
    expect(page.locator("main")).to_contain_text(demo_email("admin", "e-act"))


def test_a_tampered_answer_is_a_clear_400(app, page, live_server, provider, sso_secrets):  # noqa: F811
    configure_sso("e-act", provider)
    db.session.rollback()
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("link", name=BUTTON).click()
    provider.put_user("someone", email=f"someone@{E_ACT_DOMAIN}", email_verified=True, tid=E_ACT_TENANT)
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    # The provider sends the browser back with the code; an attacker swaps the state on the way.
    def swap_state(route):
        answer = route.fetch(max_redirects=0)
        headers = {**answer.headers, "location": re.sub(r"state=[^&]+", "state=forged", answer.headers["location"])}
        route.fulfill(response=answer, headers=headers)

    page.route(re.compile(r".*/oauth2/authorize\?.*"), lambda route: swap_state(route)
               if route.request.method == "POST" else route.continue_())
    page.get_by_placeholder("sub").fill("someone")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Sign-in did not work")).to_be_visible()
    expect(page.locator("#sso-message")).to_contain_text("not started in this browser")
    assert_accessible(page)
