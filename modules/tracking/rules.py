"""Deadlines from a trust's rules (content/trusts.yaml): pure date arithmetic, no database.

- induction: due `induction_days` after the start date; when that has already passed at assignment
  (existing staff at roll-out, or a late import) it is due `induction_days` after the assignment instead;
- annual refresh, `refresh: {mode: rolling, months: 12}`: due the day before the certificate from the last
  completion expires (`months` after it, by the same arithmetic as certificate expiry), and opened
  (assigned) `open_days` before that;
- annual refresh, `refresh: {mode: window, month: 9, day: 1, days: 30}`: a fixed trust-wide window that
  opens each year on month/day and closes `days` later; a person refreshes in the first window opening at
  least `min_months` (default 6) after their last completion;
- a new policy version: due `new_version_days` (default: the trust's `supersede_grace_days`) after
  publication, so the old certificate is still valid on the due date.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from modules.certificates.status import add_months

DEFAULT_INDUCTION_DAYS = 30
DEFAULT_REFRESH = {"mode": "rolling", "months": 12}
#: A rolling refresh is assigned this many days before it is due, unless the trust says otherwise.
DEFAULT_OPEN_DAYS = 30
DEFAULT_MIN_MONTHS = 6
DEFAULT_NEW_VERSION_DAYS = 30


class RuleError(ValueError):
    """A trust's tracking rule is malformed; the message names the rule."""


@dataclass(frozen=True)
class Refresh:
    """The next refresh: when it is assigned and when it is due."""

    opens_on: date
    due_on: date


def induction_due(start_date: date | None, assigned_on: date, days: int) -> date:
    """Due `days` after the start date, or after the assignment when that date has already gone."""
    if start_date is not None and start_date + timedelta(days=days) >= assigned_on:
        return start_date + timedelta(days=days)
    return assigned_on + timedelta(days=days)


def _window(rule: dict, year: int) -> tuple[date, date]:
    try:
        opens = date(year, int(rule["month"]), int(rule.get("day", 1)))
        return opens, opens + timedelta(days=int(rule.get("days", 30)))
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleError(f"refresh window needs a valid month and day: {rule!r}") from exc


def next_refresh(rule: dict | None, completed_on: date) -> Refresh:
    """When the refresh after a completion on `completed_on` opens and falls due."""
    rule = rule or DEFAULT_REFRESH
    mode = rule.get("mode", "rolling")
    if mode == "rolling":
        due = add_months(completed_on, int(rule.get("months", 12))) - timedelta(days=1)
        return Refresh(opens_on=due - timedelta(days=int(rule.get("open_days", DEFAULT_OPEN_DAYS))), due_on=due)
    if mode == "window":
        earliest = add_months(completed_on, int(rule.get("min_months", DEFAULT_MIN_MONTHS)))
        for year in range(earliest.year, earliest.year + 3):
            opens, closes = _window(rule, year)
            if opens >= earliest:
                return Refresh(opens_on=opens, due_on=closes)
        raise RuleError(f"refresh window never opens: {rule!r}")  # pragma: no cover (a year always has one)
    raise RuleError(f"refresh mode must be 'rolling' or 'window', not {mode!r}")


def new_version_due(published_on: date, days: int) -> date:
    """Due `days` after a new version is published."""
    return published_on + timedelta(days=days)


def settings_of(trust) -> dict:
    """The tracking rules of a trust with their defaults, checked once here."""
    refresh = trust.setting("refresh", DEFAULT_REFRESH) or DEFAULT_REFRESH
    if not isinstance(refresh, dict) or refresh.get("mode", "rolling") not in ("rolling", "window"):
        raise RuleError(f"{trust.slug}: refresh must be {{mode: rolling|window, …}}")
    return {
        "induction_days": int(trust.setting("induction_days", DEFAULT_INDUCTION_DAYS)),
        "refresh": refresh,
        "new_version_days": int(trust.setting("new_version_days",
                                              trust.setting("supersede_grace_days", DEFAULT_NEW_VERSION_DAYS))),
    }
