"""Quiz pages for staff (start, take, results), item analytics for HR and trust administrators, and writing and
reviewing a draft version's quiz (policies:manage)."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectChoice

from modules.assessments import authoring, queries, services, types
from modules.assessments.forms import (
    ButtonForm,
    ExcludeClauseForm,
    ImportBankForm,
    QuestionForm,
    StartQuizForm,
    quiz_form,
)
from modules.assessments.models import ClauseExclusion, Question
from modules.core import formview
from modules.core.capabilities import require
from modules.core.extensions import db
from modules.core.navigation import nav_item
from modules.core.timeutil import utcnow
from modules.core.web import bad_request
from modules.people.models import User
from modules.policies import queries as policy_queries
from modules.training.queries import current_version, modules_for
from modules.training.views import chosen_series, keep_series_of

bp = Blueprint("assessments", __name__)
#: A question's legend: its number as a caption, then the stem (Markup.format escapes the arguments).
LEGEND = Markup('<span class="govuk-caption-m">Question {} of {}</span>{}')
nav_item("Quiz", "assessments.quiz_home", "training:take", order=20, group="training",
         hint="Answer scenario questions about the policy")
nav_item("Quiz results", "assessments.analytics", "quizzes:analytics", order=85, group="hr",
         hint="See which questions and clauses staff most often get wrong")


@bp.get("/quiz")
@require("training:take")
def quiz_home():
    """The quiz: whether it is open yet, the person's attempts, and a button to start or retry."""
    version = current_version(current_user.trust_id, chosen_series())
    modules = modules_for(current_user, version) if version else []
    unread = [m.section for m in modules if m.compulsory and not m.read]  # optional form appendices never block
    # The plan's size and scope only: loading every question of the bank on each view is for starting an attempt.
    plan = services.quiz_outline(current_user, version) if version else None
    attempts = queries.attempts_summary(current_user, version) if version else None
    return render_template(
        "assessments/home.html", version=version, trust=current_user.trust, unread=unread,
        total=sum(1 for m in modules if m.compulsory),
        ready=bool(version) and plan.available > 0,
        open_attempt=attempts.open if attempts else None,
        attempts=attempts.finished if attempts else [],
        passed=attempts.passed if attempts else None,
        plan=plan,
        pass_mark=current_user.trust.rules.pass_mark,
        form=StartQuizForm())


@bp.post("/quiz/start")
@require("training:take")
def start():
    """Draw a fresh attempt (or go back to the open one); refused until every module is read."""
    form = StartQuizForm()
    if not form.validate_on_submit():
        abort(400)
    version = current_version(current_user.trust_id, chosen_series()) or abort(404)
    outcome = formview.submit(form, lambda: services.start_or_resume(current_user, version, now=utcnow()),
                              validated=True, refusals=services.QuizNotOpen, show=_warn)
    if not outcome.done:
        return redirect(url_for("assessments.quiz_home"))
    return redirect(url_for("assessments.attempt", attempt_id=outcome.result.id))


def _warn(_form, exc: services.QuizNotOpen) -> None:
    """Why the quiz is not open yet, shown on the quiz page."""
    flash(str(exc), "warning")


def _render_attempt(attempt, form):
    return render_template("assessments/take.html", attempt=attempt, form=form, trust=current_user.trust,
                           hints={item.position: types.get(item.question.type).hint for item in attempt.items},
                           legends={item.position: LEGEND.format(item.position, len(attempt.items), item.question.stem)
                                    for item in attempt.items})


@bp.get("/quiz/attempts/<int:attempt_id>")
@require("training:take")
def attempt(attempt_id: int):
    """An open attempt's questions, or a finished attempt's result with feedback citing each clause."""
    attempt = queries.attempt_for(current_user, attempt_id) or abort(404)
    keep_series_of(attempt.version)
    if attempt.finished_at is None:
        return _render_attempt(attempt, quiz_form(attempt))
    results = []
    for item in attempt.items:
        question = item.question
        options = {o["id"]: o for o in question.options}
        results.append({
            "item": item, "question": question,
            # Each chosen option says whether it was a right choice, so a right choice's "Yes." feedback is never
            # read as wrong under a question marked incorrect for a missed or extra choice.
            "chosen": [{**options[c], "right": c in question.correct}
                       for c in item.option_order if c in (item.chosen or [])],
            "right": [options[c] for c in item.option_order if c in question.correct],
            "missed": [options[c] for c in item.option_order
                       if c in question.correct and c not in (item.chosen or [])],
            "links": queries.clause_links(question.version_id, question.clause_refs),
        })
    version = current_version(current_user.trust_id, attempt.version.series)
    return render_template("assessments/result.html", attempt=attempt, results=results, trust=current_user.trust,
                           form=StartQuizForm(), can_retry=version is not None and version.id == attempt.version_id)


