"""The DPO's personal data pages: the retention setting, legal holds, and erasure of a leaver's personal data."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from modules.core.capabilities import require
from modules.core.formview import left_to_view, show_on, submit
from modules.core.navigation import nav_item
from modules.core.timeutil import utcnow
from modules.operations import erasure, queries
from modules.operations.forms import EraseForm, FindPersonForm, HoldForm
from modules.people.models import User

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

CAPABILITY = "personal-data:erase"
nav_item("Personal data", "privacy.overview", CAPABILITY, order=96, group="admin",
         hint="Legal holds, the retention period and erasing a leaver's personal data")


def _person(user_id: int) -> User:
    """The person of the signed-in DPO's trust (another trust's id is a 404 for everyone), then the capability."""
    user = queries.person_in_trust(current_user.trust_id, user_id=user_id)
    if user is None:
        abort(404)
    if not current_user.can(CAPABILITY):
        abort(403)
    return user


@bp.get("")
@require(CAPABILITY)
def overview():
    """The trust's retention period, people past it, holds in place, erasures done and refused."""
    trust = current_user.trust
    now = utcnow()
    cutoff = erasure.retention_cutoff(trust.rules, erasure.london_today(now))
    form = FindPersonForm(request.args)
    status = 200
    if request.args:
        if form.validate():
            found = queries.person_in_trust(trust.id, email=form.email.data)
            if found is not None:
                return redirect(url_for("privacy.person", user_id=found.id))
            form.email.errors = [*form.email.errors, "No one in your trust has that email address"]
        status = 400
    return render_template("operations/overview.html", form=form, trust=trust, cutoff=cutoff,
                           months=trust.rules.retention_months_after_leaving,
                           clauses=trust.rules.source("retention_months_after_leaving"),
                           due=queries.past_retention(trust.id, cutoff), holds=queries.holds_in_place(trust.id),
                           erasures=queries.erasures(trust.id), refusals=queries.refused_erasures(trust.id)), status


def _person_page(user: User, hold_form: HoldForm, status: int = 200):
    hold = erasure.active_hold(user)
    hold_form.submit.label.text = "Lift the legal hold" if hold else "Place a legal hold"
    return render_template("operations/person.html", person=user, hold=hold, form=hold_form,
                           erased=erasure.erasure_of(user),
                           refusals=queries.refused_erasures(user.trust_id, user.id)), status


@bp.get("/people/<int:user_id>")
@login_required
def person(user_id: int):
    """One person: whether they are a leaver, under a legal hold or erased; refused erasures; the actions."""
    return _person_page(_person(user_id), HoldForm(formdata=None))


@bp.post("/people/<int:user_id>/hold")
@login_required
def hold(user_id: int):
    """Place a legal hold on the person, or lift the one in place, with a reason."""
    user = _person(user_id)
    form = HoldForm()
    lifting = erasure.active_hold(user) is not None
    act = erasure.lift_hold if lifting else erasure.place_hold
    done = submit(form, lambda: act(user, actor=current_user, reason=form.reason.data, now=utcnow()),
                  refusals=erasure.ErasureError, show=show_on("reason"))
    if done.done:
        flash(f"Legal hold {'lifted from' if lifting else 'placed on'} {user.name}", "success")
        return redirect(url_for("privacy.person", user_id=user.id))
    return _person_page(user, form, 400)


@bp.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
@login_required
def erase_person(user_id: int):
    """Confirm, with the request it answers, then erase the leaver's personal data (refused under a hold)."""
    user = _person(user_id)
    form = EraseForm()
    name = user.name
    done = submit(form, lambda: erasure.erase_person(user, actor=current_user, basis="request",
                                                     reason=form.reason.data, now=utcnow()),
                  refusals=erasure.ErasureError, show=left_to_view)
    if done.done:
        flash(f"The personal data of {name} was erased. They are now shown as {done.result.pseudonym}.",
              "success")
        return redirect(url_for("privacy.person", user_id=user.id))
    if done.refused is not None:
        if getattr(done.refused, "field", None) == "reason":
            form.reason.errors = [*form.reason.errors, done.refused.message]
        else:
            form.form_errors.append(done.refused.message)
    status = 200 if request.method == "GET" else 400
    return render_template("operations/erase.html", person=user, form=form, hold=erasure.active_hold(user),
                           erased=erasure.erasure_of(user)), status
