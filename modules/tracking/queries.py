"""Read-only dashboard queries: completion by group, people lists, certificates expiring, a person's history.

Every query starts from the viewer's Scope (one trust, maybe some academies or a manager's team) and counts
active staff only: leavers drop out of scope but keep their history (the drill-down still shows them).
Status is derived from the current assignment and the day asked: complete, due, overdue, exempt (HR exempted
them, with a reason) or unassigned.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import and_, case, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased

from modules.assessments.models import QuizAttempt
from modules.attestation.queries import for_person
from modules.certificates.models import Certificate, CertificateRevocation
from modules.certificates.queries import CertificateRow, certificates_of, standing
from modules.certificates.status import london_day, utc_midnight
from modules.core.extensions import db
from modules.core.numbers import percent
from modules.notifications.models import OutboxMessage
from modules.people.models import Academy, Role, RoleAssignment, Trust, User
from modules.policies.models import PolicyVersion, Section
from modules.tracking.filters import PAGE_SIZE, Filters
from modules.tracking.models import (
    CLOSED_EXEMPT,
    Assignment,
    TrackingTally,
    TrackingTallyAcademy,
    TrackingTallyTeam,
)
from modules.tracking.scope import Scope
from modules.training.models import ModuleProgress
from modules.training.queries import compulsory_section_ids, current_version

CENTRAL = "Central team"
NO_MANAGER = "No line manager"
#: Outbox reasons of reminders are "reminder:<kind>:<assignment id>"; kinds are chosen in reminders.py.
REMINDER_PREFIX = "reminder:"

#: Booleans are tested bare ("active", not "active IS true"): PostgreSQL then estimates them from its
#: statistics and picks hash joins at 50,000 staff instead of 50,000 nested index probes.
_current = and_(Assignment.user_id == User.id, Assignment.is_current)
#: "+ 0" stops SQLite walking the academy or manager index to group (random row reads, 3-4x slower at
#: 50,000 staff than scanning the trust's rows in order and grouping in a temporary b-tree).
_ACADEMY = (User.academy_id + literal_column("0")).label("grouped_academy_id")
_MANAGER = (User.line_manager_id + literal_column("0")).label("grouped_manager_id")


def status_expr(today: date):
    """SQL for a person's status from their current assignment (outer-joined): a string column."""
    return case(
        (Assignment.id.is_(None), literal("unassigned")),
        (Assignment.completed_at.is_not(None), literal("complete")),
        (Assignment.closed_reason == CLOSED_EXEMPT, literal("exempt")),
        (Assignment.closed_on.is_not(None), literal("unassigned")),
        (Assignment.due_on < today, literal("overdue")),
        else_=literal("due"))


def _status_where(status: str, today: date):
    open_ = and_(Assignment.completed_at.is_(None), Assignment.closed_on.is_(None))
    return {
        "complete": Assignment.completed_at.is_not(None),
        "overdue": and_(open_, Assignment.due_on < today),
        "due": and_(open_, Assignment.due_on >= today),
        "exempt": and_(Assignment.completed_at.is_(None), Assignment.closed_reason == CLOSED_EXEMPT),
        "unassigned": or_(Assignment.id.is_(None),
                          and_(Assignment.completed_at.is_(None), Assignment.closed_on.is_not(None),
                               Assignment.closed_reason != CLOSED_EXEMPT)),
    }[status]


def _scoped(query, scope: Scope, filters: Filters, today: date, *, status: bool = True):
    """Limit a query over User (with the current assignment outer-joined) to the scope and the filters."""
    query = query.where(User.trust_id == scope.trust_id, User.active)
    if scope.academy_ids is not None:
        query = query.where(User.academy_id.in_(scope.academy_ids))
    if scope.manager_id is not None:
        query = query.where(User.line_manager_id == scope.manager_id)
    if filters.academy is not None:
        query = query.where(User.academy_id == filters.academy)
    if filters.manager is not None:
        query = query.where(User.line_manager_id == filters.manager)
    if filters.role:
        query = query.where(exists().where(RoleAssignment.user_id == User.id, RoleAssignment.role_id == Role.id,
                                           Role.key == filters.role, Role.trust_id == scope.trust_id))
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    if status and filters.status:
        query = query.where(_status_where(filters.status, today))
        if filters.status != "unassigned":
            query = query.where(Assignment.trust_id == scope.trust_id)  # the trust's assignment index
    return query


# --------------------------------------------------------------------------- completion


@dataclass
class Counts:
    """People in a group by status."""

    total: int = 0
    complete: int = 0
    due: int = 0
    overdue: int = 0
    unassigned: int = 0
    exempt: int = 0

    @property
    def percent(self) -> int:
        """Per cent complete of the people who must complete (the exempt are left out), rounded half up."""
        return percent(self.complete, self.total - self.exempt)


