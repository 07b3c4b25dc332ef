"""Reminders: before due, on becoming overdue, weekly while overdue with a copy to the line manager; a
per-trust off switch; never twice for the same reason and date; delivered through Huey to a real SMTP sink."""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import queue
from modules.notifications.models import OutboxMessage
from modules.notifications.services import london_date
from modules.tracking import reminders, services
from modules.tracking.models import Assignment
from tests.notifications.sink import mail_config, smtp_sink  # noqa: F401  (fixture)
from tests.tracking.factories import current, demo_user, trust


@pytest.fixture
def app_config(smtp_sink):  # noqa: F811
    """Mail goes to the sink; nothing is sent from request hooks."""
    return {**mail_config(smtp_sink), "MAIL_DELIVERY": "none"}


def _arrange(today: date) -> dict[str, Assignment]:
    """Everyone in TKAT due in a month, except: staff due in 3 days, teacher 1 day overdue, office 10 days
    overdue with an overdue reminder 7 days ago, staff2 overdue but a leaver."""
    tkat = trust()
    services.ensure_assignments(tkat, now=utcnow())
    db.session.execute(update(Assignment).where(Assignment.trust_id == tkat.id)
                       .values(due_on=today + timedelta(days=30)))
    picked = {local: current(demo_user(local)) for local in ("staff", "teacher", "office", "staff2")}
    picked["staff"].due_on = today + timedelta(days=3)
    picked["teacher"].due_on = today - timedelta(days=1)
    picked["office"].due_on = today - timedelta(days=10)
    picked["staff2"].due_on = today - timedelta(days=2)
    demo_user("staff2").active = False
    office = demo_user("office")
    db.session.add(OutboxMessage(recipient=office.email, reason=reminders.reason("overdue", picked["office"].id),
                                 on_date=today - timedelta(days=7), subject="earlier", body="earlier",
                                 user_id=office.id, trust_id=tkat.id, status="sent", attempts=1,
                                 created_at=utcnow() - timedelta(days=7)))
    db.session.commit()
    return picked


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=["reminders", "run", *args])
    assert result.exit_code == 0, result.output
    db.session.rollback()  # see what the command committed
    return result.output


def test_reminders_run_delivers_the_right_emails_once(app, smtp_sink):  # noqa: F811
    """`flask reminders run` sends each due reminder to the sink; a second run sends none."""
    today = london_date(utcnow())
    _arrange(today)
    output = _run(app, "--trust", "tkat", "--drain")
    assert "tkat: due-soon 1, overdue 2, manager 1" in output
    got = sorted((str(m["To"]), str(m["Subject"]).strip()) for m in smtp_sink.messages)
    emails = {local: demo_user(local).email for local in ("staff", "teacher", "office", "head")}
    assert [to for to, _ in got] == sorted([emails["staff"], emails["teacher"], emails["office"], emails["head"]])
    by_to = dict(got)
    assert by_to[emails["staff"]].startswith("Reminder: your social media policy training is due by")
    assert by_to[emails["teacher"]].startswith("Overdue:")
    assert by_to[emails["office"]].startswith("Overdue:")
    assert by_to[emails["head"]] == "Overdue training: Tom Reid"
    head_copy = next(m for m in smtp_sink.messages if str(m["To"]) == emails["head"])
    assert "10 days overdue" in head_copy.get_content() and "Tom Reid" in head_copy.get_content()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == "sent", OutboxMessage.reason.like("reminder:%"))) == 5
    # Huey's store is its own SQLite file, not the app's database.
    assert Path(app.config["HUEY_FILE"]).exists()
    assert Path(app.config["HUEY_FILE"]).resolve() != Path(db.engine.url.database).resolve()

    before = len(smtp_sink.messages)
    output = _run(app, "--trust", "tkat", "--drain")
    assert "tkat: due-soon 0, overdue 0, manager 0" in output
    assert len(smtp_sink.messages) == before, "a second run delivers none"


def test_weekly_while_overdue(app, now):
    """Day by day: overdue on day 1, again a week later with the manager copied, never in between."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    staff = demo_user("staff")
    current(staff).due_on = date(2026, 11, 20)
    db.session.commit()
    sent = {}
    for day in range(0, 16):
        at = now + timedelta(days=day)
        report = reminders.queue_reminders(tkat, now=at)
        db.session.commit()
        mine = [m for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(report.message_ids)))
                if m.reason.endswith(f":{current(staff).id}")]
        if mine:
            sent[day] = sorted(m.reason.split(":")[1] for m in mine)
    assert sent == {0: ["overdue"], 7: ["manager", "overdue"], 14: ["manager", "overdue"]}


def test_due_soon_only_once_and_only_in_the_window(app, now):
    """Eight days before: nothing; seven days before: one reminder; later days: none until overdue."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    db.session.execute(update(Assignment).values(due_on=date(2027, 3, 1)))
    staff = demo_user("staff")
    current(staff).due_on = date(2026, 11, 29)
    db.session.commit()
    days = []
    for day in range(0, 9):
        report = reminders.queue_reminders(tkat, now=datetime(2026, 11, 21 + day, 9))
        db.session.commit()
        if report.counts["due-soon"]:
            days.append(day)
    assert days == [1]


