"""Issue 15 "Done when" (LTI), the administrators' parts in the browser, against lti1p3platform on 127.0.0.1:
an LMS administrator deep-links the quiz from the tool's picker framed in the platform's page and the platform
verifies the signed reply and records the quiz; the TSAT trust administrator previews a course's roster of 30
(NRPS), applies it, sees the result, and applying it again changes nothing."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.lti.models import LtiAccount, LtiCourse
from modules.people.models import SecurityEvent, User
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.lti.conftest import launch_form, post_launch, register
from tests.lti.platform import COURSE_TITLE, INSTRUCTOR, Person, TestPlatform
from tests.lti.test_roster import _roster, _set_rule

pytestmark = pytest.mark.browser


@pytest.fixture
def lms(live_server):
    """The platform on another site than the tool (localhost vs 127.0.0.1), registered for TSAT."""
    with TestPlatform(host="localhost") as running:
        running.tool = live_server
        register(running)
        yield running


def _tool_frame(page, live_server: str):
    """The platform page's frame holding PolicyPass (a Frame, so axe can run inside it)."""
    frame = page.locator("#tool").element_handle().content_frame()
    assert frame is not None and frame.url.startswith(live_server), frame and frame.url
    return frame


def test_lms_admin_deep_links_the_quiz_from_the_picker_in_the_platform_frame(page, live_server, lms):
    lms.people["admin-1"] = Person("admin-1", "Lee Admin", "lee@tsat-school.example", [INSTRUCTOR])
    picker_csp = []
    page.on("response", lambda r: picker_csp.append(r.headers.get("content-security-policy", ""))
            if r.url.startswith(f"{live_server}/lti/launch") else None)

    page.goto(f"{lms.base}/course?sub=admin-1&kind=deep")
    frame = page.frame_locator("#tool")
    expect(frame.locator("h1")).to_have_text("Add PolicyPass to your course", timeout=60_000)
    assert page.url.startswith(lms.base)  # the picker is inside the platform's page
    assert picker_csp and f"frame-ancestors {lms.base};" in picker_csp[-1]
    expect(frame.locator(".govuk-caption-l")).to_have_text("Thinking Schools Academy Trust")  # TSAT's picker
    choices = frame.get_by_role("group", name="What to add to the course").get_by_role("radio")
    expect(choices.first).to_be_visible()
    assert choices.count() >= 3  # the training, the quiz and each module
    assert_accessible(_tool_frame(page, live_server))
    assert_no_csp_errors(page)
    # Choosing nothing is a clear message inside the frame, and nothing goes back.
    frame.get_by_role("button", name="Add to course").click()
    expect(frame.locator(".govuk-error-summary")).to_contain_text("Choose what to add to the course")
    assert_accessible(_tool_frame(page, live_server))
    assert lms.deep_link_items == []

    frame.get_by_label("The quiz only").check()
    frame.get_by_role("button", name="Add to course").click()
    # The signed reply goes back to the platform (inside the frame), which verifies it against the tool's keyset.
    expect(frame.locator("h1")).to_have_text("Added to the course", timeout=60_000)
    expect(frame.locator("li")).to_have_text(["The quiz only"])
    assert page.url.startswith(lms.base)
    assert _tool_frame(page, lms.base).url == f"{lms.base}/deep-link-return"
    # The only console error is chromium noting the 400 answer to the empty choice (no CSP violation).
    assert set(page.console_errors) <= {"Failed to load resource: the server responded with a status of 400 "
                                        "(BAD REQUEST)"}, page.console_errors
    [item] = lms.deep_link_items
    assert item["type"] == "ltiResourceLink" and item["title"] == "The quiz only"
    assert item["url"].endswith("/lti/launch")
    assert item["custom"] == {"policypass_target": "quiz"}
    assert item["lineItem"]["scoreMaximum"] == 100


