"""Acknowledge the policy, receipts, monitoring consent, and HR's view and paper-form recording."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from modules.assessments.queries import latest_passed_attempt
from modules.attestation import queries, services
from modules.attestation.forms import (
    AcknowledgeForm,
    DeclineForm,
    GiveConsentForm,
    RecordForm,
    WithdrawConsentForm,
    consent_choice,
    new_idempotency_key,
    statement_field,
    with_statements,
)
from modules.attestation.models import MEANING_CONSENT_DECLINED, MEANING_CONSENTED, MEANING_WITHDRAWN
from modules.attestation.settings import setting_groups
from modules.attestation.statements import (
    acknowledged_statements,
    asks_consent,
    consent_is_condition,
    consent_statement,
    implied_consent,
    implied_consent_clauses,
    statements_digest,
    statements_for,
)
from modules.core.capabilities import require
from modules.core.extensions import db
from modules.core.formview import submit
from modules.core.navigation import nav_group, nav_item
from modules.core.timeutil import utcnow
from modules.people.auth import current_login_session
from modules.people.models import User
from modules.people.queries import role_labels
from modules.policies.models import PolicyVersion, Section
from modules.policies.queries import superseding_version, version_in_trust
from modules.training.queries import current_version
from modules.training.views import chosen_series

bp = Blueprint("attestation", __name__)
nav_item("Acknowledge", "attestation.acknowledge", "training:take", order=30, group="training",
         hint="Sign that you have read and will follow the policy")
#: What a person has signed and been given: one top entry.
nav_group("records", "My records", order=39, subnav=True)
nav_item("My acknowledgements", "attestation.mine", "certificates:own", order=39, group="records",
         hint="Every decision recorded for you, each with its receipt")
nav_item("Declines and withdrawals", "attestation.hr_overview", "attestation:record", order=84, group="hr",
         hint="See who declined or withdrew, and record an acknowledgement from a paper form")
nav_item("Monitoring consent", "attestation.consent_decisions", "consent:view", order=85, group="hr",
         hint="Who gave, declined or withdrew consent to monitoring, when, and why", when=lambda u: asks_consent(u.trust))
nav_item("Trust settings", "attestation.trust_settings", "settings:view", order=95, group="admin",
         hint="The rules your trust runs PolicyPass with, each with its clause or labelled a trust setting")

#: Links shown above "My acknowledgements" and "My certificates" (only those whose endpoint exists).
RECORDS_NAV = [("attestation.mine", "My acknowledgements"), ("certificates.mine", "My certificates")]


@bp.app_context_processor
def _records_nav():
    """`records_nav`: the personal-records links, for templates/attestation/_records_nav.html."""
    links = [(endpoint, label) for endpoint, label in RECORDS_NAV if endpoint in current_app.view_functions]
    if current_user.is_authenticated and asks_consent(current_user.trust):
        links.append(("attestation.consent", "Monitoring consent: see it, give it or withdraw it"))
    return {"records_nav": links}


def _origin() -> services.Origin:
    live = current_login_session()
    return services.Origin(method=live.method if live else "unknown",
                           authenticated_at=live.authenticated_at if live else None,
                           ip=request.remote_addr, user_agent=request.user_agent.string)


def _reauth_needed(now) -> bool:
    """Whether the sign-in is older than the trust allows before signing."""
    live = current_login_session()
    minutes = current_user.trust.rules.reauth_minutes
    return live is None or live.authenticated_at < now - timedelta(minutes=minutes)


def _reauth():
    flash("Enter your password again before you sign.", "info")
    return redirect(url_for("auth.reauthenticate", next=request.path))


def _current_version_or_404():
    return current_version(current_user.trust_id, chosen_series()) or abort(404)


def _apply_error(form, exc: services.AttestationError) -> None:
    """Show a service's refusal on the form: on the field it names, else at the top."""
    if isinstance(exc, services.KeyUsed) and "idempotency_key" in form._fields:
        form.idempotency_key.data = new_idempotency_key()  # so the corrected form can be sent again
    if isinstance(exc, services.NotTicked):
        for key in exc.keys:
            field = form._fields.get(statement_field(key)) or form._fields.get("consent")
            if field is not None:
                field.errors = [*field.errors, "Tick this box to confirm, or choose “I do not agree”"
                                if statement_field(key) in form._fields else "Tick the box to give consent"]
        return
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def _submit(form, action, valid: bool):
    """The shared form-view helper with attestation's refusals shown on the form (see _apply_error)."""
    return submit(form, action, validated=valid, refusals=services.AttestationError, show=_apply_error)


