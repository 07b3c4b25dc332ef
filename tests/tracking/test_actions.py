"""HR's actions on a person's training and on a list: each audited, each idempotent, the outbox guard kept."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.notifications.services import london_date
from modules.policies import queries as policy_queries
from modules.policies.services import publish_draft
from modules.tracking import actions, queries
from modules.tracking.filters import Filters
from modules.tracking.models import TrackingAction
from modules.tracking.reminders import queue_reminders
from modules.tracking.scope import Scope
from modules.tracking.services import ensure_assignments
from tests.tracking.factories import current, demo_user, trust

STARTED = datetime(2026, 9, 1, 8, 0)


@pytest.fixture
def inducted(app):
    """TKAT and E-ACT's demo cast with the induction they got on their start date (so overdue by now)."""
    for slug in ("tkat", "e-act"):
        ensure_assignments(trust(slug), now=STARTED)
    db.session.commit()


def _messages(reason_like: str = "%") -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.reason.like(reason_like)))


def _actions(user, kind):
    return list(db.session.scalars(select(TrackingAction).where(TrackingAction.user_id == user.id,
                                                                TrackingAction.kind == kind)))


def test_a_reminder_now_is_sent_once_a_day_and_audited(inducted, now):
    hr, staff = demo_user("hr"), demo_user("staff")
    assert actions.send_reminder(hr, staff, now=now).done
    again = actions.send_reminder(hr, staff, now=now + timedelta(minutes=5))
    assert not again.done and "already" in again.message
    assert _messages("reminder:now:%") == 1 and len(_actions(staff, "reminder")) == 1
    assert actions.send_reminder(hr, staff, now=now + timedelta(days=1)).done
    assert _messages("reminder:now:%") == 2


def test_extending_moves_the_deadline_later_only_with_a_reason(inducted, now):
    hr, staff = demo_user("hr"), demo_user("staff")
    with pytest.raises(actions.ActionError, match="reason"):
        actions.extend_deadline(hr, staff, due_on=date(2026, 12, 31), reason="  ", now=now)
    with pytest.raises(actions.ActionError, match="after the current one"):
        actions.extend_deadline(hr, staff, due_on=date(2026, 9, 30), reason="Absent", now=now)
    with pytest.raises(actions.ActionError, match="within a year"):
        actions.extend_deadline(hr, staff, due_on=date(2028, 1, 1), reason="Absent", now=now)
    assert current(staff).due_on == date(2026, 10, 1)
    actions.extend_deadline(hr, staff, due_on=date(2026, 12, 31), reason="Back from leave in December", now=now)
    assert current(staff).due_on == date(2026, 12, 31)
    [action] = _actions(staff, "extend")
    assert action.detail == {"before": "2026-10-01", "after": "2026-12-31"} and action.actor_id == hr.id
    assert action.reason == "Back from leave in December"


def test_an_exemption_takes_them_off_the_overdue_list_and_is_reversible(inducted, now):
    hr, staff = demo_user("hr"), demo_user("staff")
    tkat, today = trust(), london_date(now)
    scope = Scope(tkat.id, None, None, tkat.name)
    before = queries.summary(scope, Filters(), today)
    assert actions.exempt(hr, staff, reason="Long-term absence", now=now).done
    assert not actions.exempt(hr, staff, reason="Again", now=now).done
    after = queries.summary(scope, Filters(), today)
    assert (after.overdue, after.exempt) == (before.overdue - 1, 1)
    [row] = [r for r in queries.people(scope, Filters(status="exempt"), today, paginate=False)[0]]
    assert row.id == staff.id and row.status == "exempt"
    assert staff.id not in {r.id for r in queries.people(scope, Filters(status="overdue"), today)[0]}
    report = queue_reminders(tkat, now=now)
    assert not db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.id.in_(report.message_ids or [0]),
                                                                OutboxMessage.recipient == staff.email))
    # Every-day assignment runs leave the exemption alone.
    ensure_assignments(tkat, now=now + timedelta(days=1))
    assert current(staff).status(today) == "exempt"
    assert actions.end_exemption(hr, staff, reason="Back at work", now=now).done
    assert current(staff).status(today) == "overdue"
    assert [a.kind for a in actions.actions_of(staff)] == ["unexempt", "exempt"]


