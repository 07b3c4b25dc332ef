"""Cross-trust sweep: every route that takes an id, as every person of every trust, with each other trust's ids.

The routes, their paths and the rows behind their ids come from tests/test_access_matrix.py (MATRIX), so a
route added there is swept here too. A leak is an answer below 400 to a signed-in person (anonymous: anything
but the sign-in redirect), or a page that names the other trust or one of its people, whatever its status.
The rows of every table are counted before and after: a POST that changed anything is counted as well.
"""

import time

import sqlalchemy as sa

from modules.core.extensions import db
from tests.assurance.runner import Database, Part, app_context
from tests.conftest import demo_email
from tests.helpers import sign_in
from tests.test_access_matrix import MATRIX, PEOPLE, Ids, Route

TITLE = "Routes × roles × trusts"
SLUGS = ["tkat", "e-act", "tasmat", "tsat", "agora"]
#: Tables a request may write whoever makes it (the person's session, the security log); not data it reached.
LOG_TABLES = {"login_session", "security_event"}


def id_routes() -> dict[str, Route]:
    """Every route in the access matrix whose path carries an id."""
    return {name: route for name, route in sorted(MATRIX.items()) if route.takes_id}


def _counts() -> dict[str, int]:
    db.session.commit()
    return {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables if table.name not in LOG_TABLES}


def _markers(slug: str) -> list[str]:
    """Text that appears only on a page showing the trust's data: its name and its people's addresses."""
    return [Ids(slug).trust().name, f"@{slug}.demo.policypass.uk"]


def _leaked(response, foreign: str, markers: dict[str, list[str]], signed_in: bool) -> str | None:
    status = response.status_code
    if signed_in and status < 400:
        return f"answered {status}"
    if not signed_in and not (status == 302 and "/sign-in" in response.headers.get("Location", "")):
        return f"answered {status} to someone signed out"
    body = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
    shown = [m for m in markers[foreign] if m in body]
    return f"page shows {shown}" if shown else None


def run(database: Database, *, homes: list[str] = SLUGS, people: list[str] = PEOPLE,
        others: int = len(SLUGS) - 1, routes: dict[str, Route] | None = None, prepare=None) -> Part:
    """Sweep the id routes; `others` limits how many other trusts each home trust is tried against.

    `routes` and `prepare(app)` (called before the first request) let a test plant a leaking route.
    """
    part = Part(TITLE, database.backend)
    started = time.monotonic()
    routes = routes or id_routes()
    with app_context(database, WTF_CSRF_ENABLED=False) as app:
        if prepare:
            prepare(app)
        paths = {(name, slug): route.path(Ids(slug)) for name, route in routes.items() for slug in SLUGS}
        markers = {slug: _markers(slug) for slug in SLUGS}
        clients = {}
        for home in homes:
            for person in people:
                client = app.test_client()
                if person != "anonymous":
                    sign_in(client, demo_email(person, home))
                clients[home, person] = client
        before = _counts()
        tried = {"GET": 0, "POST": 0}
        leaks = {"GET": 0, "POST": 0}
        refused_otherwise = 0
        for name, route in routes.items():
            for home_index, home in enumerate(SLUGS):
                if home not in homes:
                    continue
                foreign = [SLUGS[(home_index + k) % len(SLUGS)] for k in range(1, others + 1)]
                for person in people:
                    if person == "anonymous" and home != homes[0]:
                        continue  # signed out, the home trust does not matter: tried once per other trust
                    for other in foreign:
                        response = clients[home, person].open(paths[name, other], method=route.method,
                                                              data=dict(route.data or {}))
                        tried[route.method] += 1
                        problem = _leaked(response, other, markers, person != "anonymous")
                        if problem:
                            leaks[route.method] += 1
                            part.findings.append(f"{route.method} {paths[name, other]} ({name}, another trust's "
                                                 f"id) as {home} {person}: {problem}")
                        elif person != "anonymous" and response.status_code != 404:
                            refused_otherwise += 1
        after = _counts()
    changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
    get_routes = sum(r.method == "GET" for r in routes.values())
    part.add(f"GET routes with an id ({get_routes}) × people × trusts × other trusts' ids", tried["GET"],
             leaks["GET"], "leaks")
    part.add(f"POST routes with an id ({len(routes) - get_routes}) × people × trusts × other trusts' ids",
             tried["POST"], leaks["POST"], "leaks")
    part.add("tables changed by those requests", len(before), len(changed), "changed",
             note=", ".join(f"{t} {a}→{b}" for t, (a, b) in changed.items()))
    if refused_otherwise:
        part.notes.append(f"{refused_otherwise} refusals were not 404 (403 or 400 before the id was looked up); "
                             "not leaks, but DESIGN §4 asks for 404")
    part.notes.append(f"home trusts {', '.join(homes)}; people {', '.join(people)}; each against {others} other "
                      f"trust(s)")
    part.seconds = time.monotonic() - started
    return part
