"""argon2id password hashing with parameters from the app config (cheap in tests, strong in production)."""

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def hasher() -> PasswordHasher:
    """The argon2id hasher configured for this app."""
    cfg = current_app.config
    return _hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@lru_cache(maxsize=4)
def _dummy_hash(ph: PasswordHasher) -> str:
    return ph.hash("an unknown account has no password")


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when the password matches. With no stored hash it still spends one verification,
    so an unknown email takes as long to refuse as a wrong password."""
    ph = hasher()
    try:
        matched = ph.verify(stored or _dummy_hash(ph), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored is not None


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other parameters than the app's current ones (then re-hash it)."""
    try:
        return hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True


#: zxcvbn scores 0–4; below this a password is refused (3: "safely unguessable", per zxcvbn's own scale).
MIN_STRENGTH = 3
#: Words any PolicyPass password might be built from, so "policypass2026" is refused like "password2026".
SERVICE_WORDS = ["policypass", "policy", "pass", "social media", "training"]


def password_problem(password: str, user_inputs: list[str] = ()) -> str | None:
    """Why a new password is refused (common, breached or easily guessed), or None when it is fine.

    Offline: zxcvbn's own lists (the most common passwords from breaches, English words, names) and the
    person's own details; nothing is sent anywhere. What is left once the person's details are taken out
    must be strong on its own, so "sam.taylor2024" is refused for Sam Taylor.
    """
    from zxcvbn import zxcvbn  # imported on first use: its frequency lists take a moment to load

    words = sorted({word for value in [*user_inputs, *SERVICE_WORDS] for word in _words(value)}, key=len,
                   reverse=True)
    candidate = password[:100]
    result = zxcvbn(candidate, user_inputs=words)
    if any(match.get("dictionary_name") == "passwords" for match in result["sequence"]) \
            and result["score"] < MIN_STRENGTH:
        return ("That password is too common: it is on lists of passwords that attackers try first. "
                "Choose another, for example three or four unrelated words")
    remainder = candidate.lower()
    for word in words:
        remainder = remainder.replace(word, "")
    if remainder != candidate.lower() and (not remainder or zxcvbn(remainder)["score"] < MIN_STRENGTH):
        return "Your password must not be built from your name, your email address or the name of this service"
    if result["score"] < MIN_STRENGTH:
        return ("That password would be too easy to guess. Choose a longer one, for example three or four "
                "unrelated words")
    return None


def _words(value: str) -> list[str]:
    """The value and each of its parts of three or more letters or digits, lower-case."""
    value = (value or "").lower().strip()
    return [word for word in [value, *re.split(r"[^a-z0-9]+", value)] if len(word) >= 3]
