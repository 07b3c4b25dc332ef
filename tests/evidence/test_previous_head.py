"""A database made before modules/evidence/ existed still migrates and verifies.

The fixture (tests/evidence/fixtures/previous_head.json.gz, made by tests/evidence/previous_head.py with the
tree of commit ff5a66b) holds every row that code wrote: demo history, a row of every evidence table, two
erasures, 37 ledger entries, each hashed by the old code. Here today's migrations build the schema up to that
head (it must be exactly the schema the old migrations built), the old rows go in, the database is upgraded to
today's head (0014 ledgers the old quiz attempts and approval decisions), and `flask ledger verify` must
pass; altering one old record, old attempt or old decision must still be caught.
"""

import gzip
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from modules.core.extensions import db
from tests.attestation import bypass
from tests.conftest import _make_app, _pg_admin, _pg_recreate, _pg_url
from tests.evidence.previous_head import PREVIOUS_HEAD, decode, describe_schema

FIXTURE = Path(__file__).with_name("fixtures") / "previous_head.json.gz"


@pytest.fixture(scope="module")
def previous() -> dict:
    """The fixture document: schema per backend and rows per table."""
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture
def old_url(backend, tmp_path):
    """An empty database (not migrated) for this backend; dropped afterwards on PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'previous.db'}"
        return
    name = f"pp_previous_head_{os.getpid()}"
    _pg_recreate(name)
    yield _pg_url(name)
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _load(url: str, tables: dict) -> int:
    """Insert the old rows as they were (ids included), on a plain connection with foreign keys unchecked."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    count = 0
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # a user's manager may come later
        for name, data in tables.items():
            table = metadata.tables[name]
            rows = [dict(zip(data["columns"], map(decode, row), strict=True)) for row in data["rows"]]
            if rows:
                conn.execute(table.insert(), rows)
                count += len(rows)
            if conn.dialect.name == "postgresql" and "id" in table.columns and rows:
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                     f"(SELECT max(id) FROM \"{name}\"))"))
    engine.dispose()
    return count


def _rows(previous: dict, table: str):
    data = previous["tables"][table]
    return [(data["columns"], row) for row in data["rows"]]


def test_a_database_made_at_the_previous_head_upgrades_and_verifies(backend, old_url, tmp_path, previous):
    assert previous["revision"] == PREVIOUS_HEAD and previous["commit"] == "ff5a66b"
    app = _make_app(old_url, tmp_path)
    with app.app_context():
        upgrade(revision=PREVIOUS_HEAD)
        with db.engine.connect() as conn:
            assert describe_schema(conn) == previous["schema"][backend], (
                "today's migrations no longer build the schema the previous head had")
        db.session.remove()
        db.engine.dispose()

        loaded = _load(old_url, previous["tables"])
        assert loaded > 1000
        assert db.session.scalar(sa.text("SELECT count(*) FROM ledger_entry")) == 37
        db.session.remove()

        upgrade()
        # 0014 ledgered the quiz attempts the old acknowledgements rest on and every approval decision.
        attempts = {row[columns.index("attempt_id")] for columns, row in _rows(previous, "acknowledgement")} - {None}
        decisions = len(previous["tables"]["access_decision"]["rows"])
        assert attempts and decisions
        runner = app.test_cli_runner()
        result = runner.invoke(args=["ledger", "verify"])
        assert result.exit_code == 0, result.output
        assert f"OK {37 + len(attempts) + decisions} entries in 5 trust chain(s) verified" in result.output

        # The old records are really checked: alter one (bypassing its trigger) and verify names it.
        certificate_id = db.session.scalar(sa.text("SELECT min(id) FROM certificate"))
        previous_value = db.session.scalar(sa.text("SELECT expires_on FROM certificate WHERE id = :id"),
                                           {"id": certificate_id})
        bypass.execute("UPDATE certificate SET expires_on = '2099-01-01' WHERE id = :id", {"id": certificate_id},
                       table="certificate")
        result = runner.invoke(args=["ledger", "verify"])
        assert result.exit_code == 1
        assert f"certificate_issued, certificate {certificate_id})" in result.output and "altered" in result.output
        bypass.execute("UPDATE certificate SET expires_on = :d WHERE id = :id",
                       {"d": previous_value, "id": certificate_id}, table="certificate")
        assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
        first_answer = ("(SELECT min(q.id) FROM attempt_question q "
                        "JOIN acknowledgement a ON a.attempt_id = q.attempt_id)")
        for change, undo, named in (
                (f"UPDATE attempt_question SET correct = NOT correct WHERE id = {first_answer}",
                 f"UPDATE attempt_question SET correct = NOT correct WHERE id = {first_answer}",
                 "quiz_attempt, quiz_attempt "),
                ("UPDATE access_decision SET step = step + 1000 WHERE id = (SELECT min(id) FROM access_decision)",
                 "UPDATE access_decision SET step = step - 1000 WHERE id = (SELECT min(id) FROM access_decision)",
                 "access_decided, access_decision ")):
            bypass.execute(change)
            result = runner.invoke(args=["ledger", "verify"])
            assert result.exit_code == 1 and named in result.output and "altered" in result.output, result.output
            bypass.execute(undo)
            assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
        db.session.remove()
        db.engine.dispose()

