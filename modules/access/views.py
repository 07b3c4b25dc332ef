"""Official accounts, requests and approvals, the register and its exports, and the line manager's team view.

Routes that take an id look the row up in the person's trust first (another trust's id is a 404), then check
the capability (403): so a foreign id never reveals whether the person could have acted on it.
"""

import secrets
from datetime import date
from functools import wraps

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from modules.access import exports, queries, services
from modules.access.forms import (
    CENTRAL,
    AccountForm,
    AccountStatusForm,
    DecisionForm,
    JoinRequestForm,
    NewAccountRequestForm,
    RevokeGrantForm,
    TrainingDiscussedForm,
    WithdrawForm,
    question_field,
    with_questions,
)
from modules.access.models import CLOSED, PENDING
from modules.access.rules import ACCOUNT_ROLES, describe_shortfalls, minimum_basis, who_to_add
from modules.access.status import REASON_TEXT, grant_state
from modules.core.capabilities import require
from modules.core.formview import flash_refusal, refusal_is_400, submit
from modules.core.inputs import parse_id
from modules.core.navigation import nav_item
from modules.core.timeutil import format_date, utcnow
from modules.core.web import bad_request
from modules.people.security import note_event

bp = Blueprint("access", __name__, url_prefix="/access")

nav_item("Official accounts", "access.accounts", "training:take", order=60)
nav_item("Approvals", "access.approvals", "accounts:approve", order=61)
nav_item("Team sign-off", "access.team", "team:view", order=62, group="team",
         hint="Requests from your team to run an official account, waiting for you")
nav_item("Register", "access.register", "register:view", order=63)

FOREIGN_CHOICE = ("The form named something that is not part of your trust, so nothing was changed. "
                  "Go back, reload the page and try again.")


@bp.app_context_processor
def _access_helpers():
    return {"account_roles": ACCOUNT_ROLES, "lapse_text": REASON_TEXT}


@bp.app_template_filter("isodate")
def _isodate(value: str) -> str:
    """An ISO date string from a stored form answer, shown as "21 November 2026"."""
    try:
        return format_date(date.fromisoformat(value))
    except (TypeError, ValueError):
        return value or ""


def _may_approve_anything(user) -> bool:
    return user.can("accounts:approve") or user.can("team:view")


def approver_page(view):
    """Signed in, and either holding accounts:approve or line managing someone; else 403."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not _may_approve_anything(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _capable(capability: str, academy_id: int | None) -> None:
    """403 unless the person holds the capability for that academy (or trust-wide, for the central team)."""
    if not queries.holds(current_user, capability, academy_id):
        abort(403)


def _platform_choices(rules) -> list[tuple[str, str]]:
    return [("", "Choose a platform")] + [(p.key, p.label) for p in rules.account_platforms]


def _owner_choices(scope: set[int] | None = None) -> list[tuple[str, str]]:
    academies = [a for a in queries.academies_of(current_user.trust_id) if queries.in_scope(scope, a.id)]
    choices = [("", "Choose the owner")]
    if scope is None:
        choices.append((CENTRAL, "Central team"))
    return choices + [(str(a.id), a.name) for a in academies]


def _owner(value: str):
    """The academy a submitted owner names (None for the central team); 400 for anything else."""
    if value == CENTRAL:
        return None
    academy_id = parse_id(value)
    academy = queries.academy_in_trust(current_user.trust_id, academy_id) if academy_id else None
    if academy is None:
        raise bad_request(FOREIGN_CHOICE)
    return academy


def _choice_tampered(form, *names) -> bool:
    """A select or radio was posted with a value that was never offered (a foreign or unknown id)."""
    for name in names:
        field = form[name]
        if field.errors and field.raw_data and field.raw_data[0] not in ("", None):
            offered = {str(value) for value, _label in field.choices}
            if str(field.raw_data[0]) not in offered:
                return True
    return False


def _submit(form, action, valid: bool):
    """The shared form-view helper with access's refusals shown on their fields (see _apply_error)."""
    return submit(form, action, validated=valid, refusals=services.AccessError, show=_apply_error)


def _on_comment(form, exc: services.AccessError) -> None:
    """A decision's refusal is shown above the form, and on the comment box when it is about the comment."""
    if exc.field == "comment":
        form.comment.errors = [*form.comment.errors, exc.message]


