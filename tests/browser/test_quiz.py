"""Issue 3 "Done when": a demo member of staff of each trust reads every module, fails the quiz once, then
passes it, seeing feedback that cites and links their own trust's clauses."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.assessments.models import QuizAttempt
from modules.core.extensions import db
from tests.assessments.factories import demo_user
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as

pytestmark = pytest.mark.browser

SLUGS = ["tkat", "e-act", "tasmat", "tsat", "agora"]


def open_attempt(user_id: int) -> QuizAttempt:
    """The person's newest attempt, read afresh (the live server wrote it)."""
    db.session.rollback()  # a new read transaction sees what the server committed
    return db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user_id)
                              .order_by(QuizAttempt.id.desc())).first()


def answer(page, attempt: QuizAttempt, right: bool) -> None:
    """Tick the right options for every question, or one wrong option for each."""
    for item in attempt.items:
        correct = list(item.question.correct)
        chosen = correct if right else [next(o for o in item.option_order if o not in correct)]
        for option in chosen:
            page.locator(f'input[name="q{item.position}"][value="{option}"]').check()


def read_every_module(page, base_url: str) -> None:
    """Open the first module and press "Mark as read" until the overview comes back."""
    page.goto(f"{base_url}/")
    total = page.locator("#modules a").count()
    compulsory = total - page.locator("#modules .govuk-tag--grey").count()  # optional form appendices
    page.locator("#modules a").first.click()
    for position in range(1, total + 1):
        expect(page.locator(".govuk-caption-l")).to_contain_text(f"Module {position} of {total}")
        page.get_by_role("button", name="Mark as read").click()
    expect(page.locator("#progress-label")).to_have_text(f"You have read {compulsory} of {compulsory} modules.")
    expect(page.locator("#next-step").get_by_role("link", name="Take the quiz")).to_be_visible()


@pytest.mark.parametrize("slug", SLUGS)
def test_staff_fails_once_then_passes_with_feedback_citing_clauses(page, live_server, slug):
    """Read all modules, fail, read the feedback and follow a clause link, retry with a fresh draw, pass."""
    user_id = demo_user("staff", slug).id
    db.session.rollback()
    sign_in_as(page, live_server, "staff", slug)

    page.get_by_role("link", name="Quiz", exact=True).click()
    expect(page.locator("#unread-modules")).to_be_visible()  # shut until every module is read
    assert page.locator("#unread-modules li").count() >= 7
    assert page.get_by_role("button", name="Start the quiz").count() == 0

    read_every_module(page, live_server)
    page.get_by_role("link", name="Quiz", exact=True).click()
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("fieldset.govuk-fieldset")).to_have_count(10)
    first = open_attempt(user_id)
    assert len(first.items) == 10 and first.finished_at is None
    assert_accessible(page)
    answer(page, first, right=False)
    page.get_by_role("button", name="Submit answers").click()

    expect(page.locator("h1")).to_have_text("You did not pass this time")
    links = page.locator("a.pp-clause-link")
    expect(page.locator(".pp-quiz-feedback")).to_have_count(10)
    assert links.count() >= 10
    href = links.first.get_attribute("href")
    assert re.fullmatch(r"/modules/\d+#clause-[A-Za-z0-9.-]+", href)
    assert_accessible(page)
    links.first.click()
    anchor = href.split("#", 1)[1]
    expect(page.locator(f'[id="{anchor}"]')).to_have_count(1)
    page.go_back()

    page.get_by_role("button", name="Try the quiz again").click()
    expect(page.locator("fieldset.govuk-fieldset")).to_have_count(10)
    second = open_attempt(user_id)
    assert second.id != first.id and second.finished_at is None
    answer(page, second, right=True)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator(".govuk-panel")).to_contain_text("You passed")
    assert "100%" in page.locator(".govuk-panel").inner_text()
    expect(page.get_by_role("button", name="Acknowledge the policy")).to_have_attribute("href", "/acknowledge")
    assert page.locator("a.pp-clause-link").count() >= 10
    expect(page.locator(".pp-quiz-feedback .govuk-tag--green")).to_have_count(10)
    assert_accessible(page)

    page.get_by_role("link", name="Quiz", exact=True).click()
    expect(page.locator("#attempts tbody tr")).to_have_count(2)
    assert_no_csp_errors(page)
    db.session.rollback()
    assert [a.passed for a in db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user_id)
                                                 .order_by(QuizAttempt.id))] == [False, True]