def _replayed(key: str, owner_id: int, actor: bool = False):
    """After a unique-key race: the record the other request made, or 409."""
    db.session.rollback()
    ack = queries.by_idempotency_key(key)
    if ack is None or (ack.actor_id if actor else ack.user_id) != owner_id:
        abort(409)
    return ack


@bp.route("/acknowledge", methods=["GET", "POST"])
@require("training:take")
def acknowledge():
    """The statements to tick, the typed name, and acknowledge or decline; open after a passed quiz."""
    now = utcnow()
    version = _current_version_or_404()
    attempt = latest_passed_attempt(current_user, version)
    # A submission needs the standing decision only to show the form again; the service reads it under the lock.
    done = (queries.current_acknowledgement(current_user.id, version.id)
            if request.method == "GET" or attempt is None else None)
    renewing = queries.renews(done, attempt)
    if done is not None and not renewing and request.method == "GET":
        return redirect(url_for("attestation.receipt", ack_id=done.id))
    if attempt is None and done is None:
        return render_template("attestation/not_ready.html", version=version,
                               trust=current_user.trust), 200 if request.method == "GET" else 409
    if _reauth_needed(now):
        return _reauth()
    statements = statements_for(current_user.trust, version)
    consent = consent_statement(statements)
    standing = queries.statement_state(current_user.id, version.id).get("monitoring") if consent else None
    ask_consent = consent is not None and (standing is None or (consent_is_condition(current_user.trust)
                                                                and standing.meaning != MEANING_CONSENTED))
    form = with_statements(AcknowledgeForm, statements, consent_question=ask_consent)()
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        form.shown_digest.data = statements_digest(statements)
    else:
        valid = form.validate_on_submit()
        if not valid and (form.idempotency_key.errors or form.shown_digest.errors or form.csrf_token.errors):
            abort(400)
        key = form.idempotency_key.data

        if form.decline.data:  # "I do not agree" asks for confirmation first; nothing is recorded yet
            return redirect(url_for("attestation.decline"), 303)

        def decide() -> int:
            ticked = {s.key for s in acknowledged_statements(statements) if form[statement_field(s.key)].data}
            return services.acknowledge(current_user, version, ticked=ticked, typed_name=form.full_name.data,
                                        idempotency_key=key, origin=_origin(), now=now,
                                        shown_digest=form.shown_digest.data,
                                        consent=consent_choice(form.consent.data) if ask_consent else None).id

        try:
            outcome = _submit(form, decide, valid)
        except IntegrityError:
            return redirect(url_for("attestation.receipt", ack_id=_replayed(key, current_user.id).id))
        if outcome.done:  # the record's id, taken before the commit: reading it after would begin a transaction
            return redirect(url_for("attestation.receipt", ack_id=outcome.result))
    if request.method != "GET":
        done = queries.current_acknowledgement(current_user.id, version.id)
        renewing = queries.renews(done, attempt)
    status = 400 if (form.errors or form.form_errors) else 200
    return render_template("attestation/acknowledge.html", form=form, statements=statements, version=version,
                           trust=current_user.trust, renewing=done if renewing else None,
                           consent=consent, ask_consent=ask_consent, standing=standing,
                           **_consent_context(current_user.trust, consent)), status


