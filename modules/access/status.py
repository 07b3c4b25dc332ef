"""Whether a grant is active, derived at an explicit `now`: never stored, so it cannot go stale.

A grant is active only while the certificate it stands on is valid and belongs to the grantee, the grantee
has not left, the grant has not been removed and its account has not been closed since the grant was made
(closures are dated, so history before one is unchanged, and reopening the account does not revive the
grant). The certificate it stands on is the one it cites, or a renewal of it issued while the certificate
renewed was still valid: retraining in time (an annual refresh, a new policy version within its grace
period) carries the grant on; once it has lapsed, a later certificate does not revive it. Everything here
is pure: it reads the attributes it is given (the certificate's `renewal` link included) and the `now`
passed in.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from modules.certificates.status import EXPIRED, REVOKED, SUPERSEDED, VALID, certificate_status
from modules.core.timeutil import LONDON

ACTIVE, LAPSED, REMOVED, CLOSED = "active", "lapsed", "removed", "closed"
#: Why a grant lapsed (the certificate's own status names three of them).
LEFT, NOT_GRANTEE = "left", "not_grantee"
#: How each lapse reason reads on the register.
REASON_TEXT = {
    EXPIRED: "Certificate expired",
    REVOKED: "Certificate revoked",
    SUPERSEDED: "Certificate superseded by a new policy version",
    LEFT: "Left the trust",
    NOT_GRANTEE: "Certificate belongs to someone else",
}


@dataclass(frozen=True)
class GrantState:
    """A grant's state at one moment: active, lapsed (with the reason), removed or closed."""

    status: str
    reason: str | None = None
    #: When it stopped being active, if known.
    since: datetime | None = None
    #: The expiry date of the certificate it stands on (once a certificate has been looked at).
    expires_on: date | None = None

    @property
    def active(self) -> bool:
        """Whether the grant counts now."""
        return self.status == ACTIVE

    @property
    def label(self) -> str:
        """Short text for the register, e.g. "Lapsed: Certificate expired"."""
        if self.status == LAPSED:
            return f"Lapsed: {REASON_TEXT.get(self.reason, self.reason)}"
        return {ACTIVE: "Active", REMOVED: "Removed", CLOSED: "Account closed"}[self.status]


def london_midnight(day: date) -> datetime:
    """The start of a London date, as naive UTC."""
    return datetime.combine(day, time(0), LONDON).astimezone(UTC).replace(tzinfo=None)


def _left_at(grantee) -> datetime | None:
    """When the grantee left (their leaving date's start), or None if they have not."""
    if grantee.left_on is not None:
        return london_midnight(grantee.left_on)
    return None


def _certificate_end(cert, status: str) -> datetime | None:
    if status == EXPIRED:
        return london_midnight(cert.expires_on)
    if status == REVOKED:
        return cert.revoked_at
    if status == SUPERSEDED:
        return cert.superseded_since + timedelta(days=cert.grace_days)
    return None


def carried_certificate(grant, now: datetime):
    """The certificate the grant stands on at `now`: the one it cites, followed along renewals issued by `now`
    to the same person while the certificate they renew was still valid."""
    cert = grant.certificate
    while ((nxt := cert.renewal) is not None and nxt.issued_at <= now and nxt.user_id == cert.user_id
           and certificate_status(cert, nxt.issued_at) == VALID):
        cert = nxt
    return cert


def grant_state(grant, now: datetime) -> GrantState:
    """The grant's state at `now` (naive UTC).

    Reads grant.user_id, grant.removed_at, grant.closed_at, grant.user (active, left_on) and
    grant.certificate (user_id and the attributes certificate_status reads). Removal and closure are
    decisions of the people keeping the register (the earlier one by `now` counts); everything else is a
    lapse, with its reason.
    """
    ended = [(at, status) for at, status in ((grant.removed_at, REMOVED), (grant.closed_at, CLOSED))
             if at is not None and at <= now]
    if ended:
        at, status = min(ended)
        return GrantState(status, since=at)
    left_at = _left_at(grant.user)
    if left_at is not None and left_at <= now:
        return GrantState(LAPSED, LEFT, left_at)
    if not grant.user.active:
        return GrantState(LAPSED, LEFT)
    if grant.certificate.user_id != grant.user_id:
        return GrantState(LAPSED, NOT_GRANTEE)
    cert = carried_certificate(grant, now)
    status = certificate_status(cert, now)
    if status != VALID:
        return GrantState(LAPSED, status, _certificate_end(cert, status), cert.expires_on)
    return GrantState(ACTIVE, expires_on=cert.expires_on)


def foreseeable_end(grant, now: datetime) -> datetime | None:
    """The earliest moment the grant will lapse with nothing else happening (expiry, supersession, leaving).

    Meaningful for a grant active at `now`; revocations cannot be foreseen.
    """
    cert = carried_certificate(grant, now)
    ends = [london_midnight(cert.expires_on)]
    if cert.superseded_since is not None:
        ends.append(cert.superseded_since + timedelta(days=cert.grace_days))
    left_at = _left_at(grant.user)
    if left_at is not None:
        ends.append(left_at)
    return min(ends)


@dataclass(frozen=True)
class RoleHealth:
    """How an account stands against the trust's minimum for one role."""

    role: str
    required: int
    active: int
    #: When, within the warning window, the count will fall below the minimum (None if it will not).
    falls_below_at: datetime | None = None

    @property
    def below(self) -> bool:
        """Fewer active holders than the trust requires."""
        return self.active < self.required

    @property
    def falling(self) -> bool:
        """At or above the minimum now, but not by the end of the warning window."""
        return not self.below and self.falls_below_at is not None


def role_health(role: str, required: int, grants, now: datetime, window_days: int) -> RoleHealth:
    """Count the grants active at `now` for the role and foresee a fall below `required` within the window.

    `grants` are the account's grants of that role (any state); people are counted, not grants. With n active
    holders and a minimum m ≤ n, the count drops below m when the (n − m + 1)-th earliest foreseeable end passes.
    """
    # One person counts once: a person with two active grants of the role (asked again) is one holder, who
    # stops counting when the later-ending of their grants ends.
    ends_by_person: dict = {}
    for grant in grants:
        if grant_state(grant, now).active:
            end = foreseeable_end(grant, now)
            ends_by_person[grant.user_id] = max(ends_by_person.get(grant.user_id, end), end)
    falls = None
    if required and len(ends_by_person) >= required:
        ends = sorted(ends_by_person.values())
        cut = len(ends) - required
        if ends[cut] <= now + timedelta(days=window_days):
            falls = ends[cut]
    return RoleHealth(role=role, required=required, active=len(ends_by_person), falls_below_at=falls)