@dataclass
class GroupRow:
    """One row of a completion table: a group (academy, role, manager or module) and its counts."""

    label: str
    key: str | int | None
    counts: Counts
    #: Query-string arguments that list the group's people.
    link: dict = field(default_factory=dict)


def _count_columns(today: date):
    """count, complete, due, overdue, exempt (unassigned is the rest): plain sums, cheap per row."""
    open_ = and_(Assignment.completed_at.is_(None), Assignment.closed_on.is_(None))
    return (func.count(User.id),
            func.sum(case((Assignment.completed_at.is_not(None), 1), else_=0)),
            func.sum(case((and_(open_, Assignment.due_on >= today), 1), else_=0)),
            func.sum(case((and_(open_, Assignment.due_on < today), 1), else_=0)),
            func.sum(case((and_(Assignment.completed_at.is_(None), Assignment.closed_reason == CLOSED_EXEMPT), 1),
                          else_=0)))


def _counts(row) -> Counts:
    total, complete, due, overdue, exempt = (int(v or 0) for v in row)
    return Counts(total, complete, due, overdue, total - complete - due - overdue - exempt, exempt)


#: Per (academy id or None, line manager id or None) of the people in scope, from the tally: (count, complete,
#: due, overdue, exempt) as plain ints (a big trust has thousands of these rows; Counts are made per group).
Tally = list[tuple[int | None, int | None, tuple[int, int, int, int, int]]]


def tally(scope: Scope, filters: Filters, today: date, *, by: str | None = None) -> Tally | None:
    """Counts per academy and line manager from the trigger-kept tracking_tally (a few thousand rows at
    50,000 staff), open assignments split into due and overdue for `today`; None when a filter (role, name,
    status) needs the people themselves, i.e. the full recount.

    by="academy" sums each academy's line managers in SQL (rows of (academy, None, figures): one per
    academy), by="manager" each line manager's academies ((None, manager, figures)): what a page grouped
    one way needs, without thousands of rows to add up in Python."""
    if filters.role or filters.q or filters.status:
        return None
    t = TrackingTally
    if by == "academy" and scope.manager_id is None and filters.manager is None:
        t = TrackingTallyAcademy  # the same counts with line managers already summed out (migration 0029)
    open_ = t.state == "open"
    academy = t.academy_key if by != "manager" else literal(0)
    manager = t.manager_key if by != "academy" else literal(0)
    keys = [k for k, wanted in ((academy, by != "manager"), (manager, by != "academy")) if wanted]
    query = (select(academy, manager, func.sum(t.people),
                    func.sum(case((t.state == "complete", t.people), else_=0)),
                    func.sum(case((and_(open_, t.due_on >= today), t.people), else_=0)),
                    func.sum(case((and_(open_, t.due_on < today), t.people), else_=0)),
                    func.sum(case((t.state == "exempt", t.people), else_=0)))
             .where(t.trust_id == scope.trust_id).group_by(*keys))
    query = _tally_scoped(query, t, scope, filters)
    return [(academy or None, manager or None, (int(n), int(c or 0), int(d or 0), int(o or 0), int(e or 0)))
            for academy, manager, n, c, d, o, e in db.session.execute(query) if n]


def _tally_scoped(query, t, scope: Scope, filters: Filters):
    """Limit a query over a tally table to the scope and the academy and line manager filters."""
    if scope.academy_ids is not None:
        query = query.where(t.academy_key.in_(scope.academy_ids))
    if scope.manager_id is not None:
        query = query.where(t.manager_key == scope.manager_id)
    if filters.academy is not None:
        query = query.where(t.academy_key == filters.academy)
    if filters.manager is not None:
        query = query.where(t.manager_key == filters.manager)
    return query


#: The overview's team chart shows this many teams: the ones with the lowest per cent complete.
TEAMS_SHOWN = 25


@dataclass
class TeamCounts:
    """A line manager's team by status, open assignments not split into due and overdue (the team chart shows
    per cent complete, which does not depend on the day)."""

    total: int = 0
    complete: int = 0
    #: Due or overdue.
    open: int = 0
    unassigned: int = 0
    exempt: int = 0

    @property
    def percent(self) -> int:
        """Per cent complete of the people who must complete, as Counts.percent."""
        return percent(self.complete, self.total - self.exempt)


