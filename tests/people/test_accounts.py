"""Accounts people can recover: forgotten password, change password, the common-password check, argon2 rehash."""

import re
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.people import services
from modules.people.models import LoginSession, PasswordReset, SecurityEvent, User
from tests.conftest import NOW, demo_email
from tests.helpers import csrf_token, sign_in

STAFF = demo_email("staff", "tkat")
NEW_PASSWORD = "violet kettle harbour lantern"


def _user(email: str = STAFF) -> User:
    db.session.rollback()  # end the test's read snapshot, to see what requests committed
    return db.session.scalar(select(User).where(User.email == email))


def _post_form(client, path: str, data: dict):
    page = client.get(path)
    return client.post(path, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})


def _reset_mail(email: str = STAFF) -> OutboxMessage | None:
    db.session.rollback()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == email,
                                                         OutboxMessage.reason.like("password-reset:%"))
                             .order_by(OutboxMessage.id.desc()))


def _events(kind: str, outcome: str | None = None) -> list[SecurityEvent]:
    db.session.rollback()
    query = select(SecurityEvent).where(SecurityEvent.kind == kind)
    if outcome:
        query = query.where(SecurityEvent.outcome == outcome)
    return list(db.session.scalars(query.order_by(SecurityEvent.id)))


# ---- forgotten password ------------------------------------------------------------------------------

def test_forgotten_password_gives_every_address_the_same_answer(client):
    """A known address, an unknown one and a leaver's get byte-identical pages (bar the address); only the known
    active person is emailed a link."""
    leaver = _user(demo_email("office", "tkat"))
    leaver.active = False
    db.session.commit()
    answers = {}
    for email in (STAFF, "nobody@nowhere.example", leaver.email):
        response = _post_form(client, "/forgot-password", {"email": email})
        assert response.status_code == 200
        answers[email] = response.get_data(as_text=True).replace(email, "ADDRESS")
    first, *rest = answers.values()

    def body(html):  # the CSRF token and CSP nonce differ per response; the visible text must not
        main = html[html.index("<main"):html.index("</main>")]
        return main

    assert all(body(other) == body(first) for other in rest)
    assert "Check your email" in first
    assert _reset_mail(STAFF) is not None
    assert _reset_mail("nobody@nowhere.example") is None and _reset_mail(leaver.email) is None
    refused = _events("password-reset-requested", "failure")
    assert {e.details["reason"] for e in refused} == {"unknown address", "leaver or disabled"}


def test_reset_link_works_once_then_says_so_clearly(app, client):
    """The emailed link sets a new password, ends every session, and a second use shows a clear page."""
    signed_in = app.test_client()
    sign_in(signed_in, STAFF)
    _post_form(client, "/forgot-password", {"email": STAFF})
    mail = _reset_mail()
    assert "works once" in mail.body and mail.subject == "Reset your PolicyPass password"
    link = re.search(r"https?://[^/\s]+(/reset-password/\S+)", mail.body).group(1)
    page = client.get(link)
    assert page.status_code == 200 and STAFF in page.get_data(as_text=True)
    response = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    user = _user()
    assert db.session.scalar(select(func.count()).select_from(LoginSession)
                             .where(LoginSession.user_id == user.id)) == 0, "every session ended"
    assert signed_in.get("/").status_code == 302, "the other browser is signed out"
    again = client.get(link)
    assert again.status_code == 400
    assert "This link has expired or has already been used" in again.get_data(as_text=True)
    assert "Sign out" in sign_in(app.test_client(), STAFF, NEW_PASSWORD).get_data(as_text=True)
    assert [e.target_user_id for e in _events("password-reset")] == [user.id]
    notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == STAFF,
                                                           OutboxMessage.reason.like("password-notice:reset:%")))
    assert notice is not None and "was reset" in notice.body


def test_reset_link_expires_and_a_new_one_cancels_nothing_until_used(app, now):
    """A link stops working after its time; using one link cancels the person's other open links."""
    user = _user()
    _, old_token = services.request_password_reset(STAFF, now=now - timedelta(hours=2), max_age=timedelta(hours=1))
    _, first = services.request_password_reset(STAFF, now=now, max_age=timedelta(hours=1))
    _, second = services.request_password_reset(STAFF, now=now, max_age=timedelta(hours=1))
    db.session.commit()
    assert services.find_password_reset(old_token, now=now) is None, "expired"
    assert services.find_password_reset(first, now=now) is not None
    services.reset_password(services.find_password_reset(second, now=now), NEW_PASSWORD, now=now)
    db.session.commit()
    assert services.find_password_reset(first, now=now) is None, "cancelled by the reset"
    assert services.find_password_reset(second, now=now) is None, "used"
    assert user.password_hash and services.authenticate(STAFF, NEW_PASSWORD) is not None


