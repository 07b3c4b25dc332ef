"""Issue 4 "Done when", certificate half: staff read every module, pass the quiz, acknowledge and download a
certificate whose QR code (read from the downloaded PDF itself) opens a verify page showing "valid"; after HR
revokes it, "revoked"."""

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.certificates.models import Certificate
from modules.core.extensions import db
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as
from tests.browser.test_quiz import answer, open_attempt, read_every_module
from tests.certificates.factories import demo_user
from tests.certificates.pdfqr import decode_qr_in_pdf

pytestmark = pytest.mark.browser


def status_tag(page) -> str:
    return page.locator("#status .govuk-tag").inner_text().strip()


def test_staff_downloads_a_certificate_that_verifies_until_hr_revokes_it(page, live_server, tmp_path: Path):
    staff = demo_user("staff", "tkat")
    db.session.rollback()

    # Staff reads every module, passes the quiz and follows "Acknowledge the policy" from the result.
    sign_in_as(page, live_server, "staff", "tkat")
    read_every_module(page, live_server)
    page.locator("#next-step").get_by_role("link", name="Take the quiz").click()
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("fieldset.govuk-fieldset")).to_have_count(10)
    answer(page, open_attempt(staff.id), right=True)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator(".govuk-panel")).to_contain_text("You passed")
    page.get_by_role("button", name="Acknowledge the policy").click()
    expect(page.locator("h1")).to_have_text("Acknowledge the policy")
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill("Sam Taylor")
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.get_by_role("button", name="Acknowledge and sign").click()

    # My certificates, through the service navigation: one valid certificate, downloaded.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="My records").click()
    page.get_by_role("navigation", name="My records").get_by_role("link", name="My certificates").click()
    assert page.locator("h1").inner_text() == "My certificates"
    assert "Valid" in page.locator(".govuk-summary-card .govuk-tag").inner_text()
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("^Download PDF")).click()
    path = tmp_path / "certificate.pdf"
    info.value.save_as(path)
    pdf = path.read_bytes()
    db.session.commit()  # see what the live server committed
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == staff.id))
    assert hashlib.sha256(pdf).hexdigest() == cert.issued_sha256, "the download is the stored PDF, byte for byte"

    # The QR code printed in the PDF leads to the public verify page, which says "valid".
    [url] = decode_qr_in_pdf(pdf)
    assert url == f"{live_server}/verify/{cert.code}"
    page.get_by_role("button", name="Sign out").click()
    page.goto(url)
    assert status_tag(page) == "Valid"
    assert "Sam Taylor" in page.locator("#certificate").inner_text()
    assert_accessible(page)
    page.get_by_label("Upload the certificate PDF").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    assert "byte-for-byte identical" in page.locator("#upload-result").inner_text()

    # HR revokes it with a reason; the same verify page now says "revoked".
    sign_in_as(page, live_server, "hr", "tkat")
    open_hr_tool(page, "Certificates")
    assert_accessible(page)
    page.locator(f"#certificate-{cert.id}").get_by_role("link", name=re.compile("^Revoke")).click()
    page.get_by_label("Why are you revoking this certificate?").fill("Completed under another person's login")
    page.get_by_role("button", name="Revoke certificate").click()
    assert "has been revoked" in page.locator(".govuk-notification-banner").inner_text()
    page.goto(url)
    assert status_tag(page) == "Revoked"
    assert_accessible(page)
    assert_no_csp_errors(page)
