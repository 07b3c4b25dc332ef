"""The dashboard's certificate counts (expiring_counts, the expiring list and its total, the valid holders) read
the trust's version supersession into plain values first; at every moment a status can change they must equal a
straightforward recount with the one definition of validity (modules/certificates/status.py), on both databases.

The trust has certificates in every state (valid, expiring, expired, superseded within and after the grace
period, revoked, renewed), a second policy (series) whose certificates a new version of the first does not
supersede, a holder whose latest certificate is of that second policy, and a leaver.
"""

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from modules.certificates.models import Certificate
from modules.certificates.services import revoke_certificate
from modules.certificates.status import VALID, _utc, certificate_status, is_expiring, london_day
from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.policies.services import add_series, create_version
from modules.tracking import queries
from modules.tracking.filters import Filters
from modules.tracking.scope import Scope
from tests.certificates.factories import demo_user, issue, publish_next_version

SLUG = "agora"
SECOND = timedelta(seconds=1)
WINDOWS = (30, 60, 90)


def _build(now: datetime) -> int:
    """Certificates of one trust in every state around `now`, issued and revoked through the services."""
    issue("staff", SLUG, datetime(2026, 1, 20, 10))                 # expires 20 January 2027
    issue("teacher", SLUG, datetime(2025, 6, 14, 22, 30))           # London 14 June: expired in 2026
    issue("office", SLUG, datetime(2026, 6, 30, 23, 30))            # London 1 July 2026 (BST)
    issue("staff2", SLUG, datetime(2026, 11, 10, 8))                # renewed later (not the latest)
    issue("head", SLUG, datetime(2025, 12, 29, 9))                  # its holder leaves
    revoked = issue("manager", SLUG, datetime(2026, 10, 1, 12))
    revoke_certificate(db.session.get(Certificate, revoked.id), actor=demo_user("hr", SLUG),
                       reason="Issued in error", now=now - timedelta(days=3))
    demo_user("head", SLUG).active = False
    db.session.commit()
    trust = db.session.get(Trust, revoked.trust_id)
    # A second policy, in force before `now`: a later version of the first policy does not supersede it.
    other = add_series(trust, title="Acceptable use policy", slug="acceptable-use", now=now - timedelta(days=60))
    raw = (Path(__file__).resolve().parents[2] / "content" / "policies" / "tkat.txt").read_bytes()
    aup = create_version(trust, source_file="policies/aup.txt", raw=raw, now=now - timedelta(days=60), series=other)
    db.session.commit()
    issue("hr", SLUG, datetime(2026, 1, 5, 10), version=aup)        # only a certificate of the second policy
    issue("teacher", SLUG, datetime(2026, 2, 2, 10))                # teacher renews the first policy ...
    issue("teacher", SLUG, datetime(2026, 2, 3, 10), version=aup)   # ... then their latest is the second's
    # A new version of the first policy takes effect a week after `now`; later certificates are on it.
    publish_next_version(trust.id, now + timedelta(days=7))
    issue("staff2", SLUG, now + timedelta(days=9))
    return trust.id


def _moments(certs: list[Certificate], grace: int) -> list[datetime]:
    """Every moment a count can change (expiry, revocation, supersession, and each window's start before
    them), with a second either side."""
    edges = set()
    for cert in certs:
        ends = [cert.expires_on]
        edges.add(_utc(cert.expires_on))
        if cert.revoked_at:
            edges.add(cert.revoked_at)
        if cert.superseded_since:
            moment = cert.superseded_since + timedelta(days=grace)
            edges.add(moment)
            ends.append(london_day(moment))
        edges |= {_utc(end - timedelta(days=days)) for end in ends for days in WINDOWS}
    return sorted({edge + step for edge in edges for step in (-SECOND, timedelta(0), SECOND)})


def _recount(trust_id: int, certs: list[Certificate], moment: datetime, academy_id: int | None = None, *,
             leavers: bool = False):
    """The valid holders and the expiring ones by hand: each person's latest certificate, with status.py (active
    people only, as the dashboard counts, unless `leavers`)."""
    people = {u.id: u for u in db.session.scalars(select(User).where(User.trust_id == trust_id))
              if (leavers or u.active) and (academy_id is None or u.academy_id == academy_id)}
    latest = {}
    for cert in sorted(certs, key=lambda c: c.id):
        latest[cert.user_id] = cert
    valid = {user_id: cert for user_id, cert in latest.items()
             if user_id in people and certificate_status(cert, moment) == VALID}
    expiring = {days: {user_id for user_id, cert in valid.items() if is_expiring(cert, moment, days)}
                for days in WINDOWS}
    return set(valid), expiring


def test_certificate_counts_equal_a_recount_at_every_boundary(app, now):
    trust_id = _build(now)
    db.session.expire_all()
    certs = db.session.scalars(select(Certificate)).all()
    assert {c.trust_id for c in certs} == {trust_id}
    grace = db.session.get(Trust, trust_id).rules.supersede_grace_days
    academy_id = demo_user("staff", SLUG).academy_id
    trust_scope = Scope(trust_id, None, None, "Agora")
    academy_scope = Scope(trust_id, frozenset({academy_id}), None, "An academy")
    moments = _moments(certs, grace)
    seen = {"valid": 0, "superseded": 0, "revoked": 0, "expired": 0}
    counted = set()
    for moment in moments:
        today = london_day(moment)
        for scope, academy in ((trust_scope, None), (academy_scope, academy_id)):
            valid, expiring = _recount(trust_id, certs, moment, academy)
            assert queries.expiring_counts(scope, today, moment) == {d: len(expiring[d]) for d in WINDOWS}, moment
            for days in WINDOWS:
                rows, total = queries.expiring(scope, Filters(within=days), today, moment, paginate=False)
                assert {r.user_id for r in rows} == expiring[days] and total == len(expiring[days]), (moment, days)
            counted |= expiring[90]
        assert queries.valid_certificate_holders(trust_id, moment) == _recount(trust_id, certs, moment,
                                                                                leavers=True)[0], moment
        for cert in certs:
            seen[certificate_status(cert, moment)] += 1
    # The fixtures really do cover every state and case, so the agreement means something.
    assert all(seen.values()), seen
    assert len(moments) > 60
    users = {local: demo_user(local, SLUG).id for local in ("hr", "teacher", "staff2", "staff")}
    assert {users["hr"], users["teacher"], users["staff2"], users["staff"]} <= counted
    # A certificate of the second policy is never superseded by the first policy's new version.
    aup_certs = [c for c in certs if c.version.series.slug == "acceptable-use"]
    assert aup_certs and all(c.superseded_since is None for c in aup_certs)
    superseded = [c for c in certs if c.superseded_since is not None]
    assert superseded
    # Some moment counts a person as expiring only because a later version supersedes their certificate.
    assert any(queries.expiring_counts(trust_scope, london_day(m), m)[30]
               > len({c.user_id for c in certs if c.expires_on <= london_day(m) + timedelta(days=30)
                      and certificate_status(c, m) == VALID and c.id == max(
                          d.id for d in certs if d.user_id == c.user_id)})
               for m in moments)
