"""Issue 17 point 7, walked in chromium by the E-ACT line manager: "training discussed" is recorded once, with a
note, on the team page; a request Sam makes a minute later shows the very same record; Approve is enabled (and
works) because approving will succeed, and was disabled, with the reason, while it would not have."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from modules.core.extensions import db
from tests.access.factories import account, certify, demo_user, join
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser


def test_line_manager_sees_the_same_discussed_on_the_team_page_and_the_request(page, live_server, now):
    staff = demo_user("staff", "e-act")
    earlier = join("staff", "e-act", account("e-act", handle="e-act-news"), now=now - timedelta(minutes=30))
    db.session.commit()
    staff_id, earlier_id = staff.id, earlier.id

    sign_in_as(page, live_server, "manager", "e-act")
    # Before anything is recorded (and without a certificate) Approve is disabled, and the page says why.
    page.goto(f"{live_server}/access/requests/{earlier_id}")
    expect(page.get_by_role("button", name="Approve")).to_be_disabled()
    expect(page.locator("#approve-blocked")).to_contain_text("does not hold a valid certificate")
    expect(page.locator("#approve-blocked")).to_contain_text("Training has not been recorded as discussed")

    # The team page: record it once, with a note.
    page.goto(f"{live_server}/access/team")
    cell = page.locator(f"#person-{staff_id}")
    expect(page.locator(f"#discussed-{staff_id}")).to_contain_text("Not recorded")
    cell.get_by_label("Note (optional)").fill("Went through 4.2.1 and the posting checklist")
    cell.get_by_role("button", name="Record training discussed").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Recorded: you discussed training")
    on_team = page.locator(f"#discussed-{staff_id}").inner_text()
    assert on_team.startswith("Recorded on ") and "Went through 4.2.1" in on_team
    expect(cell.get_by_role("button", name="Record training discussed")).to_have_count(0)  # recorded once
    assert_accessible(page)

    # Sam completes the training and asks a minute later.
    db.session.commit()
    certify(demo_user("staff", "e-act"), now - timedelta(minutes=5))
    request = join("staff", "e-act", account("e-act", handle="e-act-sport"), now=now - timedelta(minutes=1))
    db.session.commit()
    request_id = request.id

    page.reload()
    page.locator(f"#person-{staff_id}").get_by_role("link", name="e-act-sport").click()
    discussed = page.locator("#training [data-discussed]")
    expect(discussed).to_contain_text("Recorded on ")
    assert discussed.inner_text().split() == on_team.split()  # the same truth on both pages
    expect(page.get_by_role("button", name="Record training discussed")).to_have_count(0)
    expect(page.locator("#approve-blocked")).to_have_count(0)
    approve = page.get_by_role("button", name="Approve")
    expect(approve).to_be_enabled()
    assert_accessible(page)
    approve.click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your decision has been recorded")
    assert page.url.endswith(f"/access/requests/{request_id}")
    assert_no_csp_errors(page)
