"""Dashboard filters and sorting, read from the URL's query string and checked against the viewer's scope.

Everything a dashboard shows is named by its URL, so a view can be bookmarked, shared and exported as it is.
An academy, role or manager that is not in the viewer's trust (or scope) is refused with a clear 400.
"""

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sqlalchemy import select

from modules.core.extensions import db
from modules.core.inputs import parse_id
from modules.people.models import Academy, Role, User
from modules.tracking.scope import Scope

STATUSES = {"complete": "Complete", "due": "Due", "overdue": "Overdue", "exempt": "Exempt",
            "unassigned": "Not assigned"}
GROUPS = {"academy": "Academy", "role": "Role", "manager": "Line manager", "module": "Module"}
WITHIN = (30, 60, 90)
PEOPLE_SORTS = ("name", "academy", "manager", "due", "status")
GROUP_SORTS = ("label", "total", "percent", "overdue")
EXPIRY_SORTS = ("expires", "name", "academy")
PAGE_SIZE = 100


class FilterError(ValueError):
    """A filter in the URL is not one the viewer may use; the message says which and why."""


@dataclass(frozen=True)
class Filters:
    """What a dashboard view is narrowed to and how it is sorted."""

    academy: int | None = None
    role: str | None = None
    manager: int | None = None
    status: str | None = None
    q: str = ""
    by: str = "academy"
    within: int = 30
    sort: str = ""
    desc: bool = False
    page: int = 1

    def args(self, **changes) -> dict:
        """The query-string arguments for these filters (with changes), leaving out defaults."""
        f = replace(self, **changes)
        out = {"academy": f.academy, "role": f.role, "manager": f.manager, "status": f.status, "q": f.q or None,
               "by": f.by if f.by != "academy" else None, "within": f.within if f.within != 30 else None,
               "sort": f.sort or None, "dir": "desc" if f.desc else None, "page": f.page if f.page > 1 else None}
        return {k: v for k, v in out.items() if v is not None}

    def query_string(self, **changes) -> str:
        """The filters as a query string (no leading "?")."""
        return urlencode(self.args(**changes))

    def sort_args(self, column: str) -> dict:
        """Arguments for a column heading's link: sort by it, flipping direction if already sorted by it."""
        return self.args(sort=column, desc=(not self.desc) if self.sort == column else False, page=1)

    def aria_sort(self, column: str) -> str:
        """The aria-sort value of a column heading."""
        if self.sort != column:
            return "none"
        return "descending" if self.desc else "ascending"


def _int(args, name: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise FilterError(f"The {name} in the address is not valid. Choose it from the list instead.")
    return value


def _choice(args, name: str, allowed, default):
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if raw not in allowed:
        raise FilterError(f"The {name} in the address is not one of the choices. Choose it from the page instead.")
    return raw


def parse(args, scope: Scope, *, sorts=PEOPLE_SORTS) -> Filters:
    """Read and check the filters in a query string; FilterError if one is foreign, unknown or malformed."""
    academy = _int(args, "academy")
    if academy is not None:
        found = db.session.scalar(select(Academy.id).where(Academy.id == academy,
                                                           Academy.trust_id == scope.trust_id))
        if found is None or (scope.academy_ids is not None and academy not in scope.academy_ids):
            raise FilterError("That academy is not one you can see. Choose an academy from the list.")
    role = (args.get("role") or "").strip() or None
    if role is not None:
        found = db.session.scalar(select(Role.id).where(Role.key == role, Role.trust_id == scope.trust_id))
        if found is None:
            raise FilterError("That role is not one of your trust's roles. Choose a role from the list.")
    manager = _int(args, "manager")
    if manager is not None:
        found = db.session.scalar(select(User.id).where(User.id == manager, User.trust_id == scope.trust_id))
        if found is None:
            raise FilterError("That line manager is not in your trust.")
    within = int(_choice(args, "within", {str(w) for w in WITHIN}, "30"))
    page = _int(args, "page") or 1
    return Filters(academy=academy, role=role, manager=manager,
                   status=_choice(args, "status", STATUSES, None), q=(args.get("q") or "").strip()[:100],
                   by=_choice(args, "by", GROUPS, "academy"), within=within,
                   sort=_choice(args, "sort", sorts, ""), desc=_choice(args, "dir", ("asc", "desc"), "asc") == "desc",
                   page=max(page, 1))


def academies_in(scope: Scope) -> list[Academy]:
    """The academies a viewer may filter by, by name."""
    query = select(Academy).where(Academy.trust_id == scope.trust_id).order_by(Academy.name)
    if scope.academy_ids is not None:
        query = query.where(Academy.id.in_(scope.academy_ids))
    return list(db.session.scalars(query))


def roles_in(scope: Scope) -> list[Role]:
    """The trust's roles, by label."""
    return list(db.session.scalars(select(Role).where(Role.trust_id == scope.trust_id).order_by(Role.label)))
