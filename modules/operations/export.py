"""Subject-access export: every row the app holds that references one person, as a ZIP of JSON plus a summary."""

import base64
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Table, or_, select

from modules.core.extensions import db
from modules.people.models import User


def user_references() -> dict[str, list[str]]:
    """Per table, the columns holding a foreign key to user.id (found from the schema, so none is forgotten)."""
    found: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == User.__tablename__ and fk.column.name == "id":
                found.setdefault(table.name, []).append(fk.parent.name)
    return {name: sorted(columns) for name, columns in sorted(found.items())}


def _plain(value):
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(table: Table, columns: list[str], user_id: int) -> list[dict]:
    query = select(table).where(or_(*(table.c[name] == user_id for name in columns)))
    query = query.order_by(*table.primary_key.columns)
    return [{key: _plain(value) for key, value in row._mapping.items()} for row in db.session.execute(query)]


def subject_access_zip(user: User, *, now: datetime) -> bytes:
    """The ZIP: user.json, one JSON file per user-referencing table (empty list when none) and summary.txt."""
    tables = db.metadata.tables
    sections = {User.__tablename__: _rows(tables[User.__tablename__], ["id"], user.id)}
    references = user_references()
    for name, columns in references.items():
        if name != User.__tablename__:
            sections[name] = _rows(tables[name], columns, user.id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in sections.items():
            archive.writestr(f"{name}.json", json.dumps(rows, indent=2, sort_keys=True, default=str))
        lines = [f"Subject-access export for {user.name} <{user.email}> (person {user.id})",
                 f"Made on {now:%-d %B %Y} at {now:%H:%M} UTC.", "",
                 "Each file holds the rows that refer to this person; the columns searched are listed.", ""]
        for name, rows in sections.items():
            columns = ", ".join(references.get(name, ["id"])) if name != User.__tablename__ else "id"
            lines.append(f"{name}.json: {len(rows)} row(s) (by {columns})")
        archive.writestr("summary.txt", "\n".join(lines) + "\n")
    return buffer.getvalue()
