"""Password hashing (argon2id, the library's tuned defaults) and the rules a new password meets."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a ceiling keeps one request from costing seconds

_hasher = PasswordHasher()


class PasswordProblem(ValueError):
    """A new password does not meet the rules; the message says which one.

    ``code`` and ``params`` let an interface say the same in the reader's language.
    """

    def __init__(self, message: str, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def check_new_password(password: str, username: str = "") -> None:
    """Raise :class:`PasswordProblem` unless ``password`` is acceptable as a new password."""
    if len(password) < MIN_LENGTH:
        raise PasswordProblem(
            f"a password needs at least {MIN_LENGTH} characters", "password_short", n=MIN_LENGTH
        )
    if len(password) > MAX_LENGTH:
        raise PasswordProblem(
            f"a password may have at most {MAX_LENGTH} characters", "password_long", n=MAX_LENGTH
        )
    if username and password.strip().lower() == username.strip().lower():
        raise PasswordProblem("a password must not be the user name", "password_is_name")
    if len(set(password)) < 4:
        raise PasswordProblem(
            "a password needs at least 4 different characters", "password_plain", n=4
        )


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` (salted; the parameters are in the string)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Return True if ``password`` matches ``stored_hash``; False for a mismatch or a bad hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Return True if the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# A hash to verify against when the user does not exist, so both cases take the same time.
DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")