@bp.route("/acknowledge/decline", methods=["GET", "POST"])
@require("training:take")
def decline():
    """Confirm "I do not agree" before it is recorded (a confirmation page, not a one-click decline)."""
    now = utcnow()
    version = _current_version_or_404()
    done = queries.current_acknowledgement(current_user.id, version.id)
    if done is not None and done.decision == "acknowledged":  # a renewal is never declined
        return redirect(url_for("attestation.receipt", ack_id=done.id))
    if latest_passed_attempt(current_user, version) is None and done is None:
        return render_template("attestation/not_ready.html", version=version,
                               trust=current_user.trust), 200 if request.method == "GET" else 409
    form = DeclineForm()
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        return render_template("attestation/decline.html", form=form, version=version, trust=current_user.trust)
    valid = form.validate_on_submit()
    if not valid:
        abort(400)
    if _reauth_needed(now):
        return _reauth()
    key = form.idempotency_key.data
    try:
        outcome = _submit(form, lambda: services.decline(current_user, version, idempotency_key=key,
                                                         origin=_origin(), now=now).id, valid)
    except IntegrityError:
        return redirect(url_for("attestation.receipt", ack_id=_replayed(key, current_user.id).id))
    if outcome.done:
        return redirect(url_for("attestation.receipt", ack_id=outcome.result))
    for message in form.form_errors or [e for errors in form.errors.values() for e in errors]:
        flash(message, "warning")
    return redirect(url_for("attestation.acknowledge"))


@bp.get("/acknowledgements")
@require("certificates:own")
def mine():
    """My acknowledgements: every decision recorded for me, each with its receipt."""
    return render_template("attestation/mine.html", records=queries.for_person(current_user))


@bp.get("/acknowledgements/<int:ack_id>")
@require("certificates:own")
def receipt(ack_id: int):
    """The receipt of one acknowledgement: what was signed, when, how, and its ledger entry."""
    ack = queries.receipt_for(current_user, ack_id) or abort(404)
    consent_record = (queries.consent_decision_of(ack.user_id, ack.version_id)
                      if ack.decision == "acknowledged" and asks_consent(current_user.trust) else None)
    return render_template("attestation/receipt.html", ack=ack, entry=queries.ledger_entry(ack),
                           own=ack.user_id == current_user.id, consent_record=consent_record)


def _consent_context(trust, statement) -> dict:
    """What the consent pages say besides the statement: who to ask (a trust setting), whether consent is a
    condition, and the phrases of the quoted clauses that treat acknowledgement or use as consent."""
    implied = [(ref, phrase) for ref, body in (statement.quotes if statement else ()) for phrase in implied_consent(body)]
    return {"consent_contact": trust.rules.consent_contact,
            "consent_condition": consent_is_condition(trust), "implied": implied}


def _consent_version():
    """The version the person's consent stands on (their latest consent row's, else the current one), if the
    trust asks for monitoring consent; else 404."""
    current = _current_version_or_404()
    if not asks_consent(current_user.trust):
        abort(404)
    version_id = queries.consent_version_id(current_user)
    if version_id is None or version_id == current.id:
        return current
    version = db.session.get(PolicyVersion, version_id)
    return version if version is not None and version.trust_id == current_user.trust_id else current


def _consent_page(version, give=None, status: int = 200):
    state = queries.statement_state(current_user.id, version.id).get("monitoring")
    statement = consent_statement(statements_for(current_user.trust, version))
    give = give or GiveConsentForm(idempotency_key=new_idempotency_key(), shown_digest=statements_digest([statement]))
    return render_template("attestation/consent.html", state=state, statement=statement, give=give,
                           version=version, consented=MEANING_CONSENTED, withdrawn=MEANING_WITHDRAWN,
                           declined=MEANING_CONSENT_DECLINED,
                           **_consent_context(current_user.trust, statement)), status


@bp.get("/consent")
@require("training:take")
def consent():
    """Monitoring consent: what it covers, its current state, and withdrawing it or giving it."""
    return _consent_page(_consent_version())


