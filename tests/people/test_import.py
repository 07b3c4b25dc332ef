"""Bulk staff import: dry run with per-row errors, malformed files, apply, leavers, set-password links."""

import io
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.people import importer
from modules.people.models import LoginSession, User
from modules.tracking.models import Assignment
from tests.conftest import demo_email
from tests.helpers import csrf_token

HEADER = ["Name", "Email", "Job title", "Department", "Academy", "Line manager email", "Start date", "Roles"]
MANAGER = demo_email("manager", "tkat")


def make_csv(rows, header=HEADER) -> bytes:
    """A CSV file of the given rows (lists of cells) under the header."""
    out = io.StringIO()
    import csv

    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def person(n: int, **changes) -> list[str]:
    """A good row for new person n, managed by the demo line manager."""
    row = {"name": f"New Person {n}", "email": f"new{n}@school.example", "job": "Teacher", "dept": "Maths",
           "academy": "North Park Academy", "manager": MANAGER, "start": "01/09/2026", "roles": "staff"}
    row.update(changes)
    return list(row.values())


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _plan(app, data, full=False, actor="hr"):
    hr = db.session.scalar(select(User).where(User.email == demo_email(actor, "tkat")))
    return importer.plan_import(hr.trust, data, full=full, actor=hr)


def test_dry_run_reports_each_problem_and_changes_nothing(app):
    """Bad email, unknown academy, missing manager, duplicates, loops, bad date and unknown role, per row."""
    before = _users()
    rows = [
        person(1),
        person(2, email="not-an-email"),
        person(3, academy="Hogwarts"),
        person(4, manager="nobody@school.example"),
        person(5), person(5, name="Also Five"),
        person(6, manager="new7@school.example"), person(7, manager="new6@school.example"),
        person(8, start="31/02/2026"),
        person(9, roles="wizard"),
        person(10, roles="Trust administrator"),
        person(11, manager="new11@school.example"),
        person(12, manager="new4@school.example"),
    ]
    plan = _plan(app, make_csv(rows))
    errors = {row.line: " ".join(row.errors) for row in plan.bad}
    assert [r.line for r in plan.good] == [2]
    assert "not valid" in errors[3]
    assert "academy that is not in TKAT" in errors[4]
    assert "not in the file or in TKAT" in errors[5]
    assert "same email address as rows 6, 7" in errors[6] and "same email address" in errors[7]
    assert "loop" in errors[8] and "loop" in errors[9]
    assert "not a date" in errors[10]
    assert "role TKAT does not have" in errors[11]
    assert "which you cannot give" in errors[12]
    assert "own line manager" in errors[13]
    assert "whose own row (row 5) has errors" in errors[14]
    assert _users() == before


def test_manager_in_the_database_or_later_in_the_file(app):
    """A manager may be an existing person or appear on a later row."""
    plan = _plan(app, make_csv([person(1, manager="new2@school.example"), person(2)]))
    assert not plan.bad and [r.action for r in plan.rows] == ["create", "create"]


def test_loop_through_the_database(app):
    """A loop closed through existing people is caught: the manager's manager is this person."""
    rows = [person(1, email=demo_email("head", "tkat"), name="Helen Osei", manager=MANAGER)]
    plan = _plan(app, make_csv(rows))
    assert "loop" in " ".join(plan.bad[0].errors)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    ("Name,Email,Academy\nZoë,zoe@x.example,North Park\n".encode("cp1252"), "UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV"),
    (b"Full name,Telephone\nA,1\n", "Missing: Email, Academy"),
    (b"Name,Email,Academy\n", "no staff"),
    (b"Name,Email,Email address,Academy\na,b,c,d\n", "two"),
    (b'Name,Email,Academy\n"unclosed,a@b.example,x\n', "could not be read"),
])
def test_malformed_files_get_a_clear_error(app, data, message):
    """A file that is not a staff list raises a clear error before any row is checked."""
    with pytest.raises(importer.ImportFileError, match=message):
        _plan(app, data)


