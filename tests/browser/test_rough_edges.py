"""Issue 17 point 10, walked in the browser by the people it names: the register at 1,280 and 320 px wide, the
navigation of every role, decline and withdraw asking first, signing showing that it is busy, the public
not-found page on /verify, help and contact HR on every staff page, and the whole policy on one printable page."""

import pytest
from playwright.sync_api import expect

from modules.core.extensions import db
from tests.access.factories import account, granted
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser


def _widths(page) -> dict:
    return page.evaluate("""() => {
        const table = document.querySelector('#register');
        const status = [...table.querySelectorAll('thead th')].find(th => th.textContent.trim() === 'Status');
        const box = status.getBoundingClientRect();
        const region = table.closest('.pp-table-scroll');
        return {doc: document.documentElement.scrollWidth, view: window.innerWidth,
                table: table.scrollWidth, region: region ? region.clientWidth : null,
                statusRight: box.right, regionRight: region ? region.getBoundingClientRect().right : null};
    }""")


def test_comms_reads_the_register_at_1280_and_uses_it_at_320(page, live_server, now):
    site = account("tkat", handle="@NorthParkNews")
    for local in ("staff", "teacher", "office"):
        granted(local, "tkat", site, now=now)
    db.session.commit()
    sign_in_as(page, live_server, "comms", "tkat")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/access/register")
    expect(page.locator("#register tbody tr")).to_have_count(3)
    wide = _widths(page)
    print("register at 1280:", wide)
    assert wide["doc"] <= 1280, wide
    assert wide["table"] <= wide["region"], f"the table scrolls sideways at 1,280 px: {wide}"
    assert wide["statusRight"] <= wide["regionRight"], f"the Status column is cut: {wide}"
    assert_accessible(page)

    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    narrow = _widths(page)
    print("register at 320:", narrow)
    assert narrow["doc"] <= 320, f"the page is wider than the phone: {narrow}"
    assert narrow["table"] <= 320, narrow
    # Each stacked cell says which column it is.
    first = page.locator("#register tbody tr").first
    expect(first.locator("td[data-label='Status']")).to_be_visible()
    assert_accessible(page)
    assert_no_csp_errors(page)


def _top_entries(page) -> list[str]:
    return [t.strip() for t in page.get_by_role("navigation", name="Menu")
            .locator(".govuk-service-navigation__item a").all_inner_texts()]


def test_no_one_sees_more_than_seven_entries_and_the_headteacher_finds_both_team_pages(page, live_server):
    counts = {}
    for local in ("head", "dpo", "admin", "hr", "staff"):
        page.context.clear_cookies()
        sign_in_as(page, live_server, local, "tkat")
        counts[local] = _top_entries(page)
    print("top navigation entries:", {k: len(v) for k, v in counts.items()})
    assert all(len(v) <= 7 for v in counts.values()), counts
    assert counts["head"] == ["Your training", "My records", "Official accounts", "Staff training", "Approvals",
                              "My team", "Register"]
    assert counts["staff"] == ["Your training", "My records", "Official accounts"]
    # Each fits on one row at 1,280 px: every entry's top edge is level with the first's.
    page.set_viewport_size({"width": 1280, "height": 900})
    for local in ("dpo", "admin", "head"):
        page.context.clear_cookies()
        sign_in_as(page, live_server, local, "tkat")
        menu = page.get_by_role("navigation", name="Menu")
        tops = {round(menu.locator(".govuk-service-navigation__link").nth(i).bounding_box()["y"])
                for i in range(menu.locator(".govuk-service-navigation__link").count())}
        assert len(tops) == 1, f"{local}'s navigation wraps onto {len(tops)} rows"
    menu.get_by_role("link", name="My team").click()
    team = page.get_by_role("navigation", name="My team")
    expect(team.locator("[aria-current=page]")).to_have_text("Team training")
    team.get_by_role("link", name="Team sign-off").click()
    expect(team.locator("[aria-current=page]")).to_have_text("Team sign-off")
    assert_accessible(page)
    assert_no_csp_errors(page)


def test_staff_confirm_a_decline_see_signing_feedback_and_find_help(page, live_server, now):
    from tests.attestation.factories import demo_user, passed_attempt

    passed_attempt(demo_user("staff", "agora"), now=now)
    db.session.commit()
    sign_in_as(page, live_server, "staff", "agora")

    # Help and contact HR from the training page's footer.
    page.get_by_role("link", name="Help", exact=True).click()
    expect(page.locator("h1")).to_have_text("Help with your training")
    expect(page.locator("#contact-hr")).to_have_text("Contact HR")

    # "I do not agree" only asks; going back records nothing.
    page.goto(f"{live_server}/acknowledge")
    page.get_by_role("button", name="I do not agree").click()
    expect(page.locator("h1")).to_have_text("Are you sure you do not agree to the policy?")
    assert_accessible(page)
    page.get_by_role("link", name="No, go back and acknowledge").click()
    expect(page.locator("h1")).to_have_text("Acknowledge the policy")

    # Signing: the button reads "Signing…" and is disabled while the form is sent (noted as the page unloads).
    page.evaluate("""() => window.addEventListener('pagehide', () => {
        const b = document.querySelector('#acknowledge-form button[name=acknowledge], #acknowledge-form [name=acknowledge]');
        sessionStorage.setItem('busy', b.textContent.trim() + '|' + b.disabled);
    })""")
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill("Sam Taylor")
    page.get_by_role("button", name="Acknowledge and sign").click()
    expect(page.locator("h1")).not_to_have_text("Acknowledge the policy")
    assert page.evaluate("sessionStorage.getItem('busy')") == "Signing…|true"
    expect(page.locator("body")).to_contain_text("Acknowledged")
    assert_no_csp_errors(page)


def test_the_public_sees_a_plain_not_found_page_for_a_wrong_code(page, live_server):
    page.goto(f"{live_server}/verify/{'7' * 32}")
    expect(page.locator("h1")).to_have_text("No certificate has this code")
    expect(page.locator("body")).not_to_contain_text("Go to your training")
    page.get_by_role("link", name="Check a certificate by typing its code").click()
    expect(page.locator("h1")).to_have_text("Check a certificate")
    assert_accessible(page)


def test_staff_print_the_whole_policy(page, live_server):
    sign_in_as(page, live_server, "staff", "tkat")
    page.get_by_role("link", name="Print the whole policy, or save it as a PDF").click()
    sections = page.locator(".pp-print-section")
    expect(sections.nth(5)).to_be_attached()  # more than five sections, once the print view has loaded
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Menu")).to_be_hidden()
    expect(page.locator("#print-contents")).to_be_hidden()
    expect(sections.first).to_be_visible()
    expect(sections.last).to_be_visible()
    page.emulate_media(media="screen")
    assert_accessible(page)
    assert_no_csp_errors(page)
