"""The policy overview and module pages."""

from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from modules.core.capabilities import require
from modules.core.formview import submit
from modules.core.navigation import nav_group, nav_item
from modules.core.timeutil import utcnow
from modules.policies.queries import changes_since
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


@bp.get("/")
@require("training:take")
def home():
    """Where the person stands (due date or lateness, progress, quiz, certificate, what changed) and the modules."""
    version = queries.current_version(current_user.trust_id)
    modules = queries.modules_for(current_user, version) if version else []
    done = sum(1 for m in modules if m.read and m.compulsory)
    total = sum(1 for m in modules if m.compulsory)
    provider = current_app.extensions.get(HOME_STANDING)
    standing = provider(current_user, utcnow()) if provider else None
    return render_template("training/home.html", version=version, modules=modules, done=done, total=total,
                           trust=current_user.trust, standing=standing)


@bp.get("/modules/<int:section_id>")
@require("training:take")
def module(section_id: int):
    """One module: the section's text with its clauses, reading time and previous/next links.

    A module of a version since replaced (an old link, or a clause link in earlier quiz feedback) redirects
    to that version's page, which shows it to the people who signed it and HR, or points to the current one.
    """
    section = queries.section_in_trust(current_user, section_id) or abort(404)
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
    version = queries.current_version(current_user.trust_id) or abort(404)
    return render_template("training/print.html", version=version, sections=version.sections,
                           trust=current_user.trust)


@bp.get("/help")
@require("training:take")
def help():
    """Help with the training, and who to contact in the trust (the trust's HR contact, a trust setting)."""
    return render_template("training/help.html", trust=current_user.trust, contact=current_user.trust.rules.hr_contact)