def test_same_reason_and_date_is_written_once(app, now):
    """Two runs the same day write one row: the unique (recipient, reason, date) key is the guard."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    current(demo_user("staff")).due_on = date(2026, 11, 20)
    db.session.commit()
    first = reminders.queue_reminders(tkat, now=now)
    db.session.commit()
    # Even if the history were ignored, queueing the same reminder again returns the existing row.
    from modules.notifications.services import queue_email

    staff = demo_user("staff")
    again = queue_email(recipient=staff.email, reason=reminders.reason("overdue", current(staff).id),
                        subject="x", body="y", now=now + timedelta(hours=3))
    db.session.commit()
    assert again.id in first.message_ids
    second = reminders.queue_reminders(tkat, now=now + timedelta(hours=5))
    assert second.message_ids == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.reason.like("reminder:%"))) == 1


def test_trust_can_turn_reminders_off(app, now, smtp_sink):  # noqa: F811
    """With reminders: false nothing is written or sent for that trust."""
    tkat = trust()
    tkat.settings = {**tkat.settings, "reminders": False}
    services.ensure_assignments(tkat, now=now)
    current(demo_user("staff")).due_on = date(2026, 11, 1)
    db.session.commit()
    report = reminders.queue_reminders(tkat, now=now)
    assert not report.enabled and report.message_ids == []
    output = _run(app, "--trust", "tkat", "--drain")
    assert "reminders are turned off" in output and smtp_sink.messages == []


def test_completed_people_are_not_reminded(app, now):
    """Completing the training stops the reminders."""
    from tests.tracking.factories import acknowledge

    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    teacher = demo_user("teacher")
    current(teacher).due_on = date(2026, 11, 20)
    db.session.commit()
    acknowledge(teacher, now)
    db.session.commit()
    report = reminders.queue_reminders(tkat, now=now)
    assert not any(r.endswith(f":{current(teacher).id}") for r in
                   db.session.scalars(select(OutboxMessage.reason).where(OutboxMessage.id.in_(report.message_ids))))


def test_queue_uses_redis_when_configured(app):
    """With REDIS_URL the queue is Redis (nothing connects until a task is queued)."""
    from huey import RedisHuey, SqliteHuey

    assert isinstance(queue.get_queue(app), SqliteHuey)
    app.extensions.pop(queue.EXTENSION)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        assert isinstance(queue.get_queue(app), RedisHuey)
    finally:
        app.extensions.pop(queue.EXTENSION)
        app.config["REDIS_URL"] = None


def test_drill_down_lists_reminders(app, client, login, now):
    """The person page shows the reminders sent about them."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    current(demo_user("staff")).due_on = date(2026, 11, 20)
    db.session.commit()
    reminders.queue_reminders(tkat, now=now)
    db.session.commit()
    login("hr", "tkat")
    html = client.get(f"/tracking/people/{demo_user('staff').id}").get_data(as_text=True)
    assert "Overdue: your social media policy training" in html


def test_reminders_run_records_an_access_lapse_once_and_tells_the_approvers(app, smtp_sink):  # noqa: F811
    """The run includes the access sweep: a lapsed grant gets one ledger event and one email per approver,
    delivered with everything else that was waiting (here a certificate email); a second run adds nothing."""
    from modules.access.models import LapseObservation
    from modules.evidence.ledger import verify_ledger
    from modules.evidence.models import LedgerEntry
    from tests.access.factories import account, granted

    now = utcnow() - timedelta(hours=1)
    acct = account("tsat", now=now)
    grant = granted("staff", "tsat", acct, now=now)  # issues a certificate (its PDF and email: the run's sweep)
    leaver = grant.user
    leaver.active, leaver.left_on = False, london_date(now)
    db.session.commit()
    approvers = {demo_user(local, "tsat").email for local in ("manager", "head", "dpo")}
    def lapse_counts():
        return (db.session.scalar(select(func.count()).select_from(LapseObservation)),
                db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                  .where(LedgerEntry.kind == "access_lapse_observed")))

    output = _run(app, "--trust", "tsat", "--drain")
    assert "tsat: 1 access lapse(s) newly observed, 3 email(s) to approvers" in output
    assert lapse_counts() == (1, 1)
    lapse_mail = [str(m["To"]) for m in smtp_sink.messages if str(m["Subject"]).startswith("Access lapsed")]
    assert sorted(lapse_mail) == sorted(approvers)
    certificate_mail = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.reason.like("certificate-issued:%"), OutboxMessage.recipient == leaver.email))
    assert certificate_mail is not None and certificate_mail.status == "sent"
    assert leaver.email in {str(m["To"]) for m in smtp_sink.messages}

    before = len(smtp_sink.messages)
    output = _run(app, "--trust", "tsat", "--drain")
    assert "access lapse" not in output
    assert lapse_counts() == (1, 1) and len(smtp_sink.messages) == before
    assert verify_ledger(acct.trust_id).ok
