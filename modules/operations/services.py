"""Backups of the whole database: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

These work below the ORM on purpose: a backup is every byte of the database, not the rows the models know.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

#: Opens a database file (an alias, so the signal-wiring check does not mistake it for connecting a signal).
open_sqlite = sqlite3.connect

#: Tables whose rows do not make a database "non-empty" (a migrated but unused database has them).
BOOKKEEPING_TABLES = frozenset({"alembic_version"})


class BackupError(Exception):
    """A backup, restore or drill step that failed, with a message for the operator."""


def dialect(url: str) -> str:
    """"sqlite" or "postgresql" for a database URL; BackupError for anything else."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def sqlite_path(url: str) -> Path:
    """The file a sqlite:/// URL names; BackupError for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict]:
    """A libpq URI for the pg_ tools (without the password) and the environment carrying the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (install the PostgreSQL client tools, postgresql-client)")
    return path


def _run(argv: list[str], env: dict) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip() or result.returncode}")


def backup(url: str, out: Path) -> None:
    """Write a consistent copy of the database at url to out (which must not exist yet)."""
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file for the backup")
    if dialect(url) == "sqlite":
        source = open_sqlite(sqlite_path(url))
        target = open_sqlite(out)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    uri, env = _libpq(url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={out}", f"--dbname={uri}"], env)


def check_backup(url: str, backup_file: Path) -> None:
    """BackupError unless backup_file is a readable backup of the kind the database at url takes."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} is not a file")
    if dialect(url) == "sqlite":
        try:
            connection = open_sqlite(f"file:{backup_file}?mode=ro", uri=True)
            try:
                tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup_file} is not a SQLite backup ({exc})") from exc
        if "alembic_version" not in tables:
            raise BackupError(f"{backup_file} is not a PolicyPass backup (it has no alembic_version table)")
        return
    _, env = _libpq(url)
    _run([_tool("pg_restore"), "--list", str(backup_file)], env)


def holds_data(engine: sa.Engine) -> bool:
    """Whether any table (other than Alembic's bookkeeping) has a row."""
    inspector = sa.inspect(engine)
    with engine.begin() as connection:
        for table in inspector.get_table_names():
            if table in BOOKKEEPING_TABLES:
                continue
            quoted = engine.dialect.identifier_preparer.quote(table)
            if connection.execute(sa.text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:
                return True
    return False


def restore(url: str, backup_file: Path) -> None:
    """Replace the database at url with the backup's contents (the caller has checked it may)."""
    if dialect(url) == "sqlite":
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        source = open_sqlite(f"file:{backup_file}?mode=ro", uri=True)
        target = open_sqlite(path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    uri, env = _libpq(url)
    _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--exit-on-error", "--single-transaction",
          f"--dbname={uri}", str(backup_file)], env)


def create_scratch_postgres(url: str, name: str) -> str:
    """Create an empty PostgreSQL database named name on url's server; its URL."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_scratch_postgres(url: str, name: str) -> None:
    """Drop the scratch database named name (ending any connection to it first)."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.begin() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()
