"""Bad input everywhere: ids out of range in every route, hostile query strings, absurd dates, hostile `next=`,
broken staff CSV files, tampered forms and posts without a CSRF token. Nothing may answer 500; `next=` may
only lead to a path on this site; a post without its CSRF token is refused.
"""

import io
import re
import time
import urllib.parse

import lxml.html

from modules.core.extensions import db
from tests.assurance.runner import Database, Part, app_context
from tests.conftest import demo_email
from tests.helpers import sign_in
from tests.test_access_matrix import MATRIX, Ids

TITLE = "Bad inputs"
SLUG = "tkat"
#: Ids no row has: zero, negative, the largest bigint and one past it, 25 digits, leading zeros, not a number.
BAD_IDS = ["0", "-1", str(2**63 - 1), str(2**63), "9" * 25, "0" * 30 + "1", "1e3", "1.5", "%C2%B2", "0x10"]
BAD_TEXT = ["x" * 3000, "%00", "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE", "%FF", "%0D%0ASet-Cookie:%20x=1"]
QUERIES = [
    {"page": "9" * 25, "academy": "9" * 25, "account": "9" * 25, "view": "<script>", "next": "//evil.example"},
    {"page": "-1", "academy": "abc", "account": "%00", "view": "x" * 2000, "q": "\x00\r\n"},
    {"page": "0", "academy": "0", "account": str(2**63), "sort": "name;DROP TABLE user", "format": "../../x"},
    {"page": "1e9", "academy": "-5", "due": "31/12/9999", "from": "9999-99-99", "to": "0000-00-00"},
]
HOSTILE_NEXT = ["//evil.example", "/%09/evil.example", "/\t/evil.example", "https://evil.example", "/\\evil.example",
                "\\\\evil.example", "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1", "%2F%2Fevil.example",
                "///evil.example", "http:evil.example", "/\x00", " //evil.example", "@evil.example",
                "/%5Cevil.example", "/%2F%2Fevil.example", "//%09evil.example", "\u3002evil.example", "/ /evil",
                "https:/evil.example", "/%E2%80%AE/evil", "data:text/html,x"]
ABSURD_DATES = [("31", "12", "9999"), ("0", "0", "0"), ("29", "2", "2027"), ("1", "1", "-1"), ("99999999999", "1", "1"),
                ("1", "1", "1"), ("", "", ""), ("x", "y", "z"), ("31", "4", "2027"), ("1", "13", "2027"),
                ("1", "1", "99999999999999999999")]
#: Hostile values for every field of every form.
FIELD_VALUES = ["9" * 25, "-1", "x" * 20000, "line\r\nbreak", "\x00", "<script>ppx()</script>", "",
                "=cmd|' /C calc'!A0", "../../etc/passwd"]


def _csv_files(today: str) -> dict[str, bytes]:
    """Broken staff lists, each named for what is wrong with it."""
    head = "Name,Email,Job title,Department,Academy,Line manager email,Start date,Roles\n"
    row = "Ann Example,ann@{d}.example,Teacher,English,North Park Academy,,{s},\n"
    good = lambda s="01/09/2026": row.format(d="tkat-import", s=s)  # noqa: E731
    return {
        "empty file": b"",
        "headings only": head.encode(),
        "no headings": good().encode(),
        "a heading twice": (head.rstrip() + ",Email\n" + good()).encode(),
        "unknown headings": b"Who,Where\nAnn,Here\n",
        "start date 31/12/9999": (head + good("31/12/9999")).encode(),
        "start date 00/00/0000": (head + good("00/00/0000")).encode(),
        "start date 29/02/2027": (head + good("29/02/2027")).encode(),
        "start date 9999-99-99": (head + good("9999-99-99")).encode(),
        "start date 1/1/1": (head + good("1/1/1")).encode(),
        "an unterminated quote": (head + '"Ann,ann@x.example,Teacher\n').encode(),
        "a line break inside a name": (head + '"Ann\r\nBcc: x@evil.example",ann2@tkat-import.example,T,D,,,,\n').encode(),
        "a NUL byte": (head + "Ann\x00,ann3@tkat-import.example,T,D,,,,\n").encode(),
        "100 columns": (head + ",".join(["x"] * 100) + "\n").encode(),
        "UTF-16": (head + good()).encode("utf-16"),
        "Latin-1": (head + "Zoë Brontë,zoe@tkat-import.example,T,D,,,,\n").encode("latin-1"),
        "binary": bytes(range(256)) * 8,
        "an unknown role": (head + "Ann,ann4@tkat-import.example,T,D,,,,superuser\n").encode(),
        "a role HR may not give": (head + "Ann,ann5@tkat-import.example,T,D,,,,trust_admin\n").encode(),
        "HR's own row made headteacher": (head + f"Harriet Hughes,{demo_email('hr', SLUG)},HR,HR,,,,headteacher\n"
                                          ).encode(),
        "own line manager": (head + "Ann,ann6@tkat-import.example,T,D,,ann6@tkat-import.example,,\n").encode(),
        "an email of another trust": (head + f"Sam,{demo_email('staff', 'e-act')},T,D,,,,\n").encode(),
        "a 25-digit academy": (head + "Ann,ann7@tkat-import.example,T,D," + "9" * 25 + ",,,\n").encode(),
        "a formula in every cell": (head + ",".join(["=1+1"] * 8) + "\n").encode(),
        "over the size limit": head.encode() + b"x" * (3 * 1024 * 1024),
        "a million empty rows": head.encode() + b",,,,,,,\n" * 200000,
    }


