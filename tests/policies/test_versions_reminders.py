"""HR's policy-review reminder, 60 days before the next review date, written through tracking's reminders."""

from datetime import date, timedelta

from sqlalchemy import select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.people.models import Trust
from modules.policies import queries
from modules.policies.services import set_next_review
from modules.tracking.reminders import queue_review_reminders, review_recipients
from tests.conftest import demo_email


def trust(slug: str) -> Trust:
    return db.session.scalar(select(Trust).where(Trust.slug == slug))


def test_tsat_hr_is_reminded_once_in_the_sixty_days_before_its_review(app, now):
    tsat = trust("tsat")  # next review December 2026: due 31 December, reminders from 1 November
    assert {p.email for p in review_recipients(tsat)} == {demo_email("hr", "tsat"), demo_email("admin", "tsat")}
    ids = queue_review_reminders(tsat, now=now)
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
    assert sorted(m.recipient for m in messages) == sorted([demo_email("admin", "tsat"), demo_email("hr", "tsat")])
    version = queries.published_version(tsat.id)
    assert {m.reason for m in messages} == {f"reminder:policy-review:{version.id}:2026-12-31"}
    assert "review due by 31 December 2026" in messages[0].subject
    assert "40 days from today" in messages[0].body and "/hr/policy" in messages[0].body
    # Again the same day, or any later day before the review: nothing new.
    for later in (now, now + timedelta(days=1), now + timedelta(days=39)):
        assert queue_review_reminders(tsat, now=later) == []


def test_no_reminder_outside_the_window_or_when_turned_off(app, now):
    assert queue_review_reminders(trust("tkat"), now=now) == []  # past review: the dashboards flag it
    assert queue_review_reminders(trust("tasmat"), now=now) == []  # no review date stated
    tsat = trust("tsat")
    assert queue_review_reminders(tsat, now=now - timedelta(days=21)) == []  # 31 October: 61 days before
    tsat.settings = {**tsat.settings, "reminders": False}
    assert queue_review_reminders(tsat, now=now) == []


def test_a_new_review_date_set_by_hr_is_a_new_reminder(app, now):
    tkat = trust("tkat")
    version = queries.published_version(tkat.id)
    set_next_review(version, date(2027, 1, 10), now=now)
    first = queue_review_reminders(tkat, now=now)
    assert len(first) == 2
    set_next_review(version, date(2027, 1, 15), now=now)
    assert len(queue_review_reminders(tkat, now=now + timedelta(days=1))) == 2