def test_size_and_row_limits(app):
    """Too many rows, or too many bytes, is refused."""
    app.config["STAFF_IMPORT_MAX_ROWS"] = 3
    with pytest.raises(importer.ImportFileError, match="most one import takes is 3"):
        _plan(app, make_csv([person(n) for n in range(4)]))
    app.config["STAFF_IMPORT_MAX_BYTES"] = 100
    with pytest.raises(importer.ImportFileError, match="larger than"):
        _plan(app, make_csv([person(n) for n in range(3)]))


def test_semicolons_bom_and_header_aliases(app):
    """Excel's UTF-8 CSV with a BOM, semicolons and MIS-style headings reads the same."""
    data = "\ufeffFull name;Email address;School;Manager email;Start date;Role\n" \
           "Zoë Brontë;zoe@school.example;north-park;;2026-09-01;\"Staff; Headteacher\"\n".encode("utf-8")
    plan = _plan(app, data, actor="admin")  # the trust administrator may give the headteacher role
    assert not plan.bad, plan.bad[0].errors if plan.bad else None
    row = plan.rows[0]
    assert row.values["name"] == "Zoë Brontë" and row.academy.slug == "north-park"
    assert row.role_keys == ["staff", "headteacher"] and str(row.start_date) == "2026-09-01"


# ---- through the pages ---------------------------------------------------------------------------------


def _upload(client, data: bytes, full: bool = False):
    page = client.get("/staff/import").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "file": (io.BytesIO(data), "staff.csv")}
    if full:
        form["full"] = "y"
    return client.post("/staff/import", data=form, content_type="multipart/form-data")


def _apply_fields(html: str) -> dict:
    fields = dict(re.findall(r'name="(upload|fingerprint|full|csrf_token)" type="hidden" value="([^"]*)"', html))
    fields.update(re.findall(r'<input[^>]*name="(upload|fingerprint|full|csrf_token)"[^>]*value="([^"]*)"', html))
    return fields


def test_preview_then_apply(app, client, login, now):
    """HR previews, then applies: good rows are upserted, bad rows skipped, new people invited and assigned."""
    login("hr", "tkat")
    rows = [person(1), person(2, email="bad email"),
            person(3, email=demo_email("staff", "tkat"), name="Sam Taylor", job="Senior TA")]
    response = _upload(client, make_csv(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Row 3 has an email address that is not valid" in html
    assert db.session.scalar(select(User).where(User.email == "new1@school.example")) is None
    fields = _apply_fields(html)
    response = client.post("/staff/import/apply", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()  # end the test's read snapshot, to see what the request committed
    new = db.session.scalar(select(User).where(User.email == "new1@school.example"))
    assert new is not None and new.password_hash is None and new.line_manager.email == MANAGER
    assert new.academy.slug == "north-park" and "Staff" in new.role_labels
    staff = db.session.scalar(select(User).where(User.email == demo_email("staff", "tkat")))
    assert staff.job_title == "Senior TA"
    assert db.session.scalar(select(Assignment).where(Assignment.user_id == new.id)).kind == "induction"
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "new1@school.example"))
    assert mail.reason == "set-password" and "/set-password/" in mail.body
    # The upload is used up: applying again is refused.
    assert client.post("/staff/import/apply", data=fields).status_code == 400

    # The link works once.
    link = re.search(r"(/set-password/\S+)", mail.body).group(1)
    other = app.test_client()
    page = other.get(link)
    assert page.status_code == 200 and "new1@school.example" in page.get_data(as_text=True)
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "password": "correct horse battery",
            "confirm": "correct horse battery"}
    assert other.post(link, data=form).status_code == 302
    assert other.get(link).status_code == 400, "used once"
    signed = app.test_client()
    from tests.helpers import sign_in

    assert "Sign out" in sign_in(signed, "new1@school.example", "correct horse battery").get_data(as_text=True)


