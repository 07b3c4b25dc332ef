"""The Ed25519 key that signs ledger checkpoints: a file outside the database, created on first use."""

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from flask import current_app

#: Environment variable naming the key file; config key LEDGER_SIGNING_KEY_FILE wins over it.
KEY_ENV = "LEDGER_SIGNING_KEY_FILE"
DEFAULT_NAME = "ledger-signing-key.pem"


def key_path() -> Path:
    """Where the signing key lives: config, else environment, else instance/ledger-signing-key.pem."""
    configured = current_app.config.get(KEY_ENV) or os.environ.get(KEY_ENV)
    return Path(configured) if configured else Path(current_app.instance_path) / DEFAULT_NAME


def load_key(create: bool = False) -> Ed25519PrivateKey | None:
    """The private key; with create=True a new one is written (mode 0600) when there is none."""
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
