"""Issue 17 point 10 in the browser, as the trust administrator: the trust settings page lists the newer rules
(HR contact, certificate signatory and logo, retention, escalation, deadlines, reminders, the refresh), each
labelled a trust setting or quoting its clause."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser


def test_the_administrator_reads_every_rule_on_trust_settings(page, live_server):
    sign_in_as(page, live_server, "admin", "tkat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Trust admin").click()
    page.locator("#tools").get_by_role("link", name="Trust settings").click()
    expect(page.locator("h1")).to_have_text("Trust settings")
    expect(page.locator("#setting-hr_contact")).to_contain_text("HR (hr@tkat.demo.policypass.uk)")
    expect(page.locator("#setting-certificate_signatory")).to_contain_text("Harriet Hughes, HR Manager")
    expect(page.locator("#setting-logo")).to_contain_text("logos/tkat.svg")
    expect(page.locator("#setting-retention_months_after_leaving")).to_contain_text("72 months")
    expect(page.locator("#setting-escalation")).to_contain_text("The line manager after 14 days overdue")
    expect(page.locator("#setting-refresh")).to_contain_text("12 months after each person's last completion")
    for key in ("hr_contact", "certificate_signatory", "logo", "retention_months_after_leaving", "escalation"):
        expect(page.locator(f"#setting-{key} .govuk-tag")).to_have_text("Trust setting")
    assert_accessible(page)
    assert_no_csp_errors(page)
