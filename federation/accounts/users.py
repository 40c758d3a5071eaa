"""User accounts: create, sign in, change or reset the password, disable; the actor of a user."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.accounts import passwords, throttle
from federation.accounts.models import User
from federation.models import Member, utcnow
from federation.roles import MEMBER_SCOPED, Actor, Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
SIGN_IN_FAILED = "The user name or password is wrong, or the account is disabled."


class AccountError(ValueError):
    """An account operation cannot be done; the message says why in one line.

    ``code`` and ``params`` let an interface say the same in the reader's language.
    """

    def __init__(self, message: str, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class SignInThrottled(AccountError):
    """Too many failed sign-ins: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed sign-ins; try again in {max(1, retry_after // 60 + 1)} minutes."
        )
        self.retry_after = retry_after


def _role(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role if r is not Role.SYSTEM)
        raise AccountError(f"unknown role {value!r}; use one of: {names}") from None


def _check_member(session: Session, role: Role, member_code: str | None) -> str | None:
    if role in MEMBER_SCOPED:
        if not member_code:
            raise AccountError(f"a {role.value} account needs a member (--member CODE)")
        if session.get(Member, member_code) is None:
            raise AccountError(f"no member with code {member_code!r}; import the alliance first")
        return member_code
    if member_code:
        raise AccountError(f"a {role.value} account belongs to no member; leave the member out")
    return None


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str | Role,
    member_code: str | None = None,
    display_name: str = "",
    card_sealed: str | None = None,
    created_by: str = "",
) -> User:
    """Create an active account; raise :class:`AccountError` on a taken name or a weak password."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError(
            "a user name has 2–64 characters: lower-case letters, digits, '.', '_' or '-'",
            "name_format",
        )
    kind = _role(role)
    if kind is Role.SYSTEM:
        raise AccountError("the system role is not an account")
    code = _check_member(session, kind, member_code)
    if find_user(session, username) is not None:
        raise AccountError(f"the user name {username!r} is taken", "name_taken", name=username)
    _check_password(password, username)
    user = User(
        username=username,
        display_name=display_name.strip()[:200],
        role=kind.value,
        member_code=code,
        card_sealed=card_sealed,
        password_hash=passwords.hash_password(password),
        created_by=created_by[:200],
        session_epoch=0,
        active=True,
        must_change_password=False,
    )
    session.add(user)
    session.flush()
    return user


def _check_password(password: str, username: str) -> None:
    try:
        passwords.check_new_password(password, username)
    except passwords.PasswordProblem as exc:
        raise AccountError(str(exc), exc.code, **exc.params) from None


def find_user(session: Session, username: str) -> User | None:
    """Return the account with this user name (any case), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def list_users(session: Session, member_code: str | None = None) -> list[User]:
    """Return the accounts (of one member when given), by member then user name."""
    query = select(User).order_by(User.member_code, User.username)
    if member_code is not None:
        query = query.where(User.member_code == member_code)
    return list(session.scalars(query))


def set_password(session: Session, user: User, password: str, must_change: bool = False) -> None:
    """Give ``user`` a new password; every session signed in before it ends."""
    _check_password(password, user.username)
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = must_change
    user.session_epoch += 1


def reset_password(session: Session, user: User) -> str:
    """Give ``user`` a generated one-time password to change at next sign-in; return it."""
    temporary = secrets.token_urlsafe(12)
    set_password(session, user, temporary, must_change=True)
    return temporary


def disable_user(session: Session, user: User, now: datetime | None = None) -> None:
    """Stop ``user`` from signing in and end its sessions (the row stays for the audit trail)."""
    user.active = False
    user.disabled_at = now or utcnow()
    user.session_epoch += 1


def enable_user(session: Session, user: User) -> None:
    """Let a disabled account sign in again."""
    user.active = True
    user.disabled_at = None


def authenticate(
    session: Session, username: str, password: str, address: str, now: datetime | None = None
) -> User:
    """Return the account for a correct name and password; raise :class:`AccountError` else.

    Every try is recorded; past the limits the answer is :class:`SignInThrottled` whatever
    the password, so guessing costs the guesser time.
    """
    now = now or utcnow()
    name = username.strip().lower()[:64]
    wait = throttle.seconds_to_wait(session, name, address, now)
    if wait:
        raise SignInThrottled(wait)
    user = find_user(session, name) if name else None
    # Verify against a dummy hash for unknown names: the answer takes as long either way.
    ok = passwords.verify_password(user.password_hash if user else passwords.DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    throttle.record_attempt(session, name, address, ok, now)
    if not ok:
        raise AccountError(SIGN_IN_FAILED)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_sign_in_at = now
    return user


def actor_for_user(user: User) -> Actor:
    """Return the actor a signed-in user acts as."""
    role = Role(user.role)
    # Actor names appear in logs and timelines: a reader appears by account, never by name.
    name = user.username if role is Role.READER else (user.display_name or user.username)
    return Actor(role, user.member_code, user_id=user.id, name=name)
