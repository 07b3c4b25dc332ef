"""HR dashboards: completion by group, people and overdue lists, expiring certificates, drill-down, scope."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Academy
from modules.tracking import services
from modules.tracking.models import Assignment
from tests.conftest import NOW
from tests.tracking.factories import acknowledge, current, demo_user, trust


@pytest.fixture
def tracked(app):
    """Demo trust with assignments: staff and staff2 overdue, teacher complete, everyone else due."""
    tkat = trust()
    services.ensure_assignments(tkat, now=NOW - timedelta(days=10))
    db.session.commit()
    acknowledge(demo_user("teacher"), NOW - timedelta(days=1))
    db.session.commit()
    current(demo_user("staff")).due_on = date(2026, 11, 10)  # 11 days overdue
    current(demo_user("staff2")).due_on = date(2026, 11, 20)  # 1 day overdue
    db.session.commit()
    return tkat


def _page(client, path):
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def test_hr_sees_trust_wide_completion_by_academy(tracked, client, login):
    """HR: every academy and the central team, with counts, a labelled chart and a table."""
    login("hr", "tkat")
    status, html = _page(client, "/tracking")
    assert status == 200
    assert "North Park Academy" in html and "Riverside Primary Academy" in html and "Central team" in html
    assert '<progress class="pp-progress"' in html and 'id="completion"' in html
    assert 'style=' not in html


@pytest.mark.parametrize("by", ["academy", "role", "manager", "module"])
def test_completion_groupings(tracked, client, login, by):
    """Each grouping renders; by module lists the current version's modules."""
    login("hr", "tkat")
    status, html = _page(client, f"/tracking?by={by}")
    assert status == 200
    if by == "module":
        assert "General Rules" in html
    if by == "role":
        assert "Headteacher" in html
    if by == "manager":
        assert "Martin Lowe" in html


def test_overdue_list_and_sorting_in_the_url(tracked, client, login):
    """The overdue list shows who is late, by how much; sorting and filters are in the URL."""
    login("hr", "tkat")
    status, html = _page(client, "/tracking/overdue")
    assert status == 200 and "Jack Wilson" in html and "1 day overdue" in html
    assert html.index("Sam Taylor") < html.index("Jack Wilson"), "most overdue first"
    assert "Priya Shah" not in html and "2 people overdue" in html
    status, html = _page(client, "/tracking/people?sort=name&dir=desc&status=complete")
    assert status == 200 and "Priya Shah" in html and "Jack Wilson" not in html
    assert 'aria-sort="descending"' in html


def test_headteacher_sees_only_their_academy(tracked, client, login):
    """A headteacher's views cover their academy only; another academy in the URL is a 400."""
    login("head", "tkat")
    status, html = _page(client, "/tracking/people")
    assert status == 200 and "Sam Taylor" in html and "Jack Wilson" not in html
    other = db.session.scalar(select(Academy.id).where(Academy.slug == "riverside", Academy.trust_id == tracked.id))
    assert client.get(f"/tracking/people?academy={other}").status_code == 400
    assert client.get(f"/tracking/people/{demo_user('staff2').id}").status_code == 404


def test_line_manager_sees_only_their_team(tracked, client, login):
    """A line manager sees their reports and nobody else."""
    login("manager", "tkat")
    status, html = _page(client, "/tracking/team")
    assert status == 200 and "Sam Taylor" in html and "Priya Shah" in html and "Tom Reid" not in html
    status, html = _page(client, "/tracking/people")
    assert status == 200 and "Tom Reid" not in html
    assert client.get(f"/tracking/people/{demo_user('office').id}").status_code == 404
    assert client.get(f"/tracking/people/{demo_user('staff').id}").status_code == 200


def test_staff_cannot_see_dashboards(tracked, client, login):
    """Ordinary staff get 403."""
    login("staff", "tkat")
    assert client.get("/tracking").status_code == 403
    assert client.get("/tracking/team").status_code == 403


