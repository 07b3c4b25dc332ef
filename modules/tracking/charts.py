"""Dashboard charts drawn on the server as SVG geometry (no script, no style attributes: the strict CSP holds).

`bar_chart` lays out one bar per group (per cent complete); `completion_over_time` reads, for the version in
force, how many people in scope had completed it by each week's end, and `line_chart` lays those points out.
Templates draw the shapes (templates/tracking/_charts.html); each chart comes with its figures as a table.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.numbers import percent
from modules.core.timeutil import format_date
from modules.notifications.services import london_date
from modules.people.models import User
from modules.tracking import queries
from modules.tracking.filters import Filters
from modules.tracking.models import Assignment, TrackingCompletionDay
from modules.tracking.queries import GroupRow, _current, _scoped, status_expr
from modules.tracking.scope import Scope
from modules.training.queries import current_version

#: Drawing sizes, in SVG user units (the SVG scales to its container).
WIDTH, LABEL_WIDTH, BAR_HEIGHT, BAR_GAP = 640, 220, 22, 10
LINE_HEIGHT, MARGIN = 240, 40
#: At most this many bars (the table below a chart always has every row).
MAX_BARS = 25
#: At most this many points on the line (weeks; older weeks are merged into longer steps).
MAX_POINTS = 26


@dataclass
class Bar:
    """One bar: its group's label and figures, and where to draw it."""

    label: str
    percent: int
    complete: int
    total: int
    y: float
    width: float


@dataclass
class BarChart:
    """A horizontal bar chart of per cent complete by group."""

    bars: list[Bar]
    height: float
    label_width: float = LABEL_WIDTH
    plot_width: float = WIDTH - LABEL_WIDTH - 60
    bar_height: float = BAR_HEIGHT
    more: int = 0


def bar_chart(rows: list[GroupRow]) -> BarChart:
    """The bars for completion rows (the first MAX_BARS), each as wide as its per cent complete."""
    plot = WIDTH - LABEL_WIDTH - 60
    bars = [Bar(r.label if len(r.label) <= 30 else r.label[:29] + "…", r.counts.percent, r.counts.complete,
                r.counts.total - r.counts.exempt, y=i * (BAR_HEIGHT + BAR_GAP), width=plot * r.counts.percent / 100)
            for i, r in enumerate(rows[:MAX_BARS])]
    return BarChart(bars=bars, height=max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP), more=max(0, len(rows) - MAX_BARS))


@dataclass
class Point:
    """Completion at the end of one day: the figures, and where to draw it."""

    on: date
    complete: int
    expected: int
    percent: int
    x: float = 0
    y: float = 0

    @property
    def label(self) -> str:
        """The date as the page shows it."""
        return format_date(self.on)


@dataclass
class LineChart:
    """Per cent complete of the version in force, over time since it took effect."""

    version_label: str
    points: list[Point]
    path: str = ""
    width: float = WIDTH
    height: float = LINE_HEIGHT + 2 * MARGIN
    left: float = 2 * MARGIN
    top: float = MARGIN
    plot_height: float = LINE_HEIGHT
    plot_width: float = WIDTH - 3 * MARGIN
    grid: list[tuple[int, float]] = field(default_factory=list)


def _days(start: date, end: date) -> list[date]:
    """Week ends from start to end (end always included), merged into longer steps past MAX_POINTS."""
    span = max((end - start).days, 0)
    step = max(7, -(-span // (MAX_POINTS - 1)) if span else 7)
    days = [start + timedelta(days=d) for d in range(0, span, step)]
    return [*days, end] if not days or days[-1] != end else days


def _london_day(utc_day: date, late: bool) -> date:
    """The London date of a completion on a UTC day (late: in its 23:00 hour, the next London day in summer)."""
    return london_date(datetime.combine(utc_day, time(23, 30))) if late else utc_day


def _completions(scope: Scope, today: date, *, recount: bool,
                 counts: queries.Counts | None) -> tuple[int, list[tuple[date, int]]]:
    """(people in scope expected to complete, [(London day, how many completed then)])."""
    if scope.manager_id is None and not recount:
        # Trust or academies: from the trigger-kept tallies (a team is small enough to read).
        counts = counts or queries.summary(scope, Filters(), today)
        day = TrackingCompletionDay
        query = (select(day.completed_on, day.late, func.sum(day.people)).where(day.trust_id == scope.trust_id)
                 .group_by(day.completed_on, day.late))
        if scope.academy_ids is not None:
            query = query.where(day.academy_key.in_(scope.academy_ids))
        return counts.total - counts.exempt, [(_london_day(on, late), int(n)) for on, late, n
                                              in db.session.execute(query) if n]
    rows = db.session.execute(_scoped(
        select(Assignment.completed_at, status_expr(today)).select_from(User).outerjoin(Assignment, _current),
        scope, Filters(), today, status=False)).all()
    expected = sum(1 for _, status in rows if status != "exempt")  # as the dashboard's per cent complete
    return expected, [(london_date(at), 1) for at, _ in rows if at is not None]


def completion_over_time(scope: Scope, now: datetime, *, recount: bool = False,
                         counts: queries.Counts | None = None) -> LineChart | None:
    """How many people in scope (not exempt) had completed the version in force by each date since it took
    effect; None when no version is in force. `counts`: the scope's unfiltered headline, if already read."""
    today = london_date(now)
    version = current_version(scope.trust_id)
    if version is None:
        return None
    start = london_date(version.in_force_at or version.published_at or now)
    expected, completed = _completions(scope, today, recount=recount, counts=counts)
    # Completed before the version took effect (the assignment was already complete then): complete from the start,
    # so the last point always agrees with the dashboard's count.
    done = sorted((max(day, start), n) for day, n in completed)
    points = []
    for day in _days(start, today):
        complete = sum(n for d, n in done if d <= day)
        points.append(Point(day, complete, expected, percent(complete, expected)))
    return _lay_out(LineChart(version.label.capitalize(), points))


def _lay_out(chart: LineChart) -> LineChart:
    count = len(chart.points)
    for i, point in enumerate(chart.points):
        point.x = chart.left + (chart.plot_width * i / (count - 1) if count > 1 else chart.plot_width / 2)
        point.y = chart.top + chart.plot_height * (1 - point.percent / 100)
    chart.path = " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(chart.points))
    chart.grid = [(value, chart.top + chart.plot_height * (1 - value / 100)) for value in (0, 25, 50, 75, 100)]
    return chart
