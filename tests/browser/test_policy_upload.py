"""Issue 14 points 1 and 3, walked by a trust administrator: upload a Word policy generated here, see the preview
with a warning, fix one heading, save a draft; the file downloads back byte-identical."""

import hashlib
import re

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.models import PolicySource, PolicyVersion
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as
from tests.policies.corpus_build import build_docx
from tests.policies.test_uploads import SPEC

pytestmark = pytest.mark.browser
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_trust_admin_uploads_a_word_policy_fixes_a_heading_and_saves_a_draft(page, live_server):
    data = build_docx(SPEC)
    sign_in_as(page, live_server, "admin", "tkat")
    open_hr_tool(page, "Upload a policy")
    assert page.locator("h1").inner_text() == "Upload a policy"
    assert_accessible(page)

    # A file that is not a policy is refused on the form, whatever its name says.
    page.get_by_label("Policy document").set_input_files(
        files=[{"name": "policy.docx", "mimeType": DOCX, "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}])
    page.get_by_role("button", name="Upload and check").click()
    assert "binary file" in page.locator(".govuk-error-summary").inner_text()
    page.console_errors.clear()  # the refused upload answered 400, as it should

    page.get_by_label("Policy document").set_input_files(
        files=[{"name": "Fernhill social media policy.docx", "mimeType": DOCX, "buffer": data}])
    page.get_by_role("button", name="Upload and check").click()
    assert page.locator("h1").inner_text() == "Check how the policy was read"
    assert page.locator("#sha256").inner_text() == hashlib.sha256(data).hexdigest()
    warnings = page.locator("#warnings").inner_text()
    assert 'Clause 2.2 ends with "Official accounts.", which may be a heading of its own' in warnings
    # Warnings come before the document and the structure found.
    assert page.content().index('id="warnings"') < page.content().index('id="source-lines"')
    assert "Check this" in page.locator("#section-2").inner_text()
    assert page.locator("#section-3").count() == 0
    assert_accessible(page)

    # The same bytes come back when the file is downloaded.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the file as uploaded").click()
    assert open(download.value.path(), "rb").read() == data

    row = page.locator("#source-lines tr", has_text="Official accounts.").first
    line = re.search(r"\d+", row.get_attribute("id")).group(0)
    page.get_by_label("Line number").fill(line)
    page.get_by_label("This line is a section heading").check()
    page.get_by_role("button", name="Apply correction").click()
    assert f"Line {line} corrected" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("#section-3 h3").inner_text().startswith("3. Official accounts")
    assert "Official accounts need the Headteacher" in page.locator("#section-3").inner_text()
    assert "may be a heading" not in page.content()
    assert "This line is a section heading" in page.locator("#corrections").inner_text()
    assert_accessible(page)

    page.get_by_label("I have checked the sections and clauses against the document").check()
    page.get_by_role("button", name="Save as a draft version").click()
    assert "saved as version 2, a draft" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("h1").inner_text() == "Review version 2"
    assert_accessible(page)
    assert_no_csp_errors(page)

    db.session.rollback()
    trust = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    source = db.session.scalar(select(PolicySource).where(PolicySource.trust_id == trust.id))
    assert source.data == data and source.overlay[0]["op"] == "heading"
    version = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == trust.id,
                                                            PolicyVersion.number == 2))
    assert version.status == "draft" and version.source_sha256 == source.sha256
    assert [s.title for s in version.sections] == ["Introduction", "Personal use", "Official accounts"]


def test_hr_uploads_a_pdf_and_sees_its_page_furniture_was_removed(page, live_server):
    """A PDF made by WeasyPrint: running header and "Page N of M" are reported as removed, never in a clause."""
    from tests.policies.corpus_build import build_pdf
    from tests.policies.test_corpus import PDF_SECTIONS

    header = "Hillcrest Learning Trust – Staff Social Media Policy"
    data = build_pdf("Hillcrest Learning Trust Social Media Policy", header, PDF_SECTIONS)
    sign_in_as(page, live_server, "hr", "tkat")
    open_hr_tool(page, "Upload a policy")
    page.get_by_label("Policy document").set_input_files(
        files=[{"name": "policy.pdf", "mimeType": "application/pdf", "buffer": data}])
    page.get_by_role("button", name="Upload and check").click()
    warnings = page.locator("#warnings").inner_text()
    assert f'Removed a running page header or footer repeated on every page: "{header}"' in warnings
    structure = page.locator("#section-4").inner_text()
    assert structure.startswith("4. Breaches") and "A breach may lead to disciplinary action." in structure
    assert header not in "".join(page.locator(f"#section-{n}").inner_text() for n in "1234")
    assert_accessible(page)
    page.get_by_label("I have checked the sections and clauses against the document").check()
    page.get_by_role("button", name="Save as a draft version").click()
    assert page.locator("h1").inner_text() == "Review version 2"
    assert_no_csp_errors(page)
