"""Issue 5 "Done when", walked in the browser by the people the issue names.

- For each trust, a demo request goes through that trust's approvers and produces an active grant on the register.
- Revoking the grantee's certificate shows the grant as lapsed and flags the account below its minimum.
- The TKAT export opens in a spreadsheet with the Appendix 1 columns.
- A full TSAT approval (the Appendix 2 form) from request to active grant.
"""

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.access.models import AccessGrant, OfficialAccount
from modules.core.extensions import db
from tests.access.factories import account, certify, demo_user, granted
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser

#: Per trust: how the North Park staff member asks, and who approves each step, in order.
WALKS = {
    "tkat": ("join", ["comms"]),
    "e-act": ("join", ["manager", "comms"]),
    "tasmat": ("new", ["head"]),
    "tsat": ("join", ["manager", "head", "dpo"]),
    "agora": ("join", ["head"]),
}
HANDLE = "@NorthParkNews"
SITE = "https://northpark.example.sch.uk/year9"


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def open_waiting_request(page, live_server: str, requester: str) -> None:
    """As an approver, find the request waiting for me the way the interface offers it."""
    nav = page.get_by_role("navigation", name="Menu")
    if nav.get_by_role("link", name="Approvals", exact=True).count():
        nav.get_by_role("link", name="Approvals", exact=True).click()
        assert_accessible(page)
        page.locator("#waiting").get_by_role("link", name=requester).click()
    else:  # a line manager without an approving role: their team page lists what waits for them
        nav.get_by_role("link", name="Team sign-off").click()
        assert_accessible(page)
        page.locator("#waiting").get_by_role("link", name=re.compile(f"^{requester}")).click()
    page.wait_for_load_state()


def approve(page, comment: str) -> None:
    """Read the request (reason, training, certificate), then approve with a comment."""
    assert "Certificate" in page.locator("#training").inner_text()
    expect(page.locator('#training [data-certificate-status="valid"]')).to_have_count(1)
    if page.get_by_role("button", name="Record training discussed").count():
        page.get_by_role("button", name="Record training discussed").click()
        expect(page.locator(".govuk-notification-banner").first).to_contain_text("you discussed training")
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your decision has been recorded")


@pytest.mark.parametrize("slug", sorted(WALKS))
def test_each_trusts_request_goes_through_its_approvers_to_an_active_grant(page, live_server, slug):
    kind, approvers = WALKS[slug]
    staff = demo_user("staff", slug)
    certify(staff)
    if kind == "join":
        account(slug, handle=HANDLE)
    db.session.commit()

    sign_in_as(page, live_server, "staff", slug)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Official accounts").click()
    assert_accessible(page)
    if kind == "join":
        page.get_by_role("link", name="Ask for access to an account").click()
        expect(page.locator("#certificate-ok")).to_have_count(1)
        page.get_by_label("Account").select_option(label=f"School website or blog: {HANDLE} (North Park Academy)")
        page.get_by_role("radio", name="Administrator").check()
        page.get_by_label("Why do you need access?").fill("I post the weekly newsletter and match reports")
    else:
        page.get_by_role("link", name="Ask to set up a new account or site").click()
        page.get_by_label("Platform").select_option(label="School website or blog")
        page.get_by_label("Handle or web address").fill(SITE)
        page.get_by_label("Owner").select_option(label="North Park Academy")
        page.get_by_label("What is the account for?").fill("Year 9 homework blog for pupils and families")
        page.get_by_role("radio", name="Administrator").check()
        page.get_by_label("Why do you need this account?").fill("Homework reminders in one place")
    expect(page.locator('input[type="password"]')).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your request has been sent")
    expect(page.locator("#request-status")).to_have_text("Pending")
    assert_accessible(page)
    sign_out(page)

    for index, local in enumerate(approvers, start=1):
        sign_in_as(page, live_server, local, slug)
        open_waiting_request(page, live_server, "Sam Taylor")
        assert_accessible(page)
        approve(page, f"Approved at step {index}")
        if index < len(approvers):
            expect(page.locator("#request-status")).to_have_text("Pending")
            assert "Approved by" in page.locator(f"#step-{index}").inner_text()
        sign_out(page)

    sign_in_as(page, live_server, "comms", slug)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    row = page.locator("#register tbody tr", has_text="Sam Taylor")
    expect(row).to_have_count(1)
    assert "Active" in row.locator(".govuk-tag").inner_text()
    assert (HANDLE if kind == "join" else SITE) in row.inner_text()
    assert_accessible(page)
    assert_no_csp_errors(page)
    db.session.rollback()  # see what the live server committed
    grant = db.session.scalar(select(AccessGrant).where(AccessGrant.user_id == staff.id))
    assert grant is not None and len(grant.approver_id_list) == len(approvers)


def test_revoking_the_certificate_lapses_the_grant_and_flags_the_account(page, live_server):
    acct = account("e-act", handle=HANDLE)  # E-ACT needs two administrative contacts (4.4.2)
    grant = granted("staff", "e-act", acct)
    granted("teacher", "e-act", acct)
    cert_id = grant.certificate_id
    db.session.commit()

    sign_in_as(page, live_server, "comms", "e-act")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    expect(page.locator("#flagged")).to_have_count(0)
    expect(page.locator("#register tbody tr[data-status=active]")).to_have_count(2)
    sign_out(page)

    sign_in_as(page, live_server, "hr", "e-act")
    page.goto(f"{live_server}/certificates/{cert_id}/revoke")
    page.get_by_label("Why are you revoking this certificate?").fill("Completed under another person's login")
    page.get_by_role("button", name="Revoke certificate").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("has been revoked")
    sign_out(page)

    sign_in_as(page, live_server, "comms", "e-act")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    row = page.locator("#register tbody tr", has_text="Sam Taylor")
    assert "Lapsed" in row.locator(".govuk-tag").inner_text()
    assert "Certificate revoked" in row.inner_text()
    flagged = page.locator(f"#flagged-{acct.id}")
    assert "Below minimum: 1 of 2 administrators" in flagged.inner_text()
    assert_accessible(page)
    flagged.get_by_role("link").click()
    assert "Below minimum" in page.locator("#account-status").inner_text()
    assert "Certificate revoked" in page.locator("#grants").inner_text()
    assert_accessible(page)
    assert_no_csp_errors(page)


