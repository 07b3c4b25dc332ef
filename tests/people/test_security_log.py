"""The security event log: JSON lines with a request id, a stored row per event, and the trust admin's page."""

import io
import json
import logging

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.logs import SECURITY_LOGGER
from modules.people import security
from modules.people.models import SecurityEvent, Trust, User
from tests.conftest import NOW, demo_email
from tests.helpers import csrf_token, sign_in

STAFF = demo_email("staff", "tkat")


@pytest.fixture
def log_lines():
    """What the policypass.security logger writes, parsed, through the app's own JSON formatter."""
    logger = logging.getLogger(SECURITY_LOGGER)
    app_handler = next(h for h in logger.handlers if getattr(h, "_policypass_json", False))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(app_handler.formatter)
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def _events(**where) -> list[SecurityEvent]:
    db.session.rollback()
    query = select(SecurityEvent).order_by(SecurityEvent.id)
    for key, value in where.items():
        query = query.where(getattr(SecurityEvent, key) == value)
    return list(db.session.scalars(query))


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_sign_ins_are_json_lines_and_rows_with_the_request_id(client, log_lines):
    """A refused and an accepted sign-in: one JSON line each with kind, outcome, trust, target and the request
    id that the response carried as X-Request-ID; the refused one is stored although its request commits nothing."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    refused = client.post("/sign-in", data={"email": STAFF, "password": "wrong", "csrf_token": token})
    assert refused.status_code == 401
    accepted = client.post("/sign-in", data={"email": STAFF, "password": "policypass-demo", "csrf_token": token})
    assert accepted.status_code == 302
    ids = [refused.headers["X-Request-ID"], accepted.headers["X-Request-ID"]]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    lines = [line for line in log_lines() if line["event"] == "sign-in"]
    staff = _user(STAFF)
    assert [(line["outcome"], line["request_id"], line["trust_id"], line["target_user_id"]) for line in lines] == [
        ("failure", ids[0], staff.trust_id, staff.id), ("success", ids[1], staff.trust_id, staff.id)]
    assert lines[0]["details"] == {"reason": "wrong password"} and lines[1]["actor_id"] == staff.id
    assert "timestamp" in lines[0] and lines[0]["ip"] == "127.0.0.1"
    rows = _events(kind="sign-in")
    assert [(r.outcome, r.request_id) for r in rows] == [("failure", ids[0]), ("success", ids[1])]


def test_every_response_has_a_request_id(client):
    """Pages, errors and files alike carry X-Request-ID, new each time."""
    seen = {client.get(path).headers.get("X-Request-ID") for path in ("/sign-in", "/healthz", "/no-such-page")}
    assert None not in seen and len(seen) == 3


def test_an_unknown_address_is_logged_without_a_trust(client, log_lines):
    """A sign-in for an address with no account is logged (for the operator) but belongs to no trust's page."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"email": "nobody@nowhere.example", "password": "x", "csrf_token": token})
    (row,) = _events(kind="sign-in")
    assert row.trust_id is None and row.target == "nobody@nowhere.example"
    assert row.details == {"reason": "unknown address"}


def test_exports_and_evidence_packs_are_logged(client, login):
    """HR's dashboard export and evidence pack, and the register export, each leave an event with the file name."""
    login("hr", "tkat")
    assert client.get("/tracking/export/people.csv").status_code == 200
    assert client.get("/tracking/evidence/pack.zip").status_code == 200
    assert client.get("/access/register.csv").status_code == 200
    hr = _user(demo_email("hr", "tkat"))
    exports = _events(kind="export", actor_id=hr.id)
    assert len(exports) == 2 and exports[0].target.endswith(".csv") and exports[1].target.startswith("register-")
    (pack,) = _events(kind="evidence-pack")
    assert pack.actor_id == hr.id and pack.target.endswith(".zip") and pack.details == {"academy": "whole trust"}


def test_unknown_kinds_are_refused(app):
    """Callers must use a declared kind, so the page can label and filter every event."""
    with pytest.raises(security.UnknownEventKind):
        security.record_event("made-up", now=NOW)