class Counter:
    """Requests by kind, 500s and other findings."""

    def __init__(self, part: Part):
        self.part = part
        self.tried: dict[str, int] = {}
        self.bad: dict[str, int] = {}

    def check(self, kind: str, what: str, response, problem: str | None = None) -> None:
        """Count a request; a 500 (or a named problem) is a finding."""
        self.tried[kind] = self.tried.get(kind, 0) + 1
        if response.status_code >= 500 or problem:
            self.bad[kind] = self.bad.get(kind, 0) + 1
            self.part.findings.append(f"{what}: {problem or response.status_code}")


def _client(app, person: str | None):
    client = app.test_client()
    if person:
        sign_in(client, demo_email(person, SLUG))
    return client


def _fill(rule: str, varied: str, value: str, samples: dict[str, str]) -> str:
    def sub(match):
        name = match.group(2)
        return value if name == varied else samples.get(name, "1" if match.group(1) == "int" else "csv")
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", sub, rule)


def _ids_and_paths(app, count: Counter, people: list[str]) -> None:
    samples = {"fmt": "csv", "view": "people", "code": "AAAA", "token": "x", "filename": "x.css", "group": "hr"}
    rules = [r for r in app.url_map.iter_rules() if r.arguments and r.endpoint != "static"]
    for person in [None, *people]:
        client = _client(app, person)
        for rule in rules:
            converters = rule._converters  # name → converter
            for name, converter in converters.items():
                values = BAD_IDS if type(converter).__name__ in ("IdConverter", "IntegerConverter") else BAD_TEXT
                for value in values:
                    path = _fill(rule.rule, name, value, samples)
                    for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                        response = client.open(path, method=method)
                        count.check("ids", f"{method} {path[:120]} as {person or 'anonymous'}", response)


def _queries(app, count: Counter, people: list[str]) -> None:
    ids = Ids(SLUG)
    paths = sorted({route.path(ids) for route in MATRIX.values() if route.method == "GET"})
    for person in people:
        client = _client(app, person)
        for path in paths:
            for query in QUERIES:
                url = path + ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
                count.check("queries", f"GET {url[:140]} as {person}", client.get(url))


def _redirect_problem(location: str | None) -> str | None:
    if not location:
        return None
    parsed = urllib.parse.urlsplit(urllib.parse.urljoin("http://localhost/", location))
    if parsed.netloc != "localhost" or parsed.scheme != "http":
        return f"redirected off the site to {location!r}"
    if not location.startswith("/") or location.startswith("//") or "\\" in location or re.search(
            r"[\x00-\x1f\x7f]", location):
        return f"redirected to an unsafe Location {location!r}"
    return None


def _next(app, count: Counter) -> None:
    for value in HOSTILE_NEXT:
        query = "?next=" + urllib.parse.quote(value, safe="%")
        client = app.test_client()
        count.check("next", f"GET /sign-in{query}", client.get("/sign-in" + query))
        response = client.post("/sign-in" + query, data={"email": demo_email("staff", SLUG),
                                                           "password": "policypass-demo"})
        count.check("next", f"POST /sign-in{query}", response, _redirect_problem(response.headers.get("Location")))
        for path in ("/reauthenticate", "/sign-out"):
            response = client.open(path + query, method="GET" if path != "/sign-out" else "POST")
            count.check("next", f"{path}{query}", response, _redirect_problem(response.headers.get("Location"))
                        if path == "/sign-out" else None)


def _dates(app, count: Counter) -> None:
    hr, eact = _client(app, "hr"), app.test_client()
    sign_in(eact, demo_email("hr", "e-act"))
    from modules.policies.queries import versions_of

    tkat_version = versions_of(Ids(SLUG).trust().id)[0].id
    eact_draft = versions_of(Ids("e-act").trust().id)[0].id
    staff = Ids(SLUG).user("staff")
    for day, month, year in ABSURD_DATES:
        boxes = [day, month, year]
        for client, path, data in [
                (eact, f"/hr/policy/versions/{eact_draft}/publish", {"confirm": "", "effective_on": boxes}),
                (hr, f"/hr/policy/versions/{tkat_version}/next-review", {"next_review_on": boxes}),
                (hr, f"/tracking/people/{staff}/extend", {"due_on": boxes, "reason": "Long-term absence"})]:
            count.check("dates", f"POST {path} with {'/'.join(boxes)}", client.post(path, data=data))


