"""HR dashboards (trust, academy or team), the per-person drill-down, exports and evidence packs.

Filters and sorting live in the query string (see filters.py); each view exports exactly what it shows.
"""

from dataclasses import replace
from functools import wraps

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from modules.core.capabilities import require
from modules.core.extensions import db
from modules.core.formview import left_to_view, refusal_is_400, show_on, submit
from modules.core.inputs import parse_id
from modules.core.navigation import nav_group, nav_item
from modules.core.timeutil import utcnow
from modules.core.web import bad_request
from modules.notifications.services import london_date
from modules.people.models import Academy, Role, User
from modules.people.security import note_event
from modules.policies.queries import past_review, published_version
from modules.tracking import actions, background, charts, exports, queries
from modules.tracking.evidence_pack import build_pack
from modules.tracking.filters import (
    EXPIRY_SORTS,
    GROUP_SORTS,
    GROUPS,
    PAGE_SIZE,
    PEOPLE_SORTS,
    STATUSES,
    WITHIN,
    FilterError,
    academies_in,
    parse,
    roles_in,
)
from modules.tracking.forms import BULK_ACTIONS, BulkForm, ConfirmForm, ExemptForm, ExtendForm
from modules.tracking.mail import invitation_preview, previews
from modules.tracking.models import KINDS
from modules.tracking.scope import Scope, evidence_scope, scope_for

bp = Blueprint("tracking", __name__, url_prefix="/tracking")

nav_item("Staff training", "tracking.overview", "tracking:view", order=60)
#: A line manager's two team pages (training, and signing off account requests) share one top entry.
nav_group("team", "My team", order=61, endpoint="tracking.team", subnav=True)
nav_item("Team training", "tracking.team", "team:view", order=61, group="team",
         hint="Where each person you manage stands with their training")
nav_item("Evidence pack", "tracking.evidence", "evidence:export", order=82, group="hr",
         hint="Download a ZIP of acknowledgements, certificates and the ledger for an inspection or audit")


def viewer_required(team: bool = False):
    """Signed in with a dashboard scope (tracking:view, or line managing someone for team views), else 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            scope = scope_for(current_user, team=team)
            if scope is None:
                abort(403)
            return view(scope, *args, **kwargs)

        return wrapped

    return decorator


def _filters(scope: Scope, sorts=PEOPLE_SORTS):
    try:
        return parse(request.args, scope, sorts=sorts)
    except FilterError as exc:
        raise bad_request(str(exc)) from exc


def _common(scope: Scope, filters, view: str) -> dict:
    return {"scope": scope, "filters": filters, "view": view, "academies": academies_in(scope),
            "roles": roles_in(scope), "statuses": STATUSES, "kinds": KINDS, "groups": GROUPS,
            "within_choices": WITHIN, "page_size": PAGE_SIZE}


@bp.get("")
@viewer_required()
def overview(scope: Scope):
    """Headline figures and completion by academy, role, line manager or module, as a chart and a table."""
    filters = _filters(scope, GROUP_SORTS)
    now = utcnow()
    today = london_date(now)
    # Read once for the headline and the table, summed in SQL the way the table groups (a row per academy or
    # line manager, not one per pair).
    counts = queries.tally(scope, filters, today, by="manager" if filters.by == "manager" else "academy")
    summary, rows = queries.overview(scope, filters, today, counts=counts)
    team_rows, teams = queries.teams_behind(scope, filters, today) if filters.by == "academy" else ([], 0)
    return render_template("tracking/overview.html", **_common(scope, filters, "completion"), summary=summary,
                           rows=rows, chart=charts.bar_chart(rows), team_chart=charts.bar_chart(team_rows),
                           teams=teams,
                           over_time=charts.completion_over_time(
                               scope, now, counts=summary if counts is not None and filters.academy is None
                               and filters.manager is None else None) if filters.by == "academy" else None,
                           expiring=queries.expiring_counts(scope, today, now), today=today,
                           past_review=past_review(current_user.trust_id, today))


def _people_page(scope: Scope, view: str, title: str, default_sort: str, **fixed):
    filters = _filters(scope)
    if fixed:
        filters = replace(filters, **fixed)
    today = london_date(utcnow())
    rows, total = queries.people(scope, filters, today, default_sort=default_sort)
    if filters.page > 1 and not rows:
        abort(404)
    return render_template("tracking/people.html", **_common(scope, filters, view), rows=rows, total=total,
                           title=title, today=today, default_sort=default_sort)


@bp.get("/people")
@viewer_required()
def people(scope: Scope):
    """Everyone in scope with their status, filtered and sorted by the URL, a page at a time."""
    return _people_page(scope, "people", "Staff", "name")


@bp.get("/overdue")
@viewer_required()
def overdue(scope: Scope):
    """People whose training is overdue, most overdue first."""
    return _people_page(scope, "overdue", "Overdue training", "due", status="overdue")


@bp.get("/team")
@viewer_required(team=True)
def team(scope: Scope):
    """A line manager's own team and their status."""
    return _people_page(scope, "team", "My team", "name")


