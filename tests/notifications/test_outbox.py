"""The outbox: one row per (recipient, reason, date), written before sending; SMTP delivery to a real sink."""

from datetime import timedelta

import pytest
from flask import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modules.core.extensions import db
from modules.notifications.delivery import CLAIM_TIMEOUT, send_pending
from modules.notifications.models import OutboxMessage
from modules.notifications.services import Attachment, queue_email
from tests.certificates.factories import demo_user
from tests.notifications.sink import free_port, mail_config

PDF = b"%PDF-1.7\n% a tiny stand-in\n%%EOF\n"


def queue(now, reason="test:1", recipient="Sam@Example.org", **kwargs):
    return queue_email(recipient=recipient, reason=reason, subject="Hello", body="Body text\n", now=now, **kwargs)


def test_queue_writes_a_pending_row_once_per_recipient_reason_and_day(empty_app, now):
    first = queue(now)
    again = queue(now + timedelta(hours=3), recipient="sam@example.org")
    db.session.commit()
    assert again.id == first.id
    assert (first.recipient, first.status, first.attempts, first.on_date) == ("sam@example.org", "pending", 0,
                                                                              now.date())
    assert queue(now + timedelta(days=1)).id != first.id
    assert queue(now, reason="test:2").id != first.id
    db.session.commit()
    assert db.session.query(OutboxMessage).count() == 3


def test_the_date_is_the_london_date(empty_app, now):
    summer_late = now.replace(month=7, day=1, hour=23, minute=30)  # 00:30 on 2 July in London
    assert queue(summer_late).on_date.isoformat() == "2026-07-02"


def test_the_database_refuses_a_duplicate(empty_app, now):
    queue(now)
    db.session.commit()
    db.session.add(OutboxMessage(recipient="sam@example.org", reason="test:1", on_date=now.date(), subject="x",
                                 body="x", status="pending", attempts=0, created_at=now))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_queue_links_the_person_and_trust(app, now):
    user = demo_user("staff", "tkat")
    message = queue(now, recipient=user.email, user=user)
    assert (message.user_id, message.trust_id) == (user.id, user.trust_id)


def test_send_pending_delivers_to_smtp_with_attachments(empty_app, now, smtp_sink):
    empty_app.config.update(mail_config(smtp_sink))
    message = queue(now, attachments=[Attachment("certificate.pdf", "application/pdf", PDF)])
    db.session.commit()
    report = send_pending(now=now)
    assert report.sent == [message.id] and not report.retrying and not report.failed
    assert len(smtp_sink.messages) == 1
    email = smtp_sink.messages[0]
    assert smtp_sink.envelopes[0][1] == ["sam@example.org"]
    assert (email["To"], email["Subject"]) == ("sam@example.org", "Hello")
    assert email["From"] == "PolicyPass <no-reply@policypass.test>"
    assert email.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Body text\n"
    [part] = list(email.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == ("certificate.pdf",
                                                                                  "application/pdf", PDF)
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert (stored.status, stored.sent_at, stored.attempts) == ("sent", now, 1)
    assert stored.message_id == email["Message-ID"]
    # The outbox drops its copy of the bytes once sent; the sha256 stays as a record of what went.
    assert stored.attachments[0].data is None and stored.attachments[0].size == len(PDF)
    assert send_pending(now=now).sent == []  # nothing is sent twice
    assert len(smtp_sink.messages) == 1


def test_without_a_mail_server_messages_wait(empty_app, now):
    queue(now)
    db.session.commit()
    assert send_pending(now=now).sent == []
    assert db.session.scalar(select(OutboxMessage.status)) == "pending"


def test_failures_are_retried_then_given_up(empty_app, now):
    empty_app.config.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_TIMEOUT": 2,
                             "MAIL_MAX_ATTEMPTS": 2})
    message = queue(now)
    db.session.commit()
    assert send_pending(now=now).retrying == [message.id]
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert "Connection refused" in stored.last_error or "Errno" in stored.last_error
    assert send_pending(now=now).failed == [message.id]
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "failed"
    assert send_pending(now=now).sent == []


def test_a_live_claim_is_left_alone_and_a_stale_one_retried(empty_app, now, smtp_sink):
    empty_app.config.update(mail_config(smtp_sink))
    message = queue(now)
    message.status, message.claimed_at = "sending", now
    db.session.commit()
    assert send_pending(now=now + timedelta(minutes=1)).sent == []
    assert send_pending(now=now + CLAIM_TIMEOUT + timedelta(seconds=1)).sent == [message.id]
    assert len(smtp_sink.messages) == 1


def test_send_only_the_given_ids(empty_app, now, smtp_sink):
    empty_app.config.update(mail_config(smtp_sink))
    first, second = queue(now, reason="a"), queue(now, reason="b")
    db.session.commit()
    assert send_pending(now=now, ids=[second.id]).sent == [second.id]
    assert send_pending(now=now, ids=[]).sent == []
    assert send_pending(now=now).sent == [first.id]


def _app_with_queueing_route(app, fail: bool):
    bp = Blueprint(f"outbox_test_{fail}", __name__)

    @bp.post("/outbox-test")
    def queue_and_commit():
        from modules.core.timeutil import utcnow

        queue(utcnow(), reason="after-response")
        if fail:
            raise RuntimeError("the request failed after queueing")
        db.session.commit()
        return "queued"

    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False


def test_a_request_delivers_what_it_queued_after_its_response(empty_app, smtp_sink):
    empty_app.config.update(mail_config(smtp_sink))
    _app_with_queueing_route(empty_app, fail=False)
    response = empty_app.test_client().post("/outbox-test")
    assert response.status_code == 200
    assert smtp_sink.messages == []  # not before the response has gone out …
    response.close()                 # … which a WSGI server signals by closing it (the test client does not)
    assert [m["Subject"] for m in smtp_sink.messages] == ["Hello"]
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"


def test_a_failed_request_sends_nothing(empty_app, smtp_sink):
    empty_app.config.update(mail_config(smtp_sink))
    _app_with_queueing_route(empty_app, fail=True)
    with empty_app.test_client().post("/outbox-test") as response:
        assert response.status_code == 500
    assert smtp_sink.messages == []
    assert db.session.query(OutboxMessage).count() == 0


def test_cli_send_and_status(empty_app, now, smtp_sink):
    runner = empty_app.test_cli_runner()
    queue(now)
    db.session.commit()
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 1 and "MAIL_SERVER is not set" in result.output
    empty_app.config.update(mail_config(smtp_sink))
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert "sent     1" in runner.invoke(args=["notifications", "status"]).output


def test_given_ids_are_all_sent_however_many(empty_app, now, smtp_sink):
    """With ids, every one is sent (no default cap); without, one call sends at most DEFAULT_LIMIT."""
    from modules.notifications.delivery import DEFAULT_LIMIT, pending_ids

    empty_app.config.update(mail_config(smtp_sink))
    ids = [queue(now, reason=f"bulk:{n}").id for n in range(DEFAULT_LIMIT + 30)]
    db.session.commit()
    assert pending_ids(now=now) == ids
    assert send_pending(now=now, ids=set(ids[:DEFAULT_LIMIT + 20])).sent == ids[:DEFAULT_LIMIT + 20]
    assert send_pending(now=now, ids=ids, limit=3).sent == ids[DEFAULT_LIMIT + 20:DEFAULT_LIMIT + 23]
    assert send_pending(now=now).sent == ids[DEFAULT_LIMIT + 23:]
    assert len(smtp_sink.messages) == len(ids) and pending_ids(now=now) == []
