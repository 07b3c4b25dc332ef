"""Issue 17 point 4 in the browser, as HR: before anything is sent, HR reads every email PolicyPass sends for
them (the invitation and its resend, reminders, the copy to the line manager, each escalation step), written
from the trust's rules."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as

pytestmark = pytest.mark.browser


def test_hr_reads_every_email_before_it_goes(page, live_server):
    sign_in_as(page, live_server, "hr", "e-act")
    open_hr_tool(page, "Email previews")
    expect(page.locator("h1")).to_have_text("Email previews")
    expect(page.locator("#preview-list li")).to_have_count(7)
    expect(page.locator("#invitation-body")).to_contain_text("Set your password here")
    expect(page.locator("#overdue-subject")).to_contain_text("Overdue: your social media policy training was due on")
    expect(page.locator("#escalation-line_manager-subject")).to_have_text(
        "Overdue training: Alex Example, 14 days overdue")
    expect(page.locator("#escalation-line_manager-body")).to_contain_text("after 14 days (a trust setting)")
    # E-ACT's published version was due for review on 31 January 2023: the email says so, in words.
    expect(page.locator("#policy-review-subject")).to_have_text("E-ACT social media policy: review was due by 31 January 2023")
    expect(page.locator("#policy-review-body")).to_contain_text("is past its review date")
    expect(page.locator("#escalation-headteacher-title")).to_contain_text("Headteacher of their academy")
    page.get_by_role("link", name="Reminder: due soon").click()
    expect(page.locator("#due-soon-body")).to_contain_text("is due by")
    assert_accessible(page)
    assert_no_csp_errors(page)
