"""Issue 13, in the browser as a TKAT member of staff: after too many wrong passwords their account is locked
for the cooling-off period, even with the right password, with a message that does not say whether the account
exists; the lockout is in the security log."""

from sqlalchemy import select

from demo.cast import DEMO_PASSWORD
from modules.core.extensions import db
from modules.people.models import SecurityEvent, Trust
from tests.browser.conftest import assert_accessible
from tests.conftest import demo_email


def _try(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.get_by_role("button", name="Sign in").click()


def test_a_staff_member_locked_out_sees_the_message(app, page, live_server):
    tkat = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    tkat.settings = {**tkat.settings, "sign_in_lockout_attempts": 3}  # a trust setting, so the walk is short
    db.session.commit()
    staff = demo_email("staff", "tkat")
    for attempt in range(3):
        _try(page, live_server, staff, f"not-my-password-{attempt}")
        assert "Enter a correct email address and password" in page.locator(".govuk-error-summary").inner_text()
    _try(page, live_server, staff, DEMO_PASSWORD)
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "too many attempts to sign in with this email address" in summary and "Wait 15 minutes" in summary
    assert page.locator("h1").inner_text() == "Sign in to PolicyPass"  # still signed out
    assert_accessible(page)
    # An address no account has reads the same after as many tries.
    for attempt in range(4):
        _try(page, live_server, "nobody@tkat.demo.policypass.uk", f"guess-{attempt}")
    assert page.locator(".govuk-error-summary").inner_text() == summary

    db.session.rollback()
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "sign-in-locked")
                              .order_by(SecurityEvent.id))
    assert event.target_user.email == staff
