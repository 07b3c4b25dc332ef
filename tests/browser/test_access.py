"""Issue 5 "Done when", walked in the browser by the people the issue names.

- For each trust, a demo request goes through that trust's approvers and produces an active grant on the register.
- Revoking the grantee's certificate shows the grant as lapsed and flags the account below its minimum.
- The TKAT export opens in a spreadsheet with the Appendix 1 columns.
- A full TSAT approval (the Appendix 2 form) from request to active grant.

Issue 12 "Done when": minimums are gates (TSAT A.5.4 and the Appendix 2 form; E-ACT 4.4.2), walked by the
approvers at every step; TaSMAT's approver reads as a trust setting; the TSAT form uses the seed's wording.
"""

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.access.models import AccessGrant, AccessRequest, OfficialAccount
from modules.core.extensions import db
from tests.access.factories import account, approve_through, certify, demo_user, granted, join
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
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.get_by_role("button", name="Sign out").click()


def open_waiting_request(page, live_server: str, requester: str) -> None:
    """As an approver, find the request waiting for me the way the interface offers it."""
    nav = page.get_by_role("navigation", name="Menu")
    if nav.get_by_role("link", name="Approvals", exact=True).count():
        nav.get_by_role("link", name="Approvals", exact=True).click()
        assert_accessible(page)
        with page.expect_navigation():  # the next page has loaded, not the one clicked on
            page.locator("#waiting").get_by_role("link", name=requester).click()
    else:  # a line manager without an approving role: their team page lists what waits for them
        nav.get_by_role("link", name="My team").click()
        page.get_by_role("navigation", name="My team").get_by_role("link", name="Team sign-off").click()
        assert_accessible(page)
        with page.expect_navigation():  # the next page has loaded, not the one clicked on
            page.locator("#waiting").get_by_role("link", name=re.compile(f"^{requester}")).click()


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


def _request_of(local: str, slug: str, handle: str, role: str = "administrator") -> AccessRequest:
    """The person's request for a role on the account with this handle (what the live server committed)."""
    db.session.rollback()
    return db.session.scalar(select(AccessRequest).join(OfficialAccount).where(
        OfficialAccount.handle == handle, AccessRequest.role == role,
        AccessRequest.requester_id == demo_user(local, slug).id).order_by(AccessRequest.id.desc()).limit(1))


def _others_ask(slug: str, handle: str, wanted: list[tuple[str, str]]) -> list[AccessRequest]:
    """Colleagues (certified earlier) ask for their roles on the proposed account, the way the join form does."""
    db.session.rollback()
    acct = db.session.scalar(select(OfficialAccount).where(OfficialAccount.handle == handle))
    made = [join(local, slug, acct, role) for local, role in wanted]
    db.session.commit()
    return made


def _approve_others(requests: list[AccessRequest]) -> None:
    """Each colleague's own request goes through its own chain (their line manager, and so on)."""
    db.session.rollback()
    for request in requests:
        db.session.refresh(request)
        approve_through(request)
    db.session.commit()


def _blocked(page, *texts: str) -> None:
    """The request page says what is missing, quoting the clauses, and Approve cannot be pressed."""
    gate = page.locator("#minimum-gate")
    expect(gate).to_have_count(1)
    for text in texts:
        assert text in page.locator("main").inner_text(), text
    expect(page.get_by_role("button", name="Approve", exact=True)).to_be_disabled()
    assert_accessible(page)


