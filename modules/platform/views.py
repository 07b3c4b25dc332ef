"""The platform administrator's pages (trusts, academies, first trust administrator) and the trust
administrator's rules page. Parse, check the capability, call a service, commit once, redirect."""

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from modules.core import formview
from modules.core.capabilities import require
from modules.core.navigation import nav_item
from modules.core.timeutil import utcnow
from modules.platform import services
from modules.platform.forms import CHAIN_ROWS, AcademyForm, InviteAdminForm, RulesForm, TrustForm

bp = Blueprint("platform", __name__, url_prefix="/platform")
#: The trust administrator's rules page sits with the trust's settings.
rules_bp = Blueprint("trust_rules", __name__, url_prefix="/trust")

nav_item("Trusts", "platform.trusts", "platform:manage", order=10, hint="Set up trusts and their academies")
nav_item("Edit rules", "trust_rules.edit", "trust:admin", order=96, group="admin",
         hint="Monitoring, pass mark, certificates, reminders, approval chains and minimums")


@bp.before_app_request
def _platform_home():
    """A platform administrator (who takes no training) starts at the trusts page, not the staff home."""
    if (request.endpoint == "training.home" and current_user.is_authenticated
            and not current_user.can("training:take") and current_user.can("platform:manage")):
        return redirect(url_for("platform.trusts"))
    return None


def _trust_or_404(slug: str):
    return services.school_trust(slug) or abort(404)


@bp.get("/")
@require("platform:manage")
def trusts():
    """Every school trust, with its academies and administrators (never its staff)."""
    rows = [(t, services.invited_admins(t)) for t in services.school_trusts()]
    return render_template("platform/trusts.html", rows=rows)


@bp.route("/trusts/new", methods=["GET", "POST"])
@require("platform:manage")
def new_trust():
    """Create a trust: slug, full and short name."""
    form = TrustForm()
    if request.method == "POST":
        outcome = formview.submit(form, lambda: services.create_trust(
            slug=form.slug.data, name=form.name.data, short_name=form.short_name.data, actor=current_user,
            now=utcnow()), refusals=services.PlatformError)
        if outcome.done:
            flash(f"{outcome.result.name} is set up. Add its academies and invite its administrator.", "success")
            return redirect(url_for("platform.trust", slug=outcome.result.slug))
    return render_template("platform/new_trust.html", form=form), 400 if form.errors or form.form_errors else 200


def _trust_page(trust, academy_form, admin_form, status=200):
    return render_template("platform/trust.html", trust=trust, academy_form=academy_form, admin_form=admin_form,
                           admins=services.invited_admins(trust)), status


@bp.get("/trusts/<slug>")
@require("platform:manage")
def trust(slug: str):
    """One trust: its academies and administrators, with forms to add them."""
    return _trust_page(_trust_or_404(slug), AcademyForm(prefix="academy"), InviteAdminForm(prefix="admin"))


@bp.post("/trusts/<slug>/academies")
@require("platform:manage")
def add_academy(slug: str):
    """Add an academy to the trust."""
    trust = _trust_or_404(slug)
    form = AcademyForm(prefix="academy")
    outcome = formview.submit(form, lambda: services.add_academy(trust, name=form.name.data, actor=current_user,
                                                                 now=utcnow()), refusals=services.PlatformError)
    if outcome.done:
        flash(f"{outcome.result.name} is added to {trust.short_name}.", "success")
        return redirect(url_for("platform.trust", slug=trust.slug))
    return _trust_page(trust, form, InviteAdminForm(prefix="admin", formdata=None), 400)


@bp.post("/trusts/<slug>/administrators")
@require("platform:manage")
def invite_admin(slug: str):
    """Invite the trust's administrator: an account, the role and the set-password email."""
    trust = _trust_or_404(slug)
    form = InviteAdminForm(prefix="admin")
    outcome = formview.submit(form, lambda: services.invite_trust_admin(
        trust, email=form.email.data, name=form.name.data, actor=current_user, now=utcnow()),
        refusals=services.PlatformError)
    if outcome.done:
        flash(f"{outcome.result.name} is invited: we emailed {outcome.result.email} a link to set their password.",
              "success")
        return redirect(url_for("platform.trust", slug=trust.slug))
    return _trust_page(trust, AcademyForm(prefix="academy", formdata=None), form, 400)


