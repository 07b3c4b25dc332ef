"""Issue 16 point 1, walked in the browser: the certificate is issued when staff acknowledge, its PDF follows.

TKAT staff acknowledge while the PDF renderer is failing: the receipt says the certificate is being prepared
(a polite live region, no CSP error, accessible), /verify already works from the record, and HR sees the
failed render on the certificate list. Once rendering works again the sweep renders it, and the staff member's
open My certificates page updates by itself to offer the download, which is the stored PDF.
"""

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.certificates import pdfs
from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.training.queries import current_version
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as
from tests.certificates.factories import demo_user, passed_attempt

pytestmark = pytest.mark.browser


def test_the_certificate_is_prepared_after_acknowledging_and_hr_sees_a_failed_render(
        app, page, live_server, browser, monkeypatch, tmp_path: Path):
    staff = demo_user("staff", "tkat")
    passed_attempt(staff, current_version(staff.trust_id))
    db.session.commit()

    def broken(content):
        raise RuntimeError("the PDF renderer is unavailable")

    monkeypatch.setattr(pdfs, "render_certificate", broken)  # the live server runs in this process

    sign_in_as(page, live_server, "staff", "tkat")
    page.goto(f"{live_server}/acknowledge")
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill("Sam Taylor")
    page.get_by_role("button", name="Acknowledge and sign").click()
    expect(page.locator("#certificate-preparing")).to_contain_text("Your certificate is being prepared")
    assert_accessible(page)
    assert_no_csp_errors(page)

    db.session.commit()
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == staff.id))
    assert cert is not None and cert.pdf_state == "preparing"

    # My certificates says the same, with no download yet; /verify works from the record meanwhile.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="My records").click()
    page.get_by_role("navigation", name="My records").get_by_role("link", name="My certificates").click()
    expect(page.locator(f"#certificate-{cert.id} #certificate-preparing")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Download PDF"))).to_have_count(0)
    checker = browser.new_page()
    checker.goto(f"{live_server}/verify/{cert.code}")
    assert checker.locator("#status .govuk-tag").inner_text().strip() == "Valid"
    checker.close()

    # HR sees the failed render on the certificate list.
    hr = browser.new_context(base_url=live_server, locale="en-GB").new_page()
    sign_in_as(hr, live_server, "hr", "tkat")
    open_hr_tool(hr, "Certificates")
    row = hr.locator(f"#certificate-{cert.id}")
    expect(row).to_contain_text("PDF failed")
    expect(row).to_contain_text("the PDF renderer is unavailable")
    assert_accessible(hr)

    # Rendering works again; the sweep renders it, and the open page updates by itself.
    monkeypatch.undo()
    report = pdfs.render_missing(now=utcnow())
    assert report.outcomes == {cert.id: "rendered"}
    expect(page.get_by_role("link", name=re.compile("^Download PDF"))).to_be_visible(timeout=60_000)
    assert_no_csp_errors(page)
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("^Download PDF")).click()
    path = tmp_path / "certificate.pdf"
    info.value.save_as(path)
    db.session.commit()
    cert = db.session.get(Certificate, cert.id)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == cert.issued_sha256
    hr.reload()
    expect(hr.locator(f"#certificate-{cert.id}")).not_to_contain_text("PDF failed")
