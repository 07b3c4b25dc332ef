"""Issue 17 "Done when": as E-ACT HR, publishing version 2 leaves the overdue count unchanged for those who were
overdue, and the list says since when and for which version."""

from datetime import datetime

import pytest

from modules.core.extensions import db
from modules.tracking.services import ensure_assignments
from tests.browser.conftest import assert_accessible, open_hr_tool, sign_in_as
from tests.tracking.factories import trust

pytestmark = pytest.mark.browser


def _overdue_count(page, live_server) -> str:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Staff training").click()
    page.locator("#summary-overdue a").click()
    return page.locator("#result-count").inner_text()


def test_publishing_version_2_keeps_the_overdue_list(page, live_server):
    ensure_assignments(trust("e-act"), now=datetime(2026, 9, 1, 8, 0))  # the cast's induction on their start date
    db.session.commit()
    sign_in_as(page, live_server, "hr", "e-act")
    before = _overdue_count(page, live_server)
    assert before.endswith("overdue.") and not before.startswith("0 ")
    assert "Overdue since" not in page.content()

    open_hr_tool(page, "Policy versions")
    page.get_by_role("link", name="Review and publish version 2").click()
    page.get_by_label("I have reviewed the changes and want to publish this version").check()
    page.get_by_role("button", name="Publish version 2").click()
    assert "Version 2 is published" in page.locator(".govuk-notification-banner").inner_text()

    assert _overdue_count(page, live_server) == before
    sam = page.locator("tr", has_text="Sam Taylor")
    assert "Overdue since 2 October 2026 (version 1)" in sam.inner_text()
    assert "Nobody's training is overdue" not in page.content()
    assert_accessible(page)
