"""API tokens for member systems: shown once, kept hashed, one member, read or write, revocable."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.accounts.models import ApiToken
from federation.accounts.users import AccountError
from federation.models import Member, utcnow
from federation.roles import Actor, Role

SCOPES = ("read", "write")
PREFIX = "fed_"
# Writing "last used" on every call would make each API read a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: ``secret`` is the only time the full token is known."""

    id: int
    member_code: str
    name: str
    scope: str
    prefix: str
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: Session, member_code: str, name: str, scope: str, created_by: str = ""
) -> IssuedToken:
    """Create a token for ``member_code``'s system; return it with its secret (shown once)."""
    if scope not in SCOPES:
        raise AccountError(f"unknown scope {scope!r}; use read or write")
    if session.get(Member, member_code) is None:
        raise AccountError(f"no member with code {member_code!r}")
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError(
            "a token needs a name of 1–100 characters (what system uses it)", "token_name"
        )
    prefix = secrets.token_hex(6)
    secret = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        member_code=member_code,
        name=name,
        scope=scope,
        prefix=prefix,
        token_hash=_digest(secret),
        created_by=created_by[:200],
    )
    session.add(row)
    session.flush()
    return IssuedToken(row.id, member_code, name, scope, prefix, secret)


_URLSAFE = re.compile(r"[A-Za-z0-9_\-]+")


def _lookup(session: Session, secret: str) -> ApiToken | None:
    # Tokens we issue are short and URL-safe; anything else (a NUL, spaces) is not one of ours.
    if not secret.startswith(PREFIX) or len(secret) > 200 or not _URLSAFE.fullmatch(secret):
        return None
    prefix = secret[len(PREFIX) :].split("_", 1)[0]
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if row is None or not hmac.compare_digest(row.token_hash, _digest(secret)):
        return None
    return row


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def actor_for_token(session: Session, secret: str, now: datetime | None = None) -> Actor | None:
    """Return the actor of a valid, unrevoked token (recording its use), or None."""
    row = _lookup(session, secret)
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - _aware(row.last_used_at) >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    # A member system acts as that member's ILL staff; a read token cannot change anything.
    return Actor(
        Role.ILL_STAFF,
        row.member_code,
        name=f"token {row.prefix} ({row.name})"[:200],
        read_only=row.scope == "read",
    )


def list_tokens(session: Session, member_code: str | None = None) -> list[ApiToken]:
    """Return the tokens (of one member when given), newest first."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if member_code is not None:
        query = query.where(ApiToken.member_code == member_code)
    return list(session.scalars(query))


def find_token(session: Session, token_id: int) -> ApiToken | None:
    """Return the token with this id, or None."""
    return session.get(ApiToken, token_id)


def revoke_token(session: Session, token: ApiToken, now: datetime | None = None) -> bool:
    """Revoke ``token`` now; return False if it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    return True
