"""Issue 17 point 2, walked in chromium: a certificate that version 2 will supersede reads "Valid — superseded on
<date> unless <name> completes version 2" to anyone checking it at /verify, to the holder on My certificates and
to HR on the certificate list and the expiring list (which counts it)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from modules.core.extensions import db
from modules.core.timeutil import format_date
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as
from tests.certificates.factories import issue, publish_next_version

pytestmark = pytest.mark.browser


def test_a_certificate_due_to_be_superseded_says_so_on_every_page(page, live_server, now):
    cert = issue("staff", "tkat", now - timedelta(days=10))
    published = now - timedelta(days=1)
    version = publish_next_version(cert.trust_id, published)
    due = format_date(published + timedelta(days=30))
    code = cert.code
    db.session.rollback()

    # Anyone holding the PDF: the public check page.
    page.goto(f"{live_server}/verify/{code}")
    expect(page.locator("#status")).to_contain_text(
        f"Valid — superseded on {due} unless Sam Taylor completes {version.label}")
    assert_accessible(page)

    # The holder: My certificates.
    sign_in_as(page, live_server, "staff", "tkat")
    page.get_by_role("link", name="My certificates").first.click()
    expect(page.locator(f"#certificate-{cert.id}")).to_contain_text(
        f"Valid — superseded on {due} unless you complete {version.label}")
    assert_no_csp_errors(page)
    page.get_by_role("button", name="Sign out").click()

    # HR: the certificate list and the expiring list.
    sign_in_as(page, live_server, "hr", "tkat")
    open_hr_tool(page, "Certificates")
    expect(page.locator(f"#certificate-{cert.id}")).to_contain_text(
        f"Valid — superseded on {due} unless Sam Taylor completes {version.label}")
    page.goto(f"{live_server}/tracking/expiring?within=30")
    expect(page.locator("#result-count")).to_have_text("1 certificate expires within 30 days.")
    expect(page.locator("#expiring")).to_contain_text(f"superseded on {due} unless Sam Taylor completes")
    assert_accessible(page)
    assert_no_csp_errors(page)
