"""Issue 14 point 5 and its "Done when" (publishing is refused, with the list of uncovered clauses, while coverage is
incomplete), walked in the browser: HR starts TKAT's uploaded draft's quiz from the draft generator, rewrites one
draft question, writes two more (a quote not in the clause is refused), removes a draft it does not need and cannot
approve its own; the trust administrator reviews the three; HR's publish is refused with the uncovered clause and
its text; HR leaves that clause out with a reason, the trust administrator approves that (HR cannot), and the
version publishes."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.assessments.models import Question
from modules.core.extensions import db
from modules.policies.models import PolicyVersion
from tests.assessments.test_authoring import draft_version
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser


def _clause(page, ref: str):
    return page.get_by_role("group", name="Clauses that decide the answer").get_by_label(
        re.compile(rf"^\s*{re.escape(ref)}:"))


def _options(page, texts: list[str], feedback: list[str]) -> None:
    for letter, text, why in zip("ABCDE", texts, feedback, strict=False):
        page.get_by_label(f"Option {letter}", exact=True).fill(text)
        page.get_by_label(f"Feedback for option {letter}", exact=True).fill(why)


def _save(page) -> None:
    page.get_by_role("button", name="Save question").click()


def test_write_review_and_publish_a_quiz_in_the_browser(page, live_server, browser, now):
    version = draft_version("tkat", now, draw=3)
    version_id = version.id
    sign_in_as(page, live_server, "hr", "tkat")
    page.goto(f"{live_server}/hr/policy/versions/{version_id}")
    expect(page.locator("h1")).to_have_text("Review version 2")
    expect(page.locator("#uncovered-clauses")).to_contain_text("2.1")
    page.get_by_role("link", name="Write and review the quiz for version 2").click()
    expect(page.locator("h1")).to_have_text("Quiz for version 2")
    expect(page.locator("#coverage-counts")).to_contain_text("4 not yet covered")
    assert_accessible(page)

    # Start from the draft generator: unreviewed "Is this allowed?" questions, one per must / must-not clause.
    page.get_by_role("button", name="Start from the draft generator").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("draft questions were added")
    expect(page.locator("#question-draft-allowed-2-1")).to_contain_text("Waiting for review")

    # 1. Rewrite the draft on 2.1 as a real scenario (one right answer).
    page.get_by_role("link", name="Change question draft-allowed-2-1").click()
    expect(page.locator("h1")).to_have_text("Change question draft-allowed-2-1")
    assert_accessible(page)
    page.get_by_label("Scenario and question").fill(
        "A Year 9 pupil sends a friend request to your personal account. What should you do?")
    _options(page, ["Accept it if you never post about school.", "Decline it.", "Accept it, then unfollow later."],
             ["No. 2.1 says staff must not accept friend requests from pupils.", "Yes. 2.1 forbids accepting it.",
              "No. 2.1 forbids accepting it at all."])
    page.get_by_role("group", name="Right options").get_by_label("B", exact=True).check()
    page.get_by_role("group", name="Right options").get_by_label("A", exact=True).uncheck()
    page.get_by_label("Why the right answer is right").fill("2.1 says staff must not accept friend requests from "
                                                            "pupils on personal accounts.")
    _save(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Question draft-allowed-2-1 is changed")

    # 2. A new question (several right answers) whose quote is not in the clause is refused, then saved.
    page.get_by_role("link", name="Add a question").click()
    expect(page.locator("h1")).to_have_text("Add a question")
    page.get_by_label("Several right answers (select all that apply)").check()
    page.get_by_label("Scenario and question").fill(
        "A pupil messages you on a personal account about homework. Which of these should you do? Select all that "
        "apply.")
    _options(page, ["Report it to your line manager that day.", "Reply briefly, then report it.",
                    "Keep a note of what was sent and tell your line manager."],
             ["Yes. 2.2 asks you to report it the same day.", "No. Report it; 2.2 does not ask you to reply.",
              "Yes. Telling your line manager is what 2.2 asks."])
    group = page.get_by_role("group", name="Right options")
    group.get_by_label("A", exact=True).check()
    group.get_by_label("C", exact=True).check()
    page.get_by_label("Why the right answer is right").fill("2.2: report any contact from a pupil the same day.")
    _clause(page, "2.2").check()
    page.get_by_label("Words quoted from one of those clauses").fill("report it to the headteacher within a week")
    _save(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("The quote is not in the text of clause 2.2")
    page.console_errors.clear()  # the refused form answered 400, as it should
    page.get_by_label("Words quoted from one of those clauses").fill("report any contact from a pupil to their "
                                                                       "line manager")
    _save(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is saved. Someone else must now review it")

    # 3. A true or false question on 3.1.
    page.get_by_role("link", name="Add a question").click()
    expect(page.locator("h1")).to_have_text("Add a question")
    page.get_by_label("True or false", exact=True).check()
    page.get_by_label("Scenario and question").fill(
        "True or false: you may post a photograph of pupils on your own account if they agree to it.")
    page.get_by_role("group", name="The right answer").get_by_label("False", exact=True).check()
    page.get_by_label("Feedback for answering True").fill("No. 3.1 needs their parents' consent.")
    page.get_by_label("Feedback for answering False").fill("Yes. 3.1 needs their parents' consent.")
    page.get_by_label("Why the right answer is right").fill("3.1: not without the consent of their parents.")
    _clause(page, "3.1").check()
    page.get_by_label("Words quoted from one of those clauses").fill("without the consent of their parents")
    _save(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is saved")

    # The draft on 2.2 is not needed now: remove it. HR cannot approve a question they wrote.
    page.get_by_role("button", name="Remove question draft-allowed-2-2").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Question draft-allowed-2-2 is removed")
    expect(page.locator("#question-draft-allowed-2-2")).to_have_count(0)
    page.get_by_role("button", name="Approve question draft-allowed-2-1").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("someone else must review it")
    expect(page.locator("#question-draft-allowed-2-1")).to_contain_text("Waiting for review")
    assert_no_csp_errors(page)

    db.session.rollback()
    written = [q.key for q in db.session.scalars(select(Question).where(
        Question.version_id == version_id, Question.source_file == "browser", Question.active.is_(True))
        .order_by(Question.source_line)) if not q.key.startswith("draft-") or q.key == "draft-allowed-2-1"]
    assert len(written) == 3

    # A second person, the trust administrator, reviews the three.
    context = browser.new_context(base_url=live_server, locale="en-GB", timezone_id="Europe/London")
    reviewer = context.new_page()
    try:
        sign_in_as(reviewer, live_server, "admin", "tkat")
        reviewer.goto(f"{live_server}/hr/policy/versions/{version_id}/quiz")
        expect(reviewer.locator("h1")).to_have_text("Quiz for version 2")
        for key in written:
            reviewer.get_by_role("button", name=f"Approve question {key}").click()
            expect(reviewer.locator(".govuk-notification-banner")).to_contain_text(f"Question {key} is reviewed")
            expect(reviewer.locator(f"#question-{key}")).to_contain_text("Reviewed")
        expect(reviewer.locator("#coverage-counts")).to_contain_text("3 examined by a reviewed question")
        assert_accessible(reviewer)
    finally:
        context.close()

    # HR's publish is refused while 3.2 is neither examined nor left out, and the page lists it with its text.
    page.goto(f"{live_server}/hr/policy/versions/{version_id}")
    expect(page.locator("h1")).to_have_text("Review version 2")
    page.get_by_label("I have reviewed the changes and want to publish this version").check()
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("cannot be published until its quiz is ready")
    expect(page.locator("#uncovered-clauses")).to_contain_text("Every official account must have two administrators.")
    expect(page.locator("#uncovered-clauses dt")).to_have_text(["3.2"])
    assert_accessible(page)
    page.console_errors.clear()  # the refused publish answered 400, as it should
    db.session.rollback()
    assert db.session.get(PolicyVersion, version_id).status == "draft"

    # Leave 3.2 out with a reason; then the version publishes.
    page.get_by_role("link", name="Write and review the quiz for version 2").click()
    expect(page.locator("h1")).to_have_text("Quiz for version 2")
    page.get_by_label("Clause", exact=True).select_option("3.2")
    page.get_by_label("Why is it not examined?").fill("It is a duty of the trust's communications team, not of "
                                                        "the staff who take this training.")
    page.get_by_role("button", name="Leave this clause out of the quiz").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Clause 3.2 is left out of the quiz")
    expect(page.locator("#exclusion-3\\.2")).to_contain_text("Waiting for review")
    expect(page.locator("#ready")).not_to_have_text("Ready")
    # HR cannot approve leaving it out; the trust administrator does.
    page.get_by_role("button", name="Approve leaving out clause 3.2").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("someone else must review it")
    context = browser.new_context(base_url=live_server, locale="en-GB", timezone_id="Europe/London")
    reviewer = context.new_page()
    try:
        sign_in_as(reviewer, live_server, "admin", "tkat")
        reviewer.goto(f"{live_server}/hr/policy/versions/{version_id}/quiz")
        reviewer.get_by_role("button", name="Approve leaving out clause 3.2").click()
        expect(reviewer.locator(".govuk-notification-banner")).to_contain_text("Leaving out clause 3.2 is reviewed")
        expect(reviewer.locator("#exclusion-3\\.2")).to_contain_text("Reviewed")
        expect(reviewer.locator("#ready")).to_have_text("Ready")
        assert_accessible(reviewer)
    finally:
        context.close()
    page.reload()
    expect(page.locator("#ready")).to_have_text("Ready")
    page.get_by_role("link", name="Back to version 2").click()
    expect(page.locator("#quiz-ready")).to_be_visible()
    page.get_by_label("I have reviewed the changes and want to publish this version").check()
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Version 2 is published")
    assert_no_csp_errors(page)
    db.session.rollback()
    assert db.session.get(PolicyVersion, version_id).status == "published"
