"""Email that cannot be poisoned: line breaks are refused at the forms, headers are built by the email library,
and one message that cannot be sent is marked failed while the rest of the batch is delivered."""

import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SearchField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.fields.core import UnboundField

import modules
from modules.core.extensions import db
from modules.core.inputs import SingleLine
from modules.notifications.delivery import send_pending
from modules.notifications.models import OutboxMessage
from modules.notifications.services import queue_email
from tests.access.test_views import _client, _post
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)

SINGLE_LINE_FIELDS = (StringField, EmailField, SearchField, TelField, URLField)


def _form_classes():
    for info in pkgutil.walk_packages(modules.__path__, "modules."):
        if info.name.endswith(".forms"):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__:
                    yield cls


def _unchecked(cls) -> list[str]:
    missing = []
    for name in dir(cls):
        field = getattr(cls, name, None)
        if isinstance(field, UnboundField) and issubclass(field.field_class, SINGLE_LINE_FIELDS) \
                and not issubclass(field.field_class, (PasswordField, TextAreaField, HiddenField)):
            validators = field.kwargs.get("validators") or (field.args[1] if len(field.args) > 1 else [])
            if not any(isinstance(v, SingleLine) for v in validators):
                missing.append(f"{cls.__module__}.{cls.__name__}.{name}")
    return missing


def test_every_single_line_field_refuses_control_characters():
    """Every StringField/EmailField of every form carries the shared SingleLine validator (modules/core).

    Text areas may hold line breaks (they never reach a header); hidden fields carry their own patterns."""
    classes = list(_form_classes())
    assert len(classes) > 10
    assert [m for cls in classes for m in _unchecked(cls)] == []


def test_trust_request_form_questions_are_single_line_too(app):
    from modules.access.forms import NewAccountRequestForm, with_questions
    from tests.certificates.factories import demo_user

    spec = demo_user("staff", "tsat").trust.rules.request_form
    assert spec is not None and any(item.type == "text" for item in spec.fields)
    assert _unchecked(with_questions(NewAccountRequestForm, spec)) == []


@pytest.mark.parametrize("handle", ["@NorthPark\nBcc: everyone@example.org", "@North\rPark", "@North\x00Park",
                                    "@North\u2028Park"])
def test_a_new_account_request_whose_handle_has_a_line_break_is_refused(app, handle):
    from modules.access.models import AccessRequest

    staff = _client(app, "staff", "tasmat")
    response = _post(staff, "/access/requests/new-account", {
        "platform": "school_website", "handle": handle, "owner": "central", "purpose": "Homework blog",
        "role": "administrator", "reason": "Homework reminders"})
    assert response.status_code == 400
    assert "must be on one line" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AccessRequest)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def _queue(now, n, **changes):
    values = {"recipient": f"person{n}@example.org", "reason": f"test:{n}", "subject": f"Message {n}",
              "body": "Body\n", "now": now}
    values.update(changes)
    return queue_email(**values)


def _poison(message_id: int, **values) -> None:
    """Write a value the forms would now refuse (data from before this fix, or from another path)."""
    db.session.execute(OutboxMessage.__table__.update().where(OutboxMessage.id == message_id).values(**values))
    db.session.commit()


def test_a_line_break_in_a_subject_cannot_add_a_header(empty_app, now, smtp_sink):  # noqa: F811
    empty_app.config.update(mail_config(smtp_sink))
    message = _queue(now, 1)
    db.session.commit()
    _poison(message.id, subject="Request for @North\r\nBcc: everyone@example.org\r\n\r\nPark")
    report = send_pending(now=now)
    assert report.sent == [message.id]
    [email] = smtp_sink.messages
    assert email["Bcc"] is None and smtp_sink.envelopes[0][1] == ["person1@example.org"]
    assert "\n" not in email["Subject"] and "North" in email["Subject"] and "Park" in email["Subject"]


def test_an_encoded_word_in_a_subject_cannot_add_a_header(empty_app, now, smtp_sink):  # noqa: F811
    """A name typed as an RFC 2047 encoded word holding CR LF (no control character as typed) is not decoded into
    a line break on the wire: the email library decodes encoded words it is given (found by scripts/assurance.py)."""
    empty_app.config.update(mail_config(smtp_sink))
    message = _queue(now, 1)
    db.session.commit()
    _poison(message.id, subject="Request waiting for your decision: =?utf-8?q?Sam=0D=0ABcc:_everyone@example.org?=")
    assert send_pending(now=now).sent == [message.id]
    [email] = smtp_sink.messages
    assert email["Bcc"] is None and smtp_sink.envelopes[0][1] == ["person1@example.org"]
    assert "\n" not in email["Subject"] and "Sam" in email["Subject"]


def test_an_encoded_word_in_a_recipient_name_cannot_add_a_header(empty_app, now, smtp_sink):  # noqa: F811
    """A recipient display name holding an encoded word of CR LF is not decoded into a line break on the wire."""
    empty_app.config.update(mail_config(smtp_sink))
    message = _queue(now, 1)
    db.session.commit()
    _poison(message.id, recipient='"=?utf-8?q?Sam=0D=0AX-Injected:_1?=" <person1@example.org>')
    assert send_pending(now=now).sent == [message.id]
    [email] = smtp_sink.messages
    assert email["X-Injected"] is None and "\n" not in email["To"] and smtp_sink.envelopes[0][1] == [
        "person1@example.org"]


def test_one_message_that_cannot_be_sent_is_failed_and_the_rest_are_delivered(empty_app, now, smtp_sink):  # noqa: F811
    empty_app.config.update(mail_config(smtp_sink))
    first, bad, last = (_queue(now, n) for n in (1, 2, 3))
    db.session.commit()
    _poison(bad.id, recipient="person2@example.org\r\nBcc: everyone@example.org")
    report = send_pending(now=now)
    assert report.sent == [first.id, last.id] and report.failed == [bad.id]
    assert sorted(e[1][0] for e in smtp_sink.envelopes) == ["person1@example.org", "person3@example.org"]
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, bad.id)
    assert stored.status == "failed" and stored.attempts == 1 and "not a valid email address" in stored.last_error
    assert send_pending(now=now).sent == []  # never retried, never blocks later runs


def test_notifications_send_exits_non_zero_and_says_how_many_failed(empty_app, now, smtp_sink):  # noqa: F811
    empty_app.config.update(mail_config(smtp_sink))
    messages = [_queue(now, n) for n in range(1, 5)]
    db.session.commit()
    _poison(messages[1].id, recipient="bad\n@example.org")
    result = empty_app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code != 0
    assert "sent 3" in result.output and "1 message(s) failed" in result.output


def test_reminders_run_drain_exits_non_zero_and_says_how_many_failed(app, now, smtp_sink):  # noqa: F811
    app.config.update(mail_config(smtp_sink))
    messages = [_queue(now, n) for n in range(1, 4)]
    db.session.commit()
    _poison(messages[0].id, recipient="bad\r\n@example.org")
    result = app.test_cli_runner().invoke(args=["reminders", "run", "--drain"])
    assert result.exit_code != 0, result.output
    assert "1 message(s) failed" in result.output
    assert "Traceback" not in result.output
    db.session.rollback()
    statuses = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)
                                       .where(OutboxMessage.id.in_([m.id for m in messages]))).all())
    assert statuses == {messages[0].id: "failed", messages[1].id: "sent", messages[2].id: "sent"}