@bp.get("/expiring")
@viewer_required()
def expiring(scope: Scope):
    """Certificates expiring in the next 30, 60 or 90 days."""
    filters = _filters(scope, EXPIRY_SORTS)
    now = utcnow()
    today = london_date(now)
    rows, total = queries.expiring(scope, filters, today, now)
    if filters.page > 1 and not rows:
        abort(404)
    return render_template("tracking/expiring.html", **_common(scope, filters, "expiring"), rows=rows, total=total,
                           today=today)


def _person_for_viewer(user_id: int) -> tuple[Scope, User]:
    """The viewer's scope and the person they may drill into; 404 for another trust's id or someone out of
    scope, 403 for a viewer with no dashboard scope at all."""
    found = db.session.get(User, user_id)
    if found is None or found.trust_id != current_user.trust_id:
        abort(404)  # another trust's id: 404 whoever asks
    scope = scope_for(current_user)
    if scope is None:
        abort(403)
    user = queries.person_in_scope(scope, user_id)
    if user is None and not scope.is_team:
        team = scope_for(current_user, team=True)
        user = queries.person_in_scope(team, user_id) if team else None
    if user is None:
        abort(404)
    return scope, user


@bp.get("/people/<int:user_id>")
@login_required
def person(user_id: int):
    """One person's full history: assignments, reading, quiz attempts, acknowledgements, certificates, reminders."""
    scope, user = _person_for_viewer(user_id)
    now = utcnow()
    return render_template("tracking/person.html", scope=scope, history=queries.history(user, london_date(now), now),
                           statuses=STATUSES, kinds=KINDS, can_act=current_user.can("staff:manage"),
                           chaseable=actions.can_chase(user), actions_taken=actions.actions_of(user))