def test_full_tsat_approval_with_the_appendix_2_form(page, live_server):
    """Issue 12: a TSAT new-site request with one administrator and one moderator (the same person) cannot be
    approved; with two of each, four different people, it goes active. Every step checks, the last one too."""
    for local in ("staff", "office", "teacher", "staff2"):
        certify(demo_user(local, "tsat"))
    db.session.commit()
    handle = "facebook.com/NorthParkSport"

    sign_in_as(page, live_server, "staff", "tsat")
    page.goto(f"{live_server}/access/requests/new-account")
    assert "Social Media Site Creation Approval Form (Appendix 2)" in page.locator("#request-form-title").inner_text()
    assert "A.3.2" in page.locator("#credentials-note + .govuk-inset-text").inner_text()
    expect(page.locator('input[type="password"]')).to_have_count(0)
    assert_accessible(page)
    page.get_by_label("Platform").select_option(label="Facebook")
    page.get_by_label("Handle or web address").fill(handle)
    page.get_by_label("Owner").select_option(label="North Park Academy")
    page.get_by_label("What is the account for?").fill("Sports fixtures and results")
    page.get_by_role("radio", name="Administrator").check()
    page.get_by_label("Why do you need this account?").fill("I coordinate PE fixtures")
    page.get_by_label("What are the aims you propose to achieve").fill("Share fixtures and celebrate teams")
    page.get_by_label("What is the proposed content of the site?").fill("Fixtures, results, photos with consent")
    page.get_by_role("group", name="Proposed audience of the site").get_by_label("Pupils' family members").check()
    page.get_by_role("group", name="Proposed audience of the site").get_by_label("The Academy's staff").check()
    page.get_by_role("group", name="Proposed contributors to the site").get_by_label("The Academy's staff").check()
    assert "(the site must have at least 2 approved moderators)" in page.locator("main").inner_text()
    page.get_by_label("Names of administrators").fill("Sam Taylor")
    page.get_by_label("Names of moderators").fill("Sam Taylor")
    page.get_by_label("Who will vet external contributors?").fill("Martin Lowe")
    page.get_by_label("Who will host the site?").fill("Third party: Meta")
    page.locator("#q_go_live_on-day").fill("1")
    page.locator("#q_go_live_on-month").fill("9")
    page.locator("#q_go_live_on-year").fill("2027")
    page.locator("#q_closure_on-day").fill("31")
    page.locator("#q_closure_on-month").fill("7")
    page.locator("#q_closure_on-year").fill("2028")
    # The seed's own words (Appendix 2), not "children under 13".
    page.get_by_label("If contributors include children or adults with learning disabilities how do you propose "
                      "to inform and obtain consent of parents or responsible adults?").fill("Consent letters via the office")
    assert "under 13" not in page.locator("main").inner_text()
    page.get_by_label("What security measures will you take").fill("Comments moderated; no friend requests")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your request has been sent")
    answers = page.locator("#request-form-answers").inner_text()
    assert "Pupils' family members" in answers and "1 September 2027" in answers and "31 July 2028" in answers
    # The same person also asks to moderate it: one administrator and one moderator, one person.
    page.locator("#ask-to-join").click()
    page.get_by_label("Account").select_option(label=f"Facebook: {handle} (North Park Academy)")
    page.get_by_role("radio", name="Moderator").check()
    page.get_by_label("Why do you need access?").fill("I will moderate it too")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your request has been sent")
    sign_out(page)

    site = _request_of("staff", "tsat", handle)
    sign_in_as(page, live_server, "manager", "tsat")  # step 1 of 3: the line manager
    page.goto(f"{live_server}/access/requests/{site.id}")
    _blocked(page, "1 of 2 administrators; 1 of 2 moderators; 1 of 4 different people",
             "A.5.4: “The team must designate at least two approved Administrators”",
             "Appendix 2: “the site must have at least 2 approved moderators”", "One person counts once")
    sign_out(page)

    # Sam withdraws the moderator request; two administrators and two moderators, four people, ask instead.
    sign_in_as(page, live_server, "staff", "tsat")
    page.goto(f"{live_server}/access/requests/{_request_of('staff', 'tsat', handle, 'moderator').id}")
    page.get_by_role("button", name="Withdraw request").click()  # a link styled as a button: it only asks
    expect(page.locator("h1")).to_have_text("Are you sure you want to withdraw your request?")
    page.get_by_role("button", name="Yes, withdraw my request").click()
    expect(page.locator("#request-status")).to_have_text("Withdrawn")
    sign_out(page)
    others = _others_ask("tsat", handle, [("office", "administrator"), ("teacher", "moderator"),
                                          ("staff2", "moderator")])

    for local in ("manager", "head"):  # steps 1 and 2: everyone the site needs has asked
        sign_in_as(page, live_server, local, "tsat")
        page.goto(f"{live_server}/access/requests/{site.id}")
        expect(page.locator("#minimum-gate")).to_have_count(0)
        team = page.locator("#team").inner_text()
        assert all(name in team for name in ("Sam Taylor", "Tom Reid", "Priya Shah", "Jack Wilson"))
        approve(page, f"{local} approves")
        sign_out(page)

    # Step 3 makes the site active, so the others must first be approved on their own requests.
    sign_in_as(page, live_server, "dpo", "tsat")
    page.goto(f"{live_server}/access/requests/{site.id}")
    _blocked(page, "everyone it needs must already be approved",
             "1 of 2 administrators; 0 of 2 moderators")
    _approve_others(others)
    page.reload()
    expect(page.locator("#minimum-gate")).to_have_count(0)
    approve(page, "dpo approves")
    expect(page.locator("#request-status")).to_have_text("Approved")
    sign_out(page)

    sign_in_as(page, live_server, "staff", "tsat")
    page.goto(f"{live_server}/access/requests")
    page.get_by_role("link", name=handle).first.click()
    expect(page.locator("#steps li")).to_have_count(3)
    sign_out(page)

    sign_in_as(page, live_server, "comms", "tsat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    rows = page.locator("#register tbody tr[data-status=active]", has_text=handle)
    expect(rows).to_have_count(4)
    expect(page.locator("#flagged")).to_have_count(0)  # the site meets A.5.4 and the Appendix 2 form
    assert_accessible(page)
    assert_no_csp_errors(page)
    db.session.rollback()
    assert db.session.scalar(select(OfficialAccount).where(OfficialAccount.handle == handle)).status == "active"


def test_eact_one_administrative_contact_cannot_be_approved_then_two_go_active(page, live_server):
    """Issue 12: E-ACT 4.4.2, "every account must have two administrative contacts". Removing one later asks
    for confirmation naming the shortfall, and the register then says who to add."""
    certify(demo_user("staff", "e-act"))
    certify(demo_user("office", "e-act"))
    db.session.commit()
    handle = "instagram.com/northparkpe"
    sign_in_as(page, live_server, "staff", "e-act")
    page.goto(f"{live_server}/access/requests/new-account")
    page.get_by_label("Platform").select_option(label="Instagram")
    page.get_by_label("Handle or web address").fill(handle)
    page.get_by_label("Owner").select_option(label="North Park Academy")
    page.get_by_label("What is the account for?").fill("PE fixtures")
    page.get_by_role("radio", name="Administrator").check()
    page.get_by_label("Why do you need this account?").fill("I coordinate PE fixtures")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your request has been sent")
    sign_out(page)

    site = _request_of("staff", "e-act", handle)
    sign_in_as(page, live_server, "manager", "e-act")
    page.goto(f"{live_server}/access/requests/{site.id}")
    _blocked(page, "1 of 2 administrative contacts",
             "4.4.2: “every account must have two administrative contacts”")
    sign_out(page)
    others = _others_ask("e-act", handle, [("office", "administrator")])
    sign_in_as(page, live_server, "manager", "e-act")
    page.goto(f"{live_server}/access/requests/{site.id}")
    approve(page, "Discussed and approved")
    sign_out(page)

    sign_in_as(page, live_server, "comms", "e-act")  # the Director of Communications: the last step
    page.goto(f"{live_server}/access/requests/{site.id}")
    _blocked(page, "everyone it needs must already be approved", "1 of 2 administrative contacts")
    _approve_others(others)
    page.reload()
    approve(page, "Registered")
    expect(page.locator("#request-status")).to_have_text("Approved")

    # Removing Tom would leave one contact: the page names the shortfall and asks to confirm.
    db.session.rollback()
    tom = db.session.scalar(select(AccessGrant).where(AccessGrant.user_id == demo_user("office", "e-act").id))
    page.goto(f"{live_server}/access/grants/{tom.id}/revoke")
    assert "it would have 1 of 2 administrative contacts" in page.locator("#below-minimum").inner_text()
    assert_accessible(page)
    page.get_by_role("radio", name="Changed role").check()
    page.get_by_role("button", name="Remove access").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("confirm that you understand")
    page.console_errors.clear()  # that refusal was a 400 on purpose; nothing else may log an error
    page.get_by_label("I understand that the account will be below its minimum").check()
    page.get_by_role("button", name="Remove access").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("access has been removed")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    flagged = page.locator("#flagged").inner_text()
    assert "Below minimum: 1 of 2 administrators" in flagged
    assert "Who to add: 1 more administrative contact" in flagged and "4.4.2" in flagged
    assert_accessible(page)
    assert_no_csp_errors(page)


def test_tasmats_approver_reads_as_a_trust_setting(page, live_server):
    """Issue 12: 7.3 asks for "appropriate authorisation" and names nobody; the Headteacher is TaSMAT's setting."""
    sign_in_as(page, live_server, "staff", "tasmat")
    page.goto(f"{live_server}/access/requests/new-account")
    chain = page.locator("#chain").inner_text()
    assert "Headteacher (CEO for the central team)" in chain and "(7.3)" in chain
    assert "Trust setting" in chain and "set by Torfield and Saxon Mount Academy Trust" in chain
    assert "“can only be set up with appropriate authorisation”" in chain
    assert "names only the Headteacher" not in page.content()
    assert_accessible(page)
