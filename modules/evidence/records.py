"""Evidence records, declared once: which columns are hashed, which rows hold erasable personal data.

A feature declares each evidence model at the end of its models.py:

    evidence_record(Certificate, fields=("trust_id", "user_id", …, "personal_digest", "issued_at"),
                    personal=Personal(CertificatePersonal, key="certificate_id", fields=("holder_name",)))

and then writes records only through the helpers here, so the pattern exists once:

- `new_personal(Model, **values)` makes the deletable personal row with a fresh random salt, and
  `personal_digest(row)` is the salted digest the record stores (in its `personal_digest` column);
- `record(row, kind=…, now=…)` appends the record's ledger entry (its hash covers the declared fields);
- `flask ledger verify` recomputes every declared record from the database (`EvidenceRecord.recompute`),
  checks its personal row against the digest, and lists every record of a trust so one without an entry
  is caught;
- `erase(row, now=…)` is a lawful erasure: the personal row (and its salt) is deleted and the erasure
  is ledgered; the record, its hash and the chain are unchanged, so verify still passes.

Field lists are explicit (never "every column"), so adding a column never silently changes the hash of
records written before it: a new column is added deliberately, with a new hash version for new records.
tests/attestation/test_tamper.py alters every column of every evidence table and fails if one is not covered.
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from modules.core.extensions import db
from modules.evidence.ledger import (
    EvidenceProblem,
    append_entry,
    entry_for,
    lock_trust,
    new_salt,
    record_hash,
    register,
    salted_hash,
)
from modules.evidence.models import LedgerEntry
from modules.people.models import User
from modules.people.security import record_event

#: Ledger entry kind of a lawful erasure of a record's personal data.
KIND_ERASURE = "erasure"

_FRESH = {"populate_existing": True}


@dataclass(frozen=True)
class Personal:
    """The deletable row holding one record's personal data, and what the record's salted digest covers.

    `key` is the personal row's column holding the record's id; `fields` are its columns covered by the
    digest; `derived` adds digest inputs computed from the row (e.g. a PDF enters as its sha256).
    The row keeps its random salt in `salt`; erasing the row erases the salt, so the digest left behind
    can no longer be tested against guesses.
    """

    model: type
    key: str
    fields: tuple[str, ...]
    derived: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    salt: str = "salt"


@dataclass(frozen=True)
class Children:
    """Rows belonging to a record that its hash covers, as a list named `name` (ordered by id)."""

    name: str
    model: type
    key: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class EvidenceRecord:
    """One declared evidence table: the columns its hash covers, its children and its personal row.

    The record hash is sha256 over {field: value for each field} + {"hash_version": n}, plus the children
    (`children.name`: [...]) and the table name ("table": name) when declared. The record's id is bound by
    its ledger entry's record_id. `check(record, personal)` may name anything else that must hold (e.g. the
    stored PDF is the one issued); it runs only while the personal row exists.

    A record's trust (whose chain it is on) is its `trust_id` unless `trust(row)` says otherwise; the records
    of a trust that must each have a ledger entry are all its rows unless `scope(trust_id)` (a select of ids)
    narrows them, e.g. to the quiz attempts an acknowledgement rests on.
    """

    model: type
    fields: tuple[str, ...]
    hash_version: int = 1
    personal: Personal | None = None
    children: Children | None = None
    #: Include "table": the table name in the hash (the access tables were hashed so).
    name_table: bool = False
    #: The record's column holding the salted digest of its personal row.
    digest: str = "personal_digest"
    check: Callable[[Any, Any], str | None] | None = None
    trust: Callable[[Any], int] | None = None
    scope: Callable[[int], Select] | None = None

    @property
    def table(self) -> str:
        """The evidence table's name (the ledger entries' record_table)."""
        return self.model.__tablename__

    def hash(self, row, *, fresh: bool = False, children=None) -> str:
        """The record hash of `row`: its children read from the database (freshly if asked), unless the caller
        gives them all (`children`: every child row of the record, e.g. as just written with it)."""
        fields = {f: getattr(row, f) for f in self.fields}
        fields["hash_version"] = self.hash_version
        if self.children is not None:
            kids = self.children
            if children is None:
                query = select(kids.model).where(getattr(kids.model, kids.key) == row.id).order_by(kids.model.id)
                children = db.session.scalars(query.execution_options(**_FRESH) if fresh else query)
            else:
                children = sorted(children, key=lambda kid: kid.id)  # as the database read orders them
                if any(getattr(kid, kids.key) != row.id for kid in children):
                    raise ValueError(f"a child given for {self.table} {row.id} belongs to another record")
            fields[kids.name] = [{f: getattr(kid, f) for f in kids.fields} for kid in children]
        if self.name_table:
            fields["table"] = self.table
        return record_hash(fields)

    def personal_digest(self, personal) -> str:
        """The salted digest of a personal row of this record, keyed by the row's own salt."""
        spec = self.personal
        values = {f: getattr(personal, f) for f in spec.fields}
        values.update({name: derive(personal) for name, derive in spec.derived.items()})
        return salted_hash(bytes.fromhex(getattr(personal, spec.salt)), values)

    def personal_row(self, record_id: int, *, fresh: bool = False):
        """The record's personal row, or None (never declared, or erased)."""
        if self.personal is None:
            return None
        model = self.personal.model
        query = select(model).where(getattr(model, self.personal.key) == record_id)
        return db.session.scalar(query.execution_options(**_FRESH) if fresh else query)

    def recompute(self, record_id: int) -> str | None:
        """The hash the record has now, read fresh from the database; None if it is missing.

        Raises EvidenceProblem when its personal row was altered, or deleted without a recorded erasure.
        """
        row = db.session.scalar(select(self.model).where(self.model.id == record_id).execution_options(**_FRESH))
        if row is None:
            return None
        if self.personal is not None:
            personal = self.personal_row(record_id, fresh=True)
            if personal is None:
                if entry_for(self.table, record_id, kind=KIND_ERASURE) is None:
                    raise EvidenceProblem("the personal data row is missing and no erasure was recorded")
            else:
                if self.personal_digest(personal) != getattr(row, self.digest):
                    raise EvidenceProblem("the personal data no longer matches its digest: it was altered")
                problem = self.check(row, personal) if self.check else None
                if problem:
                    raise EvidenceProblem(problem)
        return self.hash(row, fresh=True)

    def trust_of(self, row) -> int:
        """The trust whose chain the record is on."""
        return self.trust(row) if self.trust else row.trust_id

    def ids(self, trust_id: int) -> list[int]:
        """Every record of the trust that must have a ledger entry."""
        query = self.scope(trust_id) if self.scope else select(self.model.id).where(self.model.trust_id == trust_id)
        return list(db.session.scalars(query))


