"""HR's policy versions: the list with review dates, a draft's review (comparison, quiz bank) and publishing; and
uploading a policy document, checking and correcting how it was read, and saving it as a draft."""

from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from modules.core.capabilities import require
from modules.core.formview import refusal_is_400, show_refusal, submit
from modules.core.navigation import nav_item
from modules.core.timeutil import format_date, utcnow
from modules.core.web import bad_request
from modules.policies import queries, services
from modules.policies.diff import Comparison, QuizBankCheck
from modules.policies.forms import (
    CorrectionForm,
    PublishForm,
    RemoveCorrectionForm,
    ReviewDateForm,
    SaveDraftForm,
    SeriesForm,
    UploadForm,
)
from modules.policies.models import PolicyVersion
from modules.policies.overlay import OPS

bp = Blueprint("policies", __name__, url_prefix="/hr/policy")
PUBLISH = "policy:publish"
nav_item("Policy versions", "policies.versions", PUBLISH, order=86, group="hr",
         hint="Review and publish a new version of the policy, and set its next review date")

#: Date fields send exactly three boxes (day, month, year); anything else is a tampered form.
_DATE_FIELDS = ("effective_on", "next_review_on")
#: Where the app keeps the quiz bank check that HR's draft review shows (see use_quiz_bank_check).
QUIZ_BANK_CHECK = "policypass.quiz_bank_check"
QuizBankChecker = Callable[..., QuizBankCheck]


def use_quiz_bank_check(app: Flask, check: QuizBankChecker) -> None:
    """Give the app's draft review the quiz bank check: check(version, base=, comparison=) -> QuizBankCheck.

    Assessments owns the questions and policies may not import it, so modules/wiring.py passes its check in.
    """
    app.extensions[QUIZ_BANK_CHECK] = check


#: Where the app keeps the check that a draft's quiz is ready to publish (see use_publish_gate).
PUBLISH_GATE = services.PUBLISH_GATE


def use_publish_gate(app: Flask, gate: Callable[[PolicyVersion], services.PublishGaps | None]) -> None:
    """Give publishing the quiz readiness check: gate(version) -> PublishGaps, or None when it may be published.

    Assessments owns the questions and policies may not import it, so modules/wiring.py passes its check in.
    """
    app.extensions[PUBLISH_GATE] = gate


def _publish_gate():
    return current_app.extensions.get(PUBLISH_GATE)


def _quiz_bank_check(version: PolicyVersion, base: PolicyVersion, comparison: Comparison) -> QuizBankCheck | None:
    check = current_app.extensions.get(QUIZ_BANK_CHECK)
    return check(version, base=base, comparison=comparison) if check else None


def _today():
    return services.london_date(utcnow())


def _version_or_404(version_id: int, *, lock: bool = False):
    """The trust's version (another trust's id is a 404 for everyone), then the capability check (403)."""
    version = queries.version_in_trust(current_user.trust_id, version_id, lock=lock) or abort(404)
    if not current_user.can(PUBLISH):
        abort(403)
    return version


def _on_field_or_400(form, exc: services.VersionError) -> None:
    """A refusal about a field is shown on it; one about nothing the person typed is a 400."""
    if exc.field is None:
        raise bad_request(exc.message) from exc
    show_refusal(form, exc)


def _blocked_or_on_field(form, exc: services.VersionError) -> None:
    """A quiz that is not ready is shown above the form, with its uncovered clauses; other refusals as usual."""
    if isinstance(exc, services.PublishBlocked):
        form.form_errors.append(exc.message)
        return
    _on_field_or_400(form, exc)


def _check_date_boxes() -> None:
    for name in _DATE_FIELDS:
        if name in request.form and len(request.form.getlist(name)) != 3:
            raise bad_request("The date sent was not day, month and year, so nothing was changed. "
                              "Go back, reload the page and try again.")


@bp.get("")
@require(PUBLISH)
def versions():
    """A policy's versions (`?policy=<slug>`, default the register's), the current one's review date, and
    drafts waiting to be published."""
    today = _today()
    series = _hr_series()
    found = queries.versions_of(current_user.trust_id, series)
    current = next((v for v in found if v.status == "published"), None)
    return render_template("policies/versions.html", trust=current_user.trust, versions=found, current=current,
                           series=series, all_series=queries.series_of(current_user.trust_id),
                           today=today, past_review=bool(current and queries.policy_past_review(current, today)),
                           reminder_due=bool(current and queries.review_reminder_due(current, today)),
                           drafts=[v for v in found if v.status == "draft"])


