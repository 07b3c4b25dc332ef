"""Issue 16: a certificate's PDF is rendered after the acknowledgement commits, never inside its transaction.

The acknowledgement's transaction writes the certificate record; the PDF and its sha256 follow as their own
evidence (CertificateRendering + CertificatePdf, ledgered). Until then the receipt, My certificates and the
download say it is being prepared, and /verify works from the record. A failed render is noted for HR and
retried; the sweep renders whatever is missing.
"""

import hashlib
import io
import zipfile

import sqlalchemy as sa
from sqlalchemy import select

from modules.certificates import pdfs
from modules.certificates.models import (
    Certificate,
    CertificatePdf,
    CertificateRendering,
    CertificateRenderProblem,
)
from modules.certificates.services import erase_personal_data
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.evidence.models import LedgerEntry
from modules.notifications.models import OutboxMessage
from tests.attestation.test_views import _form
from tests.certificates.factories import demo_user, passed_attempt
from tests.helpers import csrf_token


def _write_lock_free() -> bool:
    """SQLite: whether another connection could take the write lock now. PostgreSQL: no transaction is open."""
    if db.engine.dialect.name != "sqlite":
        return not db.session().in_transaction()
    import sqlite3

    other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def _acknowledge(client, login, now, local="staff", slug="tkat"):
    """Pass, sign in and acknowledge through the page; returns the response and the certificate's id."""
    _pass(local, slug, now)
    login(local, slug)
    form = _form(client, "/acknowledge")
    form.pop("_html")
    response = client.post("/acknowledge", data={**form, "statement_policy": "y", "full_name": "Sam Taylor",
                                                 "acknowledge": "Acknowledge and sign"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.rollback()
    cert_id = db.session.scalar(select(Certificate.id).where(Certificate.user_id == demo_user(local, slug).id))
    return response, cert_id


def _pass(local, slug, now):
    from modules.training.queries import current_version

    user = demo_user(local, slug)
    passed_attempt(user, current_version(user.trust_id), now)
    db.session.commit()


def test_the_pdf_is_rendered_after_the_commit_with_no_lock_held(app, client, login, now, monkeypatch):
    """The acknowledgement commits the certificate record; the render runs afterwards, holding no write lock
    and no transaction, and is then recorded as its own ledgered evidence with the email and its attachment."""
    seen = []
    real = pdfs.render_certificate

    def spy(content):
        state = (_write_lock_free(), db.session().in_transaction())
        with db.engine.connect() as other:  # another connection sees only what has committed
            committed = other.scalar(select(sa.func.count()).select_from(Certificate))
        seen.append((*state, committed))
        return real(content)

    monkeypatch.setattr(pdfs, "render_certificate", spy)
    response, cert_id = _acknowledge(client, login, now)
    assert seen == [(True, False, 1)], "rendered once, after the certificate committed, with no lock or transaction"
    cert = db.session.get(Certificate, cert_id)
    assert cert.pdf_sha256 is None, "the issue itself holds no PDF"
    rendering = db.session.scalar(select(CertificateRendering).where(CertificateRendering.certificate_id == cert_id))
    assert rendering is not None and cert.issued_sha256 == rendering.pdf_sha256
    assert hashlib.sha256(cert.pdf_bytes).hexdigest() == rendering.pdf_sha256
    kinds = [e.kind for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.trust_id == cert.trust_id)
                                                .order_by(LedgerEntry.seq))]
    assert kinds[-2:] == ["certificate_issued", "certificate_rendered"]
    assert verify_ledger(cert.trust_id).ok
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.reason == f"certificate-issued:{cert_id}"))
    assert mail.attachments[0].data == cert.pdf_bytes
    download = client.get(f"/certificates/{cert_id}/download")
    assert download.status_code == 200 and download.data == cert.pdf_bytes
    assert "Your certificate has been issued" in client.get(response.location).get_data(as_text=True)


def test_until_rendered_pages_say_it_is_being_prepared_and_the_sweep_renders_it(app, client, login, now):
    """With nothing rendering after the response, the receipt, My certificates and the download say the
    certificate is being prepared (a polite live region, updated by a nonce'd script; no <meta> refresh),
    /verify works from the record, and `flask certificates render-missing` renders it (the daily run too)."""
    app.config["CERTIFICATE_RENDERING"] = "none"
    response, cert_id = _acknowledge(client, login, now)
    cert = db.session.get(Certificate, cert_id)
    assert cert.pdf_state == "preparing" and pdfs.missing_ids() == [cert_id]
    receipt = client.get(response.location).get_data(as_text=True)
    assert "Your certificate is being prepared" in receipt and 'role="status"' in receipt
    assert "certificate-preparing" in receipt and 'http-equiv="refresh"' not in receipt
    mine = client.get("/certificates").get_data(as_text=True)
    assert "Your certificate is being prepared" in mine and "Download PDF" not in mine
    waiting = client.get(f"/certificates/{cert_id}/download")
    assert waiting.status_code == 202 and "Your certificate is being prepared" in waiting.get_data(as_text=True)
    check = client.get(f"/verify/{cert.code}")
    assert check.status_code == 200 and "Sam Taylor" in check.get_data(as_text=True)
    upload = client.post(f"/verify/{cert.code}", data={
        "csrf_token": csrf_token(check.get_data(as_text=True)),
        "pdf": (io.BytesIO(b"%PDF-1.7 anything"), "c.pdf")}, content_type="multipart/form-data")
    assert upload.status_code == 400 and "still being prepared" in upload.get_data(as_text=True)

    result = app.test_cli_runner().invoke(args=["certificates", "render-missing"])
    assert result.exit_code == 0 and f"certificate {cert_id}: rendered" in result.output, result.output
    db.session.rollback()
    assert pdfs.missing_ids() == []
    receipt = client.get(response.location).get_data(as_text=True)
    assert "being prepared" not in receipt and "certificate-preparing" not in receipt
    assert client.get(f"/certificates/{cert_id}/download").data == db.session.get(Certificate, cert_id).pdf_bytes
    again = app.test_cli_runner().invoke(args=["certificates", "render-missing"])
    assert again.exit_code == 0 and "0 of 0" in again.output
    assert verify_ledger(cert.trust_id).ok


