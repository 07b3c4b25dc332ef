"""The per-trust ledger: a hash chain of evidence events, its verification and signed checkpoints.

Every evidence record (an acknowledgement, a certificate issued or revoked, an access grant …) is written
in the same transaction as its ledger entry, made by `append_entry`. The entry commits to the record's
hash; the package owning the record declares the record with `records.evidence_record` (which registers
it here), and `flask ledger verify` recomputes every one.

The pattern for a record holding personal data (implemented once, in records.py):
  - a deletable personal row holds the data and a random salt (`new_salt()`);
  - the append-only record holds `salted_hash(salt, personal_fields)` as a digest column;
  - the record hash is `record_hash(fields)` over the record's columns, the digest included.
  Erasing the personal row removes data and salt; the record, its hash and the chain are unchanged.

Appends are serialised per trust: PostgreSQL takes a transaction-level advisory lock on the trust;
SQLite writers already hold the database write lock from `BEGIN IMMEDIATE` (modules/core/database.py).
(trust_id, seq) is the primary key, so even a bug in the locking cannot fork a chain.
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, inspect, select, text

from modules.core.extensions import db
from modules.evidence.models import LedgerEntry
from modules.people.models import Trust

#: prev_hash of a chain's first entry.
GENESIS = "0" * 64
#: First key of the two-key advisory lock, so our locks never collide with another feature's.
LEDGER_LOCK_CLASS = 0x1ED6
CHECKPOINT_FORMAT = "policypass-ledger-checkpoint/1"
#: Session.info key of what the open transaction already did with the ledger (see _known).
_KNOWN = "policypass_ledger"


# ---- hashing -----------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot hash a {type(value).__name__}")


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def canonical_json(fields: dict) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, no spaces, datetimes as ISO UTC with microseconds."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_plain).encode("utf-8")


def salted_hash(salt: bytes, fields: dict) -> str:
    """HMAC-SHA256 of the canonical JSON of `fields`, keyed by `salt` (hex digest).

    Without the salt the digest cannot be tested against guessed values, so deleting the salt along with
    the personal data it covers leaves nothing that identifies the person.
    """
    return hmac.new(salt, canonical_json(fields), hashlib.sha256).hexdigest()


def record_hash(fields: dict) -> str:
    """sha256 of the canonical JSON of a record's fields (personal data enters only as a salted digest)."""
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def new_salt() -> bytes:
    """A fresh random 16-byte salt for one record's personal data."""
    return secrets.token_bytes(16)


def entry_digest(entry: LedgerEntry) -> str:
    """The hash an entry must carry: sha256 over every other column of the entry."""
    return record_hash({
        "trust_id": entry.trust_id, "seq": entry.seq, "kind": entry.kind, "record_table": entry.record_table,
        "record_id": entry.record_id, "record_hash": entry.record_hash, "prev_hash": entry.prev_hash,
        "created_at": entry.created_at,
    })


# ---- registry of evidence tables ---------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """How to recompute one evidence table's record hashes, and optionally list its record ids.

    `recompute(record_id)` returns the hash the record has now, or None when the record is missing; it
    may raise EvidenceProblem("why") for something more specific (e.g. personal data altered).
    `ids(trust_id)`, if given, lists every record of the trust, so a record without an entry is caught.
    Features never build one: records.evidence_record declares a table and registers it.
    """

    recompute: Callable[[int], str | None]
    ids: Callable[[int], Iterable[int]] | None = None


_EVIDENCE: dict[str, Evidence] = {}


class EvidenceProblem(Exception):
    """Raised by a recompute function to report what is wrong with a record (verify names the entry)."""


def register(table_name: str, evidence: Evidence) -> None:
    """Tell the ledger how to recompute the records of `table_name` (called by records.evidence_record)."""
    if table_name in _EVIDENCE and _EVIDENCE[table_name] != evidence:
        raise ValueError(f"evidence for table {table_name!r} is declared twice")
    _EVIDENCE[table_name] = evidence


# ---- appending ---------------------------------------------------------------------------------------

def _known() -> dict:
    """What the session's open transaction already did with the ledger: the trusts whose lock it holds (per
    innermost transaction, since rolling back a savepoint releases a lock taken inside it) and the entry it
    appended last per trust (the chain's head while the transaction holds the trust's lock). Starts empty with
    each transaction, so nothing is carried from one transaction to the next."""
    session = db.session()
    root, inner = session.get_transaction(), session.get_nested_transaction() or session.get_transaction()
    known = session.info.get(_KNOWN)
    if known is None or known["root"] is not root:
        known = session.info[_KNOWN] = {"root": root, "locked": {}, "heads": {}}
    known["inner"] = inner
    return known


def lock_trust(trust_id: int) -> None:
    """Serialise ledger writers of one trust until the transaction ends.

    PostgreSQL: a transaction-level advisory lock (re-entrant within the transaction; taken once per
    transaction, not once per call). SQLite: nothing to do, since writers begin with BEGIN IMMEDIATE and so
    hold the database's write lock already.
    Call it before reading anything a decision depends on (e.g. an idempotency key).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    known = _known()
    if known["root"] is not None and known["locked"].get(trust_id) is known["inner"]:
        return  # this transaction (or the savepoint it is in) took it already
    db.session.execute(text("SELECT pg_advisory_xact_lock(:cls, :trust)"),
                       {"cls": LEDGER_LOCK_CLASS, "trust": trust_id})
    known = _known()  # the statement may have begun the transaction
    known["locked"][trust_id] = known["inner"]


