"""Dashboard views as tables, written as CSV (defusedcsv) or XLSX (typed dates and numbers, text never a formula).

A spreadsheet cell that starts with =, +, -, @ (or a tab) can run as a formula when opened. In CSV,
defusedcsv prefixes such cells with an apostrophe ("'+44 …"), which is the accepted safe form; in XLSX
text is written with write_string, so nothing is ever a formula, whatever it starts with, while dates and
numbers are real date and number cells (modules/core/sheets.py), so they sort and sum.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime

from modules.core.sheets import csv_writer, workbook
from modules.core.timeutil import format_date, format_datetime
from modules.tracking import queries
from modules.tracking.filters import GROUPS, STATUSES, Filters
from modules.tracking.models import KINDS
from modules.tracking.scope import Scope

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
VIEWS = ("completion", "people", "overdue", "expiring", "team")


@dataclass
class Table:
    """A titled table of strings: what an export contains."""

    title: str
    headers: list[str]
    rows: list[list[str]]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def completion_table(scope: Scope, filters: Filters, today: date) -> Table:
    """Completion by academy, role, line manager or module."""
    rows = queries.completion(scope, filters, today)
    group = GROUPS[filters.by]
    if filters.by == "module":
        return Table(f"Modules read – {scope.label}", [group, "People", "Read", "Per cent read"],
                     [[r.label, r.counts.total, r.counts.complete, r.counts.percent] for r in rows])
    return Table(f"Completion by {group.lower()} – {scope.label}",
                 [group, "People", "Complete", "Due", "Overdue", "Exempt", "Not assigned", "Per cent complete"],
                 [[r.label, r.counts.total, r.counts.complete, r.counts.due, r.counts.overdue, r.counts.exempt,
                   r.counts.unassigned, r.counts.percent] for r in rows])


def people_table(scope: Scope, filters: Filters, today: date, *, title: str = "Staff", default_sort: str = "name") -> Table:
    """Every person in the view (not just one page), with their status."""
    rows, _ = queries.people(scope, filters, today, default_sort=default_sort, paginate=False)
    return Table(f"{title} – {scope.label}",
                 ["Name", "Email", "Job title", "Academy", "Line manager", "Training", "Due", "Status",
                  "Days overdue", "Overdue since", "Deadline of version", "Modules read"],
                 [[r.name, r.email, r.job_title, r.academy, r.manager, KINDS.get(r.kind, ""), r.due_on,
                   STATUSES.get(r.status, r.status), r.days_overdue, r.overdue_since, r.deadline_version,
                   f"{r.modules_read} of {r.modules_total}"]
                  for r in rows])


def expiring_table(scope: Scope, filters: Filters, today: date, now: datetime) -> Table:
    """Certificates expiring within the window."""
    rows, _ = queries.expiring(scope, filters, today, now, paginate=False)
    return Table(f"Certificates expiring within {filters.within} days – {scope.label}",
                 ["Name", "Academy", "Policy version", "Completed", "Expires", "Days left", "Verification code",
                  "Superseded on"],
                 [[r.name, r.academy, r.version_label, r.completed_at, r.expires_on, r.days_left, r.code,
                   r.ends_on if r.ends_on != r.expires_on else ""]
                  for r in rows])


def history_table(history: queries.History) -> Table:
    """One person's full history, as on their page: details, assignments, modules, quiz attempts,
    acknowledgements, certificates and reminders, one row each."""
    user, today = history.user, history.today
    status = (f"Left{' on ' + format_date(user.left_on) if user.left_on else ''}" if not user.active
              else STATUSES.get(history.status, history.status))
    job = f"{user.job_title or ''}{', ' + user.department if user.department else ''}"
    rows: list[list] = [["Person", "", "", label, value, ""] for label, value in (
        ("Name", user.name), ("Email", user.email), ("Job title", job), ("Academy", user.academy_name),
        ("Line manager", user.line_manager.name if user.line_manager else "None recorded"),
        ("Start date", user.start_date or "Not recorded"), ("Roles", ", ".join(user.role_labels)),
        ("Status", status))]
    for a in history.assignments:
        rows.append(["Assignment", a.assigned_on, _policy(a.version),
                     f"{a.kind_label}{' (current)' if a.is_current else ''}, due {format_date(a.due_on)}",
                     _outcome(a, today), ""])
    for module in history.modules:
        rows.append(["Module", module.read_at, _policy(history.version), module.heading,
                     "Read" if module.read_at else "Not yet read", ""])
    for attempt in history.attempts:
        result = ("Not finished" if attempt.finished_at is None else "Passed" if attempt.passed else "Not passed")
        rows.append(["Quiz attempt", attempt.started_at, _policy(attempt.version),
                     f"Score {int(attempt.score)}%" if attempt.score is not None else "No score", result, ""])
    for ack in history.acknowledgements:
        rows.append(["Acknowledgement", ack.created_at, _policy(ack.version),
                     "From a paper form" if ack.on_behalf else "", ack.decision.capitalize(), f"ACK-{ack.id}"])
    for row in history.certificates:
        cert = row.certificate
        rows.append(["Certificate", cert.completed_at, _policy(cert.version), f"Expires {format_date(cert.expires_on)}",
                     row.status.capitalize(), cert.code])
    for message in history.reminders:
        to = "Reminder to line manager" if message.user_id != user.id else "Reminder"
        rows.append([to, message.on_date, "", message.subject, message.status.capitalize(), ""])
    return Table(f"Training history – {user.name}", ["Record", "Date", "Policy", "Detail", "Outcome", "Reference"],
                 rows)


def _policy(version) -> str:
    return version.label.capitalize() if version is not None else ""


def _outcome(assignment, today: date) -> str:
    """What became of an assignment, worded as on the person's page."""
    status = assignment.status(today)
    if status == "complete":
        late = " (late)" if assignment.completed_at.date() > assignment.due_on else ""
        return f"Completed {format_date(assignment.completed_at)}{late}"
    if status == "closed":
        why = "Closed when they left" if assignment.closed_reason == "left" else "Replaced by a later assignment"
        return f"{why} ({format_date(assignment.closed_on)})"
    return STATUSES.get(status, status)


def to_csv(table: Table) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel reads the accents), formula-like cells defused."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """An XLSX workbook of one sheet: dates and numbers as typed cells, text as strings (never a formula)."""
    return workbook(table.title, table.headers, table.rows)


def history_filename(user_id: int, today: date, fmt: str) -> str:
    """A download name such as "history-42-2026-11-21.xlsx" (the id, not the name: nothing personal in it)."""
    return f"history-{user_id}-{today.isoformat()}.{fmt}"


def filename(view: str, scope: Scope, today: date, fmt: str) -> str:
    """A download name such as "overdue-2026-11-21.csv"."""
    return f"{view}-{today.isoformat()}.{fmt}"
