"""Verification codes: 160 random bits in Crockford base32, printed in groups of four."""

import re
import secrets

#: Crockford's base32: no I, L, O or U, so a code read off paper is hard to mistype.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: 32 symbols × 5 bits = 160 bits, above the 128 the issue asks for.
LENGTH = 32
GROUP = 4
#: How people misread Crockford symbols, folded back on input.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_code() -> str:
    """A fresh random code, 32 symbols, upper case, no separators."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_code(text: str | None) -> str | None:
    """The canonical form of a typed or scanned code, or None if it cannot be one."""
    if not text:
        return None
    code = _SEPARATORS.sub("", text).upper().translate(_CONFUSABLE)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def group_code(code: str) -> str:
    """The code as printed: groups of four joined by hyphens, e.g. "7K3M-9QXA-…"."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))