def _render_version(version, *, publish_form=None, review_form=None, blocked=None, status: int = 200):
    today = _today()
    gate = _publish_gate()
    gaps = gate(version) if gate is not None and version.status == "draft" else None
    compared = queries.compared(version)
    quiz_check = None
    if compared.comparison is not None:
        quiz_check = _quiz_bank_check(version, compared.base, compared.comparison)
    current = queries.published_version(version.trust_id, version.series)
    if publish_form is None:
        publish_form = PublishForm(formdata=None)
        publish_form.effective_on.data = today
    if review_form is None:
        review_form = ReviewDateForm(formdata=None)
        review_form.next_review_on.data = version.next_review_on
    return render_template(
        "policies/version.html", version=version, base=compared.base, comparison=compared.comparison,
        quiz_check=quiz_check, current=current, trust=current_user.trust, today=today,
        can_publish=version.status == "draft" and (current is None or current.number < version.number),
        past_review=queries.policy_past_review(version, today), publish_form=publish_form,
        review_form=review_form, grace_days=current_user.trust.rules.supersede_grace_days,
        gaps=gaps, blocked=blocked, can_write_quiz=current_user.can(MANAGE),
    ), status


@bp.get("/versions/<int:version_id>")
@login_required
def version(version_id: int):
    """One version against the one before it: clause changes section by section, the quiz bank, publishing."""
    return _render_version(_version_or_404(version_id))


@bp.post("/versions/<int:version_id>/publish")
@login_required
def publish(version_id: int):
    """Publish a draft with a confirmation and an effective date; publishing it again changes nothing."""
    version = _version_or_404(version_id, lock=True)
    if version.status == "published":
        flash(f"{version.label.capitalize()} is already published. Nothing was changed.", "info")
        return redirect(url_for("policies.version", version_id=version.id))
    _check_date_boxes()
    form = PublishForm()
    outcome = submit(form, lambda: services.publish_draft(version, effective_on=form.effective_on.data, now=utcnow(),
                                                          gate=_publish_gate()),
                     refusals=services.VersionError, show=_blocked_or_on_field)
    if not outcome.done:
        blocked = outcome.refused if isinstance(outcome.refused, services.PublishBlocked) else None
        return _render_version(_version_or_404(version_id), publish_form=form, blocked=blocked, status=400)
    flash(f"{version.label.capitalize()} is published. Staff now train on it.", "success")
    return redirect(url_for("policies.version", version_id=version.id))


@bp.post("/versions/<int:version_id>/next-review")
@login_required
def next_review(version_id: int):
    """Set when the policy is next reviewed, in place of the date the document states."""
    version = _version_or_404(version_id, lock=True)
    _check_date_boxes()
    form = ReviewDateForm()
    outcome = submit(form, lambda: services.set_next_review(version, form.next_review_on.data, now=utcnow()),
                     refusals=services.VersionError, show=_on_field_or_400)
    if not outcome.done:
        return _render_version(_version_or_404(version_id), review_form=form, status=400)
    flash(f"The next review of {version.label} is now due on {format_date(form.next_review_on.data)}.", "success")
    return redirect(url_for("policies.version", version_id=version.id))


# -- upload, preview and correct (policies:manage) ---------------------------------------------------------

MANAGE = "policies:manage"
nav_item("Upload a policy", "policies.upload", MANAGE, order=87, group="hr",
         hint="Upload the policy as Word, PDF or text, check how it was read and save it as a draft version")


def _source_or_404(source_id: int, *, lock: bool = False):
    """The trust's upload (another trust's id is a 404 for everyone), then the capability check (403)."""
    source = queries.source_in_trust(current_user.trust_id, source_id, lock=lock) or abort(404)
    if not current_user.can(MANAGE):
        abort(403)
    return source


@bp.route("/upload", methods=["GET", "POST"])
@require(MANAGE)
def upload():
    """Upload a policy document; its type and size are checked on its bytes, then it is read for checking."""
    form = UploadForm()
    series = _hr_series()
    if request.method == "POST":
        if form.validate_on_submit():
            data = form.file.data.read()
            outcome = submit(form, lambda: services.upload_source(
                current_user.trust, current_user, filename=form.file.data.filename or "", data=data, now=utcnow(),
                series=series), refusals=services.UploadError, validated=True)
            if outcome.done:
                return redirect(url_for("policies.preview", source_id=outcome.result.id))
        return render_template("policies/upload.html", form=form, trust=current_user.trust, series=series), 400
    return render_template("policies/upload.html", form=form, trust=current_user.trust, series=series)


def _hr_series():
    """The policy an HR page is about, from `?policy=<slug>` (404 for another trust's); None: the register's."""
    slug = request.args.get("policy")
    return (queries.series_by_slug(current_user.trust_id, slug) or abort(404)) if slug else None


nav_item("Policies", "policies.series_list", MANAGE, order=86, group="hr",
         hint="The trust's policies (social media, acceptable use …), who must complete each, and adding one")


