"""A person's full history as CSV and XLSX: the same rows as their page, formula-safe, same access as the page."""

import csv
import io
from datetime import date

import openpyxl
import pytest

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications.services import london_date
from modules.tracking import reminders, services
from tests.conftest import NOW
from tests.tracking.factories import acknowledge, current, demo_user, trust

NASTY = ["=HYPERLINK(\"http://attacker.invalid\",\"click\")", "+44 7700 900123", "@SUM(A1:A2)"]


@pytest.fixture
def staff(app):
    """The demo staff member, with formula-looking details, an overdue reminder, then the training done."""
    services.ensure_assignments(trust(), now=NOW)
    person = demo_user("staff")
    person.name, person.job_title, person.department = "-2+3 Taylor", NASTY[0], NASTY[1]
    current(person).due_on = date(2026, 11, 20)
    db.session.commit()
    reminders.queue_reminders(trust(), now=NOW)
    db.session.commit()
    acknowledge(person, NOW)
    db.session.commit()
    return person


def _csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_has_the_whole_history_defused(staff, client, login):
    """Every section of the page is in the file; formula-looking cells get defusedcsv's apostrophe."""
    login("hr", "tkat")
    page = client.get(f"/tracking/people/{staff.id}").get_data(as_text=True)
    assert f"/tracking/people/{staff.id}/history.csv" in page and f"/tracking/people/{staff.id}/history.xlsx" in page
    response = client.get(f"/tracking/people/{staff.id}/history.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="history-{staff.id}-{london_date(utcnow()).isoformat()}.csv"')
    rows = _csv(response.data)
    assert rows[0] == ["Record", "Date", "Policy", "Detail", "Outcome", "Reference"]
    records = {row[0] for row in rows[1:]}
    assert records == {"Person", "Assignment", "Module", "Quiz attempt", "Acknowledgement", "Certificate", "Reminder"}
    person = {row[3]: row[4] for row in rows if row[0] == "Person"}
    assert person["Name"] == "'-2+3 Taylor" and person["Email"] == staff.email
    assert person["Job title"] == "'" + NASTY[0] + ", " + NASTY[1]
    assert person["Status"] == "Complete"
    [assignment] = [row for row in rows if row[0] == "Assignment"]
    assert assignment[4].startswith("Completed 21 November 2026 (late)")
    [reminder] = [row for row in rows if row[0] == "Reminder"]
    assert reminder[3].startswith("Overdue: your social media policy training")
    [certificate] = [row for row in rows if row[0] == "Certificate"]
    assert certificate[4] == "Valid" and certificate[5]
    assert [row[4] for row in rows if row[0] == "Quiz attempt"] == ["Passed"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_xlsx_cells_are_strings_never_formulas(staff, client, login):
    """The workbook holds the same history: text as strings (never formulas), dates as typed dates."""
    login("hr", "tkat")
    response = client.get(f"/tracking/people/{staff.id}/history.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = []
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                assert cell.data_type in ("s", "d", "n"), (cell.coordinate, cell.value, cell.data_type)
                if cell.data_type == "s":
                    values.append(cell.value)
    assert "-2+3 Taylor" in values and f"{NASTY[0]}, {NASTY[1]}" in values and "Acknowledgement" in values
    csv_rows = _csv(client.get(f"/tracking/people/{staff.id}/history.csv").data)
    assert sheet.max_row == len(csv_rows)


def test_same_access_as_the_page(app, staff, client, login):
    """Out of scope or another trust's person is a 404; no dashboard scope is a 403; an unknown format 404."""
    other_trust = demo_user("staff", "e-act").id
    login("head", "tkat")  # a headteacher: their own academy only
    assert client.get(f"/tracking/people/{staff.id}/history.csv").status_code == 200
    outside = demo_user("staff2")  # Jack Wilson, at the other academy
    assert client.get(f"/tracking/people/{outside.id}").status_code == 404
    assert client.get(f"/tracking/people/{outside.id}/history.csv").status_code == 404
    assert client.get(f"/tracking/people/{other_trust}/history.xlsx").status_code == 404
    assert client.get(f"/tracking/people/{staff.id}/history.pdf").status_code == 404
    colleague = app.test_client()
    login("teacher", "tkat", colleague)  # no dashboard scope: as for the page
    assert colleague.get(f"/tracking/people/{staff.id}").status_code == 403
    assert colleague.get(f"/tracking/people/{staff.id}/history.csv").status_code == 403
    assert colleague.get(f"/tracking/people/{other_trust}/history.csv").status_code == 404