@bp.get("/people/<int:user_id>/history.<fmt>")
@login_required
def person_export(user_id: int, fmt: str):
    """The person's full history, as on their page, as CSV or XLSX."""
    _, user = _person_for_viewer(user_id)
    if fmt not in exports.FORMATS:
        abort(404)
    now = utcnow()
    today = london_date(now)
    table = exports.history_table(queries.history(user, today, now))
    body = exports.to_csv(table) if fmt == "csv" else exports.to_xlsx(table)
    name = exports.history_filename(user.id, today, fmt)
    note_event("export", now=now, actor=current_user, target_user=user, target=name)
    return Response(body, mimetype=exports.FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/export/<view>.<fmt>")
@login_required
def export(view: str, fmt: str):
    """The named dashboard view, with the same filters, as CSV or XLSX."""
    if view not in exports.VIEWS or fmt not in exports.FORMATS:
        abort(404)
    scope = scope_for(current_user, team=view == "team")
    if scope is None:
        abort(403)
    now = utcnow()
    today = london_date(now)
    if view == "completion":
        table = exports.completion_table(scope, _filters(scope, GROUP_SORTS), today)
    elif view == "expiring":
        table = exports.expiring_table(scope, _filters(scope, EXPIRY_SORTS), today, now)
    elif view == "overdue":
        table = exports.people_table(scope, replace(_filters(scope), status="overdue"), today,
                                     title="Overdue training", default_sort="due")
    else:
        table = exports.people_table(scope, _filters(scope), today, title="My team" if view == "team" else "Staff")
    body = exports.to_csv(table) if fmt == "csv" else exports.to_xlsx(table)
    name = exports.filename(view, scope, today, fmt)
    note_event("export", now=now, actor=current_user, target=name, details={"query": request.query_string.decode()[:200]})
    return Response(body, mimetype=exports.FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/evidence")
@require("evidence:export")
def evidence():
    """Choose the trust or an academy, and download its evidence pack."""
    scope = evidence_scope(current_user)
    return render_template("tracking/evidence.html", scope=scope, academies=academies_in(scope),
                           trust=current_user.trust)


@bp.get("/evidence/pack.zip")
@require("evidence:export")
def evidence_pack():
    """The evidence pack ZIP of the trust, or of the academy named in the query string."""
    scope = evidence_scope(current_user)
    academy = _evidence_academy(scope, request.args.get("academy"))
    now = utcnow()
    pack = build_pack(current_user.trust, academy, now=now)
    note_event("evidence-pack", now=now, actor=current_user, target=pack.filename,
               details={"academy": academy.name if academy else "whole trust"})
    return Response(pack.data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{pack.filename}"'})


def _evidence_academy(scope: Scope, raw: str | None) -> Academy | None:
    """The academy chosen for an evidence pack (None: the whole trust); a clear 400 for one out of scope."""
    raw = (raw or "").strip()
    if raw:
        academy_id = parse_id(raw)
        academy = db.session.get(Academy, academy_id) if academy_id else None
        if academy is None or academy.trust_id != scope.trust_id or (
                scope.academy_ids is not None and academy.id not in scope.academy_ids):
            raise bad_request("That academy is not one you can export evidence for. Choose one from the list.")
        return academy
    if scope.academy_ids is not None:
        raise bad_request("Choose one of your academies: you cannot export the whole trust's evidence.")
    return None


@bp.post("/evidence/jobs")
@require("evidence:export")
def evidence_job():
    """Build the evidence pack in the worker (a whole trust can take a while); then watch its progress."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        raise bad_request("The form had expired. Go back to the evidence pack page and try again.")
    academy = _evidence_academy(evidence_scope(current_user), request.form.get("academy"))
    now = utcnow()
    job_id = background.start("evidence_pack", user=current_user, now=now, academy_id=academy.id if academy else None)
    note_event("evidence-pack", now=now, actor=current_user, target=f"job {job_id}",
               details={"academy": academy.name if academy else "whole trust", "in": "worker"})
    db.session.commit()
    return redirect(url_for("tracking.job", job_id=job_id))


def _own_job(job_id: str) -> dict:
    """The job's state if the signed-in person started it (in their trust); else 404."""
    state = background.read(job_id)
    if state is None or state["user_id"] != current_user.id or state["trust_id"] != current_user.trust_id:
        abort(404)
    return state


@bp.get("/jobs/<job_id>")
@login_required
def job(job_id: str):
    """A job's progress until it is done (the page polls politely, or refreshes itself without JavaScript),
    then its result."""
    state = _own_job(job_id)
    return render_template("tracking/job.html", job_id=job_id, state=state, title=background.KINDS[state["kind"]],
                           finished=state["status"] in (background.DONE, background.FAILED))


@bp.get("/jobs/<job_id>/status")
@login_required
def job_status(job_id: str):
    """A job's progress as JSON, for the page's polling script."""
    state = _own_job(job_id)
    return {key: state[key] for key in ("status", "done", "total", "step")}


@bp.get("/jobs/<job_id>/download")
@login_required
def job_download(job_id: str):
    """The finished evidence pack a job built."""
    state = _own_job(job_id)
    path = background.result_file(job_id)
    if state["kind"] != "evidence_pack" or state["status"] != background.DONE or not path.is_file():
        abort(404)
    return Response(path.read_bytes(), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{state["result"]["filename"]}"'})


# ---- HR's actions on a person, and on everyone in a filtered list ----------------------------------------

def _person_to_act_on(user_id: int) -> User:
    """The person, if the viewer may act on their training (staff:manage, in scope); else 404 (another trust's
    id, whoever asks) or 403."""
    _, user = _person_for_viewer(user_id)
    if not current_user.can("staff:manage"):
        abort(403)
    return user


def _done(outcome: actions.Outcome, user: User):
    flash(outcome.message, "success" if outcome.done else "info")
    return redirect(url_for("tracking.person", user_id=user.id))


def _action_page(template: str, user: User, form, **extra):
    code = 400 if form.errors else 200
    return render_template(template, person=user, form=form, **extra), code


@bp.route("/people/<int:user_id>/remind", methods=["GET", "POST"])
@login_required
def remind(user_id: int):
    """Preview the reminder email the person would get now, then send it (once a day at most)."""
    user = _person_to_act_on(user_id)
    now = utcnow()
    form = ConfirmForm()
    sent = submit(form, lambda: actions.send_reminder(current_user, user, now=now), refusals=actions.ActionError,
                  show=left_to_view)
    if sent.done:
        return _done(sent.result, user)
    problem = sent.refused
    if problem is None:
        try:
            subject, body = actions.reminder_email(user, now=now)
        except actions.ActionError as exc:
            problem = exc
    if problem is not None:
        return render_template("tracking/remind.html", person=user, form=form, problem=str(problem)), \
            400 if request.method == "POST" else 200
    return _action_page("tracking/remind.html", user, form, subject=subject, body=body)


@bp.route("/people/<int:user_id>/invite", methods=["GET", "POST"])
@login_required
def invite(user_id: int):
    """Preview the set-password invitation, then send it again with a fresh link."""
    user = _person_to_act_on(user_id)
    form = ConfirmForm()
    if request.method == "GET":
        subject, body = invitation_preview(user, max_age_hours=current_app.config["SET_PASSWORD_MAX_AGE_HOURS"])
        return _action_page("tracking/invite.html", user, form, subject=subject, body=body)
    if not form.validate_on_submit():
        raise bad_request("The form had expired. Go back to the person's page and try again.")
    sent = submit(form, lambda: actions.resend_invitation(current_user, user, now=utcnow()), validated=True,
                  refusals=actions.ActionError, show=refusal_is_400)
    return _done(sent.result, user)


@bp.route("/people/<int:user_id>/extend", methods=["GET", "POST"])
@login_required
def extend(user_id: int):
    """Give the person a later deadline, with a reason."""
    user = _person_to_act_on(user_id)
    form = ExtendForm()
    extended = submit(form, lambda: actions.extend_deadline(current_user, user, due_on=form.due_on.data,
                                                            reason=form.reason.data, now=utcnow()),
                      refusals=actions.ActionError, show=show_on("due_on"))
    if extended.done:
        return _done(extended.result, user)
    return _action_page("tracking/extend.html", user, form, current=actions.current_assignment(user))


@bp.route("/people/<int:user_id>/exempt", methods=["GET", "POST"])
@login_required
def exempt(user_id: int):
    """Exempt the person (or end their exemption), with a reason."""
    user = _person_to_act_on(user_id)
    current = actions.current_assignment(user)
    ending = current is not None and current.status(london_date(utcnow())) == "exempt"
    form = ExemptForm()
    form.submit.label.text = "End the exemption" if ending else "Exempt"
    act = actions.end_exemption if ending else actions.exempt
    changed = submit(form, lambda: act(current_user, user, reason=form.reason.data, now=utcnow()),
                     refusals=actions.ActionError, show=show_on("reason"))
    if changed.done:
        return _done(changed.result, user)
    return _action_page("tracking/exempt.html", user, form, ending=ending)


@bp.route("/people/<int:user_id>/leaver", methods=["GET", "POST"])
@login_required
def leaver(user_id: int):
    """Confirm, then record that the person has left."""
    user = _person_to_act_on(user_id)
    form = ConfirmForm()
    left = submit(form, lambda: actions.mark_leaver(current_user, user, now=utcnow()),
                  refusals=actions.ActionError, show=refusal_is_400)
    if left.done:
        return _done(left.result, user)
    return _action_page("tracking/leaver.html", user, form)


BULK_VIEWS = {"people": ("tracking.people", None), "overdue": ("tracking.overdue", "overdue")}


def _bulk_people(scope: Scope) -> tuple[str, object, list]:
    view = request.args.get("view", "people")
    if view not in BULK_VIEWS:
        raise bad_request("Choose a list of staff first, then act on it.")
    filters = _filters(scope)
    fixed = BULK_VIEWS[view][1]
    if fixed:
        filters = replace(filters, status=fixed)
    rows, _ = queries.people(scope, replace(filters, page=1), london_date(utcnow()), paginate=False)
    return view, filters, rows


@bp.route("/bulk", methods=["GET", "POST"])
@viewer_required()
def bulk(scope: Scope):
    """Everyone in a filtered list: choose one action for all of them."""
    if not current_user.can("staff:manage"):
        abort(403)
    view, filters, rows = _bulk_people(scope)
    form = BulkForm()
    if form.validate_on_submit():
        return redirect(url_for("tracking.bulk_action", action=form.action.data, view=view,
                                **filters.args(page=1)))
    return render_template("tracking/bulk.html", form=form, rows=rows, view=view, filters=filters, scope=scope,
                           back=url_for(BULK_VIEWS[view][0], **filters.args())), 400 if form.errors else 200


@bp.route("/bulk/<action>", methods=["GET", "POST"])
@viewer_required()
def bulk_action(scope: Scope, action: str):
    """Preview, then do, one action for everyone in the list: each person once, whatever is clicked twice."""
    if not current_user.can("staff:manage"):
        abort(403)
    if action not in {key for key, _ in BULK_ACTIONS}:
        abort(404)
    view, filters, rows = _bulk_people(scope)
    people = [db.session.get(User, row.id) for row in rows]
    form = {"remind": ConfirmForm, "extend": ExtendForm, "exempt": ExemptForm}[action]()
    back = url_for(BULK_VIEWS[view][0], **filters.args())
    now = utcnow()
    if action == "remind" and len(people) > current_app.config["BULK_IN_WORKER"] \
            and form.validate_on_submit():
        # A long list goes to the worker: the page shows its progress (each person still reminded once a day).
        job_id = background.start("bulk_remind", user=current_user, now=now, user_ids=[p.id for p in people])
        return redirect(url_for("tracking.job", job_id=job_id))
    outcome = submit(form, lambda: actions.for_everyone(
        action, current_user, people, now=now, due_on=getattr(form, "due_on", None) and form.due_on.data,
        reason=getattr(form, "reason", None) and form.reason.data))
    if outcome.done:
        flash(outcome.result.summary(), "success")
        return redirect(back)
    preview = None
    if action == "remind":
        chaseable = [p for p in people if actions.can_chase(p)]
        preview = actions.reminder_email(chaseable[0], now=now) if chaseable else None
    return render_template("tracking/bulk_action.html", form=form, action=action, rows=rows, preview=preview,
                           back=back, title=dict(BULK_ACTIONS)[action]), 400 if form.errors else 200


# ---- email previews ----------------------------------------------------------------------------------------

nav_item("Email previews", "tracking.email_previews", "staff:manage", order=88, group="hr",
         hint="Every email you or the daily run send to staff, line managers and headteachers, before it goes")


@bp.get("/emails")
@require("staff:manage")
def email_previews():
    """Each email HR sends (reminders, invitations) or the daily run sends for them (escalations), as written
    from the trust's rules for an example person."""
    trust = current_user.trust
    academy = current_user.academy or db.session.scalar(
        select(Academy).where(Academy.trust_id == trust.id).order_by(Academy.name))
    labels = {role.key: role.label for role in db.session.scalars(select(Role).where(Role.trust_id == trust.id))}
    found = previews(trust, academy=academy, today=london_date(utcnow()), role_labels=labels,
                     max_age_hours=current_app.config["SET_PASSWORD_MAX_AGE_HOURS"],
                     version=published_version(trust.id))
    return render_template("tracking/email_previews.html", previews=found, trust=trust)


# ---- another of the trust's policies: who has completed it -------------------------------------------------


@bp.get("/policies/<slug>")
@viewer_required()
def policy_completion(scope: Scope, slug: str):
    """Who in a policy's audience (within the viewer's scope: a line manager's team) has acknowledged its current version and holds a
    valid certificate of it; another trust's policy is a 404."""
    from modules.policies.queries import register_series, series_by_slug

    series = series_by_slug(current_user.trust_id, slug) or abort(404)
    now = utcnow()
    version, rows = queries.series_completion(scope, series, now)
    register = register_series(current_user.trust_id)
    return render_template("tracking/policy_completion.html", series=series, version=version, rows=rows,
                           scope=scope, trust=current_user.trust,
                           is_register=register is not None and register.id == series.id,
                           complete=sum(1 for r in rows if r.certificate_status == "valid"))
