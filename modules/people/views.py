"""Sign-in (with two-step verification), sign-out, re-authentication, forgotten and changed passwords, the
set-password link, the person's account page, the security event log, and the staff CSV import."""

from datetime import datetime, time, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from modules.core import formview
from modules.core.capabilities import require
from modules.core.database import writing
from modules.core.extensions import db, limiter
from modules.core.inputs import safe_next
from modules.core.links import absolute
from modules.core.navigation import nav_group, nav_item
from modules.core.timeutil import LONDON, utcnow
from modules.core.web import bad_request
from modules.people import importer, mfa, queries, security, services, sso, sso_accounts
from modules.people.auth import SEEN_KEY, SESSION_KEY, TOUCH_EVERY, current_login_session, last_seen
from modules.people.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    ReauthenticateForm,
    RecoveryCodesForm,
    ResetPasswordForm,
    RolesForm,
    SecurityEventFilterForm,
    SetPasswordForm,
    SignInForm,
    StaffImportApplyForm,
    StaffImportForm,
    TwoStepCodeForm,
    TwoStepOffForm,
    TwoStepSetUpForm,
)
from modules.people.models import Role, User
from modules.people.rules import TrustRules

bp = Blueprint("auth", __name__)
#: The signed-in person's own account: password and two-step verification.
account_bp = Blueprint("account", __name__, url_prefix="/account")
#: The trust administrator's view of the security event log.
security_bp = Blueprint("security", __name__, url_prefix="/security")
#: HR's staff list import (a separate blueprint so its URLs sit under /staff).
staff_bp = Blueprint("staff", __name__, url_prefix="/staff")

#: HR's occasional tools share one entry in the top navigation, leading to their hub page (/tools/hr).
nav_group("hr", "HR tools", order=80)
nav_item("Import staff", "staff.import_staff", "staff:manage", order=81, group="hr",
         hint="Upload a staff list from your MIS: preview, then apply")
nav_item("Security log", "security.events", "trust:admin", order=95, group="admin",
         hint="Sign-ins, role changes and exports in your trust")
#: Settings and the security log: one top entry for the trust's administrators (and the DPO).
nav_group("admin", "Trust admin", order=95, subnav=True)

BAD_SIGN_IN = "Enter a correct email address and password"
#: Shown for every address once it has had too many refused sign-ins, whether or not an account has it.
LOCKED_SIGN_IN = ("There have been too many attempts to sign in with this email address. Wait {minutes} minutes, "
                  "then try again, or reset your password.")
SSO_ONLY = ("Your trust signs staff in with single sign-on, not a password: use the button "
            "“Sign in with {label}” below")
#: Kept in the session between the start of a single sign-on and the provider's answer.
SSO_NEXT_KEY, SSO_AGAIN_KEY = "sso_next", "sso_again"
#: Set in the (signed) session cookie between the password step and the code step of a sign-in.
PENDING_KEY = "two_step_pending"
#: Set in the session while a person sets up their authenticator app (the secret their app is given).
SETUP_KEY = "two_step_setup"
#: More wrong codes than this for one person within TWO_STEP_LOCK_WINDOW, and the code step refuses them.
TWO_STEP_MAX_FAILURES = 10
TWO_STEP_LOCK_WINDOW = timedelta(minutes=15)
#: Where a person who must set up two-step verification may still go before they have.
TWO_STEP_EXEMPT_ENDPOINTS = frozenset({"static", "core.healthz", "auth.logout", "account.two_step_setup"})

# Every request's noted security events (refusals, downloads) are stored once it ends.
bp.teardown_app_request(security.store_noted)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _demo_sign_in() -> bool:
    """Demo accounts sign in only outside production configuration (even on a declared demo server)."""
    return current_app.config["POLICYPASS_ENV"] != "production"


@bp.before_app_request
def _end_idle_sessions():
    """End a session idle past its limit for real (its row deleted), and note activity on a live one."""
    if request.endpoint == "static":
        return None
    current_user._get_current_object()  # loads the user (auth.load_user), which spots an idle session
    now = utcnow()
    if g.get("idle_session") is not None:
        db.session.rollback()  # end the read, so the write below takes the lock first (SQLite)
        with writing():
            services.end_session_id(g.pop("idle_session"))
            db.session.commit()
        session.pop(SESSION_KEY, None)
        flash("You were signed out because you had not used PolicyPass for a while. Sign in again.", "info")
    elif (live := current_login_session()) is not None and last_seen(live) < now - TOUCH_EVERY:
        session[SEEN_KEY] = now.isoformat()
    return None


