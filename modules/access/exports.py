"""The register as a table, and as CSV (defusedcsv) or XLSX (typed date cells, text as strings): formula-injection safe.

The leading columns are the trust's own (`register_columns` in trusts.yaml; TKAT's are Appendix 1's, exactly);
status columns always follow.
"""

import io

from modules.access.queries import RegisterRow
from modules.access.services import REVOCATION_REASONS
from modules.access.status import LAPSED, REASON_TEXT
from modules.core.sheets import csv_writer, workbook
from modules.core.timeutil import format_date
from modules.people.rules import TrustRules

STATUS_COLUMNS = ("Role", "Status", "Reason", "Certificate valid until", "Approved by", "Granted on",
                  "Account status")


def _field(row: RegisterRow, name: str, rules: TrustRules) -> str:
    user, account = row.grant.user, row.grant.account
    platform = rules.platform(account.platform)
    platform_label = platform.label if platform else account.platform
    values = {
        "name": lambda: user.name,
        "job_title": lambda: user.job_title,
        "department": lambda: user.department,
        "job_title_dept": lambda: " / ".join(v for v in (user.job_title, user.department) if v),
        "person_academy": lambda: user.academy_name,
        "account": lambda: f"{platform_label}: {account.handle}",
        "account_owner": lambda: account.owner_name,
        "platform": lambda: platform_label,
        "handle": lambda: account.handle,
    }
    return values[name]()


def reason_text(row: RegisterRow) -> str:
    """Why a grant is not active, or when an active one will lapse with a superseded certificate (else empty)."""
    state = row.state
    if state.status == LAPSED:
        text = REASON_TEXT.get(state.reason, state.reason)
        return f"{text} on {format_date(state.since)}" if state.since else text
    due = row.standing
    if state.active and due is not None and due.superseded_at is not None:
        later = due.superseded_by.label if due.superseded_by else "the new policy version"
        if due.holder_completed_it:
            return f"Certificate valid — superseded on {format_date(due.superseded_at)}, when {later} replaces it"
        return (f"Certificate valid — superseded on {format_date(due.superseded_at)} unless {row.grant.user.name} "
                f"completes {later}: access lapses then")
    if state.active and row.lapses_at is not None:
        return (f"Lapses on {format_date(row.lapses_at)} unless they complete the new policy version: "
                "their certificate is for an earlier one")
    revocation = row.grant.revocation
    if revocation is not None and not state.active and state.status == "removed":
        return f"Removed by {revocation.actor.name} on {format_date(revocation.created_at)}: " \
               f"{REVOCATION_REASONS.get(revocation.reason, revocation.reason)}"
    return ""


def status_values(row: RegisterRow, typed: bool = False) -> list:
    """The status columns of a row, as text (dates as date values when `typed`, for a spreadsheet)."""
    state, grant = row.state, row.grant
    show = (lambda value: value) if typed else format_date
    return [row.role_label, {"active": "Active", "lapsed": "Lapsed", "removed": "Removed",
                             "closed": "Account closed"}[state.status],
            reason_text(row), show(row.certificate.expires_on), ", ".join(row.approvers),
            show(grant.created_at.date() if typed else grant.created_at), grant.account.status.capitalize()]


def register_table(rows: list[RegisterRow], rules: TrustRules, typed: bool = False) -> tuple[list[str], list[list]]:
    """Headers and rows of the register: the trust's columns, then the status columns (dates typed if asked)."""
    headers = [label for label, _ in rules.columns] + list(STATUS_COLUMNS)
    body = [[_field(row, field, rules) for _, field in rules.columns] + status_values(row, typed) for row in rows]
    return headers, body


def to_csv(headers: list[str], body: list[list[str]]) -> str:
    """CSV text; defusedcsv escapes cells starting with = + - @ (and tab/CR) so no spreadsheet runs them."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(headers)
    writer.writerows(body)
    return out.getvalue()


def to_xlsx(headers: list[str], body: list[list], *, title: str = "Register") -> bytes:
    """An XLSX workbook: dates as date cells, text as strings, so nothing is ever a formula or a link."""
    return workbook(title, headers, body)
