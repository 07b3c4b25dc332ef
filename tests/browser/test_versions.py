"""Issue 7 "Done when": HR publishes the current E-ACT version over the earlier demo one and sees 5.5 added."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.queries import versions_of
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as

pytestmark = pytest.mark.browser


def _staff_completed_the_demo_version(now):
    """Sam (E-ACT staff) read every module of version 1, passed and acknowledged it."""
    from modules.training.services import mark_read
    from tests.certificates.factories import demo_user, issue

    trust = db.session.scalar(select(Trust).where(Trust.slug == "e-act"))
    demo = min(versions_of(trust.id), key=lambda v: v.number)
    for section in demo.sections:
        mark_read(demo_user("staff", "e-act"), section, now=now)
    issue("staff", "e-act", now, version=demo)


def test_hr_reviews_and_publishes_the_current_e_act_version(page, live_server, now):
    _staff_completed_the_demo_version(now)
    sign_in_as(page, live_server, "hr", "e-act")
    open_hr_tool(page, "Policy versions")
    assert page.locator("h1").inner_text() == "Policy versions"
    assert "Past review" in page.locator("#next-review").inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="Review and publish version 2").click()
    assert page.locator("h1").inner_text() == "Review version 2"
    added = page.locator("#change-added-5\\.5")
    assert "Clause 5.5" in added.inner_text() and "Added" in added.inner_text()
    assert "Use of WhatsApp for Trust Purposes" in added.locator("ins").inner_text()
    assert "strictly prohibited" in page.locator("#change-added-5\\.5\\.1 ins").inner_text()
    assert "(was 5.5)" in page.locator("#change-renumbered-5\\.6").inner_text()
    assert page.locator("#changed-modules").inner_text().strip() == "5. Responsible use of social media"
    assert "On the changes (1)" in page.content()
    assert "their quiz asks only the 1 question on the changes" in page.content()
    assert_accessible(page)

    # Publishing without the confirmation is refused, with the error linked from the summary.
    page.get_by_role("button", name="Publish version 2").click()
    assert "Confirm that you have reviewed the changes" in page.locator(".govuk-error-summary").inner_text()
    assert page.title().startswith("Error: ")
    assert_accessible(page)
    page.console_errors.clear()  # the refused form answered 400, as it should

    page.get_by_label("I have reviewed the changes and want to publish this version").check()
    page.get_by_role("button", name="Publish version 2").click()
    assert "Version 2 is published" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("h1").inner_text() == "Version 2"
    assert "Current" in page.locator(".govuk-summary-list").first.inner_text()
    # The published version still reports what changed against the one it replaced.
    assert "Added" in page.locator("#change-added-5\\.5").inner_text()
    assert page.get_by_role("button", name="Publish version 2").count() == 0
    assert_accessible(page)
    assert_no_csp_errors(page)

    trust = db.session.scalar(select(Trust).where(Trust.slug == "e-act"))
    db.session.rollback()
    assert [(v.number, v.status) for v in versions_of(trust.id)] == [(2, "published"), (1, "superseded")]

    # Sam, who had completed version 1, now has one module to read again: the changed section 5.
    page.context.clear_cookies()
    sign_in_as(page, live_server, "staff", "e-act")
    assert "You have read 8 of 9 modules" in page.content()
    unread = page.locator("#modules li", has_text="Changed: read again")
    assert unread.count() == 1 and "5. Responsible use of social media" in unread.inner_text()


def test_tkat_hr_sees_the_policy_past_review(page, live_server):
    """On the staff-training dashboard HR lands on, and on the policy page it links to."""
    sign_in_as(page, live_server, "hr", "tkat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Staff training").click()
    warning = page.locator("#past-review").inner_text()
    assert "is past review" in warning and "31 December 2025" in warning
    assert_accessible(page)
    page.locator("#past-review").get_by_role("link", name="Policy versions").click()
    assert "past its review date (31 December 2025)" in page.locator(".govuk-warning-text").inner_text()
    assert "Past review" in page.locator("#next-review").inner_text()
    assert_accessible(page)



def test_staff_retrains_on_the_change_only_and_keeps_their_access(page, live_server, now):
    """Issue 7 "Done when", staff half: after HR publishes version 2, Sam (who completed version 1 and runs an
    account) sees the register warn of the lapse, reads one module, answers only the question on 5.5,
    acknowledges version 2 and is done; the register then stands on the new certificate."""
    from modules.attestation.models import Acknowledgement
    from modules.tracking.models import Assignment
    from tests.access.factories import account, granted
    from tests.browser.test_quiz import answer, open_attempt
    from tests.certificates.factories import demo_user

    _staff_completed_the_demo_version(now)
    granted("staff", "e-act", account("e-act", handle="@NorthParkNews", now=now), now=now, certificate=False)
    db.session.commit()
    staff_id = demo_user("staff", "e-act").id
    db.session.rollback()

    sign_in_as(page, live_server, "hr", "e-act")
    page.goto(f"{live_server}/hr/policy")
    page.get_by_role("link", name="Review and publish version 2").click()
    page.get_by_label("I have reviewed the changes and want to publish this version").check()
    page.get_by_role("button", name="Publish version 2").click()
    assert "Version 2 is published" in page.locator(".govuk-notification-banner").inner_text()
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    row = page.locator("#register tbody tr", has_text="Sam Taylor")
    assert "Active" in row.locator(".govuk-tag").inner_text()
    assert "unless Sam Taylor completes version 2" in row.inner_text()  # the one derived status (issue 17 point 2)
    page.context.clear_cookies()

    sign_in_as(page, live_server, "staff", "e-act")
    page.locator("#modules li", has_text="Changed: read again").get_by_role("link").click()
    page.get_by_role("button", name="Mark as read").click()
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Your training").click()
    expect(page.locator("main")).to_contain_text("You have read 9 of 9 modules")
    page.locator("#next-step").get_by_role("link", name="Take the quiz").click()
    assert "asks only about what changed: 1 question" in page.locator("#quiz-scope").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("fieldset.govuk-fieldset")).to_have_count(1)
    answer(page, open_attempt(staff_id), right=True)
    page.get_by_role("button", name="Submit answers").click()
    assert "You passed" in page.locator(".govuk-panel").inner_text()
    page.get_by_role("button", name="Acknowledge the policy").click()
    assert "version 2" in page.locator("main").inner_text()
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Yes, I consent to this monitoring").check()  # E-ACT: consent is its own decision
    page.get_by_label("Type your full name to sign").fill("Sam Taylor")
    page.get_by_role("button", name="Acknowledge and sign").click()
    assert "Policy acknowledged" in page.locator("h1").inner_text()
    assert "Social Media Policy (version 2)" in page.locator("#receipt").inner_text()
    assert_no_csp_errors(page)

    db.session.rollback()
    acks = db.session.scalars(select(Acknowledgement).where(Acknowledgement.user_id == staff_id,
                                                            Acknowledgement.decision == "acknowledged")
                              .order_by(Acknowledgement.id)).all()
    assert len(acks) == 2 and acks[0].version_id != acks[1].version_id, "the version 1 record stays as it was"
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == staff_id,
                                                            Assignment.is_current.is_(True)))
    assert assignment.kind == "new_version" and assignment.acknowledgement_id == acks[1].id, "nothing more to do"
    db.session.rollback()

    page.context.clear_cookies()
    sign_in_as(page, live_server, "comms", "e-act")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    row = page.locator("#register tbody tr", has_text="Sam Taylor")
    assert "Active" in row.locator(".govuk-tag").inner_text()
    assert "unless they complete" not in row.inner_text()


def test_eact_hr_sees_the_demo_version_come_from_demo_and_the_draft_from_content(page, live_server):
    """Issue 11 (demo out of production): in the demo, E-ACT HR sees that version 1 is the demo's invented
    file (demo/) and the version 2 draft is the real policy from content/ — as `flask demo seed` loaded them."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == "e-act"))
    demo, seed = sorted(versions_of(trust.id), key=lambda v: v.number)
    sign_in_as(page, live_server, "hr", "e-act")
    page.goto(f"{live_server}/hr/policy/versions/{demo.id}")
    source = page.locator(".govuk-summary-list__row", has_text="Source file").inner_text()
    assert "demo/policies/e-act-2021-demo.txt" in source
    page.goto(f"{live_server}/hr/policy/versions/{seed.id}")
    source = page.locator(".govuk-summary-list__row", has_text="Source file").inner_text()
    assert "policies/e-act.txt" in source and "demo" not in source
    assert_no_csp_errors(page)
