"""Issue 14 point 6 "Done when": a trust with two policies. TSAT's HR adds an acceptable use policy in the browser
and uploads its first version into it (its quiz is then written, reviewed and published, as
tests/browser/test_quiz_authoring.py walks in the browser). A member of staff sees both policies on their home,
completes each separately (modules, quiz, acknowledgement, certificate), and only the policy that gates the
authorised-user register (the trust setting register_policy; by default the first) affects the register: a
certificate of the acceptable use policy alone does not make them eligible, the social media one does."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from modules.assessments import authoring
from modules.assessments.authoring import QuestionInput
from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.models import PolicySeries, PolicyVersion
from modules.policies.services import london_date, publish_draft
from tests.assessments.factories import demo_user
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.browser.test_quiz import answer, open_attempt

pytestmark = pytest.mark.browser

#: A short acceptable use policy: three must / must-not clauses in two modules.
AUP = b"""Acceptable Use of IT Policy

1 Scope

1.1 This policy applies to all staff who use the trust's computers, devices and networks.

2 Passwords and accounts

2.1 Staff must not share their passwords with anyone, including colleagues.
2.2 Staff must lock their screen whenever they leave a device unattended.

3 Email and data

3.1 Staff must not send pupils' personal data to a personal email account.
3.2 Staff may use the trust's devices for occasional personal browsing at break times.
"""

#: (clause, quote, scenario, options, the right option's letter)
QUESTIONS = [
    ("2.1", "must not share their passwords", "A colleague asks for your password to print a register. What do you do?",
     ["Tell them your password.", "Refuse, and help them sign in with their own account.",
      "Write it on a sticky note for them."], "b"),
    ("2.2", "lock their screen", "You leave your classroom laptop to fetch a pupil. What do you do first?",
     ["Lock the screen.", "Leave it open: you will be back soon.", "Ask a pupil to watch it."], "a"),
    ("3.1", "must not send pupils' personal data", "You want to finish reports at home. What do you do with them?",
     ["Use the trust's remote access.", "Email the class list to your personal account.",
      "Copy them to your own memory stick."], "a"),
]


def _question(ref: str, quote: str, stem: str, texts: list[str], right: str) -> QuestionInput:
    options = [{"id": letter, "text": text, "feedback": f"{'Yes' if letter == right else 'No'}. {ref} decides it."}
               for letter, text in zip("abc", texts, strict=True)]
    return QuestionInput(type="single", stem=stem, options=options, correct=[right],
                         explanation=f"{ref} says so.", quote=quote, clauses=[ref])


def _write_and_publish_quiz(now) -> None:
    """The acceptable use draft's quiz: three questions written by HR, reviewed by the administrator; published."""
    db.session.rollback()
    trust = db.session.scalar(select(Trust).where(Trust.slug == "tsat"))
    series = db.session.scalar(select(PolicySeries).where(PolicySeries.trust_id == trust.id,
                                                          PolicySeries.slug == "acceptable-use"))
    version = db.session.scalar(select(PolicyVersion).where(PolicyVersion.series_id == series.id))
    hr, admin = demo_user("hr", "tsat"), demo_user("admin", "tsat")
    # Ten questions fill the trust's draw (quiz_questions: 10): each scenario in a few settings.
    settings = ["in the staff room", "on a training day", "during a school trip", "at parents' evening"]
    for n in range(10):
        ref, quote, stem, texts, right = QUESTIONS[n % 3]
        question = _question(ref, quote, f"{stem[:-1]}, {settings[n // 3]}?", texts, right)
        row = authoring.save_question(version, hr, question, now=now)
        authoring.approve_question(row, admin, now=now)
    publish_draft(version, effective_on=london_date(now), now=now, gate=authoring.publish_gate)
    db.session.commit()


def _read_every_module(page, home: str) -> None:
    page.goto(home)
    total = page.locator("#modules a").count()
    page.locator("#modules a").first.click()
    for position in range(1, total + 1):
        expect(page.locator(".govuk-caption-l")).to_contain_text(f"Module {position} of {total}")
        with page.expect_navigation():
            page.get_by_role("button", name="Mark as read").click()
    expect(page.locator("#progress-label")).to_have_text(re.compile(r"You have read (\d+) of \1 modules\."))


