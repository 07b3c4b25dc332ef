"""flask sar: a ZIP covering every table that refers to the person, found from the schema."""

import io
import json
import zipfile

from sqlalchemy import inspect as sa_inspect

from modules.core.extensions import db
from tests.attestation.factories import acknowledge, demo_user


def _tables_with_a_user_foreign_key() -> set[str]:
    """Independently of the exporter: every table in the live schema with a foreign key to user."""
    inspector = sa_inspect(db.engine)
    return {name for name in inspector.get_table_names()
            if any(fk["referred_table"] == "user" for fk in inspector.get_foreign_keys(name))}


def test_the_export_covers_every_table_referring_to_a_person(app, now, tmp_path):
    person = demo_user("staff", "tkat")
    acknowledge(person, now)
    db.session.commit()
    out = tmp_path / "sar.zip"
    result = app.test_cli_runner().invoke(args=["sar", person.email.upper(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        names = set(archive.namelist())
        expected = _tables_with_a_user_foreign_key()
        assert expected, "the schema has tables referring to user"
        assert {f"{table}.json" for table in expected} <= names, expected - {n[:-5] for n in names}
        assert {"user.json", "summary.txt"} <= names
        me = json.loads(archive.read("user.json"))
        assert [row["email"] for row in me] == [person.email]
        acks = json.loads(archive.read("acknowledgement.json"))
        assert acks and all(row["user_id"] == person.id for row in acks)
        summary = archive.read("summary.txt").decode()
        assert person.email in summary and "acknowledgement.json" in summary


def test_an_unknown_email_is_refused(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["sar", "nobody@example.org", "--out", str(tmp_path / "x.zip")])
    assert result.exit_code == 2
    assert "No person" in result.output
    assert not (tmp_path / "x.zip").exists()