@bp.post("/quiz/attempts/<int:attempt_id>")
@require("training:take")
def submit(attempt_id: int):
    """Grade and record the answers once; a tampered submission is a 400 and records nothing."""
    attempt = queries.attempt_for(current_user, attempt_id, lock=True) or abort(404)
    keep_series_of(attempt.version)
    try:
        answers = services.read_answers(attempt, request.form.to_dict(flat=False))
    except services.TamperedSubmission as exc:
        raise bad_request(str(exc)) from exc
    form = quiz_form(attempt)
    outcome = formview.submit(form, lambda: services.submit_attempt(attempt, answers, now=utcnow()),
                              refusals=services.TamperedSubmission, show=formview.refusal_is_400)
    if not outcome.done:
        if "csrf_token" in form.errors:
            abort(400)
        return _render_attempt(attempt, form)
    return redirect(url_for("assessments.attempt", attempt_id=attempt.id))


@bp.post("/quiz/attempts/<int:attempt_id>/draft")
@require("training:take")
def save_draft(attempt_id: int):
    """Keep the answers given so far: sent by the page's script on each change (answered with 204), or by the
    "Save and come back later" button (back to the quiz page). A tampered form is a 400 and saves nothing; once
    the attempt is submitted nothing is saved."""
    attempt = queries.attempt_for(current_user, attempt_id, lock=True) or abort(404)
    background = request.headers.get("X-Requested-With") == "fetch"
    form = StartQuizForm()
    if not form.validate_on_submit():
        abort(400)
    if attempt.finished_at is not None:
        if background:  # a save still on its way when the answers were submitted: nothing to keep
            return "", 204
        flash("These answers have already been submitted.", "info")
        return redirect(url_for("assessments.attempt", attempt_id=attempt.id))
    try:
        answers = services.read_answers(attempt, request.form.to_dict(flat=False))
    except services.TamperedSubmission as exc:
        raise bad_request(str(exc)) from exc
    outcome = formview.submit(form, lambda: services.save_draft(attempt, answers, now=utcnow()), validated=True)
    if background:
        return "", 204
    flash(f"Your answers are saved ({outcome.result} of {len(attempt.items)} answered). "
          "Continue the quiz whenever you are ready.", "success")
    return redirect(url_for("assessments.quiz_home"))


@bp.get("/quiz/analytics")
@require("quizzes:analytics")
def analytics():
    """Per question and per clause: how often staff of this trust answered correctly, weakest first."""
    by_question, by_clause = queries.item_analytics(current_user.trust)
    return render_template("assessments/analytics.html", trust=current_user.trust, by_question=by_question,
                           by_clause=by_clause)


# --------------------------------------------------------------------------- writing and reviewing the quiz

#: Who writes and reviews a draft version's quiz: the people who upload and check the policy.
AUTHOR = "policies:manage"


def _version_for_quiz(version_id: int, *, lock: bool = False):
    """The trust's version (another trust's id is a 404 for everyone), then the capability check (403)."""
    version = policy_queries.version_in_trust(current_user.trust_id, version_id, lock=lock) or abort(404)
    if not current_user.can(AUTHOR):
        abort(403)
    return version


def _question_or_404(version, question_id: int):
    question = db.session.get(Question, question_id)
    if question is None or question.version_id != version.id or not question.active:
        abort(404)
    return question


def _exclusion_or_404(version, exclusion_id: int) -> ClauseExclusion:
    exclusion = db.session.get(ClauseExclusion, exclusion_id)
    if exclusion is None or exclusion.version_id != version.id:
        abort(404)
    return exclusion


def _draft_or_400(version) -> None:
    if version.status != "draft":
        raise bad_request(f"{version.label.capitalize()} is no longer a draft, so its quiz cannot be changed here.")


def _clause_choices(version) -> list[SelectChoice]:
    choices = []
    for ref, text in authoring.clause_texts(version).items():
        words = " ".join(text.split())
        choices.append(SelectChoice(ref, f"{ref}: {words[:110]}{'…' if len(words) > 110 else ''}"))
    return choices


def _question_form(version, **kwargs) -> QuestionForm:
    form = QuestionForm(**kwargs)
    form.clauses.choices = _clause_choices(version)
    return form


