"""Database set-up: SQLite pragmas, BEGIN IMMEDIATE for writers, migrations matching the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from modules.core.extensions import db


def test_sqlite_pragmas(app, backend):
    if backend != "sqlite":
        assert db.engine.dialect.name == "postgresql" and db.engine.dialect.driver == "psycopg"
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_writes_take_the_lock_before_the_first_read(app, backend):
    """Outside a request (CLI, workers) a transaction starts with BEGIN IMMEDIATE."""
    if backend != "sqlite":
        return
    app.config["SQLITE_IMMEDIATE_OUTSIDE_REQUESTS"] = True
    statements = []
    from sqlalchemy import event

    listener = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
    engine = db.engine
    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", listener)
        with conn.begin():
            conn.execute(text("SELECT 1"))
    # the begin event issues BEGIN IMMEDIATE through exec_driver_sql, which is a cursor execute
    assert statements[0] == "BEGIN IMMEDIATE"


def _import_all_models() -> None:
    import importlib
    import pkgutil

    import modules

    for package in pkgutil.iter_modules(modules.__path__):
        try:
            importlib.import_module(f"modules.{package.name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"modules.{package.name}.models":
                raise


def test_migrations_match_the_models(app):
    """`flask db upgrade` builds exactly the schema the models describe (nothing left to autogenerate)."""
    _import_all_models()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), db.metadata)
    assert diff == []


def test_healthz_reports_an_unreachable_database(app, tmp_path):
    """/healthz answers 503 when the database does not."""
    import os

    from app import create_app

    os.environ["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    try:
        broken = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path / "i")})
    finally:
        os.environ.pop("DATABASE_URL")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"status": "database unavailable"}


def test_a_writing_request_reads_without_the_write_lock_until_its_view(app, backend):
    """Issue 16: in a POST, the before-request checks (the signed-in person, two-step) and `reading()` blocks
    begin deferred; the view's own first read still begins with BEGIN IMMEDIATE."""
    if backend != "sqlite":
        return
    from flask import g
    from sqlalchemy import event

    from modules.core.database import _begin_before_request_reads, _end_before_request_reads, reading, writing

    hooks = app.before_request_funcs[None]
    assert hooks[0] is _begin_before_request_reads and hooks[-1] is _end_before_request_reads
    begins = []
    listener = lambda conn, cursor, statement, *a: statement.startswith("BEGIN") and begins.append(statement)  # noqa: E731
    db.session.rollback()
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context("/acknowledge", method="POST"):
            _begin_before_request_reads()
            db.session.execute(text("SELECT 1"))        # a before-request hook's read
            db.session.rollback()
            with writing():                             # a before-request hook's write (an idle session ended)
                db.session.execute(text("SELECT 1"))
                db.session.rollback()
            _end_before_request_reads()
            assert not db.session().in_transaction() and not g.get("_db_reading")
            with reading():
                db.session.execute(text("SELECT 1"))    # a password check, say
            assert not db.session().in_transaction()
            db.session.execute(text("SELECT 1"))        # the view's write transaction
            db.session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert begins == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN", "BEGIN IMMEDIATE"]
