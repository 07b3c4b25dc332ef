"""The HR tools hub in the browser: one calm navigation entry, a hub that lists what the person may use."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.core.test_navigation import HR_TOOLS

pytestmark = pytest.mark.browser


def _current(page):
    """The navigation entries marked as the current page."""
    return page.get_by_role("navigation", name="Menu").locator(".govuk-service-navigation__item--active")


def test_hr_finds_every_tool_on_the_hub(page, live_server):
    sign_in_as(page, live_server, "hr", "tkat")
    menu = page.get_by_role("navigation", name="Menu")
    for tool in HR_TOOLS:
        expect(menu.get_by_role("link", name=tool, exact=True)).to_have_count(0)
    menu.get_by_role("link", name="HR tools").click()
    expect(page.locator("h1")).to_have_text("HR tools")
    expect(page.locator("#tools h2")).to_have_text(HR_TOOLS)
    expect(page.locator("#tools")).to_contain_text("Upload a staff list from your MIS: preview, then apply")
    expect(_current(page)).to_have_count(1)
    expect(_current(page)).to_have_text("HR tools")
    assert_accessible(page)

    page.locator("#tools").get_by_role("link", name="Quiz results").click()
    expect(page.locator("h1")).to_have_text("Quiz results by question")
    expect(_current(page)).to_have_count(1)
    expect(_current(page)).to_have_text("HR tools")
    assert_no_csp_errors(page)


def test_the_dpo_sees_only_the_evidence_pack_and_a_headteacher_no_hr_tools(page, live_server):
    sign_in_as(page, live_server, "dpo", "tkat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="HR tools").click()
    expect(page.locator("#tools h2")).to_have_text(["Evidence pack"])
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in_as(page, live_server, "head", "tkat")
    expect(page.get_by_role("navigation", name="Menu").get_by_role("link", name="HR tools")).to_have_count(0)
