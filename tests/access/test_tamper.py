"""Every column of every access evidence table (decisions included) is covered by its ledger record hash: altering
any one is caught."""

import pytest
import sqlalchemy as sa

from modules.access import models
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.evidence.records import declared_records
from tests.access.factories import demo_user, make_evidence
from tests.attestation import bypass


@pytest.fixture
def evidence_rows(app, now):
    """One row of each access evidence table, in TKAT's ledger."""
    make_evidence(now)
    db.session.commit()
    return demo_user("staff", "tkat").trust_id


def test_every_column_is_covered(evidence_rows):
    trust_id = evidence_rows
    assert verify_ledger(trust_id).ok
    tables = {t.name: t for t in db.metadata.sorted_tables}
    covered = []
    access_records = [spec for spec in declared_records() if spec.model.__module__ == models.__name__]
    assert len(access_records) == 6
    for spec in access_records:
        name, fields = spec.table, spec.fields
        table = tables[name]
        assert {c.name for c in table.columns} - {"id"} == set(fields), name
        row = db.session.execute(sa.select(table)).mappings().first()
        assert row is not None, f"no {name} row"
        for column in table.columns:
            if column.name == "id":
                continue
            original = row[column.name]
            restore = original
            bypass.update(table, {"id": row["id"]}, column.name, bypass.altered(column, original))
            db.session.expire_all()
            report = verify_ledger(trust_id)
            assert not report.ok, f"altering {name}.{column.name} went unnoticed"
            bypass.update(table, {"id": row["id"]}, column.name, restore)
            db.session.expire_all()
            covered.append(f"{name}.{column.name}")
        assert verify_ledger(trust_id).ok
    assert "access_grant.certificate_id" in covered and "access_grant.approver_ids" in covered
