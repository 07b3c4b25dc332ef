"""Every column of every access evidence table is covered by its ledger record hash: altering any one is caught."""

import json

import pytest
import sqlalchemy as sa

from modules.access import services
from modules.access.evidence import TABLES
from modules.attestation.ledger import verify_ledger
from modules.core.extensions import db
from tests.access.factories import account, demo_user, granted
from tests.attestation import bypass


@pytest.fixture
def evidence_rows(app, now):
    """One row of each access evidence table, in TKAT's ledger."""
    acct = account("tkat")
    grant = granted("staff", "tkat", acct, now=now)
    granted("teacher", "tkat", acct, now=now)  # lapses (expires) before the sweep below
    staff = demo_user("staff", "tkat")
    services.record_training_discussed(demo_user("manager", "tkat"), staff, idempotency_key="d" * 40, now=now)
    services.revoke_grant(demo_user("comms", "tkat"), grant, reason="changed_role", now=now)
    db.session.commit()
    services.sweep(now=now.replace(year=now.year + 2))
    db.session.commit()
    return staff.trust_id


def _altered(column: sa.Column, value):
    if isinstance(column.type, sa.JSON):
        return json.dumps((value or []) + [999])
    return bypass.altered(column, value)


def test_every_column_is_covered(evidence_rows):
    trust_id = evidence_rows
    assert verify_ledger(trust_id).ok
    tables = {t.name: t for t in db.metadata.sorted_tables}
    covered = []
    for name, (_model, fields) in TABLES.items():
        table = tables[name]
        assert {c.name for c in table.columns} - {"id"} == set(fields), name
        row = db.session.execute(sa.select(table)).mappings().first()
        assert row is not None, f"no {name} row"
        for column in table.columns:
            if column.name == "id":
                continue
            original = row[column.name]
            restore = json.dumps(original) if isinstance(column.type, sa.JSON) else original
            bypass.update(table, {"id": row["id"]}, column.name, _altered(column, original))
            db.session.expire_all()
            report = verify_ledger(trust_id)
            assert not report.ok, f"altering {name}.{column.name} went unnoticed"
            bypass.update(table, {"id": row["id"]}, column.name, restore)
            db.session.expire_all()
            covered.append(f"{name}.{column.name}")
        assert verify_ledger(trust_id).ok
    assert "access_grant.certificate_id" in covered and "access_grant.approver_ids" in covered