def _safe_next(target: str | None) -> str:
    """Only follow local paths after sign-in, never another site."""
    return safe_next(target) or url_for("training.home")


def _locked_out(_limit) -> None:
    """Flask-Limiter's breach hook on the sign-in forms: log the lockout (the 429 page follows)."""
    email = (request.form.get("email") or "")[:254]
    user = services.find_user(email) if email else None
    if user is None and request.endpoint != "auth.sign_in":
        user = current_user if current_user.is_authenticated else _pending_user()
    security.note_event("sign-in-locked", now=utcnow(), target_user=user, target=email,
                        outcome="failure", details={"form": request.endpoint})


def _start(user: User, *, method: str, next_url: str | None):
    """Start the person's server-side session and go on to where they were going."""
    now = utcnow()
    token = services.start_session(user, now=now, method=method, ip=request.remote_addr,
                                   user_agent=request.user_agent.string)
    security.record_event("sign-in", now=now, actor=user, target_user=user, details={"method": method})
    db.session.commit()
    session.clear()
    session[SESSION_KEY] = token
    session[SEEN_KEY] = now.isoformat()
    login_user(user)
    return redirect(_safe_next(next_url))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=_locked_out)
def sign_in():
    """Email and password; an unknown email gets the same answer as a wrong password. People with two-step
    verification are then asked for a code."""
    if current_user.is_authenticated:
        return redirect(url_for("training.home"))
    form = SignInForm()
    error = locked = None
    if form.validate_on_submit():
        locked = _account_locked(form.email.data)
        user = None if locked else services.authenticate(form.email.data, form.password.data,
                                                         allow_demo=_demo_sign_in())
        if locked:
            error = locked
        elif user is None:
            error = BAD_SIGN_IN
            known = services.find_user(form.email.data)
            security.note_event("sign-in", now=utcnow(), target_user=known, target=form.email.data.strip()[:254],
                                outcome="failure",
                                details={"reason": "leaver or disabled" if known is not None and not known.active
                                         else "wrong password" if known is not None else "unknown address"})
        elif not services.password_allowed(user):
            db.session.rollback()
            error = SSO_ONLY.format(label=user.trust.rules.sso.button_label(user.trust.short_name))
            security.note_event("sign-in", now=utcnow(), target_user=user, target=user.email, outcome="failure",
                                details={"method": "password", "reason": "the trust signs staff in with single "
                                         "sign-on only"})
        elif services.has_two_step(user):
            db.session.commit()  # an upgraded password hash
            session.clear()
            session[PENDING_KEY] = {"user": user.id, "at": utcnow().isoformat(), "next": request.args.get("next")}
            return redirect(url_for("auth.sign_in_code"))
        else:
            return _start(user, method="password", next_url=request.args.get("next"))
    status = 200 if error is None and not form.errors else 400 if form.errors else 429 if error == locked \
        else 401
    return render_template("people/sign_in.html", form=form, error=error, sso_trusts=queries.sso_trusts()), status


def _account_locked(email: str) -> str | None:
    """The lockout message when this address has had `sign_in_lockout_attempts` refused sign-ins within
    `sign_in_lockout_minutes` (trust rules), else None. An address no account has takes the rules of the trust
    whose people share its domain (the defaults if none), so it locks as a real one would. A locked attempt is
    logged as a lockout and not counted as a further failure, so the lock ends on time."""
    known = services.find_user(email)
    trust = known.trust if known is not None else queries.trust_of_domain(email)
    rules = trust.rules if trust is not None else TrustRules()
    now = utcnow()
    window = timedelta(minutes=rules.sign_in_lockout_minutes)
    if queries.sign_in_failures(email, known, since=now - window) < rules.sign_in_lockout_attempts:
        return None
    security.note_event("sign-in-locked", now=now, target_user=known, target=email.strip()[:254], outcome="failure",
                        details={"reason": f"{rules.sign_in_lockout_attempts} or more refused sign-ins in "
                                           f"{rules.sign_in_lockout_minutes} minutes"})
    return LOCKED_SIGN_IN.format(minutes=rules.sign_in_lockout_minutes)


