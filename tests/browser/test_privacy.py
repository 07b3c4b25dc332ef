"""Issue 13 point 7, in the browser as the DPO: erasing a leaver's personal data on a lawful request (their
subject-access export is then empty of personal data and the ledger verifies); a legal hold refuses erasure,
and the refusal is shown with the hold's reason."""

import io
import zipfile
from datetime import timedelta

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.evidence.ledger import verify_ledger
from modules.operations.export import subject_access_zip
from modules.operations.models import Erasure
from modules.people.models import SecurityEvent, User
from modules.people.services import mark_left
from tests.attestation.factories import acknowledge, demo_user
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as


def _leaver(now):
    person = demo_user("staff", "tkat")
    acknowledge(person, now)
    mark_left(person, on=now.date() - timedelta(days=30), now=now)
    db.session.commit()
    return person.id, person.name, person.email


def _open_person(page, email: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Trust admin").click()
    page.locator("#tools").get_by_role("link", name="Personal data").click()
    assert page.locator("h1").inner_text() == "Personal data"
    assert "Trust setting" in page.locator("#retention").inner_text()
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Find").click()


def test_the_dpo_erases_a_leaver_on_a_lawful_request(app, page, live_server, now):
    person_id, name, email = _leaver(now)
    sign_in_as(page, live_server, "dpo", "tkat")
    _open_person(page, email)
    assert page.locator("h1").inner_text() == name
    assert "Left on" in page.locator("#status").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name=f"Erase {name}'s personal data").click()
    page.get_by_role("button", name="Erase personal data").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Enter the reason" in summary and "cannot be undone" in summary
    page.console_errors.clear()  # the refused form's 400, logged by chromium
    page.get_by_label("The request this answers").fill("Erasure request received 1 November 2026, ref DP-17")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase personal data").click()
    banner = page.locator(".govuk-notification-banner, .govuk-panel").first.inner_text()
    assert f"The personal data of {name} was erased" in banner and f"Erased person {person_id}" in banner
    assert page.locator("h1").inner_text() == f"Erased person {person_id}"
    assert "Erased on" in page.locator("#status").inner_text()
    assert_accessible(page)
    assert_no_csp_errors(page)

    db.session.rollback()
    erased = db.session.get(User, person_id)
    export = subject_access_zip(erased, now=utcnow())
    with zipfile.ZipFile(io.BytesIO(export)) as archive:
        text = "\n".join(archive.read(member).decode() for member in archive.namelist())
    for secret in (name, email, "192.0.2.7", "pytest-agent/1.0"):
        assert secret not in text, secret
    done = db.session.scalar(select(Erasure).where(Erasure.user_id == person_id))
    assert done.basis == "request" and done.actor.email.startswith("dpo@") and "DP-17" in done.reason
    report = verify_ledger()
    assert report.ok, report.problem


def test_the_dpo_places_a_legal_hold_and_erasure_is_refused(app, page, live_server, now):
    person_id, name, email = _leaver(now)
    sign_in_as(page, live_server, "dpo", "tkat")
    _open_person(page, email)
    page.get_by_label("Reason").fill("Employment tribunal claim ET/2026/0042")
    page.get_by_role("button", name="Place a legal hold").click()
    assert f"Legal hold placed on {name}" in page.locator(".govuk-notification-banner").inner_text()
    assert "Employment tribunal claim ET/2026/0042" in page.locator("#hold").inner_text()

    page.get_by_role("link", name=f"Erase {name}'s personal data").click()
    assert "under a legal hold" in page.locator("#hold").inner_text()
    page.get_by_label("The request this answers").fill("Their request of 2 November 2026")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase personal data").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Erasure refused" in summary and "Employment tribunal claim ET/2026/0042" in summary
    assert_accessible(page)
    page.console_errors.clear()  # the refused form's 400, logged by chromium

    page.get_by_role("link", name=f"Back to {name}").click()
    refusals = page.locator("#refusals").inner_text()
    assert "Employment tribunal claim ET/2026/0042" in refusals and "Their request of 2 November 2026" in refusals
    page.get_by_role("link", name="Personal data", exact=True).first.click()
    assert "Employment tribunal claim ET/2026/0042" in page.locator("#refusals").inner_text()
    assert name in page.locator("#holds").inner_text()
    assert_no_csp_errors(page)

    db.session.rollback()
    kept = db.session.get(User, person_id)
    assert (kept.name, kept.email) == (name, email)
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "erasure",
                                                          SecurityEvent.outcome == "refused"))
    assert event.target_user_id == person_id and event.actor.email.startswith("dpo@")
