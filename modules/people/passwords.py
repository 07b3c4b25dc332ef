"""argon2id password hashing with parameters from the app config (cheap in tests, strong in production)."""

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
