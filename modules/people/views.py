"""Sign-in, sign-out and re-authentication."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from modules.core.extensions import db, limiter
from modules.core.timeutil import utcnow
from modules.people import services
from modules.people.auth import SESSION_KEY, current_login_session
from modules.people.forms import ReauthenticateForm, SignInForm

bp = Blueprint("auth", __name__)

BAD_SIGN_IN = "Enter a correct email address and password"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    """Only follow local paths after sign-in, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("training.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def sign_in():
    """Email and password; an unknown email gets the same answer as a wrong password."""
    if current_user.is_authenticated:
        return redirect(url_for("training.home"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            error = BAD_SIGN_IN
        else:
            token = services.start_session(user, now=utcnow(), method="password", ip=request.remote_addr,
                                           user_agent=request.user_agent.string)
            db.session.commit()
            session.clear()
            session[SESSION_KEY] = token
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if error is None and not form.errors else 400 if form.errors else 401
    return render_template("people/sign_in.html", form=form, error=error), status


@bp.post("/sign-out")
def logout():
    """End the server-side session, so a copy of the cookie stops working too."""
    services.end_session(session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
def reauthenticate():
    """Ask for the password again before a step that needs a recent sign-in."""
    form = ReauthenticateForm()
    error = None
    if form.validate_on_submit():
        if services.authenticate(current_user.email, form.password.data) is None:
            error = "Enter your correct password"
        else:
            services.reauthenticate(current_login_session(), now=utcnow())
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("people/reauthenticate.html", form=form, error=error), 401 if error else 200