def _staff_snapshot() -> list[tuple]:
    db.session.rollback()
    return list(db.session.execute(select(User.id, User.email, User.name, User.line_manager_id, User.trust_id)
                                   .order_by(User.id)))


def test_trust_admin_previews_and_applies_a_roster_of_30_in_the_browser(page, live_server, lms, app):
    _set_rule("tsat", instructor_line_manages=True)
    # The course is known to PolicyPass once someone launched from it (here its teacher).
    lms.people["t-1"] = Person("t-1", "Terry Teacher", "terry.teacher@tsat-school.example", [INSTRUCTOR])
    launcher = app.test_client()
    assert post_launch(launcher, launch_form(lms, launcher, "t-1")).status_code == 302
    _roster(lms)
    db.session.rollback()
    course = db.session.scalar(select(LtiCourse))
    before = _staff_snapshot()

    sign_in_as(page, live_server, "admin", "tsat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Trust admin").click()
    page.locator("#tools").get_by_role("link", name="Learning platforms").click()
    expect(page.locator("h1")).to_have_text("Learning platforms")
    expect(page.locator("#platforms")).to_contain_text("Test Moodle")
    assert_accessible(page)
    page.locator("#courses").get_by_role("link", name=f"Sync roster of {COURSE_TITLE}").click()

    # The preview: counts, the error row, and what will change; nothing has changed yet.
    expect(page.locator("h1")).to_have_text(f"Check the roster of {COURSE_TITLE}")
    assert page.url == f"{live_server}/lti/courses/{course.id}/roster"
    expect(page.locator("#count-members")).to_have_text("30")
    expect(page.locator("#count-create")).to_have_text("27")  # the teacher launched already; Sam is staff already
    expect(page.locator("#count-errors")).to_have_text("1")
    errors = page.locator("#row-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("No Email")
    expect(errors.first).to_contain_text("This member has no email address")
    rows = page.locator("#rows tbody tr")
    expect(rows).to_have_count(29)
    new_row = rows.filter(has_text="learner01@tsat-school.example")
    expect(new_row.locator("td")).to_have_text(["Learner 01", "learner01@tsat-school.example",
                                                "terry.teacher@tsat-school.example", "New"])
    expect(rows.filter(has_text="New")).to_have_count(27)
    assert_accessible(page)
    assert_no_csp_errors(page)
    assert _staff_snapshot() == before

    page.get_by_role("button", name="Add these people").click()
    expect(page.locator("h1")).to_have_text("Learning platforms")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Roster of {COURSE_TITLE} synced: 27 new")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("1 not added (errors)")
    assert_accessible(page)
    assert_no_csp_errors(page)
    after = _staff_snapshot()
    learners = list(db.session.scalars(select(User).where(User.email.like("learner%@tsat-school.example"))))
    terry = db.session.scalar(select(User).where(User.email == "terry.teacher@tsat-school.example"))
    assert len(after) == len(before) + 27 and len(learners) == 27
    assert all(u.trust.slug == "tsat" and u.role_labels == ["Staff"] for u in learners)
    assert all(u.line_manager_id == terry.id for u in learners)  # the trust's setting, as the preview showed
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 29  # all but the one with no email
    assert db.session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.kind == "lti-roster-sync")) == 1

    # Again: the preview shows no change, and applying it changes nothing.
    page.locator("#courses").get_by_role("link", name=f"Sync roster of {COURSE_TITLE}").click()
    expect(page.locator("#count-members")).to_have_text("30")
    expect(page.locator("#count-create")).to_have_text("0")
    expect(page.locator("#count-update")).to_have_text("0")
    expect(page.locator("#count-unchanged")).to_have_text("29")
    assert_accessible(page)
    page.get_by_role("button", name="Add these people").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Roster of {COURSE_TITLE} synced: 0 new, 0 updated, 29 unchanged")
    assert_no_csp_errors(page)
    assert _staff_snapshot() == after
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 29
