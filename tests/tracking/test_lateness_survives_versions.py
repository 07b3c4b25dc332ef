"""Publishing a new version never wipes lateness: people already overdue stay overdue, on the earlier version's
deadline, until they complete the version now in force; people who were up to date get the new deadline.
HR's list, the overdue count and the export agree."""

from datetime import date, datetime, timedelta

from modules.core.extensions import db
from modules.policies import queries as policy_queries
from modules.policies.services import london_date, publish_draft
from modules.tracking import queries
from modules.tracking.filters import Filters
from modules.tracking.models import NEW_VERSION
from modules.tracking.scope import Scope
from modules.tracking.services import ensure_assignments
from tests.tracking.factories import acknowledge, current, demo_user, trust

STARTED = datetime(2026, 9, 1, 8, 0)


def _publish_seed(now):
    e_act = trust("e-act")
    demo, seed = sorted(policy_queries.versions_of(e_act.id), key=lambda v: v.number)
    assert publish_draft(seed, effective_on=london_date(now), now=now)
    db.session.commit()
    return e_act, demo, seed


def _overdue(e_act, today) -> dict[int, object]:
    scope = Scope(e_act.id, None, None, e_act.name)
    rows, _ = queries.people(scope, Filters(status="overdue"), today, paginate=False)
    return {row.id: row for row in rows}


def test_publishing_keeps_the_overdue_overdue(app, now):
    e_act = trust("e-act")
    ensure_assignments(e_act, now=STARTED)  # the induction the demo cast got on their start date
    db.session.commit()
    today = london_date(now)
    before = _overdue(e_act, today)
    staff = demo_user("staff", "e-act")
    assert staff.id in before and before[staff.id].due_on == date(2026, 10, 1)
    summary_before = queries.summary(Scope(e_act.id, None, None, e_act.name), Filters(), today)

    e_act, demo, seed = _publish_seed(now)
    after = _overdue(e_act, today)
    assert after.keys() == before.keys()
    assert queries.summary(Scope(e_act.id, None, None, e_act.name), Filters(), today).overdue == \
        summary_before.overdue
    row = after[staff.id]
    assert row.kind == NEW_VERSION and row.due_on == date(2026, 10, 1)
    assert row.deadline_version == demo.number and row.overdue_since == date(2026, 10, 2)
    assert current(staff).version_id == seed.id and current(staff).deadline_version_id == demo.id

    # Completing the version now in force ends the lateness.
    acknowledge(staff, now + timedelta(hours=1))
    db.session.commit()
    assert staff.id not in _overdue(e_act, today)


def test_people_who_were_up_to_date_get_the_new_deadline(app, now):
    """Priya completed version 1 on 15 September 2026 (demo history): her new deadline counts from publishing."""
    e_act = trust("e-act")
    priya = demo_user("teacher", "e-act")
    e_act, demo, seed = _publish_seed(now)
    assignment = current(priya)
    assert assignment.version_id == seed.id and assignment.deadline_version_id is None
    assert assignment.due_on > london_date(now)


def test_hr_sees_overdue_since_with_the_version(app, client, login, now):
    e_act = trust("e-act")
    ensure_assignments(e_act, now=STARTED)  # the induction the demo cast got on their start date
    db.session.commit()
    _publish_seed(now)
    login("hr", "e-act")
    page = client.get("/tracking/overdue").get_data(as_text=True)
    staff = demo_user("staff", "e-act")
    assert f'id="overdue-since-{staff.id}">Overdue since 2 October 2026 (version 1)' in page
    export = client.get("/tracking/export/overdue.csv").get_data(as_text=True)
    header, *lines = export.splitlines()
    assert "Overdue since" in header and "Deadline of version" in header
    [line] = [line for line in lines if staff.email in line]
    assert "2026-10-02" in line or "2 October 2026" in line
