"""Issue 14 point 4, walked in the browser: a platform administrator sets up a trust, an academy and invites the
trust's administrator (a real SMTP sink); the trust administrator sets their password from the email and edits
the trust's rules (one refused with a clear message, one accepted); neither reaches the other's pages."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people.models import Trust
from modules.people.passwords import hash_password
from modules.platform import services
from tests.browser.conftest import assert_accessible, sign_in_as, sign_in_with
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)

ROOT_EMAIL = "root@platform.example.org"
ROOT_PASSWORD = "a long platform passphrase 9"
ADA = "ada@northdowns.example.org"
ADA_PASSWORD = "violet kettle harbour 72"


@pytest.fixture
def app_config(smtp_sink):  # noqa: F811  (the sink fixture)
    """Emails go to the sink, sent from the web process as the response closes."""
    return mail_config(smtp_sink)


def _no_console_errors(page) -> None:
    """No CSP or other console errors but the browser's note of the refusals walked on purpose (400, 403)."""
    unexpected = [e for e in page.console_errors if not re.search(r"status of 40[03] \((BAD REQUEST|FORBIDDEN)\)", e)]
    assert not unexpected, unexpected


def _platform_admin() -> None:
    user = services.create_platform_admin(email=ROOT_EMAIL, name="Pat Platform", now=utcnow())
    user.password_hash = hash_password(ROOT_PASSWORD)
    db.session.commit()


def test_platform_admin_sets_up_a_trust_and_its_admin_edits_the_rules(app, page, browser, live_server,
                                                                       smtp_sink):  # noqa: F811
    _platform_admin()
    sign_in_with(page, live_server, ROOT_EMAIL, ROOT_PASSWORD)
    expect(page.locator("h1")).to_have_text("Trusts")
    expect(page.locator("#trusts")).to_contain_text("The Kemnal Academies Trust")
    assert_accessible(page)

    # A trust: a taken slug first (refused, nothing made), then a good one.
    page.get_by_role("link", name="Set up a trust").click()
    expect(page.locator("h1")).to_have_text("Set up a trust")
    page.get_by_label("Full name").fill("North Downs Learning Trust")
    page.get_by_label("Short name").fill("NDLT")
    page.get_by_label("Slug").fill("tkat")
    page.get_by_role("button", name="Create trust").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("A trust with the slug “tkat” already exists")
    assert_accessible(page)
    page.get_by_label("Slug").fill("north-downs")
    page.get_by_role("button", name="Create trust").click()
    expect(page.locator("#trust-name")).to_have_text("North Downs Learning Trust")

    # An academy, then the trust's administrator.
    page.get_by_label("Academy name").fill("Hilltop Primary")
    page.get_by_role("button", name="Add academy").click()
    expect(page.locator("#academies")).to_contain_text("Hilltop Primary")
    page.get_by_label("Full name").fill("Ada Admin")
    page.get_by_label("Email address").fill(ADA)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Ada Admin is invited")
    expect(page.locator("#admins")).to_contain_text("has not set a password yet")
    assert_accessible(page)

    # The platform administrator sees no trust's staff pages.
    for path in ("/staff/import", "/trust/rules", "/security/events"):
        assert page.goto(f"{live_server}{path}").status == 403, path

    # Ada sets her password from the email's link, in a browser of her own.
    message = smtp_sink.wait_for(ADA)
    link = re.search(r"(https?://\S+/set-password/\S+)", message.get_content()).group(1)
    context = browser.new_context(base_url=live_server, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(30_000)
    ada = context.new_page()
    ada.console_errors = []
    ada.on("console", lambda msg: ada.console_errors.append(msg.text) if msg.type == "error" else None)
    ada.goto(link)
    expect(ada.locator("h1")).to_have_text("Set your password")
    ada.get_by_label("Choose a password").fill(ADA_PASSWORD)
    ada.get_by_label("Type the password again").fill(ADA_PASSWORD)
    ada.get_by_role("button", name="Set password").click()
    expect(ada.locator(".govuk-notification-banner")).to_contain_text("Your password is set")
    sign_in_with(ada, live_server, ADA, ADA_PASSWORD)

    # Her trust's rules: a refused change (with the rules object's message), then an accepted one.
    assert ada.goto(f"{live_server}/platform/").status == 403
    ada.goto(f"{live_server}/trust/rules")
    expect(ada.locator("h1")).to_have_text("Edit rules")
    expect(ada.locator("#no-policy")).to_be_visible()
    assert_accessible(ada)
    ada.get_by_label("Pass mark (per cent)").fill("120")
    ada.get_by_role("button", name="Save rules").click()
    expect(ada.locator(".govuk-error-summary")).to_contain_text(
        "Pass mark (per cent) must be between 0 and 100, not 120")
    ada.get_by_label("Pass mark (per cent)").fill("85")
    ada.get_by_label("Certificates are valid for (months)").fill("24")
    ada.get_by_label("Step 1: who approves").select_option(label="The requester's line manager")
    ada.get_by_label("Step 2: who approves").select_option(label="Headteacher")
    ada.get_by_label("Step 2: for the central team's accounts").select_option(label="Chief Executive Officer")
    ada.get_by_label("Fewest approved administrators per official account").fill("2")
    ada.get_by_role("button", name="Save rules").click()
    expect(ada.locator(".govuk-notification-banner")).to_contain_text("Rules saved")
    expect(ada.locator("#now-pass-mark")).to_have_text("85%")
    expect(ada.locator("#now-validity")).to_have_text("24 months")
    expect(ada.locator("#now-chain")).to_contain_text("1. Line manager (trust setting)")
    expect(ada.locator("#now-chain")).to_contain_text("2. Headteacher (trust setting)")
    expect(ada.locator("#now-minimums")).to_have_text("2 administrators, 0 moderators")
    _no_console_errors(ada)
    trust = db.session.scalar(select(Trust).where(Trust.slug == "north-downs"))
    db.session.refresh(trust)
    assert trust.rules.pass_mark == 85 and len(trust.rules.approval_chain) == 2
    context.close()


def test_trust_admin_picks_the_monitoring_clauses_from_the_policy(page, live_server):
    """A trust with a policy: the monitoring clauses are picked from its parsed clauses, and shown as the rule's
    source; a trust administrator of another trust cannot reach the platform pages."""
    sign_in_as(page, live_server, "admin", "tkat")
    assert page.goto(f"{live_server}/platform/").status == 403
    page.goto(f"{live_server}/trust/rules")
    expect(page.locator("h1")).to_have_text("Edit rules")
    expect(page.locator("#now-monitoring")).to_have_text("None")
    page.get_by_label("A notice: staff acknowledge that they may be monitored").check()
    page.get_by_role("button", name="Save rules").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("must name the clauses that state it")
    # The refusal opened the list of clauses (it is open while monitoring is stated).
    expect(page.locator("details")).to_have_attribute("open", "")
    page.locator("input[name=monitoring_clauses][value='4.1']").check()
    page.get_by_role("button", name="Save rules").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Rules saved: monitoring")
    expect(page.locator("#now-monitoring")).to_have_text("Notice")
    expect(page.locator("#current-rules")).to_contain_text("From clause 4.1")
    assert_accessible(page)
    _no_console_errors(page)
