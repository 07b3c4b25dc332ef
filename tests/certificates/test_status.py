"""certificate_status is pure: explicit facts and an explicit `now`, no database."""

from datetime import date, datetime, timedelta

import pytest

from modules.certificates.status import StatusFacts, add_months, certificate_status, expiry_date

COMPLETED = date(2026, 11, 21)
EXPIRES = expiry_date(COMPLETED, 12)


def facts(**changes) -> StatusFacts:
    base = {"expires_on": EXPIRES, "revoked_at": None, "superseded_since": None, "grace_days": 30}
    return StatusFacts(**{**base, **changes})


def test_expiry_is_validity_months_later():
    assert EXPIRES == date(2027, 11, 21)
    assert expiry_date(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert expiry_date(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 21), 24) == date(2028, 11, 21)


def test_valid_until_the_expiry_date_in_london():
    # 21 November 2027 starts at 00:00 GMT (no summer time in November).
    assert certificate_status(facts(), datetime(2027, 11, 20, 23, 59, 59)) == "valid"
    assert certificate_status(facts(), datetime(2027, 11, 21, 0, 0, 0)) == "expired"


def test_expiry_follows_london_midnight_in_summer():
    summer = facts(expires_on=date(2027, 7, 1))
    assert certificate_status(summer, datetime(2027, 6, 30, 22, 59)) == "valid"   # 23:59 BST
    assert certificate_status(summer, datetime(2027, 6, 30, 23, 0)) == "expired"  # 00:00 BST


def test_revoked_from_the_moment_of_revocation_and_it_wins():
    revoked = facts(revoked_at=datetime(2027, 1, 10, 12, 0))
    assert certificate_status(revoked, datetime(2027, 1, 10, 11, 59)) == "valid"
    assert certificate_status(revoked, datetime(2027, 1, 10, 12, 0)) == "revoked"
    assert certificate_status(revoked, datetime(2030, 1, 1)) == "revoked"


def test_superseded_only_after_the_grace_period():
    published = datetime(2027, 3, 1, 9, 0)
    cert = facts(superseded_since=published, grace_days=30)
    assert certificate_status(cert, published) == "valid"
    assert certificate_status(cert, published + timedelta(days=30) - timedelta(seconds=1)) == "valid"
    assert certificate_status(cert, published + timedelta(days=30)) == "superseded"
    assert certificate_status(facts(superseded_since=published, grace_days=0), published) == "superseded"


@pytest.mark.parametrize(("published", "expected"), [
    (datetime(2027, 9, 1), "superseded"),   # grace ended 1 October, before the November expiry
    (datetime(2027, 11, 1), "expired"),     # expired 21 November, before grace ended 1 December
])
def test_whichever_ended_first_names_the_status(published, expected):
    assert certificate_status(facts(superseded_since=published), datetime(2028, 6, 1)) == expected


def test_status_reads_only_the_attributes_it_is_given():
    """Any object with the four attributes will do, e.g. a Certificate row."""

    class Duck:
        expires_on, revoked_at, superseded_since, grace_days = EXPIRES, None, None, 30

    assert certificate_status(Duck(), datetime(2027, 1, 1)) == "valid"
