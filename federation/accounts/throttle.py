"""Sign-in throttling: too many failed tries for one user name or from one address wait a while.

Attempts are rows in the database (not process memory) so every web worker sees the same count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from federation.accounts.models import SignInAttempt
from federation.models import utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5  # then the account waits out the window, whoever is trying
MAX_FAILURES_PER_ADDRESS = 30  # one address trying many user names
KEEP = timedelta(days=1)


def _failures(session: Session, column, value: str, since: datetime) -> list[datetime]:
    query = (
        select(SignInAttempt.at)
        .where(column == value, SignInAttempt.at >= since, SignInAttempt.succeeded.is_(False))
        .order_by(SignInAttempt.at)
    )
    return list(session.scalars(query))


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def seconds_to_wait(session: Session, username: str, address: str, now: datetime) -> int:
    """Return how many seconds sign-in stays closed for this user name or address (0: open)."""
    since = now - WINDOW
    waits = [0]
    for column, value, limit in (
        (SignInAttempt.username, username.lower(), MAX_FAILURES_PER_USER),
        (SignInAttempt.address, address, MAX_FAILURES_PER_ADDRESS),
    ):
        failures = _failures(session, column, value, since)
        if len(failures) >= limit:
            # Open again once the oldest failure that counts leaves the window.
            reopen = _aware(failures[-limit]) + WINDOW
            waits.append(max(1, int((reopen - now).total_seconds()) + 1))
    return max(waits)


def record_attempt(
    session: Session, username: str, address: str, succeeded: bool, now: datetime | None = None
) -> None:
    """Remember one try; a success clears the user name's failures."""
    now = now or utcnow()
    if succeeded:
        session.execute(delete(SignInAttempt).where(SignInAttempt.username == username.lower()))
    session.add(
        SignInAttempt(
            username=username.lower()[:64], address=address[:64], at=now, succeeded=succeeded
        )
    )


def prune_attempts(session: Session, now: datetime | None = None) -> int:
    """Forget attempts older than a day; return how many were removed."""
    cutoff = (now or utcnow()) - KEEP
    result = session.execute(delete(SignInAttempt).where(SignInAttempt.at < cutoff))
    return result.rowcount or 0


def failure_count(session: Session, username: str) -> int:
    """Return the failed tries of a user name kept now (for administrators' pages)."""
    query = select(func.count()).where(
        SignInAttempt.username == username.lower(), SignInAttempt.succeeded.is_(False)
    )
    return session.scalar(query) or 0