def _forbidden(outcome):
    """The refusal when the trust's policy forbids the request (the page quotes its clause), else None."""
    return outcome.refused if isinstance(outcome.refused, services.ForbiddenRequest) else None


def _apply_error(form, exc: services.AccessError) -> None:
    """Show a refusal on the field it names (a trust question's field too), else at the top."""
    field = form._fields.get(exc.field) if exc.field else None
    if field is None and exc.field:
        field = form._fields.get(question_field(exc.field))
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def _note(rules):
    note = rules.credentials_note
    return (note, queries.quotes(current_user.trust_id, note.clauses)) if note else (None, [])


# ---- accounts ----------------------------------------------------------------------------------------


@bp.get("/accounts")
@require("training:take")
def accounts():
    """The trust's official accounts by owner (academy or central team), with who may run them."""
    now = utcnow()
    trust = current_user.trust
    academy_id, central = _academy_filter(None)
    rows = queries.account_rows(trust, now)
    if academy_id is not None:
        rows = [r for r in rows if r.account.academy_id == academy_id]
    elif central:
        rows = [r for r in rows if r.account.academy_id is None]
    register_scope = queries.scope_of(current_user, "register:view") if current_user.can("register:view") else set()
    return render_template("access/accounts.html", rows=rows, trust=trust, rules=trust.rules,
                           academies=queries.academies_of(trust.id), academy_id=academy_id, central=central,
                           register_scope=register_scope, in_scope=queries.in_scope,
                           waiting=len(queries.waiting_on(current_user)) if _may_approve_anything(current_user) else 0,
                           mine=queries.requests_of(current_user)[:3], now=now)


def _academy_filter(scope: set[int] | None):
    """(academy id, central?) from ?academy=<id>|central; another trust's or an out-of-scope academy is a 404."""
    value = request.args.get("academy", "")
    if not value:
        return None, False
    if value == CENTRAL:
        if scope is not None:
            abort(404)
        return None, True
    academy_id = parse_id(value)
    academy = queries.academy_in_trust(current_user.trust_id, academy_id) if academy_id else None
    if academy is None or not queries.in_scope(scope, academy.id):
        abort(404)
    return academy.id, False


def _account_or_404(account_id: int):
    return queries.account_in_trust(current_user.trust_id, account_id) or abort(404)


@bp.get("/accounts/<int:account_id>")
@login_required
def account(account_id: int):
    """One account: what it is, its health against the trust's minimums, and (for the register) who runs it."""
    found = _account_or_404(account_id)
    if not current_user.can("training:take"):
        abort(403)
    return _render_account(found)


def _render_account(found, status_form=None, code: int = 200):
    now = utcnow()
    trust = current_user.trust
    row = queries.account_rows(trust, now, accounts=[found])[0]
    sees_register = queries.holds(current_user, "register:view", found.academy_id)
    manages = queries.holds(current_user, "register:manage", found.academy_id)
    pending = [r for r in queries.pending_requests(trust.id) if r.account_id == found.id] if sees_register else []
    form = status_form or AccountStatusForm(status=found.status)
    rules = trust.rules
    return render_template("access/account.html", row=row, account=found, rules=rules, trust=trust,
                           sees_register=sees_register, manages=manages, pending=pending, status_form=form,
                           to_add=_to_add(trust, rules, [row]).get(found.id) if sees_register else None,
                           now=now), code


@bp.route("/accounts/new", methods=["GET", "POST"])
@require("register:manage")
def new_account():
    """Someone keeping the register adds an official account (proposed or active)."""
    rules = current_user.trust.rules
    form = AccountForm()
    form.platform.choices = _platform_choices(rules)
    form.owner.choices = _owner_choices(current_user.academy_scope("register:manage"))
    forbidden = None
    if request.method == "POST":
        valid = form.validate_on_submit()
        if not valid and _choice_tampered(form, "platform", "owner", "status"):
            raise bad_request(FOREIGN_CHOICE)
        outcome = _submit(form, lambda: services.register_account(
            current_user, platform=form.platform.data, handle=form.handle.data, academy=_owner(form.owner.data),
            purpose=form.purpose.data, status=form.status.data, now=utcnow()), valid)
        if outcome.done:
            flash(f"{outcome.result.handle} has been added to the register.", "success")
            return redirect(url_for("access.account", account_id=outcome.result.id))
        forbidden = _forbidden(outcome)
    note, note_quotes = _note(rules)
    return render_template("access/account_form.html", form=form, note=note, note_quotes=note_quotes,
                           forbidden=forbidden), \
        400 if (form.errors or form.form_errors) else 200


