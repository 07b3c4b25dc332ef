"""Issue 4 "Done when" (attestation half): a member of staff who has passed acknowledges and sees the receipt.
Issue 12 "Done when": as E-ACT staff, acknowledge the policy and decline consent → a certificate is issued,
HR and the DPO see "consent declined", the evidence pack says so, the ledger verifies; give consent, then
withdraw it → a confirmation page, the reason recorded, the withdrawal visible to HR with its time. Notice-only
trusts never see the word "consent" applied to their staff's acknowledgement."""

import csv
import io
import re
import zipfile

import pytest

from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from tests.attestation.factories import demo_user, passed_attempt
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as

pytestmark = pytest.mark.browser


def _passed(local: str, slug: str) -> None:
    passed_attempt(demo_user(local, slug))
    db.session.commit()


def _acknowledge(page, live_server, boxes: int, consent: str | None = None) -> None:
    """Tick every statement box, answer the consent question if given ("Yes…" / "No…"), sign and submit."""
    page.goto(f"{live_server}/acknowledge")
    assert page.locator("h1").inner_text() == "Acknowledge the policy"
    checkboxes = page.locator("input[type=checkbox]")
    assert checkboxes.count() == boxes
    for i in range(boxes):
        assert not checkboxes.nth(i).is_checked()
    radios = page.locator("input[type=radio]")
    assert radios.count() == (2 if consent else 0)
    assert all(not radios.nth(i).is_checked() for i in range(radios.count()))
    assert_accessible(page)
    for i in range(boxes):
        checkboxes.nth(i).check()
    if consent:
        page.get_by_label(consent).check()
    page.get_by_label("Type your full name to sign").fill("sam taylor")
    page.get_by_role("button", name="Acknowledge and sign").click()


def test_staff_who_passed_acknowledges_and_sees_the_receipt(page, live_server):
    _passed("staff", "tsat")
    sign_in_as(page, live_server, "staff", "tsat")
    page.goto(f"{live_server}/acknowledge")
    assert "consent" not in page.locator("main").inner_text().lower()  # TSAT's policy gives notice only
    _acknowledge(page, live_server, boxes=2)
    assert page.locator(".govuk-panel__title").inner_text() == "Policy acknowledged"
    assert "consent" not in page.locator("main").inner_text().lower()
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


def _sign_out(page) -> None:
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.get_by_role("button", name="Sign out").click()


def _consent_list_row(page, live_server, local: str, via_hub: bool = True) -> str:
    """As HR or the DPO: open "Monitoring consent" from the HR tools hub; the newest row's text."""
    sign_in_as(page, live_server, local, "e-act")
    if via_hub:
        open_hr_tool(page, "Monitoring consent")
    else:
        page.goto(f"{live_server}/hr/consent")
    assert page.locator("h1").inner_text() == "Monitoring consent"
    assert_accessible(page)
    return page.locator("#consent-events tbody tr").first.inner_text()


def test_eact_staff_acknowledge_and_decline_consent_get_a_certificate_and_hr_and_dpo_see_it(page, live_server):
    _passed("staff", "e-act")
    sign_in_as(page, live_server, "staff", "e-act")
    page.goto(f"{live_server}/acknowledge")
    explainer = page.locator("#consent-explainer").inner_text()
    assert "reserve the right to monitor" in explainer  # 4.3.1 quoted
    assert "You consent to such monitoring by your acknowledgement of this Policy" in explainer  # 4.3.2 quoted
    assert "You can still acknowledge the policy and get your certificate" in explainer
    assert "Trust setting" in page.locator("#consent-contact").inner_text()
    _acknowledge(page, live_server, boxes=1, consent="No, I do not consent")
    assert page.locator(".govuk-panel__title").inner_text() == "Policy acknowledged"
    assert "Consent declined, a separate decision" in page.locator("#receipt-consent").inner_text()
    assert "Your certificate has been issued" in page.locator("#certificate-next").inner_text()
    page.goto(f"{live_server}/certificates")
    assert "Valid" in page.locator(".govuk-summary-card .govuk-tag").first.inner_text()
    page.goto(f"{live_server}/acknowledgements")
    assert "Consent declined" in page.locator("#acknowledgements").inner_text()
    assert_no_csp_errors(page)
    _sign_out(page)

    row = _consent_list_row(page, live_server, "hr")
    assert "Sam Taylor" in row and "Consent declined" in row
    assert page.locator("#consent-counts").inner_text().count("1") >= 1
    # The evidence pack says so.
    open_hr_tool(page, "Evidence pack")
    with page.expect_download() as info:
        page.locator("#download-pack").click()
    archive = zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read()))
    consent = list(csv.DictReader(io.StringIO(archive.read("consent.csv").decode())))
    assert [(r["Person"], r["Consent decision"]) for r in consent] == [("Sam Taylor", "consent declined")]
    _sign_out(page)

    row = _consent_list_row(page, live_server, "dpo")
    assert "Sam Taylor" in row and "Consent declined" in row
    page.locator("#consent-events tbody tr").first.get_by_role("link").click()
    assert page.locator("#receipt-decision").inner_text() == "Consent declined"
    assert_accessible(page)
    db.session.commit()  # see what the live server committed
    assert verify_ledger().ok
    assert_no_csp_errors(page)