def test_a_failed_render_is_shown_to_hr_and_retried(app, client, login, now, monkeypatch):
    """A render that fails leaves the certificate valid and waiting, is counted on HR's certificate list with
    the error, and the next sweep renders it and clears the note."""
    def broken(content):
        raise RuntimeError("fonts missing")

    monkeypatch.setattr(pdfs, "render_certificate", broken)
    _, cert_id = _acknowledge(client, login, now)
    problem = db.session.get(CertificateRenderProblem, cert_id)
    assert problem is not None and problem.attempts == 1 and "fonts missing" in problem.last_error
    report = pdfs.render_missing(now=now)
    assert report.failed == [cert_id]
    db.session.rollback()
    assert db.session.get(CertificateRenderProblem, cert_id).attempts == 2
    hr = app.test_client()
    login("hr", "tkat", hr)
    row = hr.get("/certificates/manage").get_data(as_text=True)
    row = row[row.index(f'id="certificate-{cert_id}"'):]
    row = row[:row.index("</tr>")]
    assert "PDF failed" in row and "2 attempts" in row and "fonts missing" in row
    assert "could not make the PDF yet" in client.get(f"/certificates/{cert_id}/download").get_data(as_text=True)

    monkeypatch.undo()
    assert pdfs.render_missing(now=now).outcomes == {cert_id: "rendered"}
    db.session.rollback()
    assert db.session.get(CertificateRenderProblem, cert_id) is None
    assert "PDF failed" not in hr.get("/certificates/manage").get_data(as_text=True)


def test_the_worker_renders_what_a_request_queued(app, client, login, now, tmp_path):
    """CERTIFICATE_RENDERING "worker": the response queues a task; the worker's run renders the PDF."""
    from modules.certificates.hooks import render_task
    from modules.notifications import queue

    app.config.update({"CERTIFICATE_RENDERING": "worker", "HUEY_FILE": str(tmp_path / "huey.db")})
    response, cert_id = _acknowledge(client, login, now)
    response.close()  # what a WSGI server does once the response has been sent: the task is queued then
    assert db.session.get(Certificate, cert_id).pdf_state == "preparing"
    assert queue.pending_tasks(app) == 1
    render_task(app)
    assert queue.drain(app) == 1
    db.session.rollback()
    assert db.session.get(Certificate, cert_id).pdf_state == "ready"


def test_erased_before_rendering_is_never_rendered_and_exports_say_so(app, client, login, now):
    """An erasure before the render: nothing is rendered (the name is gone), the download is a 404, the sweep
    skips it, and the subject-access export and evidence pack say there is no PDF."""
    from modules.operations.export import subject_access_zip
    from modules.tracking.evidence_pack import build_pack

    app.config["CERTIFICATE_RENDERING"] = "none"
    _, cert_id = _acknowledge(client, login, now)
    cert = db.session.get(Certificate, cert_id)
    with zipfile.ZipFile(io.BytesIO(subject_access_zip(cert.user, now=now))) as archive:
        assert f"certificate {cert_id}: no PDF held (still being prepared)" in archive.read("summary.txt").decode()
    with zipfile.ZipFile(io.BytesIO(build_pack(cert.trust, None, now=now).data)) as archive:
        assert "(PDF being prepared)" in archive.read("certificates.csv").decode()
    erase_personal_data(cert, now=now)
    db.session.commit()
    assert pdfs.missing_ids() == [] and pdfs.render_missing(now=now).outcomes == {}
    assert client.get(f"/certificates/{cert_id}/download").status_code == 404
    assert verify_ledger(cert.trust_id).ok


def test_erasure_after_rendering_removes_the_bytes_and_keeps_the_hash(app, client, login, now):
    """The rendered bytes are erasable personal data: erased with the holder's name, the sha256 stays for
    /verify's upload check, the SAR export then holds no PDF, and the ledger still verifies."""
    from modules.operations.export import subject_access_zip

    _, cert_id = _acknowledge(client, login, now)
    cert = db.session.get(Certificate, cert_id)
    with zipfile.ZipFile(io.BytesIO(subject_access_zip(cert.user, now=now))) as archive:
        [name] = [n for n in archive.namelist() if n.startswith("certificates/")]
        assert archive.read(name) == cert.pdf_bytes
    sha = cert.issued_sha256
    erase_personal_data(cert, now=now)
    db.session.commit()
    db.session.expire_all()
    cert = db.session.get(Certificate, cert_id)
    assert db.session.scalar(select(sa.func.count()).select_from(CertificatePdf)) == 0
    assert cert.issued_sha256 == sha and cert.pdf_state == "erased" and cert.pdf_bytes is None
    assert client.get(f"/certificates/{cert_id}/download").status_code == 404
    assert verify_ledger(cert.trust_id).ok


def test_request_mode_renders_once_the_response_is_closed(app, client, login, now):
    """CERTIFICATE_RENDERING "request": nothing is rendered until the server has sent (closed) the response."""
    app.config["CERTIFICATE_RENDERING"] = "request"
    response, cert_id = _acknowledge(client, login, now)
    assert db.session.get(Certificate, cert_id).pdf_state == "preparing"
    response.close()  # what a WSGI server does once the response has been sent
    db.session.rollback()
    assert db.session.get(Certificate, cert_id).pdf_state == "ready"
