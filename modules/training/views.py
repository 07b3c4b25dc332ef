"""The policy overview and module pages."""

from collections.abc import Callable

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from modules.core.capabilities import require
from modules.core.formview import submit
from modules.core.navigation import nav_group, nav_item
from modules.core.timeutil import utcnow
from modules.policies.queries import changes_since, in_audience, register_series, series_by_slug, series_of
from modules.policies.rendering import mark_changed
from modules.training import queries, services
from modules.training.forms import MarkReadForm

bp = Blueprint("training", __name__)
#: Reading, the quiz and acknowledging are one journey: one top entry, with its steps as a sub-navigation.
nav_group("training", "Your training", order=10, endpoint="training.home", subnav=True)
nav_item("Modules", "training.home", "training:take", order=10, group="training",
         hint="Read your trust's policy, one section at a time")


#: Where the app keeps the function giving a person's standing for the home page (see use_home_standing).
HOME_STANDING = "policypass.home_standing"


def use_home_standing(app: Flask, standing: Callable) -> None:
    """Give the home page the person's standing: standing(user, now) -> tracking.standing.StaffStanding.

    Deadlines, acknowledgements and certificates belong to later packages, so modules/wiring.py passes it in.
    """
    app.extensions[HOME_STANDING] = standing


#: The blueprints of the staff journey: their links keep the policy chosen with `?policy=` (see keep_policy).
STAFF_BLUEPRINTS = ("training", "assessments", "attestation")


def chosen_series():
    """The policy a staff page is about, from `?policy=<slug>`: None without one (the register's policy, as every
    older link means); 404 for a slug the person's trust does not have; a clear page (403) for someone outside
    the policy's audience."""
    slug = request.args.get("policy")
    if not slug:
        return None
    series = series_by_slug(current_user.trust_id, slug) or abort(404)
    if not in_audience(series, current_user):
        abort(make_response(render_template("training/not_in_audience.html", series=series,
                                            trust=current_user.trust), 403))
    g.policy_series = series
    return series


@bp.app_url_defaults
def keep_policy(endpoint: str, values: dict) -> None:
    """Links, forms and redirects of the staff journey keep the policy chosen on this page (`?policy=`)."""
    series = g.get("policy_series") if g else None
    if series is not None and "policy" not in values and endpoint.partition(".")[0] in STAFF_BLUEPRINTS:
        values["policy"] = series.slug


def _policies_for(user, now) -> list[tuple]:
    """(series, standing or None, is the register's policy) for every policy whose audience includes the person."""
    provider = current_app.extensions.get(HOME_STANDING)
    register = register_series(user.trust_id)
    return [(s, provider(user, now, s) if provider else None, register is not None and s.id == register.id)
            for s in series_of(user.trust_id) if in_audience(s, user) or (register is not None and s.id == register.id)]


@bp.get("/")
@require("training:take")
def home():
    """Where the person stands (due date or lateness, progress, quiz, certificate, what changed) and the modules;
    with several policies, each one the person must complete, with its own status and link."""
    series = chosen_series()
    version = queries.current_version(current_user.trust_id, series)
    modules = queries.modules_for(current_user, version) if version else []
    done = sum(1 for m in modules if m.read and m.compulsory)
    total = sum(1 for m in modules if m.compulsory)
    provider = current_app.extensions.get(HOME_STANDING)
    now = utcnow()
    standing = (provider(current_user, now, series) if series else provider(current_user, now)) if provider else None
    policies = _policies_for(current_user, now)
    return render_template("training/home.html", version=version, modules=modules, done=done, total=total,
                           trust=current_user.trust, standing=standing, series=series,
                           policies=policies if len(policies) > 1 else [])


def keep_series_of(version) -> None:
    """A page about one version (a module, an attempt) names its policy in its links (its version's series, unless that is the register's)."""
    register = register_series(current_user.trust_id)
    if version.series is not None and (register is None or version.series_id != register.id):
        if not in_audience(version.series, current_user):
            abort(make_response(render_template("training/not_in_audience.html", series=version.series,
                                                trust=current_user.trust), 403))
        g.policy_series = version.series


@bp.get("/modules/<int:section_id>")
@require("training:take")
def module(section_id: int):
    """One module: the section's text with its clauses, reading time and previous/next links.

    A module of a version since replaced (an old link, or a clause link in earlier quiz feedback) redirects
    to that version's page, which shows it to the people who signed it and HR, or points to the current one.
    """
    section = queries.section_in_trust(current_user, section_id) or abort(404)
    keep_series_of(section.version)
    if section.version.status == "superseded":
        return redirect(url_for("attestation.read_version_module", version_id=section.version_id,
                                section_id=section.id))
    if section.version.status != "published":
        abort(404)
    sections = section.version.sections
    index = sections.index(section)
    read = section.id in queries.read_section_ids(current_user, section.version)
    changes = changes_since(section.version)
    changed = changes is not None and section.number in changes.sections
    html = mark_changed(section.html, changes.refs, f"Changed in {section.version.label}") if changed else section.html
    return render_template("training/module.html", section=section, read=read, form=MarkReadForm(),
                           html=html, changed_since=changes.base_label if changed else None,
                           compulsory=queries.is_compulsory(section, current_user.trust),
                           online_form=queries.online_form_for(section, current_user.trust),
                           previous=sections[index - 1] if index > 0 else None,
                           next=sections[index + 1] if index + 1 < len(sections) else None,
                           position=index + 1, total=len(sections))


@bp.post("/modules/<int:section_id>/read")
@require("training:take")
def mark_read(section_id: int):
    """Mark a module as read, then go on to the next one (or back to the overview)."""
    section = queries.section_for_user(current_user, section_id) or abort(404)
    keep_series_of(section.version)
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort(400)
    submit(form, lambda: services.mark_read(current_user, section, now=utcnow()), validated=True)
    flash(f"Module {section.heading} marked as read.", "success")
    sections = section.version.sections
    index = sections.index(section)
    if index + 1 < len(sections):
        return redirect(url_for("training.module", section_id=sections[index + 1].id))
    return redirect(url_for("training.home"))


@bp.get("/policy/print")
@require("training:take")
def print_policy():
    """The whole policy in force on one page, every section in order, laid out for printing or saving as PDF."""
    version = queries.current_version(current_user.trust_id, chosen_series()) or abort(404)
    return render_template("training/print.html", version=version, sections=version.sections,
                           trust=current_user.trust)


@bp.get("/help")
@require("training:take")
def help():
    """Help with the training, and who to contact in the trust (the trust's HR contact, a trust setting)."""
    return render_template("training/help.html", trust=current_user.trust, contact=current_user.trust.rules.hr_contact)
