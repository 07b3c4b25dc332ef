"""Issue 4 "Done when" (attestation half): a member of staff who has passed acknowledges and sees the receipt;
an E-ACT member of staff withdraws consent as easily as they gave it, and HR sees it."""

import pytest

from modules.core.extensions import db
from tests.attestation.factories import demo_user, passed_attempt
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser


def _passed(local: str, slug: str) -> None:
    passed_attempt(demo_user(local, slug))
    db.session.commit()


def _acknowledge(page, live_server, boxes: int) -> None:
    page.goto(f"{live_server}/acknowledge")
    assert page.locator("h1").inner_text() == "Acknowledge the policy"
    checkboxes = page.locator("input[type=checkbox]")
    assert checkboxes.count() == boxes
    for i in range(boxes):
        assert not checkboxes.nth(i).is_checked()
    assert_accessible(page)
    for i in range(boxes):
        checkboxes.nth(i).check()
    page.get_by_label("Type your full name to sign").fill("sam taylor")
    page.get_by_role("button", name="Acknowledge and sign").click()


def test_staff_who_passed_acknowledges_and_sees_the_receipt(page, live_server):
    _passed("staff", "tsat")
    sign_in_as(page, live_server, "staff", "tsat")
    _acknowledge(page, live_server, boxes=2)
    assert page.locator(".govuk-panel__title").inner_text() == "Policy acknowledged"
    reference = page.locator("#receipt-reference").first.inner_text()
    assert reference.startswith("ACK-")
    body = page.content()
    assert "Sam Taylor" in body and "notice acknowledged" in body and "Passed with 90%" in body
    assert "of the TSAT ledger" in page.locator("#ledger-entry").inner_text()
    assert_accessible(page)
    page.goto(f"{live_server}/acknowledgements")
    assert reference in page.locator("#acknowledgements").inner_text()
    assert_accessible(page)
    assert_no_csp_errors(page)


def test_a_wrong_name_is_shown_as_an_error(page, live_server):
    _passed("staff", "tkat")
    sign_in_as(page, live_server, "staff", "tkat")
    page.goto(f"{live_server}/acknowledge")
    page.locator("input[type=checkbox]").first.check()
    page.get_by_label("Type your full name to sign").fill("Someone Else")
    page.get_by_role("button", name="Acknowledge and sign").click()
    assert "must match the name" in page.locator(".govuk-error-summary").inner_text()
    assert page.title().startswith("Error:")
    assert_accessible(page)


def test_eact_withdrawal_is_one_click_and_hr_sees_it(page, live_server):
    _passed("staff", "e-act")
    sign_in_as(page, live_server, "staff", "e-act")
    _acknowledge(page, live_server, boxes=2)
    assert "consented" in page.content()
    page.get_by_role("link", name="withdraw your consent to monitoring").click()
    assert "You gave your consent" in page.locator("#consent-state").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Withdraw my consent").click()
    assert "withdrawn your consent" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("#receipt-decision").inner_text() == "Consent withdrawn"
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, live_server, "hr", "e-act")
    page.goto(f"{live_server}/hr/acknowledgements")
    row = page.locator("#hr-events tbody tr").first.inner_text()
    assert "Sam Taylor" in row and "Consent withdrawn" in row
    assert_accessible(page)
    assert_no_csp_errors(page)
