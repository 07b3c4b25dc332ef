"""Exports of dashboard views: CSV through defusedcsv, XLSX with typed dates and numbers and text never a formula; same filters as the page."""

import csv
import io
from datetime import date, timedelta

import openpyxl
import pytest

from modules.core.extensions import db
from modules.tracking import services
from tests.conftest import NOW
from tests.tracking.factories import current, demo_user, trust

NASTY = ["=HYPERLINK(\"http://attacker.invalid\",\"click\")", "+44 7700 900123", "-2+3", "@SUM(A1:A2)"]


@pytest.fixture
def nasty(app):
    """Staff whose free-text fields look like formulas; one is overdue."""
    services.ensure_assignments(trust(), now=NOW)
    staff = demo_user("staff")
    staff.job_title, staff.department = NASTY[0], NASTY[1]
    staff.name = "-2+3 Taylor"
    teacher = demo_user("teacher")
    teacher.job_title = NASTY[3]
    current(staff).due_on = date(2026, 11, 1)
    db.session.commit()


def _csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_defuses_formulas(nasty, client, login):
    """Cells starting with =, +, - or @ get the apostrophe defusedcsv adds; the file is a download."""
    login("hr", "tkat")
    response = client.get("/tracking/export/people.csv?sort=name")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="people-')
    rows = _csv(response.data)
    assert rows[0][:3] == ["Name", "Email", "Job title"]
    cells = {cell for row in rows for cell in row}
    assert "'" + NASTY[0] in cells and "'" + NASTY[3] in cells and "'-2+3 Taylor" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert len(rows) == 1 + 12, "every person, not one page"


def test_overdue_export_is_the_overdue_list(nasty, client, login):
    """The overdue export has exactly the overdue people, with days overdue."""
    login("hr", "tkat")
    rows = _csv(client.get("/tracking/export/overdue.csv").data)
    assert len(rows) == 2
    assert rows[1][0] == "'-2+3 Taylor" and rows[1][8] == "20"


def test_xlsx_text_is_never_a_formula_and_dates_and_numbers_are_typed(nasty, client, login):
    """Formula-looking text stays a string; the due date is a date cell and days overdue a number cell."""
    login("hr", "tkat")
    response = client.get("/tracking/export/people.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    headers = [c.value for c in sheet[1]]
    values = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if cell.data_type == "s":
                values.append(cell.value)
    assert NASTY[0] in values and "-2+3 Taylor" in values
    overdue = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "-2+3 Taylor")
    due = overdue[headers.index("Due")]
    assert due.is_date and due.value.date() == date(2026, 11, 1) and "mmmm" in due.number_format
    days = overdue[headers.index("Days overdue")]
    assert days.data_type == "n" and days.value == 20


def test_completion_xlsx_per_cent_is_a_number(nasty, client, login):
    login("hr", "tkat")
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/tracking/export/completion.xlsx").data)).active
    headers = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for name in ("People", "Complete", "Per cent complete"):
            assert row[headers.index(name)].data_type == "n", (name, row[headers.index(name)].value)


def test_export_keeps_the_filters_and_scope(nasty, client, login):
    """A headteacher's export covers their academy; filters in the URL narrow it further."""
    login("head", "tkat")
    rows = _csv(client.get("/tracking/export/people.csv").data)
    names = {row[0] for row in rows[1:]}
    assert "Jack Wilson" not in names and "Helen Osei" in names
    rows = _csv(client.get("/tracking/export/people.csv?status=overdue").data)
    assert [row[0] for row in rows[1:]] == ["'-2+3 Taylor"]
    assert client.get("/tracking/export/people.csv?status=nope").status_code == 400


@pytest.mark.parametrize("by", ["academy", "role", "manager", "module"])
def test_completion_exports(nasty, client, login, by):
    """The completion view exports for each grouping, in both formats."""
    login("hr", "tkat")
    rows = _csv(client.get(f"/tracking/export/completion.csv?by={by}").data)
    assert len(rows) > 1
    assert client.get(f"/tracking/export/completion.xlsx?by={by}").status_code == 200


def test_expiring_export(nasty, client, login):
    """Certificates expiring export; an unknown view or format is a 404."""
    from tests.tracking.factories import acknowledge

    acknowledge(demo_user("office"), NOW - timedelta(days=350))
    db.session.commit()
    login("hr", "tkat")
    rows = _csv(client.get("/tracking/export/expiring.csv?within=30").data)
    assert rows[1][0] == "Tom Reid"
    assert client.get("/tracking/export/secrets.csv").status_code == 404
    assert client.get("/tracking/export/people.pdf").status_code == 404


def test_staff_cannot_export(nasty, client, login):
    """No scope, no export."""
    login("staff", "tkat")
    assert client.get("/tracking/export/people.csv").status_code == 403
