"""The evidence pack: a ZIP that lets an inspector check the trust's (or an academy's) training records.

It holds everyone in scope with their training status (complete, due, overdue, exempt, declined, not
assigned), a human-readable summary (summary.html) an inspector opens in any browser, the policy text and hash
of each version concerned, every acknowledgement with its statement hashes and ledger entry, the certificates
with their status today, a snapshot of the authorised-user register (when the access feature is installed),
the trust's ledger with a signed checkpoint and the public key (ledger/, checked with openssl and a short
standard-library script, no server access needed), a README on how to verify it, and a MANIFEST of sha256 sums
of every file. Building a pack changes no record (it may create the ledger's signing key on first use).
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from modules.attestation.models import ACKNOWLEDGED, DECLINED, Acknowledgement
from modules.attestation.statements import asks_consent
from modules.certificates.models import Certificate
from modules.certificates.status import certificate_status
from modules.core.extensions import db
from modules.core.sheets import csv_writer
from modules.evidence.ledger import GENESIS, last_entry
from modules.evidence.models import LedgerEntry
from modules.evidence.portable import CHAIN_VERIFY, OPENSSL_VERIFY, ledger_files
from modules.notifications.services import london_date
from modules.people.models import Academy, Trust, User
from modules.policies.models import PolicyVersion
from modules.tracking import queries
from modules.tracking.filters import STATUSES, Filters
from modules.tracking.models import KINDS
from modules.tracking.scope import Scope
from modules.training.queries import current_version

EVIDENCE_FORMAT = "policypass-evidence-pack/1"
#: The statuses people.csv and the summary give, in the order the summary counts them.
PACK_STATUSES = {"complete": "Completed", "overdue": "Overdue", "due": "Due", "exempt": "Exempt",
                 "declined": "Declined", "unassigned": "Not assigned"}
#: How consent.csv words a consent statement's meaning.
CONSENT_LABELS = {"consented": "consent given", "consent declined": "consent declined",
                  "consent withdrawn": "consent withdrawn"}


@dataclass
class Pack:
    """A built evidence pack: its bytes and a name to download it as."""

    filename: str
    data: bytes


def _csv(headers: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") + "Z" if value else ""


def _ledger_index(trust_id: int, table: str) -> dict[int, LedgerEntry]:
    """The first ledger entry of each record of a table (the one that recorded it)."""
    found: dict[int, LedgerEntry] = {}
    for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.trust_id == trust_id,
                                                              LedgerEntry.record_table == table)
                                    .order_by(LedgerEntry.seq)):
        found.setdefault(entry.record_id, entry)
    return found


def _people_filter(query, academy: Academy | None):
    return query.where(User.academy_id == academy.id) if academy is not None else query


def _register(trust: Trust, academy: Academy | None, now: datetime) -> tuple[bytes | None, str]:
    """The register as CSV and a sentence for the README; None when the access feature is not installed."""
    try:
        from modules.access.exports import register_table
        from modules.access.queries import register_rows
    except ImportError:
        return None, ("No register snapshot: this installation has no authorised-user register (the access "
                      "feature is not installed), so there was nothing to include.")
    rows = register_rows(trust, now, scope={academy.id} if academy is not None else None)
    headers, body = register_table(rows, trust.rules)
    return _csv(headers, body), (f"register.csv is the authorised-user register as it stood at the export, "
                                 f"{len(rows)} grant(s), with each grant's status derived at that moment.")


@dataclass
class PersonStatus:
    """One person in scope in the pack: their tracking row and the status the pack gives them."""

    row: queries.PersonRow
    status: str
    declined_at: datetime | None


def people_in_scope(trust: Trust, academy: Academy | None, acks: list[Acknowledgement],
                    now: datetime) -> list[PersonStatus]:
    """Everyone in scope (active staff of the trust or academy) with their status on the export date: the
    dashboard's status, except that someone who declined the version in force and has not completed is
    "declined"."""
    scope = Scope(trust.id, frozenset({academy.id}) if academy else None, None, academy.name if academy else trust.name)
    rows, _ = queries.people(scope, Filters(), london_date(now), paginate=False)
    current = current_version(trust.id)
    last_decision: dict[int, Acknowledgement] = {}
    for ack in acks:  # in time order, so the last one wins
        if current is not None and ack.version_id == current.id and ack.decision in (ACKNOWLEDGED, DECLINED):
            last_decision[ack.user_id] = ack
    out = []
    for row in rows:
        decision = last_decision.get(row.id)
        declined = decision is not None and decision.decision == DECLINED and row.status != "complete"
        out.append(PersonStatus(row, "declined" if declined else row.status,
                                decision.created_at if declined else None))
    return out


#: The steps of building a pack, as a job's progress names them.
STEPS = ("Reading acknowledgements", "Reading certificates", "Adding the policy text", "Adding the register",
         "Listing everyone in scope", "Signing the ledger checkpoint", "Writing the summary and the ZIP file")


def build_pack(trust: Trust, academy: Academy | None, *, now: datetime, progress=None) -> Pack:
    """Build the evidence pack of a trust, or of one of its academies (its people's records); `progress(done,
    total, step)` is told as each step starts (a background job shows it)."""
    files: dict[str, bytes] = {}

    def step(index: int) -> None:
        if progress is not None:
            progress(index, len(STEPS), STEPS[index])

    step(0)

    acks = list(db.session.scalars(_people_filter(
        select(Acknowledgement).join(User, User.id == Acknowledgement.user_id)
        .where(Acknowledgement.trust_id == trust.id), academy)
        .options(selectinload(Acknowledgement.statements), selectinload(Acknowledgement.personal),
                 selectinload(Acknowledgement.version), selectinload(Acknowledgement.user))
        .order_by(Acknowledgement.created_at, Acknowledgement.id)))
    ack_entries = _ledger_index(trust.id, "acknowledgement")
    files["acknowledgements.csv"] = _csv(
        ["Record", "Person", "Email", "Academy (when signed)", "Job title (when signed)", "Policy version",
         "Decision", "Recorded at (UTC)", "Recorded from a paper form", "Policy sha256", "Statements sha256",
         "Statement hashes (key: sha256)", "Meanings", "Quiz score", "Ledger seq", "Ledger entry hash",
         "Personal data"],
        [[f"ACK-{a.id}", a.personal.signer_name if a.personal else "", a.personal.signer_email if a.personal else "",
          a.signer_academy, a.signer_job_title, a.version.number, a.decision, _iso(a.created_at),
          "yes" if a.on_behalf else "no", a.policy_sha256, a.statements_sha256,
          "; ".join(f"{s.key}: {s.text_sha256}" for s in a.statements),
          "; ".join(f"{s.key}: {s.meaning}" for s in a.statements),
          "" if a.attempt_score is None else a.attempt_score,
          ack_entries[a.id].seq if a.id in ack_entries else "",
          ack_entries[a.id].entry_hash if a.id in ack_entries else "",
          "held" if a.personal else "erased"] for a in acks])
    consent_rows = [(a, s) for a in acks for s in a.statements if s.kind == "consent"]
    with_consent = asks_consent(trust) or bool(consent_rows)
    if with_consent:
        files["consent.csv"] = _csv(
            ["Record", "Person", "Academy (when decided)", "Policy version", "Consent decision", "With effect from (UTC)",
             "Reason given (withdrawals)", "Recorded from a paper form", "Supersedes statement", "Statement sha256",
             "Ledger seq", "Ledger entry hash"],
            [[f"ACK-{a.id}", a.personal.signer_name if a.personal else "(erased)", a.signer_academy, a.version.number,
              CONSENT_LABELS.get(s.meaning, s.meaning), _iso(a.created_at),
              ((a.personal.note or "") if a.personal else "(erased)") if s.meaning == "consent withdrawn" else "",
              "yes" if a.on_behalf else "no", s.supersedes_id or "", s.text_sha256,
              ack_entries[a.id].seq if a.id in ack_entries else "",
              ack_entries[a.id].entry_hash if a.id in ack_entries else ""] for a, s in consent_rows])
    files["statements.csv"] = _csv(
        ["Record", "Position", "Key", "Kind", "Clauses", "Meaning", "Text sha256", "Supersedes statement", "Text"],
        [[f"ACK-{a.id}", s.position, s.key, s.kind, s.clauses, s.meaning, s.text_sha256,
          s.supersedes_id or "", s.text] for a in acks for s in a.statements])

    step(1)
    certs = list(db.session.scalars(_people_filter(
        select(Certificate).join(User, User.id == Certificate.user_id).where(Certificate.trust_id == trust.id),
        academy).options(selectinload(Certificate.personal), selectinload(Certificate.version),
                         selectinload(Certificate.user), selectinload(Certificate.rendering))
        .order_by(Certificate.issued_at, Certificate.id)))
    cert_entries = _ledger_index(trust.id, "certificate")
    files["certificates.csv"] = _csv(
        ["Verification code", "Holder", "Academy", "Policy version", "Completed at (UTC)", "Expires on",
         f"Status on {now.date().isoformat()}", "PDF sha256", "Acknowledgement", "Renews", "Ledger seq",
         "Ledger entry hash"],
        [[c.code, c.personal.holder_name if c.personal else "(erased)", c.user.academy_name, c.version.number,
          _iso(c.completed_at), c.expires_on.isoformat(), certificate_status(c, now), c.issued_sha256 or "(PDF being prepared)",
          f"ACK-{c.acknowledgement_id}", c.renews_id or "",
          cert_entries[c.id].seq if c.id in cert_entries else "",
          cert_entries[c.id].entry_hash if c.id in cert_entries else ""] for c in certs])

    step(2)
    version_ids = {a.version_id for a in acks} | {c.version_id for c in certs}
    current = current_version(trust.id)
    if current is not None:
        version_ids.add(current.id)
    versions = list(db.session.scalars(select(PolicyVersion).where(PolicyVersion.id.in_(version_ids))
                                       .order_by(PolicyVersion.number))) if version_ids else []
    for version in versions:
        name = f"policy/version-{version.number}.txt"
        files[name] = version.source_text.encode("utf-8")
        files[f"policy/version-{version.number}.sha256"] = \
            f"{version.source_sha256}  version-{version.number}.txt\n".encode()

    step(3)
    register, register_note = _register(trust, academy, now)
    if register is not None:
        files["register.csv"] = register

    step(4)
    people = people_in_scope(trust, academy, acks, now)
    latest_cert = {c.user_id: c for c in certs}  # in issue order, so the last one wins
    files["people.csv"] = _csv(
        ["Name", "Email", "Academy", "Job title", "Line manager", f"Status on {london_date(now).isoformat()}",
         "Training", "Due on", "Completed at (UTC)", "Overdue since", "Deadline of version", "Declined at (UTC)",
         "Modules read", "Latest certificate", "Certificate status"],
        [[p.row.name, p.row.email, p.row.academy, p.row.job_title, p.row.manager, PACK_STATUSES[p.status],
          KINDS.get(p.row.kind, ""), p.row.due_on.isoformat() if p.row.due_on else "", _iso(p.row.completed_at),
          p.row.overdue_since.isoformat() if p.row.overdue_since else "",
          p.row.deadline_version or "", _iso(p.declined_at), f"{p.row.modules_read} of {p.row.modules_total}",
          latest_cert[p.row.id].code if p.row.id in latest_cert else "",
          certificate_status(latest_cert[p.row.id], now) if p.row.id in latest_cert else ""] for p in people])
    step(5)
    ledger, signed_head = ledger_files(trust, now=now)
    files.update(ledger)

    step(6)
    head = last_entry(trust.id)
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.trust_id == trust.id))
    files["ledger-head.json"] = (json.dumps({
        "format": EVIDENCE_FORMAT, "trust": trust.slug, "trust_name": trust.name,
        "exported_at": _iso(now), "entries": entries or 0, "head_seq": head.seq if head else 0,
        "head_entry_hash": head.entry_hash if head else GENESIS,
        "head_created_at": _iso(head.created_at) if head else None,
    }, indent=2) + "\n").encode()

    files["README.txt"] = _readme(trust, academy, now, versions, len(acks), len(certs), register_note,
                                  len(consent_rows) if with_consent else None, len(people), signed_head,
                                  hashlib.sha256(files["ledger/public-key.pem"]).hexdigest()).encode()
    files["summary.html"] = _summary(trust, academy, now, people, versions, certs, signed_head, entries or 0,
                                     files["ledger/public-key.pem"]).encode("utf-8")
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    files["MANIFEST.sha256"] = manifest.encode()

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    slug = academy.slug if academy else trust.slug
    return Pack(filename=f"evidence-{slug}-{now.date().isoformat()}.zip", data=out.getvalue())


def _summary(trust, academy, now, people, versions, certs, signed_head, entries, public_key) -> str:
    """summary.html: what an inspector reads first, self-contained (no scripts, nothing fetched)."""
    counts = {key: sum(1 for p in people if p.status == key) for key in PACK_STATUSES}
    return current_app.jinja_env.get_template("tracking/evidence_summary.html").render(
        trust=trust, academy=academy, exported=_iso(now), people=people, counts=counts, labels=PACK_STATUSES,
        versions=versions, certificates=len(certs), head=signed_head, entries=entries,
        fingerprint=hashlib.sha256(public_key).hexdigest(), openssl_verify=OPENSSL_VERIFY,
        chain_verify=CHAIN_VERIFY, statuses=STATUSES)


def _readme(trust: Trust, academy: Academy | None, now: datetime, versions: list[PolicyVersion],
            acks: int, certs: int, register_note: str, consents: int | None, people: int = 0,
            signed_head: dict | None = None, fingerprint: str = "") -> str:
    scope = f"{academy.name}, part of {trust.name}" if academy else f"{trust.name} (every academy and the central team)"
    consent_kinds = "; consent to monitoring given, declined or withdrawn, each its own record" if consents is not None else ""
    consent_line = "" if consents is None else (
        f"\n- consent.csv: {consents} decision(s) on consent to monitoring (given, declined, withdrawn), each with"
        "\n  the time it took effect, the reason given for a withdrawal, and its ledger entry.")
    head_seq = (signed_head or {}).get("seq", 0)
    policy_lines = "\n".join(f"  - policy/version-{v.number}.txt: {v.title}, {v.label} ({v.status}), "
                             f"sha256 {v.source_sha256}" for v in versions) or "  (no policy version yet)"
    return f"""PolicyPass evidence pack
========================

Covers:   {scope}
Exported: {_iso(now)} (UTC)
Format:   {EVIDENCE_FORMAT}

Open summary.html in any web browser first: who is in scope and where each person stands (completed,
overdue, due, exempt, declined, not assigned), the policy versions, and how to check this pack.

What is in it
-------------
- summary.html: the human-readable summary.
- people.csv: all {people} people in scope, each with their status on the export date, due date, completion,
  the date they became overdue or declined, and their latest certificate.
- policy/: the exact text of each policy version concerned, with its sha256:
{policy_lines}
- acknowledgements.csv: {acks} record(s) of decisions (the policy acknowledged or declined{consent_kinds}),
  each with the policy hash, the hash of every statement, the ledger entry that recorded it, and the
  person's name and email unless a lawful erasure removed them ("erased").{consent_line}
- statements.csv: the exact text of every statement shown, with its sha256.
- certificates.csv: {certs} certificate(s) with their status on the export date (valid, expired, revoked or
  superseded), the sha256 of each issued PDF and its ledger entry.
- register: {register_note}
- ledger-head.json: the last entry of the trust's ledger (a hash chain) when the pack was made.
- ledger/: the trust's whole ledger (entries.jsonl: ids and hashes only, no personal data), a checkpoint of
  its head signed with the trust's Ed25519 ledger key (checkpoint-payload.json, the exact bytes signed, and
  checkpoint.sig), that key's public half (public-key.pem) and verify_chain.py, a short script that walks
  the chain using only Python's standard library.
- MANIFEST.sha256: the sha256 of every other file in this pack.

How to verify it
----------------
1. The files are as exported: in the unzipped folder run
       sha256sum -c MANIFEST.sha256
   Every line must say OK.
2. The policy text is the one people acknowledged: `sha256sum policy/version-N.txt` must equal the hash in
   policy/version-N.sha256 and the "Policy sha256" of each acknowledgement of version N.
3. The statements are the ones signed: the sha256 of each statement's text (UTF-8, exactly as in
   statements.csv) must equal its "Text sha256", and those hashes appear in the acknowledgement's
   "Statement hashes" column.
4. The ledger, without access to the server. In the unzipped folder, with standard tools:
   a. The checkpoint was signed by the trust's ledger key (OpenSSL 3):
       {OPENSSL_VERIFY}
      It must print "Signature Verified Successfully". The key's sha256 fingerprint is
      {fingerprint}: ask the trust to confirm it from their own copy
      (`flask ledger checkpoint --public-key-out FILE`), so you know the key is theirs.
   b. Every entry hashes correctly, links to the one before it, and the chain ends at the signed head
      (entry {head_seq}), and every ledger entry the CSV files cite is in it (Python 3, nothing to install):
       {CHAIN_VERIFY}
      It must print "OK".
   Each record's "Ledger seq" and "Ledger entry hash" name its own link in ledger/entries.jsonl.
5. On the server, an administrator can also recompute each record's hash from the database:
       flask ledger verify --trust {trust.slug} --checkpoint ledger/checkpoint.json --public-key ledger/public-key.pem
   which stops at the first problem; if it passes, nothing recorded before this export has been rewritten.
6. A certificate can be checked by anyone at /verify/<verification code> on the PolicyPass service, which
   shows its live status; a PDF can be checked by comparing its sha256 with "PDF sha256".

Personal data: this pack contains names and email addresses. Keep it as securely as the HR records it came
from, and delete it when the purpose it was made for is over.
"""
