"""The trigger-kept tracking_tally equals the full recount after every kind of event, on both databases, and the
dashboard's counts read from it equal the counts read from the people themselves."""

from collections import Counter
from dataclasses import astuple
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, select, text

from modules.core.extensions import db
from modules.people.models import Academy, User
from modules.people.services import mark_left
from modules.tracking import actions, charts, queries, services
from modules.tracking.filters import Filters
from modules.tracking.models import (
    NO_DATE,
    Assignment,
    TrackingTally,
    TrackingTallyAcademy,
    TrackingTallyTeam,
)
from modules.tracking.scope import Scope
from modules.training.queries import current_version
from modules.training.services import mark_read
from tests.attestation.factories import passed_attempt
from tests.tracking.factories import acknowledge, current, demo_user, trust
from tests.tracking.test_assignments import _new_version


def _recount(trust_id: int) -> Counter:
    """The tally as it should be: every active person's (academy, manager, state, due date), counted."""
    rows = db.session.execute(
        select(User.academy_id, User.line_manager_id, Assignment)
        .outerjoin(Assignment, and_(Assignment.user_id == User.id, Assignment.is_current.is_(True)))
        .where(User.trust_id == trust_id, User.active.is_(True))).all()
    found = Counter()
    for academy_id, manager_id, a in rows:
        if a is None or (a.completed_at is None and a.closed_reason != "exempt" and a.closed_on is not None):
            state, due = "unassigned", NO_DATE
        elif a.completed_at is not None:
            state, due = "complete", NO_DATE
        elif a.closed_reason == "exempt":
            state, due = "exempt", NO_DATE
        else:
            state, due = "open", a.due_on
        found[(academy_id or 0, manager_id or 0, state, due)] += 1
    return found


def _tallied(trust_id: int) -> Counter:
    rows = db.session.execute(select(TrackingTally.academy_key, TrackingTally.manager_key, TrackingTally.state,
                                     TrackingTally.due_on, TrackingTally.people)
                              .where(TrackingTally.trust_id == trust_id, TrackingTally.people != 0))
    return Counter({(a, m, s, d): n for a, m, s, d, n in rows})


def _rollups(trust_id: int) -> tuple[Counter, Counter]:
    """The two rollups (migration 0029) as stored: per (academy, state, due date) and per (manager, academy,
    state)."""
    a, t = TrackingTallyAcademy, TrackingTallyTeam
    academy = Counter({(k, s, d): n for k, s, d, n in db.session.execute(
        select(a.academy_key, a.state, a.due_on, a.people).where(a.trust_id == trust_id, a.people != 0))})
    team = Counter({(m, k, s): n for m, k, s, n in db.session.execute(
        select(t.manager_key, t.academy_key, t.state, t.people).where(t.trust_id == trust_id, t.people != 0))})
    return academy, team


def _rolled_up(people: Counter) -> tuple[Counter, Counter]:
    """The rollups as they should be: the recount (or the tally) summed over line managers, and over due dates."""
    academy, team = Counter(), Counter()
    for (academy_key, manager_key, state, due), n in people.items():
        academy[(academy_key, state, due)] += n
        team[(manager_key, academy_key, state)] += n
    return +academy, +team


def _groups(rows) -> list:
    return sorted((r.label, str(r.key), astuple(r.counts)) for r in rows)


def _check(tkat, today: date) -> None:
    """The tally equals the recount, and so does every count the dashboards read from it."""
    db.session.commit()
    db.session.expire_all()
    assert _tallied(tkat.id) == _recount(tkat.id)
    assert _rollups(tkat.id) == _rolled_up(_recount(tkat.id))
    managers = db.session.scalars(select(User.line_manager_id).where(User.trust_id == tkat.id, User.active.is_(True),
                                                                      User.line_manager_id.is_not(None)).distinct())
    academies = db.session.scalars(select(Academy.id).where(Academy.trust_id == tkat.id))
    scopes = [Scope(tkat.id, None, None, "trust")] + \
        [Scope(tkat.id, frozenset({a}), None, "academy") for a in academies] + \
        [Scope(tkat.id, None, m, "team") for m in managers]
    for day in (today, today + timedelta(days=40)):
        for scope in scopes:
            for filters in (Filters(), Filters(by="manager")):
                assert queries.tally(scope, filters, day) is not None
                assert queries.summary(scope, filters, day) == queries.summary(scope, filters, day, recount=True)
                assert _groups(queries.completion(scope, filters, day)) == \
                    _groups(queries.completion(scope, filters, day, recount=True))
                headline, _ = queries.overview(scope, filters, day)
                assert headline == queries.summary(scope, filters, day, recount=True)
                by = "manager" if filters.by == "manager" else "academy"
                assert queries.overview(scope, filters, day, counts=queries.tally(scope, filters, day, by=by))[0] \
                    == headline
            for limit in (1, 3, 25):  # the overview's team chart: the teams furthest behind, in the same order
                shown, teams = queries.teams_behind(scope, Filters(), day, limit=limit)
                assert ([(r.label, r.key, astuple(r.counts)) for r in shown], teams) == \
                    ([(r.label, r.key, astuple(r.counts)) for r in queries.teams_behind(
                        scope, Filters(), day, limit=limit, recount=True)[0]],
                     queries.teams_behind(scope, Filters(), day, limit=limit, recount=True)[1])
            at = datetime.combine(day, time(12))
            assert charts.completion_over_time(scope, at) == charts.completion_over_time(scope, at, recount=True)


