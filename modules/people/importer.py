"""Bulk staff import from a CSV in the shape an MIS export gives, in two steps.

1. `plan_import` reads the file and checks every row without changing anything (the dry run): bad email,
   unknown academy, unknown role, a line manager in neither the file nor the database, duplicate emails,
   line managers that form a loop. A malformed file (not UTF-8 text, no header, missing columns, too big,
   too many rows) raises ImportFileError before any row is looked at.
2. `apply_import` upserts the rows without errors by email, and — for a *full* import, once HR has confirmed
   — marks active people absent from the file as leavers. Rows with errors are never applied.

New people get a one-time "set your password" link that expires (see `set_password_token`): it is signed
with the app's secret key and bound to the person's current password hash, so it stops working once used.
Later packages hear about imports through the signals in people/signals.py (tracking assigns training and sends the link).
"""

import csv
import hashlib
import io
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.inputs import has_control_characters
from modules.core.timeutil import LONDON
from modules.people.models import Academy, Role, Trust, User
from modules.people.services import (
    can_manage,
    grant_role,
    mark_left,
    normalise_email,
    record_role_change,
    role_keys,
    role_refusal,
    upsert_user,
)
from modules.people.signals import staff_imported, staff_invited

#: Our names for the columns, with the headings MIS exports use for them (compared case-insensitively).
COLUMNS = {
    "name": ("name", "full name", "staff name", "employee name"),
    "email": ("email", "email address", "work email", "e-mail"),
    "job_title": ("job title", "title", "post", "job"),
    "department": ("department", "dept", "team"),
    "academy": ("academy", "school", "setting", "site"),
    "manager_email": ("line manager email", "manager email", "line manager", "line manager e-mail"),
    "start_date": ("start date", "employment start date", "date started"),
    "roles": ("roles", "role", "system roles"),
}
REQUIRED = ("name", "email", "academy")
HEADINGS = {"name": "Name", "email": "Email", "job_title": "Job title", "department": "Department",
            "academy": "Academy", "manager_email": "Line manager email", "start_date": "Start date",
            "roles": "Roles"}
EMAIL_RE = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.]{2,}$")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
#: Start dates outside these are refused as typing errors (31/12/9999 would break every deadline sum).
EARLIEST_START, LATEST_START = date(1950, 1, 1), date(2099, 12, 31)
SET_PASSWORD_SALT = "policypass-set-password"


class ImportFileError(ValueError):
    """The file cannot be read as a staff list; the message says why, for the person uploading it."""


@dataclass
class ImportRow:
    """One staff row of the file: what it says, what it resolves to, and what is wrong with it."""

    line: int
    values: dict[str, str]
    email: str = ""
    academy: Academy | None = None
    manager_email: str = ""
    start_date: date | None = None
    role_keys: list[str] = field(default_factory=list)
    existing: User | None = None
    errors: list[str] = field(default_factory=list)
    action: str = ""

    @property
    def ok(self) -> bool:
        """Whether the row will be applied."""
        return not self.errors


