"""Issue 17 "Done when": as HR, a bulk reminder to a filtered list sends exactly one email per person to an SMTP
sink, and a second click sends none; HR extends one person's deadline and exempts another, with reasons, and
sees both on their histories."""

import time
from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.tracking.services import ensure_assignments
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)
from tests.tracking.factories import trust

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(smtp_sink):  # noqa: F811
    """Mail goes to the sink as soon as each response is out."""
    return mail_config(smtp_sink)


def _wait_for_envelopes(sink, expected: int, timeout: float = 60) -> None:
    """Wait (on a loaded machine, a while) until the sink has received at least `expected` messages."""
    deadline = time.monotonic() + timeout
    while len(sink.envelopes) < expected and time.monotonic() < deadline:
        time.sleep(0.1)


def _to_overdue_list(page):
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Staff training").click()
    page.locator("#summary-overdue a").click()


def test_hr_reminds_a_filtered_list_once(page, live_server, smtp_sink):  # noqa: F811
    ensure_assignments(trust("tkat"), now=datetime(2026, 9, 1, 8, 0))  # the cast's induction on their start date
    db.session.commit()
    sign_in_as(page, live_server, "hr", "tkat")
    _to_overdue_list(page)
    page.get_by_label("Academy").select_option(label="North Park Academy")
    with page.expect_navigation():  # the filtered list has loaded, not the unfiltered one
        page.get_by_role("button", name="Apply filters").click()
    count = int(page.locator("#result-count").inner_text().split()[0])
    names = sorted(page.locator("tbody tr td:first-child a").all_inner_texts())
    assert count == len(names) > 1

    page.locator("#bulk-link a").click()
    assert page.locator("h1").inner_text() == f"Act on {count} people"
    assert_accessible(page)
    page.get_by_label("Send each of them a reminder now").check()
    page.get_by_role("button", name="Continue").click()
    preview = page.locator("#email-preview").inner_text()
    assert "Overdue: your social media policy training was due on 1 October 2026" in preview
    assert_accessible(page)
    page.get_by_role("button", name="Send the reminders").click()
    assert f"{count} reminders sent" in page.locator(".govuk-notification-banner").inner_text()
    _wait_for_envelopes(smtp_sink, count)  # delivery runs as the response closes
    recipients = sorted(r for _, rcpts in smtp_sink.envelopes for r in rcpts)
    assert len(recipients) == count == len(set(recipients))

    # The same again, from the same filtered list: nobody gets a second email today.
    queued_before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    page.locator("#bulk-link a").click()
    page.get_by_label("Send each of them a reminder now").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send the reminders").click()
    assert f"0 reminders sent; {count} already done" in page.locator(".govuk-notification-banner").inner_text()
    page.wait_for_timeout(1000)  # time for a wrongly queued second email to arrive
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == queued_before
    assert len(smtp_sink.envelopes) == count
    assert_no_csp_errors(page)


def test_hr_extends_one_deadline_and_exempts_another(page, live_server):
    ensure_assignments(trust("tkat"), now=datetime(2026, 9, 1, 8, 0))
    db.session.commit()
    sign_in_as(page, live_server, "hr", "tkat")
    _to_overdue_list(page)
    page.get_by_role("link", name="Sam Taylor").click()
    page.get_by_role("link", name="Extend the deadline").click()
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2027")
    page.get_by_label("Why is the deadline being extended?").fill("Started late after a long illness")
    page.get_by_role("button", name="Extend the deadline").click()
    assert "Enter the new deadline as a real date" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.console_errors.clear()  # the refused form answered 400, as it should
    page.get_by_label("Day").fill("15")
    page.get_by_role("button", name="Extend the deadline").click()
    assert "Sam Taylor's deadline is now 15 February 2027" in page.locator(".govuk-notification-banner").inner_text()
    taken = page.locator("#actions-taken").inner_text()
    assert "Deadline extended from 1 October 2026 to 15 February 2027" in taken
    assert "Started late after a long illness" in taken and "Harriet Hughes" in taken

    _to_overdue_list(page)
    page.locator("tbody tr td:first-child a", has_not_text="Sam Taylor").first.click()
    person = page.locator("h1").inner_text()
    page.get_by_role("link", name="Exempt from this training").click()
    page.get_by_label("Reason").fill("Long-term absence until the summer term")
    page.get_by_role("button", name="Exempt").click()
    assert f"{person} is exempt" in page.locator(".govuk-notification-banner").inner_text()
    assert "Exempt" in page.locator("#person-summary").inner_text()
    _to_overdue_list(page)
    assert person not in page.locator("tbody").inner_text()
    assert_accessible(page)


def test_hr_sees_escalations_on_the_history(page, live_server, now):
    """The daily run escalated Sam's overdue training to the line manager and the headteacher, once each."""
    from modules.tracking import jobs

    ensure_assignments(trust("tkat"), now=datetime(2026, 9, 1, 8, 0))
    db.session.commit()
    jobs.run_daily(now=now, slug="tkat")
    jobs.run_daily(now=now, slug="tkat")
    sign_in_as(page, live_server, "hr", "tkat")
    _to_overdue_list(page)
    page.get_by_role("link", name="Sam Taylor").click()
    taken = page.locator("#actions-taken")
    expect(taken.get_by_text("Escalated to the line manager")).to_have_count(1)
    expect(taken.get_by_text("Escalated to the Headteacher")).to_have_count(1)
    assert "PolicyPass (daily run)" in taken.inner_text()
    assert_accessible(page)
