"""Issue 17 point 11 in the browser, as HR: a staff file of hundreds of rows is applied by the queue's worker
while the page shows its progress; then the page shows how many rows were imported and every refused row with
its reason. The queue is the app's real Huey store; the test plays the worker by draining it while the page
waits (as tests/browser/test_jobs.py does)."""

import csv

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications import queue
from modules.people.models import User
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as
from tests.conftest import demo_email

pytestmark = pytest.mark.browser

HEADER = ["Name", "Email", "Job title", "Department", "Academy", "Line manager email", "Start date", "Roles"]


@pytest.fixture
def app_config():
    """A small threshold, so the test's few hundred rows go to the worker as thousands would."""
    return {"STAFF_IMPORT_IN_WORKER": 100}


def _staff_file(tmp_path) -> str:
    manager = demo_email("manager", "tkat")
    rows = [[f"Worker Person {n:03d}", f"worker{n:03d}@school.example", "Teacher", "Maths",
             ("North Park Academy", "Riverside Primary Academy")[n % 2], manager, "01/09/2026", "staff"]
            for n in range(300)]
    rows[40][1] = "worker040@"  # row 42 of the file
    rows[250][6] = "31/02/2026"  # row 252
    path = tmp_path / "many-staff.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return str(path)


def test_hr_imports_hundreds_of_staff_through_the_worker(page, live_server, app, tmp_path):
    sign_in_as(page, live_server, "hr", "tkat")
    open_hr_tool(page, "Import staff")
    page.get_by_label("Staff list (CSV file)").set_input_files(_staff_file(tmp_path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("h1")).to_have_text("Check the staff import")
    expect(page.locator("#count-create")).to_have_text("298")
    expect(page.locator("#count-errors")).to_have_text("2")
    page.get_by_role("button", name="Import 298 rows").click()

    expect(page.locator("h1")).to_have_text("Staff import")
    expect(page.locator("#job-step")).to_contain_text("Waiting for the worker to start")
    expect(page.locator("#job-progress")).to_be_visible()
    assert_accessible(page)
    job_url = page.url

    assert queue.drain(app) == 1  # the worker applies the file; the page notices by itself
    expect(page.locator("#job-imported")).to_have_text("298 rows imported", timeout=60_000)
    assert page.url == job_url
    expect(page.locator("#result-created")).to_have_text("298")
    expect(page.locator("#result-skipped")).to_have_text("2")
    errors = page.locator("#row-errors")
    expect(errors.locator("tbody tr")).to_have_count(2)
    expect(errors).to_contain_text("Row 42 has an email address that is not valid: “worker040@”")
    expect(errors).to_contain_text("Row 252 has a start date that is not a date: “31/02/2026”")
    assert_accessible(page)
    assert_no_csp_errors(page)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.email.like("worker%@school.example"))) == 298
