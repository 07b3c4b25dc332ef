"""Issue 2 "Done when": a demo member of staff of each trust signs in and reads their own modules."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser

TRUSTS = {
    "tkat": "The Kemnal Academies Trust",
    "e-act": "E-ACT",
    "tasmat": "Torfield and Saxon Mount Academy Trust",
    "tsat": "Thinking Schools Academy Trust",
    "agora": "Agora Learning Partnership",
}


@pytest.mark.parametrize("slug", sorted(TRUSTS))
def test_staff_reads_and_marks_a_module(page, live_server, slug):
    """Sign in as staff, see the trust's modules with progress, read one, mark it read."""
    sign_in_as(page, live_server, "staff", slug)
    assert page.locator(".govuk-caption-l").first.inner_text() == TRUSTS[slug]
    assert "You have read 0 of" in page.content()
    assert_accessible(page)
    modules = page.locator("#modules a")
    count = modules.count() - page.locator("#modules .govuk-tag--grey").count()  # optional form appendices
    assert count >= 7
    first_title = modules.first.inner_text()
    modules.first.click()
    assert page.locator("h1").inner_text() == first_title
    assert re.search(r"\d+ min read", page.locator(".govuk-caption-l").inner_text())
    assert page.locator(".pp-clause").count() >= 1
    assert_accessible(page)
    page.get_by_role("button", name="Mark as read").click()
    assert "marked as read" in page.locator(".govuk-notification-banner").inner_text()
    page.goto(f"{live_server}/")
    assert f"You have read 1 of {count} modules" in page.content()
    assert page.locator("progress.pp-progress").get_attribute("value") == "1"
    assert_no_csp_errors(page)


def test_obligations_are_marked_and_refs_linkable(page, live_server):
    """A module shows clause refs as links and marks must / must-not clauses."""
    sign_in_as(page, live_server, "staff", "tkat")
    page.get_by_role("link", name=re.compile(r"^3\. ")).click()
    ref = page.locator('a.pp-clause-ref[href="#clause-3.3.1"]')
    expect(ref).to_have_count(1)  # waits for the module page
    assert page.locator("#clause-3\\.3\\.1 .pp-obligation").count() == 1
    assert page.locator(".pp-obligation-must-not, .pp-obligation-must").count() >= 1


def test_tsat_staff_read_the_appendix_2_form_as_a_form_preview(page, live_server):
    """Issue 12: the TSAT approval form (Appendix 2) is a read-only form preview with no raw tags, and optional."""
    sign_in_as(page, live_server, "staff", "tsat")
    item = page.locator("#modules li", has_text="Appendix 2")
    assert "Optional" in item.inner_text() and "A blank form from the policy: optional reading" in item.inner_text()
    total = page.locator("#modules a").count() - 1
    assert f"You have read 0 of {total} modules" in page.content()
    item.get_by_role("link").click()
    assert page.locator("h1").inner_text().startswith("Appendix 2")
    note = page.locator("#form-note").inner_text()
    assert "read-only preview" in note and "You do not need to read it before the quiz (trust setting)" in note
    assert page.locator("#online-form").get_by_role("link").get_attribute("href").endswith("/requests/new-account")
    form = page.locator(".pp-form-preview")
    assert form.count() == 1
    assert form.locator(".pp-form-blank").count() >= 15
    assert form.locator("h3", has_text="TEAM DETAILS").count() == 1
    assert form.locator(".pp-form-options li", has_text="Members of the public").count() == 2
    assert form.locator("strong", has_text="Line Manager").first.is_visible()
    text = page.locator("main").inner_text()
    assert "I approve the aims and content of the proposed site." in text
    assert not re.search(r"</?[A-Za-z][A-Za-z0-9]*[^<>]*>", text) and "&lt;" not in text, "raw markup is visible"
    assert_accessible(page)
    assert_no_csp_errors(page)