def test_foreign_or_malformed_filters_are_400(tracked, client, login):
    """Another trust's academy, an unknown role or a malformed value is refused, with a clear message."""
    login("hr", "tkat")
    other = db.session.scalar(select(Academy.id).where(Academy.trust_id == trust("e-act").id))
    for query in (f"academy={other}", "role=wizard", "academy=abc", "status=lost", "sort=password",
                  f"manager={demo_user('staff', 'e-act').id}"):
        response = client.get(f"/tracking/people?{query}")
        assert response.status_code == 400, query
        assert "Choose" in response.get_data(as_text=True) or "not in your trust" in response.get_data(as_text=True)


def test_drill_down_shows_full_history(tracked, client, login):
    """The person page shows assignments, modules, attempts, acknowledgements and certificates."""
    login("hr", "tkat")
    teacher = demo_user("teacher")
    status, html = _page(client, f"/tracking/people/{teacher.id}")
    assert status == 200
    for part in ('id="assignments"', 'id="attempts"', 'id="acknowledgements"', 'id="certificates"', "Passed",
                 "Induction"):
        assert part in html, part
    assert client.get(f"/tracking/people/{demo_user('staff', 'e-act').id}").status_code == 404


def test_leavers_drop_out_but_keep_history(tracked, client, login):
    """A leaver is not counted, but their history can still be opened."""
    staff = demo_user("staff")
    staff.active = False
    services.close_for_leaver(staff, now=NOW)
    db.session.commit()
    login("hr", "tkat")
    status, html = _page(client, "/tracking/people")
    assert "Sam Taylor" not in html
    status, html = _page(client, f"/tracking/people/{staff.id}")
    assert status == 200 and "Closed when they left" in html


def test_expiring_certificates(tracked, client, login):
    """A certificate expiring in the window is listed under 30/60/90 days as appropriate."""
    login("hr", "tkat")
    status, html = _page(client, "/tracking/expiring?within=30")
    assert status == 200 and "Priya Shah" not in html  # it expires in a year
    # A certificate completed just under a year ago expires within 30 days.
    acknowledge(demo_user("office"), NOW - timedelta(days=350))
    db.session.commit()
    status, html = _page(client, "/tracking/expiring?within=30")
    assert "Tom Reid" in html
    status, html = _page(client, "/tracking")
    assert "1 within 30 days" in html


def test_assignment_count_unchanged_by_viewing(tracked, client, login):
    """Dashboards only read."""
    before = db.session.scalar(select(db.func.count()).select_from(Assignment))
    login("hr", "tkat")
    client.get("/tracking")
    client.get("/tracking/overdue")
    assert db.session.scalar(select(db.func.count()).select_from(Assignment)) == before


def test_expiring_lists_only_valid_latest_certificates(tracked, now):
    """A revoked certificate is not "expiring"; the list, its total and the counts agree."""
    from modules.certificates.models import Certificate
    from modules.certificates.services import revoke_certificate
    from modules.tracking import queries
    from modules.tracking.filters import Filters
    from modules.tracking.scope import Scope

    scope = Scope(tracked.id, None, None, tracked.name)
    for local in ("office", "head", "manager"):
        acknowledge(demo_user(local), now - timedelta(days=350))
    db.session.commit()
    today = date(2026, 11, 21)
    rows, total = queries.expiring(scope, Filters(within=30), today, now)
    assert {r.name for r in rows} == {"Tom Reid", "Helen Osei", "Martin Lowe"} and total == 3
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == demo_user("office").id))
    revoke_certificate(cert, actor=demo_user("hr"), reason="Issued in error", now=now)
    db.session.commit()
    rows, total = queries.expiring(scope, Filters(within=30, sort="name"), today, now)
    assert [r.name for r in rows] == ["Helen Osei", "Martin Lowe"] and total == 2
    assert queries.expiring_counts(scope, today, now) == {30: 2, 60: 2, 90: 2}


@pytest.mark.parametrize("by", ["academy", "manager", "role", "module"])
def test_overview_headline_matches_the_summary(tracked, by):
    """The overview's headline (summed from the groups where they partition people) equals the summary."""
    from modules.tracking import queries
    from modules.tracking.filters import Filters
    from modules.tracking.scope import Scope

    scope = Scope(tracked.id, None, None, tracked.name)
    headline, rows = queries.overview(scope, Filters(by=by), date(2026, 11, 21))
    assert headline == queries.summary(scope, Filters(by=by), date(2026, 11, 21))
    assert headline.total == 12 and headline.overdue == 2 and headline.complete == 1
