"""The fixture of evidence made by the code at the previous Alembic head, and the schema it had.

`tests/evidence/fixtures/previous_head.json.gz` was written by running this file with the tree of commit
ff5a66b (Alembic head 0009, the last commit before modules/evidence/ existed), so every hash in it was made by
the code as it was then:

    mkdir /tmp/old && git archive ff5a66b | tar -x -C /tmp/old
    ln -s "$PWD/.venv" /tmp/old/.venv && ln -s "$PWD/static/govuk" /tmp/old/static/govuk
    cp tests/evidence/previous_head.py /tmp/old/ && cd /tmp/old
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python previous_head.py OUT.json.gz

It runs `flask content sync` and `flask demo seed` (the demo history: acknowledgements, a quiz, certificates,
an approved account with its grant), then each test package's `make_evidence` (a row of every evidence table:
revocations, closures, lapse observations, training discussions) and two lawful erasures, checks the ledger
with that code's `verify_ledger`, and dumps every row. It also records the schema that code's migrations made
at 0009 on SQLite and on PostgreSQL, so tests/evidence/test_previous_head.py can check that today's migrations
still make the same one.
"""

import base64
import gzip
import json
import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

PREVIOUS_HEAD = "0009"
COMMIT = "ff5a66b"


# ---- describing a schema (used here and by the test, so both describe it the same way) -------------------

def describe_schema(conn) -> dict:
    """A comparable description of the database's schema: tables, columns, keys, indexes and triggers."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(sa.text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                    "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")).all()
        return {"sqlite_master": [list(row) for row in rows]}
    inspector = sa.inspect(conn)
    tables = {}
    for table in sorted(inspector.get_table_names()):
        tables[table] = {
            "columns": [[c["name"], str(c["type"]), c["nullable"], str(c.get("default"))]
                        for c in inspector.get_columns(table)],
            "primary_key": inspector.get_pk_constraint(table),
            "foreign_keys": sorted(json.dumps(fk, sort_keys=True) for fk in inspector.get_foreign_keys(table)),
            "indexes": sorted(json.dumps(ix, sort_keys=True, default=str) for ix in inspector.get_indexes(table)),
            "unique": sorted(json.dumps(uc, sort_keys=True) for uc in inspector.get_unique_constraints(table)),
            "checks": sorted(json.dumps(ck, sort_keys=True) for ck in inspector.get_check_constraints(table)),
        }
    triggers = [list(row) for row in conn.execute(sa.text(
        "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal ORDER BY c.relname, t.tgname"))]
    functions = [list(row) for row in conn.execute(sa.text(
        "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' ORDER BY p.proname"))]
    return {"tables": tables, "triggers": triggers, "functions": functions}


# ---- rows to JSON and back -----------------------------------------------------------------------------------

def _encode(value):
    if isinstance(value, bytes | memoryview):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def decode(value):
    """A value from the fixture as Python (bytes, datetime and date come back as themselves)."""
    if isinstance(value, dict) and len(value) == 1:
        (kind, text), = value.items()
        if kind == "bytes":
            return base64.b64decode(text)
        if kind == "datetime":
            return datetime.fromisoformat(text)
        if kind == "date":
            return date.fromisoformat(text)
    return value


def dump_rows(conn) -> dict:
    """Every row of every table except alembic_version, in dependency order, as JSON-ready lists."""
    metadata = sa.MetaData()
    metadata.reflect(conn)
    tables = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        key = [c for c in table.primary_key.columns] or list(table.columns)
        rows = conn.execute(sa.select(table).order_by(*key)).all()
        tables[table.name] = {"columns": [c.name for c in table.columns],
                              "rows": [[_encode(v) for v in row] for row in rows]}
    return tables


# ---- making it with the old code ------------------------------------------------------------------------------

def _old_app(url: str, instance: Path):
    os.environ["DATABASE_URL"] = url
    from app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "fixture", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8,
                       "ARGON2_PARALLELISM": 1, "RATELIMIT_STORAGE_URI": "memory://", "SERVER_NAME": None,
                       "INSTANCE_PATH": str(instance), "SQLITE_IMMEDIATE_OUTSIDE_REQUESTS": False})


def _make_evidence(app) -> None:
    import importlib

    from flask_migrate import upgrade
    from modules.attestation.ledger import verify_ledger

    from modules.attestation import services as attestation
    from modules.attestation.models import Acknowledgement
    from modules.certificates.models import Certificate
    from modules.certificates.services import erase_personal_data
    from modules.core.extensions import db
    from modules.core.timeutil import utcnow
    from modules.policies.services import sync_content
    from tests.attestation.factories import acknowledge, demo_user
    from tests.conftest import NOW

    upgrade()
    sync_content(Path(app.config["CONTENT_DIR"]), now=utcnow(), app=app)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    acknowledge(demo_user("staff", "e-act"), NOW)
    db.session.commit()
    for package in ("access", "attestation", "certificates", "tracking"):
        maker = getattr(importlib.import_module(f"tests.{package}.factories"), "make_evidence", None)
        if callable(maker):
            maker(NOW)
            db.session.commit()
    # Two lawful erasures: an acknowledgement's personal data, and a revoked certificate's name, PDF and reason.
    ack = db.session.scalar(sa.select(Acknowledgement).order_by(Acknowledgement.id).limit(1))
    attestation.erase_personal_data(ack, now=NOW)
    revoked = db.session.scalar(sa.select(Certificate).where(Certificate.revoked_at.is_not(None)).limit(1))
    erase_personal_data(revoked, now=NOW)
    db.session.commit()
    report = verify_ledger()
    assert report.ok, str(report.problem)
    print(f"made {report.entries} ledger entries in {report.trusts} trusts", file=sys.stderr)


def main(out: str) -> None:
    """Build the fixture with the code in the current directory (commit ff5a66b) and write it to `out`."""
    sys.path.insert(0, os.getcwd())
    from flask_migrate import upgrade

    from modules.core.extensions import db

    work = Path(tempfile.mkdtemp(prefix="previous-head-"))
    app = _old_app(f"sqlite:///{work / 'old.db'}", work / "instance")
    with app.app_context():
        _make_evidence(app)
        with db.engine.connect() as conn:
            revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
            assert revision == PREVIOUS_HEAD, revision
            rows = dump_rows(conn)
            sqlite_schema = describe_schema(conn)
        db.session.remove()
        db.engine.dispose()
    schema = {"sqlite": sqlite_schema}
    pg = os.environ.get("TEST_DATABASE_URL")
    if pg:
        name = "pp_previous_head_schema"
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(pg).set(database=name).render_as_string(hide_password=False)
        app = _old_app(url, work / "instance")
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                schema["postgresql"] = describe_schema(conn)
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()
    document = {"commit": COMMIT, "revision": PREVIOUS_HEAD, "schema": schema, "tables": rows}
    with gzip.open(out, "wt", encoding="utf-8") as handle:
        json.dump(document, handle, sort_keys=True)
    print(f"wrote {out}: {sum(len(t['rows']) for t in rows.values())} rows in {len(rows)} tables", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
