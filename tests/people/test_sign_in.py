"""Sign-in: argon2id, identical answers for unknown emails, rate limits, server-side sessions."""

import pytest
from sqlalchemy import select

from demo.cast import DEMO_PASSWORD
from modules.core.extensions import db
from modules.people.models import LoginSession, User
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in

STAFF = demo_email("staff", "tkat")


def _form_post(client, email, password):
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def test_demo_staff_signs_in_and_lands_on_their_policy(client):
    page = sign_in(client, STAFF).get_data(as_text=True)
    assert "The Kemnal Academies Trust" in page
    assert "Use of Social Media Policy" in page


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    wrong = _form_post(client, STAFF, "not-the-password")
    unknown = _form_post(client, "nobody@nowhere.example", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    wrong_text, unknown_text = (r.get_data(as_text=True) for r in (wrong, unknown))
    assert "Enter a correct email address and password" in wrong_text
    assert wrong_text.replace(STAFF, "X").count("Enter a correct") == unknown_text.count("Enter a correct")
    assert db.session.scalar(select(LoginSession.id)) is None


def test_passwords_are_argon2id(app):
    user = db.session.scalar(select(User).where(User.email == STAFF))
    assert user.password_hash.startswith("$argon2id$")


def test_production_argon2_parameters():
    """Tests run with cheap parameters; production uses the RFC 9106 second recommendation."""
    from modules.core.config import load_config

    config = load_config({"SECRET_KEY": "x"})
    assert (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"]) == (3, 65536, 4)


def test_copied_cookie_stops_working_after_sign_out(app):
    client = app.test_client()
    sign_in(client, STAFF)
    cookie = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_disabling_a_leaver_ends_their_session(app):
    client = app.test_client()
    sign_in(client, STAFF)
    user = db.session.scalar(select(User).where(User.email == STAFF))
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_next_parameter_only_follows_local_paths(client):
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    from demo.cast import DEMO_PASSWORD

    response = client.post("/sign-in?next=//evil.example/x", data={"email": STAFF, "password": DEMO_PASSWORD,
                                                                   "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_sign_in_without_csrf_token_is_refused(client):
    from demo.cast import DEMO_PASSWORD

    response = client.post("/sign-in", data={"email": STAFF, "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert db.session.scalar(select(LoginSession.id)) is None


@pytest.fixture
def app_config():
    return {"LOGIN_RATE_LIMIT": "3 per minute"}


def test_sign_in_is_rate_limited(client):
    statuses = [_form_post(client, STAFF, "wrong-password").status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    assert "Too many attempts" in _form_post(client, STAFF, "wrong").get_data(as_text=True)


def _write_lock_free(app) -> bool:
    """Whether another connection could take SQLite's write lock right now (without waiting)."""
    import sqlite3

    other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_the_password_is_checked_before_any_write_transaction_opens(app, backend, monkeypatch):
    """Issue 16: argon2 runs while no write lock is held (SQLite: another writer could start; PostgreSQL: the
    transaction has written nothing, so it has no transaction id), and the sign-in then completes."""
    from sqlalchemy import text

    from modules.people import services
    from modules.people.passwords import verify_password

    seen = []

    def spy(password_hash, password):
        if backend == "sqlite":
            seen.append(_write_lock_free(app))
        else:
            seen.append(db.session.scalar(text("SELECT pg_current_xact_id_if_assigned()")) is None)
        return verify_password(password_hash, password)

    if backend == "sqlite":  # the probe is real: it sees a write lock when one is held
        holder = db.engine.raw_connection()
        holder.driver_connection.execute("BEGIN IMMEDIATE")
        assert not _write_lock_free(app)
        holder.driver_connection.execute("ROLLBACK")
        holder.close()
    monkeypatch.setattr(services, "verify_password", spy)
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    db.session.rollback()
    response = client.post("/sign-in", data={"email": STAFF, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert seen == [True]
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == STAFF))
    assert db.session.scalar(select(LoginSession.id).where(LoginSession.user_id == user.id)) is not None


def test_no_password_is_hashed_or_checked_while_a_write_lock_is_held(app, backend, monkeypatch, now):
    """Issue 16: asking again (re-authenticate), changing, resetting and setting a password, and turning two-step
    off all run argon2 with no write lock held, and each still completes."""
    import re
    from datetime import timedelta

    from sqlalchemy import text

    from modules.people import importer, services
    from modules.people.passwords import hash_password, verify_password

    seen: list[tuple[str, bool]] = []

    def lock_free() -> bool:
        if backend == "sqlite":
            return _write_lock_free(app)
        return db.session.scalar(text("SELECT pg_current_xact_id_if_assigned()")) is None

    def spy_verify(password_hash, password):
        seen.append(("verify", lock_free()))
        return verify_password(password_hash, password)

    def spy_hash(password):
        seen.append(("hash", lock_free()))
        return hash_password(password)

    monkeypatch.setattr(services, "verify_password", spy_verify)
    monkeypatch.setattr(services, "hash_password", spy_hash)
    new = "correct horse battery staple"

    def post(client, path, data):
        token = csrf_token(client.get(path).get_data(as_text=True))
        db.session.rollback()
        return client.post(path, data={**data, "csrf_token": token})

    client = app.test_client()
    sign_in(client, STAFF)
    seen.clear()
    assert post(client, "/reauthenticate", {"password": DEMO_PASSWORD}).status_code == 302
    assert seen == [("verify", True)], "re-authenticate"

    seen.clear()
    response = post(client, "/account/password", {"current": DEMO_PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 302 and seen == [("verify", True), ("hash", True)], "change"
    db.session.rollback()
    assert services.authenticate(STAFF, new) is not None

    _, token = services.request_password_reset(STAFF, now=now, max_age=timedelta(hours=1))
    db.session.commit()
    seen.clear()
    reset = post(app.test_client(), f"/reset-password/{token}", {"password": new + " again", "confirm": new + " again"})
    assert reset.status_code == 302 and seen == [("hash", True)], "reset"
    db.session.rollback()
    assert services.find_password_reset(token, now=now) is None, "the link is used"

    user = db.session.scalar(select(User).where(User.email == STAFF))
    user.password_hash = None
    db.session.commit()
    with app.test_request_context():
        invite = importer.set_password_token(user)
    seen.clear()
    done = post(app.test_client(), f"/set-password/{invite}", {"password": new, "confirm": new})
    assert done.status_code == 302 and seen == [("hash", True)], "set from an invitation"
    db.session.rollback()
    assert re.match(r"\$argon2id\$", db.session.get(User, user.id).password_hash)
