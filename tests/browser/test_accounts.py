"""Issue 13 "Done when": forgotten password (the reset email received by a real SMTP sink), change password and
two-step verification work in the browser; a reset link works once; an approver whose trust requires two-step
verification must set it up before continuing; the trust administrator sees sign-in events on the log page."""

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people import mfa
from modules.people.models import TotpCredential, User
from tests.browser.conftest import assert_accessible, sign_in_as
from tests.conftest import demo_email
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

STAFF = demo_email("staff", "tkat")
NEW_PASSWORD = "violet kettle harbour lantern"


@pytest.fixture
def app_config(smtp_sink):  # noqa: F811  (the sink fixture)
    """Email goes to the SMTP sink; two-step verification is enforced, as in production."""
    return {**mail_config(smtp_sink), "MFA_ENFORCE": True}


def assert_no_csp_errors(page) -> None:
    """No console errors but the browser's note of the refusals this walk makes on purpose (400 and 401 pages)."""
    unexpected = [e for e in page.console_errors
                  if not re.search(r"status of 40[01] \((BAD REQUEST|UNAUTHORIZED)\)", e)]
    assert not unexpected, unexpected


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in to PolicyPass")


def _enrol_in_browser(page, email: str) -> str:
    """On the set-up page: read the key shown for typing by hand, answer with the app's code, save the codes."""
    expect(page.locator("h1")).to_have_text("Set up two-step verification")
    expect(page.locator("#qr svg")).to_be_visible()
    assert_accessible(page)
    page.get_by_text("I cannot scan the QR code").click()
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the 6-digit code")
    # A code from the previous 30 seconds (the app's clock may lag): the next sign-in then has a fresh one.
    page.get_by_label("Code from the app").fill(mfa.code_at(secret, utcnow() - timedelta(seconds=30)))
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Two-step verification is on")
    assert page.locator("#recovery-codes li").count() == 10
    assert_accessible(page)
    page.get_by_role("link", name="I have saved my codes, continue").click()
    return secret


def _fresh_code(secret: str, email: str) -> str:
    """The app's code for the step after the last one accepted (a code is never accepted twice)."""
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == email))
    credential = db.session.get(TotpCredential, user.id)
    assert secret not in credential.secret and credential.secret.startswith("enc1:"), "stored in clear"
    last = credential.last_step
    return pyotp.TOTP(secret).generate_otp(max(last + 1, pyotp.TOTP(secret).timecode(utcnow().timestamp())))


def test_staff_member_resets_a_forgotten_password_and_the_link_works_once(page, live_server, smtp_sink):  # noqa: F811
    """Sam has forgotten their password: the emailed link sets a new one, once."""
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.locator("h1")).to_have_text("Reset your password")
    assert_accessible(page)
    page.get_by_label("Email address").fill(STAFF)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    assert_accessible(page)

    message = smtp_sink.wait_for(STAFF, "Reset your PolicyPass password")
    link = re.search(r"(https?://\S+/reset-password/\S+)", message.get_content()).group(1)
    assert link.startswith(live_server)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill("password2024")
    page.get_by_label("Type the new password again").fill("password2024")
    page.get_by_role("button", name="Reset password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("too common")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset password").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password has been reset")

    # The same link again: a clear page, and a way to ask for another.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This link has expired or has already been used")
    expect(page.get_by_role("link", name="ask for a new link")).to_be_visible()
    assert_accessible(page)

    sign_in_as(page, live_server, "staff", "tkat", password=NEW_PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    notice = smtp_sink.wait_for(STAFF, "Your PolicyPass password was changed")
    assert "reset from an emailed link" in notice.get_content()
    assert_no_csp_errors(page)


def test_staff_member_changes_password_and_turns_on_two_step(page, live_server):
    """Sam changes their password from their account page, then sets up an authenticator app and signs in with it."""
    sign_in_as(page, live_server, "staff", "tkat")
    page.get_by_role("link", name="Your account").click()
    expect(page.locator("h1")).to_have_text("Your account")
    assert_accessible(page)
    page.get_by_role("link", name="Change your password").click()
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Your current password is not correct")
    page.get_by_label("Current password").fill("policypass-demo")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password has been changed")

    # Two-step verification, from the account page.
    page.get_by_role("link", name="Set up two-step verification").click()
    secret = _enrol_in_browser(page, STAFF)
    page.get_by_role("link", name="Your account").click()
    expect(page.locator("#two-step-status")).to_contain_text("On since 21 November 2026")
    _sign_out(page)

    sign_in_as(page, live_server, "staff", "tkat", password=NEW_PASSWORD)
    expect(page.locator("h1")).to_have_text("Enter the code from your authenticator app")
    assert_accessible(page)
    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the current 6-digit code")
    page.get_by_label("Code").fill(_fresh_code(secret, STAFF))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_no_csp_errors(page)


def test_an_approver_must_set_up_two_step_before_continuing(page, live_server):
    """TKAT's headteacher approves official accounts: after signing in, every page leads to the set-up page
    until they have set it up; then their approvals page opens."""
    sign_in_as(page, live_server, "head", "tkat")
    expect(page.locator("h1")).to_have_text("Set up two-step verification")
    expect(page.locator("main")).to_contain_text("Your trust requires two-step verification")
    page.goto(f"{live_server}/access/approvals")
    expect(page.locator("h1")).to_have_text("Set up two-step verification")
    _enrol_in_browser(page, demo_email("head", "tkat"))
    page.goto(f"{live_server}/access/approvals")
    expect(page.locator("h1")).not_to_have_text("Set up two-step verification")
    assert page.url.endswith("/access/approvals")
    page.get_by_role("link", name="Your account").click()
    expect(page.locator("#two-step-status")).to_contain_text("Your trust requires it for your role")
    expect(page.get_by_role("link", name="Turn off two-step verification")).to_have_count(0)
    assert_no_csp_errors(page)


def test_trust_admin_sees_sign_in_events_on_the_security_log(browser, page, live_server):
    """Sam signs in once wrongly and once rightly; the trust administrator (after setting up two-step, which
    their role requires) finds both on the security log, filtered to sign-ins."""
    staff = browser.new_context(base_url=live_server, locale="en-GB").new_page()
    sign_in_as(staff, live_server, "staff", "tkat", password="a wrong password")
    expect(staff.locator(".govuk-error-summary")).to_be_visible()
    sign_in_as(staff, live_server, "staff", "tkat")
    expect(staff.get_by_role("button", name="Sign out")).to_be_visible()
    staff.context.close()

    sign_in_as(page, live_server, "admin", "tkat")
    _enrol_in_browser(page, demo_email("admin", "tkat"))
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Trust admin").click()
    page.locator("#tools").get_by_role("link", name="Security log").click()
    expect(page.locator("h1")).to_have_text("Security log")
    assert_accessible(page)
    page.get_by_label("What happened").select_option(label="Sign-in")
    page.get_by_label("Person (name or email address)").fill("Sam Taylor")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#events tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Succeeded")
    expect(rows.nth(1)).to_contain_text("Failed")
    expect(rows.nth(1)).to_contain_text("wrong password")
    expect(page.locator("#events")).not_to_contain_text("e-act")
    assert_accessible(page)
    assert_no_csp_errors(page)