@bp.route("/policies", methods=["GET", "POST"])
@require(MANAGE)
def series_list():
    """The trust's policies, each with its audience and links to its versions, upload and completion; and a form
    to add another (title, short name, audience)."""
    from sqlalchemy import select

    from modules.core.extensions import db
    from modules.people.models import Academy, Role

    trust = current_user.trust
    form = SeriesForm()
    roles = list(db.session.scalars(select(Role).where(Role.trust_id == trust.id).order_by(Role.label)))
    academies = list(db.session.scalars(select(Academy).where(Academy.trust_id == trust.id).order_by(Academy.name)))
    form.roles.choices = [(r.key, r.label) for r in roles]
    form.academies.choices = [(a.slug, a.name) for a in academies]
    if request.method == "POST":
        outcome = submit(form, lambda: services.add_series(
            trust, title=form.title.data or "", slug=form.slug.data or "", roles=form.roles.data or [],
            academies=form.academies.data or [], now=utcnow()), refusals=services.SeriesError, show=show_refusal)
        if outcome.done:
            flash(f"{outcome.result.title} added. Upload its first version to train staff on it.", "success")
            return redirect(url_for("policies.series_list"))
    register = queries.register_series(trust.id)
    rows = [(s, queries.published_version(trust.id, s)) for s in queries.series_of(trust.id)]
    status = 400 if form.errors or form.form_errors else 200
    return render_template("policies/series.html", trust=trust, rows=rows, register=register, form=form,
                           role_labels={r.key: r.label for r in roles},
                           academy_names={a.slug: a.name for a in academies}), status


def _render_preview(source, *, correction=None, save_form=None, status: int = 200):
    if correction is None:
        correction = CorrectionForm(formdata=None)
    return render_template(
        "policies/preview.html", source=source, trust=current_user.trust, found=services.preview(source),
        saved=queries.version_from_source(source), correction=correction,
        save_form=save_form or SaveDraftForm(formdata=None), remove_form=RemoveCorrectionForm(formdata=None),
        ops=OPS,
    ), status


@bp.get("/uploads/<int:source_id>")
@login_required
def preview(source_id: int):
    """The document as read beside the sections and clauses found, warnings first, with corrections."""
    return _render_preview(_source_or_404(source_id))


@bp.get("/uploads/<int:source_id>/file")
@login_required
def source_file(source_id: int):
    """The uploaded file itself, byte-identical."""
    source = _source_or_404(source_id)
    types = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pdf": "application/pdf", "text": "text/plain; charset=utf-8"}
    return current_app.response_class(source.data, mimetype=types[source.kind], headers={
        "Content-Disposition": "attachment; filename=policy-" + str(source.id) + {"docx": ".docx", "pdf": ".pdf"}
        .get(source.kind, ".txt"), "X-Content-Type-Options": "nosniff"})


@bp.post("/uploads/<int:source_id>/corrections")
@login_required
def correct(source_id: int):
    """Add one structure correction to the overlay, then show the document read again."""
    source = _source_or_404(source_id, lock=True)
    if queries.version_from_source(source) is not None:
        raise bad_request("This file has been saved as a version, so its structure can no longer be corrected.")
    form = CorrectionForm()
    outcome = submit(form, lambda: services.add_correction(
        source, op=form.op.data, line=form.line.data, to=form.to.data, ref=form.ref.data or "", now=utcnow()),
        refusals=services.UploadError)
    if not outcome.done:
        return _render_preview(_source_or_404(source_id), correction=form, status=400)
    flash(f"Line {outcome.result['line']} corrected: {OPS[outcome.result['op']].lower()}.", "success")
    return redirect(url_for("policies.preview", source_id=source.id))


@bp.post("/uploads/<int:source_id>/corrections/<int:index>/remove")
@login_required
def remove_correction(source_id: int, index: int):
    """Take one correction out of the overlay."""
    source = _source_or_404(source_id, lock=True)
    if queries.version_from_source(source) is not None:
        raise bad_request("This file has been saved as a version, so its structure can no longer be corrected.")
    outcome = submit(RemoveCorrectionForm(), lambda: services.remove_correction(source, index, now=utcnow()),
                     refusals=services.UploadError, show=refusal_is_400)
    if outcome.done:
        flash("The correction was removed.", "success")
    return redirect(url_for("policies.preview", source_id=source.id))


@bp.post("/uploads/<int:source_id>/save")
@login_required
def save_draft(source_id: int):
    """Save the checked upload as a draft version (publishing stays a separate, reviewed step)."""
    source = _source_or_404(source_id, lock=True)
    form = SaveDraftForm()
    outcome = submit(form, lambda: services.save_draft(source, now=utcnow()), refusals=services.UploadError)
    if not outcome.done:
        return _render_preview(_source_or_404(source_id), save_form=form, status=400)
    flash(f"The policy is saved as {outcome.result.label}, a draft. Review it here, then publish it.", "success")
    return redirect(url_for("policies.version", version_id=outcome.result.id))
