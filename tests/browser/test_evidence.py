"""Issue 13 point 8, walked in the browser: a TKAT member of staff passes the quiz and acknowledges (a certificate
is issued), then asks to run the school website; the comms lead refuses. `flask ledger verify` passes, and
editing afterwards the quiz score the certificate rests on, or the comms lead's refusal, makes it fail naming
the record."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from modules.access.models import AccessDecision
from modules.assessments.models import QuizAttempt
from modules.certificates.models import Certificate
from modules.core.extensions import db
from tests.access.factories import account, demo_user
from tests.attestation import bypass
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.browser.test_access import open_waiting_request, sign_out
from tests.browser.test_quiz import answer, open_attempt, read_every_module

pytestmark = pytest.mark.browser

HANDLE = "@NorthParkNews"


def _verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    return result.exit_code, result.output


def test_the_quiz_behind_a_certificate_and_a_refusal_cannot_be_edited_unnoticed(page, live_server, app):
    staff = demo_user("staff", "tkat")
    account("tkat", handle=HANDLE)
    db.session.commit()

    # Sam reads every module, passes the quiz and acknowledges the policy.
    sign_in_as(page, live_server, "staff", "tkat")
    read_every_module(page, live_server)
    page.get_by_role("link", name="Quiz", exact=True).click()
    page.get_by_role("button", name="Start the quiz").click()
    attempt = open_attempt(staff.id)
    answer(page, attempt, right=True)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("h1")).to_have_text("You passed")
    page.goto(f"{live_server}/acknowledge")
    boxes = page.locator("input[type=checkbox]")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.get_by_label("Type your full name to sign").fill("Sam Taylor")
    page.get_by_role("button", name="Acknowledge and sign").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Policy acknowledged")

    # Sam asks to administer the school website; Colin, the comms lead, refuses with a reason.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Official accounts").click()
    page.get_by_role("link", name="Ask for access to an account").click()
    page.get_by_label("Account").select_option(label=f"School website or blog: {HANDLE} (North Park Academy)")
    page.get_by_role("radio", name="Administrator").check()
    page.get_by_label("Why do you need access?").fill("I post the weekly newsletter")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your request has been sent")
    sign_out(page)
    sign_in_as(page, live_server, "comms", "tkat")
    open_waiting_request(page, live_server, "Sam Taylor")
    page.get_by_label("Comment").fill("We already have two administrators")
    page.get_by_role("button", name="Refuse", exact=True).click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Your decision has been recorded")
    assert_accessible(page)
    assert_no_csp_errors(page)

    db.session.rollback()  # see what the live server committed
    attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.user_id == staff.id, QuizAttempt.passed))
    assert db.session.scalar(sa.select(Certificate.id).where(Certificate.user_id == staff.id)) is not None
    refusal = db.session.scalar(sa.select(AccessDecision).where(AccessDecision.outcome == "refused"))
    assert refusal is not None and refusal.comment == "We already have two administrators"
    code, output = _verify(app)
    assert code == 0 and "OK 5 entries" in output, output  # attempt, acknowledgement, certificate, its PDF, refusal

    # Someone with the database edits the score the certificate rests on: verify names the attempt.
    assert attempt.score == 100
    bypass.update(QuizAttempt.__table__, {"id": attempt.id}, "score", 70)
    code, output = _verify(app)
    assert code == 1 and f"(quiz_attempt, quiz_attempt {attempt.id})" in output and "altered" in output, output
    bypass.update(QuizAttempt.__table__, {"id": attempt.id}, "score", 100)
    assert _verify(app)[0] == 0

    # … or turns the refusal into an approval: verify names the decision.
    bypass.update(AccessDecision.__table__, {"id": refusal.id}, "outcome", "approved")
    code, output = _verify(app)
    assert code == 1 and f"(access_decided, access_decision {refusal.id})" in output, output
