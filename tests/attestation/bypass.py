"""Changing append-only rows directly in the database, with the refusing triggers bypassed (tests only).

SQLite: a plain sqlite3 connection drops the table's triggers, makes the change and re-creates them in one
transaction, with foreign keys off. PostgreSQL: `SET LOCAL session_replication_role = replica`, which skips
ordinary triggers (and foreign-key checks) for that transaction only.
"""

import sqlite3
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from modules.core.extensions import db

SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


def _sqlite_value(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.strftime(SQLITE_DATETIME)
    if isinstance(value, date):
        return value.isoformat()
    return value


def execute(sql: str, params: dict | None = None, table: str | None = None) -> None:
    """Run one statement with the append-only triggers (of `table`, or all) out of the way."""
    params = params or {}
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn, conn.begin():
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.execute(sa.text(sql), params)
        return
    raw = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=30)
    try:
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("BEGIN IMMEDIATE")
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        triggers = raw.execute(query + (" AND tbl_name = ?" if table else ""), (table,) if table else ()).fetchall()
        for name, _sql in triggers:
            raw.execute(f'DROP TRIGGER "{name}"')
        raw.execute(sql, {k: _sqlite_value(v) for k, v in params.items()})
        for _name, trigger_sql in triggers:
            raw.execute(trigger_sql)
        raw.execute("COMMIT")
    finally:
        raw.close()


def update(table: sa.Table, key: dict, column: str, value) -> None:
    """Set one column of one row (found by its primary key values) with triggers bypassed."""
    where = " AND ".join(f'"{k}" = :k_{k}' for k in key)
    execute(f'UPDATE "{table.name}" SET "{column}" = :v WHERE {where}',
            {"v": value, **{f"k_{k}": v for k, v in key.items()}}, table=table.name)


def delete(table: sa.Table, key: dict) -> None:
    """Delete one row (by primary key) with triggers bypassed."""
    where = " AND ".join(f'"{k}" = :k_{k}' for k in key)
    execute(f'DELETE FROM "{table.name}" WHERE {where}', {f"k_{k}": v for k, v in key.items()}, table=table.name)


def altered(column: sa.Column, value):
    """A different value of the same type, as close to the original as possible."""
    kind = column.type.python_type
    if value is None:
        return {bool: True, int: 1, str: "x", datetime: datetime(2026, 1, 1, 12, 0), date: date(2026, 1, 1),
                bytes: b"x"}[kind]
    if kind is bool:
        return not value
    if kind is int:
        return value + 1_000_003
    if kind is str:
        return value[:-1] + ("0" if value[-1:] != "0" else "1") if value else "x"
    if kind is datetime:
        return value + timedelta(microseconds=1)
    if kind is date:
        return value + timedelta(days=1)
    if kind is bytes:
        data = bytes(value)
        return data[:-1] + bytes([data[-1] ^ 1]) if data else b"x"
    raise TypeError(f"no way to alter a {kind}")