def _pending_user() -> User | None:
    """The person who gave their password and now owes a code, while that is recent enough."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(pending["at"])
        user = db.session.get(User, int(pending["user"]))
    except (KeyError, TypeError, ValueError):
        return None
    fresh = utcnow() - started < timedelta(minutes=current_app.config["TWO_STEP_PENDING_MINUTES"])
    return user if fresh and user is not None and user.active else None


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=_locked_out)
def sign_in_code():
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("training.home"))
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Sign in again: the code must be given within a few minutes of your password.", "info")
        return redirect(url_for("auth.sign_in"))
    form = TwoStepCodeForm()
    error = None
    if form.validate_on_submit():
        now = utcnow()
        if queries.recent_failures(user, "two-step-check", since=now - TWO_STEP_LOCK_WINDOW) >= TWO_STEP_MAX_FAILURES:
            security.note_event("sign-in-locked", now=now, target_user=user, outcome="failure",
                                details={"reason": "too many wrong codes"})
            error = "There have been too many wrong codes. Wait 15 minutes, then sign in again."
        else:
            kind = services.check_second_factor(user, form.code.data, now=now)
            if kind is not None:
                next_url = session.get(PENDING_KEY, {}).get("next")
                if kind == "recovery":
                    flash(f"You used a recovery code. You have {services.unused_recovery_codes(user)} left: "
                          "get new ones from your account page.", "info")
                return _start(user, method="password+" + kind, next_url=next_url)
            security.note_event("two-step-check", now=now, actor=user, target_user=user, outcome="failure")
            error = "Enter the current 6-digit code from your authenticator app, or an unused recovery code"
    status = 200 if error is None and not form.errors else 400 if form.errors else 401
    return render_template("people/sign_in_code.html", form=form, error=error), status


@bp.post("/sign-out")
def logout():
    """End the server-side session, so a copy of the cookie stops working too."""
    live = current_login_session()
    sso_slug = None
    if current_user.is_authenticated:
        security.record_event("sign-out", now=utcnow(), actor=current_user, target_user=current_user)
        if live is not None and live.method == "sso" and current_user.trust.rules.sso:
            sso_slug = current_user.trust.slug
    services.end_session(session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    if sso_slug:
        return redirect(url_for("auth.sso_signed_out", slug=sso_slug))
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.before_app_request
def require_two_step():
    """People whose trust requires two-step verification must set it up before they use anything else."""
    if not current_app.config.get("MFA_ENFORCE") or request.endpoint in TWO_STEP_EXEMPT_ENDPOINTS \
            or request.endpoint is None:
        return None
    if not current_user.is_authenticated or not services.two_step_required(current_user) \
            or services.has_two_step(current_user):
        return None
    live = current_login_session()
    if live is not None and live.method == "sso":
        return None  # signed in through the trust's provider, which does its own multi-factor checks
    flash("Your trust requires two-step verification for your role. Set it up to continue.", "info")
    return redirect(url_for("account.two_step_setup"))


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], on_breach=_locked_out)
def reauthenticate():
    """Ask for the password again before a step that needs a recent sign-in (or, for people who signed in
    through their trust's provider, send them to it again)."""
    live = current_login_session()
    if live is not None and live.method == "lti":  # opened from the LMS: a new launch proves it is them again
        return render_template("people/reauthenticate_lti.html")
    sso_rules = current_user.trust.rules.sso
    if sso_rules and ((live is not None and live.method == "sso") or not services.password_allowed(current_user)
                      or not current_user.password_hash):
        start = url_for("auth.sso_start", slug=current_user.trust.slug, again=1,
                        next=safe_next(request.args.get("next")))
        return render_template("people/reauthenticate_sso.html",
                               label=sso_rules.button_label(current_user.trust.short_name), start=start)
    form = ReauthenticateForm()
    error = None
    if form.validate_on_submit():
        if services.authenticate(current_user.email, form.password.data, allow_demo=_demo_sign_in()) is None:
            error = "Enter your correct password"
            security.note_event("sign-in", now=utcnow(), actor=current_user, target_user=current_user,
                                outcome="failure", details={"reason": "wrong password when asked again"})
        else:
            services.reauthenticate(current_login_session(), now=utcnow())
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("people/reauthenticate.html", form=form, error=error), 401 if error else 200


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def set_password(token: str):
    """A new person sets their password from the one-time link in their invitation email."""
    user = importer.user_for_token(token)
    if user is None:
        return render_template("people/import_set_password.html", form=None, user=None), 400
    form = SetPasswordForm()

    def set_it():
        hashed = services.new_password_hash(user, form.password.data)  # argon2 holding no lock
        if importer.user_for_token(token) is None:  # read again under the lock: used meanwhile
            raise services.PeopleError("This link has already been used. Sign in, or ask HR for a new link")
        services.store_password_hash(user, hashed)
        services.end_all_sessions(user)
        security.record_event("password-set", now=utcnow(), actor=user, target_user=user)

    if formview.submit(form, set_it, refusals=services.PeopleError, show=formview.show_on("password")).done:
        flash("Your password is set. Sign in with your email address and the password you chose.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("people/import_set_password.html", form=form, user=user), 400 if form.errors else 200


# ---- forgotten password ------------------------------------------------------------------------------

@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"], on_breach=_locked_out)
def forgot_password():
    """Ask for a reset link. Every address gets the same answer, so the page tells no one who has an account."""
    form = ForgotPasswordForm()
    now = utcnow()
    max_age = timedelta(minutes=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"])
    asked = formview.submit(form, lambda: services.request_password_reset(form.email.data, now=now, max_age=max_age))
    if asked.done:
        if asked.result is None:
            known = services.find_user(form.email.data)
            if known is None or not known.active:
                security.note_event("password-reset-requested", now=now, target_user=known, outcome="failure",
                                    target=form.email.data.strip()[:254],
                                    details={"reason": "unknown address" if known is None else "leaver or disabled"})
        return render_template("people/forgot_password_sent.html", email=form.email.data.strip(),
                               minutes=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"])
    return render_template("people/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str):
    """Choose a new password from a reset link; the link works once, for a short time."""
    reset = services.find_password_reset(token, now=utcnow())
    if reset is None:
        return render_template("people/reset_password.html", form=None, user=None), 400
    user = db.session.get(User, reset.user_id)
    form = ResetPasswordForm()
    if formview.submit(form, lambda: services.reset_password(reset, form.password.data, now=utcnow()),
                       refusals=services.PeopleError, show=formview.show_on("password")).done:
        logout_user()
        session.clear()
        flash("Your password has been reset. Sign in with your new password.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("people/reset_password.html", form=form, user=user), 400 if form.errors else 200


# ---- single sign-on through the trust's provider ---------------------------------------------------------

def _sso_trust(slug: str):
    """The trust with this slug and its single sign-on rules, else 404."""
    trust = queries.trust_by_slug(slug)
    if trust is None or trust.rules.sso is None:
        abort(404)
    return trust, trust.rules.sso


def _sso_refused(trust, failure: sso.SsoFailure, *, now: datetime):
    """Log a refused single sign-on and show the person what to do; nothing was changed."""
    db.session.rollback()
    security.note_event("sign-in", now=now, trust_id=trust.id, outcome="failure",
                        target_user=current_user if current_user.is_authenticated else None,
                        details={"method": "sso", "reason": failure.reason[:300]})
    return render_template("people/sso_refused.html", trust=trust, message=failure.message,
                           status=failure.status), failure.status


@bp.get("/sign-in/sso/<slug>")
def sso_start(slug: str):
    """Send the person to their trust's identity provider (authorization code flow with PKCE)."""
    trust, rules = _sso_trust(slug)
    again = request.args.get("again") == "1" and current_user.is_authenticated
    if current_user.is_authenticated and not again:
        return redirect(url_for("training.home"))
    try:
        client = sso.client(trust.slug, rules)
        response = sso.authorize_redirect(client, rules, absolute("auth.sso_callback", slug=trust.slug),
                                          again=again)
    except sso.SsoFailure as failure:
        return _sso_refused(trust, failure, now=utcnow())
    session[SSO_NEXT_KEY] = safe_next(request.args.get("next"))
    session[SSO_AGAIN_KEY] = again
    return response


@bp.get("/sign-in/sso/<slug>/callback")
@limiter.limit(_login_limit)
def sso_callback(slug: str):
    """The provider's answer: check it, find (or, the first time, link) the person, and sign them in."""
    trust, rules = _sso_trust(slug)
    now = utcnow()
    next_url, again = session.get(SSO_NEXT_KEY), session.get(SSO_AGAIN_KEY)
    try:
        identity = sso.finish(sso.client(trust.slug, rules), rules)  # network only: no write lock held
        db.session.rollback()
        with writing():
            user = sso_accounts.sso_user(trust, identity, now=now, allow_demo=_demo_sign_in())
            if again and current_user.is_authenticated:
                if user.id != current_user.id:
                    raise sso.SsoFailure("another person confirmed", "You confirmed with a different account "
                                         "from the one signed in to PolicyPass. Use your own account.", 403)
                services.reauthenticate(current_login_session(), now=now)
                db.session.commit()
                return redirect(_safe_next(next_url))
            services.end_session(session.get(SESSION_KEY))  # someone already signed in here is replaced
            return _start(user, method="sso", next_url=next_url)
    except sso.SsoFailure as failure:
        return _sso_refused(trust, failure, now=now)


@bp.get("/sign-in/sso/<slug>/signed-out")
def sso_signed_out(slug: str):
    """After signing out of PolicyPass: offer to sign out at the trust's provider too."""
    trust, rules = _sso_trust(slug)
    end_url = None
    try:
        end_url = sso.end_session_url(sso.client(trust.slug, rules), rules, absolute("auth.sign_in"))
    except sso.SsoFailure:
        pass
    return render_template("people/sso_signed_out.html", trust=trust, label=rules.button_label(trust.short_name),
                           end_url=end_url)


# ---- the person's account ------------------------------------------------------------------------------

@account_bp.get("")
@login_required
def overview():
    """The person's account: their password and two-step verification."""
    return render_template("people/account.html", two_step=services.totp_credential(current_user),
                           required=services.two_step_required(current_user),
                           recovery_left=services.unused_recovery_codes(current_user),
                           codes_form=RecoveryCodesForm())


@account_bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], on_breach=_locked_out)
def change_password():
    """Change the password, giving the current one; the person's other sessions end."""
    form = ChangePasswordForm()
    if formview.submit(form, lambda: services.change_password(current_user, current=form.current.data,
                                                              new=form.password.data, now=utcnow(),
                                                              keep=current_login_session()),
                       refusals=services.PeopleError, show=_password_refusal).done:
        flash("Your password has been changed. You have been signed out on every other device.", "success")
        return redirect(url_for("account.overview"))
    return render_template("people/change_password.html", form=form), 400 if form.errors else 200


def _password_refusal(form, exc: services.PeopleError) -> None:
    """A wrong current password shows on that box (and is logged); anything else on the new password."""
    message = str(exc)
    field = form.current if "current" in message and "different" not in message else form.password
    field.errors = [*field.errors, message]
    if field is form.current:
        security.note_event("password-changed", now=utcnow(), actor=current_user, target_user=current_user,
                            outcome="failure", details={"reason": "wrong current password"})


def _wrong_code(form, exc: services.PeopleError) -> None:
    """A wrong code shows on the code box, and the failed enrolment is logged."""
    formview.show_on("code")(form, exc)
    security.note_event("two-step-enrolled", now=utcnow(), actor=current_user, target_user=current_user,
                        outcome="failure", details={"reason": "wrong code"})


def _setup_secret() -> str:
    """The secret being set up for the signed-in person (kept in their session until they confirm a code)."""
    pending = session.get(SETUP_KEY)
    if isinstance(pending, dict) and pending.get("user") == current_user.id and pending.get("secret"):
        return pending["secret"]
    secret = mfa.new_secret()
    session[SETUP_KEY] = {"user": current_user.id, "secret": secret}
    return secret


@account_bp.route("/two-step/set-up", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], on_breach=_locked_out)
def two_step_setup():
    """Set up an authenticator app: scan the QR code, then confirm with a code; recovery codes are shown once."""
    if services.has_two_step(current_user):
        return redirect(url_for("account.overview"))
    secret = _setup_secret()
    form = TwoStepSetUpForm()
    confirmed = formview.submit(form, lambda: services.confirm_two_step(current_user, secret, form.code.data,
                                                                       now=utcnow()),
                                refusals=services.PeopleError, show=_wrong_code)
    if confirmed.done:
        session.pop(SETUP_KEY, None)
        return render_template("people/recovery_codes.html", codes=confirmed.result, first=True)
    uri = mfa.provisioning_uri(secret, current_user.email)
    return render_template("people/two_step_setup.html", form=form, qr=mfa.qr_svg(uri),
                           secret=mfa.grouped(secret), required=services.two_step_required(current_user)), \
        400 if form.errors else 200


@account_bp.post("/two-step/recovery-codes")
@login_required
def recovery_codes():
    """Replace the recovery codes (the old ones stop working) and show the new ones once."""
    form = RecoveryCodesForm()
    if not form.validate_on_submit():
        raise bad_request("The form had expired. Go back to your account page and try again.")
    if not services.has_two_step(current_user):
        return redirect(url_for("account.overview"))
    issued = formview.submit(form, lambda: services.issue_recovery_codes(current_user, now=utcnow()), validated=True)
    return render_template("people/recovery_codes.html", codes=issued.result, first=False)


@account_bp.route("/two-step/turn-off", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], on_breach=_locked_out)
def two_step_off():
    """Turn two-step verification off with the password (not when the trust requires it for the person's role)."""
    if not services.has_two_step(current_user):
        return redirect(url_for("account.overview"))
    required = services.two_step_required(current_user)
    form = TwoStepOffForm()
    if not required and formview.submit(form, lambda: services.disable_two_step(
            current_user, password=form.password.data, now=utcnow()),
            refusals=services.PeopleError, show=formview.show_on("password")).done:
        flash("Two-step verification is off.", "success")
        return redirect(url_for("account.overview"))
    return render_template("people/two_step_off.html", form=form, required=required), 400 if form.errors else 200


# ---- the security event log ----------------------------------------------------------------------------

def _london_start(day) -> datetime:
    """The UTC time at which a London calendar day starts."""
    from datetime import UTC

    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC).replace(tzinfo=None)


@security_bp.get("/events")
@require("trust:admin")
def events():
    """The trust's security events, newest first, filtered by kind, outcome, person and dates."""
    form = SecurityEventFilterForm(request.args)
    form.kind.choices = [("", "Any"), *security.EVENT_KINDS.items()]
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and len(page) <= 6 and int(page) >= 1 else 1
    valid = form.validate() if request.args else True
    if valid and form.since.data and form.until.data and form.since.data > form.until.data:
        form.until.errors = [*form.until.errors, "The end date must be the same as or after the start date"]
        valid = False
    found = queries.security_events(
        current_user.trust_id, kind=form.kind.data or None, outcome=form.outcome.data or None,
        person=(form.person.data or "").strip() or None,
        since=_london_start(form.since.data) if valid and form.since.data else None,
        until=_london_start(form.until.data + timedelta(days=1)) if valid and form.until.data else None,
        page=page) if valid else None
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "page"}
    return render_template("people/security_events.html", form=form, found=found, labels=security.EVENT_KINDS,
                           page=page, args=args, trust=current_user.trust), 200 if valid else 400


