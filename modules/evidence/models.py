"""The per-trust ledger's table: one append-only row per link of a trust's hash chain.

Evidence records themselves live with the feature that writes them (acknowledgements in attestation,
certificates, access grants …); each is declared with `records.evidence_record`, and its ledger entry here
commits to its hash.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from modules.core.extensions import db
from modules.evidence.triggers import APPEND_ONLY, EVIDENCE


class LedgerEntry(db.Model):
    """One link of a trust's hash chain: commits to an evidence record's hash and the previous link."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_record", "record_table", "record_id"),
        {"info": {APPEND_ONLY: True, EVIDENCE: True}},
    )

    #: The trust whose chain this is; (trust_id, seq) is the primary key, so a seq is never reused.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), primary_key=True)
    #: 1, 2, 3 … without gaps within the trust.
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: What happened, e.g. "acknowledgement", "decline", "withdrawal", "certificate_issued", "erasure".
    kind: Mapped[str] = mapped_column(String(40))
    #: The evidence table holding the record, declared with records.evidence_record.
    record_table: Mapped[str] = mapped_column(String(60))
    #: The record's id in that table.
    record_id: Mapped[int]
    #: The record's hash when it was written (recomputed by `flask ledger verify`).
    record_hash: Mapped[str] = mapped_column(String(64))
    #: entry_hash of the previous entry, or 64 zeros for the first.
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: sha256 over this entry's other columns (see ledger.entry_digest).
    entry_hash: Mapped[str] = mapped_column(String(64))
    #: Server time of the append, UTC.
    created_at: Mapped[datetime]
