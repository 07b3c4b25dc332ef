"""Issue 17 point 11 in the browser, as HR: a bulk reminder to a list longer than BULK_IN_WORKER runs in the
queue's worker; the page shows it waiting, then its result, and the reminders reach an SMTP sink once per
person; the same again sends none. The test plays the worker by draining the app's real Huey store."""

import time
from datetime import datetime

import pytest
from playwright.sync_api import expect

from modules.core.extensions import db
from modules.notifications import queue
from modules.tracking.services import ensure_assignments
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)
from tests.tracking.factories import trust

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(smtp_sink):  # noqa: F811
    """Mail goes to the sink; any list of more than two people goes to the worker."""
    return {**mail_config(smtp_sink), "BULK_IN_WORKER": 2}


def _wait_for_envelopes(sink, expected: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.envelopes) < expected and time.monotonic() < deadline:
        time.sleep(0.2)


def _remind_everyone_overdue(page) -> int:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Staff training").click()
    page.locator("#summary-overdue a").click()
    expect(page.locator("h1")).to_have_text("Overdue training")
    count = int(page.locator("#result-count").inner_text().split()[0])
    page.locator("#bulk-link a").click()
    expect(page.locator("h1")).to_have_text(f"Act on {count} people")
    page.get_by_label("Send each of them a reminder now").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#email-preview")).to_contain_text("Overdue: your social media policy training")
    page.get_by_role("button", name="Send the reminders").click()
    expect(page.locator("h1")).to_have_text("Reminders to a list of staff")
    return count


def test_hr_sends_a_long_bulk_reminder_through_the_worker(page, live_server, app, smtp_sink):  # noqa: F811
    ensure_assignments(trust("tkat"), now=datetime(2026, 9, 1, 8, 0))
    db.session.commit()
    sign_in_as(page, live_server, "hr", "tkat")
    count = _remind_everyone_overdue(page)
    assert count > 2
    expect(page.locator("#job-step")).to_contain_text("Waiting for the worker to start")
    expect(page.locator("#job-progress")).to_be_visible()
    assert_accessible(page)
    assert not smtp_sink.envelopes  # nothing sent until the worker runs the job

    assert queue.drain(app) >= 1  # the worker's turn; the page notices by itself
    expect(page.locator("#job-summary")).to_have_text(
        f"{count} reminder(s) on their way; 0 already reminded today.", timeout=60_000)
    expect(page.locator("#job-done")).to_be_visible()
    assert_accessible(page)
    _wait_for_envelopes(smtp_sink, count)
    recipients = [r for _, rcpts in smtp_sink.envelopes for r in rcpts]
    assert len(recipients) == count == len(set(recipients))

    # The same list again: the job runs, and nobody gets a second email today.
    _remind_everyone_overdue(page)
    assert queue.drain(app) >= 1
    expect(page.locator("#job-summary")).to_have_text(
        f"0 reminder(s) on their way; {count} already reminded today.", timeout=60_000)
    page.wait_for_timeout(1000)  # time for a wrongly sent second email to arrive
    assert len(smtp_sink.envelopes) == count
    assert_no_csp_errors(page)
