"""Acknowledgement evidence.

Two kinds of row, decided here because they are very hard to retrofit:

- append-only evidence (`Acknowledgement`, `AcknowledgementStatement`): ids, hashes and meanings, refused
  UPDATE/DELETE/TRUNCATE by database triggers;
- deletable personal data (`AcknowledgementPersonal`): name, email, typed signature, IP address, user
  agent and the salt of their digest. A lawful erasure deletes the row (and the salt with it, so the
  digest left behind can no longer be tested against guesses) and the ledger still verifies.

The ledger entry of each acknowledgement (modules/evidence/) commits to its hash, which covers its
statements and the personal digest: the declaration at the end of this file says which columns.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.assessments.models import AttemptQuestion, QuizAttempt
from modules.core.extensions import db
from modules.evidence.records import Children, Personal, evidence_record
from modules.evidence.triggers import APPEND_ONLY, EVIDENCE
from modules.people.models import User
from modules.policies.models import PolicyVersion

#: Decisions an acknowledgement event records. The policy (acknowledged / declined) and monitoring consent
#: (consent given / consent declined / consent withdrawn) are separate decisions, each its own event.
ACKNOWLEDGED, DECLINED, CONSENT_WITHDRAWN, CONSENT_GIVEN = ("acknowledged", "declined", "consent withdrawn",
                                                            "consent given")
CONSENT_DECLINED = "consent declined"
#: The decisions about monitoring consent (never part of a policy acknowledgement event).
CONSENT_DECISIONS = (CONSENT_GIVEN, CONSENT_DECLINED, CONSENT_WITHDRAWN)
#: What a statement row records. "notice acknowledged" is deliberately not consent.
MEANING_ACKNOWLEDGED, MEANING_CONSENTED, MEANING_NOTICE = "acknowledged", "consented", "notice acknowledged"
MEANING_DECLINED, MEANING_WITHDRAWN = "declined", "consent withdrawn"
MEANING_CONSENT_DECLINED = "consent declined"


class Acknowledgement(db.Model):
    """One decision about a policy version: acknowledged, declined, consent withdrawn or given again.

    Append-only. Personal data is in AcknowledgementPersonal; `personal_digest` commits to it.
    """

    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        {"info": {APPEND_ONLY: True, EVIDENCE: True}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust (and ledger) the record belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The person the decision is about (the signer).
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The policy version decided on.
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id"), index=True)
    #: sha256 of the exact policy text the person was given (the version's source).
    policy_sha256: Mapped[str] = mapped_column(String(64))
    #: sha256 over the statements shown, in order (see statements.statements_digest).
    statements_sha256: Mapped[str] = mapped_column(String(64))
    #: "acknowledged", "declined" (the policy); "consent given", "consent declined", "consent withdrawn".
    decision: Mapped[str] = mapped_column(String(30))
    #: The passed quiz attempt the acknowledgement rests on (null on paper records without one).
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempt.id"))
    #: That attempt's score in per cent, copied so the record stands alone.
    attempt_score: Mapped[int | None]
    #: Snapshot: the signer's role labels, comma-separated.
    signer_roles: Mapped[str] = mapped_column(String(400))
    #: Snapshot: the signer's job title.
    signer_job_title: Mapped[str] = mapped_column(String(200))
    #: Snapshot: the signer's academy name, or "Central team".
    signer_academy: Mapped[str] = mapped_column(String(200))
    #: How the signer proved who they were, e.g. "password"; "paper form" when HR recorded it.
    signin_method: Mapped[str] = mapped_column(String(40))
    #: When that proof was last given (sign-in or re-authentication), UTC; null for paper records.
    authenticated_at: Mapped[datetime | None]
    #: Who entered the record when not the signer (HR from a paper form).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: True when recorded on the signer's behalf.
    on_behalf: Mapped[bool] = mapped_column(default=False)
    #: Random key put in the form when it was shown: a repeat of the same submission finds this record.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    #: salted_hash of the personal data row (its salt lives in that row, and goes with it on erasure).
    personal_digest: Mapped[str] = mapped_column(String(64))
    #: Server time of the decision, UTC.
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    version: Mapped[PolicyVersion] = relationship()
    statements: Mapped[list["AcknowledgementStatement"]] = relationship(
        back_populates="acknowledgement", order_by="AcknowledgementStatement.position")
    personal: Mapped["AcknowledgementPersonal | None"] = relationship(back_populates="acknowledgement")


class AcknowledgementStatement(db.Model):
    """One statement of an acknowledgement event: its exact text and hash, and what the event means for it.

    Append-only. One original (supersedes_id null) per person, version and statement key; each later
    event on that statement (re-acknowledgement, withdrawal) supersedes exactly one earlier row.
    """

    __table_args__ = (
        UniqueConstraint("supersedes_id"),
        Index("uq_acknowledgement_statement_original", "user_id", "version_id", "key", unique=True,
              sqlite_where=sql_text("supersedes_id IS NULL"),
              postgresql_where=sql_text("supersedes_id IS NULL")),
        {"info": {APPEND_ONLY: True, EVIDENCE: True}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The event this statement belongs to.
    acknowledgement_id: Mapped[int] = mapped_column(ForeignKey("acknowledgement.id"), index=True)
    #: The person (copied from the event, for the one-original constraint).
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: The policy version (copied from the event, for the one-original constraint).
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_version.id"))
    #: Order on the page, from 1.
    position: Mapped[int]
    #: Stable key: "policy" or "monitoring".
    key: Mapped[str] = mapped_column(String(40))
    #: "policy", "consent" or "notice": what kind of statement it is.
    kind: Mapped[str] = mapped_column(String(20))
    #: Clause refs the statement quotes, comma-separated, e.g. "4.3.1, 4.3.2".
    clauses: Mapped[str] = mapped_column(String(200))
    #: The exact statement text shown, with the quoted clauses.
    text: Mapped[str] = mapped_column(Text)
    #: sha256 of `text` (UTF-8).
    text_sha256: Mapped[str] = mapped_column(String(64))
    #: "acknowledged", "consented", "notice acknowledged", "declined", "consent declined" or "consent withdrawn".
    meaning: Mapped[str] = mapped_column(String(30))
    #: The earlier statement row this one follows (null for the original).
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("acknowledgement_statement.id"))

    acknowledgement: Mapped[Acknowledgement] = relationship(back_populates="statements")


class AcknowledgementPersonal(db.Model):
    """The personal data of an acknowledgement; deleting it is a lawful erasure, recorded in the ledger."""

    __table_args__ = ({"info": {EVIDENCE: True}},)

    #: The acknowledgement it belongs to (one row per acknowledgement).
    acknowledgement_id: Mapped[int] = mapped_column(ForeignKey("acknowledgement.id"), primary_key=True,
                                                    autoincrement=False)
    #: Random salt (hex) of the personal digest; erased with the row so the digest cannot be tested.
    salt: Mapped[str] = mapped_column(String(64))
    #: Snapshot: the signer's full name.
    signer_name: Mapped[str] = mapped_column(String(200))
    #: Snapshot: the signer's email address.
    signer_email: Mapped[str] = mapped_column(String(254))
    #: The full name the signer typed as their signature (or HR copied from the paper form); null if none.
    typed_name: Mapped[str | None] = mapped_column(String(200))
    #: IP address of the request that recorded it.
    ip_address: Mapped[str | None] = mapped_column(String(64))
    #: Browser user agent of that request.
    user_agent: Mapped[str | None] = mapped_column(String(400))
    #: Free text, so kept with the personal data: HR's note when recording on someone's behalf, or the
    #: person's reason for withdrawing consent (optional).
    note: Mapped[str | None] = mapped_column(Text)

    acknowledgement: Mapped[Acknowledgement] = relationship(back_populates="personal")


#: The acknowledgement as evidence: the columns and statement columns its ledger hash covers, and the
#: personal row whose salted digest it stores. The row's acknowledgement_id is not in the digest: a row
#: moved to another acknowledgement matches neither digest.
ACKNOWLEDGEMENT_EVIDENCE = evidence_record(
    Acknowledgement,
    fields=("trust_id", "user_id", "version_id", "policy_sha256", "statements_sha256", "decision", "attempt_id",
            "attempt_score", "signer_roles", "signer_job_title", "signer_academy", "signin_method",
            "authenticated_at", "actor_id", "on_behalf", "idempotency_key", "personal_digest", "created_at"),
    children=Children("statements", AcknowledgementStatement, key="acknowledgement_id",
                      fields=("id", "acknowledgement_id", "user_id", "version_id", "position", "key", "kind",
                              "clauses", "text", "text_sha256", "meaning", "supersedes_id")),
    personal=Personal(AcknowledgementPersonal, key="acknowledgement_id",
                      fields=("signer_name", "signer_email", "typed_name", "ip_address", "user_agent", "note")),
)
#: The quiz attempt an acknowledgement rests on (and so the certificate issued for it), as evidence: ledgered
#: when the first acknowledgement citing it is written, so changing its answers or score afterwards is caught.
#: Attempts no acknowledgement cites (failed, abandoned) stay ordinary rows.
QUIZ_ATTEMPT_EVIDENCE = evidence_record(
    QuizAttempt, name_table=True,
    fields=("user_id", "version_id", "started_at", "finished_at", "score", "passed", "pass_mark", "scope"),
    children=Children("questions", AttemptQuestion, key="attempt_id",
                      fields=("id", "attempt_id", "question_id", "position", "option_order", "chosen", "correct")),
    trust=lambda attempt: attempt.version.trust_id,
    scope=lambda trust_id: select(Acknowledgement.attempt_id).where(
        Acknowledgement.trust_id == trust_id, Acknowledgement.attempt_id.is_not(None)).distinct(),
)