# ---- staff import ------------------------------------------------------------------------------------

#: app.extensions key: how a long import is started in the queue's worker, `start(user=, now=, **params)` returning
#: the job's id (tracking's background jobs, passed in by modules/wiring.py: people cannot import them).
IMPORT_JOB = "policypass_import_job"


def use_import_job(app, start) -> None:
    """Imports of more than STAFF_IMPORT_IN_WORKER rows are applied by `start`'s job, its progress on a page."""
    app.extensions[IMPORT_JOB] = start


def _import_scope() -> set[int] | None:
    return current_user.academy_scope("staff:manage")


def _read_upload(form: StaffImportForm) -> bytes:
    limit = current_app.config["STAFF_IMPORT_MAX_BYTES"]
    return form.file.data.read(limit + 1)


@staff_bp.route("/import", methods=["GET", "POST"])
@require("staff:manage")
def import_staff():
    """Upload a staff CSV; a dry-run preview with every row's problems comes back, nothing is changed yet."""
    form = StaffImportForm()
    if not form.validate_on_submit():
        return render_template("people/import.html", form=form, error=None,
                               headings=importer.HEADINGS), 400 if form.errors else 200
    data = _read_upload(form)
    try:
        plan = importer.plan_import(current_user.trust, data, full=form.full.data, actor=current_user,
                                    allowed_academy_ids=_import_scope())
    except importer.ImportFileError as exc:
        status = 413 if len(data) > current_app.config["STAFF_IMPORT_MAX_BYTES"] else 400
        return render_template("people/import.html", form=form, error=str(exc), headings=importer.HEADINGS), status
    apply_form = StaffImportApplyForm(formdata=None, upload=importer.stash_upload(data, current_user),
                                      fingerprint=plan.fingerprint, full="1" if plan.full else "")
    return render_template("people/import_preview.html", plan=plan, form=apply_form, changed=False)