def test_eact_staff_give_then_withdraw_consent_with_a_reason_and_hr_sees_when(page, live_server):
    _passed("staff", "e-act")
    sign_in_as(page, live_server, "staff", "e-act")
    _acknowledge(page, live_server, boxes=1, consent="Yes, I consent to this monitoring")
    assert "Consent given" in page.locator("#receipt-consent").inner_text()
    page.get_by_role("link", name="see, give or withdraw your consent to monitoring").click()
    assert "You gave your consent" in page.locator("#consent-state").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Withdraw my consent").click()
    # A confirmation page, with an optional reason; nothing is recorded until it is confirmed.
    assert page.locator("h1").inner_text() == "Are you sure you want to withdraw your consent to monitoring?"
    assert "takes effect from the moment you confirm it" in page.locator("#withdraw-effects").inner_text()
    assert_accessible(page)
    page.get_by_label("Why are you withdrawing consent? (optional)").fill("I would rather not be monitored")
    page.get_by_role("button", name="Yes, withdraw my consent").click()
    assert "withdrawn your consent" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("#receipt-decision").inner_text() == "Consent withdrawn"
    assert page.locator("#receipt-reason").inner_text() == "I would rather not be monitored"
    when = page.locator("#receipt-when").inner_text()
    assert re.search(r"\d{1,2} \w+ 20\d\d", when), when
    assert_accessible(page)
    assert_no_csp_errors(page)
    _sign_out(page)

    row = _consent_list_row(page, live_server, "hr")
    assert "Sam Taylor" in row and "Consent withdrawn" in row and "I would rather not be monitored" in row
    assert when in row  # the time it took effect
    page.goto(f"{live_server}/hr/acknowledgements")
    assert "Consent withdrawn" in page.locator("#hr-events tbody tr").first.inner_text()
    db.session.commit()
    assert verify_ledger().ok
    assert_no_csp_errors(page)


def test_eact_dpo_reads_the_implied_consent_note_on_trust_settings(page, live_server):
    sign_in_as(page, live_server, "dpo", "e-act")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Trust admin").click()
    page.locator("#tools").get_by_role("link", name="Trust settings").click()
    assert page.locator("h1").inner_text() == "Trust settings"
    note = page.locator(".dpo-note-clause").first.inner_text()
    assert "Clause 4.3.2 treats use or acknowledgement as consent" in note and "by your acknowledgement" in note
    assert page.locator("#consent-condition").inner_text().startswith("No")
    assert_accessible(page)
    assert_no_csp_errors(page)


@pytest.mark.parametrize("slug", ["tkat", "tasmat", "tsat", "agora"])
def test_notice_only_trusts_hr_paper_form_never_says_consent(page, live_server, slug):
    sign_in_as(page, live_server, "hr", slug)
    open_hr_tool(page, "Declines and withdrawals")
    assert "consent" not in page.locator("main").inner_text().lower()
    page.get_by_role("link", name="Record an acknowledgement from a paper form").click()
    assert page.locator("h1").inner_text() == "Record a paper acknowledgement"
    assert "consent" not in page.locator("main").inner_text().lower()
    assert "Monitoring consent" not in page.locator("body").inner_text()
    assert_accessible(page)
