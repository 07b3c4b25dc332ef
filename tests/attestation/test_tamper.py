"""Altering any column of any evidence row, or any ledger entry, makes `flask ledger verify` fail naming it.

The columns come from the model metadata (every table marked info={"evidence": True}), so a column added
later without hash coverage fails here. Each change is made with the append-only triggers bypassed, then
undone, and verify must pass again.
"""

import importlib
import importlib.util
import re
import warnings
from pathlib import Path

import sqlalchemy as sa

from modules.attestation import services
from modules.core.extensions import db
from modules.evidence.triggers import EVIDENCE
from modules.training.queries import current_version
from tests.attestation import bypass
from tests.attestation.factories import acknowledge, demo_user, key, origin

TESTS = Path(__file__).resolve().parents[1]
#: Our evidence tables: each must have rows here, and every column must be covered.
OURS = {"ledger_entry", "acknowledgement", "acknowledgement_statement", "acknowledgement_personal"}
NAMED = re.compile(r"FAILED trust [\w#-]+, entry \d+ \(")


def evidence_tables() -> list[sa.Table]:
    """Every table declared as evidence (append-only records, their personal rows, the ledger)."""
    return [t for t in db.metadata.sorted_tables if t.info.get(EVIDENCE)]


def _make_evidence(now) -> None:
    """Every kind of acknowledgement event, so each column has a non-null value somewhere."""
    staff = demo_user("staff", "e-act")
    acknowledge(staff, now)
    services.withdraw_consent(staff, current_version(staff.trust_id), idempotency_key=key(), origin=origin(now),
                              now=now, reason="No longer happy with it")
    hr, office = demo_user("hr", "e-act"), demo_user("office", "e-act")
    services.record_on_behalf(hr, office, current_version(hr.trust_id), ticked={"policy"},
                              typed_name=office.name, note="Paper form, HR file 12", idempotency_key=key(),
                              origin=origin(now), now=now, consent=False)
    agora = demo_user("staff", "agora")
    services.decline(agora, current_version(agora.trust_id), idempotency_key=key(), origin=origin(now), now=now)
    _later_packages_evidence(hr, now)
    db.session.commit()


def _later_packages_evidence(hr, now) -> None:
    """Rows in later packages' evidence tables that an acknowledgement alone does not make.

    Convention: a test package's factories module may define `make_evidence(now)`, making one row of each
    of its evidence tables (every column non-null somewhere) with a verifying ledger. Certificates are
    issued by the acknowledged signal; without such a factory, a revocation is made here.
    """
    makers = []
    for package in sorted(p.name for p in TESTS.iterdir() if (p / "factories.py").exists()):
        if package == "attestation":
            continue
        module = importlib.import_module(f"tests.{package}.factories")
        if callable(getattr(module, "make_evidence", None)):
            makers.append(package)
            module.make_evidence(now)
    if "certificates" in makers or importlib.util.find_spec("modules.certificates.services") is None:
        return
    from modules.certificates.models import Certificate
    from modules.certificates.services import revoke_certificate

    cert = db.session.scalar(sa.select(Certificate).where(Certificate.trust_id == hr.trust_id)
                             .order_by(Certificate.id).limit(1))
    if cert is not None:
        revoke_certificate(cert, actor=hr, reason="Issued in error (tamper test)", now=now)


def _verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    return result.exit_code, result.output


def _pick(table: sa.Table, column: sa.Column) -> sa.Row:
    """A row of the table, preferring one where the column is set."""
    row = db.session.execute(sa.select(table).where(column.is_not(None)).limit(1)).first()
    return row or db.session.execute(sa.select(table).limit(1)).first()


def test_altering_any_evidence_column_fails_verify_naming_the_entry(app, now):
    _make_evidence(now)
    code, output = _verify(app)
    assert code == 0, output
    tables = evidence_tables()
    assert OURS <= {t.name for t in tables}
    uncovered, empty = [], []
    for table in tables:
        db.session.rollback()
        if db.session.execute(sa.select(table).limit(1)).first() is None:
            assert table.name not in OURS, f"no {table.name} row to tamper with: make one in _make_evidence"
            empty.append(table.name)  # a later package's table this walk makes no rows for: its own test covers it
            continue
        for column in table.columns:
            db.session.rollback()
            row = _pick(table, column)
            pk = {c.name: row._mapping[c.name] for c in table.primary_key.columns}
            original = row._mapping[column.name]
            bypass.update(table, pk, column.name, bypass.altered(column, original))
            code, output = _verify(app)
            if code == 0 or not NAMED.search(output):
                uncovered.append(f"{table.name}.{column.name} ({output.strip()})")
            moved = {**pk, column.name: bypass.altered(column, original)} if column.name in pk else pk
            bypass.update(table, moved, column.name, original)
            code, output = _verify(app)
            assert code == 0, f"after restoring {table.name}.{column.name}: {output}"
    assert not uncovered, "altering these columns went unnoticed by `flask ledger verify`: " + "; ".join(uncovered)
    if empty:
        warnings.warn(f"evidence tables with no rows here, not tampered: {', '.join(empty)}", stacklevel=1)


def test_deleting_evidence_rows_fails_verify(app, now):
    _make_evidence(now)
    for name in ("acknowledgement", "acknowledgement_statement", "acknowledgement_personal", "ledger_entry"):
        table = db.metadata.tables[name]
        db.session.rollback()
        row = db.session.execute(sa.select(table).limit(1)).first()
        pk = {c.name: row._mapping[c.name] for c in table.primary_key.columns}
        values = dict(row._mapping)
        bypass.delete(table, pk)
        code, output = _verify(app)
        assert code != 0 and "FAILED" in output, f"deleting a {name} row went unnoticed"
        bypass.execute(f'INSERT INTO "{name}" ({", ".join(values)}) VALUES ({", ".join(":" + k for k in values)})',
                       values, table=name)
        assert _verify(app)[0] == 0


def test_lawful_erasure_keeps_verify_passing(app, now):
    _make_evidence(now)
    from modules.attestation.models import Acknowledgement

    for ack in db.session.scalars(sa.select(Acknowledgement)):
        services.erase_personal_data(ack, now=now)
    db.session.commit()
    code, output = _verify(app)
    assert code == 0, output
