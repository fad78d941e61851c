"""argon2id password hashing (argon2-cffi)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

MIN_PASSWORD_LENGTH = 12


@lru_cache(maxsize=2)
def _hasher(fast: bool) -> PasswordHasher:
    # argon2-cffi's PasswordHasher is argon2id; tests use a cheaper cost profile.
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hasher() -> PasswordHasher:
    return _hasher(bool(current_app.config.get("PASSWORD_HASH_FAST")))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=2)
def _dummy_hash(fast: bool) -> str:
    return _hasher(fast).hash("not-a-real-password-used-for-timing")


def burn_verify(password: str) -> None:
    """Spend the same time as a real check, for unknown accounts and locked ones."""
    verify_password(_dummy_hash(bool(current_app.config.get("PASSWORD_HASH_FAST"))), password)


def password_problems(password: str) -> list[str]:
    """Reasons a new password is refused (length only: NIST 800-63B discourages rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"at least {MIN_PASSWORD_LENGTH} characters"]
    return []