def test_an_exemption_lasts_across_a_new_version(inducted, now):
    hr, staff = demo_user("hr", "e-act"), demo_user("staff", "e-act")
    actions.exempt(hr, staff, reason="Maternity leave", now=now)
    e_act = trust("e-act")
    demo, seed = sorted(policy_queries.versions_of(e_act.id), key=lambda v: v.number)
    assert publish_draft(seed, effective_on=london_date(now), now=now)
    assert current(staff).version_id == seed.id and current(staff).status(london_date(now)) == "exempt"


def test_marking_a_leaver_closes_their_training_once(inducted, now):
    hr, staff = demo_user("hr"), demo_user("staff")
    with pytest.raises(actions.ActionError):
        actions.mark_leaver(hr, hr, now=now)
    assert actions.mark_leaver(hr, staff, now=now).done
    assert not staff.active and staff.left_on == london_date(now)
    assert current(staff).closed_reason == "left"
    assert not actions.mark_leaver(hr, staff, now=now).done
    assert len(_actions(staff, "leaver")) == 1
    with pytest.raises(actions.ActionError, match="left"):
        actions.send_reminder(hr, staff, now=now)


def test_an_invitation_is_resent_only_to_someone_without_a_password(inducted, now):
    hr, staff = demo_user("hr"), demo_user("staff")
    with pytest.raises(actions.ActionError, match="already set a password"):
        actions.resend_invitation(hr, staff, now=now)
    staff.password_hash = None
    assert actions.resend_invitation(hr, staff, now=now).done
    assert not actions.resend_invitation(hr, staff, now=now).done
    assert _messages("set-password") == 1


def test_everyone_in_a_list_is_reminded_once(inducted, now):
    hr, tkat = demo_user("hr"), trust()
    scope = Scope(tkat.id, None, None, tkat.name)
    rows, _ = queries.people(scope, Filters(status="overdue"), london_date(now), paginate=False)
    people = [db.session.get(type(hr), row.id) for row in rows]
    assert len(people) > 3
    first = actions.for_everyone("remind", hr, people, now=now)
    assert (first.done, first.already) == (len(people), 0)
    second = actions.for_everyone("remind", hr, people, now=now)
    assert (second.done, second.already) == (0, len(people))
    assert _messages("reminder:now:%") == len(people)
    extended = actions.for_everyone("extend", hr, people, now=now, due_on=date(2026, 9, 15), reason="Inset day")
    assert extended.skipped == len(people) and "not possible" in extended.summary()


def test_the_extend_page_refuses_a_date_that_does_not_exist(inducted, client, login, now):
    staff = demo_user("staff")
    login("hr", "tkat")
    page = client.get(f"/tracking/people/{staff.id}/extend")
    from tests.helpers import csrf_token
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(f"/tracking/people/{staff.id}/extend", data={
        "csrf_token": token, "due_on": ["31", "2", "2027"], "reason": "Absent"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Enter the new deadline as a real date" in body
    assert "Not a valid date value" not in body
    # A tampered form (the date's parts missing, or too many) is a clear 400 too, never a 500.
    for parts in ([], ["1"], ["1", "1", "2027", "9"]):
        tampered = client.post(f"/tracking/people/{staff.id}/extend",
                               data={"csrf_token": token, "due_on": parts, "reason": "Absent"})
        assert tampered.status_code == 400, parts
    db.session.rollback()
    assert current(staff).due_on == date(2026, 10, 1) and not _actions(staff, "extend")


def test_a_refused_deadline_is_shown_on_its_field_and_nothing_changes(inducted, client, login, now):
    """The service's refusal (a deadline before the current one) comes back on the date field, with a 400."""
    staff, hr = demo_user("staff"), demo_user("hr")
    login("hr", "tkat")
    from tests.helpers import csrf_token
    token = csrf_token(client.get(f"/tracking/people/{staff.id}/extend").get_data(as_text=True))
    response = client.post(f"/tracking/people/{staff.id}/extend", data={
        "csrf_token": token, "due_on": ["15", "9", "2026"], "reason": "Absent"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "The new deadline must be after the current one" in body
    assert 'href="#due_on' in body  # the error summary links to the date field
    # Marking yourself as a leaver is a clear 400, never a 500; nothing is recorded.
    leaving = client.post(f"/tracking/people/{hr.id}/leaver", data={"csrf_token": token})
    assert leaving.status_code == 400 and "You cannot mark yourself as a leaver" in leaving.get_data(as_text=True)
    db.session.rollback()
    assert current(staff).due_on == date(2026, 10, 1) and not _actions(staff, "extend")
    assert demo_user("hr").active