def _page(client, **args):
    return client.get("/security/events", query_string=args)


def test_trust_admin_reads_and_filters_their_trusts_events(app, client, login):
    """The page lists the trust's events only, newest first, filtered by kind, outcome, person and dates."""
    other = app.test_client()
    sign_in(other, STAFF)
    sign_in(app.test_client(), STAFF, "wrong password")
    sign_in(app.test_client(), demo_email("staff", "e-act"))
    login("admin", "tkat")
    html = _page(client).get_data(as_text=True)
    assert "Security log" in html and "The Kemnal Academies Trust" in html
    assert "Sam Taylor" in html and "staff@e-act" not in html, "another trust's events never show"

    failed = _page(client, kind="sign-in", outcome="failure").get_data(as_text=True)
    assert failed.count('<tr class="govuk-table__row">') == 2  # the heading row and the one refusal
    assert "wrong password" in failed
    by_person = _page(client, person="taylor").get_data(as_text=True)
    assert "Sam Taylor" in by_person and "Trust administrator" not in by_person
    assert 'id="event-count">2 events' in by_person

    assert "No events match" in _page(client, since=["22", "11", "2026"]).get_data(as_text=True)
    today = _page(client, since=["21", "11", "2026"], until=["21", "11", "2026"]).get_data(as_text=True)
    assert "Sam Taylor" in today


def test_bad_filters_get_a_clear_message(client, login):
    """An impossible date, a reversed range or an unknown kind is a 400 with a message, never a 500."""
    login("admin", "tkat")
    cases = [({"since": ["31", "2", "2026"]}, "Enter the start date as a real date"),
             ({"since": ["2", "11", "2026"], "until": ["1", "11", "2026"]}, "The end date must be the same as"),
             ({"kind": "nonsense"}, "Not a valid choice"),
             ({"since": "5"}, "Enter the start date as a real date"),
             ({"since": ["99999999", "1", "1"]}, "Enter the start date as a real date")]
    for args, message in cases:
        response = _page(client, **args)
        assert response.status_code == 400 and message in response.get_data(as_text=True), args


def test_only_the_trust_admin_may_read_it(client, login):
    """HR (who exports) and the DPO do not hold trust:admin."""
    for person in ("hr", "dpo"):
        login(person, "tkat")
        assert _page(client).status_code == 403


def test_the_page_pages(app, client, login, now):
    """More than a page of events: newest first, with a link to older ones."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    staff = _user(STAFF)
    for n in range(60):
        security.record_event("sign-in", now=now.replace(minute=n % 60), actor=staff, target_user=staff,
                              trust_id=trust.id, details={"n": n})
    db.session.commit()
    login("admin", "tkat")
    first = _page(client, kind="sign-in").get_data(as_text=True)
    assert "page 1 of 2" in first and "Older events" in first
    second = _page(client, kind="sign-in", page="2").get_data(as_text=True)
    assert "page 2 of 2" in second and "Newer events" in second
    assert _page(client, page="99999999999").status_code == 200


def test_a_500_page_quotes_the_request_id(app):
    """Someone reporting a failure can quote the same reference as the server's log lines."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom-for-test", "boom_for_test", boom)
    response = app.test_client().get("/boom-for-test")
    assert response.status_code == 500
    assert f"quote reference {response.headers['X-Request-ID']}" in response.get_data(as_text=True)


def test_erasures_are_logged(app, now):
    """Every lawful erasure of evidence personal data leaves a security event naming the record and the person."""
    from modules.attestation import services as attestation
    from tests.attestation.factories import acknowledge, demo_user

    user = demo_user("staff", "tkat")
    ack = acknowledge(user, now)
    db.session.commit()
    attestation.erase_personal_data(ack, now=now)
    db.session.commit()
    (event,) = _events(kind="erasure")
    assert event.target == f"acknowledgement {ack.id}" and event.target_user_id == user.id
    assert event.trust_id == user.trust_id and event.details["record"] == "acknowledgement"
