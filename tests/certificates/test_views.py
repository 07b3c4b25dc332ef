"""My certificates, downloads, HR revocation and the public /verify page, through HTTP."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import event, select

from modules.certificates.codes import group_code
from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.notifications.delivery import send_pending
from tests.certificates.factories import issue
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in
from tests.notifications.sink import mail_config


def signed_in(app, local: str, slug: str = "tkat"):
    client = app.test_client()
    sign_in(client, demo_email(local, slug))
    return client


def status_text(html: str) -> str:
    return re.search(r'<strong class="govuk-tag[^"]*">(\w+)</strong>', html).group(1)


def test_my_certificates_lists_own_with_download_of_the_stored_bytes(app, now):
    cert = issue("staff", "tkat", now)
    issue("teacher", "tkat", now)
    client = signed_in(app, "staff")
    page = client.get("/certificates").get_data(as_text=True)
    assert "My certificates" in page and group_code(cert.code) in page and "Valid" in page
    assert page.count('class="govuk-summary-card"') == 1
    assert f"/certificates/{cert.id}/download" in page
    response = client.get(f"/certificates/{cert.id}/download")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == cert.pdf_bytes
    assert "attachment" in response.headers["Content-Disposition"]
    assert client.get(f"/certificates/{cert.id}/download").data == cert.pdf_bytes  # the same bytes again


def test_no_certificate_yet(app):
    page = signed_in(app, "staff").get("/certificates").get_data(as_text=True)
    assert "You do not have a certificate yet" in page


def test_someone_elses_certificate_is_404(app, now):
    theirs = issue("teacher", "tkat", now)
    foreign = issue("staff", "e-act", now)
    staff = signed_in(app, "staff")
    assert staff.get(f"/certificates/{theirs.id}/download").status_code == 404
    assert staff.get(f"/certificates/{foreign.id}/download").status_code == 404
    assert staff.get("/certificates/999999/download").status_code == 404
    # HR of the holder's trust cannot download it either: the holder's own copy only.
    assert signed_in(app, "hr").get(f"/certificates/{theirs.id}/download").status_code == 404


def test_verify_is_public_and_minimal(app, now):
    cert = issue("staff", "tkat", now)
    response = app.test_client().get(f"/verify/{cert.code}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert status_text(page) == "Valid"
    for expected in ("Sam Taylor", cert.version.title, "(version 1)", "21 November 2026", "21 November 2027",
                     group_code(cert.code), "The Kemnal Academies Trust"):
        assert expected in page, expected
    for private in (cert.user.email, "Teaching Assistant", "North Park"):
        assert private not in page


def test_verify_reads_the_certificate_in_one_statement_without_the_pdf(app, now):
    cert = issue("staff", "tkat", now)
    code, client = cert.code, app.test_client()
    client.get(f"/verify/{code}")  # the first view compiles and caches its statement
    db.session.remove()
    seen: list[str] = []

    def note(_conn, _cursor, sql, *_args):
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        page = client.get(f"/verify/{code}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert "Sam Taylor" in page and "The Kemnal Academies Trust" in page and "(version 1)" in page
    selects = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    # trust, version and holder's name joined to the certificate, not a statement each; the PDF bytes never read
    assert len(selects) == 1, selects
    assert "certificate_personal.pdf" not in selects[0]


def test_verify_accepts_the_code_as_printed_and_refuses_unknown_ones(app, now):
    cert = issue("staff", "tkat", now)
    client = app.test_client()
    response = client.get(f"/verify/{group_code(cert.code).lower()}")
    assert response.status_code == 302 and response.location.endswith(f"/verify/{cert.code}")
    assert client.get("/verify/" + "0" * 32).status_code == 404
    assert client.get("/verify/not-a-code").status_code == 404
    lookup = client.get("/verify", query_string={"code": group_code(cert.code)})
    assert lookup.status_code == 302 and lookup.location.endswith(f"/verify/{cert.code}")
    bad = client.get("/verify", query_string={"code": "12345"})
    assert bad.status_code == 400 and "32 letters and numbers" in bad.get_data(as_text=True)
    assert client.get("/verify").status_code == 200


def test_hr_revokes_and_verify_turns_revoked(app, now):
    cert = issue("staff", "tkat", now)
    hr = signed_in(app, "hr")
    listing = hr.get("/certificates/manage").get_data(as_text=True)
    assert "Sam Taylor" in listing and f"/certificates/{cert.id}/revoke" in listing
    form = hr.get(f"/certificates/{cert.id}/revoke")
    empty = hr.post(f"/certificates/{cert.id}/revoke", data={"csrf_token": csrf_token(form.get_data(as_text=True)),
                                                              "reason": " "})
    assert empty.status_code == 400 and "Enter the reason" in empty.get_data(as_text=True)
    done = hr.post(f"/certificates/{cert.id}/revoke",
                   data={"csrf_token": csrf_token(form.get_data(as_text=True)), "reason": "Issued in error"})
    assert done.status_code == 302 and done.location.endswith("/certificates/manage")
    page = app.test_client().get(f"/verify/{cert.code}").get_data(as_text=True)
    assert status_text(page) == "Revoked" and "was revoked by The Kemnal Academies Trust" in page
    assert "Issued in error" not in page  # the reason is personal data, not for the public page
    again = hr.post(f"/certificates/{cert.id}/revoke",
                    data={"csrf_token": csrf_token(form.get_data(as_text=True)), "reason": "twice"})
    assert again.status_code == 400 and "already been revoked" in again.get_data(as_text=True)
    assert status_text(signed_in(app, "staff").get("/certificates").get_data(as_text=True)) == "Revoked"


def test_revoking_needs_the_capability_and_the_trust(app, now):
    cert = issue("staff", "tkat", now)
    foreign = issue("staff", "e-act", now)
    staff = signed_in(app, "staff")
    assert staff.get("/certificates/manage").status_code == 403
    assert staff.get(f"/certificates/{cert.id}/revoke").status_code == 403
    hr = signed_in(app, "hr")
    assert hr.get(f"/certificates/{foreign.id}/revoke").status_code == 404
    assert "Sam Taylor" in hr.get("/certificates/manage").get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = False
    assert hr.post(f"/certificates/{foreign.id}/revoke", data={"reason": "x"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Certificate, foreign.id).revoked_at is None


def _upload(client, cert, data: bytes | None, filename="certificate.pdf"):
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page)}
    if data is not None:
        form["pdf"] = (BytesIO(data), filename)
    return client.post(f"/verify/{cert.code}", data=form, content_type="multipart/form-data")


def test_upload_tells_whether_the_pdf_is_byte_identical(app, now):
    cert = issue("staff", "tkat", now)
    client = app.test_client()
    same = _upload(client, cert, cert.pdf_bytes)
    assert same.status_code == 200 and "Yes: the file is byte-for-byte identical" in same.get_data(as_text=True)
    altered = cert.pdf_bytes.replace(b"Sam Taylor", b"Sam Tailor") + b"\n"
    different = _upload(client, cert, altered)
    assert different.status_code == 200
    assert "No: the file is not identical" in different.get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    (None, "Select the certificate PDF file"),
    (b"", "The selected file is empty"),
    (b"GIF89a not a pdf", "The selected file must be a PDF"),
    (b"%PDF-" + b"x" * 2048, "The file must be smaller than"),
])
def test_upload_errors_are_clear(app, now, data, message):
    app.config["VERIFY_UPLOAD_MAX_BYTES"] = 1024 * 1024 if len(data or b"") < 1000 else 1024
    cert = issue("staff", "tkat", now)
    response = _upload(app.test_client(), cert, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and message in page


def test_upload_needs_the_csrf_token(app, now):
    cert = issue("staff", "tkat", now)
    response = app.test_client().post(f"/verify/{cert.code}", data={"pdf": (BytesIO(b"%PDF-"), "x.pdf")},
                                      content_type="multipart/form-data")
    assert response.status_code == 400


def test_verify_is_rate_limited(app, now):
    cert = issue("staff", "tkat", now)
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    codes = [client.get(f"/verify/{cert.code}").status_code for _ in range(3)]
    codes.append(client.get("/verify").status_code)  # one budget across the verification pages
    assert codes == [200, 200, 200, 429]


def test_status_is_live_on_the_pages(app, now):
    """The pages derive status from the clock at request time: a certificate completed 13 months ago is expired."""
    cert = issue("staff", "tkat", now - timedelta(days=400))
    page = app.test_client().get(f"/verify/{cert.code}").get_data(as_text=True)
    assert status_text(page) == "Expired"


def test_the_holder_is_emailed_the_certificate(app, now, smtp_sink):
    app.config.update(mail_config(smtp_sink))
    cert = issue("staff", "tkat", now)
    assert send_pending(now=now).sent
    [email] = smtp_sink.messages
    assert email["To"] == cert.user.email and "Your certificate" in email["Subject"]
    assert group_code(cert.code) in email.get_body(("plain",)).get_content()
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == cert.pdf_bytes


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def test_acknowledging_over_http_emails_the_certificate_once_the_response_is_out(app, now, smtp_sink):
    """The whole path: acknowledgement view → signal → certificate → outbox → SMTP after the response."""
    from modules.training.queries import current_version
    from tests.certificates.factories import demo_user, passed_attempt

    app.config.update(mail_config(smtp_sink))
    staff = demo_user("staff", "tkat")
    passed_attempt(staff, current_version(staff.trust_id))
    db.session.commit()
    client = signed_in(app, "staff")
    page = client.get("/acknowledge").get_data(as_text=True)
    data = {name: _hidden(page, name) for name in ("csrf_token", "idempotency_key", "shown_digest")}
    data.update({name: "y" for name in re.findall(r'name="(statement_\w+)"', page)})
    data.update({"full_name": "Sam Taylor", "acknowledge": "Acknowledge and sign"})
    response = client.post("/acknowledge", data=data)
    assert response.status_code == 302 and "/acknowledgements/" in response.location
    assert smtp_sink.messages == []
    response.close()  # what a WSGI server does once the response has been sent
    [email] = smtp_sink.messages
    db.session.commit()
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == staff.id))
    assert email["To"] == staff.email
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content() == cert.pdf_bytes