def _render_bank(version, *, exclude_form=None, import_form=None, status: int = 200):
    found = authoring.version_coverage(version)
    questions = authoring.questions_of(version)
    exclude_form = exclude_form or ExcludeClauseForm(formdata=None)
    exclusions = authoring.exclusions_of(version)
    left_out = {e.clause_ref for e in exclusions}
    exclude_form.clause.choices = [SelectChoice("", "Choose a clause")] + [SelectChoice(o.ref, o.ref)
                                                                          for o in found.uncovered
                                                                          if o.ref not in left_out]
    reviews = authoring.exclusion_reviews(exclusions)
    people = {a.question_id: a for a in authoring.authorship(questions).values()}
    ids = ({i for a in people.values() for i in (a.author_id, a.reviewed_by_id) if i}
           | {e.excluded_by_id for e in exclusions if e.excluded_by_id} | {r.reviewed_by_id for r in reviews.values()})
    names = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return render_template(
        "assessments/bank.html", version=version, trust=current_user.trust, coverage=found, questions=questions,
        authorship=people, names=names, exclusions=exclusions, exclusion_reviews=reviews,
        texts=authoring.clause_texts(version), in_browser=authoring.in_browser(version),
        exclude_form=exclude_form, import_form=import_form or ImportBankForm(formdata=None), button=ButtonForm(),
    ), status


@bp.get("/hr/policy/versions/<int:version_id>/quiz")
@login_required
def quiz_bank(version_id: int):
    """A version's quiz: coverage of its must / must-not clauses, its questions and their review, exclusions."""
    return _render_bank(_version_for_quiz(version_id))


@bp.post("/hr/policy/versions/<int:version_id>/quiz/draft")
@login_required
def start_from_draft(version_id: int):
    """Add the draft generator's questions to the version's quiz, to rewrite and review."""
    version = _version_for_quiz(version_id, lock=True)
    _draft_or_400(version)
    outcome = formview.submit(ButtonForm(), lambda: authoring.start_from_draft(version, current_user, now=utcnow()),
                              refusals=authoring.AuthoringError, show=formview.refusal_is_400)
    if not outcome.done:
        abort(400)
    flash(f"{outcome.result} draft question{'s were' if outcome.result != 1 else ' was'} added. Rewrite each one as "
          "a real scenario; someone else then reviews it.", "success")
    return redirect(url_for("assessments.quiz_bank", version_id=version.id))


def _render_question(version, form, question=None, status: int = 200):
    return render_template("assessments/question_form.html", version=version, trust=current_user.trust, form=form,
                           question=question), status


def _save(version, form, question=None):
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return None
    try:
        data = form.question_input()
    except authoring.AuthoringError as exc:
        formview.show_refusal(form, exc)
        return None
    outcome = formview.submit(form, lambda: authoring.save_question(version, current_user, data, now=utcnow(),
                                                                    question=question),
                              refusals=authoring.AuthoringError, validated=True)
    return outcome.result if outcome.done else None


@bp.route("/hr/policy/versions/<int:version_id>/quiz/questions/new", methods=["GET", "POST"])
@login_required
def new_question(version_id: int):
    """Write a new question for a draft version."""
    version = _version_for_quiz(version_id, lock=request.method == "POST")
    _draft_or_400(version)
    form = _question_form(version)
    if request.method == "GET":
        return _render_question(version, form)
    saved = _save(version, form)
    if saved is None:
        return _render_question(version, form, status=400)
    flash(f"Question {saved.key} is saved. Someone else must now review it.", "success")
    return redirect(url_for("assessments.quiz_bank", version_id=version.id) + f"#question-{saved.key}")