@staff_bp.post("/import/apply")
@require("staff:manage")
def apply_import():
    """Apply the previewed import: rows without errors are upserted; a full import's absentees leave if confirmed."""
    form = StaffImportApplyForm()
    if not form.validate_on_submit():
        raise bad_request("The import form was not complete. Upload the file again.")
    data = importer.load_upload(form.upload.data, current_user)
    if data is None:
        raise bad_request("That upload has expired or was already imported. Upload the file again.")
    try:
        plan = importer.plan_import(current_user.trust, data, full=form.full.data == "1", actor=current_user,
                                    allowed_academy_ids=_import_scope())
    except importer.ImportFileError as exc:
        raise bad_request(str(exc)) from exc
    if plan.fingerprint != form.fingerprint.data:
        form.fingerprint.data = plan.fingerprint
        return render_template("people/import_preview.html", plan=plan, form=form, changed=True), 409
    if plan.full and plan.leavers and not form.confirm_leavers.data:
        form.confirm_leavers.errors = ["Confirm that the people listed have left, or upload the file again "
                                       "without saying it is the full list"]
        return render_template("people/import_preview.html", plan=plan, form=form, changed=False), 400
    start = current_app.extensions.get(IMPORT_JOB)
    if start is not None and len(plan.good) > current_app.config["STAFF_IMPORT_IN_WORKER"]:
        # Thousands of rows: the worker applies them (in one transaction), and the job page shows how far it is.
        scope = _import_scope()
        job_id = start(user=current_user, now=utcnow(), upload=form.upload.data, fingerprint=plan.fingerprint,
                       full=plan.full, confirm_leavers=bool(form.confirm_leavers.data),
                       academy_ids=sorted(scope) if scope is not None else None)
        return redirect(url_for("tracking.job", job_id=job_id))
    result = importer.apply_import(plan, now=utcnow(), confirm_leavers=bool(form.confirm_leavers.data))
    db.session.commit()
    importer.discard_upload(form.upload.data, current_user)
    flash(f"Import done: {len(result.created)} added, {result.updated} updated, {result.reactivated} returned, "
          f"{result.unchanged} unchanged, {result.left} marked as leavers, {result.skipped} rows with errors "
          "not imported." + (f" {result.not_added} new people could not be added with the email address given: "
                             "check their address with them." if result.not_added else ""), "success")
    return redirect(url_for("staff.import_staff"))


