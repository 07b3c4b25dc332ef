"""Warn before access lapses because a new policy version was published (policies' `version_published`,
connected in modules/wiring.py).

A grant relies on a certificate; a certificate of the replaced version stays valid for the trust's
`supersede_grace_days`, then it is superseded and the grant lapses (derived, status.py). When HR publishes,
each person whose active grant would lapse that way, and the people who approved it, are told the date, so
it can be avoided by completing the new version in time. Nothing about the grant is stored or changed.
"""

from datetime import datetime, timedelta

from modules.access import queries
from modules.access.rules import ACCOUNT_ROLES
from modules.access.services import _account_name
from modules.access.status import ACTIVE, carried_certificate, grant_state, london_midnight
from modules.certificates.links import absolute
from modules.core.extensions import db
from modules.core.timeutil import format_date, format_datetime
from modules.notifications.services import queue_email
from modules.people.models import User
from modules.policies.models import PolicyVersion
from modules.policies.queries import base_version, is_register_version


def lapse_from_supersession(grant, version: PolicyVersion, now: datetime) -> datetime | None:
    """When the grant will lapse because `version` supersedes its certificate's version; None if it will not
    (inactive now, a certificate of this version or later, or one that expires before the grace period ends)."""
    cert = carried_certificate(grant, now)
    if grant_state(grant, now).status != ACTIVE or cert.version.number >= version.number:
        return None
    lapse = (version.in_force_at or now) + timedelta(days=cert.grace_days)
    return lapse if lapse < london_midnight(cert.expires_on) else None


def warn_before_lapse(version: PolicyVersion, *, now: datetime, **_) -> int:
    """Email each grantee whose access will lapse with the old version, and their approvers; returns how many."""
    if base_version(version) is None or not is_register_version(version):
        return 0
    sent = 0
    link = absolute("training.home")
    for grant in queries.grants_of(version.trust_id):
        lapse = lapse_from_supersession(grant, version, now)
        if lapse is None:
            continue
        person, account = grant.user, _account_name(grant.account)
        role = ACCOUNT_ROLES.get(grant.role, grant.role).lower()
        when = format_datetime(lapse)
        queue_email(recipient=person.email, reason=f"access-lapse-warning:{grant.id}:{version.id}", user=person,
                    trust_id=grant.trust_id, now=now,
                    subject=f"Your access to {account} lapses on {format_date(lapse)} unless you retrain",
                    body=(f"Dear {person.name},\n\nYour trust has published a new version of its social media "
                          f"policy. Your certificate for the previous version stays valid until {when}. After "
                          f"that your access as {role} of {account} lapses, unless you have completed the new "
                          f"version's training and acknowledged it by then.\n\nYour training:\n{link}\n\n"
                          "PolicyPass\n"))
        sent += 1
        for approver_id in dict.fromkeys(grant.approver_id_list):
            approver = db.session.get(User, approver_id)
            if approver is None or not approver.active or approver.id == person.id:
                continue
            queue_email(recipient=approver.email, reason=f"access-lapse-warning:{grant.id}:{version.id}",
                        user=approver, trust_id=grant.trust_id, now=now,
                        subject=f"Access lapses on {format_date(lapse)} unless they retrain: {person.name}",
                        body=(f"Dear {approver.name},\n\nYou approved {person.name} as {role} of {account}. "
                              f"Their trust has published a new version of the social media policy, so their "
                              f"access lapses at {when} unless they complete the new version's training and "
                              f"acknowledge it by then. They have been told.\n\nThe register:\n"
                              f"{absolute('access.register')}\n\nPolicyPass\n"))
            sent += 1
    return sent