def test_expired_or_forged_link(app, client):
    """An expired, tampered or unknown token shows the expired page, changing nothing."""
    user = db.session.scalar(select(User).where(User.email == demo_email("staff", "tkat")))

    class OldSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 8 * 24 * 3600

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=importer.SET_PASSWORD_SALT, signer=OldSigner)
    with app.test_request_context():
        token = importer.set_password_token(user)
    stale = old.dumps({"u": user.id, "p": importer._password_state(user)})
    assert client.get(f"/set-password/{token}").status_code == 200
    for bad in (stale, token[:-2] + "xx", "nonsense"):
        response = client.get(f"/set-password/{bad}")
        assert response.status_code == 400 and "expired or has already been used" in response.get_data(as_text=True)


def test_full_import_marks_leavers_after_confirmation(app, client, login):
    """A full list: absentees are listed, and only become leavers once HR confirms; HR is never one."""
    login("hr", "tkat")
    keep = ["staff", "manager", "head", "ceo"]
    rows = [person(0, email=demo_email(k, "tkat"), name=k, manager="", academy="") for k in keep]
    response = _upload(client, make_csv(rows), full=True)
    html = response.get_data(as_text=True)
    leavers = html[html.index('id="leavers"'):]
    leavers = leavers[:leavers.index("</ul>")]
    assert "Priya Shah" in leavers and "Harriet Hughes" not in leavers, "the importer is never a leaver"
    fields = _apply_fields(html)
    response = client.post("/staff/import/apply", data=fields)
    assert response.status_code == 400 and "Confirm that the people listed have left" in response.get_data(as_text=True)
    teacher = db.session.scalar(select(User).where(User.email == demo_email("teacher", "tkat")))
    assert teacher.active
    sessions = app.test_client()
    from tests.helpers import sign_in

    sign_in(sessions, teacher.email)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == teacher.id))
    response = client.post("/staff/import/apply", data={**fields, "confirm_leavers": "y"})
    assert response.status_code == 302
    db.session.rollback()  # end the test's read snapshot, to see what the request committed
    assert not teacher.active and teacher.left_on is not None
    assert db.session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == teacher.id)) == 0
    assert sessions.get("/").status_code == 302, "the leaver's session has ended"
    hr = db.session.scalar(select(User).where(User.email == demo_email("hr", "tkat")))
    assert hr.active


def test_changed_since_preview_is_refused(app, client, login):
    """If records change between preview and apply, nothing is imported and the new preview is shown."""
    login("hr", "tkat")
    html = _upload(client, make_csv([person(1)])).get_data(as_text=True)
    fields = _apply_fields(html)
    hr = db.session.scalar(select(User).where(User.email == demo_email("hr", "tkat")))
    from modules.people.services import upsert_user

    upsert_user(hr.trust, email="new1@school.example", name="Someone Else", now=hr.created_at)
    db.session.commit()
    response = client.post("/staff/import/apply", data=fields)
    assert response.status_code == 409 and "changed since you checked" in response.get_data(as_text=True)


def test_malformed_upload_page_and_permissions(app, client, login):
    """A malformed upload is a 400 with the reason; too big is a 413; people without staff:manage get 403."""
    login("hr", "tkat")
    response = _upload(client, b"\xff\xfe\x00junk")
    assert response.status_code == 400 and "not a CSV file" in response.get_data(as_text=True)
    app.config["STAFF_IMPORT_MAX_BYTES"] = 50
    response = _upload(client, make_csv([person(1), person(2)]))
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)
    head = app.test_client()
    from tests.helpers import sign_in

    sign_in(head, demo_email("head", "tkat"))
    assert head.get("/staff/import").status_code == 403
    assert head.post("/staff/import/apply", data={}).status_code in (400, 403)


def test_someone_elses_upload_cannot_be_applied(app, client, login):
    """An upload key is bound to the person who uploaded it."""
    login("hr", "tkat")
    fields = _apply_fields(_upload(client, make_csv([person(1)])).get_data(as_text=True))
    admin = app.test_client()
    from tests.helpers import sign_in

    page = sign_in(admin, demo_email("admin", "tkat")).get_data(as_text=True)
    response = admin.post("/staff/import/apply", data={**fields, "csrf_token": csrf_token(
        admin.get("/staff/import").get_data(as_text=True))})
    assert response.status_code == 400 and page
    assert db.session.scalar(select(User).where(User.email == "new1@school.example")) is None
