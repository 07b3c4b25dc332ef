"""The ledger: hashing, per-trust chains, verify naming the first bad entry, signed checkpoints."""

import json
import stat
from datetime import timedelta

import pytest
import sqlalchemy as sa

from modules.core.extensions import db
from modules.evidence import ledger
from modules.evidence.models import LedgerEntry
from modules.people.models import Trust
from tests.attestation import bypass


def test_salted_hash_is_canonical_and_keyed():
    a = ledger.salted_hash(b"salt", {"b": 1, "a": "é", "when": ledger.GENESIS})
    assert a == ledger.salted_hash(b"salt", {"when": ledger.GENESIS, "a": "é", "b": 1})
    assert a != ledger.salted_hash(b"pepper", {"b": 1, "a": "é", "when": ledger.GENESIS})
    assert len(a) == 64 and len(ledger.new_salt()) == 16
    assert ledger.canonical_json({"b": 2, "a": [1]}) == b'{"a":[1],"b":2}'


@pytest.fixture
def notes(monkeypatch):
    """A throwaway evidence type whose record hashes the test controls (no ids: truncation is invisible)."""
    hashes: dict[int, str] = {}
    monkeypatch.setitem(ledger._EVIDENCE, "test_note", ledger.Evidence(recompute=hashes.get))
    return hashes


def _trust(slug: str) -> Trust:
    return db.session.scalar(sa.select(Trust).where(Trust.slug == slug))


def _append(trust: Trust, notes: dict, record_id: int, now, digest: str | None = None) -> LedgerEntry:
    notes[record_id] = digest or f"{record_id:064x}"
    return ledger.append_entry(trust.id, kind="note", record_table="test_note", record_id=record_id,
                               record_hash=notes[record_id], now=now)


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=["ledger", *args])
    return result.exit_code, result.output


def test_chains_are_per_trust_and_linked(app, notes, now):
    tkat, eact = _trust("tkat"), _trust("e-act")
    first = _append(tkat, notes, 1, now)
    second = _append(tkat, notes, 2, now + timedelta(seconds=1))
    other = _append(eact, notes, 3, now)
    db.session.commit()
    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert first.prev_hash == ledger.GENESIS and second.prev_hash == first.entry_hash
    assert other.prev_hash == ledger.GENESIS
    assert ledger.entry_digest(second) == second.entry_hash
    report = ledger.verify_ledger()
    assert report.ok and report.entries == 3
    assert _cli(app, "verify")[0] == 0
    assert _cli(app, "verify", "--trust", "tkat")[0] == 0
    assert _cli(app, "verify", "--trust", "nope")[0] == 2


def _statements(app):
    """Collect the SQL the app's engine runs (the listener is removed with the engine at the end of the test)."""
    seen: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: seen.append(sql))
    return seen


def test_a_transaction_reads_the_head_once_and_locks_once(app, notes, now):
    tkat, eact = _trust("tkat"), _trust("e-act")
    _append(tkat, notes, 1, now)
    db.session.commit()
    seen = _statements(app)
    entries = [_append(tkat, notes, i, now) for i in (2, 3, 4)] + [_append(eact, notes, 5, now)]
    heads = [sql for sql in seen if "FROM ledger_entry" in sql]
    locks = [sql for sql in seen if "pg_advisory_xact_lock" in sql]
    assert len(heads) == 2  # one read of each trust's head; later appends chain on to what this one appended
    assert len(locks) == (2 if db.engine.dialect.name == "postgresql" else 0)  # once per trust
    assert [e.seq for e in entries] == [2, 3, 4, 1]
    assert entries[1].prev_hash == entries[0].entry_hash and entries[2].prev_hash == entries[1].entry_hash
    db.session.commit()
    seen.clear()
    _append(tkat, notes, 6, now)  # a new transaction reads the head (and takes the lock) again
    assert len([sql for sql in seen if "FROM ledger_entry" in sql]) == 1
    assert len([sql for sql in seen if "pg_advisory_xact_lock" in sql]) == (db.engine.dialect.name == "postgresql")
    db.session.commit()
    assert ledger.verify_ledger().ok


