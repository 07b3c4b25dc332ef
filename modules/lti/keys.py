"""The tool's RSA signing key (service tokens, deep-linking responses) and the JWKS that publishes it.

One key for the whole service, kept in a file readable only by the app: LTI_PRIVATE_KEY_FILE, else
instance/lti_tool_key.pem, made on first use (never at start-up). Rotate it by replacing the file: platforms
fetch the JWKS again when they meet an unknown key id.
"""

import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from jwcrypto.jwk import JWK


def key_path() -> Path:
    """Where the tool's private key lives."""
    configured = current_app.config.get("LTI_PRIVATE_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "lti_tool_key.pem"


def _create(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


@cache
def _load(path: str, mtime: float) -> tuple[str, str, dict]:
    private = Path(path).read_text()
    jwk = JWK.from_pem(private.encode())
    public_jwk = jwk.export_public(as_dict=True)
    public_jwk.update({"alg": "RS256", "use": "sig", "kid": jwk.thumbprint()})
    public_pem = jwk.export_to_pem().decode()
    return private, public_pem, public_jwk


def tool_keys() -> tuple[str, str, dict]:
    """(private PEM, public PEM, public JWK with its kid), creating the key file the first time."""
    path = key_path()
    if not path.exists():
        try:
            _create(path)
        except FileExistsError:  # another worker made it first
            pass
    return _load(str(path), path.stat().st_mtime)


def jwks() -> dict:
    """The tool's public keyset, as served at /lti/jwks."""
    return {"keys": [tool_keys()[2]]}
