"""Quiz pages for staff (start, take, results) and item analytics for HR and trust administrators."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from modules.assessments import queries, services, types
from modules.assessments.forms import StartQuizForm, quiz_form
from modules.core import formview
from modules.core.capabilities import require
from modules.core.navigation import nav_item
from modules.core.timeutil import utcnow
from modules.core.web import bad_request
from modules.training.queries import current_version, modules_for

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
    version = current_version(current_user.trust_id)
    modules = modules_for(current_user, version) if version else []
    unread = [m.section for m in modules if m.compulsory and not m.read]  # optional form appendices never block
    return render_template(
        "assessments/home.html", version=version, trust=current_user.trust, unread=unread,
        total=sum(1 for m in modules if m.compulsory),
        ready=bool(version) and queries.has_questions(version),
        open_attempt=queries.open_attempt(current_user, version) if version else None,
        attempts=queries.attempts_for(current_user, version) if version else [],
        passed=queries.latest_passed_attempt(current_user, version) if version else None,
        plan=services.quiz_plan(current_user, version) if version else None,
        pass_mark=current_user.trust.rules.pass_mark,
        form=StartQuizForm())


@bp.post("/quiz/start")
@require("training:take")
def start():
    """Draw a fresh attempt (or go back to the open one); refused until every module is read."""
    form = StartQuizForm()
    if not form.validate_on_submit():
        abort(400)
    version = current_version(current_user.trust_id) or abort(404)
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
    version = current_version(current_user.trust_id)
    return render_template("assessments/result.html", attempt=attempt, results=results, trust=current_user.trust,
                           form=StartQuizForm(), can_retry=version is not None and version.id == attempt.version_id)


@bp.post("/quiz/attempts/<int:attempt_id>")
@require("training:take")
def submit(attempt_id: int):
    """Grade and record the answers once; a tampered submission is a 400 and records nothing."""
    attempt = queries.attempt_for(current_user, attempt_id, lock=True) or abort(404)
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
