"""Escalation: overdue training reaches the line manager, then the academy's headteacher, once each, as the
trust's rule says; each is on the person's history."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.people.rules import RulesError, TrustRules
from modules.tracking import jobs
from modules.tracking.models import TrackingAction
from modules.tracking.reminders import queue_escalations
from modules.tracking.services import ensure_assignments
from tests.tracking.factories import current, demo_user, trust

STARTED = datetime(2026, 9, 1, 8, 0)


def _escalations(user) -> list[str]:
    return sorted(a.detail["to"] for a in db.session.scalars(
        select(TrackingAction).where(TrackingAction.user_id == user.id, TrackingAction.kind == "escalation")))


def _recipients(reason_prefix: str) -> list[str]:
    return sorted(db.session.scalars(select(OutboxMessage.recipient)
                                     .where(OutboxMessage.reason.like(f"{reason_prefix}%"))))


def test_the_line_manager_then_the_headteacher_once_each(app, now):
    tkat = trust()
    ensure_assignments(tkat, now=STARTED)
    staff = demo_user("staff")
    current(staff).due_on = (now - timedelta(days=20)).date()  # 20 days overdue: the line manager only
    db.session.flush()
    queue_escalations(tkat, now=now)
    assert _escalations(staff) == ["line_manager"]
    assert f"escalation:line_manager:{current(staff).id}" in {
        r for r in db.session.scalars(select(OutboxMessage.reason).where(
            OutboxMessage.recipient == demo_user("manager").email))}

    later = now + timedelta(days=10)  # 30 days overdue: now the headteacher too, the line manager not again
    queue_escalations(tkat, now=later)
    queue_escalations(tkat, now=later + timedelta(days=1))
    assert _escalations(staff) == ["headteacher", "line_manager"]
    heads = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.reason == f"escalation:headteacher:{current(staff).id}")).all()
    assert [m.recipient for m in heads] == [demo_user("head").email]  # North Park's head, not Riverside's
    assert "30 days overdue" in heads[0].subject and "after 28 days (a trust setting)" in heads[0].body
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.reason == f"escalation:line_manager:{current(staff).id}")) == 1


def test_without_a_line_manager_the_step_waits(app, now):
    tkat = trust()
    ensure_assignments(tkat, now=STARTED)
    staff = demo_user("staff")
    staff.line_manager_id = None
    current(staff).due_on = (now - timedelta(days=15)).date()
    db.session.flush()
    queue_escalations(tkat, now=now)
    assert _escalations(staff) == []
    staff.line_manager_id = demo_user("manager").id
    db.session.flush()
    db.session.expire(staff, ["line_manager"])
    queue_escalations(tkat, now=now + timedelta(days=1))
    assert _escalations(staff) == ["line_manager"]


def test_the_daily_run_escalates_and_the_history_shows_it(app, client, login, now):
    tkat = trust()
    ensure_assignments(tkat, now=STARTED)
    db.session.commit()
    report = jobs.run_daily(now=now, slug="tkat")
    assert any("escalation email(s)" in line for line in report.lines)
    login("hr", "tkat")
    page = client.get(f"/tracking/people/{demo_user('staff').id}").get_data(as_text=True)
    assert "Escalated to the line manager" in page and "Escalated to the Headteacher" in page
    assert "PolicyPass (daily run)" in page
    before = len(_recipients("escalation:"))
    jobs.run_daily(now=now + timedelta(hours=1), slug="tkat")
    assert len(_recipients("escalation:")) == before


@pytest.mark.parametrize("rule", [[{"after_days": 14}], [{"relation": "boss", "after_days": 3}],
                                  [{"role": "headteacher", "after_days": "soon"}],
                                  [{"relation": "line_manager", "after_days": 0}],
                                  [{"relation": "line_manager", "after_days": 3, "cc": "hr"}]])
def test_a_malformed_escalation_rule_names_itself(rule):
    with pytest.raises(RulesError, match=r"^escalation\[0\]"):
        TrustRules.from_mapping({"escalation": rule})


def test_an_escalation_role_the_trust_lacks_is_a_problem():
    rules = TrustRules.from_mapping({"escalation": [{"role": "bursar", "after_days": 10}]})
    assert rules.role_problems({"headteacher": "academy", "ceo": "trust"}) == [
        ("escalation[0].role", "the trust has no role 'bursar'")]
