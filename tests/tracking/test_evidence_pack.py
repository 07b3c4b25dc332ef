"""The evidence pack ZIP: contents, hashes that check out, scope, and who may download it."""

import csv
import hashlib
import importlib.util
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from modules.evidence.ledger import last_entry
from modules.people.models import Academy
from modules.training.queries import current_version
from tests.conftest import NOW
from tests.tracking.factories import acknowledge, demo_user, trust


@pytest.fixture
def acknowledged(app):
    """Two people of different academies have acknowledged (so certificates and ledger entries exist)."""
    acknowledge(demo_user("teacher"), NOW)
    acknowledge(demo_user("staff2"), NOW)
    db.session.commit()


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def _rows(archive, name) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def test_trust_pack_contents_verify(acknowledged, client, login):
    """Every promised file is there, the manifest matches, and the hashes inside check out."""
    login("hr", "tkat")
    archive = _zip(client.get("/tracking/evidence/pack.zip"))
    names = set(archive.namelist())
    version = current_version(trust().id)
    for name in ("README.txt", "MANIFEST.sha256", "acknowledgements.csv", "statements.csv", "certificates.csv",
                 "ledger-head.json", f"policy/version-{version.number}.txt",
                 f"policy/version-{version.number}.sha256"):
        assert name in names, name
    # The manifest covers every other file, and its sums are right.
    listed = {}
    for line in archive.read("MANIFEST.sha256").decode().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == names - {"MANIFEST.sha256"}
    for name, digest in listed.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    # The policy text is byte-identical to the source that was hashed.
    text = archive.read(f"policy/version-{version.number}.txt")
    assert hashlib.sha256(text).hexdigest() == version.source_sha256
    acks = _rows(archive, "acknowledgements.csv")
    assert {a["Person"] for a in acks} == {"Priya Shah", "Jack Wilson"}
    assert all(a["Policy sha256"] == version.source_sha256 for a in acks)
    # Each statement's text hashes to the hash the acknowledgement lists.
    for statement in _rows(archive, "statements.csv"):
        assert hashlib.sha256(statement["Text"].encode()).hexdigest() == statement["Text sha256"]
        ack = next(a for a in acks if a["Record"] == statement["Record"])
        assert f"{statement['Key']}: {statement['Text sha256']}" in ack["Statement hashes (key: sha256)"]
    certs = _rows(archive, "certificates.csv")
    assert len(certs) == 2 and {c["Status on 2026-11-21"] for c in certs} <= {"valid"}
    head = json.loads(archive.read("ledger-head.json"))
    entry = last_entry(trust().id)
    assert head["head_seq"] == entry.seq and head["head_entry_hash"] == entry.entry_hash
    assert all(a["Ledger seq"] for a in acks)
    readme = archive.read("README.txt").decode()
    assert "sha256sum -c MANIFEST.sha256" in readme and "flask ledger verify --trust tkat" in readme
    if importlib.util.find_spec("modules.access") is None:
        assert "No register snapshot" in readme and "register.csv" not in names
    else:
        assert "register.csv" in names
    # TKAT's policy asks no monitoring consent: the pack says nothing about consent.
    assert "consent.csv" not in names and "consent" not in readme.lower()


def test_eact_pack_says_consent_declined_and_a_withdrawal_with_its_time_and_reason(app, client, login):
    """Issue 12: each consent decision is in the pack (consent.csv and acknowledgements.csv), with its ledger
    entry; a withdrawal shows the time it took effect and its reason."""
    from datetime import timedelta

    from modules.attestation import services
    from modules.evidence.ledger import verify_ledger
    from tests.attestation.factories import acknowledge as ack
    from tests.attestation.factories import demo_user as person
    from tests.attestation.factories import key, origin

    sam, ola = person("staff", "e-act"), person("teacher", "e-act")
    ack(sam, NOW, consent=False)
    ack(ola, NOW)
    later = NOW + timedelta(hours=2)
    services.withdraw_consent(ola, current_version(ola.trust_id), idempotency_key=key(), origin=origin(later),
                              now=later, reason="Changed my mind")
    db.session.commit()
    login("hr", "e-act")
    archive = _zip(client.get("/tracking/evidence/pack.zip"))
    consent = _rows(archive, "consent.csv")
    decisions = sorted((row["Person"], row["Consent decision"], row["With effect from (UTC)"],
                        row["Reason given (withdrawals)"]) for row in consent)
    assert decisions == sorted([
        (sam.name, "consent declined", "2026-11-21T09:00:00Z", ""),
        (ola.name, "consent given", "2026-11-21T09:00:00Z", ""),
        (ola.name, "consent withdrawn", "2026-11-21T11:00:00Z", "Changed my mind")])
    assert all(row["Ledger seq"] and row["Ledger entry hash"] for row in consent)
    acks = _rows(archive, "acknowledgements.csv")
    assert sorted(a["Decision"] for a in acks if a["Person"] == sam.name) == ["acknowledged", "consent declined"]
    assert "consent.csv: 3 decision(s) on consent to monitoring" in archive.read("README.txt").decode()
    assert verify_ledger().ok


def test_academy_pack_holds_that_academy_only(acknowledged, client, login):
    """An academy's pack has its people's records only."""
    login("hr", "tkat")
    riverside = db.session.scalar(select(Academy).where(Academy.trust_id == trust().id,
                                                        Academy.slug == "riverside"))
    archive = _zip(client.get(f"/tracking/evidence/pack.zip?academy={riverside.id}"))
    assert [a["Person"] for a in _rows(archive, "acknowledgements.csv")] == ["Jack Wilson"]
    assert len(_rows(archive, "certificates.csv")) == 1


def test_formula_like_names_are_defused(app, client, login):
    """A name that looks like a formula is defused in the pack's CSVs too."""
    teacher = demo_user("teacher")
    teacher.name = "=cmd|' /C calc'!A0"
    db.session.commit()
    acknowledge(teacher, NOW)
    db.session.commit()
    login("hr", "tkat")
    archive = _zip(client.get("/tracking/evidence/pack.zip"))
    assert b"'=cmd" in archive.read("acknowledgements.csv")


def test_who_may_download(acknowledged, client, login):
    """HR and the DPO may; staff may not; another trust's academy is a 400."""
    login("dpo", "tkat")
    assert client.get("/tracking/evidence").status_code == 200
    assert client.get("/tracking/evidence/pack.zip").status_code == 200
    other = db.session.scalar(select(Academy.id).where(Academy.trust_id == trust("e-act").id))
    assert client.get(f"/tracking/evidence/pack.zip?academy={other}").status_code == 400
    assert client.get("/tracking/evidence/pack.zip?academy=x1").status_code == 400
    staff = client.application.test_client()
    login("staff", "tkat", staff)
    assert staff.get("/tracking/evidence/pack.zip").status_code == 403
