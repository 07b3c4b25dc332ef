"""Sign-in, sign-out, re-authentication, the set-password link, and the staff CSV import."""

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from modules.core.capabilities import require
from modules.core.extensions import db, limiter
from modules.core.navigation import nav_group, nav_item
from modules.core.timeutil import utcnow
from modules.core.web import bad_request
from modules.people import importer, services
from modules.people.auth import SESSION_KEY, current_login_session
from modules.people.forms import (
    ReauthenticateForm,
    SetPasswordForm,
    SignInForm,
    StaffImportApplyForm,
    StaffImportForm,
)

bp = Blueprint("auth", __name__)
#: HR's staff list import (a separate blueprint so its URLs sit under /staff).
staff_bp = Blueprint("staff", __name__, url_prefix="/staff")

#: HR's occasional tools share one entry in the top navigation, leading to their hub page (/tools/hr).
nav_group("hr", "HR tools", order=80)
nav_item("Import staff", "staff.import_staff", "staff:manage", order=81, group="hr",
         hint="Upload a staff list from your MIS: preview, then apply")

BAD_SIGN_IN = "Enter a correct email address and password"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    """Only follow local paths after sign-in, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("training.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def sign_in():
    """Email and password; an unknown email gets the same answer as a wrong password."""
    if current_user.is_authenticated:
        return redirect(url_for("training.home"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            error = BAD_SIGN_IN
        else:
            token = services.start_session(user, now=utcnow(), method="password", ip=request.remote_addr,
                                           user_agent=request.user_agent.string)
            db.session.commit()
            session.clear()
            session[SESSION_KEY] = token
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if error is None and not form.errors else 400 if form.errors else 401
    return render_template("people/sign_in.html", form=form, error=error), status


@bp.post("/sign-out")
def logout():
    """End the server-side session, so a copy of the cookie stops working too."""
    services.end_session(session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
def reauthenticate():
    """Ask for the password again before a step that needs a recent sign-in."""
    form = ReauthenticateForm()
    error = None
    if form.validate_on_submit():
        if services.authenticate(current_user.email, form.password.data) is None:
            error = "Enter your correct password"
        else:
            services.reauthenticate(current_login_session(), now=utcnow())
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("people/reauthenticate.html", form=form, error=error), 401 if error else 200


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def set_password(token: str):
    """A new person sets their password from the one-time link in their invitation email."""
    user = importer.user_for_token(token)
    if user is None:
        return render_template("people/import_set_password.html", form=None, user=None), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(user, form.password.data)
        except services.PeopleError as exc:
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            services.end_all_sessions(user)
            db.session.commit()
            flash("Your password is set. Sign in with your email address and the password you chose.", "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("people/import_set_password.html", form=form, user=user), 400 if form.errors else 200


# ---- staff import ------------------------------------------------------------------------------------

def _import_scope() -> set[int] | None:
    return current_user.academy_scope("staff:manage")


def _read_upload(form: StaffImportForm) -> bytes:
    limit = current_app.config["STAFF_IMPORT_MAX_BYTES"]
    return form.file.data.read(limit + 1)


@staff_bp.route("/import", methods=["GET", "POST"])
@require("staff:manage")
def import_staff():
    """Upload a staff CSV; a dry-run preview with every row's problems comes back, nothing is changed yet."""
    form = StaffImportForm()
    if not form.validate_on_submit():
        return render_template("people/import.html", form=form, error=None,
                               headings=importer.HEADINGS), 400 if form.errors else 200
    data = _read_upload(form)
    try:
        plan = importer.plan_import(current_user.trust, data, full=form.full.data, actor=current_user,
                                    allowed_academy_ids=_import_scope())
    except importer.ImportFileError as exc:
        status = 413 if len(data) > current_app.config["STAFF_IMPORT_MAX_BYTES"] else 400
        return render_template("people/import.html", form=form, error=str(exc), headings=importer.HEADINGS), status
    apply_form = StaffImportApplyForm(formdata=None, upload=importer.stash_upload(data, current_user),
                                      fingerprint=plan.fingerprint, full="1" if plan.full else "")
    return render_template("people/import_preview.html", plan=plan, form=apply_form, changed=False)


@staff_bp.post("/import/apply")
@require("staff:manage")
def apply_import():
    """Apply the previewed import: rows without errors are upserted; a full import's absentees leave if confirmed."""
    form = StaffImportApplyForm()
    if not form.validate_on_submit():
        raise bad_request("The import form was not complete. Upload the file again.")
    data = importer.load_upload(form.upload.data, current_user)
    if data is None:
        raise bad_request("That upload has expired or was already imported. Upload the file again.")
    try:
        plan = importer.plan_import(current_user.trust, data, full=form.full.data == "1", actor=current_user,
                                    allowed_academy_ids=_import_scope())
    except importer.ImportFileError as exc:
        raise bad_request(str(exc)) from exc
    if plan.fingerprint != form.fingerprint.data:
        form.fingerprint.data = plan.fingerprint
        return render_template("people/import_preview.html", plan=plan, form=form, changed=True), 409
    if plan.full and plan.leavers and not form.confirm_leavers.data:
        form.confirm_leavers.errors = ["Confirm that the people listed have left, or upload the file again "
                                       "without saying it is the full list"]
        return render_template("people/import_preview.html", plan=plan, form=form, changed=False), 400
    result = importer.apply_import(plan, now=utcnow(), confirm_leavers=bool(form.confirm_leavers.data))
    db.session.commit()
    importer.discard_upload(form.upload.data, current_user)
    flash(f"Import done: {len(result.created)} added, {result.updated} updated, {result.reactivated} returned, "
          f"{result.unchanged} unchanged, {result.left} marked as leavers, {result.skipped} rows with errors "
          "not imported.", "success")
    return redirect(url_for("staff.import_staff"))


@staff_bp.get("/import/template.csv")
@require("staff:manage")
def import_template():
    """An empty CSV with the expected column headings."""
    body = ",".join(importer.HEADINGS.values()) + "\r\n"
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="staff-import-template.csv"'})
