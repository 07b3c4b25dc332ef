"""After `upgrade head`, every append-only table has its triggers, and they refuse UPDATE, DELETE, TRUNCATE."""

import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from modules.core.extensions import db
from modules.evidence.triggers import APPEND_ONLY, PG_FUNCTION, append_only_ddl, trigger_names
from tests.attestation.factories import acknowledge, demo_user

TESTS = Path(__file__).resolve().parents[1]
#: Our own append-only tables: each must exist in the metadata.
OURS = {"ledger_entry", "acknowledgement", "acknowledgement_statement"}


def append_only_tables() -> list[sa.Table]:
    """Every table whose model declares info={"append_only": True}."""
    return [t for t in db.metadata.sorted_tables if t.info.get(APPEND_ONLY)]


def installed_triggers() -> set[tuple[str, str]]:
    """(table, trigger name) pairs in the database."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(sa.text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'"))
    else:
        rows = db.session.execute(sa.text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))
    return {(table, name) for table, name in rows}


def test_every_append_only_table_has_its_triggers_after_upgrade_head(empty_app):
    tables = append_only_tables()
    assert OURS <= {t.name for t in tables}
    installed = installed_triggers()
    dialect = db.engine.dialect.name
    missing = [(t.name, name) for t in tables for name in trigger_names(t.name)[dialect]
               if (t.name, name) not in installed]
    assert not missing, f"append-only triggers missing after upgrade head: {missing}"


def test_installed_trigger_sql_is_the_live_definition(empty_app):
    """The frozen copies in the migrations install exactly what modules/evidence/triggers.py defines."""
    tables = append_only_tables()
    if db.engine.dialect.name == "sqlite":
        installed = dict(db.session.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
        for table in tables:
            expected = append_only_ddl(table.name)[0]
            names = trigger_names(table.name)["sqlite"]
            assert [installed.get(name) for name in names] == expected, table.name
        return
    defs = dict(db.session.execute(sa.text(
        "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal")).all())
    source = db.session.scalar(sa.text("SELECT prosrc FROM pg_proc WHERE proname = :name"), {"name": PG_FUNCTION})
    for table in tables:
        function, *triggers = append_only_ddl(table.name)[1]
        assert source.strip() in function, "the trigger function's body differs from the live definition"
        names = trigger_names(table.name)["postgresql"]
        # PostgreSQL prints the definition back schema-qualified and with the events in its own order.
        printed = [defs.get(name, "").replace("public.", "").replace("DELETE OR UPDATE", "UPDATE OR DELETE")
                   for name in names]
        assert printed == triggers, table.name


def _refused(sql: str) -> str:
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError) as exc, db.engine.connect() as conn, conn.begin():
        conn.exec_driver_sql(sql)
    return str(exc.value.orig)


def _make_evidence(now) -> None:
    """An acknowledgement, then each test package's `factories.make_evidence(now)` (as test_tamper.py does)."""
    acknowledge(demo_user("staff", "e-act"), now)
    db.session.commit()
    for package in sorted(p.name for p in TESTS.iterdir() if (p / "factories.py").exists()):
        maker = getattr(importlib.import_module(f"tests.{package}.factories"), "make_evidence", None)
        if callable(maker):
            maker(now)
    db.session.commit()


def test_triggers_refuse_update_delete_and_truncate(app, now):
    _make_evidence(now)
    tables = append_only_tables()
    counts = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables}
    empty = sorted(name for name, count in counts.items() if not count)
    assert not empty, (f"append-only tables with no row to try the triggers on: {empty}; make one in that "
                       "package's tests/<package>/factories.py make_evidence(now)")
    for table in tables:
        column = next(iter(table.columns)).name
        assert "append-only" in _refused(f'UPDATE "{table.name}" SET "{column}" = "{column}"')
        assert "append-only" in _refused(f'DELETE FROM "{table.name}"')
        if db.engine.dialect.name == "postgresql":
            assert "append-only" in _refused(f'TRUNCATE "{table.name}" CASCADE')
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(table)) == counts[table.name]
