"""/metrics for operators (issue 16 point 7): off without a token, refused without the right one, and the figures
it shows move with the requests answered and the outbox."""

import json
import logging

import pytest

from modules.core.extensions import db
from modules.core.logs import REQUEST_LOGGER
from modules.core.timeutil import utcnow
from modules.notifications.services import queue_email

TOKEN = "a-long-random-metrics-token"


@pytest.fixture
def app_config():
    """Metrics on."""
    return {"METRICS_TOKEN": TOKEN}


def _scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})


def _value(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, (prefix, lines)
    return float(lines[0].rsplit(" ", 1)[1])


def test_metrics_need_the_token(client):
    assert _scrape(client, token=None).status_code == 401
    assert _scrape(client, token="wrong").status_code == 401
    assert _scrape(client).status_code == 200


def test_request_counts_move_with_requests_by_route(client):
    series = 'policypass_requests_total{method="GET",route="/verify",status="200"}'
    before = _scrape(client).get_data(as_text=True)
    start = _value(before, series) if series in before else 0.0
    for _ in range(3):
        assert client.get("/verify").status_code == 200
    after = _scrape(client).get_data(as_text=True)
    assert _value(after, series) == start + 3
    assert 'policypass_request_seconds_bucket{le="+Inf",route="/verify"}' in after


def test_outbox_gauge_reads_the_database(client):
    queue_email(recipient="someone@example.org", reason="test", subject="Hello", body="Hi", now=utcnow())
    db.session.commit()
    text = _scrape(client).get_data(as_text=True)
    assert _value(text, 'policypass_outbox_messages{status="pending"}') >= 1


def test_no_metrics_route_without_a_token(empty_app):
    empty_app.config["METRICS_TOKEN"] = None
    client = empty_app.test_client()
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_each_request_is_one_json_line_with_its_request_id(client):
    logger = logging.getLogger(REQUEST_LOGGER)
    keep = _Keep()
    logger.addHandler(keep)
    try:
        response = client.get("/verify?code=SECRET-IN-QUERY")
    finally:
        logger.removeHandler(keep)
    [record] = [r for r in keep.records if r.path == "/verify"]
    json_handler = next(h for h in logger.handlers if getattr(h, "_policypass_json", False))
    line = json.loads(json_handler.format(record))
    assert line["event"] == "request" and line["status"] == response.status_code and line["method"] == "GET"
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["route"] == "/verify" and line["duration_ms"] >= 0
    assert "SECRET-IN-QUERY" not in json.dumps(line)



def test_the_request_line_names_who_was_signed_in_without_reloading_them(client, login):
    from sqlalchemy import event, select

    from modules.core.logs import _signed_in_id
    from modules.people.models import User
    from tests.conftest import demo_email

    login("staff", "tkat")
    logger = logging.getLogger(REQUEST_LOGGER)
    keep = _Keep()
    logger.addHandler(keep)
    try:
        client.get("/")
    finally:
        logger.removeHandler(keep)
    person = db.session.scalars(select(User).where(User.email == demo_email("staff", "tkat"))).one()
    person_id = person.id
    assert [r.user_id for r in keep.records if r.path == "/"] == [str(person_id)]

    # After a view's commit the person is expired; naming them in the log must not query (a second write lock).
    db.session.expire(person)
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        named = _signed_in_id(person)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert named == str(person_id) and statements == []
    assert _signed_in_id(None) is None