def test_an_append_undone_by_a_savepoint_or_a_rollback_is_not_chained_on(app, notes, now):
    tkat = _trust("tkat")
    first = _append(tkat, notes, 1, now)
    with pytest.raises(RuntimeError), db.session.begin_nested():
        _append(tkat, notes, 2, now)
        raise RuntimeError("undo the savepoint")
    third = _append(tkat, notes, 3, now)
    assert (third.seq, third.prev_hash) == (2, first.entry_hash)
    db.session.commit()
    _append(tkat, notes, 4, now)
    db.session.rollback()
    fifth = _append(tkat, notes, 5, now)
    assert (fifth.seq, fifth.prev_hash) == (3, third.entry_hash)
    db.session.commit()
    assert ledger.verify_ledger().ok and ledger.verify_ledger().entries == 3


def test_unregistered_table_is_refused(app, now):
    with pytest.raises(LookupError):
        ledger.append_entry(_trust("tkat").id, kind="x", record_table="nowhere", record_id=1, record_hash="0", now=now)


def test_verify_names_the_first_bad_entry(app, notes, now):
    tkat = _trust("tkat")
    for i in range(1, 5):
        _append(tkat, notes, i, now)
    db.session.commit()
    notes[2] = "f" * 64  # the record behind entry 2 changed
    code, output = _cli(app, "verify")
    assert code == 1 and "trust tkat, entry 2 (note, test_note 2)" in output and "altered" in output
    notes[2] = f"{2:064x}"
    table = LedgerEntry.__table__
    bypass.update(table, {"trust_id": tkat.id, "seq": 3}, "prev_hash", "a" * 64)
    code, output = _cli(app, "verify")
    assert code == 1 and "trust tkat, entry 3" in output and "previous entry" in output


def test_checkpoint_detects_truncation_and_rewrite(app, notes, now, tmp_path):
    tkat = _trust("tkat")
    for i in range(1, 4):
        _append(tkat, notes, i, now)
    db.session.commit()
    checkpoint = tmp_path / "head.json"
    code, output = _cli(app, "checkpoint", "--output", str(checkpoint))
    assert code == 0
    key_file = tmp_path / "instance" / "ledger-signing-key.pem"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    document = json.loads(checkpoint.read_text())
    assert {"trust": "tkat", "trust_id": tkat.id, "seq": 3, "entry_hash": document["payload"]["heads"][0][
        "entry_hash"]} in document["payload"]["heads"]
    assert _cli(app, "verify", "--checkpoint", str(checkpoint))[0] == 0

    # more entries after the checkpoint are fine
    _append(tkat, notes, 4, now)
    db.session.commit()
    assert _cli(app, "verify", "--checkpoint", str(checkpoint))[0] == 0

    # truncation: the chain still links, but the checkpointed head is gone
    table = LedgerEntry.__table__
    for seq in (4, 3):
        bypass.delete(table, {"trust_id": tkat.id, "seq": seq})
    assert _cli(app, "verify")[0] == 0
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint))
    assert code == 1 and "trust tkat, entry 3" in output and "truncated" in output

    # rewrite: a consistent new chain (every hash recomputed) no longer contains the signed head
    bypass.execute(f"DELETE FROM ledger_entry WHERE trust_id = {tkat.id} AND seq >= 2", table="ledger_entry")
    db.session.expire_all()
    _append(tkat, notes, 2, now, digest="e" * 64)
    _append(tkat, notes, 3, now, digest="d" * 64)
    db.session.commit()
    assert _cli(app, "verify")[0] == 0, "the rewritten chain is self-consistent"
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint))
    assert code == 1 and "trust tkat, entry 3" in output and "rewritten" in output


def test_a_forged_or_foreign_checkpoint_is_refused(app, notes, now, tmp_path):
    _append(_trust("tkat"), notes, 1, now)
    db.session.commit()
    checkpoint = tmp_path / "head.json"
    assert _cli(app, "checkpoint", "-o", str(checkpoint))[0] == 0
    document = json.loads(checkpoint.read_text())
    document["payload"]["heads"][0]["seq"] = 0
    checkpoint.write_text(json.dumps(document))
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint))
    assert code == 1 and "signature is not valid" in output
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    foreign = ledger.sign_checkpoint(ledger.checkpoint_payload(now), Ed25519PrivateKey.generate())
    checkpoint.write_text(json.dumps(foreign))
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint))
    assert code == 1 and "different key" in output


