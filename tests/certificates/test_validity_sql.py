"""Certificate validity is defined once (modules/certificates/status.py); the SQL the dashboards count with
(certificates.queries.valid_at / expiring_by) must agree with it at every boundary, on both databases.

Certificates are built the real way in every state (valid, expiring, expired, superseded within and after
the grace period, revoked, expired before being superseded), with expiry dates in GMT and in BST, and each
is checked one second before, at and one second after every moment its status can change.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from modules.certificates.models import Certificate
from modules.certificates.queries import expiring_by, valid_at
from modules.certificates.services import revoke_certificate
from modules.certificates.status import VALID, _utc, certificate_status, is_expiring, london_day
from modules.core.extensions import db
from modules.policies.models import PolicyVersion
from tests.certificates.factories import demo_user, issue, publish_next_version

SLUG = "agora"
SECOND = timedelta(seconds=1)


def _build(now: datetime) -> list[int]:
    """Certificates of one trust in every state around `now`, issued and revoked through the services."""
    ids = []
    # Completed in GMT (expires in January) and in BST (expires in June: London midnight is 23:00 UTC).
    ids.append(issue("staff", SLUG, datetime(2026, 1, 20, 10)).id)           # expires 20 January 2027
    ids.append(issue("teacher", SLUG, datetime(2025, 6, 14, 22, 30)).id)     # London 14 June: expired in 2026
    ids.append(issue("office", SLUG, datetime(2026, 6, 30, 23, 30)).id)      # London 1 July 2026 (BST)
    ids.append(issue("staff2", SLUG, datetime(2026, 11, 10, 8)).id)          # renewed later (not the latest)
    revoked = issue("manager", SLUG, datetime(2026, 10, 1, 12))
    ids.append(revoked.id)
    db.session.commit()
    revoke_certificate(db.session.get(Certificate, revoked.id), actor=demo_user("hr", SLUG),
                       reason="Issued in error", now=now - timedelta(days=3))
    db.session.commit()
    # A new version takes effect a week after `now`; later certificates are on it.
    trust_id = db.session.get(Certificate, ids[0]).trust_id
    publish_next_version(trust_id, now + timedelta(days=7))
    ids.append(issue("head", SLUG, now + timedelta(days=8)).id)
    ids.append(issue("staff2", SLUG, now + timedelta(days=9)).id)
    return ids


def _moments(certs: list[Certificate], grace: int) -> list[datetime]:
    """Every moment a status can change, with a second either side."""
    edges = set()
    for cert in certs:
        edges.add(_utc(cert.expires_on))
        if cert.revoked_at:
            edges.add(cert.revoked_at)
        if cert.superseded_since:
            edges.add(cert.superseded_since + timedelta(days=grace))
            # "expiring within 30 days" also turns on 30 London days before the day it is superseded.
            edges.add(_utc(london_day(cert.superseded_since + timedelta(days=grace)) - timedelta(days=30)))
        # "expiring within 30 days" turns on at London midnight 30 days before expiry.
        edges.add(_utc(cert.expires_on - timedelta(days=30)))
    return sorted({edge + step for edge in edges for step in (-SECOND, timedelta(0), SECOND)})


def test_sql_and_python_agree_on_validity_at_every_boundary(app, now):
    ids = _build(now)
    db.session.expire_all()
    certs = db.session.scalars(select(Certificate).where(Certificate.id.in_(ids))).all()
    grace = certs[0].trust.rules.supersede_grace_days
    version = aliased(PolicyVersion)
    base = select(Certificate.id).join(version, version.id == Certificate.version_id).where(Certificate.id.in_(ids))
    moments = _moments(certs, grace)
    statuses, by_supersession = set(), set()
    for moment in moments:
        python_valid = {c.id for c in certs if certificate_status(c, moment) == VALID}
        sql_valid = set(db.session.scalars(base.where(valid_at(moment, grace, version))))
        assert sql_valid == python_valid, moment
        python_expiring = {c.id for c in certs if is_expiring(c, moment, 30)}
        sql_expiring = set(db.session.scalars(base.where(valid_at(moment, grace, version),
                                                         expiring_by(moment, 30, grace, version))))
        assert sql_expiring == python_expiring, moment
        statuses |= {certificate_status(c, moment) for c in certs}
        by_supersession |= {c.id for c in certs if c.id in python_expiring
                            and c.expires_on > london_day(moment) + timedelta(days=30)}
        statuses |= {"expiring"} if python_expiring else set()
    # The fixtures really do cover every state, so the agreement means something.
    assert statuses == {"valid", "expiring", "expired", "superseded", "revoked"}
    assert len(moments) > 30
    assert by_supersession  # some certificates were expiring only because a later version supersedes them
