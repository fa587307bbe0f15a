"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.core.errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 1024
# The most common choices, and the ones people in this trade reach for first.
COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "0123456789",
        "12345678910",
        "qwertyuiop",
        "iloveyou123",
        "administrator",
        "rangerranger",
        "changeme123",
        "letmein1234",
        "welcome1234",
    }
)

# argon2id with argon2-cffi's defaults: RFC 9106's low-memory profile (t=3, 64 MiB, p=4).
_hasher = PasswordHasher()
# A hash of nothing anyone knows, checked when the user does not exist, so that the answer takes
# as long as for a wrong password and does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("no user has this password, it only spends time")


def use_parameters(parameters: Parameters) -> None:
    """Hash with these argon2 parameters from now on, in this process, and judge stored hashes
    against them (a hash made with them is not rehashed at sign-in).

    Only the test suite calls it, with `argon2.profiles.CHEAPEST`: a full-cost hash for every
    test user and every sign-in was most of the suite's time. Nothing in production calls it, and
    no setting reaches it, so a server always hashes at full cost."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher.from_parameters(parameters)
    _DUMMY_HASH = _hasher.hash("no user has this password, it only spends time")


def check_strength(password: str, username: str) -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if password.lower() in COMMON or len(set(password)) < 4:
        problems.append("is too easy to guess")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    if problems:
        raise Invalid("the password is too weak", errors={"password": problems})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
