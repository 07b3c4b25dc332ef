"""Flask-Login wiring: a user is loaded only while their server-side session row is live and not idle."""

from datetime import datetime, timedelta

from flask import current_app, g, session

from modules.core.extensions import login_manager
from modules.core.timeutil import utcnow
from modules.people.models import LoginSession, User
from modules.people.services import find_session_and_user

#: A session lasts at most this long after sign-in, however active.
SESSION_MAX_AGE = timedelta(hours=12)
SESSION_KEY = "sid"
#: When this cookie last served a request (UTC, ISO 8601), kept in the signed session cookie: each copy of a
#: cookie has its own idle clock, and an old copy can only be older. Refreshed at most once a minute.
SEEN_KEY = "seen"
TOUCH_EVERY = timedelta(minutes=1)

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"


def idle_limit(user: User) -> timedelta:
    """How long the person's session may go without a request (trust rules; shorter for staff managers)."""
    rules = user.trust.rules  # session_idle_minutes, session_idle_minutes_staff_manage (modules/people/rules.py)
    minutes = rules.session_idle_minutes
    if user.can("staff:manage"):
        minutes = min(minutes, rules.session_idle_minutes_staff_manage)
    return timedelta(minutes=minutes)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user named by the cookie, only if the cookie's server-side session is live and not idle."""
    now = utcnow()
    # Every page reads the person's session row, trust (rules, footer), roles and whether they manage anyone
    # (capabilities, navigation): all loaded in one statement here, rather than in four.
    found = find_session_and_user(session.get(SESSION_KEY), now=now, max_age=SESSION_MAX_AGE)
    if found is None or str(found[0].user_id) != user_id:
        return None
    live, user, manages = found
    if not user.active:
        return None
    user.know_reports(manages)
    if user.demo and current_app.config["POLICYPASS_ENV"] == "production":
        return None
    if last_seen(live) < now - idle_limit(user):
        g.idle_session = live.id  # ended (deleted) by the request hook in people.views
        return None
    g.login_session = live
    return user


def last_seen(live: LoginSession) -> datetime:
    """When this browser's session last served a request (its sign-in time if the cookie does not say)."""
    try:
        return max(datetime.fromisoformat(session[SEEN_KEY]), live.authenticated_at)
    except (KeyError, TypeError, ValueError):
        return live.authenticated_at


def current_login_session() -> LoginSession | None:
    """The server-side session of the signed-in user, if any."""
    return g.get("login_session")
