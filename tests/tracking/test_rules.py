"""Deadline arithmetic from trust rules: induction, rolling and windowed refresh, new versions."""

from datetime import date

import pytest

from modules.people.rules import Refresh, RulesError, TrustRules
from modules.tracking import rules


def test_induction_due_after_start_date():
    """Due the trust's number of days after the start date, even for a future starter."""
    assert rules.induction_due(date(2026, 9, 1), date(2026, 8, 20), 30) == date(2026, 10, 1)
    assert rules.induction_due(date(2026, 11, 1), date(2026, 11, 21), 30) == date(2026, 12, 1)


def test_induction_for_existing_staff_runs_from_assignment():
    """When the start date's deadline has gone (roll-out, late import), the days run from the assignment."""
    assert rules.induction_due(date(2019, 9, 1), date(2026, 11, 21), 30) == date(2026, 12, 21)
    assert rules.induction_due(None, date(2026, 11, 21), 14) == date(2026, 12, 5)


def test_rolling_refresh_from_last_completion():
    """Rolling: due the day before the certificate expires, opened open_days before (month ends clamp)."""
    refresh = rules.next_refresh(Refresh(mode="rolling", months=12), date(2026, 3, 10))
    assert refresh.due_on == date(2027, 3, 9)
    assert refresh.opens_on == date(2027, 2, 7)
    short = rules.next_refresh(Refresh(mode="rolling", months=1, open_days=7), date(2027, 1, 31))
    assert short.due_on == date(2027, 2, 27) and short.opens_on == date(2027, 2, 20)


def test_window_refresh_is_trust_wide():
    """Window: the first window opening at least min_months after completion, due when it closes."""
    rule = Refresh(mode="window", month=9, day=1, days=30)
    assert rules.next_refresh(rule, date(2026, 1, 15)) == rules.Refresh(date(2026, 9, 1), date(2026, 10, 1))
    # Completed in August: the September window a month later is too soon; the next year's is used.
    assert rules.next_refresh(rule, date(2026, 8, 15)) == rules.Refresh(date(2027, 9, 1), date(2027, 10, 1))
    assert rules.next_refresh(Refresh(mode="window", month=9, min_months=0), date(2026, 8, 15)).opens_on == date(2026, 9, 1)


@pytest.mark.parametrize("rule", [{"mode": "window"}, {"mode": "window", "month": 13},
                                  {"mode": "sometimes"}])
def test_malformed_refresh_rule(rule):
    """A malformed rule is an error naming it, not a silent default (checked when the rules are read)."""
    with pytest.raises(RulesError) as caught:
        TrustRules.from_mapping({"refresh": rule})
    assert caught.value.key.startswith("refresh.")


def test_new_version_due():
    """Due the trust's number of days after publication."""
    assert rules.new_version_due(date(2026, 11, 21), 30) == date(2026, 12, 21)