def last_entry(trust_id: int) -> LedgerEntry | None:
    """The newest entry of a trust's chain."""
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.trust_id == trust_id)
                             .order_by(LedgerEntry.seq.desc()).limit(1))


def _head(trust_id: int) -> LedgerEntry | None:
    """The newest entry of the chain, as this transaction appended it if it did (still in the session: not
    undone by a savepoint's rollback), else read from the database."""
    entry = _known()["heads"].get(trust_id)
    if entry is not None and inspect(entry).persistent:
        return entry
    return last_entry(trust_id)


def append_entry(trust_id: int, *, kind: str, record_table: str, record_id: int, record_hash: str,
                 now: datetime) -> LedgerEntry:
    """Append an entry for an evidence record to the trust's chain; add + flush, in the caller's transaction."""
    if record_table not in _EVIDENCE:
        raise LookupError(f"no evidence registered for table {record_table!r}")
    lock_trust(trust_id)
    previous = _head(trust_id)
    entry = LedgerEntry(trust_id=trust_id, seq=(previous.seq + 1) if previous else 1, kind=kind,
                        record_table=record_table, record_id=record_id, record_hash=record_hash,
                        prev_hash=previous.entry_hash if previous else GENESIS, created_at=_naive_utc(now))
    entry.entry_hash = entry_digest(entry)
    db.session.add(entry)
    db.session.flush()
    _known()["heads"][trust_id] = entry
    return entry


def entry_for(record_table: str, record_id: int, kind: str | None = None) -> LedgerEntry | None:
    """The (first) ledger entry for a record, optionally of one kind."""
    query = select(LedgerEntry).where(LedgerEntry.record_table == record_table, LedgerEntry.record_id == record_id)
    if kind is not None:
        query = query.where(LedgerEntry.kind == kind)
    return db.session.scalar(query.order_by(LedgerEntry.created_at, LedgerEntry.seq).limit(1))


# ---- verifying ---------------------------------------------------------------------------------------

@dataclass
class Problem:
    """The first thing found wrong, naming the entry (or record) concerned."""

    trust: str
    reason: str
    seq: int | None = None
    record: str | None = None

    def __str__(self) -> str:
        where = f"trust {self.trust}"
        if self.seq is not None:
            where += f", entry {self.seq}"
        if self.record:
            where += f" ({self.record})"
        return f"{where}: {self.reason}"


@dataclass
class VerifyReport:
    """What `verify_ledger` checked, and the first problem if any."""

    trusts: int = 0
    entries: int = 0
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        """True when every chain verified."""
        return self.problem is None


def _trust_labels() -> dict[int, str]:
    return dict(db.session.execute(select(Trust.id, Trust.slug)).all())