def test_tkat_export_opens_with_the_appendix_1_columns(page, live_server, tmp_path: Path):
    granted("staff", "tkat", account("tkat", handle=HANDLE))
    db.session.commit()
    sign_in_as(page, live_server, "comms", "tkat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download spreadsheet (XLSX)").click()
    path = tmp_path / "register.xlsx"
    info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["Employee (Full name)", "Job title/Dept", "Social Media Account(s)"]
    assert "Status" in headers[3:]
    assert [c.value for c in sheet[2]][:3] == ["Sam Taylor", "Teaching Assistant / Learning Support",
                                               f"School website or blog: {HANDLE}"]
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith('Employee (Full name),Job title/Dept,Social Media Account(s),')


def test_full_tsat_approval_with_the_appendix_2_form(page, live_server):
    certify(demo_user("staff", "tsat"))
    db.session.commit()

    sign_in_as(page, live_server, "staff", "tsat")
    page.goto(f"{live_server}/access/requests/new-account")
    assert "Social Media Site Creation Approval Form (Appendix 2)" in page.locator("#request-form-title").inner_text()
    assert "A.3.2" in page.locator("#credentials-note + .govuk-inset-text").inner_text()
    expect(page.locator('input[type="password"]')).to_have_count(0)
    assert_accessible(page)
    page.get_by_label("Platform").select_option(label="Facebook")
    page.get_by_label("Handle or web address").fill("facebook.com/NorthParkSport")
    page.get_by_label("Owner").select_option(label="North Park Academy")
    page.get_by_label("What is the account for?").fill("Sports fixtures and results")
    page.get_by_role("radio", name="Administrator").check()
    page.get_by_label("Why do you need this account?").fill("I coordinate PE fixtures")
    page.get_by_label("What are the aims you propose to achieve").fill("Share fixtures and celebrate teams")
    page.get_by_label("What is the proposed content of the site?").fill("Fixtures, results, photos with consent")
    page.get_by_role("group", name="Proposed audience of the site").get_by_label("Pupils' family members").check()
    page.get_by_role("group", name="Proposed audience of the site").get_by_label("The Academy's staff").check()
    page.get_by_role("group", name="Proposed contributors to the site").get_by_label("The Academy's staff").check()
    page.get_by_label("Names of administrators").fill("Sam Taylor, Martin Lowe")
    page.get_by_label("Names of moderators").fill("Priya Shah, Tom Reid")
    page.get_by_label("Who will vet external contributors?").fill("Martin Lowe")
    page.get_by_label("Who will host the site?").fill("Third party: Meta")
    page.locator("#q_go_live_on-day").fill("1")
    page.locator("#q_go_live_on-month").fill("9")
    page.locator("#q_go_live_on-year").fill("2027")
    page.locator("#q_closure_on-day").fill("31")
    page.locator("#q_closure_on-month").fill("7")
    page.locator("#q_closure_on-year").fill("2028")
    page.get_by_label("how will you inform and obtain the consent").fill("Consent letters via the office; no under-13s")
    page.get_by_label("What security measures will you take").fill("Comments moderated; no friend requests")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your request has been sent")
    answers = page.locator("#request-form-answers").inner_text()
    assert "Pupils' family members" in answers and "1 September 2027" in answers and "31 July 2028" in answers
    sign_out(page)

    for local in ("manager", "head", "dpo"):
        sign_in_as(page, live_server, local, "tsat")
        open_waiting_request(page, live_server, "Sam Taylor")
        assert "Names of moderators" in page.locator("#request-form-answers").inner_text()
        approve(page, f"{local} approves")
        sign_out(page)

    sign_in_as(page, live_server, "staff", "tsat")
    page.goto(f"{live_server}/access/requests")
    page.get_by_role("link", name="facebook.com/NorthParkSport").click()
    expect(page.locator("#request-status")).to_have_text("Approved")
    expect(page.locator("#steps li")).to_have_count(3)
    for index, label in enumerate(["Line manager", "Principal / Service Manager", "Deputy DPO"], start=1):
        step = page.locator(f"#step-{index}").inner_text()
        assert label in step and "Approved by" in step
    sign_out(page)

    sign_in_as(page, live_server, "comms", "tsat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    row = page.locator("#register tbody tr", has_text="Sam Taylor")
    assert "Active" in row.locator(".govuk-tag").inner_text()
    # TSAT needs two administrators (A.5.4) and two moderators (the form): the new site is flagged.
    flags = page.locator("#flagged").inner_text()
    assert "Below minimum: 1 of 2 administrators" in flags and "Below minimum: 0 of 2 moderators" in flags
    assert_accessible(page)
    assert_no_csp_errors(page)
    db.session.rollback()
    site = db.session.scalar(select(OfficialAccount).where(OfficialAccount.handle == "facebook.com/NorthParkSport"))
    assert site.status == "active"