def teams_behind(scope: Scope, filters: Filters, today: date, *, limit: int | None = None,
                 recount: bool = False) -> tuple[list[GroupRow], int]:
    """The `limit` line managers' teams in scope with the lowest per cent complete (then by name), and how
    many teams there are: the overview's team chart, which links to every team's completion. Their counts
    are TeamCounts.

    From the trigger-kept tracking_tally_team, the ranking, the count and the names are one query (names are
    joined for the teams shown); with a filter that needs the people, or `recount`, from every team's recount,
    sorted the same way."""
    limit = limit or TEAMS_SHOWN
    if recount or filters.role or filters.q or filters.status:
        every = [GroupRow(r.label, r.key, TeamCounts(r.counts.total, r.counts.complete,
                                                     r.counts.due + r.counts.overdue, r.counts.unassigned,
                                                     r.counts.exempt), r.link)
                 for r in _by_manager(scope, filters, today, None)]
        every.sort(key=lambda r: (r.counts.percent, r.label.casefold(), r.key or 0))
        return every[:limit], len(every)
    t = TrackingTallyTeam
    sums = {"total": t.people, "complete": case((t.state == "complete", t.people), else_=0),
            "open": case((t.state == "open", t.people), else_=0),
            "unassigned": case((t.state == "unassigned", t.people), else_=0),
            "exempt": case((t.state == "exempt", t.people), else_=0)}
    grouped = _tally_scoped(select(t.manager_key.label("manager_key"),
                                   *[func.sum(v).label(k) for k, v in sums.items()])
                            .where(t.trust_id == scope.trust_id).group_by(t.manager_key)
                            .having(func.sum(t.people) > 0), t, scope, filters).subquery()
    g = grouped.c
    must = g.total - g.exempt
    # Per cent complete rounded as Counts.percent does (modules/core/numbers.percent), in integers on both
    # databases; 0 when nobody must complete.
    pct = case((must > 0, (200 * g.complete + must) // (2 * must)), else_=0).label("pct")
    teams = select(*g, pct).cte("teams")
    # Names are joined only for the teams up to the `limit`-th lowest per cent (ties are then ordered by name):
    # joining every line manager's name made PostgreSQL read the whole user table.
    cut = select(teams.c.pct).order_by(teams.c.pct).offset(limit - 1).limit(1).scalar_subquery()
    manager = _team_manager()
    query = (select(teams.c.manager_key, manager.name, teams.c.total, teams.c.complete, teams.c.open,
                    teams.c.unassigned, teams.c.exempt, select(func.count()).select_from(teams).scalar_subquery())
             .select_from(teams)
             .outerjoin(manager, and_(manager.id == teams.c.manager_key, teams.c.manager_key != 0))
             .where(teams.c.pct <= func.coalesce(cut, 100))
             .order_by(teams.c.pct, func.lower(func.coalesce(manager.name, NO_MANAGER)), teams.c.manager_key)
             .limit(limit))
    found = db.session.execute(query).all()
    shown = [GroupRow(name if key else NO_MANAGER, key or None, TeamCounts(*(int(v or 0) for v in figures)),
                      {"manager": key} if key else {})
             for key, name, *figures, _ in found]
    return shown, int(found[0][-1]) if found else 0


@cache
def _team_manager():
    """The line manager's alias in teams_behind (made on first use, as _aliases)."""
    return aliased(User, name="team_manager")


def _add(total: Counts, counts: Counts) -> Counts:
    for name in ("total", "complete", "due", "overdue", "unassigned", "exempt"):
        setattr(total, name, getattr(total, name) + getattr(counts, name))
    return total


def _sum(rows) -> Counts:
    """The tally rows' figures added up."""
    total = [0, 0, 0, 0, 0]
    for _, _, figures in rows:
        for i, value in enumerate(figures):
            total[i] += value
    return _counts(total)


def _grouped(rows: Tally, index: int) -> dict[int | None, Counts]:
    """The tally's counts summed by academy (index 0) or line manager (index 1)."""
    # One pass, adding tuples (a big trust has thousands of managers: a list and a _sum per group cost 3-4x more).
    groups: dict[int | None, tuple[int, int, int, int, int]] = {}
    for row in rows:
        key, (n, c, d, o, e) = row[index], row[2]
        if key in groups:
            n0, c0, d0, o0, e0 = groups[key]
            groups[key] = (n0 + n, c0 + c, d0 + d, o0 + o, e0 + e)
        else:
            groups[key] = (n, c, d, o, e)
    return {key: _counts(figures) for key, figures in groups.items()}


def summary(scope: Scope, filters: Filters, today: date, *, recount: bool = False) -> Counts:
    """Everyone in scope (after filters) by status (from the tally unless a filter needs the recount)."""
    rows = None if recount else tally(scope, filters, today, by="academy")  # the fewest rows to add up
    if rows is not None:
        return _sum(rows)
    query = _scoped(select(*_count_columns(today)).select_from(User).outerjoin(Assignment, _current),
                    scope, filters, today)
    return _counts(db.session.execute(query).one())


def headcount(scope: Scope, filters: Filters, today: date) -> int:
    """How many people are in scope after the filters (the assignment is joined only to filter by status)."""
    query = select(func.count()).select_from(User)
    if filters.status:
        query = query.outerjoin(Assignment, _current)
    return int(db.session.scalar(_scoped(query, scope, filters, today)) or 0)


def completion(scope: Scope, filters: Filters, today: date, *, counts: Tally | None = None,
               recount: bool = False) -> list[GroupRow]:
    """Completion grouped by filters.by (academy, role, manager or module), sorted as the filters say.

    By academy or line manager the counts come from the tally (`counts`, if the caller already read it for
    the same scope and filters), unless `recount` or a filter needs the people themselves.
    """
    if filters.by in ("academy", "manager") and not recount and counts is None:
        counts = tally(scope, filters, today, by=filters.by)
    if filters.by == "module":
        rows = module_completion(scope, filters, today)
    elif filters.by == "role":
        rows = _by_role(scope, filters, today)
    elif filters.by == "manager":
        rows = _by_manager(scope, filters, today, counts)
    else:
        rows = _by_academy(scope, filters, today, counts)
    return sort_groups(rows, filters)


def overview(scope: Scope, filters: Filters, today: date, *,
             counts: Tally | None = None) -> tuple[Counts, list[GroupRow]]:
    """The headline counts and the completion rows of the overview page.

    Grouped by academy or line manager, the groups partition the people, so the headline is their sum.
    `counts`: the tally for the same scope and filters, grouped by filters.by when that is academy or line
    manager (tally(by=...)), any way otherwise.
    """
    rows = completion(scope, filters, today, counts=counts)
    if filters.by in ("academy", "manager"):
        total = Counts()
        for row in rows:
            _add(total, row.counts)
        return total, rows
    return (_sum(counts) if counts is not None else summary(scope, filters, today)), rows


def sort_groups(rows: list[GroupRow], filters: Filters) -> list[GroupRow]:
    """Sort completion rows by label, size, per cent complete or overdue count."""
    keys = {"total": lambda r: r.counts.total, "percent": lambda r: r.counts.percent,
            "overdue": lambda r: r.counts.overdue}
    key = keys.get(filters.sort)
    if key is None:
        return sorted(rows, key=lambda r: r.label.casefold(), reverse=filters.desc) if filters.by != "module" \
            else (list(reversed(rows)) if filters.desc else rows)
    return sorted(rows, key=lambda r: (key(r), r.label.casefold()), reverse=filters.desc)


def _by_academy(scope, filters, today, counts: Tally | None = None) -> list[GroupRow]:
    if counts is not None:
        found = list(_grouped(counts, 0).items())
    else:
        query = _scoped(select(_ACADEMY, *_count_columns(today)).select_from(User)
                        .outerjoin(Assignment, _current), scope, filters, today).group_by(_ACADEMY)
        found = [(academy_id, _counts(rest)) for academy_id, *rest in db.session.execute(query)]
    names = dict(db.session.execute(select(Academy.id, Academy.name).where(Academy.trust_id == scope.trust_id)).all())
    return [GroupRow(names.get(academy_id, CENTRAL), academy_id, group,
                     {"academy": academy_id} if academy_id else {})
            for academy_id, group in found]


def _by_role(scope, filters, today) -> list[GroupRow]:
    # Each (person, role) once, even if held at two academies: the first assignment of it counts (an
    # anti-join, which both databases plan well; a DISTINCT subquery misleads PostgreSQL's estimates).
    held, dup = aliased(RoleAssignment), aliased(RoleAssignment)
    query = _scoped(select(Role.key, Role.label, *_count_columns(today)).select_from(User)
                    .join(held, held.user_id == User.id).join(Role, Role.id == held.role_id)
                    .outerjoin(Assignment, _current)
                    .where(~exists().where(dup.user_id == held.user_id, dup.role_id == held.role_id,
                                           dup.id < held.id)),
                    scope, filters, today).group_by(Role.key, Role.label)
    return [GroupRow(label, key, _counts(rest), {"role": key}) for key, label, *rest in db.session.execute(query)]


def _by_manager(scope, filters, today, counts: Tally | None = None) -> list[GroupRow]:
    if counts is not None:
        found = list(_grouped(counts, 1).items())
        # The managers' names in one query (a big trust has thousands of line managers), their keys from the
        # per-team rollup (a third of the tally's rows).
        managers = select(TrackingTallyTeam.manager_key).where(TrackingTallyTeam.trust_id == scope.trust_id,
                                                               TrackingTallyTeam.people != 0)
    else:
        query = _scoped(select(_MANAGER, *_count_columns(today)).select_from(User)
                        .outerjoin(Assignment, _current), scope, filters, today).group_by(_MANAGER)
        found = [(manager_id, _counts(rest)) for manager_id, *rest in db.session.execute(query)]
        managers = select(User.line_manager_id).where(User.trust_id == scope.trust_id, User.active,
                                                      User.line_manager_id.is_not(None))
    names = dict(db.session.execute(select(User.id, User.name).where(User.trust_id == scope.trust_id,
                                                                     User.id.in_(managers))).all())
    return [GroupRow(names.get(manager_id, NO_MANAGER), manager_id, group,
                     {"manager": manager_id} if manager_id else {})
            for manager_id, group in found]


def module_completion(scope: Scope, filters: Filters, today: date) -> list[GroupRow]:
    """Per module (section) of the current version: how many people in scope have read it.

    The whole trust unfiltered is counted from the progress index alone, less leavers' reads; any narrower
    view joins its people.
    """
    version = current_version(scope.trust_id)
    if version is None:
        return []
    total = headcount(scope, filters, today)
    sections = list(db.session.execute(select(Section.id, Section.number, Section.title)
                                       .where(Section.version_id == version.id).order_by(Section.position)))
    ids = [s[0] for s in sections]
    unfiltered = (scope.academy_ids is None and scope.manager_id is None and not filters.status
                  and filters == Filters(by=filters.by, sort=filters.sort, desc=filters.desc, page=filters.page,
                                         within=filters.within))
    if unfiltered:
        read = dict(db.session.execute(select(ModuleProgress.section_id, func.count())
                                       .where(ModuleProgress.section_id.in_(ids))
                                       .group_by(ModuleProgress.section_id)).all())
        # Less the leavers' reads: find the (few) leavers first, then their reads by the (user, module) key.
        leavers = list(db.session.scalars(select(User.id).where(User.trust_id == scope.trust_id,
                                                                ~User.active)))
        gone = []
        for start in range(0, len(leavers), 900):
            gone += db.session.execute(select(ModuleProgress.section_id, func.count())
                                       .where(ModuleProgress.user_id.in_(leavers[start:start + 900]),
                                              ModuleProgress.section_id.in_(ids))
                                       .group_by(ModuleProgress.section_id)).all()
        for section_id, count in gone:
            read[section_id] = read.get(section_id, 0) - count
    else:
        query = _scoped(select(ModuleProgress.section_id, func.count()).select_from(User)
                        .join(ModuleProgress, ModuleProgress.user_id == User.id)
                        .outerjoin(Assignment, _current), scope, filters, today)
        read = dict(db.session.execute(query.where(ModuleProgress.section_id.in_(ids))
                                       .group_by(ModuleProgress.section_id)).all())
    rows = []
    for section_id, number, title in sections:
        heading = f"{number}. {title}" if title and not number.lower().startswith("appendix") else \
            (f"{number} – {title}" if title else number)
        rows.append(GroupRow(heading, section_id, Counts(total=total, complete=read.get(section_id, 0))))
    return rows


# --------------------------------------------------------------------------- people


@dataclass
class PersonRow:
    """A person in a dashboard list, with their current assignment's status."""

    id: int
    name: str
    email: str
    job_title: str
    academy: str
    manager: str
    kind: str | None
    due_on: date | None
    completed_at: datetime | None
    status: str
    today: date
    modules_read: int = 0
    modules_total: int = 0
    #: The number of the earlier policy version whose passed deadline `due_on` is (lateness a new version
    #: did not wipe); None when the deadline is the current assignment's own.
    deadline_version: int | None = None

    @property
    def days_overdue(self) -> int:
        """Whole days past the due date (0 unless overdue)."""
        return (self.today - self.due_on).days if self.status == "overdue" and self.due_on else 0

    @property
    def overdue_since(self) -> date | None:
        """The first day they were overdue (None unless overdue)."""
        return self.due_on + timedelta(days=1) if self.days_overdue else None


_PEOPLE_ORDER = {
    "name": lambda: [User.name],
    "academy": lambda: [func.coalesce(Academy.name, ""), User.name],
    "manager": lambda: [func.coalesce(_aliases()[0].name, ""), User.name],
    "due": lambda: [Assignment.due_on, User.name],
    "status": lambda: [None, User.name],
}


@cache
def _aliases() -> tuple:
    """The line manager's and the deadline version's aliases (made on first use: making them configures every
    mapper, which `flask` commands need not pay)."""
    return aliased(User, name="manager"), aliased(PolicyVersion, name="deadline_version")


def people(scope: Scope, filters: Filters, today: date, *, default_sort: str = "name",
           paginate: bool = True) -> tuple[list[PersonRow], int]:
    """People in scope with their status (a page of them, or all), and how many there are in total."""
    status = status_expr(today)
    aliased_manager, deadline_version = _aliases()
    base = (select(User.id, User.name, User.email, User.job_title, Academy.name, aliased_manager.name,
                   Assignment.kind, Assignment.due_on, Assignment.completed_at, status, deadline_version.number)
            .select_from(User).outerjoin(Assignment, _current)
            .outerjoin(deadline_version, deadline_version.id == Assignment.deadline_version_id)
            .outerjoin(Academy, Academy.id == User.academy_id)
            .outerjoin(aliased_manager, aliased_manager.id == User.line_manager_id))
    base = _scoped(base, scope, filters, today)
    total = headcount(scope, filters, today)
    sort = filters.sort or default_sort
    columns = [status if c is None else c for c in _PEOPLE_ORDER[sort]()]
    order = [c.desc() if filters.desc else c.asc() for c in columns] + [User.id.asc()]
    query = base.order_by(*order)
    if paginate:
        query = query.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    rows = [PersonRow(id=r[0], name=r[1], email=r[2], job_title=r[3] or "", academy=r[4] or CENTRAL,
                      manager=r[5] or "", kind=r[6], due_on=r[7], completed_at=r[8], status=r[9], today=today,
                      deadline_version=r[10])
            for r in db.session.execute(query)]
    _add_module_counts(scope.trust_id, rows)
    return rows, int(total or 0)


def _add_module_counts(trust_id: int, rows: list[PersonRow]) -> None:
    version = current_version(trust_id)
    if version is None or not rows:
        return
    compulsory = compulsory_section_ids(version)  # optional form appendices count neither way
    total = len(compulsory)
    by_id = {row.id: row for row in rows}
    ids = list(by_id)
    for chunk in range(0, len(ids), 900):
        counts = db.session.execute(
            select(ModuleProgress.user_id, func.count()).join(Section, Section.id == ModuleProgress.section_id)
            .where(Section.version_id == version.id, Section.id.in_(compulsory),
                   ModuleProgress.user_id.in_(ids[chunk:chunk + 900]))
            .group_by(ModuleProgress.user_id))
        for user_id, count in counts:
            by_id[user_id].modules_read = count
    for row in rows:
        row.modules_total = total


# --------------------------------------------------------------------------- certificates expiring


@dataclass
class ExpiringRow:
    """A person's latest certificate, valid now and expiring within the window."""

    user_id: int
    name: str
    academy: str
    version_label: str
    code: str
    completed_at: datetime
    expires_on: date
    today: date
    #: Its standing now: a supersession already due is when it stops being valid, if before expiry.
    standing: CertificateRow | None = None

    @property
    def ends_on(self) -> date:
        """The London date it stops being valid (expiry, or the day a later version supersedes it)."""
        due = self.standing.superseded_at if self.standing else None
        return london_day(due) if due is not None else self.expires_on

    @property
    def days_left(self) -> int:
        """Days until it stops being valid."""
        return (self.ends_on - self.today).days


@dataclass(frozen=True)
class _Validity:
    """A trust's certificate validity at `now` as plain values, so the certificate queries need no subquery
    on policy_version per certificate: the versions a later version has superseded by `now`, and for each
    version a later version will supersede, when (its in-force time plus the trust's grace days)."""

    today: date
    now: datetime
    superseded: tuple[int, ...]
    due: tuple[tuple[int, datetime], ...]

    def supersedes_by(self, within_days: int) -> list[int]:
        """Versions a later version supersedes within `within_days` London days of `now` (before the start
        of the day after the last one; certificates.queries.expiring_by)."""
        end = utc_midnight(self.today + timedelta(days=within_days + 1))
        return [version_id for version_id, moment in self.due if moment < end]

    def expiring_by(self, within_days: int):
        """SQL over Certificate: it expires, or a later version supersedes it, within `within_days` days."""
        return or_(Certificate.expires_on <= self.today + timedelta(days=within_days),
                   Certificate.version_id.in_(self.supersedes_by(within_days)))


def _validity(trust_id: int, now: datetime) -> _Validity:
    """The trust's versions' supersession at `now`, read in one small query (a trust has a few versions).

    The same rule as certificates.queries.valid_at / expiring_by and Certificate.superseded_since: a version is
    superseded from the earliest in-force time of a later-numbered version of its series, plus the trust's
    supersede_grace_days. Versions of the trust's series are read whatever their trust (a series belongs to
    one trust, and so do its versions and their certificates)."""
    grace = timedelta(days=db.session.get(Trust, trust_id).rules.supersede_grace_days)
    series = select(PolicyVersion.series_id).where(PolicyVersion.trust_id == trust_id,
                                                   PolicyVersion.series_id.is_not(None))
    versions = db.session.execute(select(PolicyVersion.id, PolicyVersion.series_id, PolicyVersion.number,
                                         PolicyVersion.in_force_at)
                                  .where(PolicyVersion.series_id.in_(series.scalar_subquery()))).all()
    superseded, due = [], []
    for version_id, series_id, number, _ in versions:
        later = [at for _, s, n, at in versions if s == series_id and n > number and at is not None]
        if later:
            moment = min(later) + grace
            (superseded if moment <= now else due).append((version_id, moment))
    return _Validity(london_day(now), now, tuple(v for v, _ in superseded), tuple(due))


def _valid_latest(query, validity: _Validity, trust_id: int):
    """Limit a query over Certificate to each holder's latest certificate that is valid at `validity.now`:
    not expired, not revoked by then, its version not superseded (validity is defined once, in
    modules/certificates/status.py; tests/tracking/test_expiring_sql.py checks this against it)."""
    newer = _newer_certificate()
    return query.where(
        Certificate.trust_id == trust_id, Certificate.expires_on > validity.today,
        Certificate.version_id.not_in(validity.superseded),
        ~exists().where(CertificateRevocation.certificate_id == Certificate.id,
                        CertificateRevocation.created_at <= validity.now),
        ~exists().where(newer.user_id == Certificate.user_id, newer.id > Certificate.id))


@cache
def _certified_version():
    """The alias of policy_version that the certificate queries join as `certified_version` (made on first use,
    see _aliases)."""
    return aliased(PolicyVersion, name="certified_version")


@cache
def _newer_certificate():
    # Made once, on first use: a fresh aliased() per view built its column collection each time.
    return aliased(Certificate, name="newer_certificate")


def valid_certificate_holders(trust_id: int, now: datetime) -> set[int]:
    """Ids of the trust's people whose latest certificate is valid at `now`."""
    query = select(Certificate.user_id)
    return set(db.session.scalars(_valid_latest(query, _validity(trust_id, now), trust_id)))


def expiring(scope: Scope, filters: Filters, today: date, now: datetime, *,
             paginate: bool = True) -> tuple[list[ExpiringRow], int]:
    """People in scope whose latest certificate is valid now and expires within filters.within days
    (a page of them, or all), and how many there are."""
    _version = _certified_version()
    validity = _validity(scope.trust_id, now)
    base = (select(Certificate.id).select_from(Certificate).join(User, User.id == Certificate.user_id)
            .join(_version, _version.id == Certificate.version_id)
            .where(validity.expiring_by(filters.within)))
    base = _valid_latest(_scoped(base, scope, filters, today, status=False), validity, scope.trust_id)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    query = base.with_only_columns(Certificate.id, Certificate.user_id, User.name, Academy.name, _version.number,
                                   Certificate.code, Certificate.completed_at, Certificate.expires_on) \
        .outerjoin(Academy, Academy.id == User.academy_id)
    order = {"name": [User.name], "academy": [func.coalesce(Academy.name, ""), User.name]}.get(
        filters.sort, [Certificate.expires_on, User.name])
    query = query.order_by(*[c.desc() if filters.desc else c.asc() for c in order], Certificate.id)
    if paginate:
        query = query.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    found = db.session.execute(query).all()
    certs = {c.id: c for c in db.session.scalars(select(Certificate).where(Certificate.id.in_([r[0] for r in found])))}
    rows = [ExpiringRow(user_id, name, academy or CENTRAL, f"version {number}", code, completed_at, expires_on,
                        today, standing(certs[cert_id], now))
            for cert_id, user_id, name, academy, number, code, completed_at, expires_on in found]
    return rows, int(total or 0)


def expiring_counts(scope: Scope, today: date, now: datetime) -> dict[int, int]:
    """How many people's certificates expire within 30, 60 and 90 days (one counting query)."""
    validity = _validity(scope.trust_id, now)
    query = (select(*[func.sum(case((validity.expiring_by(d), 1), else_=0)) for d in (30, 60, 90)])
             .select_from(Certificate).join(User, User.id == Certificate.user_id)
             .where(validity.expiring_by(90)))
    query = _valid_latest(_scoped(query, scope, Filters(), today, status=False), validity, scope.trust_id)
    return {d: int(v or 0) for d, v in zip((30, 60, 90), db.session.execute(query).one(), strict=True)}


# --------------------------------------------------------------------------- one person


def person_in_scope(scope: Scope, user_id: int) -> User | None:
    """A person the viewer may drill into (leavers included, for their history); None means 404."""
    user = db.session.get(User, user_id)
    if user is None or user.trust_id != scope.trust_id:
        return None
    if scope.academy_ids is not None and user.academy_id not in scope.academy_ids:
        return None
    if scope.manager_id is not None and user.line_manager_id != scope.manager_id:
        return None
    return user


@dataclass
class ModuleRead:
    """A module of the current version and when the person marked it read."""

    heading: str
    read_at: datetime | None


@dataclass
class History:
    """Everything about one person's training, for the drill-down and its export."""

    user: User
    today: date
    assignments: list[Assignment]
    version: PolicyVersion | None
    modules: list[ModuleRead]
    attempts: list[QuizAttempt]
    acknowledgements: list
    certificates: list
    reminders: list[OutboxMessage]

    @property
    def current(self) -> Assignment | None:
        """The current assignment, if any."""
        return next((a for a in self.assignments if a.is_current), None)

    @property
    def status(self) -> str:
        """complete, due, overdue or unassigned."""
        current = self.current
        if current is None:
            return "unassigned"
        status = current.status(self.today)
        return "unassigned" if status == "closed" else status


def history(user: User, today: date, now: datetime) -> History:
    """The person's assignments, reading, quiz attempts, acknowledgements, certificates and reminders."""
    assignments = list(db.session.scalars(select(Assignment).where(Assignment.user_id == user.id)
                                          .order_by(Assignment.id.desc())))
    version = current_version(user.trust_id)
    modules = []
    if version is not None:
        read = dict(db.session.execute(select(ModuleProgress.section_id, ModuleProgress.read_at)
                                       .where(ModuleProgress.user_id == user.id)).all())
        modules = [ModuleRead(s.heading, read.get(s.id)) for s in version.sections]
    attempts = list(db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user.id)
                                       .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())))
    reasons = [f"{REMINDER_PREFIX}{kind}:{a.id}" for a in assignments for kind in REMINDER_KINDS]
    reminders = []
    for chunk in range(0, len(reasons), 900):
        reminders += db.session.scalars(select(OutboxMessage).where(OutboxMessage.reason.in_(reasons[chunk:chunk + 900])))
    reminders.sort(key=lambda m: (m.created_at, m.id), reverse=True)
    return History(user=user, today=today, assignments=assignments, version=version, modules=modules,
                   attempts=attempts, acknowledgements=for_person(user),
                   certificates=certificates_of(user, now=now), reminders=reminders)


