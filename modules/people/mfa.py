"""Two-step verification with an authenticator app (TOTP, RFC 6238, via pyotp) and one-time recovery codes.

Pure helpers: no database. The codes are checked against `now` passed in by the caller.
"""

import hashlib
import secrets
from datetime import UTC, datetime

import pyotp
import segno

#: Shown in the authenticator app next to the person's email address.
ISSUER = "PolicyPass"
#: Codes from one 30-second step either side of now are accepted (clocks on phones drift a little).
VALID_WINDOW = 1
#: How many recovery codes a person gets at a time.
RECOVERY_CODE_COUNT = 10
#: Letters and digits that cannot be misread for one another (no 0/o, 1/l/i).
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    """A new random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of an otpauth:// address as inline SVG (no style attributes, so the CSP allows it)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, title="QR code to scan with your authenticator app")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalise_code(code: str) -> str:
    """A typed code without spaces or dashes, lower-case."""
    return "".join((code or "").split()).replace("-", "").lower()


def _timestamp(now: datetime) -> int:
    return int(now.replace(tzinfo=UTC).timestamp())


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second time step whose code this is (within VALID_WINDOW of now), or None."""
    code = normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    here = totp.timecode(_timestamp(now))
    for step in (here, here - 1, here + 1)[: 2 * VALID_WINDOW + 1]:
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at `now` (tests and the browser walk use it)."""
    return pyotp.TOTP(secret).at(_timestamp(now))


def new_recovery_codes() -> list[str]:
    """RECOVERY_CODE_COUNT random codes shaped "xxxxx-xxxxx" (about 49 bits each)."""
    def one() -> str:
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        return f"{raw[:5]}-{raw[5:]}"

    return [one() for _ in range(RECOVERY_CODE_COUNT)]


def recovery_hash(code: str) -> str:
    """The stored form of a recovery code: sha256 of its normalised text."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()
