"""A certificate's status, derived when it is read: never stored, so it cannot go stale.

This is the one definition of certificate validity (valid / expiring / expired / superseded / revoked at a
given `now`). Dashboards need it in SQL to count and page: `modules/certificates/queries.py` `valid_at` and
`expiring_by` are that SQL, and tests/certificates/test_validity_sql.py checks, on both databases, that they agree
with the functions here for certificates in every state around each boundary.
"""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from modules.core.timeutil import LONDON

VALID, EXPIRED, REVOKED, SUPERSEDED = "valid", "expired", "revoked", "superseded"
STATUSES = (VALID, EXPIRED, REVOKED, SUPERSEDED)


@dataclass(frozen=True)
class StatusFacts:
    """What status depends on; a Certificate row offers the same attributes."""

    #: The London date on which it stops being valid.
    expires_on: date
    #: When it was revoked (UTC), if it was.
    revoked_at: datetime | None
    #: When a later version of its policy was published (UTC), if one was.
    superseded_since: datetime | None
    #: Days an old-version certificate stays valid after the next version is published (trust rule).
    grace_days: int


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 January + 1 month → 28/29 February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def expiry_date(completed_on: date, validity_months: int) -> date:
    """The date a certificate completed on `completed_on` expires: on this day it is no longer valid."""
    return add_months(completed_on, validity_months)


def london_day(now: datetime) -> date:
    """The Europe/London calendar date of a naive UTC time."""
    return now.replace(tzinfo=UTC).astimezone(LONDON).date()


def utc_midnight(local_day: date) -> datetime:
    """Midnight at the start of a London date, as naive UTC."""
    return datetime.combine(local_day, time(0), LONDON).astimezone(UTC).replace(tzinfo=None)


_utc = utc_midnight


def certificate_status(cert, now: datetime) -> str:
    """valid, expired, revoked or superseded at `now` (naive UTC); pure: reads only the given attributes.

    A revocation wins. Otherwise whichever of expiry and supersession came first names the status, so a
    certificate that had expired before its policy changed still reads "expired".
    """
    if cert.revoked_at is not None and cert.revoked_at <= now:
        return REVOKED
    ends = {EXPIRED: _utc(cert.expires_on)}
    if cert.superseded_since is not None:
        ends[SUPERSEDED] = cert.superseded_since + timedelta(days=cert.grace_days)
    passed = [(moment, name) for name, moment in ends.items() if moment <= now]
    return min(passed)[1] if passed else VALID


def supersession_due(cert, now: datetime) -> datetime | None:
    """When a later version will supersede a certificate valid at `now`, if that comes before it expires.

    A certificate in this state is still valid, and reads "Valid — superseded on <date> unless <holder>
    completes <the later version>" wherever its status is shown.
    """
    if cert.superseded_since is None or certificate_status(cert, now) != VALID:
        return None
    moment = cert.superseded_since + timedelta(days=cert.grace_days)
    return moment if moment < _utc(cert.expires_on) else None


def last_valid_day(cert, now: datetime) -> date:
    """The London date by which a certificate valid at `now` stops being valid: its expiry date, or the day
    a later version supersedes it, whichever comes first."""
    due = supersession_due(cert, now)
    return london_day(due) if due is not None else cert.expires_on


def is_expiring(cert, now: datetime, within_days: int) -> bool:
    """Valid at `now` and stops being valid within `within_days` London days (it expires, or a later version
    supersedes it, by then)."""
    return (certificate_status(cert, now) == VALID
            and last_valid_day(cert, now) <= london_day(now) + timedelta(days=within_days))