#: Reminder kinds, in the order they are sent (see reminders.py).
REMINDER_KINDS = ("due-soon", "overdue", "manager")


# ---- another of the trust's policies (not the register's): who has completed it -------------------------


@dataclass
class SeriesRow:
    """One person in a policy's audience: their acknowledgement of its current version and their newest
    certificate of it with its status now."""

    user: User
    acknowledged_at: datetime | None
    certificate: Certificate | None
    certificate_status: str | None


def series_completion(scope: Scope, series, now: datetime) -> tuple[PolicyVersion | None, list[SeriesRow]]:
    """The policy's current version and, for every active person in the scope and the policy's audience, whether
    they have acknowledged it and hold a valid certificate of it (by name). Assignments and reminders track
    the register's policy only, so this list is what HR has for the others."""
    from modules.attestation.models import ACKNOWLEDGED, Acknowledgement
    from modules.certificates.status import certificate_status
    from modules.policies.queries import in_audience

    version = current_version(scope.trust_id, series)
    query = select(User).where(User.trust_id == scope.trust_id, User.active.is_(True)).order_by(User.name)
    if scope.academy_ids is not None:
        query = query.where(User.academy_id.in_(list(scope.academy_ids)))
    if scope.manager_id is not None:
        query = query.where(User.line_manager_id == scope.manager_id)
    people = [u for u in db.session.scalars(query) if in_audience(series, u)]
    rows = []
    for user in people:
        ack = cert = None
        if version is not None:
            ack = db.session.scalar(select(Acknowledgement).where(
                Acknowledgement.user_id == user.id, Acknowledgement.version_id == version.id,
                Acknowledgement.decision == ACKNOWLEDGED).order_by(Acknowledgement.created_at.desc()).limit(1))
        cert = db.session.scalar(select(Certificate).join(PolicyVersion, PolicyVersion.id == Certificate.version_id)
                                 .where(Certificate.user_id == user.id, PolicyVersion.series_id == series.id)
                                 .order_by(Certificate.id.desc()).limit(1))
        rows.append(SeriesRow(user, ack.created_at if ack else None, cert,
                              certificate_status(cert, now) if cert is not None else None))
    return version, rows