@dataclass
class ImportPlan:
    """The dry run: every row with its errors or action, and who a full import would mark as leavers."""

    trust: Trust
    full: bool
    rows: list[ImportRow]
    leavers: list[User]
    #: A full import's absentees whom the importer cannot manage (they hold a role the importer cannot give,
    #: or it is the importer): listed as "not in the file, left alone", never marked as leavers.
    left_alone: list[User] = field(default_factory=list)
    #: Who is importing (recorded as the actor of every role change).
    actor: User | None = None

    @property
    def good(self) -> list[ImportRow]:
        """Rows that will be applied."""
        return [r for r in self.rows if r.ok]

    @property
    def bad(self) -> list[ImportRow]:
        """Rows with errors, which will not be applied."""
        return [r for r in self.rows if not r.ok]

    def count(self, action: str) -> int:
        """How many rows will have the action ("create", "update", "reactivate", "unchanged")."""
        return sum(1 for r in self.good if r.action == action)

    @property
    def fingerprint(self) -> str:
        """A digest of what applying would do, so the apply step can check it is what HR previewed."""
        parts = [f"{r.line}:{r.email}:{r.action}:{'|'.join(r.errors)}" for r in self.rows]
        parts += [f"leaver:{u.id}" for u in self.leavers]
        parts.append(f"full:{self.full}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass
class ImportResult:
    """What applying did."""

    created: list[User] = field(default_factory=list)
    updated: int = 0
    reactivated: int = 0
    unchanged: int = 0
    left: int = 0
    skipped: int = 0
    #: New rows whose address turned out to be unusable (already an account elsewhere): not created.
    not_added: int = 0


# ---- reading the file --------------------------------------------------------------------------------

def _heading(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").strip().lower().split())


def _column_map(header: list[str]) -> dict[str, int]:
    lookup = {_heading(alias.replace("-", " ")): key for key, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, heading in enumerate(header):
        key = lookup.get(_heading(heading))
        if key is None:
            continue
        if key in found:
            raise ImportFileError(f"The file has two “{HEADINGS[key]}” columns. Remove one and upload it again.")
        found[key] = index
    missing = [HEADINGS[k] for k in REQUIRED if k not in found]
    if missing:
        raise ImportFileError("The file's first row must name the columns. Missing: " + ", ".join(missing) +
                              ". Expected columns: " + ", ".join(HEADINGS.values()) + ".")
    return found


def read_rows(data: bytes, *, max_bytes: int, max_rows: int) -> list[ImportRow]:
    """Read the CSV bytes into rows of values; ImportFileError if the file is not a readable staff list."""
    if not data:
        raise ImportFileError("The file is empty. Choose a CSV file of your staff.")
    if len(data) > max_bytes:
        raise ImportFileError(f"The file is larger than {max_bytes // (1024 * 1024) or 1} MB. Split it, or remove "
                              "columns other than the ones listed, and upload it again.")
    if b"\x00" in data[:4096]:
        raise ImportFileError("The file is not a CSV file. In your spreadsheet, choose Save as, then CSV UTF-8.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not in UTF-8. In your spreadsheet, choose Save as, then “CSV UTF-8 "
                              "(comma delimited)”, and upload that file.") from exc
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise ImportFileError(f"The file could not be read as CSV ({exc}). Check it opens in a spreadsheet, "
                              "then save it again as CSV UTF-8.") from exc
    records = [(number, r) for number, r in enumerate(records, start=1) if any(cell.strip() for cell in r)]
    if not records:
        raise ImportFileError("The file is empty. Choose a CSV file of your staff.")
    columns = _column_map(records[0][1])
    body = records[1:]
    if not body:
        raise ImportFileError("The file has a header row but no staff in it.")
    if len(body) > max_rows:
        raise ImportFileError(f"The file has {len(body)} staff rows; the most one import takes is {max_rows}. "
                              "Split it by academy and import each part.")
    rows = []
    for number, record in body:
        values = {key: (record[index].strip() if index < len(record) else "") for key, index in columns.items()}
        row = ImportRow(line=number, values=values)
        if len(record) > len(records[0][1]) and any(c.strip() for c in record[len(records[0][1]):]):
            row.errors.append("has more values than the header has columns")
        rows.append(row)
    return rows


# ---- checking rows -----------------------------------------------------------------------------------

def _parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _role_lookup(trust: Trust) -> dict[str, Role]:
    lookup: dict[str, Role] = {}
    for role in db.session.scalars(select(Role).where(Role.trust_id == trust.id)):
        for name in (role.key, role.label, *role.aliases):
            lookup.setdefault(" ".join(name.lower().replace("_", " ").split()), role)
    return lookup


def _academy_lookup(trust: Trust) -> dict[str, Academy]:
    lookup: dict[str, Academy] = {}
    for academy in db.session.scalars(select(Academy).where(Academy.trust_id == trust.id)):
        lookup[academy.slug.lower()] = academy
        lookup[" ".join(academy.name.lower().split())] = academy
    return lookup


def _check_fields(row: ImportRow, trust: Trust, academies, roles, actor: User,
                  allowed_academy_ids: set[int] | None) -> None:
    v = row.values
    odd = [HEADINGS[key] for key, value in v.items() if has_control_characters(value)]
    if odd:
        row.errors.append(f"has a line break, tab or other control character in {', '.join(odd)}: "
                          "each value must be on one line")
    if not v.get("name"):
        row.errors.append("has no name")
    elif len(v["name"]) > 200:
        row.errors.append("has a name longer than 200 characters")
    row.email = normalise_email(v.get("email", ""))
    if not row.email:
        row.errors.append("has no email address")
    elif len(row.email) > 254 or not EMAIL_RE.match(row.email):
        row.errors.append(f"has an email address that is not valid: “{v['email']}”")
    for key, limit in (("job_title", 200), ("department", 200)):
        if len(v.get(key, "")) > limit:
            row.errors.append(f"has a {HEADINGS[key].lower()} longer than {limit} characters")
    academy_text = " ".join(v.get("academy", "").lower().split())
    if academy_text:
        row.academy = academies.get(academy_text)
        if row.academy is None:
            row.errors.append(f"names an academy that is not in {trust.short_name}: “{v['academy']}”")
    if allowed_academy_ids is not None and (row.academy.id not in allowed_academy_ids if row.academy
                                            else not academy_text):
        row.errors.append("is for an academy (or the central team) you do not manage staff for")
    manager = normalise_email(v.get("manager_email", ""))
    if manager and not EMAIL_RE.match(manager):
        row.errors.append(f"has a line manager email that is not valid: “{v['manager_email']}”")
    elif manager and manager == row.email:
        row.errors.append("names the person as their own line manager")
    else:
        row.manager_email = manager
    if v.get("start_date"):
        try:
            row.start_date = _parse_date(v["start_date"])
        except ValueError:
            row.errors.append(f"has a start date that is not a date: “{v['start_date']}” (use 21/11/2026 "
                              "or 2026-11-21)")
        else:
            if not EARLIEST_START <= row.start_date <= LATEST_START:
                row.errors.append(f"has a start date that cannot be right: “{v['start_date']}” (use a date "
                                  "between 1950 and 2099, e.g. 21/11/2026)")
                row.start_date = None
    for name in re.split(r"[;|,]", v.get("roles", "")):
        name = " ".join(name.strip().lower().replace("_", " ").split())
        if not name:
            continue
        role = roles.get(name)
        if role is None:
            row.errors.append(f"names a role {trust.short_name} does not have: “{name}”")
        elif (refusal := role_refusal(actor, role)) is not None:
            row.errors.append(refusal)
        elif role.key not in row.role_keys:
            row.role_keys.append(role.key)


def _check_role_rights(row: ImportRow, actor: User) -> None:
    """The row may not change the roles of the importer, or of someone holding a role the importer cannot give."""
    user = row.existing
    if user is None:
        return
    held = {a.role.key for a in user.role_assignments}
    adds = [key for key in row.role_keys if key not in held]
    moved = user.academy_id != (row.academy.id if row.academy else None)
    drops = moved and any(a.academy_id is not None for a in user.role_assignments)
    if user.id == actor.id:
        if adds or drops:
            row.errors.append("changes your own roles: nobody can change their own roles, ask another administrator")
        return
    if can_manage(actor, user):
        return
    if adds or drops:
        row.errors.append(f"would change the roles of {user.name}, whose roles you cannot change (they hold a "
                          "role you cannot give): ask your trust administrator")
    elif not user.active:
        row.errors.append(f"would bring back {user.name}, who held a role you cannot give: ask your trust "
                          "administrator")


def _check_duplicates(rows: list[ImportRow]) -> None:
    lines: dict[str, list[int]] = {}
    for row in rows:
        if row.email:
            lines.setdefault(row.email, []).append(row.line)
    for row in rows:
        others = lines.get(row.email, [])
        if len(others) > 1:
            row.errors.append(f"has the same email address as rows {', '.join(map(str, others))}: "
                              "each person must appear once")


def _check_managers(rows: list[ImportRow], trust: Trust, people: dict[str, User]) -> None:
    """A line manager must be in the file (on a good row) or already in the trust, and never form a loop."""
    in_file = {r.email: r for r in rows if r.email}
    manager_of: dict[str, str] = {}
    by_id = {u.id: u for u in people.values()}
    for user in people.values():
        if user.line_manager_id and user.line_manager_id in by_id:
            manager_of[user.email] = by_id[user.line_manager_id].email
    for row in rows:
        if row.email:
            manager_of[row.email] = row.manager_email
    for row in rows:
        if not row.manager_email:
            continue
        known = people.get(row.manager_email)
        if row.manager_email not in in_file and (known is None or not known.active):
            row.errors.append(f"names a line manager who is not in the file or in {trust.short_name}: "
                              f"“{row.manager_email}”" + (" (they have left)" if known is not None else ""))
    for row in rows:
        seen = [row.email]
        current = manager_of.get(row.email)
        while current:
            if current == row.email:
                row.errors.append("has line managers that form a loop: " + " → ".join([*seen, row.email]))
                break
            if current in seen:
                break  # a loop further up, reported on the rows in it
            seen.append(current)
            current = manager_of.get(current)
    # A manager whose own row has errors will not exist after the import unless already in the trust.
    changed = True
    while changed:
        changed = False
        for row in rows:
            manager = in_file.get(row.manager_email)
            if (row.ok and manager is not None and not manager.ok
                    and (people.get(row.manager_email) is None or not people[row.manager_email].active)):
                row.errors.append(f"names a line manager whose own row (row {manager.line}) has errors")
                changed = True


def _action(row: ImportRow) -> str:
    user = row.existing
    if user is None:
        return "create"
    if not user.active:
        return "reactivate"
    v = row.values
    manager = user.line_manager.email if user.line_manager else ""
    same = (user.name == v.get("name") and (user.job_title or "") == v.get("job_title", "")
            and (user.department or "") == v.get("department", "")
            and user.academy_id == (row.academy.id if row.academy else None)
            and manager == row.manager_email and user.start_date == row.start_date
            and set(row.role_keys) <= {a.role.key for a in user.role_assignments})
    return "unchanged" if same else "update"


def plan_import(trust: Trust, data: bytes, *, full: bool, actor: User,
                allowed_academy_ids: set[int] | None = None) -> ImportPlan:
    """Read and check a staff file against the trust, changing nothing; ImportFileError if it is malformed."""
    config = current_app.config
    rows = read_rows(data, max_bytes=config["STAFF_IMPORT_MAX_BYTES"], max_rows=config["STAFF_IMPORT_MAX_ROWS"])
    academies, roles = _academy_lookup(trust), _role_lookup(trust)
    for row in rows:
        _check_fields(row, trust, academies, roles, actor, allowed_academy_ids)
    _check_duplicates(rows)
    people = {u.email: u for u in db.session.scalars(select(User).where(User.trust_id == trust.id))}
    emails = [r.email for r in rows if r.email and r.email not in people]
    del emails  # an address used in another trust is previewed exactly like a new one (no disclosure)
    for row in rows:
        row.existing = people.get(row.email)
        if row.ok:
            _check_role_rights(row, actor)
    _check_managers(rows, trust, people)
    for row in rows:
        if row.ok:
            row.action = _action(row)
    leavers, left_alone = [], []
    if full:
        listed = {r.email for r in rows if r.email}
        absent = sorted((u for u in people.values() if u.active and u.email not in listed
                         and (allowed_academy_ids is None or u.academy_id in allowed_academy_ids)),
                        key=lambda u: (u.name.lower(), u.id))
        leavers = [u for u in absent if can_manage(actor, u)]
        left_alone = [u for u in absent if not can_manage(actor, u)]
    return ImportPlan(trust=trust, full=full, rows=rows, leavers=leavers, left_alone=left_alone, actor=actor)


# ---- applying ----------------------------------------------------------------------------------------

def _academy_changed_cleanup(user: User, academy: Academy | None) -> None:
    """Academy-scoped roles held for another academy end when someone moves academy."""
    keep = academy.id if academy else None
    for assignment in list(user.role_assignments):
        if assignment.academy_id is not None and assignment.academy_id != keep:
            user.role_assignments.remove(assignment)
    db.session.flush()


#: How many rows apply_import saves between two progress reports (a worker's import of thousands of rows).
PROGRESS_EVERY = 50


def apply_import(plan: ImportPlan, *, now: datetime, confirm_leavers: bool,
                 progress: Callable[[int, int, str], None] | None = None) -> ImportResult:
    """Apply the plan's good rows (upsert by email) and, if confirmed, mark a full import's absentees as leavers.

    Add and flush; the caller commits once, so a failure part-way imports nothing. Rows with errors are
    skipped. `progress(done, total, step)`, when given, hears how far it has got (the worker's job page).
    """
    result = ImportResult(skipped=len(plan.bad))
    trust = plan.trust
    users: dict[str, User] = {}
    roles_before: dict[str, list[str]] = {}
    total = len(plan.good)
    for number, row in enumerate(plan.good):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number, total, f"Saving row {number + 1} of {total}")
        v = row.values
        if row.action == "create" and db.session.scalar(select(User.id).where(User.email == row.email)):
            result.not_added += 1  # the address is in use outside this trust: nothing to create, nothing said
            continue
        roles_before[row.email] = role_keys(row.existing) if row.existing else []
        if row.action == "unchanged":
            users[row.email] = row.existing
            result.unchanged += 1
            continue
        user = row.existing
        moved = user is not None and user.academy_id != (row.academy.id if row.academy else None)
        user = upsert_user(trust, email=row.email, name=v["name"], now=now, job_title=v.get("job_title", ""),
                           department=v.get("department", ""), academy=row.academy,
                           line_manager=user.line_manager if user else None, start_date=row.start_date)
        if moved:
            _academy_changed_cleanup(user, row.academy)
        users[row.email] = user
        if row.action == "create":
            result.created.append(user)
        elif row.action == "reactivate":
            user.active, user.left_on = True, None
            result.reactivated += 1
        else:
            result.updated += 1
    if progress is not None:
        progress(total, total, "Linking line managers and roles")
    for row in plan.good:
        if row.email not in users:
            continue
        user = users[row.email]
        manager = users.get(row.manager_email) or (db.session.scalar(select(User).where(
            User.email == row.manager_email, User.trust_id == trust.id)) if row.manager_email else None)
        user.line_manager_id = manager.id if manager else None
        grant_role(user, "staff", row.academy)
        for key in row.role_keys:
            grant_role(user, key, row.academy)
    db.session.flush()
    for email, before in roles_before.items():
        user = users[email]
        if before or role_keys(user) != [f"staff@{user.academy.slug}" if user.academy else "staff"]:
            record_role_change(user, actor=plan.actor, before=before, source="import", now=now)
    changed = [r for r in plan.good if r.action != "unchanged" and r.email in users]
    staff_imported.send(trust, now=now, user_ids=[users[r.email].id for r in changed],
                        created_ids=[users[r.email].id for r in changed if r.action == "create"],
                        returned_ids=[users[r.email].id for r in changed if r.action == "reactivate"])
    for user in result.created:
        staff_invited.send(user, token=set_password_token(user), now=now)
    if plan.full and plan.leavers and confirm_leavers:
        today = now.replace(tzinfo=UTC).astimezone(LONDON).date()
        for user in plan.leavers:
            mark_left(user, on=today, now=now)
            result.left += 1
    db.session.flush()
    return result


# ---- the set-password link ---------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SET_PASSWORD_SALT)


def _password_state(user: User) -> str:
    return hashlib.sha256((user.password_hash or "no password").encode()).hexdigest()[:16]


def set_password_token(user: User) -> str:
    """A signed token for the person's set-password link; it dies when any password is set, or when it expires."""
    return _serializer().dumps({"u": user.id, "p": _password_state(user)})


def user_for_token(token: str) -> User | None:
    """The person a set-password token is for, if it is genuine, unexpired and unused; else None."""
    max_age = int(current_app.config["SET_PASSWORD_MAX_AGE_HOURS"]) * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("p") != _password_state(user):
        return None
    return user



# ---- the uploaded file, kept between the preview and the apply step ----------------------------------

UPLOAD_KEY_RE = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_DIR = "staff-imports"
#: Uploads not applied within this long are deleted on the next upload.
UPLOAD_MAX_AGE_SECONDS = 24 * 3600


def _upload_path(key: str, actor: User) -> Path:
    return Path(current_app.instance_path) / UPLOAD_DIR / f"{actor.id}-{key}.csv"


def stash_upload(data: bytes, actor: User) -> str:
    """Keep an uploaded file (outside the database) until HR applies it; returns its key."""
    folder = Path(current_app.instance_path) / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for old in folder.glob("*.csv"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another request removed it first
    key = secrets.token_hex(16)
    path = _upload_path(key, actor)
    path.write_bytes(data)
    path.chmod(0o600)
    return key


def load_upload(key: str, actor: User) -> bytes | None:
    """The file stashed under the key by this person, or None (unknown, someone else's, or expired)."""
    if not UPLOAD_KEY_RE.match(key or ""):
        return None
    try:
        return _upload_path(key, actor).read_bytes()
    except OSError:
        return None


def discard_upload(key: str, actor: User) -> None:
    """Delete a stashed file once it has been applied."""
    if UPLOAD_KEY_RE.match(key or ""):
        _upload_path(key, actor).unlink(missing_ok=True)