def test_at_most_three_links_an_hour_reach_one_person(app, now):
    """More asks within the hour get the same page but no more email (and a logged refusal)."""
    made = [services.request_password_reset(STAFF, now=now + timedelta(minutes=i), max_age=timedelta(hours=1))
            for i in range(5)]
    db.session.commit()
    assert [m is not None for m in made] == [True, True, True, False, False]
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 3
    later = services.request_password_reset(STAFF, now=now + timedelta(minutes=61), max_age=timedelta(hours=1))
    assert later is not None


def test_forgotten_password_form_is_rate_limited_per_client(app, client):
    """The sixth ask from one client within 15 minutes is refused with the too-many-attempts page, and logged."""
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "5 per 15 minutes"
    statuses = [_post_form(client, "/forgot-password", {"email": f"x{i}@nowhere.example"}).status_code
                for i in range(6)]
    assert statuses == [200] * 5 + [429]
    assert len(_events("sign-in-locked")) == 1


# ---- changing a password ------------------------------------------------------------------------------

def test_change_password_needs_the_current_one_and_ends_other_sessions(app, client):
    """Wrong current password: refused, logged. Right one: changed, this session kept, the others ended."""
    other = app.test_client()
    sign_in(other, STAFF)
    sign_in(client, STAFF)
    wrong = _post_form(client, "/account/password", {"current": "not-my-password", "password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "Your current password is not correct" in wrong.get_data(as_text=True)
    assert _events("password-changed", "failure")
    ok = _post_form(client, "/account/password", {"current": "policypass-demo", "password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200, "this session stays"
    assert other.get("/").status_code == 302, "the other session ended"
    db.session.rollback()
    assert services.authenticate(STAFF, NEW_PASSWORD) is not None
    assert [e.outcome for e in _events("password-changed")] == ["failure", "success"]
    notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == STAFF,
                                                           OutboxMessage.reason.like("password-notice:changed:%")))
    assert notice is not None and "signed out everywhere else" in notice.body


def test_common_passwords_are_refused_everywhere_a_password_is_set(app, client, now):
    """The invitation's set-password page, a reset link and a change all refuse breached, common or personal
    passwords, with a message saying why."""
    from modules.people import importer

    user = _user()
    user.password_hash = None
    db.session.commit()
    with app.test_request_context():
        invite = importer.set_password_token(user)
    page = client.get(f"/set-password/{invite}")
    refused = client.post(f"/set-password/{invite}", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "password": "password123456",
        "confirm": "password123456"})
    assert refused.status_code == 400 and "too common" in refused.get_data(as_text=True)

    _, token = services.request_password_reset(STAFF, now=now, max_age=timedelta(hours=1))
    db.session.commit()
    page = client.get(f"/reset-password/{token}")
    refused = client.post(f"/reset-password/{token}", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "password": "sam.taylor2026!",
        "confirm": "sam.taylor2026!"})
    assert refused.status_code == 400 and "built from your name" in refused.get_data(as_text=True)
    assert services.find_password_reset(token, now=now) is not None, "a refused password does not use the link"

    hr = app.test_client()
    sign_in(hr, demo_email("hr", "tkat"))
    refused = _post_form(hr, "/account/password", {"current": "policypass-demo", "password": "Liverpool2024",
                                                   "confirm": "Liverpool2024"})
    assert refused.status_code == 400 and "too common" in refused.get_data(as_text=True)


def test_password_check_is_offline_and_says_why():
    """zxcvbn's bundled lists: common and personal passwords are refused, a passphrase passes."""
    from modules.people.passwords import password_problem

    person = ["Sam Taylor", STAFF, "The Kemnal Academies Trust", "TKAT"]
    assert "too common" in password_problem("qwertyuiop123", person)
    assert "built from your name" in password_problem("samtaylor1990", person)
    assert "built from your name" in password_problem("Kemnal-Academies-1", person)
    assert password_problem("too short", person) is not None
    assert password_problem(NEW_PASSWORD, person) is None


# ---- argon2 rehash ------------------------------------------------------------------------------------

def test_sign_in_upgrades_a_hash_made_with_older_parameters(app, client):
    """A hash with parameters other than the configured ones is replaced at the next sign-in."""
    user = _user()
    weaker = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("policypass-demo")
    app.config["ARGON2_MEMORY_COST"] = 16
    user.password_hash = weaker
    db.session.commit()
    assert "Sign out" in sign_in(client, STAFF).get_data(as_text=True)
    upgraded = _user().password_hash
    assert upgraded != weaker and "m=16," in upgraded
    assert services.authenticate(STAFF, "policypass-demo") is not None
    again = _user().password_hash
    assert again == upgraded, "no rehash once the parameters match"


def test_reset_tokens_are_stored_only_as_hashes(app, now):
    """The database never holds a usable link: only a sha256 of the token."""
    _, token = services.request_password_reset(STAFF, now=now, max_age=timedelta(hours=1))
    db.session.commit()
    stored = db.session.scalar(select(PasswordReset.id))
    assert token not in stored and len(stored) == 64
    assert NOW  # the fixed clock the services were given
