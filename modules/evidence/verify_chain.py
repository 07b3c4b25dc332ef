#!/usr/bin/env python3
"""Check a PolicyPass ledger export without the server: python3 verify_chain.py [FOLDER]

Shipped inside every evidence pack (ledger/verify_chain.py) and run there by an inspector. Standard library
only, so it never imports PolicyPass. It checks that:
  1. each entry in entries.jsonl hashes to its entry_hash (sha256 of the entry's other fields as canonical
     JSON: sorted keys, no spaces, UTF-8);
  2. each entry links to the one before (prev_hash), from the genesis hash, with no gap in seq;
  3. the last entry is the head named in checkpoint-payload.json, the file the trust's key signed
     (check that signature with openssl, as the README says);
  4. every "Ledger entry hash" cited in ../acknowledgements.csv and ../certificates.csv is in the chain.
Prints OK and exits 0, or prints the first problem and exits 1.
"""

import csv
import hashlib
import json
import sys
from pathlib import Path

GENESIS = "0" * 64
FIELDS = ("trust_id", "seq", "kind", "record_table", "record_id", "record_hash", "prev_hash", "created_at")


def canonical(fields: dict) -> bytes:
    """The canonical JSON the ledger hashes: sorted keys, no spaces, UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check(folder: Path) -> str | None:
    """The first problem found in the export in `folder` (the pack's ledger/ folder), or None."""
    payload = json.loads((folder / "checkpoint-payload.json").read_bytes())
    heads = payload.get("heads") or []
    hashes: set[str] = set()
    expected_seq, prev = 1, GENESIS
    last = None
    with (folder / "entries.jsonl").open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            entry = json.loads(line)
            if entry["seq"] != expected_seq:
                return f"line {number}: expected entry {expected_seq}, found {entry['seq']} (a gap or reordering)"
            if entry["prev_hash"] != prev:
                return f"entry {entry['seq']}: does not link to the entry before it"
            digest = hashlib.sha256(canonical({k: entry[k] for k in FIELDS})).hexdigest()
            if digest != entry["entry_hash"]:
                return f"entry {entry['seq']}: its contents do not match its entry_hash"
            hashes.add(entry["entry_hash"])
            expected_seq, prev, last = entry["seq"] + 1, entry["entry_hash"], entry
    if heads:
        head = heads[0]
        if last is None or last["seq"] != head["seq"] or last["entry_hash"] != head["entry_hash"]:
            return f"the chain does not end at the signed head (entry {head['seq']})"
    elif last is not None:
        return "the signed checkpoint names no head, but the chain has entries"
    for name in ("acknowledgements.csv", "certificates.csv"):
        path = folder.parent / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                cited = row.get("Ledger entry hash") or ""
                if cited and cited not in hashes:
                    return f"{name}: {row.get('Record') or row.get('Verification code')} cites an entry not in the chain"
    return None


def main() -> int:
    """Check the folder given (default: this script's own folder) and report."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    problem = check(folder)
    if problem:
        print(f"FAILED {problem}")
        return 1
    count = sum(1 for _ in (folder / "entries.jsonl").open(encoding="utf-8"))
    print(f"OK {count} ledger entries link up to the signed head")
    return 0


if __name__ == "__main__":
    sys.exit(main())
