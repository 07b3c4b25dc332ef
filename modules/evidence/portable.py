"""A trust's ledger as files an inspector can check without the server: every entry (ids and hashes only, no
personal data), a checkpoint of its head signed with the ledger's Ed25519 key, the public key, and a
standard-library script that walks the chain (verify_chain.py). The signature is checked with openssl.
"""

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from modules.core.extensions import db
from modules.evidence import signing
from modules.evidence.ledger import CHECKPOINT_FORMAT, _naive_utc, canonical_json, sign_checkpoint
from modules.evidence.models import LedgerEntry

FOLDER = "ledger"
#: The commands the pack's README gives, run from the unzipped folder (tests run exactly these).
OPENSSL_VERIFY = ("openssl pkeyutl -verify -pubin -inkey ledger/public-key.pem -rawin "
                  "-in ledger/checkpoint-payload.json -sigfile ledger/checkpoint.sig")
CHAIN_VERIFY = "python3 ledger/verify_chain.py"


def _entry(entry: LedgerEntry) -> dict:
    # Exactly the fields entry_digest hashes, created_at as it formats it, plus the hash itself.
    return {"trust_id": entry.trust_id, "seq": entry.seq, "kind": entry.kind, "record_table": entry.record_table,
            "record_id": entry.record_id, "record_hash": entry.record_hash, "prev_hash": entry.prev_hash,
            "created_at": _naive_utc(entry.created_at).isoformat(timespec="microseconds"),
            "entry_hash": entry.entry_hash}


def ledger_files(trust, *, now: datetime) -> tuple[dict[str, bytes], dict]:
    """The ledger/ files of an evidence pack, and the signed head ({"seq", "entry_hash"} or {}) for the README.

    Signing creates the key on first use (as `flask ledger checkpoint` does); the private key never leaves it.
    """
    lines, last = [], None
    for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.trust_id == trust.id)
                                    .order_by(LedgerEntry.seq).execution_options(yield_per=1000)):
        last = _entry(entry)
        lines.append(json.dumps(last, sort_keys=True, ensure_ascii=False))
    heads = [{"trust": trust.slug, "trust_id": trust.id, "seq": last["seq"], "entry_hash": last["entry_hash"]}] \
        if last else []
    payload = {"format": CHECKPOINT_FORMAT, "created_at": _naive_utc(now).isoformat(timespec="seconds") + "Z",
               "heads": heads}
    key = signing.load_key(create=True)
    document = sign_checkpoint(payload, key)
    files = {
        f"{FOLDER}/entries.jsonl": ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"),
        # The exact bytes that were signed, so openssl can check the signature over this file as it is.
        f"{FOLDER}/checkpoint-payload.json": canonical_json(payload),
        f"{FOLDER}/checkpoint.sig": bytes.fromhex(document["signature"]),
        f"{FOLDER}/checkpoint.json": (json.dumps(document, indent=2) + "\n").encode(),
        f"{FOLDER}/public-key.pem": signing.public_pem(key.public_key()),
        f"{FOLDER}/verify_chain.py": (Path(__file__).parent / "verify_chain.py").read_bytes(),
    }
    return files, (heads[0] if heads else {})
