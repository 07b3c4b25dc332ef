"""Issue 6 "Done when": HR imports 200 staff with 5 bad rows (reported, not applied), sees the overdue list,
exports it, and downloads an evidence pack."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications.services import london_date
from modules.people.models import Trust, User
from modules.tracking.models import Assignment
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as
from tests.conftest import demo_email

pytestmark = pytest.mark.browser

HEADER = ["Name", "Email", "Job title", "Department", "Academy", "Line manager email", "Start date", "Roles"]
ACADEMIES = ["North Park Academy", "Riverside Primary Academy"]


def staff_csv(tmp_path) -> tuple[str, list[str]]:
    """200 staff rows: two new managers, 193 staff under them, and 5 deliberately bad rows."""
    head = demo_email("head", "tkat")
    rows = [["Morgan Lead", "morgan.lead@school.example", "Head of Science", "Science", ACADEMIES[0], head,
             "01/09/2020", "staff"],
            ["Riley Lead", "riley.lead@school.example", "Head of English", "English", ACADEMIES[1], head,
             "01/09/2021", "staff"]]
    for n in range(193):
        manager = rows[n % 2][1]
        rows.append([f"Teacher {n:03d}", f"teacher{n:03d}@school.example", "Teacher", "Teaching", ACADEMIES[n % 2],
                     manager, "01/09/2024", "staff"])
    bad = [["Bad Email", "bad.email@", "Teacher", "", ACADEMIES[0], "", "01/09/2024", "staff"],
           ["Wrong School", "wrong.school@school.example", "Teacher", "", "Hogwarts", "", "01/09/2024", ""],
           ["No Manager", "no.manager@school.example", "Teacher", "", ACADEMIES[0], "ghost@school.example",
            "01/09/2024", ""],
           ["Own Manager", "own.manager@school.example", "Teacher", "", ACADEMIES[1],
            "own.manager@school.example", "01/09/2024", ""],
           ["Unknown Role", "unknown.role@school.example", "Teacher", "", ACADEMIES[1], "", "01/09/2024",
            "wizard"]]
    rows[50:50] = bad[:3]
    rows[120:120] = bad[3:]
    assert len(rows) == 200
    path = tmp_path / "staff.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return str(path), [r[1] for r in bad]


def test_hr_imports_staff_chases_the_overdue_and_exports_evidence(app, page, live_server, tmp_path):
    """The whole HR walk in the browser, as HR of one trust."""
    path, bad_emails = staff_csv(tmp_path)
    sign_in_as(page, live_server, "hr", "tkat")

    # Import: preview with the five bad rows reported, then apply.
    open_hr_tool(page, "Import staff")
    assert_accessible(page)
    page.get_by_label("Staff list (CSV file)").set_input_files(path)
    page.get_by_role("button", name="Check the file").click()
    assert page.locator("h1").inner_text() == "Check the staff import"
    assert page.locator("#count-create").inner_text() == "195"
    assert page.locator("#count-errors").inner_text() == "5"
    errors = page.locator("#row-errors").inner_text()
    for email in bad_emails:
        assert email in errors
    assert "not valid" in errors and "Hogwarts" in errors and "ghost@school.example" in errors
    assert "own line manager" in errors and "wizard" in errors
    assert_accessible(page)
    page.get_by_role("button", name="Import 195 rows").click()
    assert "195 added" in page.locator(".govuk-notification-banner").inner_text()
    assert "5 rows with errors not imported" in page.locator(".govuk-notification-banner").inner_text()

    db.session.rollback()
    tkat = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    emails = set(db.session.scalars(select(User.email).where(User.trust_id == tkat.id)))
    assert "teacher192@school.example" in emails and "morgan.lead@school.example" in emails
    assert not emails & set(bad_emails), "bad rows are not applied"

    # Ten of the new teachers miss their deadline.
    today = london_date(utcnow())
    late = list(db.session.scalars(select(Assignment).join(User, User.id == Assignment.user_id)
                                   .where(User.email.like("teacher00%"), Assignment.is_current.is_(True))))
    assert len(late) == 10
    for n, assignment in enumerate(late):
        assignment.due_on = today - timedelta(days=n + 1)
    db.session.commit()

    # The overdue list, most overdue first, accessible, then exported.
    page.get_by_role("link", name="Staff training").click()
    assert page.locator("#summary-overdue").inner_text().startswith("10")
    assert_accessible(page)
    page.locator("#summary-overdue a").click()
    assert page.locator("h1").inner_text() == "Overdue training"
    assert "10 people overdue" in page.locator("#result-count").inner_text()
    first = page.locator("#people tbody tr").first.inner_text()
    assert "Teacher 009" in first and "10 days overdue" in first
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV file").click()
    exported = download.value
    assert exported.suggested_filename.startswith("overdue-") and exported.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(open(exported.path(), encoding="utf-8-sig").read())))
    assert rows[0][0] == "Name" and len(rows) == 11
    assert rows[1][0] == "Teacher 009" and rows[1][8] == "10"

    # A person's history from the list.
    page.get_by_role("link", name="Teacher 009").click()
    assert "Induction" in page.locator("#assignments").inner_text()
    assert_accessible(page)

    # The evidence pack.
    open_hr_tool(page, "Evidence pack")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download evidence pack").click()
    pack = download.value
    assert pack.suggested_filename.startswith("evidence-tkat-")
    with zipfile.ZipFile(pack.path()) as archive:
        names = set(archive.namelist())
        assert {"README.txt", "MANIFEST.sha256", "acknowledgements.csv", "certificates.csv",
                "ledger-head.json"} <= names
        assert "flask ledger verify --trust tkat" in archive.read("README.txt").decode()
    assert_no_csp_errors(page)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.trust_id == tkat.id)) == 12 + 195
