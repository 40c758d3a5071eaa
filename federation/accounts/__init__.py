"""Accounts of the platform: users with roles, API tokens for member systems, sign-in attempts.

Services take a SQLAlchemy session and return plain values; the web layer and the CLI call
them. Passwords are hashed with argon2id; API tokens are shown once and kept as a SHA-256 hash.
"""

from federation.accounts.models import ApiToken, SignInAttempt, User
from federation.accounts.passwords import PasswordProblem
from federation.accounts.tokens import (
    IssuedToken,
    actor_for_token,
    create_token,
    find_token,
    list_tokens,
    revoke_token,
)
from federation.accounts.users import (
    AccountError,
    SignInThrottled,
    actor_for_user,
    authenticate,
    create_user,
    disable_user,
    enable_user,
    find_user,
    list_users,
    reset_password,
    set_password,
)

__all__ = [
    "AccountError",
    "ApiToken",
    "IssuedToken",
    "PasswordProblem",
    "SignInAttempt",
    "SignInThrottled",
    "User",
    "actor_for_token",
    "actor_for_user",
    "authenticate",
    "create_token",
    "create_user",
    "disable_user",
    "enable_user",
    "find_token",
    "find_user",
    "list_tokens",
    "list_users",
    "reset_password",
    "revoke_token",
    "set_password",
]