@bp.route("/consent/withdraw", methods=["GET", "POST"])
@require("training:take")
def withdraw_consent():
    """Withdraw monitoring consent: a confirmation page with an optional reason; recorded as a new event linked
    to the consent, effective from its time, and HR and the DPO are told."""
    version = _consent_version()
    state = queries.statement_state(current_user.id, version.id).get("monitoring")
    form = WithdrawConsentForm()
    if request.method == "GET":
        if state is None or state.meaning != MEANING_CONSENTED:
            flash("You have no monitoring consent to withdraw.", "info")
            return redirect(url_for("attestation.consent"))
        form.idempotency_key.data = new_idempotency_key()
        return render_template("attestation/withdraw.html", form=form, state=state, version=version)
    if not form.validate_on_submit():
        if form.idempotency_key.errors or form.csrf_token.errors:
            abort(400)
        return render_template("attestation/withdraw.html", form=form, state=state, version=version), 400
    try:
        outcome = _submit(form, lambda: services.withdraw_consent(
            current_user, version, idempotency_key=form.idempotency_key.data, origin=_origin(), now=utcnow(),
            reason=form.reason.data), True)
    except IntegrityError:
        ack = _replayed(form.idempotency_key.data, current_user.id)
    else:
        if outcome.refused is not None and outcome.refused.field == "reason":
            return render_template("attestation/withdraw.html", form=form, state=state, version=version), 400
        if outcome.refused is not None:
            flash(outcome.refused.message, "info")
            return redirect(url_for("attestation.consent"))
        ack = outcome.result
    flash("You have withdrawn your consent to monitoring, with effect from now. Your HR team and Data "
          "Protection Officer can see this.", "success")
    return redirect(url_for("attestation.receipt", ack_id=ack.id))


@bp.post("/consent/give")
@require("training:take")
def give_consent():
    """Give monitoring consent after declining or withdrawing it: tick and sign."""
    now = utcnow()
    version = _consent_version()
    if _reauth_needed(now):
        return _reauth()
    form = GiveConsentForm()
    if not form.validate_on_submit():
        abort(400)
    statement = consent_statement(statements_for(current_user.trust, version))
    if form.shown_digest.data != statements_digest([statement]):
        abort(400)
    try:
        outcome = _submit(form, lambda: services.give_consent(
            current_user, version, ticked=form.consent.data, typed_name=form.full_name.data,
            idempotency_key=form.idempotency_key.data, origin=_origin(), now=now), True)
    except IntegrityError:
        ack = _replayed(form.idempotency_key.data, current_user.id)
    else:
        if not outcome.done:
            return _consent_page(version, give=form, status=400)
        ack = outcome.result
    return redirect(url_for("attestation.receipt", ack_id=ack.id))


@bp.get("/hr/consent")
@require("consent:view")
def consent_decisions():
    """HR and the DPO: every monitoring-consent decision (given, declined, withdrawn) with its time and reason,
    and each person's standing decision; only in trusts whose rules ask for consent."""
    if not asks_consent(current_user.trust):
        abort(404)
    events = queries.consent_events(current_user.trust_id)
    standing = queries.standing_consent(events)
    counts = {decision: sum(1 for e in standing.values() if e.decision == decision)
              for decision in ("consent given", "consent declined", "consent withdrawn")}
    return render_template("attestation/consent_decisions.html", events=events, standing=standing,
                           counts=counts, trust=current_user.trust)


@bp.get("/trust/settings")
@require("settings:view")
def trust_settings():
    """The trust's rules, read-only, each with its clause or labelled a trust setting; with a note for the DPO
    where the policy's consent clause treats use or acknowledgement as consent."""
    trust = current_user.trust
    version = current_version(trust.id)
    monitoring = trust.rules.monitoring
    statements = statements_for(trust, version) if version is not None else []
    quoted = next((s for s in statements if s.key == "monitoring"), None)
    implied = implied_consent_clauses(version) if version is not None else []
    return render_template("attestation/trust_settings.html", trust=trust, version=version, monitoring=monitoring,
                           quoted=quoted, implied=implied, consent_condition=consent_is_condition(trust),
                           consent_contact=trust.rules.consent_contact,
                           setting_groups=setting_groups(trust.rules, role_labels(trust.id)))


@bp.get("/hr/acknowledgements")
@require("attestation:record")
def hr_overview():
    """HR: declines, withdrawals of consent and paper-form records in the trust."""
    return render_template("attestation/hr_overview.html", records=queries.hr_events(current_user.trust_id),
                           trust=current_user.trust, asks_consent=asks_consent(current_user.trust))