@bp.route("/hr/policy/versions/<int:version_id>/quiz/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def edit_question(version_id: int, question_id: int):
    """Change a question of a draft version: it needs reviewing again."""
    version = _version_for_quiz(version_id, lock=request.method == "POST")
    question = _question_or_404(version, question_id)
    _draft_or_400(version)
    if request.method == "GET":
        form = _question_form(version, formdata=None)
        form.fill_from(question)
        return _render_question(version, form, question)
    form = _question_form(version)
    saved = _save(version, form, question)
    if saved is None:
        return _render_question(version, form, question, status=400)
    flash(f"Question {saved.key} is changed. Someone else must now review it again.", "success")
    return redirect(url_for("assessments.quiz_bank", version_id=version.id) + f"#question-{saved.key}")


def _button(version, action, message: str):
    outcome = formview.submit(ButtonForm(), action, refusals=authoring.AuthoringError, show=_refused)
    if outcome.done:
        flash(message, "success")
    elif outcome.refused is None:
        abort(400)
    return redirect(url_for("assessments.quiz_bank", version_id=version.id))


def _refused(_form, exc: authoring.AuthoringError) -> None:
    flash(exc.message, "warning")


@bp.post("/hr/policy/versions/<int:version_id>/quiz/questions/<int:question_id>/remove")
@login_required
def remove_question(version_id: int, question_id: int):
    """Take a question out of a draft version's quiz."""
    version = _version_for_quiz(version_id, lock=True)
    question = _question_or_404(version, question_id)
    _draft_or_400(version)
    key = question.key
    return _button(version, lambda: authoring.remove_question(question, current_user, now=utcnow()),
                   f"Question {key} is removed.")


@bp.post("/hr/policy/versions/<int:version_id>/quiz/questions/<int:question_id>/approve")
@login_required
def approve_question(version_id: int, question_id: int):
    """Approve someone else's question: it may then reach staff."""
    version = _version_for_quiz(version_id, lock=True)
    question = _question_or_404(version, question_id)
    _draft_or_400(version)
    return _button(version, lambda: authoring.approve_question(question, current_user, now=utcnow()),
                   f"Question {question.key} is reviewed.")


@bp.post("/hr/policy/versions/<int:version_id>/quiz/exclusions")
@login_required
def exclude_clause(version_id: int):
    """Leave a must / must-not clause out of the quiz, with the reason."""
    version = _version_for_quiz(version_id, lock=True)
    _draft_or_400(version)
    form = ExcludeClauseForm()
    form.clause.choices = [SelectChoice(o.ref, o.ref) for o in authoring.obligations(version)]
    outcome = formview.submit(form, lambda: authoring.exclude_clause(
        version, current_user, form.clause.data, form.reason.data or "", now=utcnow()),
        refusals=authoring.AuthoringError)
    if not outcome.done:
        if "csrf_token" in form.errors:
            abort(400)
        return _render_bank(version, exclude_form=form, status=400)
    flash(f"Clause {outcome.result.clause_ref} is left out of the quiz.", "success")
    return redirect(url_for("assessments.quiz_bank", version_id=version.id) + "#exclusions")


@bp.post("/hr/policy/versions/<int:version_id>/quiz/exclusions/<int:exclusion_id>/approve")
@login_required
def approve_exclusion(version_id: int, exclusion_id: int):
    """Approve someone else's leaving a clause out: it then counts toward coverage."""
    version = _version_for_quiz(version_id, lock=True)
    exclusion = _exclusion_or_404(version, exclusion_id)
    _draft_or_400(version)
    ref = exclusion.clause_ref
    return _button(version, lambda: authoring.approve_exclusion(exclusion, current_user, now=utcnow()),
                   f"Leaving out clause {ref} is reviewed.")


@bp.post("/hr/policy/versions/<int:version_id>/quiz/exclusions/<int:exclusion_id>/remove")
@login_required
def remove_exclusion(version_id: int, exclusion_id: int):
    """Put an excluded clause back: the quiz must examine it."""
    version = _version_for_quiz(version_id, lock=True)
    exclusion = _exclusion_or_404(version, exclusion_id)
    _draft_or_400(version)
    ref = exclusion.clause_ref
    return _button(version, lambda: authoring.remove_exclusion(exclusion, current_user, now=utcnow()),
                   f"Clause {ref} is back in the quiz: a reviewed question must examine it.")


@bp.get("/hr/policy/versions/<int:version_id>/quiz.yaml")
@login_required
def export_bank(version_id: int):
    """The version's quiz as a bank file (the quizzes/<slug>.yaml format)."""
    version = _version_for_quiz(version_id)
    name = f"{current_user.trust.slug}-version-{version.number}.yaml"
    return current_app.response_class(authoring.export_bank(version), mimetype="application/yaml", headers={
        "Content-Disposition": f"attachment; filename={name}", "X-Content-Type-Options": "nosniff"})


#: Largest bank file accepted (the five seed banks are 40–70 kB).
BANK_MAX_BYTES = 1_000_000


@bp.post("/hr/policy/versions/<int:version_id>/quiz/import")
@login_required
def import_bank(version_id: int):
    """Replace a draft version's quiz with a bank file, checked against its clauses."""
    version = _version_for_quiz(version_id, lock=True)
    _draft_or_400(version)
    form = ImportBankForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _render_bank(version, import_form=form, status=400)
    raw = form.file.data.read(BANK_MAX_BYTES + 1)
    try:
        if len(raw) > BANK_MAX_BYTES:
            raise authoring.AuthoringError("The file is larger than 1 MB: a quiz bank is much smaller", field="file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise authoring.AuthoringError("The file is not a YAML text file (UTF-8)", field="file") from exc
    except authoring.AuthoringError as exc:
        formview.show_refusal(form, exc)
        return _render_bank(version, import_form=form, status=400)
    filename = (form.file.data.filename or "bank.yaml")[:200]
    outcome = formview.submit(form, lambda: authoring.import_bank(version, current_user, text, filename, now=utcnow()),
                              refusals=authoring.AuthoringError, validated=True)
    if not outcome.done:
        return _render_bank(version, import_form=form, status=400)
    r = outcome.result
    flash(f"Imported: {r.kept} questions unchanged, {r.added} added, {r.changed} changed, {r.removed} removed, "
          f"{r.exclusions} clauses left out. Added and changed questions need reviewing.", "success")
    return redirect(url_for("assessments.quiz_bank", version_id=version.id))
