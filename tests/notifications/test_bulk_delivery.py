"""A staff import of more people than one delivery batch: every set-password invitation reaches the SMTP sink."""

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.delivery import DEFAULT_LIMIT
from modules.notifications.models import OutboxMessage
from modules.notifications.queue import BATCH
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)
from tests.people.test_import import _apply_fields, _upload, make_csv, person

PEOPLE = max(DEFAULT_LIMIT, BATCH) * 2 + 30


@pytest.fixture
def app_config(smtp_sink):  # noqa: F811
    """Mail goes to the sink, straight after the response (as in production)."""
    return mail_config(smtp_sink)


def _invited(sink) -> list[str]:
    """Recipients of the set-password emails the sink received."""
    return sorted(str(m["To"]) for m in sink.messages
                  if "/set-password/" in m.get_body(("plain",)).get_content())


def _invitations(status: str | None = None) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.reason == "set-password")
    if status:
        query = query.where(OutboxMessage.status == status)
    return db.session.scalar(query)


def test_every_invitation_of_a_large_import_is_sent_after_the_response(app, client, login, smtp_sink):  # noqa: F811
    """230 new people: all 230 invitations go out once the apply response closes, none twice."""
    login("hr", "tkat")
    preview = _upload(client, make_csv([person(n) for n in range(PEOPLE)]))
    assert preview.status_code == 200
    smtp_sink.messages.clear()
    response = client.post("/staff/import/apply", data=_apply_fields(preview.get_data(as_text=True)))
    assert response.status_code == 302
    response.close()  # a WSGI server closes the response once sent; delivery runs then
    assert _invited(smtp_sink) == sorted(f"new{n}@school.example" for n in range(PEOPLE))
    db.session.rollback()
    assert _invitations() == _invitations("sent") == PEOPLE


def test_reminders_run_sends_invitations_a_request_left_behind(app, client, login, smtp_sink):  # noqa: F811
    """Invitations still pending (mail was down after the import) go out with the daily `reminders run`."""
    app.config["MAIL_DELIVERY"] = "none"
    login("hr", "tkat")
    preview = _upload(client, make_csv([person(n) for n in range(PEOPLE)]))
    assert client.post("/staff/import/apply", data=_apply_fields(preview.get_data(as_text=True))).status_code == 302
    db.session.rollback()
    assert _invitations("pending") == PEOPLE and _invited(smtp_sink) == []
    result = app.test_cli_runner().invoke(args=["reminders", "run", "--drain"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert _invitations("sent") == PEOPLE
    assert _invited(smtp_sink) == sorted(f"new{n}@school.example" for n in range(PEOPLE))