# ---- the trust administrator's rules page ----------------------------------------------------------------


#: Plain-number rules on the page, with the form field that names their clauses.
NUMBERS = ("pass_mark", "quiz_questions", "certificate_validity_months", "reminder_days_before", "reminder_repeat_days",
           "minimum_administrators", "minimum_moderators")
SOURCED = ("pass_mark", "quiz_questions", "certificate_validity_months", "minimum_administrators", "minimum_moderators")


def _refs(text: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[,;]", text or "") if part.strip()]


def _number(text: str | None):
    """A whole number typed in a box, or the text as typed, for TrustRules to refuse with its own message."""
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def _approver_choices(trust) -> list[tuple[str, str]]:
    roles = sorted(services.role_scopes(trust))
    labels = {r.key: r.label for r in trust_roles(trust)}
    return ([("", "Nobody (no further step)"), ("relation:line_manager", "The requester's line manager")]
            + [(f"role:{key}", labels.get(key, key)) for key in roles])


def trust_roles(trust):
    """The trust's roles (for their labels)."""
    from sqlalchemy import select

    from modules.core.extensions import db
    from modules.people.models import Role

    return list(db.session.scalars(select(Role).where(Role.trust_id == trust.id).order_by(Role.label)))


def _fill(form: RulesForm, rules) -> None:
    form.monitoring_kind.data = rules.monitoring.kind
    form.monitoring_clauses.data = list(rules.monitoring.clauses)
    for name in NUMBERS:
        form[name].data = str(getattr(rules, name))
    for name in SOURCED:
        form[f"{name}_clauses"].data = ", ".join(rules.source(name))
    form.reminders.data = "yes" if rules.reminders else "no"
    form.register_policy.data = rules.register_policy or ""
    for i in range(CHAIN_ROWS):
        step = rules.approval_chain[i] if i < len(rules.approval_chain) else None
        form[f"step{i}_approver"].data = ("" if step is None else f"relation:{step.relation}" if step.relation
                                          else f"role:{step.role}")
        form[f"step{i}_central_role"].data = (step.central_role or "") if step else ""
        form[f"step{i}_label"].data = step.label if step else ""
        form[f"step{i}_clauses"].data = ", ".join(step.clauses) if step else ""


def _changes(form: RulesForm, rules, settings: dict, names: dict[str, str]) -> dict:
    """The submitted rules as a partial `rules:` mapping (the stored form of anything left as it was)."""
    changes: dict = {}
    monitoring = {"kind": form.monitoring_kind.data or "none"}
    if form.monitoring_clauses.data:
        monitoring["clauses"] = list(form.monitoring_clauses.data)
    changes["monitoring"] = monitoring
    for name in NUMBERS:
        changes[name] = _number(form[name].data)
    changes["reminders"] = form.reminders.data != "no"
    changes["register_policy"] = form.register_policy.data or None
    sources = dict(settings.get("sources") or {})
    for name in SOURCED:
        refs = _refs(form[f"{name}_clauses"].data)
        if refs != list(rules.source(name)):
            if refs:
                sources[name] = refs
            else:
                sources.pop(name, None)
    changes["sources"] = sources or None
    chain = []
    for i in range(CHAIN_ROWS):
        approver = form[f"step{i}_approver"].data or ""
        if not approver:
            continue
        kind, _, value = approver.partition(":")
        step = {"relation" if kind == "relation" else "role": value}
        if form[f"step{i}_central_role"].data:
            step["central_role"] = form[f"step{i}_central_role"].data
        # A step needs a name staff understand: the role's label (or "Line manager") unless one is given.
        step["label"] = (form[f"step{i}_label"].data or "").strip() or names.get(approver, value)
        if _refs(form[f"step{i}_clauses"].data):
            step["clauses"] = _refs(form[f"step{i}_clauses"].data)
        old = rules.approval_chain[i] if i < len(rules.approval_chain) else None
        if old is not None and (old.relation, old.role) == (step.get("relation"), step.get("role")):
            # What the page does not edit stays with the step it belongs to.
            if old.inferred:
                step["inferred"] = old.inferred
            if old.requires_training_discussed:
                step["requires_training_discussed"] = True
        chain.append(step)
    if len(rules.approval_chain) > CHAIN_ROWS:
        chain += [s.as_dict() for s in rules.approval_chain[CHAIN_ROWS:]]
    changes["approval_chain"] = chain or None
    return changes


def _field_for(key: str) -> str | None:
    """The form field a rule's key (as TrustRules names it) is shown on."""
    chain = re.match(r"approval_chain\[(\d+)\](?:\.(\w+))?", key)
    if chain:
        i, part = int(chain.group(1)), chain.group(2) or "role"
        if i >= CHAIN_ROWS:
            return None
        return f"step{i}_" + {"clauses": "clauses", "label": "label", "central_role": "central_role"}.get(
            part, "approver")
    if key.startswith("monitoring"):
        return "monitoring_clauses" if "clauses" in key else "monitoring_kind"
    source = re.match(r"sources\.(\w+)", key)
    if source:
        return f"{source.group(1)}_clauses"
    return key.split(".")[0].split("[")[0]


def _show(form: RulesForm, exc: services.PlatformError) -> None:
    """TrustRules's refusal on the field of the rule it names (else at the top), saying which rule it is."""
    name = _field_for(exc.field or "")
    field = form._fields.get(name) if name else None
    if field is None:
        form.form_errors.append(f"{exc.field}: {exc.message}" if exc.field else exc.message)
        return
    if exc.message[:1].isupper():
        step = re.match(r"(Step \d+): ", field.label.text)
        message = f"{step.group(1)}: {exc.message}" if step else exc.message
    else:
        message = f"{field.label.text} {exc.message}"
    field.errors = [*field.errors, message]


@rules_bp.route("/rules", methods=["GET", "POST"])
@require("trust:admin")
def edit():
    """The trust's rules: monitoring and its clauses, pass mark, quiz size, validity, reminders, approval chain and minimums;
    checked by TrustRules, each change audited in the security log."""
    trust = current_user.trust
    version = services.rules_version(trust)
    clauses = services.clauses_of(version)
    rules = trust.rules
    form = RulesForm()
    form.monitoring_clauses.choices = [(c.ref, f"{c.ref} – {c.text[:110]}{'…' if len(c.text) > 110 else ''}")
                                       for c in clauses]
    approvers = _approver_choices(trust)
    names = {value: ("Line manager" if value == "relation:line_manager" else label) for value, label in approvers}
    central = [("", "The same person")] + [(v.removeprefix("role:"), label) for v, label in approvers
                                           if v.startswith("role:")]
    from modules.policies.queries import series_of

    form.register_policy.choices = [("", "The trust's first policy")] + [
        (s.slug, f"{s.title} ({s.slug})") for s in series_of(trust.id)]
    for i in range(CHAIN_ROWS):
        form[f"step{i}_approver"].choices = approvers
        form[f"step{i}_central_role"].choices = central
    if request.method == "GET":
        _fill(form, rules)
    else:
        outcome = formview.submit(form, lambda: services.change_rules(
            trust, _changes(form, rules, dict(trust.settings or {}), names), actor=current_user, now=utcnow()),
            refusals=services.PlatformError, show=_show)
        if outcome.done:
            changed = outcome.result
            flash(f"Rules saved: {', '.join(changed).replace('_', ' ')}." if changed else "Nothing was changed.",
                  "success")
            return redirect(url_for("trust_rules.edit"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("platform/rules.html", form=form, trust=trust, rules=trust.rules, version=version,
                           clause_text={c.ref: c.text for c in clauses}), status