_BY_MODEL: dict[type, EvidenceRecord] = {}
_BY_PERSONAL: dict[type, EvidenceRecord] = {}


def evidence_record(model: type, *, fields: tuple[str, ...], hash_version: int = 1, personal: Personal | None = None,
                    children: Children | None = None, name_table: bool = False,
                    check: Callable[[Any, Any], str | None] | None = None, trust: Callable[[Any], int] | None = None,
                    scope: Callable[[int], Select] | None = None) -> EvidenceRecord:
    """Declare `model` an evidence record (see EvidenceRecord) and register it with the ledger."""
    spec = EvidenceRecord(model=model, fields=tuple(fields), hash_version=hash_version, personal=personal,
                          children=children, name_table=name_table, check=check, trust=trust, scope=scope)
    register(spec.table, spec)
    _BY_MODEL[model] = spec
    if personal is not None:
        _BY_PERSONAL[personal.model] = spec
    return spec


def spec_for(row_or_model) -> EvidenceRecord:
    """The declaration of an evidence model (or of one of its rows)."""
    model = row_or_model if isinstance(row_or_model, type) else type(row_or_model)
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not declared as an evidence record") from None


def declared_records() -> list[EvidenceRecord]:
    """Every declared evidence record, by table name."""
    return sorted(_BY_MODEL.values(), key=lambda spec: spec.table)


def new_personal(model: type, **values):
    """A personal-data row of a declared record, with a fresh random salt (its key is set later)."""
    spec = _BY_PERSONAL.get(model)
    if spec is None:
        raise LookupError(f"{model.__name__} is not declared as the personal row of an evidence record")
    return model(**{spec.personal.salt: new_salt().hex()}, **values)


def personal_digest(personal) -> str:
    """The salted digest a record stores for its personal row (give it to the record's personal_digest)."""
    return _BY_PERSONAL[type(personal)].personal_digest(personal)


def record_hash_of(row) -> str:
    """The hash of a declared evidence row as it is now (children included)."""
    return spec_for(row).hash(row)


def is_recorded(row) -> bool:
    """Whether a declared evidence row already has a ledger entry."""
    return entry_for(spec_for(row).table, row.id) is not None


def record(row, *, kind: str, now: datetime, children=None) -> LedgerEntry:
    """Append the ledger entry for a new evidence row (flushed first); add + flush, in the caller's transaction.

    `children`, if given, is every child row the record's hash covers (those written with it, or loaded before
    the ledger lock was taken), so they are not read back while the lock is held.
    """
    spec = spec_for(row)
    db.session.flush()
    return append_entry(spec.trust_of(row), kind=kind, record_table=spec.table, record_id=row.id,
                        record_hash=spec.hash(row, children=children), now=now)


def erase(row, *, now: datetime) -> LedgerEntry | None:
    """Lawful erasure: delete the row's personal data (and its salt) and ledger the erasure.

    The record and its hash are untouched, so `flask ledger verify` still passes. Returns the erasure's
    ledger entry, or None when there was nothing (left) to erase.
    """
    spec = spec_for(row)
    if spec.personal is None:
        raise LookupError(f"{spec.model.__name__} holds no erasable personal data")
    trust_id = spec.trust_of(row)
    lock_trust(trust_id)
    personal = spec.personal_row(row.id)
    if personal is None:
        return None
    db.session.delete(personal)
    db.session.flush()
    db.session.expire(row)
    entry = append_entry(trust_id, kind=KIND_ERASURE, record_table=spec.table, record_id=row.id,
                         record_hash=spec.hash(row), now=now)
    owner_id = getattr(row, "user_id", None)
    record_event("erasure", now=now, trust_id=trust_id, target=f"{spec.table} {row.id}",
                 target_user=db.session.get(User, owner_id) if owner_id else None,
                 details={"record": spec.table, "ledger_seq": entry.seq})
    return entry


def sha256_hex(data: bytes) -> str:
    """sha256 of bytes as hex (how a PDF or other blob enters a digest)."""
    return hashlib.sha256(data).hexdigest()