def test_key_path_from_config(app, tmp_path):
    from modules.evidence import signing

    app.config["LEDGER_SIGNING_KEY_FILE"] = str(tmp_path / "keys" / "ledger.pem")
    assert signing.load_key() is None
    key = signing.load_key(create=True)
    assert signing.load_key().public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
    assert stat.S_IMODE((tmp_path / "keys" / "ledger.pem").stat().st_mode) == 0o600


def _key_offline(app, tmp_path) -> None:
    """Point the app at a signing key file that is not there, as on an auditor's machine."""
    app.config["LEDGER_SIGNING_KEY_FILE"] = str(tmp_path / "offline" / "ledger-signing-key.pem")


def test_an_auditor_verifies_a_checkpoint_with_the_public_key_alone(app, notes, now, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from modules.evidence import signing

    tkat = _trust("tkat")
    for i in range(1, 4):
        _append(tkat, notes, i, now)
    db.session.commit()
    checkpoint, pinned = tmp_path / "head.json", tmp_path / "signer.pub.pem"
    result = app.test_cli_runner().invoke(args=["ledger", "checkpoint", "--public-key-out", str(pinned)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    checkpoint.write_text(result.stdout)
    public = signing.load_key().public_key()
    assert pinned.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert signing.load_public_key(pinned).public_bytes_raw() == public.public_bytes_raw()
    assert document["public_key"] == public.public_bytes_raw().hex() and document["public_key"] in result.stderr

    _key_offline(app, tmp_path)
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint))
    assert code == 1 and "--public-key" in output
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint), "--public-key", str(pinned))
    assert code == 0 and "against the checkpoint" in output

    # a checkpoint signed by another key is refused, whichever key it names inside
    foreign = ledger.sign_checkpoint(ledger.checkpoint_payload(now), Ed25519PrivateKey.generate())
    checkpoint.write_text(json.dumps(foreign))
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint), "--public-key", str(pinned))
    assert code == 1 and "different key" in output
    foreign["public_key"] = document["public_key"]
    checkpoint.write_text(json.dumps(foreign))
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint), "--public-key", str(pinned))
    assert code == 1 and "signature is not valid" in output

    # the pinned key still catches truncation
    checkpoint.write_text(json.dumps(document))
    bypass.delete(LedgerEntry.__table__, {"trust_id": tkat.id, "seq": 3})
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint), "--public-key", str(pinned))
    assert code == 1 and "trust tkat, entry 3" in output and "truncated" in output


def test_a_pinned_public_key_wins_over_the_configured_signing_key(app, notes, now, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from modules.evidence import signing

    _append(_trust("tkat"), notes, 1, now)
    db.session.commit()
    checkpoint = tmp_path / "head.json"
    assert _cli(app, "checkpoint", "-o", str(checkpoint))[0] == 0
    other = tmp_path / "other.pub.pem"
    other.write_bytes(signing.public_pem(Ed25519PrivateKey.generate().public_key()))
    assert _cli(app, "verify", "--checkpoint", str(checkpoint))[0] == 0  # derived from the configured key
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint), "--public-key", str(other))
    assert code == 1 and "different key" in output


def test_a_bad_public_key_option_is_refused(app, notes, now, tmp_path):
    _append(_trust("tkat"), notes, 1, now)
    db.session.commit()
    checkpoint, not_a_key = tmp_path / "head.json", tmp_path / "not-a-key.pem"
    assert _cli(app, "checkpoint", "-o", str(checkpoint))[0] == 0
    not_a_key.write_text("hello\n")
    code, output = _cli(app, "verify", "--checkpoint", str(checkpoint), "--public-key", str(not_a_key))
    assert code == 1 and "not a PEM public key" in output
    assert _cli(app, "verify", "--public-key", str(not_a_key))[0] == 2  # only meaningful with --checkpoint
