"""Acknowledge the policy, receipts, monitoring consent, and HR's view and paper-form recording."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from modules.assessments.queries import latest_passed_attempt
from modules.attestation import queries, services
from modules.attestation.forms import (
    AcknowledgeForm,
    GiveConsentForm,
    RecordForm,
    WithdrawConsentForm,
    new_idempotency_key,
    statement_field,
    with_statements,
)
from modules.attestation.models import MEANING_CONSENTED, MEANING_WITHDRAWN
from modules.attestation.statements import statements_digest, statements_for
from modules.core.capabilities import require
from modules.core.extensions import db
from modules.core.navigation import nav_item
from modules.core.timeutil import utcnow
from modules.people.auth import current_login_session
from modules.people.models import User
from modules.policies.models import PolicyVersion
from modules.training.queries import current_version

bp = Blueprint("attestation", __name__)
nav_item("Acknowledge", "attestation.acknowledge", "training:take", order=30)
nav_item("My acknowledgements", "attestation.mine", "certificates:own", order=39)
nav_item("Declines and withdrawals", "attestation.hr_overview", "attestation:record", order=84, group="hr",
         hint="See who declined or withdrew, and record an acknowledgement from a paper form")

#: Links shown above "My acknowledgements" and "My certificates" (only those whose endpoint exists).
RECORDS_NAV = [("attestation.mine", "My acknowledgements"), ("certificates.mine", "My certificates")]


@bp.app_context_processor
def _records_nav():
    """`records_nav`: the personal-records links, for templates/attestation/_records_nav.html."""
    links = [(endpoint, label) for endpoint, label in RECORDS_NAV if endpoint in current_app.view_functions]
    if current_user.is_authenticated and (current_user.trust.setting("monitoring") or {}).get("kind") == "consent":
        links.append(("attestation.consent", "Monitoring consent: see it, or withdraw it"))
    return {"records_nav": links}


def _origin() -> services.Origin:
    live = current_login_session()
    return services.Origin(method=live.method if live else "unknown",
                           authenticated_at=live.authenticated_at if live else None,
                           ip=request.remote_addr, user_agent=request.user_agent.string)


def _reauth_needed(now) -> bool:
    """Whether the sign-in is older than the trust allows before signing."""
    live = current_login_session()
    minutes = int(current_user.trust.setting("reauth_minutes", 30))
    return live is None or live.authenticated_at < now - timedelta(minutes=minutes)


def _reauth():
    flash("Enter your password again before you sign.", "info")
    return redirect(url_for("auth.reauthenticate", next=request.path))


def _current_version_or_404():
    return current_version(current_user.trust_id) or abort(404)


def _apply_error(form, exc: services.AttestationError) -> None:
    """Show a service's refusal on the form: on the field it names, else at the top."""
    if isinstance(exc, services.KeyUsed) and "idempotency_key" in form._fields:
        form.idempotency_key.data = new_idempotency_key()  # so the corrected form can be sent again
    if isinstance(exc, services.NotTicked):
        for key in exc.keys:
            field = form._fields.get(statement_field(key)) or form._fields.get("consent")
            if field is not None:
                field.errors = [*field.errors, "Tick this box to confirm, or choose “I do not agree”"
                                if statement_field(key) in form._fields else "Tick this box to give consent"]
        return
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


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
    done = queries.current_acknowledgement(current_user.id, version.id)
    renewing = done is not None and queries.renewal_attempt(current_user, version, done) is not None
    if done is not None and not renewing and request.method == "GET":
        return redirect(url_for("attestation.receipt", ack_id=done.id))
    if latest_passed_attempt(current_user, version) is None and done is None:
        return render_template("attestation/not_ready.html", version=version,
                               trust=current_user.trust), 200 if request.method == "GET" else 409
    if _reauth_needed(now):
        return _reauth()
    statements = statements_for(current_user.trust, version)
    form = with_statements(AcknowledgeForm, statements)()
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        form.shown_digest.data = statements_digest(statements)
    elif form.validate_on_submit():
        key = form.idempotency_key.data
        try:
            if form.decline.data:
                ack = services.decline(current_user, version, idempotency_key=key, origin=_origin(), now=now)
            else:
                ticked = {s.key for s in statements if form[statement_field(s.key)].data}
                ack = services.acknowledge(current_user, version, ticked=ticked, typed_name=form.full_name.data,
                                           idempotency_key=key, origin=_origin(), now=now,
                                           shown_digest=form.shown_digest.data)
            db.session.commit()
        except services.AttestationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        except IntegrityError:
            ack = _replayed(key, current_user.id)
            return redirect(url_for("attestation.receipt", ack_id=ack.id))
        else:
            return redirect(url_for("attestation.receipt", ack_id=ack.id))
    elif form.idempotency_key.errors or form.shown_digest.errors or form.csrf_token.errors:
        abort(400)
    status = 400 if (form.errors or form.form_errors) else 200
    return render_template("attestation/acknowledge.html", form=form, statements=statements, version=version,
                           trust=current_user.trust, renewing=done if renewing else None), status


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
    return render_template("attestation/receipt.html", ack=ack, entry=queries.ledger_entry(ack),
                           own=ack.user_id == current_user.id)