@bp.post("/accounts/<int:account_id>/status")
@login_required
def account_status(account_id: int):
    """Mark an account proposed, active or closed."""
    found = _account_or_404(account_id)
    _capable("register:manage", found.academy_id)
    form = AccountStatusForm()
    valid = form.validate_on_submit()
    if not valid and _choice_tampered(form, "status"):
        raise bad_request(FOREIGN_CHOICE)
    outcome = _submit(form, lambda: services.set_account_status(current_user, found, form.status.data, now=utcnow()),
                     valid)
    if not outcome.done:
        return _render_account(found, form, 400)
    flash(f"The account is now {found.status}.", "success")
    return redirect(url_for("access.account", account_id=found.id))


@bp.route("/grants/<int:grant_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_grant(grant_id: int):
    """Remove someone's access to an account, with a reason (a ledger event)."""
    grant = queries.grant_in_trust(current_user.trust_id, grant_id) or abort(404)
    _capable("register:manage", grant.account.academy_id)
    now = utcnow()
    form = RevokeGrantForm()
    shortfall = services.shortfall_after_removal(grant, now) if grant.removed_at is None else []
    valid = grant.removed_at is None and form.validate_on_submit()
    if not valid and request.method == "POST" and _choice_tampered(form, "reason"):
        raise bad_request(FOREIGN_CHOICE)
    outcome = _submit(form, lambda: services.revoke_grant(current_user, grant, reason=form.reason.data, now=now,
                                                          accept_shortfall=bool(form.accept_shortfall.data)),
                      valid)
    if outcome.done:
        flash(f"{grant.user.name}'s access has been removed.", "success")
        return redirect(url_for("access.account", account_id=grant.account_id))
    trust = current_user.trust
    rules = trust.rules
    return render_template("access/revoke_grant.html", grant=grant, form=form, state=grant_state(grant, now),
                           shortfall=describe_shortfalls(rules, shortfall) if shortfall else None,
                           basis=minimum_basis(rules, [r for item in shortfall for r in item.roles], trust.name)), \
        400 if (form.errors or form.form_errors) else 200


# ---- register ----------------------------------------------------------------------------------------


def _register_rows(now):
    scope = queries.scope_of(current_user, "register:view")
    academy_id, central = _academy_filter(scope)
    rows = queries.register_rows(current_user.trust, now, scope, academy_id=academy_id, central=central)
    return scope, academy_id, central, rows


@bp.get("/register")
@require("register:view")
def register():
    """The authorised-user register: every grant, active or lapsed with the reason, and accounts to act on."""
    now = utcnow()
    trust = current_user.trust
    rules = trust.rules
    scope, academy_id, central, rows = _register_rows(now)
    accounts = queries.account_rows(trust, now, scope)
    if academy_id is not None:
        accounts = [a for a in accounts if a.account.academy_id == academy_id]
    elif central:
        accounts = [a for a in accounts if a.account.academy_id is None]
    headers, body = exports.register_table(rows, rules)
    academies = [a for a in queries.academies_of(trust.id) if queries.in_scope(scope, a.id)]
    flagged = [a for a in accounts if a.health.flagged]
    return render_template("access/register.html", trust=trust, rules=rules, rows=rows, headers=headers,
                           body=body, flagged=flagged, to_add=_to_add(trust, rules, flagged), academies=academies,
                           scope=scope, academy_id=academy_id, central=central,
                           register_quotes=queries.quotes(trust.id, rules.register_clauses), now=now)


def _to_add(trust, rules, account_rows) -> dict[int, dict]:
    """For accounts below a minimum now: who to add (with the clauses quoted) and who has already asked."""
    pending = queries.pending_requests(trust.id)
    found = {}
    for row in account_rows:
        if row.health.shortfalls:
            roles = [r for item in row.health.shortfalls for r in item.roles]
            found[row.account.id] = {"text": who_to_add(rules, row.health.shortfalls),
                                     "basis": minimum_basis(rules, roles, trust.name),
                                     "asked": [r for r in pending if r.account_id == row.account.id]}
    return found


def _export_name(extension: str, academy_id, central) -> str:
    suffix = "-central" if central else (f"-academy-{academy_id}" if academy_id else "")
    return f"register-{current_user.trust.slug}{suffix}-{utcnow():%Y-%m-%d}.{extension}"


@bp.get("/register.csv")
@require("register:view")
def register_csv():
    """The register as CSV (formula-injection safe)."""
    _scope, academy_id, central, rows = _register_rows(utcnow())
    headers, body = exports.register_table(rows, current_user.trust.rules)
    name = _export_name("csv", academy_id, central)
    note_event("export", now=utcnow(), actor=current_user, target=name, details={"rows": len(body)})
    return Response(exports.to_csv(headers, body), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/register.xlsx")
@require("register:view")
def register_xlsx():
    """The register as an XLSX workbook (dates as date cells, text as strings)."""
    _scope, academy_id, central, rows = _register_rows(utcnow())
    headers, body = exports.register_table(rows, current_user.trust.rules, typed=True)
    name = _export_name("xlsx", academy_id, central)
    note_event("export", now=utcnow(), actor=current_user, target=name, details={"rows": len(body)})
    return Response(exports.to_xlsx(headers, body, title=f"{current_user.trust.short_name} register"),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
                        "Content-Disposition": f'attachment; filename="{name}"'})


# ---- requests ----------------------------------------------------------------------------------------


@bp.get("/requests")
@require("training:take")
def my_requests():
    """The person's own requests and where each one is waiting."""
    return render_template("access/my_requests.html", requests=queries.requests_of(current_user),
                           trust=current_user.trust, current_step=queries.current_step)


def _form_page(template: str, form, rules, code: int, **extra):
    note, note_quotes = _note(rules)
    summary = queries.training_summary(current_user, utcnow())
    return render_template(template, form=form, rules=rules, note=note, note_quotes=note_quotes,
                           summary=summary, form_quotes=queries.quotes(current_user.trust_id, rules.request_form.clauses)
                           if rules.request_form else [], question_field=question_field, **extra), code


@bp.route("/requests/join", methods=["GET", "POST"])
@require("training:take")
def request_join():
    """Ask to become an administrator, moderator or publisher of one of the trust's accounts."""
    trust = current_user.trust
    rules = trust.rules
    form = JoinRequestForm()
    open_accounts = [a for a in queries.accounts_of(trust.id) if a.status != CLOSED]
    form.account.choices = [(0, "Choose an account")] + [
        (a.id, f"{_platform_label(rules, a.platform)}: {a.handle} ({a.owner_name})") for a in open_accounts]
    forbidden = None
    if request.method == "GET" and parse_id(request.args.get("account")):
        form.account.data = parse_id(request.args["account"])
    if request.method == "POST":
        valid = form.validate_on_submit()
        if not valid and _choice_tampered(form, "account", "role"):
            raise bad_request(FOREIGN_CHOICE)
        chosen = (queries.account_in_trust(trust.id, form.account.data) or abort(400)) if valid else None
        outcome = _submit(form, lambda: services.request_join(current_user, chosen, role=form.role.data,
                                                             reason=form.reason.data, now=utcnow()),
                         valid)
        if outcome.done:
            flash("Your request has been sent.", "success")
            return redirect(url_for("access.request_detail", request_id=outcome.result.id))
        forbidden = _forbidden(outcome)
    return _form_page("access/request_join.html", form, rules, 400 if (form.errors or form.form_errors) else 200,
                      forbidden=forbidden)


def _platform_label(rules, key: str) -> str:
    platform = rules.platform(key)
    return platform.label if platform else key


@bp.route("/requests/new-account", methods=["GET", "POST"])
@require("training:take")
def request_new_account():
    """Ask to set up a new account or site; the trust's own form (e.g. TSAT Appendix 2) is part of it."""
    trust = current_user.trust
    rules = trust.rules
    form = with_questions(NewAccountRequestForm, rules.request_form)()
    form.platform.choices = _platform_choices(rules)
    form.owner.choices = _owner_choices()
    if request.method == "GET" and current_user.academy_id:
        form.owner.data = str(current_user.academy_id)
    forbidden = None
    if request.method == "POST":
        valid = form.validate_on_submit()
        if not valid and _choice_tampered(form, "platform", "owner", "role"):
            raise bad_request(FOREIGN_CHOICE)
        if form.platform.data and not form.platform.errors:
            try:  # a forbidden request is refused at once, quoting the clause, whatever else is missing
                services.check_forbidden(trust, platform=form.platform.data, kind="new_account",
                                         role=form.role.data)
            except services.ForbiddenRequest as exc:
                forbidden = exc
                _apply_error(form, exc)
                valid = False
        answers = {item.key: form[question_field(item.key)].data
                   for item in (rules.request_form.fields if rules.request_form else ())}
        outcome = _submit(form, lambda: services.request_new_account(
            current_user, platform=form.platform.data, handle=form.handle.data, academy=_owner(form.owner.data),
            purpose=form.purpose.data, role=form.role.data, reason=form.reason.data, answers=answers,
            now=utcnow()), valid)
        if outcome.done:
            flash("Your request has been sent.", "success")
            return redirect(url_for("access.request_detail", request_id=outcome.result.id))
        forbidden = _forbidden(outcome) or forbidden
    return _form_page("access/request_new_account.html", form, rules,
                      400 if (form.errors or form.form_errors) else 200, forbidden=forbidden)


def _visible_request(request_id: int):
    found = queries.request_in_trust(current_user.trust_id, request_id)
    if found is None or not queries.may_view(current_user, found):
        abort(404)
    return found


def _render_request(found, *, form=None, error: str | None = None, code: int = 200):
    now = utcnow()
    chain = queries.chain_of(found)
    decisions = {d.step: d for d in found.decisions}
    steps = []
    for step in chain:
        steps.append({"step": step, "decision": decisions.get(step.index),
                      "approvers": queries.approvers_for(found, step) if found.status == PENDING else [],
                      "quotes": queries.quotes(found.trust_id, step.clauses)})
    can_decide = queries.may_decide(current_user, found)
    current = queries.current_step(found)
    if form is None and can_decide:
        form = DecisionForm(step=str(found.step))
    requester = found.requester
    discuss = None
    if current is not None and current.requires_training_discussed and requester.line_manager_id == current_user.id:
        discuss = TrainingDiscussedForm(idempotency_key=secrets.token_urlsafe(32), request_id=str(found.id))
    rules = found.account.trust.rules
    team, gate = queries.minimum_gate(found, now)
    trust = found.account.trust
    return render_template(
        "access/request_detail.html", req=found, steps=steps, current=current, can_decide=can_decide, form=form,
        team=team, gate=describe_shortfalls(rules, gate) if gate else None, trust=trust,
        final_step=current is not None and current.index + 1 == len(chain), chain_length=len(chain),
        basis=minimum_basis(rules, [r for r, n in rules.minimums.items() if n], trust.name),
        error=error, summary=queries.training_summary(requester, now), discuss=discuss, rules=rules,
        blockers=queries.approval_blockers(found, current, now) if current is not None else [],
        withdraw=WithdrawForm() if (found.requester_id == current_user.id and found.status == PENDING) else None,
        questions=rules.request_form.fields if rules.request_form else (), now=now), code


@bp.get("/requests/<int:request_id>")
@login_required
def request_detail(request_id: int):
    """A request: the reason, the requester's training and certificate, the chain and each decision."""
    return _render_request(_visible_request(request_id))


@bp.post("/requests/<int:request_id>/decide")
@login_required
def decide(request_id: int):
    """Approve or refuse the step waiting on the approver; a replayed form changes nothing (409)."""
    found = _visible_request(request_id)
    form = DecisionForm()
    if not queries.may_decide(current_user, found):
        if any(d.approver_id == current_user.id for d in found.decisions):
            return _render_request(found, error="This step has already been decided, so nothing was changed.",
                                   code=409)
        abort(403)
    if not form.validate_on_submit() or not (form.approve.data or form.refuse.data):
        if form.step.errors or form.csrf_token.errors:
            raise bad_request("The decision form was incomplete, so nothing was changed. Reload the page and try again.")
        return _render_request(found, form=form, error="Choose approve or refuse.", code=400)
    try:
        outcome = submit(form, lambda: services.decide(current_user, found, step=int(form.step.data),
                                                       approve=bool(form.approve.data), comment=form.comment.data,
                                                       now=utcnow()),
                         validated=True, refusals=services.AccessError, show=_on_comment)
    except IntegrityError:  # a concurrent twin decided the same step first
        return _render_request(found, error="This step has already been decided, so nothing was changed.",
                               code=409)
    if isinstance(outcome.refused, services.StaleDecision):
        return _render_request(found, error=outcome.refused.message, code=409)
    if outcome.refused:
        return _render_request(found, form=form, error=outcome.refused.message, code=400)
    flash("Your decision has been recorded." + (" Access has been granted." if found.status == "approved" else ""),
          "success")
    return redirect(url_for("access.request_detail", request_id=found.id))


@bp.route("/requests/<int:request_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_request(request_id: int):
    """The requester withdraws their own pending request, after a confirmation page."""
    found = queries.request_in_trust(current_user.trust_id, request_id)
    if found is None or found.requester_id != current_user.id:
        abort(404)
    form = WithdrawForm()
    if request.method == "GET":
        if found.status != PENDING:
            return redirect(url_for("access.request_detail", request_id=found.id))
        return render_template("access/withdraw.html", req=found, form=form, trust=current_user.trust)
    if not form.validate_on_submit():
        raise bad_request("The form had expired, so nothing was changed. Reload the page and try again.")
    if submit(form, lambda: services.withdraw(current_user, found, now=utcnow()), validated=True,
              refusals=services.AccessError, show=flash_refusal).done:
        flash("Your request has been withdrawn.", "success")
    return redirect(url_for("access.request_detail", request_id=found.id))


@bp.get("/approvals")
@approver_page
def approvals():
    """Requests waiting for the person's decision, and those they decided recently."""
    return render_template("access/approvals.html", waiting=queries.waiting_on(current_user),
                           decided=queries.decided_by(current_user), trust=current_user.trust,
                           current_step=queries.current_step)


# ---- line manager ------------------------------------------------------------------------------------


@bp.get("/team")
@require("team:view")
def team():
    """The manager's team: each person's training and certificate status, and requests waiting on the manager."""
    now = utcnow()
    people = queries.team_of(current_user)
    pending = queries.pending_requests(current_user.trust_id)
    rows = []
    for person in people:
        rows.append({"person": person, "summary": queries.training_summary(person, now),
                     "requests": [r for r in pending if r.requester_id == person.id],
                     "form": TrainingDiscussedForm(idempotency_key=secrets.token_urlsafe(32))})
    return render_template("access/team.html", rows=rows, waiting=queries.waiting_on(current_user),
                           trust=current_user.trust, may_decide=queries.may_decide, current_step=queries.current_step,
                           now=now)


@bp.post("/team/<int:user_id>/training-discussed")
@login_required
def training_discussed(user_id: int):
    """The line manager records "training discussed" with a member of their team (once; attributed, in the
    ledger), with an optional note."""
    person = queries.report_of(current_user, user_id) or abort(404)
    form = TrainingDiscussedForm()
    linked = None
    if form.request_id.data and (form.request_id.data or "").isdigit():
        linked = queries.request_in_trust(current_user.trust_id, int(form.request_id.data))
        if linked is None or linked.requester_id != person.id:
            raise bad_request(FOREIGN_CHOICE)
    back = url_for("access.request_detail", request_id=linked.id) if linked is not None else url_for("access.team")
    if not form.validate_on_submit():
        if form.note.errors and not (form.csrf_token.errors or form.idempotency_key.errors):
            flash(f"Nothing was recorded: {form.note.errors[0]}", "warning")
            return redirect(back)
        raise bad_request("The form had expired, so nothing was changed. Reload the page and try again.")
    now = utcnow()
    already = queries.discussion_for(person, now)
    try:
        submit(form, lambda: services.record_training_discussed(
            current_user, person, idempotency_key=form.idempotency_key.data, request=linked, note=form.note.data,
            now=now), validated=True, refusals=services.AccessError, show=refusal_is_400)
    except IntegrityError:  # the same form submitted twice at once: the first one counts
        pass
    if already is not None:
        flash(f"Training discussed with {person.name} was already recorded on {format_date(already.created_at)}, "
              "so nothing was changed.", "info")
    else:
        flash(f"Recorded: you discussed training with {person.name}.", "success")
    return redirect(back)