def _imports(app, count: Counter) -> int:
    hr = _client(app, "hr")
    files = _csv_files("")
    for name, data in files.items():
        preview = hr.post("/staff/import", data={"file": (io.BytesIO(data), "staff.csv"), "full": ""},
                          content_type="multipart/form-data")
        count.check("csv", f"staff import preview of a file with {name}", preview)
        if preview.status_code != 200:
            continue
        page = preview.get_data(as_text=True)
        hidden = dict(re.findall(r'name="(upload|fingerprint|full)"[^>]*value="([^"]*)"', page))
        if "upload" in hidden:
            applied = hr.post("/staff/import/apply", data={**hidden, "confirm_leavers": "y"})
            count.check("csv", f"staff import apply of a file with {name}", applied)
    return len(files)


def _forms(app, count: Counter, people: list[str]) -> int:
    """Every form on every GET page, posted with each hostile value in every field."""
    ids = Ids(SLUG)
    paths = sorted({route.path(ids) for route in MATRIX.values() if route.method == "GET"})
    forms = 0
    for person in people:
        client = _client(app, person)
        for path in paths:
            page = client.get(path)
            if page.status_code != 200 or page.mimetype != "text/html":
                continue
            tree = lxml.html.fromstring(page.get_data(as_text=True))
            for form in tree.forms:
                if (form.method or "GET").upper() != "POST":
                    continue
                action = urllib.parse.urljoin(path, form.action or path)
                if action.startswith(("/sign-out", "/account/two-step")):
                    continue  # ending the session or two-step would end this person's run, not test input
                names = sorted({e.name for e in form.inputs if e.name and e.name != "csrf_token"})
                forms += 1
                for value in FIELD_VALUES:
                    response = client.post(action, data={name: value for name in names})
                    count.check("forms", f"POST {action} ({len(names)} fields = {value[:20]!r}) as {person}",
                                response)
    return forms


def _csrf(database: Database, count: Counter, people: list[str]) -> None:
    """Every POST route of the matrix, without a CSRF token, on an app that checks it: always refused."""
    with app_context(database, WTF_CSRF_ENABLED=True) as app:
        ids = Ids(SLUG)
        for person in people:
            client = app.test_client()
            sign_in(client, demo_email(person, SLUG))
            for name, route in sorted(MATRIX.items()):
                if route.method != "POST":
                    continue
                response = client.post(route.path(ids), data=dict(route.data or {}))
                count.check("csrf", f"POST {route.path(ids)} without a token as {person}", response,
                            None if response.status_code in (400, 403, 404) or name == "auth.logout"
                            else f"accepted without a CSRF token ({response.status_code})")
        db.session.remove()


def run(database: Database, *, people: list[str] = ("staff", "manager", "hr", "comms", "admin")) -> Part:
    """All of the above; returns the counts."""
    part = Part(TITLE, database.backend)
    started = time.monotonic()
    count = Counter(part)
    people = list(people)
    timings = {}

    def timed(name, call, *args):
        began = time.monotonic()
        result = call(*args)
        timings[name] = time.monotonic() - began
        return result

    with app_context(database, WTF_CSRF_ENABLED=False) as app:
        timed("ids", _ids_and_paths, app, count, people)
        timed("queries", _queries, app, count, people)
        timed("next", _next, app, count)
        timed("dates", _dates, app, count)
        files = timed("csv", _imports, app, count)
        forms = timed("forms", _forms, app, count, people)
    timed("csrf", _csrf, database, count, people)
    labels = {
        "ids": ("ids out of range (0, -1, 2^63, 25 digits, not numbers) and hostile path text, every route "
                "with a parameter, GET and POST", "500s"),
        "queries": ("hostile query strings (page, academy, account, view, dates) on every GET page", "500s"),
        "next": (f"hostile `next=` values ({len(HOSTILE_NEXT)}) on sign-in, re-authentication and sign-out",
                 "500s or off-site redirects"),
        "dates": (f"absurd dates ({len(ABSURD_DATES)}) in publish, next review and extend deadline", "500s"),
        "csv": (f"broken staff CSV files ({files}), previewed and, where a preview came back, applied", "500s"),
        "forms": (f"tampered forms: every field of {forms} forms × {len(FIELD_VALUES)} hostile values", "500s"),
        "csrf": ("POST routes without a CSRF token", "accepted or 500s"),
    }
    for kind, (what, label) in labels.items():
        part.add(what, count.tried.get(kind, 0), count.bad.get(kind, 0), label)
    part.notes.append(f"as anonymous and {', '.join(people)} of {SLUG.upper()}; seconds per kind: "
                      + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    part.seconds = time.monotonic() - started
    return part
