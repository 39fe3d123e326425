"""Password hashing with argon2id (RFC 9106), shared by enrollment users and admins."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from quince.domain.errors import InvalidInput

MIN_LENGTH = 8
# argon2 cost grows with input; capping the length keeps a hostile request cheap.
MAX_LENGTH = 256

# OWASP's minimum argon2id profile: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def configure(time_cost: int, memory_cost: int) -> None:
    """Change the cost profile (tests use a cheaper one; hashes record their own parameters)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


def validate(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidInput("Password", f"The password must be at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("Password", f"The password must be at most {MAX_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(validate(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; False for a wrong password, an empty or an unusable hash."""
    if not password_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
