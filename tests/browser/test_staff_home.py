"""Issue 17 point 3 "Done when", walked in chromium as staff: the home page shows the due date and status and
what to do next; a half-answered quiz survives leaving the page (saved as each answer is given, and, without
JavaScript, by "Save and come back later"); after completing, the home page shows the certificate and its expiry
and no "Take the quiz"; after a new version it says what changed and the module marks the changed clauses."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import format_date
from modules.people.models import Trust
from modules.policies import queries as policy_queries
from modules.policies.services import london_date, publish_draft
from modules.tracking.models import Assignment
from modules.tracking.services import ensure_assignments
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.browser.test_quiz import open_attempt, read_every_module
from tests.certificates.factories import demo_user, issue

pytestmark = pytest.mark.browser


def _assigned(slug: str, now):
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    ensure_assignments(trust, now=now)
    db.session.commit()
    user = demo_user("staff", slug)
    due = db.session.scalar(select(Assignment.due_on).where(Assignment.user_id == user.id,
                                                            Assignment.is_current.is_(True)))
    user_id = user.id
    db.session.rollback()
    return user_id, due


def _checked(page) -> dict[str, str]:
    """Question name → the option checked, as the page shows it."""
    return {box.get_attribute("name"): box.get_attribute("value")
            for box in page.locator("#quiz input:checked").all()}


def test_staff_sees_where_they_stand_and_a_half_answered_quiz_survives_leaving(page, live_server, now):
    user_id, due = _assigned("tkat", now)
    sign_in_as(page, live_server, "staff", "tkat")
    expect(page.locator("#standing-status")).to_contain_text(f"Due by {format_date(due)}")
    expect(page.locator("#next-step")).to_contain_text("Next: read")
    assert_accessible(page)

    read_every_module(page, live_server)
    page.locator("#next-step").get_by_role("link", name="Take the quiz").click()
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("#quiz")).to_be_visible()  # the attempt exists once its page has loaded
    attempt = open_attempt(user_id)
    half = attempt.items[: len(attempt.items) // 2]
    for item in half:
        page.locator(f'input[name="q{item.position}"][value="{item.option_order[1]}"]').check()
    # Said only once the newest answers have reached the server (static/js/quiz-draft.js).
    expect(page.locator("#draft-status")).to_have_text("Your answers are saved as you go.")
    given = _checked(page)
    assert len(given) == len(half)
    assert_no_csp_errors(page)

    # Leave the page (to the home page), then come back: the answers are still there.
    page.get_by_role("link", name="Your training").first.click()
    expect(page.locator("#standing-quiz")).to_contain_text(
        f"In progress: {len(half)} of {len(attempt.items)} questions answered (saved)")
    page.locator("#next-step").get_by_role("link", name="Continue the quiz").click()
    page.get_by_role("button", name="Continue the quiz").click()
    expect(page.locator("#quiz input:checked")).to_have_count(len(half))
    assert _checked(page) == given

    # Finish: every answer right, acknowledge, and the home page shows the certificate and no "Take the quiz".
    attempt = open_attempt(user_id)
    for item in attempt.items:
        for option in item.question.correct:
            page.locator(f'input[name="q{item.position}"][value="{option}"]').check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator(".govuk-panel")).to_contain_text("You passed")
    page.get_by_role("button", name="Acknowledge the policy").click()
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill("Sam Taylor")
    page.get_by_role("button", name="Acknowledge and sign").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Policy acknowledged")  # signed, before moving on
    page.get_by_role("link", name="Your training").first.click()
    expect(page.locator("#next-step")).to_contain_text("You have completed your training")
    expect(page.locator("#standing-status")).to_contain_text("Complete")
    expect(page.locator("#standing-certificate")).to_contain_text("Valid until")
    expect(page.get_by_role("link", name="Take the quiz")).to_have_count(0)
    assert_accessible(page)
    assert_no_csp_errors(page)


def test_without_javascript_save_and_come_back_later_keeps_the_answers(browser, live_server, now):
    user_id, _ = _assigned("tkat", now)
    context = browser.new_context(base_url=live_server, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in_as(page, live_server, "staff", "tkat")
        read_every_module(page, live_server)
        page.goto(f"{live_server}/quiz")
        page.get_by_role("button", name="Start the quiz").click()
        attempt = open_attempt(user_id)
        for item in attempt.items[:3]:
            page.locator(f'input[name="q{item.position}"][value="{item.option_order[0]}"]').check()
        page.get_by_role("button", name="Save and come back later").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            f"Your answers are saved (3 of {len(attempt.items)} answered)")
        page.get_by_role("button", name="Continue the quiz").click()
        expect(page.locator("#quiz input:checked")).to_have_count(3)
    finally:
        context.close()


def test_after_a_new_version_staff_see_what_changed_and_the_marked_clauses(page, live_server, now):
    trust = db.session.scalar(select(Trust).where(Trust.slug == "e-act"))
    _demo, seed = sorted(policy_queries.versions_of(trust.id), key=lambda v: v.number)
    issue("staff", "e-act", now - timedelta(days=30))
    published = now - timedelta(days=1)
    publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()
    refs = len(policy_queries.changes_since(seed).refs)
    db.session.rollback()

    sign_in_as(page, live_server, "staff", "e-act")
    banner = page.locator("#what-changed")
    expect(banner).to_contain_text("You signed version 1. Version 2 changed 1 module.")
    banner.get_by_role("link").first.click()
    expect(page.locator("#changed-note")).to_contain_text("This module changed in version 2")
    expect(page.locator(".pp-clause--changed")).to_have_count(refs)
    expect(page.locator(".pp-clause--changed .pp-changed").first).to_have_text("Changed in version 2")
    assert_accessible(page)
    assert_no_csp_errors(page)
