"""Engine set-up: SQLite pragmas and BEGIN IMMEDIATE for writers; PostgreSQL URLs for psycopg 3."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

#: Requests with these methods only read, so they may start a deferred transaction.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 30_000
_READING = "_db_reading"
_WRITING = "_db_writing"
#: Session.info key: the open transaction has written (flushed, or executed a statement that is not a SELECT).
_WROTE = "policypass_wrote"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(url: str) -> dict:
    """Engine options for the database the URL names."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def wants_immediate() -> bool:
    """Whether a new SQLite transaction should take the write lock before its first read.

    Requests that may write (POST and friends) and everything outside a request (CLI, workers) do;
    read-only requests stay deferred so readers never queue behind writers, and so do the reads of a
    writing request that are marked as such (`reading()`: the before-request checks, a password check).
    """
    if has_app_context() and g.get(_WRITING):
        return True
    if has_app_context() and g.get(_READING):
        return False
    if has_request_context():
        return request.method not in READ_METHODS
    # Tests read through a long-lived app context while a live server writes; they switch this off.
    return not has_app_context() or current_app.config.get("SQLITE_IMMEDIATE_OUTSIDE_REQUESTS", True)


def configure_sqlite(engine: Engine) -> None:
    """Apply WAL, foreign keys, FULL sync and a busy timeout; begin writers with BEGIN IMMEDIATE.

    This is SQLAlchemy's documented pysqlite recipe: the driver's own BEGIN handling is switched off
    so SQLAlchemy emits BEGIN itself, before the first read of the transaction.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_immediate() else "BEGIN")


def track_writes(session_class) -> None:
    """Note on each session whether its open transaction has written anything, so `reading()` may end one that
    has only read (the write lock a writing request's first read took on SQLite) instead of joining it."""
    if getattr(session_class, "_policypass_tracks_writes", False):
        return
    session_class._policypass_tracks_writes = True

    @event.listens_for(session_class, "after_flush")
    def flushed(session, _context):
        session.info[_WROTE] = True

    @event.listens_for(session_class, "do_orm_execute")
    def executed(state):
        if not state.is_select:  # an UPDATE/DELETE/INSERT, or text() we cannot see into
            state.session.info[_WROTE] = True

    @event.listens_for(session_class, "after_transaction_end")
    def ended(session, transaction):
        if transaction.parent is None:
            session.info.pop(_WROTE, None)


def has_written(session) -> bool:
    """Whether the session's open transaction holds writes (flushed or pending)."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def _end_reads() -> None:
    """End the session's read transaction, if one is open (nothing is written in it, so commit is cheap)."""
    from modules.core.extensions import db

    if db.session().in_transaction():
        db.session.commit()


@contextmanager
def reading() -> Iterator[None]:
    """Reads that take no write lock: on SQLite a deferred transaction, ended on leaving, so the write that
    follows begins its own `BEGIN IMMEDIATE` and re-reads what it relies on under the lock.

    Nothing may be written inside. A transaction already open that has only read (a writing request's first
    reads take SQLite's write lock) is ended first, so slow work inside (argon2) never holds the lock: what the
    caller read before must be read again afterwards. One that has written is joined, as is an enclosing
    `reading()`.
    """
    from modules.core.extensions import db

    session = db.session()
    if not has_app_context() or g.get(_READING):
        yield
        return
    if session.in_transaction():
        if has_written(session):
            yield
            return
        session.commit()  # only reads in it: end it, and with it the write lock
    g.setdefault(_READING, True)
    try:
        yield
    except BaseException:
        g.pop(_READING, None)
        db.session.rollback()
        raise
    g.pop(_READING, None)
    _end_reads()


@contextmanager
def writing() -> Iterator[None]:
    """A write where reads are deferred (a before-request hook, a GET that must write): its transaction begins
    with `BEGIN IMMEDIATE`. Begin it with no transaction open (roll back or commit the reads first)."""
    previous = g.get(_WRITING)
    g.setdefault(_WRITING, True)
    try:
        yield
    finally:
        if not previous:
            g.pop(_WRITING, None)


def _begin_before_request_reads() -> None:
    if request.method not in READ_METHODS:
        g.setdefault(_READING, True)


def _end_before_request_reads() -> None:
    if request.method not in READ_METHODS and g.pop(_READING, None):
        _end_reads()


def read_before_requests(app: Flask) -> None:
    """Run every before-request hook's reads (loading the signed-in person, the two-step check) without the
    write lock, so a writing request takes it only in its view. Call after every blueprint is registered."""
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, _begin_before_request_reads)
    hooks.append(_end_before_request_reads)
