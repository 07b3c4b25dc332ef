"""The evidence pattern lives in modules/evidence/ only, and migrations never import live code.

Outside modules/evidence/ no file may build ledger entries or chain hashes, define hashing or salting of
evidence, hold trigger SQL, or delete a row of evidence personal data; features only declare their records
(records.evidence_record) and call the helpers. Migrations carry frozen copies of what they install.
"""

import ast
import importlib.util
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

from modules.core.extensions import db
from modules.evidence import ledger
from modules.evidence.records import declared_records
from modules.evidence.triggers import APPEND_ONLY, EVIDENCE

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE_PACKAGE = ROOT / "modules" / "evidence"
MIGRATIONS = ROOT / "migrations" / "versions"

#: Names only the evidence package may define (the hash chain, hashing, salting, appending, verifying, erasing).
EVIDENCE_FUNCTIONS = {"canonical_json", "record_hash", "salted_hash", "new_salt", "entry_digest", "append_entry",
                      "verify_ledger", "lock_trust", "evidence_record", "new_personal", "erase"}
#: Columns only the evidence package may write.
CHAIN_COLUMNS = {"prev_hash", "entry_hash", "record_hash", "seq"}
TRIGGER_SQL = re.compile(r"\b(CREATE|DROP)\s+(OR\s+REPLACE\s+)?(TRIGGER|FUNCTION)\b", re.IGNORECASE)


def _feature_files() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "modules").rglob("*.py"))]
    return [f for f in files if EVIDENCE_PACKAGE not in f.parents]


def _personal_names() -> set[str]:
    records = declared_records()
    return {spec.personal.model.__name__ for spec in records if spec.personal} | {"personal"}


def _problems(path: Path, personal: set[str], root: Path = ROOT) -> list[str]:
    source = path.read_text(encoding="utf-8")
    where = path.relative_to(root)
    found = [f"{where}: trigger SQL" for _ in TRIGGER_SQL.finditer(source)]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in EVIDENCE_FUNCTIONS:
            found.append(f"{where}:{node.lineno}: defines {node.name}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            if "hmac" in names:
                found.append(f"{where}:{node.lineno}: imports hmac (salted digests belong in modules/evidence)")
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "LedgerEntry":
                found.append(f"{where}:{node.lineno}: builds a LedgerEntry")
            if any(k.arg in CHAIN_COLUMNS for k in node.keywords if k.arg) and name != "append_entry":
                found.append(f"{where}:{node.lineno}: writes a chain column")
            if name == "delete" and any(n in ast.unparse(a) for a in node.args for n in personal):
                found.append(f"{where}:{node.lineno}: deletes evidence personal data ({ast.unparse(node)})")
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in CHAIN_COLUMNS - {"seq"}:
                    found.append(f"{where}:{node.lineno}: assigns {target.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(
                r"\bDELETE\s+FROM\b", node.value, re.IGNORECASE):
            found.append(f"{where}:{node.lineno}: raw DELETE")
    return found


def test_no_feature_reimplements_the_ledger_triggers_or_erasure(app):
    personal = _personal_names()
    problems = [p for path in _feature_files() for p in _problems(path, personal)]
    assert not problems, "outside modules/evidence/:\n" + "\n".join(problems)


def test_the_checker_catches_what_it_looks_for(tmp_path, app):
    """The scan above is not vacuous: each kind of re-implementation is found in a sample file."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import hmac\n"
        "def record_hash(fields): ...\n"
        "SQL = 'CREATE TRIGGER t_refuse BEFORE UPDATE ON t BEGIN SELECT 1; END'\n"
        "entry = LedgerEntry(trust_id=1, seq=2, prev_hash='0')\n"
        "db.session.delete(cert.personal)\n"
        "db.session.execute(sa.delete(CertificatePersonal))\n", encoding="utf-8")
    text = "\n".join(_problems(sample, _personal_names(), root=tmp_path))
    for expected in ("trigger SQL", "defines record_hash()", "imports hmac", "builds a LedgerEntry",
                     "writes a chain column", "deletes evidence personal data (db.session.delete(cert.personal))",
                     "deletes evidence personal data (sa.delete(CertificatePersonal))"):
        assert expected in text, f"{expected!r} not caught in:\n{text}"


def test_every_evidence_table_is_declared(app):
    """A table marked as evidence is the ledger, or declared as a record, a record's children or personal row."""
    declared = {"ledger_entry"}
    for spec in declared_records():
        declared.add(spec.table)
        if spec.children:
            declared.add(spec.children.model.__tablename__)
        if spec.personal:
            declared.add(spec.personal.model.__tablename__)
    marked = {t.name for t in db.metadata.sorted_tables if t.info.get(EVIDENCE) or t.info.get(APPEND_ONLY)}
    assert marked - declared == set(), "evidence tables not declared with records.evidence_record"
    # Rows that are not append-only but are sealed by a ledger entry once written (issue 13 point 8).
    assert declared - marked == {"quiz_attempt", "attempt_question", "access_decision"}


def test_no_migration_imports_live_code():
    for path in sorted(MIGRATIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for module in modules:
                assert module.split(".")[0] not in {"modules", "app", "tests"}, f"{path.name} imports {module}"


def _migration(name: str):
    spec = importlib.util.spec_from_file_location(f"migration_{name}", MIGRATIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_frozen_hashing_in_0009_still_agrees_with_the_ledger():
    """0009 backfills closures with ledger entries using its own frozen hashing: it must match the live one."""
    frozen = _migration("0009_access_closure")
    samples = [
        {"trust_id": 1, "account_id": 7, "actor_id": None, "created_at": datetime(2026, 11, 21, 9, 0, 0, 123456),
         "hash_version": 1, "table": "account_closure"},
        {"when": datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=1))), "day": date(2026, 2, 28),
         "text": "Ysgol Gymraeg — café", "blob": b"\x00\xff", "flag": True, "list": [3, 1]},
    ]
    for fields in samples:
        assert frozen.record_hash(fields) == ledger.record_hash(fields)
    entry = SimpleNamespace(trust_id=3, seq=12, kind="account_closed", record_table="account_closure", record_id=4,
                            record_hash="ab" * 32, prev_hash="cd" * 32, created_at=datetime.now(UTC))
    assert frozen.entry_digest(entry) == ledger.entry_digest(entry)
    assert frozen.GENESIS == ledger.GENESIS
