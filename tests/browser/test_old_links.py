"""Issue 17 point 8, walked in chromium: after version 2, Sam's bookmarked version 1 module opens that version's
page (the version Sam signed), with its clauses; My certificates links to it; a colleague who never signed version
1 following the same link lands on the current module with a notice. Nobody sees "Page not found"."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from modules.core.extensions import db
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.certificates.factories import issue, publish_next_version

pytestmark = pytest.mark.browser


def test_an_old_module_link_redirects_to_the_version_it_belongs_to(page, live_server, now):
    cert = issue("staff", "tkat", now - timedelta(days=20))
    old = cert.version.sections[2]
    old_id, v1_id, heading, number = old.id, cert.version_id, old.heading, old.number
    sections = len(cert.version.sections)
    v2 = publish_next_version(cert.trust_id, now - timedelta(days=1))
    twin_id = next(s.id for s in v2.sections if s.number == number)
    db.session.rollback()

    sign_in_as(page, live_server, "staff", "tkat")
    page.goto(f"{live_server}/modules/{old_id}")
    assert page.url.endswith(f"/policy/versions/{v1_id}/modules/{old_id}")
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("#version-notice")).to_contain_text("This is version 1 of the policy")
    expect(page.locator("#version-notice")).to_contain_text("You signed it on")
    assert page.locator(".pp-clause").count() > 0
    assert_accessible(page)
    assert_no_csp_errors(page)

    page.goto(f"{live_server}/certificates")  # My certificates
    page.get_by_role("link", name="Read version 1, as you signed it").click()
    expect(page.locator("#version-notice")).to_contain_text("You signed it on")
    assert page.url.endswith(f"/policy/versions/{v1_id}")
    assert page.locator("#contents li").count() == sections
    page.get_by_role("button", name="Sign out").click()

    sign_in_as(page, live_server, "teacher", "tkat")
    page.goto(f"{live_server}/modules/{old_id}")
    assert page.url.endswith(f"/modules/{twin_id}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The link you followed was to version 1 of the policy, which has been replaced by version 2")
    expect(page.locator("h1")).not_to_have_text("Page not found")
    assert_no_csp_errors(page)
