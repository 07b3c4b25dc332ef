"""Official accounts, access requests and their decisions, grants and what ends them.

Two kinds of row:

- working rows, edited as things move on: `OfficialAccount` (its status), `AccessRequest` (its step and
  outcome) and `AccessDecision` (one per step, unique, so a replayed form cannot decide a step twice);
- append-only evidence, refused UPDATE/DELETE/TRUNCATE by triggers and each committed to by a ledger entry:
  `AccessGrant`, `AccessRevocation`, `AccountClosure`, `LapseObservation` and `TrainingDiscussion`. They hold
  ids, dates and meanings only (no free text), so an erasure elsewhere never has to touch them.

Whether a grant is active is never stored: see status.py. A grant cites the certificate it relied on and
is active only while that certificate is valid and belongs to the grantee.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.evidence.records import evidence_record
from modules.evidence.triggers import APPEND_ONLY, EVIDENCE
from modules.people.models import Academy, Trust, User

#: Account statuses.
PROPOSED, ACTIVE, CLOSED = "proposed", "active", "closed"
ACCOUNT_STATUSES = (PROPOSED, ACTIVE, CLOSED)
#: Request statuses.
PENDING, APPROVED, REFUSED, WITHDRAWN = "pending", "approved", "refused", "withdrawn"
#: Decision outcomes.
APPROVE, REFUSE = "approved", "refused"


class OfficialAccount(db.Model):
    """An official social media account or site of an academy or of the trust's central team."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust it belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The owning academy; null means the trust's central team.
    academy_id: Mapped[int | None] = mapped_column(ForeignKey("academy.id"), index=True)
    #: Platform key from the trust's account_platforms, e.g. "facebook".
    platform: Mapped[str] = mapped_column(String(40))
    #: The handle or web address, e.g. "@NorthParkAcad" or "https://blog.example.sch.uk".
    handle: Mapped[str] = mapped_column(String(300))
    #: What the account is for.
    purpose: Mapped[str] = mapped_column(Text)
    #: proposed, active or closed.
    status: Mapped[str] = mapped_column(String(20), default=PROPOSED)
    #: Who registered or proposed it.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: When it was registered or proposed, UTC.
    created_at: Mapped[datetime]
    #: When its status last changed, UTC.
    status_changed_at: Mapped[datetime]

    trust: Mapped[Trust] = relationship()
    academy: Mapped[Academy | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def owner_name(self) -> str:
        """The owning academy's name, or "Central team"."""
        return self.academy.name if self.academy else "Central team"


class AccessRequest(db.Model):
    """A request to become an administrator, moderator or publisher of an account, or to set up a new one.

    The approval chain is copied from the trust's rules when the request is made, so a later change of
    rules does not move a request that is already under way. Never holds a password (no column for one).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust it belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: Who asks.
    requester_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: "join" (an existing account) or "new_account" (set one up).
    kind: Mapped[str] = mapped_column(String(20))
    #: The account: existing for "join", proposed by this request for "new_account".
    account_id: Mapped[int] = mapped_column(ForeignKey("official_account.id"), index=True)
    #: The role asked for on the account: administrator, moderator or publisher.
    role: Mapped[str] = mapped_column(String(20))
    #: Why the requester needs it.
    reason: Mapped[str] = mapped_column(Text)
    #: Answers to the trust's own request form (e.g. TSAT Appendix 2), by field key.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The approval chain as it stood when the request was made (see rules.Step.as_dict).
    chain: Mapped[list] = mapped_column(JSON, default=list)
    #: Index of the step now waiting for a decision.
    step: Mapped[int] = mapped_column(default=0)
    #: pending, approved, refused or withdrawn.
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    #: When it was made, UTC.
    created_at: Mapped[datetime]
    #: When it was approved, refused or withdrawn, UTC.
    closed_at: Mapped[datetime | None]

    requester: Mapped[User] = relationship()
    account: Mapped[OfficialAccount] = relationship()
    decisions: Mapped[list["AccessDecision"]] = relationship(back_populates="request",
                                                             order_by="AccessDecision.step")
    grant: Mapped["AccessGrant | None"] = relationship(viewonly=True)


class AccessDecision(db.Model):
    """An approver's decision on one step of a request; at most one per step."""

    __table_args__ = (UniqueConstraint("request_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The request decided on.
    request_id: Mapped[int] = mapped_column(ForeignKey("access_request.id"), index=True)
    #: The step of its chain (0-based).
    step: Mapped[int]
    #: Who decided.
    approver_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: "approved" or "refused".
    outcome: Mapped[str] = mapped_column(String(20))
    #: The approver's comment.
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The requester's certificate the approver saw as valid (null when refused without one).
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    #: When, UTC.
    created_at: Mapped[datetime]

    request: Mapped[AccessRequest] = relationship(back_populates="decisions")
    approver: Mapped[User] = relationship()


class AccessGrant(db.Model):
    """A person authorised on an account, with who approved it and the certificate relied on.

    Append-only. Active only while `certificate` is valid and belongs to the grantee (derived, status.py).
    """

    __table_args__ = ({"info": {APPEND_ONLY: True, EVIDENCE: True}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) it belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The account.
    account_id: Mapped[int] = mapped_column(ForeignKey("official_account.id"), index=True)
    #: The grantee.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: administrator, moderator or publisher.
    role: Mapped[str] = mapped_column(String(20))
    #: The approved request it came from (one grant per request).
    request_id: Mapped[int] = mapped_column(ForeignKey("access_request.id"), unique=True)
    #: The grantee's certificate the final approval relied on.
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    #: Ids of the approvers, in chain order, comma-separated (e.g. "12,15,18").
    approver_ids: Mapped[str] = mapped_column(String(400))
    #: When it was granted, UTC.
    created_at: Mapped[datetime]

    account: Mapped[OfficialAccount] = relationship()
    user: Mapped[User] = relationship()
    certificate: Mapped[Certificate] = relationship()
    request: Mapped[AccessRequest] = relationship()
    revocation: Mapped["AccessRevocation | None"] = relationship(viewonly=True)

    @property
    def approver_id_list(self) -> list[int]:
        """The approvers' ids, in chain order."""
        return [int(i) for i in self.approver_ids.split(",") if i]


class AccessRevocation(db.Model):
    """Someone keeping the register removed a grant. Append-only, at most one per grant."""

    __table_args__ = ({"info": {APPEND_ONLY: True, EVIDENCE: True}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) it belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The grant removed.
    grant_id: Mapped[int] = mapped_column(ForeignKey("access_grant.id"), unique=True)
    #: Who removed it.
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: Why, one of services.REVOCATION_REASONS (no free text: this row is never erased).
    reason: Mapped[str] = mapped_column(String(40))
    #: When, UTC.
    created_at: Mapped[datetime]

    grant: Mapped[AccessGrant] = relationship()
    actor: Mapped[User] = relationship()


#: When the grant was removed (UTC), if it was; loaded with the row, like Certificate.revoked_at.
AccessGrant.removed_at = column_property(
    select(AccessRevocation.created_at).where(AccessRevocation.grant_id == AccessGrant.id)
    .correlate_except(AccessRevocation).scalar_subquery(), deferred=False)


class AccountClosure(db.Model):
    """An account was closed, ending every grant made on it before then. Append-only.

    Reopening the account does not revive those grants (status.py): the people need new requests.
    """

    __table_args__ = ({"info": {APPEND_ONLY: True, EVIDENCE: True}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) it belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The account closed.
    account_id: Mapped[int] = mapped_column(ForeignKey("official_account.id"), index=True)
    #: Who closed it (null for accounts already closed when closures began to be recorded, migration 0009).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: When, UTC.
    created_at: Mapped[datetime]


#: When the account was first closed after the grant was made (UTC), if it has been; loaded with the row.
AccessGrant.closed_at = column_property(
    select(func.min(AccountClosure.created_at)).where(AccountClosure.account_id == AccessGrant.account_id,
                                                      AccountClosure.created_at >= AccessGrant.created_at)
    .correlate_except(AccountClosure).scalar_subquery(), deferred=False)


class LapseObservation(db.Model):
    """`flask access sweep` saw a grant lapsed. Append-only, one per grant and reason.

    A record that the lapse was noticed (and the approvers told), nothing more: validity is always derived
    from the certificate, and nothing reads these rows to decide it.
    """

    __table_args__ = (UniqueConstraint("grant_id", "reason"), {"info": {APPEND_ONLY: True, EVIDENCE: True}})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) it belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The grant seen lapsed.
    grant_id: Mapped[int] = mapped_column(ForeignKey("access_grant.id"), index=True)
    #: Why: expired, revoked, superseded, left or not_grantee.
    reason: Mapped[str] = mapped_column(String(20))
    #: The certificate the grant relied on.
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"))
    #: The `now` of the sweep that saw it, UTC.
    observed_at: Mapped[datetime]

    grant: Mapped[AccessGrant] = relationship()


class TrainingDiscussion(db.Model):
    """A line manager recorded that they discussed training with a member of their team. Append-only."""

    __table_args__ = (UniqueConstraint("idempotency_key"), {"info": {APPEND_ONLY: True, EVIDENCE: True}})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) it belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The member of staff.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The line manager who recorded it (the attribution).
    manager_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: The request it was recorded for, if any.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("access_request.id"))
    #: Random key from the form, so a repeated submission records it once.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    #: When, UTC.
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    note: Mapped["TrainingDiscussionNote | None"] = relationship(viewonly=True)


class TrainingDiscussionNote(db.Model):
    """The line manager's optional note on a "training discussed" record: free text about a person, so kept
    apart from the append-only record (deletable with the person's other personal data; not ledgered)."""

    #: The record it annotates (one note per record, written with it).
    discussion_id: Mapped[int] = mapped_column(ForeignKey("training_discussion.id"), primary_key=True,
                                               autoincrement=False)
    #: The member of staff it is about (so a subject-access export finds it).
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: What the manager wrote.
    text: Mapped[str] = mapped_column(Text)


#: The access package's evidence: the columns each record's ledger hash covers (the table name is hashed
#: too). The append-only rows hold ids, dates and meanings only, so none has a personal row to erase; a
#: decision's comment is covered as written (an approver's note on a request, kept with the decision).
#: Every approver's decision (approve or refuse, with the comment and the certificate seen), on its trust's chain.
DECISION_EVIDENCE = evidence_record(
    AccessDecision, name_table=True,
    fields=("request_id", "step", "approver_id", "outcome", "comment", "certificate_id", "created_at"),
    trust=lambda decision: decision.request.trust_id,
    scope=lambda trust_id: select(AccessDecision.id).join(AccessRequest, AccessRequest.id == AccessDecision.request_id)
    .where(AccessRequest.trust_id == trust_id))
GRANT_EVIDENCE = evidence_record(
    AccessGrant, name_table=True,
    fields=("trust_id", "account_id", "user_id", "role", "request_id", "certificate_id", "approver_ids", "created_at"))
REVOCATION_EVIDENCE = evidence_record(
    AccessRevocation, name_table=True, fields=("trust_id", "grant_id", "actor_id", "reason", "created_at"))
CLOSURE_EVIDENCE = evidence_record(
    AccountClosure, name_table=True, fields=("trust_id", "account_id", "actor_id", "created_at"))
LAPSE_EVIDENCE = evidence_record(
    LapseObservation, name_table=True, fields=("trust_id", "grant_id", "reason", "certificate_id", "observed_at"))
DISCUSSION_EVIDENCE = evidence_record(
    TrainingDiscussion, name_table=True,
    fields=("trust_id", "user_id", "manager_id", "request_id", "idempotency_key", "created_at"))