@bp.route("/hr/acknowledgements/record", methods=["GET", "POST"])
@require("attestation:record")
def record_paper():
    """HR: record a person's acknowledgement from a signed paper form, flagged as such, with a note."""
    now = utcnow()
    version = _current_version_or_404()
    if _reauth_needed(now):
        return _reauth()
    statements = statements_for(current_user.trust, version)
    consent = consent_statement(statements)
    form = with_statements(RecordForm, statements, consent_question=consent is not None, paper=True)()
    form.person.choices = [(0, "Choose a person")] + [
        (p.id, f"{p.name} ({p.email})") for p in queries.people_of_trust(current_user.trust_id)]
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        form.shown_digest.data = statements_digest(statements)
    else:
        valid = form.validate_on_submit()
        if not valid and (form.idempotency_key.errors or form.shown_digest.errors or form.csrf_token.errors):
            abort(400)
        if not valid and form.person.errors and form.person.data not in (None, 0):
            abort(400)  # a foreign or unknown id in a submitted form
        key = form.idempotency_key.data
        person = db.session.get(User, form.person.data) if valid else None

        def record():
            if form.shown_digest.data != statements_digest(statements):
                raise services.AttestationError("The statements have changed since the page was shown")
            ticked = {s.key for s in acknowledged_statements(statements) if form[statement_field(s.key)].data}
            return services.record_on_behalf(current_user, person, version, ticked=ticked,
                                             typed_name=form.full_name.data, note=form.note.data,
                                             idempotency_key=key, origin=_origin(), now=now,
                                             consent=consent_choice(form.consent.data) if consent else None)

        try:
            outcome = _submit(form, record, valid)
        except IntegrityError:
            return redirect(url_for("attestation.receipt", ack_id=_replayed(key, current_user.id, actor=True).id))
        if outcome.done:
            flash(f"Acknowledgement recorded for {person.name} from a paper form.", "success")
            return redirect(url_for("attestation.receipt", ack_id=outcome.result.id))
    status = 400 if (form.errors or form.form_errors) else 200
    return render_template("attestation/record.html", form=form, statements=statements, version=version,
                           consent=consent, **_consent_context(current_user.trust, consent)), status


# ---- reading a version -------------------------------------------------------------------------------


def _to_current(version: PolicyVersion, section: Section | None):
    """Someone who may not read an old version is sent to the current one, with a notice saying so."""
    current = current_version(current_user.trust_id)
    match = next((s for s in current.sections if section is not None and s.number == section.number), None) \
        if current else None
    flash(f"The link you followed was to {version.label} of the policy, which has been replaced"
          + (f" by {current.label}" if current else "") + ". "
          + ("This is the same module in the current version." if match else "This is your current training."),
          "info")
    if match is not None:
        return redirect(url_for("training.module", section_id=match.id))
    return redirect(url_for("training.home"))


def _version_page(version: PolicyVersion, sections: list[Section], section: Section | None = None):
    return render_template("attestation/version_text.html", version=version, sections=sections, section=section,
                           signed_at=queries.first_signed_at(current_user, version),
                           replaced_by=superseding_version(version), current=current_version(version.trust_id))


@bp.get("/policy/versions/<int:version_id>")
@login_required
def read_version(version_id: int):
    """The whole text of a published version: the one in force, one the person signed, or any (HR)."""
    version = version_in_trust(current_user.trust_id, version_id) or abort(404)
    if version.status == "draft":
        abort(404)
    if not queries.may_read_version(current_user, version):
        return _to_current(version, None)
    return _version_page(version, version.sections)


@bp.get("/policy/versions/<int:version_id>/modules/<int:section_id>")
@login_required
def read_version_module(version_id: int, section_id: int):
    """One module of a published version as it was (where old module and clause links lead)."""
    version = version_in_trust(current_user.trust_id, version_id) or abort(404)
    section = db.session.get(Section, section_id)
    if version.status == "draft" or section is None or section.version_id != version.id:
        abort(404)
    if version.status == "published" and current_user.can("training:take"):
        return redirect(url_for("training.module", section_id=section.id))
    if not queries.may_read_version(current_user, version):
        return _to_current(version, section)
    return _version_page(version, [section], section)
