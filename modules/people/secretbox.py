"""Two-step (TOTP) secrets are stored encrypted: Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under
a key derived with HKDF-SHA256 from TOTP_ENCRYPTION_KEY, or from SECRET_KEY when no dedicated key is configured
(`flask check --deploy` asks for a dedicated one in production). Stored values start with PREFIX.

Changing the key material makes stored secrets unreadable: those people then sign in with a recovery code and
set up their app again. Migration 0019 carries a frozen copy of this derivation to encrypt existing secrets.
`cryptography` is imported only here, when a secret is sealed or opened (so `flask --help` stays fast).
"""

import base64

from flask import current_app

#: Marks an encrypted stored secret (and its scheme version).
PREFIX = "enc1:"
#: HKDF's context string: the same key material derives different keys for other uses.
INFO = b"policypass totp secret encryption v1"


class UnreadableSecret(ValueError):
    """A stored secret that the configured key cannot decrypt (the key material changed, or it was altered)."""


def _fernet(config=None):
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    config = current_app.config if config is None else config
    material = (config.get("TOTP_ENCRYPTION_KEY") or config["SECRET_KEY"]).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, config=None) -> str:
    """The stored form of a base32 TOTP secret."""
    return PREFIX + _fernet(config).encrypt(secret.encode()).decode("ascii")


def unseal(stored: str, config=None) -> str:
    """The base32 secret from its stored form; UnreadableSecret when it cannot be decrypted. A value without the
    prefix (written before encryption, if migration 0019 has not run) is returned as it is."""
    if not stored.startswith(PREFIX):
        return stored
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(config).decrypt(stored[len(PREFIX):].encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise UnreadableSecret("the two-step secret cannot be decrypted with the configured key") from exc