def test_the_tally_matches_the_recount_after_every_kind_of_event(app, now):
    """Assign, read, pass, acknowledge, extend, exempt and end it, move, new version, leaver, erasure."""
    from modules.operations.erasure import erase_person

    tkat = trust()
    today = now.date()
    hr, staff, staff2, teacher, head, manager = (demo_user(n) for n in ("hr", "staff", "staff2", "teacher", "head",
                                                                       "manager"))
    _check(tkat, today)  # people, nobody assigned yet
    services.ensure_assignments(tkat, now=now - timedelta(days=10))
    _check(tkat, today)
    version = current_version(tkat.id)
    mark_read(staff, version.sections[0], now=now)
    passed_attempt(teacher, version, now)
    _check(tkat, today)
    acknowledge(teacher, now - timedelta(days=1))
    current(staff2).due_on = today - timedelta(days=3)  # overdue
    _check(tkat, today)
    actions.extend_deadline(hr, staff2, due_on=today + timedelta(days=20), reason="Long-term illness", now=now)
    actions.exempt(hr, staff, reason="Maternity leave", now=now)
    _check(tkat, today)
    actions.end_exemption(hr, staff, reason="Back at work", now=now)
    _check(tkat, today)
    actions.exempt(hr, staff, reason="Maternity leave again", now=now)
    # A person moves academy and line manager (an import or HR edit).
    other = db.session.scalar(select(Academy).where(Academy.trust_id == tkat.id, Academy.id != staff2.academy_id))
    staff2.academy_id, staff2.line_manager_id = other.id, head.id
    _check(tkat, today)
    later = now + timedelta(days=3)
    _new_version("tkat", later)  # everyone assigned the new version; exemption carried
    _check(tkat, today + timedelta(days=3))
    acknowledge(head, later)
    _check(tkat, today + timedelta(days=3))
    actions.mark_leaver(hr, teacher, now=later)
    _check(tkat, today + timedelta(days=3))
    # A line manager leaves and is erased: their reports have no line manager any more (a bulk UPDATE).
    reports = db.session.scalar(select(db.func.count()).select_from(User).where(User.line_manager_id == manager.id))
    assert reports
    mark_left(manager, on=today, now=later)
    erase_person(manager, actor=None, basis="request", reason="Lawful request", now=later + timedelta(days=1))
    _check(tkat, today + timedelta(days=4))
    # Back again: a leaver's return gives them a fresh induction.
    teacher.active, teacher.left_on = True, None
    db.session.flush()
    services.ensure_assignments(tkat, now=later + timedelta(days=5))
    _check(tkat, today + timedelta(days=8))


def test_deleting_an_assignment_keeps_the_tally(app, now):
    """A current assignment deleted by SQL (not something the app does) leaves the person unassigned."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    acknowledge(demo_user("teacher"), now)
    _check(tkat, now.date())
    staff = demo_user("staff")
    db.session.execute(text("DELETE FROM assignment WHERE user_id = :id"), {"id": staff.id})
    _check(tkat, now.date())


def test_a_late_utc_completion_is_the_next_london_day_in_summer_only():
    """The day tally keeps 23:xx UTC apart: in summer time that is already the next day in London."""
    assert charts._london_day(date(2026, 7, 1), True) == date(2026, 7, 2)
    assert charts._london_day(date(2026, 7, 1), False) == date(2026, 7, 1)
    assert charts._london_day(date(2026, 12, 1), True) == date(2026, 12, 1)


def test_the_rollups_follow_any_change_to_the_tally(app, now):
    """The per-academy and per-team rollups follow the tally whatever SQL changes it: the triggers' upserts,
    and a row's key changed or a row deleted (nothing does either; the rollup triggers handle them)."""
    tkat = trust()
    services.ensure_assignments(tkat, now=now)
    acknowledge(demo_user("teacher"), now)
    _check(tkat, now.date())
    t = TrackingTally.__table__
    row = db.session.execute(select(t).where(t.c.trust_id == tkat.id, t.c.people > 0).order_by(
        t.c.academy_key, t.c.manager_key, t.c.state, t.c.due_on).limit(1)).one()
    key = (t.c.trust_id == row.trust_id) & (t.c.academy_key == row.academy_key) & (t.c.manager_key == row.manager_key) \
        & (t.c.state == row.state) & (t.c.due_on == row.due_on)
    db.session.execute(t.update().where(key).values(manager_key=row.manager_key + 100000, people=row.people + 2))
    db.session.flush()
    assert _rollups(tkat.id) == _rolled_up(_tallied(tkat.id))
    db.session.execute(t.delete().where(t.c.manager_key == row.manager_key + 100000))
    db.session.flush()
    assert _rollups(tkat.id) == _rolled_up(_tallied(tkat.id))