def _pass_quiz(page, user_id: int, questions: int) -> None:
    with page.expect_navigation():
        page.locator("#next-step").get_by_role("link", name="Take the quiz").click()
    expect(page.locator("h1")).to_have_text("Quiz")
    with page.expect_navigation():
        page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("fieldset.govuk-fieldset")).to_have_count(questions)
    attempt = open_attempt(user_id)
    answer(page, attempt, right=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Submit answers").click()
    expect(page.locator(".govuk-panel")).to_contain_text("You passed")
    return attempt


def _acknowledge(page, url: str, boxes: int) -> None:
    page.goto(url)
    expect(page.locator("h1")).to_have_text("Acknowledge the policy")
    checkboxes = page.locator("input[type=checkbox]")
    expect(checkboxes).to_have_count(boxes)
    for i in range(boxes):
        checkboxes.nth(i).check()
    page.get_by_label("Type your full name to sign").fill("sam taylor")
    with page.expect_navigation():
        page.get_by_role("button", name="Acknowledge and sign").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Policy acknowledged")


def _register_says(page, live_server, eligible: bool) -> None:
    page.goto(f"{live_server}/access/requests/join")
    expect(page.locator("#certificate-ok" if eligible else "#certificate-missing")).to_be_visible()
    expect(page.locator("#certificate-missing" if eligible else "#certificate-ok")).to_have_count(0)


def _certificates(user_id: int) -> dict[str, int]:
    db.session.rollback()
    rows = db.session.execute(select(PolicySeries.slug, Certificate.id)
                              .join(PolicyVersion, PolicyVersion.id == Certificate.version_id)
                              .join(PolicySeries, PolicySeries.id == PolicyVersion.series_id)
                              .where(Certificate.user_id == user_id)).all()
    return {slug: sum(1 for s, _ in rows if s == slug) for slug in {s for s, _ in rows}}


def test_a_member_of_staff_completes_two_policies_and_only_the_gating_one_counts_for_the_register(
        page, live_server, browser, now):
    staff_id = demo_user("staff", "tsat").id
    before = _certificates(staff_id)
    assert db.session.scalar(select(Trust).where(Trust.slug == "tsat")).rules.quiz_questions == 10

    # HR adds the second policy in the browser and uploads its first version into it.
    sign_in_as(page, live_server, "hr", "tsat")
    page.goto(f"{live_server}/hr/policy/policies")
    expect(page.locator("h1")).to_have_text("Policies")
    page.get_by_label("Title").fill("Acceptable use policy")
    page.get_by_label("Short name").fill("acceptable use")  # not a short name: refused, with the reason
    with page.expect_navigation():
        page.get_by_role("button", name="Add the policy").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("lower-case letters, digits and hyphens")
    page.console_errors.clear()  # the refused form's 400, as intended
    page.get_by_label("Short name").fill("acceptable-use")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the policy").click()
    row = page.locator('tr[data-policy="acceptable-use"]')
    expect(row).to_contain_text("All staff")
    expect(page.locator('tr[data-policy="social-media"]')).to_contain_text("Gates the authorised-user register")
    assert_accessible(page)
    with page.expect_navigation():
        row.get_by_role("link", name="Upload a version of Acceptable use policy").click()
    expect(page.locator("#upload-series")).to_contain_text("Acceptable use policy")
    page.get_by_label("Policy document").set_input_files(
        files=[{"name": "aup.txt", "mimeType": "text/plain", "buffer": AUP}])
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and check").click()
    page.get_by_label("I have checked the sections and clauses against the document").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save as a draft version").click()
    expect(page.locator("h1")).to_contain_text("Review version")
    page.context.clear_cookies()
    _write_and_publish_quiz(now)

    # The member of staff sees both policies, neither done, and is not eligible for the register.
    sign_in_as(page, live_server, "staff", "tsat")
    page.goto(f"{live_server}/")
    policies = page.locator("#policies")
    expect(policies.locator("li")).to_have_count(2)
    expect(policies.locator('[data-policy="social-media"]')).to_contain_text("needed for official accounts")
    expect(page.locator("#policy-acceptable-use-status")).to_contain_text("Read the modules")
    # Its first version is its version 1, though it is the trust's second version overall.
    expect(policies.locator('[data-policy="acceptable-use"]')).to_contain_text("Version 1")
    assert_accessible(page)
    _register_says(page, live_server, eligible=False)

    # 1. The acceptable use policy: its own modules, quiz (its three questions), acknowledgement and certificate.
    with page.expect_navigation():
        page.goto(f"{live_server}/")
        policies.get_by_role("link", name="Acceptable use policy").click()
    expect(page.locator("h1")).to_have_text("Acceptable Use of IT Policy")
    expect(page.locator("#modules li")).to_have_count(3)  # its own three modules
    _read_every_module(page, f"{live_server}/?policy=acceptable-use")
    attempt = _pass_quiz(page, staff_id, 10)
    assert {item.question.version.series.slug for item in attempt.items} == {"acceptable-use"}
    _acknowledge(page, f"{live_server}/acknowledge?policy=acceptable-use", boxes=1)
    assert _certificates(staff_id).get("acceptable-use") == 1
    page.goto(f"{live_server}/")
    expect(page.locator("#policy-acceptable-use-status")).to_have_text("Complete")
    expect(page.locator("#policy-social-media-status")).not_to_have_text("Complete")
    # A certificate of the policy that does not gate the register does not make them eligible.
    _register_says(page, live_server, eligible=False)

    # 2. The social media policy (the register's): completed separately, it does.
    _read_every_module(page, f"{live_server}/")
    expect(page.locator("h1")).not_to_have_text("Acceptable Use of IT Policy")
    attempt = _pass_quiz(page, staff_id, 10)
    assert {item.question.version.series.slug for item in attempt.items} == {"social-media"}
    _acknowledge(page, f"{live_server}/acknowledge", boxes=2)  # TSAT's monitoring notice is the second box
    after = _certificates(staff_id)
    assert after.get("social-media", 0) == before.get("social-media", 0) + 1 and after["acceptable-use"] == 1
    page.goto(f"{live_server}/")
    expect(page.locator("#policy-social-media-status")).to_have_text("Complete")
    expect(page.locator("#policy-acceptable-use-status")).to_have_text("Complete")
    _register_says(page, live_server, eligible=True)
    page.goto(f"{live_server}/certificates")
    expect(page.locator("h1")).to_have_text("My certificates")
    assert_no_csp_errors(page)

    # HR's completion list for the acceptable use policy names them with a valid certificate.
    page.context.clear_cookies()
    sign_in_as(page, live_server, "hr", "tsat")
    page.goto(f"{live_server}/tracking/policies/acceptable-use")
    expect(page.locator("h1")).to_have_text("Who has completed the Acceptable use policy")
    expect(page.locator("#completion-summary")).to_contain_text("(version 1 is current)")
    email = demo_user("staff", "tsat").email
    expect(page.locator(f'tr[data-email="{email}"]')).to_contain_text("Valid until")
    assert_accessible(page)
