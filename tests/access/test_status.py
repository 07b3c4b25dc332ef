"""The pure grant-state and minimum-health functions, on plain objects with an explicit `now`."""

from datetime import date, datetime, timedelta
from types import SimpleNamespace

from modules.access.status import foreseeable_end, grant_state, london_midnight, role_health

NOW = datetime(2026, 11, 21, 9, 0)


def _grant(*, expires=date(2027, 11, 21), revoked_at=None, superseded_since=None, grace=30, holder=1, user=1,
           active=True, left_on=None, removed_at=None, closed_at=None):
    cert = SimpleNamespace(user_id=holder, expires_on=expires, revoked_at=revoked_at,
                           superseded_since=superseded_since, grace_days=grace, renewal=None)
    person = SimpleNamespace(active=active, left_on=left_on)
    return SimpleNamespace(user_id=user, user=person, certificate=cert, removed_at=removed_at, closed_at=closed_at)


def test_active_then_expired_at_london_midnight():
    grant = _grant(expires=date(2027, 6, 1))
    assert grant_state(grant, NOW).active
    midnight = london_midnight(date(2027, 6, 1))
    assert midnight == datetime(2027, 5, 31, 23, 0)  # BST
    assert grant_state(grant, midnight - timedelta(microseconds=1)).active
    assert grant_state(grant, midnight).reason == "expired"


def _renew(cert, *, issued_at, expires=date(2027, 12, 1)):
    """Give the certificate a renewal issued at `issued_at` (same holder)."""
    cert.renewal = SimpleNamespace(user_id=cert.user_id, expires_on=expires, revoked_at=None, superseded_since=None,
                                   grace_days=30, renewal=None, issued_at=issued_at)
    return cert.renewal


def test_a_renewal_in_time_carries_the_grant_on_and_one_after_a_lapse_does_not():
    published = NOW - timedelta(days=10)
    grant = _grant(superseded_since=published)  # a new version: lapses at published + 30 days
    lapse = published + timedelta(days=30)
    assert foreseeable_end(grant, NOW) == lapse
    renewal = _renew(grant.certificate, issued_at=NOW)  # retrained within the grace period
    assert grant_state(grant, NOW - timedelta(seconds=1)).expires_on == date(2027, 11, 21)
    assert grant_state(grant, lapse).active and grant_state(grant, lapse).expires_on == renewal.expires_on
    assert foreseeable_end(grant, NOW) == london_midnight(renewal.expires_on)

    late = _grant(superseded_since=published)
    _renew(late.certificate, issued_at=lapse + timedelta(days=1))  # retrained after the grant had lapsed
    state = grant_state(late, lapse + timedelta(days=2))
    assert (state.status, state.reason) == ("lapsed", "superseded")


def test_each_reason():
    assert grant_state(_grant(revoked_at=NOW), NOW).reason == "revoked"
    assert grant_state(_grant(revoked_at=NOW + timedelta(days=1)), NOW).active
    assert grant_state(_grant(superseded_since=NOW - timedelta(days=31)), NOW).reason == "superseded"
    assert grant_state(_grant(superseded_since=NOW - timedelta(days=29)), NOW).active
    assert grant_state(_grant(holder=2), NOW).reason == "not_grantee"
    assert grant_state(_grant(active=False), NOW).reason == "left"
    assert grant_state(_grant(left_on=date(2026, 11, 21)), NOW).reason == "left"
    assert grant_state(_grant(left_on=date(2026, 12, 1)), NOW).active
    assert grant_state(_grant(removed_at=NOW), NOW).status == "removed"
    assert grant_state(_grant(closed_at=NOW), NOW).status == "closed"


def test_closure_counts_from_when_it_happened():
    closed = NOW + timedelta(days=3)
    grant = _grant(closed_at=closed)
    assert grant_state(grant, closed - timedelta(microseconds=1)).active  # history before the closure stands
    state = grant_state(grant, closed)
    assert (state.status, state.since, state.label) == ("closed", closed, "Account closed")
    assert grant_state(grant, closed + timedelta(days=400)).status == "closed"
    # removal and closure: whichever came first by `now`
    assert grant_state(_grant(removed_at=NOW, closed_at=closed), closed).status == "removed"
    assert grant_state(_grant(removed_at=closed, closed_at=NOW), closed).status == "closed"
    assert grant_state(_grant(removed_at=closed, closed_at=NOW), NOW).status == "closed"


def test_label_reads_well():
    assert grant_state(_grant(revoked_at=NOW), NOW).label == "Lapsed: Certificate revoked"
    assert grant_state(_grant(), NOW).label == "Active"


def test_foreseeable_end_is_the_earliest():
    grant = _grant(expires=date(2027, 6, 1), superseded_since=NOW, grace=30, left_on=date(2027, 1, 1))
    assert foreseeable_end(grant, NOW) == NOW + timedelta(days=30)


def test_role_health_below_and_falling():
    soon = _grant(expires=(NOW + timedelta(days=10)).date(), holder=1, user=1)
    later = _grant(expires=date(2027, 11, 1), holder=2, user=2)
    lapsed = _grant(revoked_at=NOW, holder=3, user=3)
    assert role_health("administrator", 2, [later, lapsed], NOW, 30).below
    health = role_health("administrator", 2, [soon, later], NOW, 30)
    assert not health.below and health.falling and health.falls_below_at == london_midnight(soon.certificate.expires_on)
    assert not role_health("administrator", 2, [soon, later], NOW, 5).falling
    spare = role_health("administrator", 2, [soon, later, _grant(holder=4, user=4)], NOW, 30)
    assert not spare.falling  # a third administrator covers the expiry
    assert not role_health("moderator", 0, [], NOW, 30).below


def test_role_health_counts_people_not_grants():
    """Two active grants of the same person (they asked again) are one administrator, not two."""
    first = _grant(expires=(NOW + timedelta(days=10)).date(), holder=1, user=1)
    again = _grant(expires=date(2027, 11, 1), holder=1, user=1)
    health = role_health("administrator", 2, [first, again], NOW, 30)
    assert health.below and health.active == 1
    other = _grant(expires=date(2027, 10, 1), holder=2, user=2)
    health = role_health("administrator", 2, [first, again, other], NOW, 30)
    assert not health.below and not health.falling  # person 1 still counts after their first grant ends
