"""The Ed25519 key that signs ledger checkpoints: a file outside the database, created on first use.

Only `flask ledger checkpoint` needs the private key. Checking a checkpoint needs only the public key, which
an auditor pins from a file (`flask ledger checkpoint --public-key-out FILE` writes it); a key named inside a
checkpoint is never trusted to check that same checkpoint.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:  # cryptography is imported by the functions that use it, so other commands start faster
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: Environment variable naming the key file; config key LEDGER_SIGNING_KEY_FILE wins over it.
KEY_ENV = "LEDGER_SIGNING_KEY_FILE"
DEFAULT_NAME = "ledger-signing-key.pem"
#: File in the instance folder recording when `flask ledger checkpoint` last signed (`flask check --deploy` reads it).
CHECKPOINT_STAMP = "last-ledger-checkpoint"


def key_path() -> Path:
    """Where the signing key lives: config, else environment, else instance/ledger-signing-key.pem."""
    configured = current_app.config.get(KEY_ENV) or os.environ.get(KEY_ENV)
    return Path(configured) if configured else Path(current_app.instance_path) / DEFAULT_NAME


def load_key(create: bool = False) -> "Ed25519PrivateKey | None":
    """The private key; with create=True a new one is written (mode 0600) when there is none."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        load_pem_private_key,
    )

    path = key_path()
    if path.exists():
        key = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    if not create:
        return None
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes creating the key at once must not overwrite each other's.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def public_pem(public_key: "Ed25519PublicKey") -> bytes:
    """The public key as PEM (SubjectPublicKeyInfo), the form `--public-key FILE` reads."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def load_public_key(path: Path | str) -> "Ed25519PublicKey":
    """An Ed25519 public key from a PEM file; ValueError when the file holds anything else."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key



def stamp_checkpoint(now) -> None:
    """Record in the instance folder when a checkpoint was signed (UTC, ISO 8601)."""
    path = Path(current_app.instance_path) / CHECKPOINT_STAMP
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(now.isoformat(timespec="seconds") + "\n", encoding="utf-8")
