"""Deadlines from a trust's rules (`trust.rules`, typed and defaulted in modules/people/rules.py): pure date
arithmetic, no database.

- induction: due `induction_days` after the start date; when that has already passed at assignment
  (existing staff at roll-out, or a late import) it is due `induction_days` after the assignment instead;
- annual refresh, `refresh: {mode: rolling, months: 12}`: due the day before the certificate from the last
  completion expires (`months` after it, by the same arithmetic as certificate expiry), and opened
  (assigned) `open_days` before that;
- annual refresh, `refresh: {mode: window, month: 9, day: 1, days: 30}`: a fixed trust-wide window that
  opens each year on month/day and closes `days` later; a person refreshes in the first window opening at
  least `min_months` after their last completion;
- a new policy version: due `new_version_days` (default: the trust's `supersede_grace_days`) after
  publication, so the old certificate is still valid on the due date.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from modules.certificates.status import add_months
from modules.people.rules import Refresh as RefreshRule


class RuleError(ValueError):
    """A refresh window that never opens (cannot happen for a rule that passed validation)."""


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


def next_refresh(rule: RefreshRule, completed_on: date) -> Refresh:
    """When the refresh after a completion on `completed_on` opens and falls due."""
    if rule.mode == "rolling":
        due = add_months(completed_on, rule.months) - timedelta(days=1)
        return Refresh(opens_on=due - timedelta(days=rule.open_days), due_on=due)
    earliest = add_months(completed_on, rule.min_months)
    for year in range(earliest.year, earliest.year + 3):
        opens = date(year, rule.month, rule.day)
        if opens >= earliest:
            return Refresh(opens_on=opens, due_on=opens + timedelta(days=rule.days))
    raise RuleError(f"refresh window never opens: {rule!r}")  # pragma: no cover (a year always has one)


def new_version_due(published_on: date, days: int) -> date:
    """Due `days` after a new version is published."""
    return published_on + timedelta(days=days)