def _consent_version():
    """The version the person's consent stands on (their latest consent row's, else the current one), if the
    trust asks for monitoring consent; else 404."""
    current = _current_version_or_404()
    if (current_user.trust.setting("monitoring") or {}).get("kind") != "consent":
        abort(404)
    version_id = queries.consent_version_id(current_user)
    if version_id is None or version_id == current.id:
        return current
    version = db.session.get(PolicyVersion, version_id)
    return version if version is not None and version.trust_id == current_user.trust_id else current


@bp.get("/consent")
@require("training:take")
def consent():
    """Monitoring consent: its current state, and withdrawing it (or giving it again) in one step."""
    version = _consent_version()
    state = queries.statement_state(current_user.id, version.id).get("monitoring")
    statement = next(s for s in statements_for(current_user.trust, version) if s.is_consent)
    withdraw = WithdrawConsentForm(idempotency_key=new_idempotency_key())
    give = GiveConsentForm(idempotency_key=new_idempotency_key(), shown_digest=statements_digest([statement]))
    return render_template("attestation/consent.html", state=state, statement=statement, withdraw=withdraw,
                           give=give, version=version, consented=MEANING_CONSENTED, withdrawn=MEANING_WITHDRAWN)


@bp.post("/consent/withdraw")
@require("training:take")
def withdraw_consent():
    """Withdraw monitoring consent: recorded as a new event linked to the consent, and shown to HR."""
    version = _consent_version()
    form = WithdrawConsentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ack = services.withdraw_consent(current_user, version, idempotency_key=form.idempotency_key.data,
                                        origin=_origin(), now=utcnow())
        db.session.commit()
    except services.AttestationError as exc:
        db.session.rollback()
        flash(exc.message, "info")
        return redirect(url_for("attestation.consent"))
    except IntegrityError:
        ack = _replayed(form.idempotency_key.data, current_user.id)
    flash("You have withdrawn your consent to monitoring. Your HR team can see this.", "success")
    return redirect(url_for("attestation.receipt", ack_id=ack.id))


@bp.post("/consent/give")
@require("training:take")
def give_consent():
    """Give monitoring consent again after withdrawing it: tick and sign, as the first time."""
    now = utcnow()
    version = _consent_version()
    if _reauth_needed(now):
        return _reauth()
    form = GiveConsentForm()
    if not form.validate_on_submit():
        abort(400)
    statement = next(s for s in statements_for(current_user.trust, version) if s.is_consent)
    if form.shown_digest.data != statements_digest([statement]):
        abort(400)
    try:
        ack = services.give_consent(current_user, version, ticked=form.consent.data, typed_name=form.full_name.data,
                                    idempotency_key=form.idempotency_key.data, origin=_origin(), now=now)
        db.session.commit()
    except services.AttestationError as exc:
        db.session.rollback()
        _apply_error(form, exc)
        state = queries.statement_state(current_user.id, version.id).get("monitoring")
        return render_template("attestation/consent.html", state=state, statement=statement,
                               withdraw=WithdrawConsentForm(idempotency_key=new_idempotency_key()), give=form,
                               version=version, consented=MEANING_CONSENTED, withdrawn=MEANING_WITHDRAWN), 400
    except IntegrityError:
        ack = _replayed(form.idempotency_key.data, current_user.id)
    return redirect(url_for("attestation.receipt", ack_id=ack.id))


@bp.get("/hr/acknowledgements")
@require("attestation:record")
def hr_overview():
    """HR: declines, withdrawals of consent and paper-form records in the trust."""
    return render_template("attestation/hr_overview.html", records=queries.hr_events(current_user.trust_id),
                           trust=current_user.trust)


@bp.route("/hr/acknowledgements/record", methods=["GET", "POST"])
@require("attestation:record")
def record_paper():
    """HR: record a person's acknowledgement from a signed paper form, flagged as such, with a note."""
    now = utcnow()
    version = _current_version_or_404()
    if _reauth_needed(now):
        return _reauth()
    statements = statements_for(current_user.trust, version)
    form = with_statements(RecordForm, statements)()
    form.person.choices = [(0, "Choose a person")] + [
        (p.id, f"{p.name} ({p.email})") for p in queries.people_of_trust(current_user.trust_id)]
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        form.shown_digest.data = statements_digest(statements)
    elif form.validate_on_submit():
        key = form.idempotency_key.data
        person = db.session.get(User, form.person.data)
        try:
            if form.shown_digest.data != statements_digest(statements):
                raise services.AttestationError("The statements have changed since the page was shown")
            ticked = {s.key for s in statements if form[statement_field(s.key)].data}
            ack = services.record_on_behalf(current_user, person, version, ticked=ticked,
                                            typed_name=form.full_name.data, note=form.note.data,
                                            idempotency_key=key, origin=_origin(), now=now)
            db.session.commit()
        except services.AttestationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        except IntegrityError:
            ack = _replayed(key, current_user.id, actor=True)
            return redirect(url_for("attestation.receipt", ack_id=ack.id))
        else:
            flash(f"Acknowledgement recorded for {person.name} from a paper form.", "success")
            return redirect(url_for("attestation.receipt", ack_id=ack.id))
    elif form.idempotency_key.errors or form.shown_digest.errors or form.csrf_token.errors:
        abort(400)
    elif form.person.errors and form.person.data not in (None, 0):
        abort(400)  # a foreign or unknown id in a submitted form
    status = 400 if (form.errors or form.form_errors) else 200
    return render_template("attestation/record.html", form=form, statements=statements, version=version), status
