"""Subject-access export: every row the app holds that references one person, as a ZIP of JSON plus a summary."""

import base64
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Table, or_, select, union

from modules.certificates.models import Certificate
from modules.core.extensions import db
from modules.evidence.records import declared_records
from modules.notifications.models import OutboxAttachment, OutboxMessage
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


def _owned_ids(table: Table, user_id: int):
    """A select of the ids of an evidence table's rows that are the person's: by its user_id, or by a foreign
    key to a row of another table whose user_id is the person's (a revocation of their certificate)."""
    queries = []
    if "user_id" in table.c:
        queries.append(select(table.c.id).where(table.c.user_id == user_id))
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent is not table and parent.name != User.__tablename__ and "user_id" in parent.c \
                and fk.column.name == "id":
            queries.append(select(table.c.id).join(parent, fk.parent == parent.c.id)
                           .where(parent.c.user_id == user_id))
    return union(*queries) if len(queries) > 1 else queries[0] if queries else None


def personal_sections(user: User) -> dict[str, tuple[str, list[dict]]]:
    """The rows that hold the person's data but refer to a record of theirs rather than to user: the personal
    rows of their evidence (name, email, IP address, user agent, certificate PDF) and their messages'
    attachments. Table name → (how they were found, rows)."""
    found: dict[str, tuple[str, list[dict]]] = {}
    for spec in declared_records():
        if spec.personal is None:
            continue
        owned = _owned_ids(spec.model.__table__, user.id)
        if owned is None:
            continue
        table = spec.personal.model.__table__
        query = select(table).where(table.c[spec.personal.key].in_(owned)).order_by(*table.primary_key.columns)
        rows = [{k: _plain(v) for k, v in row._mapping.items()} for row in db.session.execute(query)]
        found[table.name] = (f"{spec.personal.key}, of their {spec.table} rows", rows)
    attachments = OutboxAttachment.__table__
    query = select(attachments).where(attachments.c.message_id.in_(
        select(OutboxMessage.id).where(OutboxMessage.user_id == user.id))).order_by(attachments.c.id)
    found[attachments.name] = ("message_id, of their outbox_message rows",
                               [{k: _plain(v) for k, v in row._mapping.items()} for row in db.session.execute(query)])
    return found


def _certificate_pdfs(archive: zipfile.ZipFile, user: User) -> list[str]:
    """Each of the person's certificate PDFs as a file (they print the person's name); lines for the summary."""
    lines = [""]
    for cert in db.session.scalars(select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)):
        state = cert.pdf_state
        if state == "ready":
            name = f"certificates/certificate-{cert.code[:8]}.pdf"
            archive.writestr(name, cert.pdf_bytes)
            lines.append(f"{name}: the PDF of certificate {cert.id}, as issued")
        else:
            lines.append(f"certificate {cert.id}: no PDF held "
                         f"({'still being prepared' if state == 'preparing' else 'erased'})")
    return lines


def subject_access_zip(user: User, *, now: datetime) -> bytes:
    """The ZIP: user.json, one JSON file per user-referencing table (empty list when none), the personal rows
    of their evidence and their messages' attachments, and summary.txt."""
    tables = db.metadata.tables
    sections = {User.__tablename__: _rows(tables[User.__tablename__], ["id"], user.id)}
    references = user_references()
    for name, columns in references.items():
        if name != User.__tablename__:
            sections[name] = _rows(tables[name], columns, user.id)
    extra = personal_sections(user)
    for name, (_how, rows) in extra.items():
        sections[name] = rows
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in sections.items():
            archive.writestr(f"{name}.json", json.dumps(rows, indent=2, sort_keys=True, default=str))
        lines = [f"Subject-access export for {user.name} <{user.email}> (person {user.id})",
                 f"Made on {now:%-d %B %Y} at {now:%H:%M} UTC.", "",
                 "Each file holds the rows that refer to this person; the columns searched are listed.", ""]
        for name, rows in sections.items():
            columns = extra[name][0] if name in extra else ", ".join(references.get(name, ["id"])) \
                if name != User.__tablename__ else "id"
            lines.append(f"{name}.json: {len(rows)} row(s) (by {columns})")
        lines.extend(_certificate_pdfs(archive, user))
        archive.writestr("summary.txt", "\n".join(lines) + "\n")
    return buffer.getvalue()