@staff_bp.get("/import/template.csv")
@require("staff:manage")
def import_template():
    """An empty CSV with the expected column headings."""
    body = ",".join(importer.HEADINGS.values()) + "\r\n"
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="staff-import-template.csv"'})


# ---- a person's roles --------------------------------------------------------------------------------

def _person_to_manage(user_id: int) -> User:
    """A person of the signed-in manager's trust and academy scope (else 404), if they may manage staff (403)."""
    user = db.session.get(User, user_id)
    if user is None or user.trust_id != current_user.trust_id:
        abort(404)
    if not current_user.can("staff:manage"):
        abort(403)
    scope = current_user.academy_scope("staff:manage")
    if scope is not None and user.academy_id not in scope:
        abort(404)
    return user


@staff_bp.route("/people/<int:user_id>/roles", methods=["GET", "POST"])
@login_required
def roles(user_id: int):
    """Change a person's roles, checked as the import checks them (people.services.change_roles)."""
    user = _person_to_manage(user_id)
    catalogue = list(db.session.scalars(select(Role).where(Role.trust_id == user.trust_id).order_by(Role.label)))
    form = RolesForm(data={"roles": [a.role.key for a in user.role_assignments]} if request.method == "GET" else None)
    form.roles.choices = [(role.key, role.label) for role in catalogue]
    changed = formview.submit(form, lambda: services.change_roles(current_user, user, form.roles.data or [],
                                                                  source="ui", now=utcnow()),
                              refusals=services.PeopleError, show=formview.show_on("roles"))
    if changed.done:
        flash(f"{user.name}'s roles were saved" if changed.result else "Nothing was changed", "success")
        return redirect(url_for("staff.roles", user_id=user.id))
    cannot = sorted(role.label for role in catalogue if not services.may_assign(current_user, role))
    return render_template("people/roles.html", person=user, form=form, cannot=cannot), 400 if form.errors else 200