def _verify_chain(trust_id: int, label: str, report: VerifyReport) -> Problem | None:
    expected_seq, prev_hash = 1, GENESIS
    referenced: dict[str, set[int]] = {}
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.trust_id == trust_id)
                                 .order_by(LedgerEntry.seq).execution_options(yield_per=500))
    for entry in entries:
        record = f"{entry.kind}, {entry.record_table} {entry.record_id}"
        report.entries += 1

        def problem(reason: str, entry=entry, record=record) -> Problem:
            return Problem(trust=label, seq=entry.seq, record=record, reason=reason)

        if entry.seq != expected_seq:
            return problem(f"expected entry {expected_seq} here: the chain has a gap or was reordered")
        if entry.prev_hash != prev_hash:
            return problem("does not link to the previous entry (prev_hash differs)")
        if entry_digest(entry) != entry.entry_hash:
            return problem("entry hash does not match the entry's contents")
        evidence = _EVIDENCE.get(entry.record_table)
        if evidence is None:
            return problem(f"no evidence type registered for table {entry.record_table!r}")
        try:
            recomputed = evidence.recompute(entry.record_id)
        except EvidenceProblem as exc:
            return problem(str(exc))
        if recomputed is None:
            return problem("the record is missing")
        if recomputed != entry.record_hash:
            return problem("the record no longer matches its hash: it was altered")
        referenced.setdefault(entry.record_table, set()).add(entry.record_id)
        expected_seq, prev_hash = entry.seq + 1, entry.entry_hash
    for table, evidence in sorted(_EVIDENCE.items()):
        if evidence.ids is None:
            continue
        for record_id in sorted(set(evidence.ids(trust_id)) - referenced.get(table, set())):
            return Problem(trust=label, record=f"{table} {record_id}", reason="record has no ledger entry")
    return None


def verify_ledger(trust_id: int | None = None) -> VerifyReport:
    """Recompute every chain link and every record hash; stop at the first problem."""
    labels = _trust_labels()
    chained = set(db.session.scalars(select(LedgerEntry.trust_id).distinct()))
    trust_ids = sorted((set(labels) | chained) if trust_id is None else {trust_id})
    report = VerifyReport()
    for tid in trust_ids:
        report.trusts += 1
        problem = _verify_chain(tid, labels.get(tid, f"#{tid}"), report)
        if problem is not None:
            report.problem = problem
            break
    return report


# ---- signed checkpoints ------------------------------------------------------------------------------

def checkpoint_payload(now: datetime) -> dict:
    """The head (last seq and entry hash) of every trust's chain, to be signed."""
    labels = _trust_labels()
    rows = db.session.execute(select(LedgerEntry.trust_id, func.max(LedgerEntry.seq))
                              .group_by(LedgerEntry.trust_id)).all()
    heads = []
    for tid, seq in sorted(rows):
        entry = db.session.get(LedgerEntry, (tid, seq))
        heads.append({"trust": labels.get(tid, f"#{tid}"), "trust_id": tid, "seq": seq,
                      "entry_hash": entry.entry_hash})
    return {"format": CHECKPOINT_FORMAT, "created_at": _naive_utc(now).isoformat(timespec="seconds") + "Z",
            "heads": heads}


def sign_checkpoint(payload: dict, private_key) -> dict:
    """A checkpoint document: the payload, the Ed25519 public key (hex) and the signature (hex)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"payload": payload, "public_key": public.hex(),
            "signature": private_key.sign(canonical_json(payload)).hex()}


def check_checkpoint(document: dict, public_key, trust_id: int | None = None) -> Problem | None:
    """Check a checkpoint's signature against our key, then that every head it names is still in the chain.

    With trust_id, only that trust's head is compared (the signature still covers the whole document).
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        payload, signature = document["payload"], bytes.fromhex(document["signature"])
        ours = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        if document.get("public_key") != ours:
            return Problem(trust="-", reason="checkpoint was signed with a different key")
        public_key.verify(signature, canonical_json(payload))
        if payload.get("format") != CHECKPOINT_FORMAT:
            return Problem(trust="-", reason="not a ledger checkpoint")
        heads = payload["heads"]
    except (KeyError, TypeError, ValueError):
        return Problem(trust="-", reason="checkpoint file is malformed")
    except InvalidSignature:
        return Problem(trust="-", reason="checkpoint signature is not valid: the file was altered")
    for head in heads:
        tid, seq = head["trust_id"], head["seq"]
        if trust_id is not None and tid != trust_id:
            continue
        entry = db.session.get(LedgerEntry, (tid, seq))
        if entry is None:
            last = last_entry(tid)
            return Problem(trust=head["trust"], seq=seq,
                           reason=f"missing: the checkpoint has entry {seq} but the chain ends at "
                                  f"{last.seq if last else 0} (truncated)")
        if entry.entry_hash != head["entry_hash"]:
            return Problem(trust=head["trust"], seq=seq,
                           reason="differs from the checkpoint: the chain was rewritten")
    return None
