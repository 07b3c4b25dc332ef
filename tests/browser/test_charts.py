"""Issue 17 point 11 in the browser: HR and a headteacher read completion by academy, by team and over time
as SVG charts, each followed by its figures as a table; the page stays CSP-clean and accessible."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from modules.core.extensions import db
from modules.tracking import services
from modules.training.queries import current_version
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, sign_in_as
from tests.conftest import NOW
from tests.tracking.factories import acknowledge, demo_user, trust


@pytest.fixture
def tracked(app):
    current_version(trust().id).in_force_at = NOW - timedelta(days=30)
    services.ensure_assignments(trust(), now=NOW - timedelta(days=20))
    acknowledge(demo_user("teacher"), NOW - timedelta(days=10))
    acknowledge(demo_user("staff2"), NOW)
    db.session.commit()


pytestmark = pytest.mark.browser


@pytest.mark.parametrize("local", ["hr", "head"])
def test_dashboards_draw_the_three_charts_with_their_tables(tracked, page, live_server, local):
    sign_in_as(page, live_server, local, "tkat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Staff training").click()
    for chart, table in (("#chart", "#completion"), ("#team-chart", "#team-table"), ("#time-chart", "#time-chart-table")):
        svg = page.locator(f"{chart} svg")
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box["width"] > 200 and box["height"] > 40, (chart, box)
        expect(page.locator(table)).to_be_visible()
    # Each chart is an image whose name says what it shows and points to the table.
    expect(page.get_by_role("img", name="Per cent complete by academy")).to_have_count(1)
    expect(page.get_by_role("img", name="Per cent complete by team")).to_have_count(1)
    bar = page.locator("#chart [data-label='North Park Academy'] .pp-chart__bar")
    assert float(bar.get_attribute("width")) > 0  # 1 of 5 complete
    expect(page.locator("#time-chart-table tbody tr").last).to_contain_text("%")
    expect(page.locator("#team-chart")).to_contain_text("Martin Lowe")
    if local == "head":
        expect(page.locator("#chart")).not_to_contain_text("Riverside")
    assert_accessible(page)
    assert_no_csp_errors(page)


def test_hr_follows_the_team_chart_to_every_teams_completion(tracked, page, live_server, monkeypatch):
    """The overview charts the teams furthest behind (a big trust has thousands); HR reads how many teams
    there are and follows the link to every team's completion, lowest per cent complete first."""
    from modules.tracking import queries

    monkeypatch.setattr(queries, "TEAMS_SHOWN", 2)
    sign_in_as(page, live_server, "hr", "tkat")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Staff training").click()
    expect(page.locator("#team-chart .pp-chart__row")).to_have_count(2)
    expect(page.locator("#team-intro")).to_contain_text("These are the 2 teams of")
    expect(page.locator("#team-intro")).to_contain_text("with the lowest per cent complete")
    shown = page.locator("#team-chart .pp-chart__row").first.get_attribute("data-label")
    page.get_by_role("link", name="Completion of every team").click()
    expect(page.get_by_role("heading", name="Completion by line manager")).to_be_visible()
    expect(page.locator("#completion tbody tr").first).to_contain_text(shown)
    assert page.locator("#completion tbody tr").count() > 2
    assert_accessible(page)
    assert_no_csp_errors(page)
