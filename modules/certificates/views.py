"""My certificates, downloads, HR revocation, and the public /verify page."""

import hashlib
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from modules.certificates import queries, services
from modules.certificates.codes import group_code, normalise_code
from modules.certificates.forms import CodeForm, RevokeForm, UploadCheckForm
from modules.certificates.status import certificate_status
from modules.core.capabilities import require
from modules.core.extensions import limiter
from modules.core.formview import left_to_view, submit
from modules.core.navigation import nav_item
from modules.core.timeutil import utcnow

bp = Blueprint("certificates", __name__)
nav_item("My certificates", "certificates.mine", "certificates:own", order=40, group="records",
         hint="Download your certificates and see whether each is valid")
nav_item("Certificates", "certificates.manage", "certificates:revoke", order=83, group="hr",
         hint="See every certificate issued in the trust and revoke one, with a reason")
#: Templates print codes as on the certificate: {{ cert.code|grouped_code }}.
bp.add_app_template_filter(group_code, "grouped_code")


@bp.app_template_global()
def certificate_of_acknowledgement(ack_id: int):
    """The certificate issued for an acknowledgement, for its receipt (attestation cannot import certificates)."""
    return queries.of_acknowledgement(ack_id)



def _verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


#: One budget for every public verification request of a client, whichever page it hits.
verify_limit = limiter.shared_limit(_verify_limit, scope="verify")


@bp.get("/certificates")
@require("certificates:own")
def mine():
    """The signed-in person's certificates, newest first, with status and download links."""
    rows = queries.certificates_of(current_user, now=utcnow())
    return render_template("certificates/mine.html", rows=rows)


@bp.get("/certificates/<int:certificate_id>/download")
@require("certificates:own")
def download(certificate_id: int):
    """The stored PDF bytes exactly as issued (a re-render would not be byte-identical)."""
    cert = queries.own_certificate(current_user, certificate_id) or abort(404)
    pdf = cert.pdf_bytes
    if pdf is None:
        if cert.pdf_state == "preparing":
            return render_template("certificates/preparing.html", cert=cert,
                                   problem=queries.render_problems([cert.id]).get(cert.id)), 202
        abort(404)  # erased at the holder's request
    return send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"certificate-{cert.code[:8]}.pdf", etag=cert.issued_sha256,
                     max_age=0, conditional=False)


@bp.get("/certificates/manage")
@require("certificates:revoke")
def manage():
    """HR: the trust's certificates with their status, to revoke one."""
    rows = queries.managed_certificates(current_user, now=utcnow())
    problems = queries.render_problems(row.certificate.id for row in rows
                                       if row.certificate.pdf_state == "preparing")
    return render_template("certificates/manage.html", rows=rows, problems=problems)


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
@require("certificates:revoke")
def revoke(certificate_id: int):
    """HR: revoke a certificate with a reason; a revocation is a new append-only record."""
    cert = queries.managed_certificate(current_user, certificate_id) or abort(404)
    now = utcnow()
    form = RevokeForm()
    error = None
    if cert.revoked_at is None:
        outcome = submit(form, lambda: services.revoke_certificate(cert, actor=current_user,
                                                                   reason=form.reason.data, now=now),
                         refusals=services.CertificateError, show=left_to_view)  # shown above the form, linked to the reason box
        if outcome.done:
            flash(f"Certificate {group_code(cert.code)} of {cert.user.name} has been revoked.", "success")
            return redirect(url_for("certificates.manage"))
        error = str(outcome.refused) if outcome.refused else None
    elif request.method == "POST":
        error = "This certificate has already been revoked"
    status = 400 if (form.errors or error) else 200
    return render_template("certificates/revoke.html", cert=cert, form=form, error=error,
                           status=certificate_status(cert, now)), status


@bp.get("/verify")
@verify_limit
def lookup():
    """Public: type the code printed on a certificate."""
    form = CodeForm(request.args)
    if "code" not in request.args:
        return render_template("certificates/lookup.html", form=CodeForm(formdata=None), error=None)
    code = normalise_code(form.code.data) if form.validate() else None
    if code is None:
        error = "Enter the verification code as printed: 32 letters and numbers"
        if not (form.code.data or "").strip():
            error = "Enter the verification code"
        return render_template("certificates/lookup.html", form=form, error=error), 400
    return redirect(url_for("certificates.verify", code=code))


@bp.route("/verify/<code>", methods=["GET", "POST"])
@verify_limit
def verify(code: str):
    """Public, minimal: holder, policy and version, dates and live status; and a byte-for-byte upload check."""
    cert = queries.by_code(code)
    if cert is None:  # the public's not-found page, never the signed-in one ("Go to your training")
        return render_template("certificates/not_found.html"), 404
    if code != cert.code:
        return redirect(url_for("certificates.verify", code=cert.code))
    now = utcnow()
    form = UploadCheckForm()
    result = error = None
    if request.method == "POST":
        if form.validate_on_submit():
            data, error = _read_upload(form.pdf.data)
            if error is None and cert.issued_sha256 is None:
                error = "This certificate's PDF is still being prepared, so there is nothing to compare yet"
            elif error is None:
                result = hashlib.sha256(data).hexdigest() == cert.issued_sha256
        elif "csrf_token" in form.errors:
            abort(400)
    status_code = 400 if (error or form.errors) else 200
    row = queries.standing(cert, now)
    return render_template("certificates/verify.html", cert=cert, status=row.status, row=row, now=now,
                           form=form, result=result, error=error), status_code


def _read_upload(storage) -> tuple[bytes, str | None]:
    """The uploaded bytes, or an error message for the person (too large, empty, not a PDF)."""
    limit = current_app.config["VERIFY_UPLOAD_MAX_BYTES"]
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        return b"", f"The file must be smaller than {limit // (1024 * 1024)} MB"
    if not data:
        return b"", "The selected file is empty"
    if not data.startswith(b"%PDF-"):
        return b"", "The selected file must be a PDF"
    return data, None
