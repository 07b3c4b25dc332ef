"""Flask-Login wiring: a user is loaded only while their server-side session row exists."""

from datetime import timedelta

from flask import g, session

from modules.core.extensions import db, login_manager
from modules.core.timeutil import utcnow
from modules.people.models import LoginSession, User
from modules.people.services import find_session

#: A session lasts at most this long after sign-in, whatever the cookie says.
SESSION_MAX_AGE = timedelta(hours=12)
SESSION_KEY = "sid"

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user named by the cookie, only if the cookie's server-side session is still live."""
    live = find_session(session.get(SESSION_KEY), now=utcnow(), max_age=SESSION_MAX_AGE)
    if live is None or str(live.user_id) != user_id:
        return None
    user = db.session.get(User, live.user_id)
    g.login_session = live
    return user if user is not None and user.active else None


def current_login_session() -> LoginSession | None:
    """The server-side session of the signed-in user, if any."""
    return g.get("login_session")
